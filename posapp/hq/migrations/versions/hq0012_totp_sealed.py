"""room for sealed TOTP secrets (AES-GCM under a key derived from HQ's master key)

Revision ID: hq0012
Revises: hq0011
Create Date: 2026-12-04 09:00:00

A migration does not hold the master key (``posapp hq migrate`` may run where
POSAPP_HQ_MASTER_KEY is not set, and sealing with another key would lock every brand admin
out), so it only widens the columns. The secrets are sealed by HQ itself, with the key it
serves with: all of them when ``posapp hq serve`` starts, and each on its next use.

On SQLite the columns are replaced in place (rename, add, copy, drop) rather than by
rebuilding ``console_user``, which other tables reference while foreign keys are enforced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hq0012"
down_revision = "hq0011"
branch_labels = None
depends_on = None

COLUMNS = (("console_user", "totp_secret"), ("console_session", "pending_totp"))


def _resize(length: int) -> None:
    if op.get_context().dialect.name != "sqlite":
        for table, column in COLUMNS:
            op.alter_column(table, column, type_=sa.String(length), existing_nullable=True)
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {column} TO {column}_old")
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR({length})")
        op.execute(f"UPDATE {table} SET {column} = {column}_old")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}_old")


def upgrade() -> None:
    _resize(128)


def downgrade() -> None:
    _resize(64)  # sealed values do not fit: downgrade only before any secret is sealed
