"""`import-table` streams: rows are checked batch by batch without the write lock, then written
in one transaction; a bad row far into a long table, or a change made by someone else while the
rows were checked, leaves nothing half done."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from dxfield.domain.errors import LocalizedError
from dxfield.report import table_import
from dxfield.report.table_import import import_table
from dxfield.store import maintenance, records
from dxfield.store.activities import (
    ActivityInput,
    add_activity,
    count_activities,
    delete_activity,
    get_activity,
)
from dxfield.store.engine import Store
from dxfield.store.organizations import resolve_municipality
from dxfield.store.spool import Spool
from tests.writers import another_writer


def _table(path: Path, count: int, bad: int | None = None) -> Path:
    """A CSV of `count` activities; row `bad` (a spreadsheet's number) with a date no one can
    read."""
    lines = ["date,municipality,kind,title,notes"]
    for row in range(2, count + 2):
        date = "2024-13-45" if row == bad else f"2024-{row % 12 + 1:02d}-{row % 28 + 1:02d}"
        lines.append(f"{date},豊岡市,meeting,会議 {row},住民との意見交換 {row}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def _batches_of(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """Check and write `rows` at a time (small tables that are still many batches long)."""
    monkeypatch.setattr(table_import, "BATCH", rows)


def _during_check(action: Callable[[], object]) -> Callable[[str, int], Callable[[int], None]]:
    """A progress callback that does `action` once, while the rows are being checked (the
    check's unit is still open: it stands for someone else saving at that moment)."""
    done: list[bool] = []

    def progress(phase: str, total: int) -> Callable[[int], None]:
        def advance(steps: int) -> None:
            if phase == "check" and not done:
                done.append(True)
                action()

        return advance

    return progress


def checks_counted(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A list that gets an item each time an import checks the table's rows (once, or twice
    when the first check went stale)."""
    checks: list[bool] = []
    real = table_import._checked

    def counted(*args: object, **kwargs: object) -> object:
        checks.append(True)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(table_import, "_checked", counted)
    return checks


def test_a_bad_row_far_into_a_long_table_leaves_the_store_unchanged(
    store: Store, tmp_path: Path
) -> None:
    rows = 2 * table_import.BATCH + 500  # the bad row is in the third batch
    path = _table(tmp_path / "long.csv", rows, bad=rows)
    before = maintenance.dump(store)
    with pytest.raises(LocalizedError) as caught:
        import_table(store, path, fmt="csv")
    assert caught.value.message().startswith(f"row {rows}: date:")
    assert maintenance.dump(store) == before


def test_others_write_while_the_rows_are_checked(store: Store, tmp_path: Path) -> None:
    path = _table(tmp_path / "t.csv", 30)
    saved: list[str] = []

    def save() -> None:  # would wait for the lock (and fail) were the check holding it
        saved.append(
            add_activity(
                store,
                ActivityInput(
                    title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市"
                ),
            ).id
        )

    counts = import_table(store, path, fmt="csv", progress=_during_check(save))
    assert counts.added == 30 and len(saved) == 1
    assert count_activities(store) == 31


def test_a_write_that_finds_another_writer_waits_for_it_and_says_so(
    store: Store, tmp_path: Path
) -> None:
    """Another import (another process's store, holding the write lock) writing when this
    one's check is done: the write waits for it, however long, rather than give up as "busy"
    after the check's work; `waiting` is told once."""
    path = _table(tmp_path / "t.csv", 30)
    told: list[str] = []
    with another_writer(store.data_dir) as other:

        def waiting() -> None:
            told.append("waiting")
            other.let_go_soon()

        counts = import_table(
            store, path, fmt="csv", progress=_during_check(other.take), waiting=waiting
        )
    assert told == ["waiting"]
    assert counts.added == 30 and count_activities(store) == 30


def test_an_activity_deleted_while_the_rows_were_checked_is_refused_at_the_write(
    store: Store, tmp_path: Path
) -> None:
    activity = add_activity(
        store, ActivityInput(title="元", kind="meeting", date="2024-07-01", municipality="豊岡市")
    )
    path = tmp_path / "t.csv"
    path.write_text(f"id,title\n{activity.id},新しい題\n", encoding="utf-8")
    assert import_table(store, path, fmt="csv", dry_run=True).updated == 1
    with pytest.raises(LocalizedError) as caught:
        import_table(
            store,
            path,
            fmt="csv",
            progress=_during_check(lambda: delete_activity(store, activity.id)),
        )
    assert caught.value.message().startswith("row 2: id:")
    assert count_activities(store) == 0  # deleted, and not brought back by the table


def test_an_initiative_deleted_while_the_rows_were_checked_is_refused_at_the_write(
    store: Store, tmp_path: Path
) -> None:
    initiative = records.create(
        store,
        "initiative",
        {
            "municipality_id": resolve_municipality(store, "豊岡市"),
            "theme": "配送DX",
            "title": "取組",
        },
    )
    path = tmp_path / "t.csv"
    path.write_text(
        "date,initiative,kind,title\n2024-07-01,豊岡市 配送DX,meeting,会議\n", encoding="utf-8"
    )
    before = count_activities(store)
    with pytest.raises(LocalizedError) as caught:
        import_table(
            store,
            path,
            fmt="csv",
            progress=_during_check(lambda: records.delete(store, "initiative", str(initiative.id))),
        )
    assert caught.value.message().startswith("row 2: initiative:")
    assert count_activities(store) == before


def test_an_unrelated_save_during_the_check_does_not_check_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = add_activity(
        store, ActivityInput(title="元", kind="meeting", date="2024-07-01", municipality="豊岡市")
    )
    path = tmp_path / "t.csv"
    path.write_text(f"id,title\n{activity.id},新しい題\n", encoding="utf-8")
    checks = checks_counted(monkeypatch)

    def save() -> None:
        add_activity(
            store,
            ActivityInput(title="別件", kind="meeting", date="2024-07-02", municipality="豊岡市"),
        )

    assert import_table(store, path, fmt="csv", progress=_during_check(save)).updated == 1
    assert len(checks) == 1  # the spooled check was written as it was
    assert get_activity(store, activity.id).title == "新しい題"


def test_a_csv_that_breaks_partway_is_refused_by_its_row(store: Store, tmp_path: Path) -> None:
    path = _table(tmp_path / "t.csv", 3000)
    data = path.read_bytes()
    cut = data.index("会議 2500".encode())
    (tmp_path / "latin1.csv").write_bytes(data[:cut] + b"\xff\xfe" + data[cut:])
    with pytest.raises(LocalizedError) as caught:
        import_table(store, tmp_path / "latin1.csv", fmt="csv")
    assert "UTF-8" in caught.value.message()
    huge = tmp_path / "huge.csv"
    huge.write_text(
        "date,municipality,kind,title,notes\n2024-07-01,豊岡市,meeting,会議,"
        + "あ" * 200_000
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(LocalizedError) as caught:
        import_table(store, huge, fmt="csv")
    assert caught.value.message().startswith("row 2: a cell holds more than")
    assert count_activities(store) == 0


def _peak(store: Store, path: Path) -> int:
    tracemalloc.start()
    try:
        import_table(store, path, fmt="csv")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.sqlite_only  # the same code on both engines; memory is the file's business here
def test_memory_stays_flat_as_the_table_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so that both tables are many batches long (the spool's chunks too).
    _batches_of(monkeypatch, 200)
    monkeypatch.setattr(Spool, "CHUNK", 200)
    small = _table(tmp_path / "small.csv", 8 * table_import.BATCH)
    large = _table(tmp_path / "large.csv", 40 * table_import.BATCH)
    with Store.open(tmp_path / "a") as a, Store.open(tmp_path / "b") as b:
        _peak(a, small)  # the first import pays for what is read once (modules, caches)
        at_small = _peak(a, small)
        _peak(b, small)
        at_large = _peak(b, large)
    # Five times the rows: about the same peak (a few batches at a time), not five times it.
    assert at_large < 1.5 * at_small, (at_small, at_large)


def test_every_imported_row_is_found_by_search(store: Store, tmp_path: Path) -> None:
    from sqlalchemy import text

    from dxfield.store.search import search_ids

    add_activity(
        store,
        ActivityInput(
            title="前からの記録", kind="meeting", date="2024-07-01", municipality="豊岡市"
        ),
    )
    import_table(store, _table(tmp_path / "t.csv", table_import.BATCH + 10), fmt="csv")
    with store.read() as conn:
        # Long terms through the index (SQLite: FTS5, which takes the rows a statement at a
        # time), short ones through the scan: both find every row, old and new.
        assert len(search_ids(conn, "意見交換")) == table_import.BATCH + 10
        assert len(search_ids(conn, "会議 2011")) == 1
        assert len(search_ids(conn, "前からの記録")) == 1
        if store.backend.name == "sqlite":
            conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"))


def test_activities_read_without_validation_are_the_validated_ones(demo_store: Store) -> None:
    from sqlalchemy import select

    from dxfield.store import revisions
    from dxfield.store.activities import activity_from_row
    from dxfield.store.records import ACTIVITIES

    add_activity(
        demo_store,
        ActivityInput(
            title='=式 𠮷 "引用"',
            kind="workshop",
            date="2024-10-21",
            date_precision="late_month",
            municipality="豊岡市",
            areas=["talent", "vision"],
            tags=["タグ", "DX"],
            participants=["豊岡市"],
            head_count=12,
            participants_text="鈴木花子",
        ),
    )
    table = revisions.table_for("activity")
    with demo_store.read() as conn:
        rows = conn.execute(select(table)).mappings().all()
    assert len(rows) > 10
    for row in rows:
        fast, checked = activity_from_row(row), ACTIVITIES.to_read(row)
        assert fast == checked and fast.model_dump() == checked.model_dump()
        assert type(fast.kind) is type(checked.kind)
        assert type(fast.participants) is type(checked.participants)


@pytest.mark.parametrize("personal", [False, True])
def test_the_reports_activities_read_from_columns_are_the_validated_ones(
    demo_store: Store, personal: bool
) -> None:
    """The report keeps of each activity what it would keep of the validated model."""
    from dxfield.report.content import Scope, _listed, _ListedActivities
    from dxfield.store.activities import get_activity

    add_activity(
        demo_store,
        ActivityInput(
            title="場所と人",
            kind="site_visit",
            date="2024-11-01",
            date_precision="month",
            municipality="豊岡市",
            location="出石",
            notes="鈴木さんのメモ",
            participants=["豊岡市"],
            head_count=3,
            participants_text="鈴木花子",
        ),
    )
    scope = Scope(as_of=dt.date(2025, 3, 31), fiscal_year=2024, include_personal=personal)
    year = _ListedActivities(demo_store, scope)
    rows = list(year)
    assert len(rows) > 10
    for initiative_id, municipality_id, row in rows:
        checked = get_activity(demo_store, row[0])
        assert (initiative_id, municipality_id) == (checked.initiative_id, checked.municipality_id)
        assert year.listed(row) == _listed(checked, personal)
    assert any(year.listed(row).notes for _, _, row in rows) is personal


def test_a_report_row_unlike_the_stores_goes_through_the_model(demo_store: Store) -> None:
    """A row written under other rules is not taken as it is: the model reads it, and refuses
    what it cannot read (as it did before the report read columns)."""
    from sqlalchemy import update

    from dxfield.report.content import Scope, _ListedActivities
    from dxfield.store import revisions

    table = revisions.table_for("activity")
    with demo_store.unit(write=True) as unit:
        first = unit.conn.execute(select(table.c.id).order_by(table.c.date).limit(1)).scalar_one()
        unit.conn.execute(update(table).where(table.c.id == first).values(kind="legacy"))
    year = _ListedActivities(demo_store, Scope(as_of=dt.date(2025, 3, 31), fiscal_year=2024))
    row = next(row for _, _, row in year if row[0] == first)
    with pytest.raises(ValidationError):
        year.listed(row)


def test_batches_are_written_in_the_order_of_the_rows(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from dxfield.store.backend import backend_for
    from dxfield.store.schema import REVISIONS

    _batches_of(monkeypatch, 50)
    path = _table(tmp_path / "t.csv", 1000)
    import_table(store, path, fmt="csv")
    with store.unit() as unit:
        order = backend_for(unit.conn).arrival_order(REVISIONS)
        stamps = list(
            unit.conn.execute(
                select(REVISIONS.c.hlc, REVISIONS.c.data)
                .where(REVISIONS.c.entity == "activity")
                .order_by(order)
            )
        )
    assert [stamp for stamp, _ in stamps] == sorted(stamp for stamp, _ in stamps)
    assert len({stamp for stamp, _ in stamps}) == 1000
    titles = [json.loads(data)["title"] for _, data in stamps]
    assert titles == [f"会議 {row}" for row in range(2, 1002)]
