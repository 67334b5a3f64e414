"""A store file that is no store is refused untouched, and dxfield never leaves one behind."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from dxfield.domain.errors import StoreError
from dxfield.paths import STORE_FILE
from dxfield.store.engine import Store
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
