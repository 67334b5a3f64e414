"""the full-text index gathers 16 MiB of new entries in memory before writing them out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

SQLite only: FTS5's `hashsize` (the new entries it holds in memory before it writes them out as
a segment of its index) from its default of 1 MiB to 16 MiB. A bulk write (an `import-table`,
a bundle's merge) indexes its search entries a batch at a time, and FTS5 wrote out a small
segment every few hundred rows, then merged them again. An `import-table` of 100,000
activities spent 5.4 to 5.9 s indexing, 3.9 to 4.1 s with this (two runs each, issue 17), and
its peak memory stayed 98 MB. A save in the app indexes one entry and writes it out at its
commit, as before; the memory is only ever used by a bulk write, and given back at its
commit.

Nothing in the index changes: what a store held stays indexed; the option lives in the index's
own `search_fts_config` table. Bundles are not concerned (the index never travels). A store of
this schema is refused, as newer, by a release before it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASHSIZE = 16 * 1024 * 1024
DEFAULT_HASHSIZE = 1024 * 1024


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', {HASHSIZE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"INSERT INTO search_fts(search_fts, rank) VALUES ('hashsize', {DEFAULT_HASHSIZE})"
        )
