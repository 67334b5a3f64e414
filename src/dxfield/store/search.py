"""Search over activity titles, notes and locations, findings and actions.

Japanese has no spaces and most words are two kanji, while FTS5's trigram index only knows
substrings of three characters or more. So: the query is NFKC-normalized and lower-cased like the
stored text, split on whitespace into terms that must all match; terms of three or more characters
go to the trigram index, shorter ones are a substring scan of the normalized column. Quotes and
operators are plain text. Results equal a plain substring test (tests/store/test_search.py).

`matching_ids` is that logic as a SELECT to compose into other queries (the Log's search filter);
`search_ids` and `search` run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.engine import Connection

from dxfield.store import revisions
from dxfield.store.backend import Backend, backend_for
from dxfield.store.schema import SEARCH_TEXT
from dxfield.store.search_terms import CONFLATED, SEARCHED_DATES, first_line, snippet
from dxfield.store.search_terms import TRIGRAM as TRIGRAM  # re-exported, as are the next two
from dxfield.store.search_terms import SearchHit as SearchHit
from dxfield.store.search_terms import query_terms as query_terms
from dxfield.store.unit import Work, unit_of

_search = SEARCH_TEXT


def matching_ids(
    query: str, backend: Backend, *, entities: Sequence[str] | None = None
) -> Select[tuple[str]]:
    """A SELECT of `search_text.entity_id` for the records matching every term of `query`.

    Meant to be composed (`activity.id IN matching_ids(...)`); `search_ids` runs it. A query with
    no terms (empty or only whitespace) matches nothing. `entities` narrows to those kinds of record.
    """
    statement = select(_search.c.entity_id)
    terms = query_terms(query)
    if not terms:
        return statement.where(false())
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    if long_terms:
        statement = statement.where(backend.indexed_match(_search, long_terms))
    # Short terms are a scan. Long terms are the index's, confirmed by a scan only where the index
    # can be wrong: SQLite's trigram tokenizer reads U+FFFE and U+FFFF as U+FFFD, so "化け\ufffd"
    # would also find "化け\uffff". (Lone surrogates, the other chars it reads so, cannot be
    # stored.) Confirming every long term would cost a third more on the common path.
    for term in terms:
        if len(term) < TRIGRAM or CONFLATED.intersection(term):
            statement = statement.where(backend.contains(_search.c.body, term))
    if entities:
        statement = statement.where(_search.c.entity.in_(list(entities)))
    return statement


def search_ids(
    conn: Connection, query: str, *, entities: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """(entity, id) of every record matching all terms: newest first (by an activity's or
    finding's date, an action's due date; undated last), then by kind and id. One order on every
    engine, whatever order the records arrived in."""
    if not query_terms(query):
        return []
    backend = backend_for(conn)
    statement = _in_order(matching_ids(query, backend, entities=entities))
    return [(entity, entity_id) for entity, entity_id in backend.plain_rows(conn, statement)]


def _in_order(matching: Select[tuple[str]], *extra: ColumnElement[Any]) -> Select[Any]:
    """(entity, id, *extra) of the matching records, in the one order results come in."""
    return matching.with_only_columns(_search.c.entity, _search.c.entity_id, *extra).order_by(
        _search.c.sort_date.desc().nulls_last(), _search.c.entity, _search.c.entity_id
    )


def search(
    work: Work, query: str, *, limit: int = 100, entities: Sequence[str] | None = None
) -> tuple[int, list[SearchHit]]:
    """(number of matches, the first `limit` of them with titles and snippets)."""
    terms = query_terms(query)
    if not terms:
        return 0, []
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        backend = backend_for(conn)
        # The database counts the matches and keeps the first page: a term in a sixth of a
        # hub's 100,000 activities would otherwise bring 16,000 ids over to show 100.
        statement = _in_order(
            matching_ids(query, backend, entities=entities), func.count().over()
        ).limit(max(limit, 1))
        found = backend.plain_rows(conn, statement)
        total = int(found[0][2]) if found else 0
        page = [(entity, entity_id) for entity, entity_id, _ in found[: max(limit, 0)]]
        hits: dict[str, SearchHit] = {}
        for entity in {e for e, _ in page}:
            table = revisions.table_for(entity)
            ids = [i for e, i in page if e == entity]
            title_col = table.c.title if entity == "activity" else table.c.text
            date_col = SEARCHED_DATES[entity]
            rows = conn.execute(
                select(
                    table.c.id,
                    title_col.label("title"),
                    table.c[date_col].label("date"),
                    _search.c.body,
                )
                .join(_search, _search.c.entity_id == table.c.id)
                .where(table.c.id.in_(ids))
            )
            for row in rows:
                hits[row.id] = SearchHit(
                    entity, row.id, first_line(row.title), row.date, snippet(row.body, terms)
                )
    return total, [hits[i] for _, i in page if i in hits]
