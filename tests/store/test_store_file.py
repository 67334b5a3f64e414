"""A store file that is no store is refused untouched, and dxfield never leaves one behind."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from dxfield.domain.errors import StoreError
from dxfield.paths import STORE_FILE
from dxfield.store.engine import Store
from dxfield.store.light import open_light
from tests.conftest import Cli

# About a store kept in a file (its bytes, its folder, a copy of it, a process killed on it).
pytestmark = pytest.mark.sqlite_only


def _listing(folder: Path) -> dict[str, str]:
    """Every file below `folder` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _refused_untouched(data_dir: Path) -> StoreError:
    before = _listing(data_dir)
    with pytest.raises(StoreError) as caught:
        Store.open(data_dir)
    assert _listing(data_dir) == before  # the file as it was, and nothing made beside it
    return caught.value


def test_an_empty_store_file_is_refused_with_the_ways_out(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / STORE_FILE).write_bytes(b"")
    error = _refused_untouched(data_dir)
    assert "empty" in error.message("en")
    # The ways out, said without naming a front end's verb (the CLI may add its own remedy).
    assert "Restore a backup" in error.message("en")
    assert "バックアップから戻す" in error.message("ja")
    assert "move the file away" in error.message("en")
    assert (data_dir / STORE_FILE).stat().st_size == 0


def test_an_sqlite_file_holding_nothing_is_refused(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    raw = sqlite3.connect(data_dir / STORE_FILE)
    raw.execute("PRAGMA user_version = 7")  # a valid database of one page, with no tables
    raw.close()
    assert "no dxfield schema" in _refused_untouched(data_dir).message("en")


def test_a_folder_in_the_stores_place_is_refused(data_dir: Path) -> None:
    (data_dir / STORE_FILE).mkdir(parents=True)
    assert "not a regular file" in _refused_untouched(data_dir).message("en")


def test_a_new_store_is_put_in_place_only_when_whole(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dxfield.store.reference as reference

    def crash(store: Store) -> None:
        raise KeyboardInterrupt  # the laptop's lid, half way through making the store

    monkeypatch.setattr(reference, "ensure_reference_data", crash)
    with pytest.raises(KeyboardInterrupt):
        Store.open(data_dir)
    assert list(data_dir.iterdir()) == []  # no empty store left to be refused next time
    monkeypatch.undo()
    with Store.open(data_dir) as store:
        assert store.device.id
    assert sorted(p.name for p in data_dir.iterdir()) == [STORE_FILE]


def test_check_refuses_an_empty_store_in_one_line(cli: Cli, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / STORE_FILE).write_bytes(b"")
    for verb in (("check",), ("check", "--json"), ("activity", "list")):
        result = cli("--data-dir", str(data_dir), *verb)
        assert result.code == 1 and result.out == ""
        assert result.err.count("\n") == 1 and "Restore a backup" in result.err, result.err
    assert (data_dir / STORE_FILE).read_bytes() == b""


def test_a_not_sqlite_file_is_refused_untouched(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / STORE_FILE).write_bytes(b"id,title\n1,a table, not a store\n" * 20)
    error = _refused_untouched(data_dir)
    assert "not a SQLite file" in error.message()


_ANOTHER_DXFIELD = """
import sys
from pathlib import Path
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
with Store.open(Path(sys.argv[1])) as store:
    add_activity(store, ActivityInput(title=sys.argv[2], kind="meeting", date="2024-07-01",
                                      municipality="豊岡市"))
"""


def test_another_dxfield_closing_the_store_never_takes_the_wal_from_this_one(
    data_dir: Path,
) -> None:
    """The app opens its light connections, then the whole store at its first save; another
    dxfield (an import on the command line) writes and closes meanwhile. What the app saves
    after that lands in the store, where every process sees it.

    Opening the whole store used to read the file's first bytes with open(): closing that
    handle let go of the app's SQLite locks (POSIX locks are the process's), the other
    dxfield closing then took the WAL for its own to delete, and the app's later saves went to
    a deleted file, lost, its reads finding the file "malformed"."""
    import subprocess
    import sys

    from dxfield.store.activities import ActivityInput, add_activity, count_activities

    Store.open(data_dir).close()
    fast = open_light(data_dir)  # the app's start: its reads hold SQLite's locks
    assert fast is not None
    try:
        assert fast.count_activities() == 0
        with Store.open(data_dir) as store:  # the app's first save
            count_activities(store)

            def another(title: str) -> None:
                subprocess.run(
                    [sys.executable, "-c", _ANOTHER_DXFIELD, str(data_dir), title], check=True
                )

            another("別のプロセス 1")
            assert (data_dir / f"{STORE_FILE}-wal").exists(), "the WAL was taken away"
            add_activity(
                store,
                ActivityInput(
                    title="アプリで", kind="meeting", date="2024-07-01", municipality="豊岡市"
                ),
            )
            another("別のプロセス 2")
            assert count_activities(store) == 3
    finally:
        fast.close()
    conn = sqlite3.connect(data_dir / STORE_FILE)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        titles = {row[0] for row in conn.execute("SELECT title FROM activity")}
    finally:
        conn.close()
    assert titles == {"別のプロセス 1", "アプリで", "別のプロセス 2"}
