"""Attachments' bytes, kept by their SHA-256 in the data folder (`blobs/ab/abcdef…`).

A bundle's blob members (docs/bundle-format.md) arrive here: each is written to a temporary file
beside its place while the bundle is read (its hash checked as it ends), and put in place only
once the whole bundle has been checked and its revisions are about to be kept; a refused bundle
leaves nothing. The same bytes are kept once, whoever sends them again. Records that refer to
attachments come with issue 19; until then a store keeps the blobs it is sent and sends none.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

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
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{sha256[:16]}.", suffix=".tmp")
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
