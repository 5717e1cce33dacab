"""Alembic environment: runs on the connection handed over by stockledger.store.migrate."""

from __future__ import annotations

from alembic import context

from stockledger.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `stockledger migrate` drives migrations
    raise RuntimeError("run migrations with `stockledger migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
