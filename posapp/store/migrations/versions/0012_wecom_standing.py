"""WeCom (企业微信) standing, HQ's word: when the customer removed their guide
(``MemberView.wecom_removed_at``: the guide's win-back follow-up is due that day), and
whether a guide is on WeCom at all (``StaffView.wecom_connected``: customers can add them).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("member", sa.Column("wecom_removed_at", sa.DateTime(), nullable=True))
    op.add_column(
        "staff",
        sa.Column("wecom_connected", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("wecom_connected")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("wecom_removed_at")
