"""sms codes for the join page

Revision ID: hq0002
Revises: hq0001
Create Date: 2026-11-25 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0002"
down_revision = "hq0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_code",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sms_code")),
    )
    with op.batch_alter_table("sms_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_code_token"), ["token"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_code_token"))
    op.drop_table("sms_code")
