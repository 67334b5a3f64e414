"""Attachments' bytes, kept by their SHA-256 in the data folder (`blobs/ab/abcdef…`).

A bundle's blob members (docs/bundle-format.md) arrive here: each is written to a temporary file
beside its place while the bundle is read (its hash checked as it ends), and put in place only
once the whole bundle has been checked and its revisions are about to be kept; a refused bundle
leaves nothing. The same bytes are kept once, whoever sends them again.

A file attached here (store/attachments.py) arrives through `put`: its bytes are hashed as they
are written to a temporary file in `blobs/`, synced to the disk, and renamed into place; a full
disk or an error removes the temporary file, and one left by a killed process (its name starts
with a dot and ends in `.tmp`) is reported by `check` and removed by `prune`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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


def temp_files(data_dir: Path) -> list[Path]:
    """The temporary files in the blob folder: `put`'s and a bundle's staged blobs, being
    written now or left by a process that was killed."""
    root = data_dir / FOLDER
    if not root.is_dir():
        return []
    found = []
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
