"""Old card codes of merged members keep finding the member they were merged into.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_other_code",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_member_other_code_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_member_other_code")),
    )
    op.create_index(
        op.f("ix_member_other_code_member_id"), "member_other_code", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_member_other_code_member_id"), table_name="member_other_code")
    op.drop_table("member_other_code")
