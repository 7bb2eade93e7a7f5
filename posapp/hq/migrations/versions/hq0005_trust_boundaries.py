"""trust boundaries: consent evidence names its staff, rotation keeps unused secrets, a member
code names one member

Revision ID: hq0005
Revises: hq0004
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0005"
down_revision = "hq0004"
branch_labels = None
depends_on = None

CODED = sa.text("member_code <> ''")


def upgrade() -> None:
    op.add_column("consent", sa.Column("staff_id", sa.String(length=64), nullable=True))
    op.add_column("device", sa.Column("unused_secret_hashes", sa.Text(), nullable=True))
    # A code claimed twice before this revision: the member whose own code it is keeps it,
    # otherwise the first alias by id; the other aliases lose the code (they are not looked up
    # by it any more, so it cannot name a second member).
    op.execute(
        """
        UPDATE member_alias SET member_code = ''
        WHERE member_code <> '' AND EXISTS (
            SELECT 1 FROM member m
            WHERE m.member_code = member_alias.member_code AND m.id <> member_alias.member_id
        )
        """
    )
    op.execute(
        """
        UPDATE member_alias SET member_code = ''
        WHERE member_code <> '' AND local_id NOT IN (
            SELECT keep FROM (
                SELECT a.member_code AS code,
                       COALESCE(MIN(CASE WHEN m.member_code = a.member_code THEN a.local_id END),
                                MIN(a.local_id)) AS keep
                FROM member_alias a JOIN member m ON m.id = a.member_id
                WHERE a.member_code <> ''
                GROUP BY a.member_code
            ) AS kept
        )
        """
    )
    op.create_index("uq_member_alias_member_code", "member_alias", ["member_code"], unique=True,
                    sqlite_where=CODED, postgresql_where=CODED)  # fmt: skip


def downgrade() -> None:
    op.drop_index("uq_member_alias_member_code", table_name="member_alias")
    with op.batch_alter_table("device") as batch:
        batch.drop_column("unused_secret_hashes")
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("staff_id")
