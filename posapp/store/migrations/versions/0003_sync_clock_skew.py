"""Sync state remembers how far this counter's clock is from HQ's, and when a snapshot began.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("clock_skew_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("snapshot_started_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        batch.drop_column("snapshot_started_at")
        batch.drop_column("clock_skew_s")
