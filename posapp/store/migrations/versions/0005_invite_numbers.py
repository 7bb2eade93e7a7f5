"""HQ's short numbers for store, device and staff, which invite tokens carry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("store") as batch:
        batch.add_column(sa.Column("store_no", sa.Integer(), nullable=True))
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("device_no", sa.Integer(), nullable=True))
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("staff_no", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("staff_no")
    with op.batch_alter_table("device") as batch:
        batch.drop_column("device_no")
    with op.batch_alter_table("store") as batch:
        batch.drop_column("store_no")
