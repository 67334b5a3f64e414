"""The read verbs' light path (store/light.py): it reads what the Store reads, row for row, on
both engines, and opens only a store whose open would do nothing else (the hub's own cases:
tests/hub/test_light_on_hub.py). The app's Dashboard read this way: here on the demo and on a
store of every awkward case at once; tests/store/test_dashboard.py holds it equal on each of
its cases too."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxfield import clock
from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.paths import KEY_FILE, STORE_FILE
from dxfield.store import engine as engine_module
from dxfield.store import markers, records
from dxfield.store.activities import (
    ActivityFilter,
    ActivityInput,
    add_activity,
    count_activities,
    delete_activity,
    list_activities,
    oldest_activities,
)
from dxfield.store.dashboard import dashboard
from dxfield.store.engine import Store
from dxfield.store.ids import reference_id
from dxfield.store.light import LightStore, open_light
from dxfield.store.reference import municipality_id
from dxfield.store.search import search
from dxfield.store.tracks import add_stage_model, funnel
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
    assert light.dashboard(dt.date(2024, 7, 20)) is not None  # its second connection opened
    light.close()
    assert light.count_activities() is None
    assert light.log_page(limit=10) is None
    assert light.dashboard(dt.date(2024, 7, 20)) is None
    assert light.funnel() is None


DAYS = (
    dt.date(2024, 4, 1),
    dt.date(2024, 7, 20),
    dt.date(2025, 1, 15),
    dt.date(2025, 3, 31),
    dt.date(2025, 4, 1),  # a new 年度 with nothing in it yet: the last one is shown
    dt.date(2026, 7, 1),
    dt.date(2027, 4, 1),
)


def test_the_dashboard_reads_the_same(both: tuple[Store, LightStore]) -> None:
    store, light = both
    for today in (*DAYS, clock.today()):
        assert light.dashboard(today) == dashboard(store, today), today
    assert light.funnel() == funnel(store)
    assert len(dashboard(store, dt.date(2024, 7, 20)).cards) > 5


def test_the_dashboard_reads_the_same_on_every_awkward_case(data_dir: Path) -> None:
    """Deleted records of every kind, activities outside initiatives and of a deleted one,
    tracks at a stage their model lacks, with no move or only deleted ones, a deleted model
    with live tracks, a model of the user's, actions open, overdue, closed, deleted, a planned
    activity: each day a different window (a past 年度's, today's)."""
    toyooka, taka, ako = (municipality_id(code) for code in ("282090", "283657", "282120"))
    with Store.open(data_dir) as store:

        def create(record_kind: str, **data: object) -> str:
            return str(records.create(store, record_kind, data).id)

        kept = create("initiative", municipality_id=toyooka, theme="配送DX", title="配送")
        dropped = create("initiative", municipality_id=toyooka, theme="観光DX", title="観光")
        create(
            "initiative",
            municipality_id=taka,
            theme="保健福祉DX",
            title="見守り",
            providers=[{"org_id": toyooka, "role": "representative"}],
        )
        dates = ("2023-05-01", "2024-04-01", "2024-06-30", "2024-10-21", "2025-03-31")
        for n, date in enumerate(dates):
            create(
                "activity",
                kind="meeting",
                title="会議",
                date=date,
                initiative_id=(kept, dropped, None)[n % 3],
                municipality_id=toyooka,
            )
        create("activity", kind="site_visit", title="訪問", date="2024-07-31", municipality_id=ako)
        create("activity", kind="site_visit", title="予定", date="2027-05-01", municipality_id=ako)
        gone = create(
            "activity", kind="site_visit", title="消", date="2026-06-01", municipality_id=taka
        )
        records.delete(store, "activity", gone)
        for status, due in [
            ("planned", "2024-07-09"),
            ("in_progress", None),
            ("done", "2024-01-01"),
            ("dropped", "2024-01-01"),
            ("planned", "2025-12-31"),
        ]:
            create("action", initiative_id=kept, text="x", status=status, due=due)
        records.delete(store, "action", create("action", initiative_id=kept, text="x"))
        create("action", initiative_id=dropped, text="やる")
        records.delete(store, "initiative", dropped)
        mine = add_stage_model(
            store,
            {
                "key": "mine",
                "name": "自分の",
                "stages": [
                    {"key": "a", "label": "一"},
                    {"key": "b", "label": "二", "label_en": "Two"},
                ],
            },
        )
        retired = add_stage_model(
            store, {"key": "old", "name": "古い", "stages": [{"key": "a", "label": "一"}]}
        )
        toyooka_model = reference_id("stage_model", "toyooka-4stage")
        for n, (model, stage) in enumerate(
            [
                (toyooka_model, "dialogue"),
                (toyooka_model, "retired"),
                (toyooka_model, None),
                (mine.id, "b"),
                (mine.id, "a"),
                (retired.id, "a"),
                (toyooka_model, "survey"),
            ]
        ):
            community = create(
                "organization",
                kind="community",
                name=f"地区{n}",
                kana=f"ちく{9 - n}",
                parent_id=toyooka,
            )
            track = create(
                "engagement_track",
                model_id=model,
                community_id=community,
                initiative_id=kept if n % 2 == 0 else None,
                current_stage=stage,
            )
            # Tracks 0 and 4: no move, or only a deleted one; 2: its latest move deleted.
            for m, date in enumerate(("2024-06-01", "2025-03-01", "2026-01-01")[: n % 4 or n // 4]):
                move = create("stage_move", track_id=track, to_stage=stage or "survey", date=date)
                if (n, m) in ((2, 1), (3, 0), (4, 0)):
                    records.delete(store, "stage_move", move)
            if n == 6:
                records.delete(store, "engagement_track", track)
        records.delete(store, "stage_model", retired.id)
    needing_nothing(data_dir)
    light = open_light(data_dir)
    assert light is not None
    with Store.open(data_dir) as store:
        for today in DAYS:
            assert light.dashboard(today) == dashboard(store, today), today
        funnels = funnel(store)
        assert light.funnel() == funnels
    light.close()
    assert [f.model.key for f in funnels] == ["toyooka-4stage", "mine"]
    assert funnels[0].not_started == 2  # a stage the model lacks, and none yet


def test_the_logs_reads_wait_for_no_dashboard_read(both: tuple[Store, LightStore]) -> None:
    """The dashboard reads on a connection of its own: the Log's reads go on during its scan."""
    _, light = both
    with light._board_lock:  # a dashboard read in progress
        assert light.count_activities()
        assert light.log_page(limit=5)


@pytest.mark.sqlite_only
def test_a_stopped_dashboard_read_gives_none_and_the_next_one_reads(
    both: tuple[Store, LightStore],
) -> None:
    """The app stops the dashboard's scan when its screen is left before the cards came (on a
    hub the server scans, and the stop does nothing)."""
    store, _ = both
    light = open_light(store.data_dir, shared=True)  # as the app's workers read it
    assert light is not None
    today = dt.date(2024, 7, 20)
    assert light.dashboard(today) is not None
    light.stop_dashboard()  # nothing running: no read after it is stopped
    assert light.dashboard(today) == dashboard(store, today)
    failed: list[Exception] = []

    def scan() -> None:  # a read of some seconds, as a dashboard's of a big store
        try:
            with light._board_read() as conn:
                conn.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 100000000) SELECT count(*) FROM n"
                ).fetchone()
        except sqlite3.Error as exc:
            failed.append(exc)

    reading = threading.Thread(target=scan)
    reading.start()
    deadline = time.monotonic() + 30
    while reading.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
        light.stop_dashboard()  # again, should the first come before the statement began
    reading.join()
    assert [str(exc) for exc in failed] == ["interrupted"]
    assert light.dashboard(today) == dashboard(store, today)  # its unit was ended
    light.close()


def test_the_dashboard_imports_no_sqlalchemy(both: tuple[Store, LightStore]) -> None:
    """What the app's first screen reads needs the driver alone (psycopg on a hub)."""
    store, _ = both
    database = engine_module.database_for(store.data_dir, None) or ""
    code = (
        "import sys, datetime\n"
        "from pathlib import Path\n"
        "from dxfield.store.light import open_light\n"
        "light = open_light(Path(sys.argv[1]), sys.argv[2], shared=True)\n"
        "board = light.dashboard(datetime.date(2024, 7, 20))\n"
        "funnels = light.funnel()\n"
        "assert board is not None and board.cards and funnels, (board, funnels)\n"
        "light.close()\n"
        "print(sorted(m.split('.')[0] for m in sys.modules\n"
        "    if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'pydantic', 'alembic', 'nacl')\n"
        "    or m in ('dxfield.store.records', 'dxfield.domain.records')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(store.data_dir), database],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


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


def needing_nothing(data_dir: Path) -> None:
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
    needing_nothing(data_dir)
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
    needing_nothing(data_dir)
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
