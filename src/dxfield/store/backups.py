"""Backups: one owner-only file holding a consistent copy of the store and the device's keys,
and the way back from it.

`backup` makes the copy with `VACUUM INTO` a private temporary folder beside the target (the live
file is never copied while open), adds the device's private keys to the copy's local state, so
that a backup stays one file (already owner-only), fsyncs it and renames it into place. The
content of attached files (store/blobs.py) goes into the same file: a table of the copy holds
every blob an attachment record of the copy names (live or deleted, so that a restored deletion
finds its bytes), each streamed in and checked against its SHA-256 as it is read.

`restore_backup` puts a backup back into a data folder. It copies the file through SQLite's
backup API into a temporary file there, checks that it is a sound dxfield store this dxfield can
open and that the keys it carries (if any) are its device's, takes the keys out of it, and only
then puts both in place; the blobs it carries are checked against their SHA-256, staged beside
their place and put there with the store (a damaged one refuses the restore). Nothing there is lost: a store already there (and a key file that is
not the backup's) is moved aside under a timestamped name, and a readable store is replaced only
when asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dxfield import clock
from dxfield.domain.errors import LocalizedError, StoreError
from dxfield.i18n import N_, Words, gettext, problems, quote, words
from dxfield.paths import STORE_FILE, ensure_private_dir
from dxfield.store import blobs
from dxfield.store.engine import (
    SQLITE_MAGIC,
    Store,
    known_schema_revisions,
    read_schema_revision,
    refuse_unusable_store_file,
)
from dxfield.store.files import STORE_SIDE_SUFFIXES, existing_folder, guard_output
from dxfield.store.key_file import (
    KeyFileData,
    key_path,
    parse_key_text,
    read_key_file,
    write_key_file,
    wrong_device,
)
from dxfield.store.schema import DEVICES, LOCAL_STATE

BACKUP_KEYS = "backup.device-keys"
"""The local-state row of a backup that holds the device's keys (never in a live store)."""
BACKUP_BLOBS = "backup_blob"
"""The table of a backup that holds the attached files' content (never in a live store)."""
_PIECE = 1 << 20
ASIDE = "before-restore"
_device = DEVICES.name
_state = LOCAL_STATE.name


@dataclass(frozen=True)
class BackupResult:
    """What `backup` wrote."""

    path: Path
    bytes: int
    keys: bool
    """Whether the device's keys are in it."""
    keys_problem: LocalizedError | None
    """Why they are not, when there are keys that could not be saved."""
    blobs: int = 0
    """How many attached files' contents are in it."""
    blobs_left_out: list[str] = field(default_factory=list)
    """SHA-256 of contents an attachment names that could not be saved: not in the data folder,
    or damaged there (`dxfield check` says which)."""


@dataclass(frozen=True)
class RestoreResult:
    """What `restore_backup` did."""

    path: Path
    device_id: str
    device_name: str
    keys: str
    """"restored" (from the backup), "kept" (the key file there is the device's) or "none"."""
    moved_aside: list[Path]
    blobs: int = 0
    """How many attached files' contents the backup brought back (or that were there already)."""


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _keys_for_backup(store: Store) -> tuple[KeyFileData | None, LocalizedError | None]:
    """The device's keys to save, or why they cannot be (None, None: none made yet)."""
    path = key_path(store.data_dir)
    try:
        keys = read_key_file(path)
    except LocalizedError as exc:
        return None, exc
    problem = None if keys is None else wrong_device(path, keys, store.device.id)
    if problem is not None:
        return None, problem
    return keys, None


def _put_keys(copy: Path, keys: KeyFileData | None) -> None:
    raw = sqlite3.connect(copy)
    try:
        with raw:
            raw.execute(f"DELETE FROM {_state} WHERE key = ?", (BACKUP_KEYS,))
            if keys is not None:
                raw.execute(
                    f"INSERT INTO {_state} (key, value) VALUES (?, ?)", (BACKUP_KEYS, keys.text())
                )
        raw.execute("PRAGMA journal_mode = DELETE")  # one file, whatever the copy's mode
    finally:
        raw.close()


def _put_blobs(copy: Path, data_dir: Path) -> tuple[int, list[str]]:
    """Stream every blob an attachment of the copy names into the copy's `BACKUP_BLOBS`
    table, each checked against its SHA-256 as it is read; (how many, those left out)."""
    attachment = "attachment"
    raw = sqlite3.connect(copy)
    saved, left_out = 0, []
    try:
        names = [str(r[0]) for r in raw.execute(f"SELECT DISTINCT sha256 FROM {attachment}")]
        with raw:
            raw.execute(
                f"CREATE TABLE {BACKUP_BLOBS} (sha256 TEXT PRIMARY KEY, content BLOB NOT NULL)"
            )
        for sha256 in sorted(names):
            try:
                source = blobs.open_blob(data_dir, sha256)
            except (OSError, ValueError):
                left_out.append(sha256)
                continue
            with source, raw:
                size = os.fstat(source.fileno()).st_size
                row = raw.execute(
                    f"INSERT INTO {BACKUP_BLOBS} (sha256, content) VALUES (?, zeroblob(?))",
                    (sha256, size),
                ).lastrowid
                assert row is not None
                digest = hashlib.sha256()
                with raw.blobopen(BACKUP_BLOBS, "content", row) as sink:
                    while piece := source.read(min(_PIECE, size - sink.tell())):
                        digest.update(piece)
                        sink.write(piece)
                if digest.hexdigest() == sha256:
                    saved += 1
                else:  # damaged here: left out, as `check` reports it
                    raw.execute(f"DELETE FROM {BACKUP_BLOBS} WHERE rowid = ?", (row,))
                    left_out.append(sha256)
        raw.execute("PRAGMA journal_mode = DELETE")
    finally:
        raw.close()
    return saved, left_out


def refuse_on_hub(data_dir: Path, database: str | None) -> None:
    """A hub in PostgreSQL is backed up and restored by the server's own tools, not here."""
    from dxfield.store.engine import database_for

    if database_for(data_dir, database):
        raise LocalizedError("backup.on_hub", folder=str(data_dir))


def backup(store: Store, out: Path) -> BackupResult:
    """A consistent copy of the store and the device's keys in one owner-only file: `VACUUM
    INTO` a private temporary folder, the keys added, fsync, then a rename into place."""
    refuse_on_hub(store.data_dir, store.location if store.shared else "")
    target = guard_output(store.data_dir, out)
    folder = existing_folder(target)
    keys, problem = _keys_for_backup(store)
    try:
        # A private folder beside the target: the copy is never readable by others, even briefly,
        # and the rename stays on one filesystem.
        scratch = Path(tempfile.mkdtemp(dir=folder, prefix=f".{target.name}."))
    except OSError as exc:
        raise LocalizedError("backup.cannot_write", path=str(out), reason=exc.strerror) from None
    tmp = scratch / "backup.sqlite3"
    raw = store.engine.raw_connection()
    try:
        raw.execute("VACUUM INTO ?", (str(tmp),))
        raw.close()
        _put_keys(tmp, keys)
        saved, left_out = _put_blobs(tmp, store.data_dir)
        tmp.chmod(0o600)
        _fsync(tmp)
        os.replace(tmp, target)
    except Exception as exc:
        raise LocalizedError("backup.failed", reason=str(exc)) from None
    finally:
        raw.close()
        for leftover in scratch.iterdir() if scratch.is_dir() else ():
            with contextlib.suppress(OSError):
                leftover.unlink()
        with contextlib.suppress(OSError):
            scratch.rmdir()
    return BackupResult(target, target.stat().st_size, keys is not None, problem, saved, left_out)


# -- restore -------------------------------------------------------------------------------------


PROBLEMS = problems(
    {
        "backup.cannot_write": N_("cannot write {path} ({reason})"),
        "backup.on_hub": N_(
            "a hub in PostgreSQL is backed up by the server's own tools: pg_dump --format=custom "
            "(and pg_restore to bring it back), or the server's base backups; keep a copy of the "
            "hub account's data folder {folder} with it (its keys and its identity on the hub)"
        ),
        "backup.failed": N_("the backup failed ({reason}); the store was not changed"),
        "backup.unreadable": N_(
            "{path} cannot be read as a dxfield backup ({reason}); nothing was changed"
        ),
        "backup.no_free_name": N_("no free name to move the old file to"),
        "backup.store_present": N_(
            "{folder} already holds a store; it is replaced by the backup only when asked "
            "(the store there is then kept as {aside})"
        ),
        "backup.cannot_write_in": N_("cannot write in {folder} ({reason})"),
        "backup.restore_failed": N_("the restore failed ({reason}: {path})"),
    }
)


def _not_a_backup(source: Path, reason: str | Words) -> StoreError:
    return StoreError("backup.unreadable", path=quote(str(source)), reason=reason)


def _damaged(integrity: str) -> Words:
    return Words(lambda lang: gettext("it is damaged: {problems}", lang).format(problems=integrity))


def _check_source(source: Path) -> None:
    """A regular file that begins like SQLite (checked before SQLite opens it)."""
    try:
        info = source.stat()
    except FileNotFoundError:
        raise _not_a_backup(source, words(N_("no such file"))) from None
    except OSError as exc:
        raise _not_a_backup(source, str(exc.strerror)) from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_a_backup(source, words(N_("not a regular file")))
    try:
        with open(source, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise _not_a_backup(source, str(exc.strerror)) from None
    if head != SQLITE_MAGIC:
        raise _not_a_backup(source, words(N_("not a SQLite file")))


def _copy(source: Path, temp: Path) -> None:
    """Copy the backup page by page with SQLite's backup API (a consistent copy, read-only)."""
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _not_a_backup(source, str(exc)) from None
    try:
        dst = sqlite3.connect(temp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise _not_a_backup(source, str(exc)) from None
    finally:
        src.close()


def _take_keys(source: Path, temp: Path) -> tuple[str, KeyFileData | None]:
    """Check the copy (sound, a dxfield store this dxfield opens, one device, keys its own),
    take its keys out of it and make it one file: (device id, keys or None)."""
    try:
        found = read_schema_revision(temp)
    except StoreError:
        raise _not_a_backup(source, words(N_("not a dxfield store"))) from None
    if found not in known_schema_revisions():
        raise _not_a_backup(source, words(N_("it was written by a newer dxfield; update dxfield")))
    raw = sqlite3.connect(temp)
    try:
        integrity = "; ".join(r[0] for r in raw.execute("PRAGMA integrity_check"))
        if integrity != "ok":
            raise _not_a_backup(source, _damaged(integrity))
        devices = raw.execute(f"SELECT id FROM {_device}").fetchall()
        if len(devices) != 1:
            raise _not_a_backup(source, words(N_("it names no device")))
        device_id = str(devices[0][0])
        row = raw.execute(f"SELECT value FROM {_state} WHERE key = ?", (BACKUP_KEYS,)).fetchone()
        keys = parse_key_text(str(row[0]), f"{source} ({BACKUP_KEYS})") if row else None
        if keys is not None and keys.device_id != device_id:
            raise _not_a_backup(source, words(N_("its keys are not its device's")))
        with raw:
            raw.execute(f"DELETE FROM {_state} WHERE key = ?", (BACKUP_KEYS,))
        raw.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        raise _not_a_backup(source, str(exc)) from None
    finally:
        raw.close()
    return device_id, keys


def _is_store(path: Path) -> bool:
    """Whether `path` is a dxfield store (this dxfield's or a newer one's). Read as an immutable
    file: nothing is written, not even the -wal and -shm a reader of a WAL store leaves."""
    try:
        refuse_unusable_store_file(path)
        raw = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    except (StoreError, sqlite3.Error):
        return False
    try:
        found = raw.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
    except sqlite3.Error:
        return False
    finally:
        raw.close()
    return found is not None


def _free_stem(path: Path, stamp: str, suffixes: tuple[str, ...]) -> str:
    """`<name>.before-restore-<stamp>` (then -2, -3...) such that no `stem + suffix` exists."""
    for n in range(1, 1000):
        stem = f"{path.name}.{ASIDE}-{stamp}" + (f"-{n}" if n > 1 else "")
        if not any(os.path.lexists(path.with_name(stem + s)) for s in suffixes):
            return stem
    raise LocalizedError("backup.no_free_name")


def _move_aside(path: Path, stamp: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Rename `path` and its side files to one timestamped name, keeping them together (SQLite
    finds `X-wal` beside `X`); the paths they have now. An empty -wal or -journal and the -shm
    (an index SQLite rebuilds from the -wal) hold nothing and are removed instead."""
    stem = _free_stem(path, stamp, suffixes)
    moved = []
    for suffix in suffixes:
        old = path.with_name(path.name + suffix)
        if not os.path.lexists(old):
            continue
        if suffix == "-shm" or (suffix and old.is_file() and old.stat().st_size == 0):
            old.unlink()
            continue
        new = path.with_name(stem + suffix)
        os.rename(old, new)
        moved.append(new)
    return moved


def restore_backup(data_dir: Path, source: Path, *, replace: bool = False) -> RestoreResult:
    """Put the store and the device's keys of the backup `source` into `data_dir`.

    A readable store already there is replaced only with `replace`; it, or an unreadable one,
    is moved aside under a timestamped name with its -wal and -shm, never deleted. A key file
    there that is not the backup's device's is moved aside the same way. An older backup
    without keys keeps a key file that is its device's; otherwise new keys are made on first
    need (and other devices must trust the new card)."""
    data_dir = data_dir.expanduser()
    _check_source(source)
    path = data_dir / STORE_FILE
    present = os.path.lexists(path)
    if present and not replace and _is_store(path):
        raise LocalizedError(
            "backup.store_present", folder=str(data_dir), aside=f"{STORE_FILE}.{ASIDE}-<time>"
        )
    try:
        ensure_private_dir(data_dir)
        fd, name = tempfile.mkstemp(dir=data_dir, prefix=f".{STORE_FILE}.", suffix=".restoring")
        os.close(fd)
    except OSError as exc:
        raise LocalizedError(
            "backup.cannot_write_in", folder=str(data_dir), reason=exc.strerror
        ) from None
    temp = Path(name)
    staging = blobs.Staging(data_dir)
    try:
        _copy(source, temp)
        device_id, keys = _take_keys(source, temp)
        brought = _take_blobs(source, temp, staging)
        _fsync(temp)
        staging.keep()  # the content first: no record of the store is without its bytes
        result = _put_in_place(data_dir, temp, device_id, keys, present)
    except OSError as exc:
        raise LocalizedError(
            "backup.restore_failed", reason=exc.strerror, path=str(exc.filename)
        ) from None
    finally:
        staging.discard()
        for suffix in STORE_SIDE_SUFFIXES:
            with contextlib.suppress(OSError):
                os.unlink(f"{temp}{suffix}")
    keys_state, moved = result
    with Store.open_file(data_dir) as store:  # migrates an older backup now, proves it opens
        return RestoreResult(path, device_id, store.device.name, keys_state, moved, brought)


def _take_blobs(source: Path, temp: Path, staging: blobs.Staging) -> int:
    """Stage the blobs the copy carries (each checked against its SHA-256: a damaged one
    refuses the backup), then drop their table from the copy and shrink it; how many."""
    raw = sqlite3.connect(temp)
    try:
        if not raw.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (BACKUP_BLOBS,)
        ).fetchone():
            return 0  # a backup from before attachments
        rows = raw.execute(f"SELECT rowid, sha256 FROM {BACKUP_BLOBS}").fetchall()
        for row, sha256 in rows:
            try:
                blobs.blob_path(staging.data_dir, str(sha256))
            except ValueError:
                raise _not_a_backup(source, words(N_("it is damaged"))) from None
            digest = hashlib.sha256()
            staging.add(str(sha256), _read_blob(raw, row, digest))
            if digest.hexdigest() != sha256:
                raise _not_a_backup(source, words(N_("it is damaged")))
        with raw:
            raw.execute(f"DROP TABLE {BACKUP_BLOBS}")
        raw.execute("VACUUM")
    except sqlite3.Error as exc:
        raise _not_a_backup(source, str(exc)) from None
    finally:
        raw.close()
    return len(rows)


def _read_blob(raw: sqlite3.Connection, row: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """A backup's blob, piece by piece, hashed as it is read."""
    with raw.blobopen(BACKUP_BLOBS, "content", row, readonly=True) as blob:
        while piece := blob.read(_PIECE):
            digest.update(piece)
            yield piece


def _put_in_place(
    data_dir: Path, temp: Path, device_id: str, keys: KeyFileData | None, present: bool
) -> tuple[str, list[Path]]:
    """Move what is there aside, then the keys, then the store into place."""
    stamp = clock.file_stamp()
    path = data_dir / STORE_FILE
    moved = _move_aside(path, stamp, STORE_SIDE_SUFFIXES) if present else []
    key_file = key_path(data_dir)
    try:
        there = read_key_file(key_file)
    except LocalizedError:
        there = None  # unreadable or open to others: moved aside below, never used
    if keys is not None and there == keys:
        state = "restored"
    elif keys is None and there is not None and there.device_id == device_id:
        state = "kept"
    else:
        if os.path.lexists(key_file):
            moved += _move_aside(key_file, stamp, ("",))
        if keys is not None:
            write_key_file(key_file, keys)
        state = "restored" if keys is not None else "none"
    os.replace(temp, path)
    with contextlib.suppress(OSError):  # FAT or Windows: no POSIX modes to set
        path.chmod(0o600)
    return state, moved
