"""Alembic environment for HQ's own schema; run from posapp.hq.migrate with a live connection."""

from __future__ import annotations

from alembic import context

from posapp.hq.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    version_table="hq_alembic_version",
)
with context.begin_transaction():
    context.run_migrations()
