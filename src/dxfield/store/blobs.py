"""Attachments' bytes, kept by their SHA-256 in the data folder (`blobs/ab/abcdef…`).

A bundle's blob members (docs/bundle-format.md) arrive here: each is written to a temporary file
beside its place while the bundle is read (its hash checked as it ends), and put in place only
once the whole bundle has been checked and its revisions are about to be kept; a refused bundle
leaves nothing. The same bytes are kept once, whoever sends them again.

A file attached here (store/attachments.py) arrives through `put`: its bytes are hashed as they
are written to a temporary file in `blobs/`, synced to the disk, and renamed into place; a full
disk or an error removes the temporary file, and one left by a killed process (its name starts
with a dot and ends in `.tmp`) is reported by `check` and removed by `prune`.

That is a laptop's store. A hub on PostgreSQL is shared by a team, each person working from a
data folder of their own, so its blobs cannot live in any one folder: they live in its database
(`TableBlobs`: the `blob` and `blob_chunk` tables, 1 MiB a chunk), written in the transaction
that writes the records naming them and deleted in the one that purges them. `Kept` is what both
offer; `kept_in(store)` gives a store's (`Store.blobs`). Thumbnails stay per person, in the data
folder, either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, Self

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from dxfield.store.engine import Store
    from dxfield.store.unit import Unit

FOLDER = "blobs"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def blob_path(data_dir: Path, sha256: str) -> Path:
    """Where the blob `sha256` (64 lower-case hex digits) is kept."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError("not a SHA-256 in hex")
    return data_dir / FOLDER / sha256[:2] / sha256


def has_blob(data_dir: Path, sha256: str) -> bool:
    """Whether this data folder keeps the blob `sha256`."""
    return blob_path(data_dir, sha256).is_file()


THUMBS = "thumbs"
"""The folder of the app's thumbnails (tui/thumbnails.py makes them): one per blob, named by
its SHA-256, which goes wherever its blob goes (`remove_blob`, `prune`)."""


def thumbnail_path(data_dir: Path, sha256: str) -> Path:
    """Where the thumbnail of the blob `sha256` is kept (`<data>/thumbs/<sha256>.jpg`)."""
    blob_path(data_dir, sha256)  # checks the hash's form
    return data_dir / THUMBS / f"{sha256}.jpg"


def remove_blob(data_dir: Path, sha256: str) -> bool:
    """Delete the blob `sha256` and its thumbnail; whether there was a blob. A file that cannot
    be removed now (held open elsewhere) is left for `check` to name."""
    try:
        path = blob_path(data_dir, sha256)
    except ValueError:
        return False
    with contextlib.suppress(OSError):
        thumbnail_path(data_dir, sha256).unlink()
    with contextlib.suppress(OSError):
        os.unlink(path)
        return True
    return False


def stray_thumbnails(data_dir: Path) -> list[tuple[str, Path]]:
    """The thumbnails whose blob is not kept here (sha256, path): `prune` removes them."""
    folder = data_dir / THUMBS
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        sha256 = path.name.removesuffix(".jpg")
        named = path.suffix == ".jpg" and _SHA256.fullmatch(sha256) is not None
        if named and path.is_file() and not has_blob(data_dir, sha256):
            found.append((sha256, path))
    return found


def thumbnails(data_dir: Path) -> dict[str, Path]:
    """Every thumbnail kept in `data_dir`, by its blob's SHA-256."""
    folder = data_dir / THUMBS
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        sha256 = path.name.removesuffix(".jpg")
        if path.suffix == ".jpg" and _SHA256.fullmatch(sha256) is not None:
            found[sha256] = path
    return found


TEMP_SUFFIX = ".tmp"
"""How a blob's temporary file ends (its name also starts with a dot): `put`'s in `blobs/`,
a bundle's staged ones in `blobs/ab/`."""


def put(data_dir: Path, pieces: Iterable[bytes]) -> tuple[str, int]:
    """Keep the bytes `pieces` make as a blob; their (sha256, size).

    The pieces are hashed as they are written to a temporary file in the blob folder, which is
    synced to the disk and then renamed into place: a blob is there whole or not at all. When
    writing fails (a full disk) the temporary file is removed and the error raised. Bytes kept
    already are not written again (the temporary file is removed).
    """
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".put.", suffix=TEMP_SUFFIX)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as sink:
            for piece in pieces:
                digest.update(piece)
                size += len(piece)
                sink.write(piece)
            sink.flush()
            os.fsync(sink.fileno())
        sha256 = digest.hexdigest()
        target = blob_path(data_dir, sha256)
        if target.is_file() and target.stat().st_size == size:
            os.unlink(name)
        else:
            target.parent.mkdir(exist_ok=True)
            os.replace(name, target)
            _sync_folder(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return sha256, size


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def open_blob(data_dir: Path, sha256: str) -> BinaryIO:
    """The blob `sha256`, open for reading in binary; FileNotFoundError when it is not kept
    here. The caller closes it."""
    return open(blob_path(data_dir, sha256), "rb")


def kept_blobs(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """Every blob this data folder keeps: (sha256, path), in hash order. Files of other names
    in the blob folder (temporary ones, strangers) are not blobs."""
    root = data_dir / FOLDER
    if not root.is_dir():
        return
    for sub in sorted(root.iterdir()):
        if not (sub.is_dir() and re.fullmatch(r"[0-9a-f]{2}", sub.name)):
            continue
        for path in sorted(sub.iterdir()):
            if _SHA256.fullmatch(path.name) and path.name[:2] == sub.name and path.is_file():
                yield path.name, path


STAGING_PREFIX = ".import-blobs-"
"""A hub's import stages a bundle's blobs in a folder of its data folder so named (its blobs
are rows of its database: its data folder has no blob folder), removed once the import ends."""


def temp_files(data_dir: Path) -> list[Path]:
    """The temporary files in the blob folder (`put`'s and a bundle's staged blobs) and in a
    hub import's staging folders: being written now, or left by a process that was killed."""
    found = [
        path
        for staging in sorted(data_dir.glob(STAGING_PREFIX + "*"))
        if staging.is_dir()
        for path in temp_files(staging)
    ]
    root = data_dir / FOLDER
    if not root.is_dir():
        return found
    for folder in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        found += [
            path
            for path in sorted(folder.iterdir())
            if path.name.startswith(".") and path.name.endswith(TEMP_SUFFIX) and path.is_file()
        ]
    return found


def hash_file(path: Path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, read piece by piece."""
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while piece := source.read(chunk):
            digest.update(piece)
    return digest.hexdigest()


@dataclass
class Staging:
    """Blobs written while a bundle is read, put in place by `keep` or removed by `discard`
    (a `with` block discards whatever was not kept)."""

    data_dir: Path
    staged: dict[str, Path] = field(default_factory=dict)

    def add(self, sha256: str, pieces: Iterable[bytes]) -> None:
        """Write the blob's pieces to a temporary file beside its place (none when it is kept
        here already, or staged: its pieces are still read, so that the bundle checks them)."""
        target = blob_path(self.data_dir, sha256)
        if sha256 in self.staged or target.is_file():
            for _ in pieces:
                pass
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{sha256[:16]}.", suffix=TEMP_SUFFIX
        )
        try:
            with os.fdopen(fd, "wb") as sink:
                for piece in pieces:
                    sink.write(piece)
                sink.flush()
                os.fsync(sink.fileno())
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            raise
        self.staged[sha256] = Path(name)

    def drop(self, sha256: str) -> None:
        """Remove the blob `sha256` if it is staged (its content is not to be kept here)."""
        staged = self.staged.pop(sha256, None)
        if staged is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)

    def keep(self) -> int:
        """Put every staged blob in place; how many."""
        for sha256, staged in sorted(self.staged.items()):
            os.replace(staged, blob_path(self.data_dir, sha256))
        kept = len(self.staged)
        self.staged.clear()
        return kept

    def discard(self) -> None:
        """Remove every staged blob not kept."""
        for staged in self.staged.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged)
        self.staged.clear()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


# -- one interface: a data folder's blobs, or a hub database's --------------------------------

CHUNK_BYTES = 1 << 20
"""A blob's bytes in the database, a row each (the last one shorter)."""


class BlobMismatch(ValueError):
    """Bytes written under a SHA-256 that they do not have (nothing of them is kept)."""


class StagingLike(Protocol):
    """What a bundle's import or a restore writes blobs through (`Staging`, `TableStaging`)."""

    @property
    def staged(self) -> Mapping[str, object]:
        """The blobs written so far, by SHA-256."""

    def add(self, sha256: str, pieces: Iterable[bytes]) -> None: ...

    def drop(self, sha256: str) -> None: ...

    def keep(self) -> int: ...

    def discard(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class Kept(Protocol):
    """Where a store keeps its attachments' content: its data folder (`FolderBlobs`, a laptop's)
    or its database (`TableBlobs`, a hub's). `conn`: the caller's transaction, whose own writes
    are then seen (an import asks about the blobs it has just written)."""

    @property
    def data_dir(self) -> Path:
        """The person's data folder (its thumbnails live there either way)."""

    @property
    def in_database(self) -> bool:
        """Whether the blobs are rows of the database (a hub's) rather than files."""

    def has(self, sha256: str, conn: Connection | None = None) -> bool:
        """Whether the blob `sha256` is kept (a text that is no SHA-256: False)."""

    def sizes(self, shas: Iterable[str], conn: Connection | None = None) -> dict[str, int]:
        """The size of each of `shas` that is kept."""

    def open(self, sha256: str, conn: Connection | None = None) -> BinaryIO:
        """The blob's bytes, read piece by piece; FileNotFoundError when it is not kept,
        ValueError for a text that is no SHA-256. The caller closes it, and checks the bytes
        against their hash (damage is found as they are read, not here)."""

    def put(self, conn: Connection, sha256: str, pieces: Iterable[bytes]) -> int:
        """Keep the bytes `pieces` make, which must hash to `sha256` (`BlobMismatch`, nothing
        kept, when they do not); their size. In the database: in `conn`'s transaction."""

    def staging(self, conn: Connection) -> StagingLike:
        """Blobs written while a bundle or a backup is read, kept with `conn`'s transaction."""

    def remove(self, unit: Unit, shas: Iterable[str]) -> None:
        """Delete the blobs `shas` (a purge's) and this person's thumbnails of them: files once
        `unit` has committed; rows in `unit`'s transaction."""

    def listing(self, conn: Connection) -> list[tuple[str, int]]:
        """Every blob kept: (sha256, size), in hash order."""

    def verify(self, sha256: str) -> bool:
        """Whether the blob's bytes, read whole, are as many as its size says and hash to it."""

    def delete_now(self, conn: Connection, shas: Iterable[str]) -> int:
        """Delete the blobs `shas` (`prune`'s orphans) and their thumbnails here; bytes freed."""


def kept_in(store: Store) -> Kept:
    """The blobs of `store`: a hub's database when it is shared (PostgreSQL), else its folder."""
    if store.shared:
        return TableBlobs(store.engine, store.data_dir, store.location)
    return FolderBlobs(store.data_dir)


def of_folder(where: Path | Kept) -> Kept:
    """`where` as blobs: a data folder's, or the blobs given."""
    return FolderBlobs(where) if isinstance(where, Path) else where


@dataclass(frozen=True)
class FolderBlobs:
    """A data folder's blobs (`blobs/ab/abcdef…`): this module's functions, behind `Kept`."""

    data_dir: Path
    in_database = False

    def has(self, sha256: str, conn: Connection | None = None) -> bool:
        try:
            return has_blob(self.data_dir, sha256)
        except ValueError:
            return False

    def sizes(self, shas: Iterable[str], conn: Connection | None = None) -> dict[str, int]:
        found = {}
        for sha256 in shas:
            try:
                found[sha256] = blob_path(self.data_dir, sha256).stat().st_size
            except (OSError, ValueError):
                continue
        return found

    def open(self, sha256: str, conn: Connection | None = None) -> BinaryIO:
        return open_blob(self.data_dir, sha256)

    def put(self, conn: Connection, sha256: str, pieces: Iterable[bytes]) -> int:
        found, size = put(self.data_dir, pieces)
        if found != sha256:  # kept under its own hash, which another record may name: `prune`'s
            raise BlobMismatch(sha256)
        return size

    def staging(self, conn: Connection) -> StagingLike:
        return Staging(self.data_dir)

    def remove(self, unit: Unit, shas: Iterable[str]) -> None:
        data_dir, gone = self.data_dir, sorted(set(shas))

        def delete() -> None:
            for sha256 in gone:
                remove_blob(data_dir, sha256)

        unit.after_commit.append(delete)

    def listing(self, conn: Connection) -> list[tuple[str, int]]:
        found = []
        for sha256, path in kept_blobs(self.data_dir):
            with contextlib.suppress(OSError):
                found.append((sha256, path.stat().st_size))
        return found

    def verify(self, sha256: str) -> bool:
        try:
            return hash_file(blob_path(self.data_dir, sha256)) == sha256
        except OSError:
            return False

    def delete_now(self, conn: Connection, shas: Iterable[str]) -> int:
        freed = 0
        for sha256 in shas:
            path = blob_path(self.data_dir, sha256)
            with contextlib.suppress(FileNotFoundError):
                freed += path.stat().st_size
                remove_blob(self.data_dir, sha256)
        return freed


def _tables() -> tuple[Any, Any]:
    from dxfield.store.schema import BLOB, BLOB_CHUNK

    return BLOB, BLOB_CHUNK


@dataclass(frozen=True)
class TableBlobs:
    """A hub database's blobs: `blob` (sha256, size, created_at) and `blob_chunk` (sha256, seq,
    data), 1 MiB a chunk. Written and deleted in the caller's transaction; read a chunk at a
    time, so that no 50 MiB file is ever one value in memory."""

    engine: Engine
    data_dir: Path
    location: str = ""
    """The database's address (no password), for a line saying the server failed."""
    in_database = True

    @contextlib.contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
            return
        with _server_failures(self.location), self.engine.connect() as own, own.begin():
            yield own

    def has(self, sha256: str, conn: Connection | None = None) -> bool:
        return sha256 in self.sizes([sha256], conn)

    def sizes(self, shas: Iterable[str], conn: Connection | None = None) -> dict[str, int]:
        from sqlalchemy import select

        blob, _chunk = _tables()
        wanted = sorted({s for s in shas if _SHA256.fullmatch(s)})
        found: dict[str, int] = {}
        with self._reading(conn) as reading:
            for start in range(0, len(wanted), 500):
                rows = reading.execute(
                    select(blob.c.sha256, blob.c.size).where(
                        blob.c.sha256.in_(wanted[start : start + 500])
                    )
                )
                found.update({str(sha): int(size) for sha, size in rows})
        return found

    def open(self, sha256: str, conn: Connection | None = None) -> BinaryIO:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 in hex")
        own = None
        if conn is None:
            with _server_failures(self.location):
                own = self.engine.connect()
                own.begin()
            conn = own
        try:
            with _server_failures(self.location):
                found = self.has(sha256, conn)
            if not found:
                raise FileNotFoundError(sha256)
        except BaseException:
            if own is not None:
                own.close()
            raise
        reader = _ChunkReader(conn, sha256, own, self.location)
        return io.BufferedReader(reader, CHUNK_BYTES)

    def put(self, conn: Connection, sha256: str, pieces: Iterable[bytes]) -> int:
        from sqlalchemy import delete, insert, update

        from dxfield import clock

        blob, chunk = _tables()
        if not _SHA256.fullmatch(sha256):
            raise BlobMismatch(sha256)
        if self.has(sha256, conn):
            digest, size = hashlib.sha256(), 0
            for piece in pieces:  # read through: the caller's check of them still runs
                digest.update(piece)
                size += len(piece)
            if digest.hexdigest() != sha256:
                raise BlobMismatch(sha256)
            return size
        conn.execute(insert(blob).values(sha256=sha256, size=0, created_at=clock.now().isoformat()))
        digest, size, seq = hashlib.sha256(), 0, 0
        buffer = bytearray()

        def flush(data: bytes) -> None:
            nonlocal seq
            conn.execute(insert(chunk).values(sha256=sha256, seq=seq, data=data))
            seq += 1

        try:
            for piece in pieces:
                digest.update(piece)
                size += len(piece)
                buffer += piece
                while len(buffer) >= CHUNK_BYTES:
                    flush(bytes(buffer[:CHUNK_BYTES]))
                    del buffer[:CHUNK_BYTES]
            if buffer:
                flush(bytes(buffer))
            if digest.hexdigest() != sha256:
                raise BlobMismatch(sha256)
        except BaseException:
            # Whatever stopped it (bytes not matching, a file that failed half-way): no half
            # blob stays behind in a unit that goes on (a prune moving folders goes on past a
            # file it could not read), where `has` would take it for whole ever after.
            with contextlib.suppress(Exception):
                conn.execute(delete(chunk).where(chunk.c.sha256 == sha256))
                conn.execute(delete(blob).where(blob.c.sha256 == sha256))
            raise
        conn.execute(update(blob).where(blob.c.sha256 == sha256).values(size=size))
        return size

    def staging(self, conn: Connection) -> StagingLike:
        return TableStaging(self, conn)

    def _delete(self, conn: Connection, shas: list[str]) -> None:
        from sqlalchemy import delete

        blob, chunk = _tables()
        for start in range(0, len(shas), 500):
            some = shas[start : start + 500]
            conn.execute(delete(chunk).where(chunk.c.sha256.in_(some)))
            conn.execute(delete(blob).where(blob.c.sha256.in_(some)))

    def remove(self, unit: Unit, shas: Iterable[str]) -> None:
        gone = sorted(s for s in set(shas) if _SHA256.fullmatch(s))
        self._delete(unit.conn, gone)
        data_dir = self.data_dir

        def forget_thumbnails() -> None:
            for sha256 in gone:
                # Its thumbnail, and a copy an earlier build left in this account's folder
                # (before the hub kept blobs in its database; a colleague's goes at their open).
                remove_blob(data_dir, sha256)

        unit.after_commit.append(forget_thumbnails)

    def listing(self, conn: Connection) -> list[tuple[str, int]]:
        from sqlalchemy import select

        blob, _chunk = _tables()
        rows = conn.execute(select(blob.c.sha256, blob.c.size).order_by(blob.c.sha256))
        return [(str(sha), int(size)) for sha, size in rows]

    def verify(self, sha256: str) -> bool:
        sizes = self.sizes([sha256])
        if sha256 not in sizes:
            return False
        digest, size = hashlib.sha256(), 0
        try:
            with self.open(sha256) as source:
                while piece := source.read(CHUNK_BYTES):
                    digest.update(piece)
                    size += len(piece)
        except OSError:
            return False
        return size == sizes[sha256] and digest.hexdigest() == sha256

    def delete_now(self, conn: Connection, shas: Iterable[str]) -> int:
        gone = sorted(set(shas))
        freed = sum(self.sizes(gone, conn).values())
        self._delete(conn, gone)
        for sha256 in gone:
            with contextlib.suppress(OSError, ValueError):
                thumbnail_path(self.data_dir, sha256).unlink()
        return freed


@contextlib.contextmanager
def _server_failures(location: str) -> Iterator[None]:
    """The hub's server gone away (or failing) while blobs are read: one line in the user's
    language (`hub.hub_failure`), as `Store.read` says it."""
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        from dxfield.store.hub import hub_failure

        raise hub_failure(location, exc) from exc


class _ChunkReader(io.RawIOBase):
    """A blob's chunks in order, each fetched when the one before has been read. It stops at the
    first chunk that is not there (the bytes are then short: the reader's hash check says so)."""

    def __init__(
        self, conn: Connection, sha256: str, own: Connection | None, location: str
    ) -> None:
        super().__init__()
        self._location = location
        self._conn = conn
        self._own = own
        self._sha256 = sha256
        self._seq = 0
        self._piece = b""
        self._at = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._at >= len(self._piece):
            if self._done:
                return 0
            from sqlalchemy import select

            _blob, chunk = _tables()
            with _server_failures(self._location):
                data = self._conn.execute(
                    select(chunk.c.data).where(
                        chunk.c.sha256 == self._sha256, chunk.c.seq == self._seq
                    )
                ).scalar()
            self._seq += 1
            if not data:
                self._done = True
                self._piece = b""
                return 0
            self._piece, self._at = bytes(data), 0
        count = min(len(buffer), len(self._piece) - self._at)
        buffer[:count] = self._piece[self._at : self._at + count]
        self._at += count
        return count

    def close(self) -> None:
        if not self.closed and self._own is not None:
            self._own.close()
        super().close()


class TableStaging:
    """`Staging` for a hub's database: each blob is written as it is read, in the import's own
    transaction (which a refusal rolls back, blob rows and all); `keep` then only counts."""

    def __init__(self, kept: TableBlobs, conn: Connection) -> None:
        self.kept = kept
        self.conn = conn
        self.staged: dict[str, Path | None] = {}

    def add(self, sha256: str, pieces: Iterable[bytes]) -> None:
        if sha256 in self.staged or self.kept.has(sha256, self.conn):
            for _ in pieces:
                pass
            return
        self.kept.put(self.conn, sha256, pieces)
        self.staged[sha256] = None

    def drop(self, sha256: str) -> None:
        if self.staged.pop(sha256, False) is None:
            self.kept._delete(self.conn, [sha256])

    def keep(self) -> int:
        kept = len(self.staged)
        self.staged.clear()
        return kept

    def discard(self) -> None:
        self.staged.clear()  # the transaction's rollback takes the rows

    def __enter__(self) -> TableStaging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
