"""events are applied behind the acknowledgement: index the projector's backlog

Revision ID: hq0004
Revises: hq0003
Create Date: 2026-11-25 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0004"
down_revision = "hq0003"
branch_labels = None
depends_on = None

RECEIVED = sa.text("status = 'received'")


def upgrade() -> None:
    op.create_index("ix_event_received", "event", ["id"], sqlite_where=RECEIVED,
                    postgresql_where=RECEIVED)  # fmt: skip
    op.create_index("ix_event_received_device", "event", ["device_id", "id"],
                    sqlite_where=RECEIVED, postgresql_where=RECEIVED)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_event_received_device", table_name="event")
    op.drop_index("ix_event_received", table_name="event")
