"""Member look-ups by counters (posapp.hq.lookup): who asked HQ for which member, and when

Revision ID: hq0009
Revises: hq0008
Create Date: 2026-12-03 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0009"
down_revision = "hq0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_lookup",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=True),
        sa.Column("looked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_lookup")),
    )
    op.create_index("ix_member_lookup_device_time", "member_lookup", ["device_id", "looked_at"])
    op.create_index("ix_member_lookup_time", "member_lookup", ["looked_at"])


def downgrade() -> None:
    op.drop_index("ix_member_lookup_time", table_name="member_lookup")
    op.drop_index("ix_member_lookup_device_time", table_name="member_lookup")
    op.drop_table("member_lookup")
