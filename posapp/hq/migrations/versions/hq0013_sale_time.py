"""sales by time across the brand: the console's overview and brand-wide reports

Every brand-wide report and the overview ask for the sales of a time range in every store;
the only time index led with the store, so PostgreSQL read all sales for each of them.

Revision ID: hq0013
Revises: hq0012
Create Date: 2026-12-03 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "hq0013"
down_revision = "hq0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sale_time", "sale", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_sale_time", table_name="sale")
