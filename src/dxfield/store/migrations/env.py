"""Alembic environment: runs on the connection that `store.engine` hands over, never its own."""

from __future__ import annotations

from typing import Any

from alembic import context

from dxfield.store.schema import SQLModel
from dxfield.store.sqlite_features import FTS_OBJECTS


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave the FTS5 index (and its shadow tables) to the hand-written migration steps."""
    return not (name and name.startswith(FTS_OBJECTS))


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    include_object=include_object,
)
with context.begin_transaction():
    context.run_migrations()
