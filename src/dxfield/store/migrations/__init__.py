"""Alembic migrations of the store, run on open by `store.engine`."""
