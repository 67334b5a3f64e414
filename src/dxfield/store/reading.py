"""Reading many rows without a model each: a year of activities for the report, a whole table
for `export-table`. What the store holds was checked when it was written (by this device's
forms and imports, or by the merge of a bundle), so these paths take the stored values as they
are, a page at a time, and decode JSON columns through a small cache."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Select

from dxfield.store.unit import Unit

PAGE = 1000
"""Rows read from the store at a time: a table is never whole in memory (a server-side cursor
on PostgreSQL, SQLite's own stepping on a file), whatever its length."""

JSON_CACHE = 4096
"""The most distinct JSON texts `json_reader` keeps decoded."""


def streamed(unit: Unit, query: Select[Any]) -> Iterator[Any]:
    """The rows of `query`, read a page at a time inside the unit's one snapshot."""
    return iter(unit.conn.execution_options(yield_per=PAGE).execute(query))


def json_reader() -> Callable[[str | None], Any]:
    """`json.loads` for JSON columns read as text, each distinct text decoded once: most
    activities share a few (no tags, the same areas, no one named), so their decoding is a
    dictionary lookup. At most JSON_CACHE texts are kept, so memory stays bounded; what it
    gives is shared, to be read and not changed."""
    decoded: dict[str | None, Any] = {None: None}
    loads = json.loads

    def read(text: str | None) -> Any:
        try:
            return decoded[text]
        except KeyError:
            value = loads(text)  # type: ignore[arg-type]  # None is in `decoded`
            if len(decoded) < JSON_CACHE:
                decoded[text] = value
            return value

    return read
