"""Alembic environment: runs on the connection that `store.engine` hands over, never its own."""

from __future__ import annotations

from alembic import context

from dxfield.store.schema import SQLModel, include_object

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
