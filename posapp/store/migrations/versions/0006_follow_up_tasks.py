"""Follow-ups as completions of computed tasks: the fact each grew from, longer ids, indexes
for a guide's customers and for the dashboard's completions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("follow_up") as batch:
        batch.alter_column("id", type_=sa.String(96), existing_type=sa.String(36))
        batch.add_column(sa.Column("anchor_on", sa.Date(), nullable=True))
        batch.create_index("ix_follow_up_done_at", ["done_at"])
    op.create_index("ix_member_guide_id", "member", ["guide_id"])
    op.create_index("ix_member_enrolled_by", "member", ["enrolled_by"])


def downgrade() -> None:
    op.drop_index("ix_member_enrolled_by", table_name="member")
    op.drop_index("ix_member_guide_id", table_name="member")
    with op.batch_alter_table("follow_up") as batch:
        batch.drop_index("ix_follow_up_done_at")
        batch.drop_column("anchor_on")
        batch.alter_column("id", type_=sa.String(36), existing_type=sa.String(96))
