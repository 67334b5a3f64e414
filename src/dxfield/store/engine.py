"""Opening the store: the file, its pragmas, its migrations, the device identity.

`Store.open(data_dir)` refuses a file written by a newer dxfield before touching it, and a file
that is no store (empty, not SQLite, someone else's) with the ways out (restore a backup, or move
it away); it migrates an older one, and makes a new store whole under a temporary name before
putting it in place, device identity included. `store.read()` and `store.write()` give a
connection inside a transaction (`BEGIN` or `BEGIN IMMEDIATE`). A hub on PostgreSQL opens
through `store/hub.py` into the same `Store`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dxfield import clock
from dxfield.domain.errors import StoreError
from dxfield.i18n import N_, Words, problems, words
from dxfield.paths import STORE_FILE, ensure_private_dir
from dxfield.store.json_text import JSON_TEXT as JSON_TEXT  # re-exported (the hub's engine)
from dxfield.store.migrations import SCHEMA_HEAD

PROBLEMS = problems(
    {
        "store.unreadable": N_(
            "{path} cannot be read as a dxfield store ({reason}); it was left as it is. "
            "Restore a backup, or move the file away to start afresh"
        ),
        "store.cannot_create_folder": N_("cannot create the data folder {path} ({reason})"),
        "store.newer": N_(
            "{path} was written by a newer dxfield (schema {schema}); update dxfield to open "
            "it. The file was left untouched"
        ),
        "store.name_too_long": N_("is too long (at most {limit} characters)"),
        "store.disk_full": N_(
            "the disk is full; cannot write {path}. Nothing already saved was lost"
        ),
        "store.busy": N_("{path} is busy in another dxfield; try again in a moment"),
        "store.unusable": N_("cannot use the store {path} ({reason})"),
        "hub.folder_is_a_device": N_(
            "the data folder {folder} already belongs to a device of its own (its store and "
            "keys); work on the hub from another folder"
        ),
        "hub.not_enrolled": N_(
            "{device} ({id}) is not enrolled with this hub, so it cannot change it; ask the "
            "hub's keeper to trust this device's card"
        ),
    }
)

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

    from dxfield.store.authorship import Signer
    from dxfield.store.backend import Backend
    from dxfield.store.blobs import Kept
    from dxfield.store.unit import Unit


@dataclass(frozen=True)
class DeviceInfo:
    """Who this store is: the device that signs its revisions."""

    id: str
    name: str
    role: str


def _alembic_config(connection: Connection | None = None) -> Config:
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
            # Someone else's SQLite file, or one holding nothing (dxfield makes a new store whole
            # under another name, so its own never look like this): never migrate into it.
            raise _unreadable(path, words(N_("no dxfield schema")))
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from None
    finally:
        conn.close()


def _unreadable(path: Path, reason: Exception | str | Words) -> StoreError:
    """A store file that is not one: left as it is, with the two ways out."""
    shown = reason if isinstance(reason, Words) else str(reason)
    return StoreError("store.unreadable", path=str(path), reason=shown)


SQLITE_MAGIC = b"SQLite format 3\x00"


def refuse_unusable_store_file(path: Path) -> None:
    """Refuse a store file that cannot be a store (not a regular file, empty, not SQLite),
    before SQLite opens it: SQLite would take an empty file for a new database, and dxfield
    would then make a fresh store under a new device id over the old one's place."""
    try:
        info = path.stat()
    except OSError as exc:  # a link to nothing, a file that may not be read
        raise _unreadable(path, exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(info.st_mode):
        raise _unreadable(path, words(N_("not a regular file")))
    if info.st_size == 0:
        raise _unreadable(path, words(N_("it is empty: 0 bytes")))
    # Whether it is SQLite's is asked of SQLite, never read with open(): POSIX locks are the
    # process's, and closing any other handle on the file lets go of every lock this process's
    # connections hold on it (SQLite's own handles wait for them). The app opens the whole
    # store while its light connections are open; another dxfield closing the store would then
    # find no one else there and take the WAL away from under the app, whose saves from then on
    # went to a deleted file (lost), and whose reads found the file "malformed". Immutable: the
    # header is all that is read, and nothing is written (no -wal or -shm is made beside it).
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
            raise _unreadable(path, words(N_("not a SQLite file"))) from None
        # Anything else is for the store's own opening to say: it reads the file with its WAL.
    finally:
        conn.close()


class Store:
    """An open store: the engine, where it is, this device's identity.

    A field laptop's store is the SQLite file `path` in its data folder. A prefecture's hub may
    instead live in PostgreSQL (`store/hub.py`): `path` is then None, `location` the database's
    address (no password), and `data_dir` still the person's own folder (their keys, identity).
    """

    def __init__(
        self,
        path: Path | None,
        engine: Engine,
        device: DeviceInfo,
        *,
        data_dir: Path | None = None,
        location: str | None = None,
        hub_id: str | None = None,
        enrolled: bool = True,
    ) -> None:
        self.path = path
        self.engine = engine
        self.device = device
        folder = data_dir if data_dir is not None else path.parent if path is not None else None
        if folder is None:  # pragma: no cover - a programming error
            raise ValueError("a store needs its data folder")
        self.data_dir: Path = folder
        self.location: str = location if location is not None else str(path)
        self.hub_id = hub_id
        """On a PostgreSQL hub: the hub's own device (whose keys sign its bundles)."""
        self.enrolled = enrolled
        """Whether this person may write (on a hub: the hub's account, or a trusted device)."""
        self._signer: Signer | None = None
        self._signer_stamp: tuple[int, int, int] | None = None

    def signer(self) -> Signer:
        """This device's signing key, which signs every revision it writes: read from the data
        folder's key file (made there on first need) once per Store, not per write. A refused
        key file (another device's, open to others) is one line, and nothing is written."""
        from dxfield.store.key_file import key_path
        from dxfield.store.key_rotation import finish_rotation, next_key_path

        if os.path.lexists(next_key_path(self.data_dir)):
            # Another process rotated the hub's key and has committed (this write holds the
            # lock now), but has not put the new key file in place yet, or was killed first.
            finish_rotation(self)
        try:  # a key file replaced meanwhile (the hub's key rotated by another process)
            found = key_path(self.data_dir).stat()
            stamp: tuple[int, int, int] | None = (found.st_ino, found.st_mtime_ns, found.st_size)
        except OSError:
            stamp = None
        if self._signer is None or stamp != self._signer_stamp:
            from dxfield.store.authorship import Signer
            from dxfield.store.key_file import device_keys_in

            self._signer = Signer(device_keys_in(self.data_dir, self.device.id).signing)
            self._signer_stamp = stamp
        return self._signer

    def forget_keys(self) -> None:
        """Read the key file again at the next write (its keys were just replaced)."""
        self._signer = None

    @property
    def shared(self) -> bool:
        """Whether this store is a hub database shared by a team (PostgreSQL)."""
        return self.path is None

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        device_name: str | None = None,
        database: str | None = None,
        create: bool = False,
    ) -> Store:
        """Open the store of `data_dir`: the hub database `database` (or `DXFIELD_DATABASE_URL`)
        when one is named, else the SQLite file in the folder (`open_file`). A hub database is
        given its schema only when `create` (the `init` of a hub); a file always."""
        url = database_for(data_dir, database)
        if url:
            from dxfield.store.hub import open_hub

            return open_hub(url, data_dir, device_name=device_name, create=create)
        return cls.open_file(data_dir, device_name=device_name)

    @classmethod
    def open_file(cls, data_dir: Path, *, device_name: str | None = None) -> Store:
        """Open (creating and migrating when needed) the SQLite store in `data_dir`.

        A store file that is there but is no store (empty, not SQLite, someone else's) is
        refused and left as it is; a new store is made whole under a temporary name and only
        then put in place, so no crash can leave an empty store file behind."""
        if device_name is not None:
            device_name = device_name_of(device_name)
        try:
            ensure_private_dir(data_dir)
        except OSError as exc:
            raise StoreError(
                "store.cannot_create_folder", path=str(data_dir), reason=exc.strerror
            ) from None
        path = data_dir / STORE_FILE
        if not os.path.lexists(path):
            _create_store_file(path, device_name)
        refuse_unusable_store_file(path)
        found = read_schema_revision(path)
        if found not in (None, SCHEMA_HEAD) and found not in known_schema_revisions():
            raise StoreError("store.newer", path=str(path), schema=found)
        with contextlib.suppress(OSError):  # FAT or Windows: no POSIX modes to set
            path.chmod(0o600)
        return cls._open_file(path, found, device_name)

    @classmethod
    def _open_file(cls, path: Path, found: str | None, device_name: str | None) -> Store:
        """The store in the file `path`, migrated from schema `found` when it is not the head."""
        from dxfield.store.files import note_open_store

        note_open_store(path)  # never read as a file a person names (store/files.py)
        engine = _engine(path)
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
        from dxfield.store.authorship import upgrade
        from dxfield.store.key_rotation import finish_rotation
        from dxfield.store.reference import ensure_reference_data

        try:
            finish_rotation(store)  # before anything signs: the keys the store's chain names
            ensure_reference_data(store)
            upgrade(store)
        except BaseException:
            store.close()
            raise
        return store

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a deferred (read) transaction. On a hub, a server gone away (or any
        failure of the server's) is one line in the user's language, as when writing."""
        if not self.shared:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        from sqlalchemy.exc import OperationalError

        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except OperationalError as exc:
            raise _store_failure(self.location, exc, shared=True) from exc

    @contextlib.contextmanager
    def write(
        self, waiting: Callable[[], object] | None = None, *, lock: bool = True
    ) -> Iterator[Connection]:
        """A connection in a transaction holding the write lock (SQLite's `BEGIN IMMEDIATE`,
        the hub's advisory lock), committed when the block ends.

        With `waiting`, a writer that must not give up (a save in the app): should another
        hold the lock (a long import writing), `waiting()` is called once and the lock waited
        for as long as it takes, where otherwise the store is "busy" after BUSY_TIMEOUT_MS.
        With `lock` False (only where the backend `writes_ahead`), the transaction begins
        without the lock, for the caller to take (`Backend.take_write_lock`)."""
        if not self.enrolled:
            raise StoreError("hub.not_enrolled", device=self.device.name, id=self.device.id)
        if not lock and not self.backend.writes_ahead:
            raise RuntimeError(f"a {self.backend.name} transaction that writes holds the lock")
        from dxfield.store.waits import waiting_for

        waiting = waiting_for(waiting)  # an app form's save waits too (`saving_waits`)
        try:
            with (
                self.engine.connect().execution_options(
                    dxfield_write=True, dxfield_waiting=waiting, dxfield_lock=lock
                ) as conn,
                conn.begin(),
            ):
                yield conn
        except sqlite3.OperationalError as exc:
            raise _store_failure(self.location, exc) from exc
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                raise _store_failure(self.location, exc, shared=self.shared) from exc
            raise

    @property
    def blobs(self) -> Kept:
        """Where this store keeps its attachments' content (store/blobs.py): a hub's database
        when it is shared, else its data folder."""
        from dxfield.store.blobs import kept_in

        return kept_in(self)

    @property
    def backend(self) -> Backend:
        """What is particular to this store's database engine (store/backend.py)."""
        from dxfield.store.backend import backend_for

        return backend_for(self.engine)

    @contextlib.contextmanager
    def unit(
        self, *, write: bool = True, waiting: Callable[[], object] | None = None, lock: bool = True
    ) -> Iterator[Unit]:
        """The unit of work of one user action (store/unit.py): a `BEGIN IMMEDIATE`
        transaction when it writes, a deferred one when it only reads. `waiting` and `lock`:
        as `write` (a unit begun without the lock writes nothing through the services until
        `Unit.lock`)."""
        from dxfield.store.unit import Unit

        with self.write(waiting, lock=lock) if write else self.read() as conn:
            unit = Unit(conn, self, write, locked=lock or not write)
            yield unit
        for then in unit.after_commit:
            then()

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def database_for(data_dir: Path, database: str | None) -> str | None:
    """The hub database a store of `data_dir` lives in: `database` when given, else
    `DXFIELD_DATABASE_URL`; None for the SQLite file in the folder."""
    from dxfield.paths import ENV_DATABASE

    if database is not None:  # "" asks for the file even where the environment names a hub
        return database or None
    return os.environ.get(ENV_DATABASE) or None


def _engine(path: Path) -> Engine:
    from sqlalchemy import URL, create_engine

    from dxfield.store.backend import SQLITE

    engine = create_engine(
        # URL.create, not an f-string: a folder named "a?b" or "100%" must stay a path.
        URL.create("sqlite", database=str(path)),
        json_serializer=JSON_TEXT,
    )
    SQLITE.install(engine)
    return engine


MAX_DEVICE_NAME = 100


def device_name_of(text: str) -> str:
    """A device's name as typed, checked: one line, no control or bidi characters, not empty,
    at most MAX_DEVICE_NAME characters (it travels on cards and shows on every screen)."""
    from dxfield.domain.records import clean_text

    name = clean_text(text, "device_name", required=True)
    if len(name) > MAX_DEVICE_NAME:
        raise StoreError("store.name_too_long", field="device_name", limit=MAX_DEVICE_NAME)
    return name


def _create_store_file(path: Path, device_name: str | None) -> None:
    """Make a new store at `path`: built whole (schema, device, reference data) in an
    owner-only temporary file beside it, taken out of WAL so it is one file, fsynced, then
    linked into place. If another dxfield made one there meanwhile, theirs is kept."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    os.close(fd)
    temp = Path(name)
    try:
        Store._open_file(temp, None, device_name).close()
        raw = sqlite3.connect(temp)
        try:
            raw.execute("PRAGMA journal_mode = DELETE")  # folds the WAL into the file
        finally:
            raw.close()
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        _publish(temp, path)
    except StoreError:
        raise
    except (OSError, sqlite3.Error) as exc:
        raise _store_failure(path, exc) from None
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(f"{temp}{suffix}")


def _publish(temp: Path, path: Path) -> None:
    """Give the finished file `temp` the name `path` unless something already has it."""
    try:
        os.link(temp, path)  # fails when `path` exists: never replaces
    except FileExistsError:
        return
    except OSError:  # no hard links here (FAT, some network shares)
        if os.path.lexists(path):
            return
        try:
            os.rename(temp, path)  # Windows never replaces; elsewhere checked just above
        except FileExistsError:
            return


def _store_failure(path: Path | str, exc: Exception, *, shared: bool = False) -> StoreError:
    text = str(getattr(exc, "orig", exc))
    if shared:
        from dxfield.store.hub import hub_failure

        return hub_failure(str(path), exc)
    if ("disk" in text and "full" in text) or "SQLITE_FULL" in text:
        return StoreError("store.disk_full", path=str(path))
    if "locked" in text or "busy" in text:
        return StoreError("store.busy", path=str(path))
    return StoreError("store.unusable", path=str(path), reason=text)


def _ensure_device(engine: Engine, device_name: str | None) -> DeviceInfo:
    """Make this store's device identity on first open; rename it when a name is given."""
    from sqlalchemy import insert, select, update

    from dxfield.store.ids import new_id
    from dxfield.store.schema import DEVICES

    table = DEVICES
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
