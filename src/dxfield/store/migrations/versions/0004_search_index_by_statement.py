"""the full-text index takes new entries by one statement, not by a trigger per row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

SQLite only: the trigger that copied each new `search_text` row into the FTS5 index
(`search_text_ai`) is dropped; `store.search_index` indexes what it inserts itself, with one
`INSERT INTO search_fts … SELECT` for all the rows of a statement (`sqlite_features`). A trigger
runs in a statement journal of its own, and FTS5 writes out what it holds at each: an import of
10,000 activities spent 3.7 s there, against 0.4 s for the one statement (issue 17). The update
and delete triggers stay (one row at a time, as edits come).

Nothing in the index changes: what a store held stays indexed; bundles are not concerned (the
index never travels). A store of this schema is refused, as newer, by a release before it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS search_text_ai")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            """CREATE TRIGGER search_text_ai AFTER INSERT ON search_text BEGIN
        INSERT INTO search_fts(rowid, body) VALUES (new.rowid, new.body);
    END"""
        )
