"""guide assignments (for the WeCom transfer limit) and completed follow-ups

Revision ID: hq0003
Revises: hq0002
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0003"
down_revision = "hq0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("from_guide_id", sa.String(length=64), nullable=True),
        sa.Column("to_guide_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
    )  # fmt: skip
    op.create_index("ix_assignment_member_time", "assignment", ["member_id", "assigned_at"])
    op.create_table(
        "follow_up_done",
        sa.Column("store_id", sa.String(length=64), nullable=False),
        sa.Column("follow_up_id", sa.String(length=96), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("anchor_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "follow_up_id", name=op.f("pk_follow_up_done")),
    )
    op.create_index("ix_follow_up_done_store_time", "follow_up_done", ["store_id", "done_at"])


def downgrade() -> None:
    op.drop_index("ix_follow_up_done_store_time", table_name="follow_up_done")
    op.drop_table("follow_up_done")
    op.drop_index("ix_assignment_member_time", table_name="assignment")
    op.drop_table("assignment")
