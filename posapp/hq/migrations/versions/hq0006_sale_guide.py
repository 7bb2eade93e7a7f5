"""the guide who served a sale, beside the cashier who rang it up

Revision ID: hq0006
Revises: hq0005
Create Date: 2026-12-02 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0006"
down_revision = "hq0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sale", sa.Column("guide_id", sa.String(length=64), nullable=True))
    # Sales already applied: their fact in the event log says who served (counters send it
    # since their schema 0008); older facts name nobody. One pass over the facts, by key.
    if op.get_bind().dialect.name == "sqlite":
        field = "json_extract(payload, '$.{}')"
    else:
        field = "(payload::json ->> '{}')"
    op.execute(
        f"UPDATE sale SET guide_id = served.guide FROM (SELECT {field.format('purchase_id')}"
        f" AS purchase_id, {field.format('guide_id')} AS guide FROM event"
        " WHERE type = 'sale.recorded' AND status = 'applied') AS served"
        " WHERE served.guide IS NOT NULL AND sale.purchase_id = served.purchase_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("sale") as batch:
        batch.drop_column("guide_id")
