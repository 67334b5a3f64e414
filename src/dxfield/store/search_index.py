"""What is searchable, normalized once: activity titles, notes and locations; findings; actions.

The body is NFKC-normalized and lower-cased, so ＤＸ, DX and dx are the same text; queries go
through the same `normalize`. On SQLite, the FTS5 index takes new entries as they are inserted
here (one statement for many) and follows edits and deletions by triggers. An entry is a
record's kind and id together; the id alone is unique too, as no id may name records of two kinds
(the merge refuses that, and `check` reports a store where it happened before).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from dxfield.store.backend import backend_for
from dxfield.store.schema import SEARCH_TEXT
from dxfield.store.search_terms import SEARCHED_DATES
from dxfield.store.search_terms import normalize as normalize  # re-exported

SEARCHABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "activity": ("title", "notes", "location"),
    "finding": ("text",),
    "action": ("text",),
}
SORT_DATE_FIELDS = SEARCHED_DATES
"""The date each searched kind is ordered by (search results: newest first)."""
_table = SEARCH_TABLE = SEARCH_TEXT


def body_for(entity: str, data: dict[str, Any]) -> str | None:
    """The searchable body of a record, or None when the entity is not searched.

    Fields are joined by newlines; query terms never hold whitespace, so no match spans two fields.
    """
    fields = SEARCHABLE_FIELDS.get(entity)
    if fields is None:
        return None
    return "\n".join(normalize(str(data.get(name) or "")) for name in fields)


def sort_date_for(entity: str, data: dict[str, Any]) -> str | None:
    """The ISO date search results order this record by (None: an action without a due date)."""
    value = data.get(SORT_DATE_FIELDS.get(entity, ""))
    return str(value) if value else None


ENTRY_COLUMNS = ("entity", "entity_id", "body", "sort_date")
"""The columns of an `entry` (search_text's `rowid` is the store's to give)."""


def entry(entity: str, entity_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The `search_text` row of a record, or None when the entity is not searched."""
    body = body_for(entity, data)
    if body is None:
        return None
    return {
        "entity": entity,
        "entity_id": entity_id,
        "body": body,
        "sort_date": sort_date_for(entity, data),
    }


def refresh(
    conn: Connection, entity: str, entity_id: str, data: dict[str, Any], *, deleted: bool
) -> None:
    """Bring one record's entry up to date (removed when the record is a tombstone)."""
    row = entry(entity, entity_id, data)
    if row is None:
        return
    if deleted:
        remove(conn, entity, entity_id)
        return
    existing = conn.execute(
        select(_table.c.rowid).where(_table.c.entity == entity, _table.c.entity_id == entity_id)
    ).scalar()
    if existing is None:
        backend_for(conn).insert_search_rows(conn, _table, [row])
    else:
        conn.execute(
            update(_table)
            .where(_table.c.rowid == existing)
            .values(body=row["body"], sort_date=row["sort_date"])
        )


def insert_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Index many new records at once (PostgreSQL: by COPY)."""
    if rows:
        backend_for(conn).insert_search_rows(conn, _table, rows)


def remove(conn: Connection, entity: str, entity_id: str) -> None:
    """Drop a record from the index."""
    conn.execute(delete(_table).where(_table.c.entity == entity, _table.c.entity_id == entity_id))
