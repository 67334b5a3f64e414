"""The Log's pages: keyset paging both ways, offset jumps, counts, the End key, the search filter.

The Log is newest first by (date, id). A thousand activities share a handful of dates, so most
page boundaries fall between rows of the same date and only the id breaks the tie.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from dxfield.domain.enums import ActivityKind
from dxfield.store import records, revisions
from dxfield.store.activities import (
    ActivityFilter,
    ActivityInput,
    ActivityRow,
    add_activity,
    count_activities,
    list_activities,
    oldest_activities,
)
from dxfield.store.engine import Store
from dxfield.store.reference import municipality_id
from dxfield.store.search import matching_ids, search_ids

TOYOOKA = municipality_id("282090")
TAKA = municipality_id("283657")
DATES = [dt.date(2024, 4, 1), dt.date(2024, 7, 17), dt.date(2024, 7, 18), dt.date(2024, 10, 31)]
WORDS = ["農業", "配送", "窓口", "ドローン", "ＤＸ", "dx", "町", "住民説明会", "実証実験", "研修"]
N = 1000
DELETED = 50
PAGE = 37

Key = tuple[dt.date, str]


def _key(row: ActivityRow) -> Key:
    return (row.date, row.id)


def _content(rng: random.Random, base: dict[str, Any], date: dt.date) -> dict[str, Any]:
    return {
        **base,
        "date": date.isoformat(),
        "municipality_id": rng.choice([TOYOOKA, TAKA]),
        "kind": rng.choice([ActivityKind.workshop.value, ActivityKind.meeting.value]),
        "title": "".join(rng.sample(WORDS, 2)),
        "notes": " ".join(rng.sample(WORDS, 2)),
        "tags": sorted(set(rng.sample(["農業", "配送", "窓口"], rng.randint(0, 2)))),
    }


SEED = 20240717


@pytest.fixture
def log(store: Store) -> Iterator[list[tuple[Key, dict[str, Any]]]]:
    """N activities on four dates with random ids (so ids, not creation, break ties); some deleted.

    Yields the live ones as ((date, id), content), newest first: the expected Log.
    """
    rng = random.Random(SEED)
    base = records.validate(
        "activity",
        {"municipality_id": TOYOOKA, "kind": "workshop", "title": "x", "date": "2024-04-01"},
    )
    items = []
    for _ in range(N):
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        items.append((record_id, _content(rng, base, rng.choice(DATES))))
    gone = {record_id for record_id, _ in rng.sample(items, DELETED)}
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", items)
        for record_id in gone:
            revisions.write_record(unit, "activity", record_id, None, deleted=True)
    live = [
        ((dt.date.fromisoformat(content["date"]), record_id), content)
        for record_id, content in items
        if record_id not in gone
    ]
    live.sort(key=lambda item: item[0], reverse=True)
    yield live


def _expected(log: list[tuple[Key, dict[str, Any]]], **match: Any) -> list[Key]:
    return [key for key, content in log if all(content[k] == v for k, v in match.items())]


def _forward(store: Store, filters: ActivityFilter | None = None) -> list[list[Key]]:
    """Every page from the top, each asked for `before` the last row of the one above."""
    pages: list[list[Key]] = []
    page = list_activities(store, filters, limit=PAGE)
    while page:
        pages.append([_key(r) for r in page])
        page = list_activities(store, filters, limit=PAGE, before=_key(page[-1]))
    return pages


def _backward(store: Store, filters: ActivityFilter | None = None) -> list[list[Key]]:
    """Every page from the bottom (End), each asked for `after` the first row of the one below."""
    pages: list[list[Key]] = []
    page = oldest_activities(store, filters, limit=PAGE)
    while page:
        pages.append([_key(r) for r in page])
        page = list_activities(store, filters, limit=PAGE, after=_key(page[0]))
    return pages


def test_the_fixture_has_many_ties(log: list[tuple[Key, dict[str, Any]]]) -> None:
    assert len(log) == N - DELETED
    assert len({date for (date, _), _ in log}) == len(DATES)


def test_paging_forward_with_before_visits_every_row_once_in_order(
    store: Store, log: list[tuple[Key, dict[str, Any]]]
) -> None:
    pages = _forward(store)
    visited = [key for page in pages for key in page]
    assert visited == _expected(log)
    assert all(len(page) == PAGE for page in pages[:-1])
    assert len(visited) == len(set(visited))


def test_paging_backward_with_after_visits_every_row_once_in_order(
    store: Store, log: list[tuple[Key, dict[str, Any]]]
) -> None:
    pages = _backward(store)
    # Each page is newest first; the pages come oldest first.
    for page in pages:
        assert page == sorted(page, reverse=True)
    visited = [key for page in reversed(pages) for key in page]
    assert visited == _expected(log)
    assert all(len(page) == PAGE for page in pages[:-1])


def test_after_and_before_are_inverse(store: Store, log: list[tuple[Key, dict[str, Any]]]) -> None:
    expected = _expected(log)
    for start in (0, 1, PAGE, 400, len(expected) - PAGE - 1):
        down = list_activities(store, limit=PAGE, before=expected[start])
        assert [_key(r) for r in down] == expected[start + 1 : start + 1 + PAGE]
        up = list_activities(store, limit=PAGE, after=_key(down[-1]))
        assert [_key(r) for r in up] == expected[start : start + PAGE]
    # Near the top, `after` returns the fewer rows there are.
    assert [_key(r) for r in list_activities(store, limit=PAGE, after=expected[3])] == expected[:3]
    assert list_activities(store, limit=PAGE, after=expected[0]) == []
    assert list_activities(store, limit=PAGE, before=expected[-1]) == []


def test_offset_pages_agree_with_keyset_pages(
    store: Store, log: list[tuple[Key, dict[str, Any]]]
) -> None:
    keyset = _forward(store)
    for number, page in enumerate(keyset):
        by_offset = list_activities(store, limit=PAGE, offset=number * PAGE)
        assert [_key(r) for r in by_offset] == page
    expected = _expected(log)
    assert [_key(r) for r in list_activities(store, limit=5, offset=333)] == expected[333:338]
    assert list_activities(store, limit=PAGE, offset=len(expected)) == []
    # A negative offset (total - page on a short list) is the top.
    assert [_key(r) for r in list_activities(store, limit=3, offset=-10)] == expected[:3]
    # With a key, the offset is not used.
    assert list_activities(store, limit=3, offset=100, before=expected[0]) == list_activities(
        store, limit=3, before=expected[0]
    )


def test_count_and_the_end_key(store: Store, log: list[tuple[Key, dict[str, Any]]]) -> None:
    expected = _expected(log)
    assert count_activities(store) == len(expected)
    assert [_key(r) for r in oldest_activities(store, limit=PAGE)] == expected[-PAGE:]
    assert [_key(r) for r in oldest_activities(store, limit=5000)] == expected
    assert oldest_activities(store, limit=0) == []
    assert list_activities(store, limit=0) == []


def test_offsets_from_the_end_agree_with_offsets_from_the_top(
    store: Store, log: list[tuple[Key, dict[str, Any]]]
) -> None:
    # The Log fetches a block in its back half counting from the end (End reads no more rows
    # than it shows): block b of size PAGE is the rows [b * PAGE, end), skipping total - end.
    expected = _expected(log)
    total = len(expected)
    for block in range(total // PAGE + 1):
        end = min((block + 1) * PAGE, total)
        from_end = oldest_activities(store, limit=end - block * PAGE, offset=total - end)
        assert [_key(r) for r in from_end] == expected[block * PAGE : end]
    assert oldest_activities(store, limit=3, offset=-5) == oldest_activities(store, limit=3)
    assert oldest_activities(store, limit=PAGE, offset=total) == []


def test_filters_page_count_and_end_alike(
    store: Store, log: list[tuple[Key, dict[str, Any]]]
) -> None:
    filters = ActivityFilter(municipality_id=TAKA, kind=ActivityKind.meeting)
    expected = _expected(log, municipality_id=TAKA, kind="meeting")
    assert 0 < len(expected) < len(log)
    assert [k for page in _forward(store, filters) for k in page] == expected
    assert [k for page in reversed(_backward(store, filters)) for k in page] == expected
    assert count_activities(store, filters) == len(expected)
    assert [_key(r) for r in oldest_activities(store, filters, limit=4)] == expected[-4:]
    dated = ActivityFilter(date_from=DATES[1], date_to=DATES[2], tag="配送")
    expected = [
        key for key, content in log if DATES[1] <= key[0] <= DATES[2] and "配送" in content["tags"]
    ]
    assert [_key(r) for r in list_activities(store, dated, limit=5000)] == expected
    assert count_activities(store, dated) == len(expected)


@pytest.mark.parametrize(
    "query",
    [
        "農業",
        "ＤＸ",
        "dx 町",
        "配送 ドローン",
        "住民説明会",
        "実証 研修",
        "農業 配送 窓口",
        "ない言葉",
    ],
)
def test_the_query_filter_agrees_with_search_ids(
    store: Store, log: list[tuple[Key, dict[str, Any]]], query: str
) -> None:
    # A finding with the same words: the Log's search is over activities only.
    records.create(store, "finding", {"kind": "insight", "text": " ".join(WORDS)})
    with store.read() as conn:
        found = search_ids(conn, query)
    expected_ids = {i for entity, i in found if entity == "activity"}
    assert len(expected_ids) < len(found) or query == "ない言葉"
    filters = ActivityFilter(query=query)
    rows = list_activities(store, filters, limit=5000)
    assert {r.id for r in rows} == expected_ids
    assert [_key(r) for r in rows] == [k for k in _expected(log) if k[1] in expected_ids]
    assert count_activities(store, filters) == len(expected_ids)
    # Paged both ways and combined with another filter, it is still the same set.
    assert [k for page in _forward(store, filters) for k in page] == [_key(r) for r in rows]
    assert [k for page in reversed(_backward(store, filters)) for k in page] == [
        _key(r) for r in rows
    ]
    narrowed = ActivityFilter(query=query, municipality_id=TOYOOKA)
    assert {r.id for r in list_activities(store, narrowed, limit=5000)} == {
        r.id for r in rows if r.municipality == "豊岡市"
    }


@pytest.mark.parametrize("query", [None, "", " ", "\u3000\n"])
def test_a_query_without_terms_narrows_by_nothing(
    store: Store, log: list[tuple[Key, dict[str, Any]]], query: str | None
) -> None:
    assert count_activities(store, ActivityFilter(query=query)) == len(log)


def test_rows_carry_initiative_and_tags(store: Store) -> None:
    from dxfield.store.followups import list_initiatives

    initiative = records.create(
        store,
        "initiative",
        {"municipality_id": TOYOOKA, "theme": "配送DX", "title": "ドローン配送"},
    )
    add_activity(
        store,
        ActivityInput(
            title="説明会",
            kind="briefing",
            date="2024-07-17",
            initiative=initiative.id,
            tags=["配送", "ドローン"],
            areas=["vision"],
        ),
    )
    add_activity(
        store,
        ActivityInput(title="研修", kind="training", date="2024-07-18", municipality="豊岡市"),
    )
    assert list_initiatives(store)[0].initiative.id == initiative.id
    training, briefing = list_activities(store)
    assert (training.title, training.initiative_id, training.tags) == ("研修", None, [])
    assert briefing.initiative_id == initiative.id
    assert briefing.tags == ["ドローン", "配送"]
    assert briefing.areas == ["vision"]
    assert briefing.municipality == "豊岡市"


def test_before_and_after_together_are_refused(store: Store) -> None:
    key = (dt.date(2024, 7, 17), "x")
    with pytest.raises(ValueError, match="not both"):
        list_activities(store, before=key, after=key)


def test_matching_ids_composes_and_matches_search_ids(store: Store) -> None:
    """Two searches in one statement keep their own match expressions (unique bind names)."""
    both = _one(store, "ドローン配送の説明会")
    _one(store, "ドローンの研修")
    _one(store, "説明会")
    records.create(store, "finding", {"kind": "insight", "text": "ドローン説明会"})
    table = revisions.table_for("activity")
    statement = select(table.c.id).where(
        table.c.id.in_(matching_ids("ドローン", store.backend, entities=["activity"])),
        table.c.id.in_(matching_ids("説明会 配送", store.backend, entities=["activity"])),
    )
    with store.read() as conn:
        assert list(conn.execute(statement).scalars()) == [both]
        for query in ["ドローン", "説明会", "ドローン 説明", "配送"]:
            found = set(conn.execute(matching_ids(query, store.backend)).scalars())
            assert found == {i for _, i in search_ids(conn, query)}, query
        for blank in ["", " ", "\u3000"]:
            assert list(conn.execute(matching_ids(blank, store.backend)).scalars()) == []


def _one(store: Store, title: str) -> str:
    data = {"municipality_id": TOYOOKA, "kind": "briefing", "title": title, "date": "2024-07-17"}
    return str(records.create(store, "activity", data).id)
