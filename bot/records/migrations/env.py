"""Alembic runs this for every migration: on the connection `Records` hands it, against the tables'
metadata (so `alembic check` and the tests can compare the two)."""

from __future__ import annotations

from alembic import context

from bot.records.tables import Base

connection = context.config.attributes["connection"]
# SQLite alters a table by copying it (batch mode); the others alter in place.
context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=connection.dialect.name == "sqlite"
)
with context.begin_transaction():
    context.run_migrations()
