"""The guide who served a sale (导购), beside the cashier who rang it up.

A sale's ``staff_id`` stays the till operator (the dashboard's capture rate by cashier);
``guide_id`` is the guide credited with the customer, chosen at the sale. Older sales have
none: who served them was never recorded, and the cashier is not assumed to have.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("purchase", sa.Column("guide_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("purchase") as batch:
        batch.drop_column("guide_id")
