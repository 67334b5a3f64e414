"""Opening the store: file and pragmas, migrations, refusing newer or broken files."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from dxfield.domain.errors import StoreError
from dxfield.paths import STORE_FILE
from dxfield.store.engine import Store, head_schema_revision, read_schema_revision

# About a store kept in a file (its bytes, its folder, a copy of it, a process killed on it).
pytestmark = pytest.mark.sqlite_only


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pragmas_of_the_field_store(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_data_dir_and_file_are_owner_only(store: Store) -> None:
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_writes_take_the_write_lock_at_begin(store: Store) -> None:
    # A second writer must wait for BEGIN IMMEDIATE, not fail later at its first write.
    other = sqlite3.connect(store.path, timeout=0.05, isolation_level=None)
    try:
        with store.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_schema_is_at_head_and_reopening_changes_nothing(data_dir: Path) -> None:
    with Store.open(data_dir) as first:
        device = first.device
    assert read_schema_revision(data_dir / STORE_FILE) == head_schema_revision()
    with Store.open(data_dir) as again:
        assert again.device == device


def test_device_identity_is_made_once_and_can_be_renamed(data_dir: Path) -> None:
    with Store.open(data_dir) as first:
        device_id = first.device.id
    with Store.open(data_dir, device_name="兵庫県庁ハブ") as renamed:
        assert renamed.device.id == device_id
        assert renamed.device.name == "兵庫県庁ハブ"
    with Store.open(data_dir) as again:
        assert again.device.name == "兵庫県庁ハブ"


def test_a_store_from_a_newer_dxfield_is_refused_untouched(data_dir: Path) -> None:
    with Store.open(data_dir):
        pass
    path = data_dir / STORE_FILE
    raw = sqlite3.connect(path)
    raw.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    raw.commit()
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    before = _sha(path)
    with pytest.raises(StoreError) as caught:
        Store.open(data_dir)
    assert "newer dxfield" in caught.value.message("en")
    assert "新しいバージョン" in caught.value.message("ja")
    assert _sha(path) == before


def test_a_file_that_is_not_a_store_is_refused_untouched(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    path = data_dir / STORE_FILE
    path.write_bytes(b"this is not sqlite at all" * 100)
    before = _sha(path)
    with pytest.raises(StoreError, match="cannot be read"):
        Store.open(data_dir)
    assert _sha(path) == before


def test_migrations_build_exactly_the_models_schema(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dxfield.store.schema import SQLModel, include_object

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_every_synced_table_has_the_sync_columns(store: Store) -> None:
    from dxfield.store.schema import SYNCED_TABLES

    for model in SYNCED_TABLES.values():
        columns = set(model.__table__.columns.keys())  # type: ignore[attr-defined]
        assert {"id", "rev", "hlc", "device_id", "deleted", "created_at"} <= columns


def test_the_schema_head_constant_is_alembics_head() -> None:
    from dxfield.store.migrations import SCHEMA_HEAD

    assert head_schema_revision() == SCHEMA_HEAD
