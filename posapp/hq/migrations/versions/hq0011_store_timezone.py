"""the IANA zone each store keeps its days in (its reports, its counters' dashboards)

Revision ID: hq0011
Revises: hq0010
Create Date: 2026-12-03 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0011"
down_revision = "hq0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "store",
        sa.Column("timezone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
    )
    for region, zone in (("HK", "Asia/Hong_Kong"), ("TW", "Asia/Taipei")):
        op.execute(
            sa.text("UPDATE store SET timezone = :zone WHERE region = :region").bindparams(
                zone=zone, region=region
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("store") as batch:
        batch.drop_column("timezone")
