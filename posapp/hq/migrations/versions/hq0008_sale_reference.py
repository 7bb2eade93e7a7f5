"""a sale waiting for the member its code reference names

A store offline records another store's member by the code scanned (sale.recorded version
2). When HQ does not know the code yet (the member's enrolment has not reached HQ), the
sale keeps the code here and is credited when that enrolment arrives; credited sales and
older ones have none. Indexed only where set: a few waiting sales, not every sale.

Revision ID: hq0008
Revises: hq0007
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0008"
down_revision = "hq0007"
branch_labels = None
depends_on = None

_WAITING = "member_code_ref IS NOT NULL"


def upgrade() -> None:
    op.add_column("sale", sa.Column("member_code_ref", sa.String(length=16), nullable=True))
    op.create_index(
        "ix_sale_code_ref",
        "sale",
        ["member_code_ref"],
        sqlite_where=sa.text(_WAITING),
        postgresql_where=sa.text(_WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_sale_code_ref", table_name="sale")
    with op.batch_alter_table("sale") as batch:
        batch.drop_column("member_code_ref")
