"""The read verbs' light path (store/light.py): it reads what the Store reads, row for row, on
both engines, and opens only a store whose open would do nothing else (the hub's own cases:
tests/hub/test_light_on_hub.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.paths import KEY_FILE, STORE_FILE
from dxfield.store import engine as engine_module
from dxfield.store import markers
from dxfield.store.activities import (
    ActivityFilter,
    ActivityInput,
    add_activity,
    count_activities,
    delete_activity,
    list_activities,
    oldest_activities,
)
from dxfield.store.engine import Store
from dxfield.store.light import LightStore, open_light
from dxfield.store.search import search
from tests.store.test_search import WORDS


@pytest.fixture
def both(demo_store: Store) -> Iterator[tuple[Store, LightStore]]:
    """The demo's store with a few more activities (one deleted, one with tags and areas, one
    dated only by its month), opened both ways."""
    add_activity(
        demo_store,
        ActivityInput(
            title="窓口DX 研修 [b]",
            kind="training",
            date="2024-07-01",
            date_precision="month",
            municipality="豊岡市",
            areas=["vision", "talent"],
            tags=["窓口", "DX"],
            notes="農業 ドローン配送",
        ),
    )
    gone = add_activity(
        demo_store,
        ActivityInput(title="消す 農業", kind="meeting", date="2024-08-01", municipality="豊岡市"),
    )
    delete_activity(demo_store, gone.id)
    # On a hub, those writes made the hub's keys: its next open signs and attests what came
    # before them (the authorship upgrade), and the light path leaves that open to the Store.
    assert open_light(demo_store.data_dir) is None or demo_store.path is not None
    Store.open(demo_store.data_dir).close()
    light = open_light(demo_store.data_dir)
    assert light is not None
    yield demo_store, light
    light.close()


def test_the_log_reads_the_same_rows(both: tuple[Store, LightStore]) -> None:
    store, light = both
    kinds = [None, *ActivityKind]
    areas = [None, *SupportArea]
    ranges = [(None, None), (dt.date(2024, 7, 1), None), (None, dt.date(2024, 9, 30))]
    for kind, area, (first, last), limit in itertools.product(kinds, areas, ranges, [1, 7, 500]):
        filters = ActivityFilter(kind=kind, area=area, date_from=first, date_to=last)
        expected = list_activities(store, filters, limit=limit)
        assert (
            light.activities(kind=kind, area=area, date_from=first, date_to=last, limit=limit)
            == expected
        ), filters
    assert len(list_activities(store, None, limit=500)) > 20


def test_the_apps_log_reads_the_same_pages(both: tuple[Store, LightStore]) -> None:
    """The app's first Log (unfiltered) page by page: by offset, by key either way, from the
    end; and its count."""
    store, light = both
    assert light.count_activities() == count_activities(store)
    everything = list_activities(store, limit=1000)
    keys = [(row.date, row.id) for row in everything[:: max(len(everything) // 6, 1)]]
    keys.append((dt.date(2024, 7, 1), ""))  # a key between rows
    for limit, offset in itertools.product([1, 5, 1000], [0, 3, len(everything) - 2, 5000]):
        assert light.log_page(limit=limit, offset=offset) == list_activities(
            store, limit=limit, offset=offset
        )
        assert light.log_page(limit=limit, offset=offset, oldest=True) == oldest_activities(
            store, limit=limit, offset=offset
        )
        for key in keys:
            assert light.log_page(limit=limit, before=key) == list_activities(
                store, limit=limit, before=key
            )
            assert light.log_page(limit=limit, after=key) == list_activities(
                store, limit=limit, after=key
            )
    assert light.log_page(limit=0) == []


def test_a_closed_light_store_reads_nothing(both: tuple[Store, LightStore]) -> None:
    """The app closes its light store once the Store is open: a read that comes after gives
    None (the reader asks the Store), never an error."""
    _, light = both
    light.close()
    assert light.count_activities() is None
    assert light.log_page(limit=10) is None


def test_search_reads_the_same_hits(both: tuple[Store, LightStore]) -> None:
    store, light = both
    queries = [
        "農業",
        "町",
        "窓口dx",
        "ドローン配送",
        "推進 町",
        "豊岡",
        "ｶﾞｲﾄﾞ",
        "消す",
        "no such words at all",
        " \u3000",
        *WORDS,
        *(" ".join(pair) for pair in itertools.combinations(WORDS[:12], 2)),
    ]
    for query, limit in itertools.product(queries, [1, 3, 100]):
        assert light.search(query, limit=limit) == search(store, query, limit=limit), query
    total, hits = search(store, "町", limit=100)
    assert total > 10 and {h.entity for h in hits} == {"activity", "finding", "action"}


def test_drafts_read_the_same(both: tuple[Store, LightStore]) -> None:
    from dxfield.store.local_state import list_drafts, put_value, save_draft

    store, light = both
    assert light.drafts() == list_drafts(store) == []
    save_draft(store, "activity-new-1", {"title": "一つ目"})
    save_draft(store, "activity-new-2", {"title": "二つ目", "notes": "メモ"})
    put_value(store, "draft:broken", {"not": "a draft"})  # skipped, logged: never raised
    put_value(store, "drafts-are-not-this", 1)
    drafts = light.drafts()
    assert drafts == list_drafts(store)
    assert drafts is not None and [d.data["title"] for d in drafts] == ["二つ目", "一つ目"]


def test_a_page_past_the_light_limit_is_the_stores(both: tuple[Store, LightStore]) -> None:
    _, light = both
    assert light.search("町", limit=100_000) is None


def _needing_nothing(data_dir: Path) -> None:
    """Make the store of `data_dir` one whose open does nothing, as a person's is: on a hub, its
    account has its keys (`init` makes them) and an open has signed with them."""
    with Store.open(data_dir) as store:
        if store.shared:
            store.signer()
    Store.open(data_dir).close()
    light = open_light(data_dir)
    assert light is not None
    light.close()


def test_a_store_that_needs_nothing_opens_light(data_dir: Path) -> None:
    _needing_nothing(data_dir)
    light = open_light(data_dir)
    assert light is not None
    assert light.activities(limit=5) == []
    assert light.search("農業") == (0, [])
    light.close()


def _raw(data_dir: Path, sql: str) -> None:
    """Run `sql` on the store of `data_dir` behind the Store's back (its file, or its hub)."""
    address = engine_module.database_for(data_dir, None)
    if address:
        import psycopg

        with psycopg.connect(address) as hub:
            hub.execute(sql)
        return
    conn = sqlite3.connect(data_dir / STORE_FILE)
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE alembic_version SET version_num = '0001'",  # to be migrated
        "UPDATE alembic_version SET version_num = 'zzzz'",  # a newer dxfield's
        f"DELETE FROM local_state WHERE key = '{markers.REFERENCE_VERSION_KEY}'",
        f"UPDATE local_state SET value = '0' WHERE key = '{markers.REFERENCE_VERSION_KEY}'",
        f"DELETE FROM local_state WHERE key LIKE '{markers.UPGRADED_KEY}%'",
        "DELETE FROM device",
    ],
)
def test_a_store_the_open_would_change_or_refuse_is_the_stores(data_dir: Path, sql: str) -> None:
    _needing_nothing(data_dir)
    _raw(data_dir, sql)
    assert open_light(data_dir) is None


@pytest.mark.sqlite_only
def test_no_store_a_broken_file_a_rotation_or_a_hub_is_the_stores(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    assert open_light(missing) is None
    assert not missing.exists()  # the Store makes the folder, and says if it cannot
    empty = tmp_path / "empty"
    empty.mkdir()
    assert open_light(empty) is None
    (empty / STORE_FILE).write_bytes(b"")
    assert open_light(empty) is None
    (empty / STORE_FILE).write_bytes(b"not a store at all, not even SQLite")
    assert open_light(empty) is None
    rotating = tmp_path / "rotating"
    Store.open(rotating).close()
    assert open_light(rotating) is not None
    (rotating / (KEY_FILE + markers.NEXT_SUFFIX)).write_text("{}")
    assert open_light(rotating) is None
    assert open_light(rotating, "postgresql://hub.example/dxfield") is None
    assert open_light(empty, "postgresql://hub.example/dxfield") is None
