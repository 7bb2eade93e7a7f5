"""Whether a member is their guide's WeCom (企业微信) contact, and since when: HQ's word,
sent down with the member (``MemberView.wecom_guide_id`` / ``wecom_since``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("member", sa.Column("wecom_guide_id", sa.String(64), nullable=True))
    op.add_column("member", sa.Column("wecom_since", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("wecom_since")
        batch.drop_column("wecom_guide_id")
