"""rung movements as facts: each change of a member's rung, and the standing it came from

``rung_change`` keeps when, from, to and why; ``member.standing`` what the ladder last
assessed, so the next change can say which fact moved the member. Members assessed before
this revision have no standing: their next recompute records their rung, from walk-in.

Revision ID: hq0014
Revises: hq0013
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0014"
down_revision = "hq0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("member", sa.Column("standing", sa.Text(), nullable=True))
    op.create_table(
        "rung_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("from_rung", sa.String(length=16), nullable=False),
        sa.Column("to_rung", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rung_change")),
    )  # fmt: skip
    op.create_index("ix_rung_change_member_id", "rung_change", ["member_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_rung_change_member_id", table_name="rung_change")
    op.drop_table("rung_change")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("standing")
