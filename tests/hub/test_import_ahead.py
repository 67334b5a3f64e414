"""A table import on the hub writes some of its new activities' search entries ahead, while the
rows are still being checked (one COPY, in the writing transaction begun without the write
lock), and the rest with the write: every activity is found, a stale check takes back what it
wrote ahead, a refused row leaves nothing and tells the server's log nothing of its values."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from dxfield.domain.errors import LocalizedError
from dxfield.report import table_import
from dxfield.report.table_import import import_table
from dxfield.store import maintenance
from dxfield.store.activities import ActivityInput, add_activity, count_activities
from dxfield.store.activity_import import written_ahead
from dxfield.store.engine import Store
from dxfield.store.organizations import add_organization
from dxfield.store.postgres import WRITE_LOCK
from dxfield.store.schema import SEARCH_TEXT
from dxfield.store.search import search_ids
from tests.postgres import Cluster
from tests.report.test_table_stream import _during_check, checks_counted

ROWS = 200


@pytest.fixture
def hub(pg_database: str, tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "hub", database=pg_database, create=True) as store:
        yield store


def _table(path: Path, count: int, bad: str | None = None) -> Path:
    """A CSV of `count` activities; its last row of kind `bad`, when given."""
    lines = ["date,municipality,kind,title,notes"]
    for row in range(2, count + 2):
        kind = bad if bad is not None and row == count + 1 else "meeting"
        lines.append(f"2024-07-{row % 28 + 1:02d},豊岡市,{kind},会議 {row},住民との意見交換 {row}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def _entries(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(SEARCH_TEXT)).scalar() or 0)


def test_some_entries_go_ahead_the_rest_with_the_write_and_all_are_found(
    hub: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    real = table_import._checked

    def counted(*args: Any, ahead: Any = None, **kwargs: Any) -> Any:
        @contextlib.contextmanager
        def counting() -> Iterator[Callable[[dict[str, Any]], None]]:
            with ahead() as write:

                def each(row: dict[str, Any]) -> None:
                    sent.append(row["entity_id"])
                    write(row)

                yield each

        return real(*args, ahead=counting if ahead is not None else None, **kwargs)

    monkeypatch.setattr(table_import, "_checked", counted)
    before = _entries(hub)
    assert import_table(hub, _table(tmp_path / "t.csv", ROWS), fmt="csv").added == ROWS
    # About three in eight went ahead, each one whose id says so, and none twice.
    assert 0 < len(sent) < ROWS and all(written_ahead(i) for i in sent)
    assert len(set(sent)) == len(sent)
    assert _entries(hub) == before + ROWS
    with hub.read() as conn:
        assert len(search_ids(conn, "意見交換")) == ROWS  # the index finds both kinds
        found = {entity_id for _, entity_id in search_ids(conn, "意見交換")}
    assert set(sent) <= found


def test_a_stale_check_takes_back_what_it_wrote_ahead(
    hub: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_database: str
) -> None:
    checks = checks_counted(monkeypatch)
    before = _entries(hub)
    held: list[bool] = []
    again = table_import._checked_again

    def checked_again(*args: Any, **kwargs: Any) -> Any:
        # Taking back the savepoint let go of the lock taken in it: another writer must not
        # get it while the rows are checked again and written.
        other = create_engine(pg_database)
        try:
            with other.connect() as conn:
                taken = conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK})")
                held.append(not taken.scalar())
                conn.rollback()
        finally:
            other.dispose()
        return again(*args, **kwargs)

    monkeypatch.setattr(table_import, "_checked_again", checked_again)

    def new_organization() -> None:  # a name the rows might resolve to: the check is stale
        add_organization(hub, kind="business", name="新しい協力団体")

    counts = import_table(
        hub, _table(tmp_path / "t.csv", ROWS), fmt="csv", progress=_during_check(new_organization)
    )
    assert counts.added == ROWS and len(checks) == 2  # checked again, in the write
    assert held == [True]
    # One entry per activity: the first check's, under ids no activity has, were taken back.
    assert _entries(hub) == before + ROWS
    assert count_activities(hub) == ROWS
    with hub.read() as conn:
        assert len(search_ids(conn, "意見交換")) == ROWS


def test_a_refused_row_leaves_no_entry_and_none_of_its_values_in_the_servers_log(
    hub: Store, tmp_path: Path, pg_cluster: Cluster
) -> None:
    table_import_rows = 2 * table_import.BATCH + 10  # entries went ahead before the bad row
    before = maintenance.dump(hub)
    with pytest.raises(LocalizedError) as caught:
        import_table(
            hub, _table(tmp_path / "bad.csv", table_import_rows, bad="秘密の種類"), fmt="csv"
        )
    assert "秘密の種類" in caught.value.message()  # the person is told the value
    assert maintenance.dump(hub) == before
    log = pg_cluster.log_file.read_text(encoding="utf-8", errors="replace")
    assert "秘密の種類" not in log  # the server, which logs why a COPY failed, is not
    assert "abandoned by dxfield" in log


def test_a_save_during_the_check_is_not_kept_waiting(hub: Store, tmp_path: Path) -> None:
    # The import's writing transaction is open (entries going in) but holds no lock yet.
    saved: list[str] = []

    def save() -> None:
        saved.append(
            add_activity(
                hub,
                ActivityInput(
                    title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市"
                ),
            ).id
        )

    counts = import_table(
        hub, _table(tmp_path / "t.csv", ROWS), fmt="csv", progress=_during_check(save)
    )
    assert counts.added == ROWS and len(saved) == 1
    assert count_activities(hub) == ROWS + 1


def test_a_unit_begun_without_the_lock_writes_nothing_until_it_takes_it(hub: Store) -> None:
    with hub.unit(write=True, lock=False) as unit:
        with pytest.raises(RuntimeError):
            unit.require_write()
        unit.lock()
        unit.require_write()  # taken


def test_a_file_store_has_no_unit_without_its_lock(tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "file", database="") as store,
        pytest.raises(RuntimeError),
        store.unit(write=True, lock=False),
    ):
        pass
