"""A sale for a member of another store, recognised offline only by their member code.

``member_code_ref`` holds the scanned code (check digit valid, unknown here) while
``member_id`` stays empty: HQ credits the sale to that member when it applies the event and
then tells this store whose it is (``sale.member``). Older sales have none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("purchase", sa.Column("member_code_ref", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("purchase") as batch:
        batch.drop_column("member_code_ref")
