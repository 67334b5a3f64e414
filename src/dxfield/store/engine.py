"""Opening the store: the file, its pragmas, its migrations, the device identity.

`Store.open(data_dir)` refuses a file written by a newer dxfield before touching it, migrates an
older one, and makes the device identity on first open. `store.read()` and `store.write()` give a
connection inside a transaction (`BEGIN` or `BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dxfield import clock
from dxfield.domain.errors import StoreError
from dxfield.paths import STORE_FILE, ensure_private_dir
from dxfield.store.migrations import SCHEMA_HEAD

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


@dataclass(frozen=True)
class DeviceInfo:
    """Who this store is: the device that signs its revisions."""

    id: str
    name: str
    role: str


def _alembic_config(connection: Connection | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "dxfield.store:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_schema_revisions() -> set[str]:
    """Every schema revision this dxfield knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_schema_revision() -> str:
    """The newest schema revision this dxfield writes."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def read_schema_revision(path: Path) -> str | None:
    """The schema revision recorded in a store file, read without writing anything."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables:  # someone else's SQLite file: never migrate it into ours
                raise _unreadable(path, sqlite3.DatabaseError("no dxfield schema"))
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from None
    finally:
        conn.close()


def _unreadable(path: Path, exc: Exception) -> StoreError:
    return StoreError(
        f"{path} はdxfieldのストアとして読めません({exc})",
        f"{path} cannot be read as a dxfield store ({exc})",
    )


class Store:
    """An open store: the engine, the file's path and this device's identity."""

    def __init__(self, path: Path, engine: Engine, device: DeviceInfo) -> None:
        self.path = path
        self.engine = engine
        self.device = device

    @classmethod
    def open(cls, data_dir: Path, *, device_name: str | None = None) -> Store:
        """Open (creating and migrating when needed) the store in `data_dir`."""
        from sqlalchemy import URL, create_engine

        from dxfield.store.sqlite_features import install_pragmas

        try:
            ensure_private_dir(data_dir)
        except OSError as exc:
            raise StoreError(
                f"データフォルダ {data_dir} を作れません({exc.strerror})",
                f"cannot create the data folder {data_dir} ({exc.strerror})",
            ) from None
        path = data_dir / STORE_FILE
        found: str | None = None
        if path.exists():
            found = read_schema_revision(path)
            if found not in (None, SCHEMA_HEAD) and found not in known_schema_revisions():
                raise StoreError(
                    f"{path} は新しいバージョンのdxfieldで作られています(スキーマ {found})。"
                    "dxfieldを更新してください。ファイルは変更していません",
                    f"{path} was written by a newer dxfield (schema {found}); "
                    "update dxfield to open it. The file was left untouched",
                )
        else:
            # Create the file owner-only before SQLite opens it.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        with contextlib.suppress(OSError):  # FAT or Windows: no POSIX modes to set
            path.chmod(0o600)
        engine = create_engine(
            # URL.create, not an f-string: a folder named "a?b" or "100%" must stay a path.
            URL.create("sqlite", database=str(path)),
            # JSON columns hold Japanese as text, not \u escapes: readable, and findable by the
            # tag and area filters.
            json_serializer=lambda value: json.dumps(value, ensure_ascii=False),
        )
        install_pragmas(engine)
        try:
            if found != SCHEMA_HEAD:
                with engine.connect().execution_options(dxfield_write=True) as conn:
                    from alembic import command

                    command.upgrade(_alembic_config(conn), "head")
                    conn.commit()
            device = _ensure_device(engine, device_name)
        except StoreError:
            engine.dispose()
            raise
        except Exception as exc:
            engine.dispose()
            raise _store_failure(path, exc) from exc
        store = cls(path, engine, device)
        from dxfield.store.reference import ensure_reference_data

        ensure_reference_data(store)
        return store

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a deferred (read) transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a `BEGIN IMMEDIATE` transaction, committed when the block ends."""
        try:
            with (
                self.engine.connect().execution_options(dxfield_write=True) as conn,
                conn.begin(),
            ):
                yield conn
        except sqlite3.OperationalError as exc:
            raise _store_failure(self.path, exc) from exc
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                raise _store_failure(self.path, exc) from exc
            raise

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _store_failure(path: Path, exc: Exception) -> StoreError:
    text = str(getattr(exc, "orig", exc))
    if ("disk" in text and "full" in text) or "SQLITE_FULL" in text:
        return StoreError(
            f"ディスクがいっぱいで {path} に書けません。保存済みの内容は失われていません",
            f"the disk is full; cannot write {path}. Nothing already saved was lost",
        )
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path} は他のdxfieldが使用中です。しばらくしてからやり直してください",
            f"{path} is busy in another dxfield; try again in a moment",
        )
    return StoreError(
        f"{path} を開けません({text})",
        f"cannot use the store {path} ({text})",
    )


def _ensure_device(engine: Engine, device_name: str | None) -> DeviceInfo:
    """Make this store's device identity on first open; rename it when a name is given."""
    from sqlalchemy import insert, select, update

    from dxfield.store.ids import new_id
    from dxfield.store.schema import Device

    table = Device.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn, conn.begin():
        row = conn.execute(select(table)).first()
    if row is not None and (not device_name or device_name == row.name):
        return DeviceInfo(row.id, row.name, row.role)
    # Only a new store or a rename takes the write lock.
    with engine.connect().execution_options(dxfield_write=True) as conn, conn.begin():
        row = conn.execute(select(table)).first()
        if row is None:
            device = DeviceInfo(new_id(), device_name or socket.gethostname() or "dxfield", "field")
            conn.execute(
                insert(table).values(
                    id=device.id,
                    name=device.name,
                    role=device.role,
                    created_at=clock.now(),
                )
            )
            return device
        if device_name and device_name != row.name:
            conn.execute(update(table).where(table.c.id == row.id).values(name=device_name))
            return DeviceInfo(row.id, device_name, row.role)
        return DeviceInfo(row.id, row.name, row.role)
