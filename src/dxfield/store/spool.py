"""What a long import's check found to write, kept on disk between its two passes.

An import checks everything first, without the write lock, then writes it in one transaction
(issue 17): a table's rows (`activity_import`), a bundle's pages of revisions (`sync.bundle`).
What the check made ready waits here, in a temporary file of the data folder, so memory stays
flat however long the import is.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")


class Spool:
    """Items (any picklable values) in a temporary file of the data folder: it may hold names,
    so it never leaves the folder, and it is gone once closed.

    Items are pickled a chunk at a time (five times faster than JSON, which an import of 100,000
    rows felt; and one read a chunk, not one an item, for a reader sharing the GIL with a
    writing thread). The file is made here, has no name any other process could open (POSIX
    unlinks it at once; on Windows it sits in the person's own data folder and is deleted on
    close), and is read back only by the process that wrote it, so what is unpickled is what was
    pickled."""

    CHUNK = 1000
    """Items pickled at a time (the pickler holds a chunk's bytes whole until it writes them)."""

    def __init__(self, folder: Path) -> None:
        # Closed by `close` (the import's `finally`), not by a block: it outlives the check.
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder, prefix=".import-")  # noqa: SIM115
        self._pending: list[Any] = []

    def add(self, item: Any) -> None:
        """One item, after those added before."""
        self._pending.append(item)
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self._file, pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def batches(self, size: int) -> Iterator[list[Any]]:
        """The items as they were added, `size` at a time."""
        return batched(self, size)

    def __iter__(self) -> Iterator[Any]:
        """The items as they were added."""
        self._flush()
        end = self._file.tell()
        self._file.seek(0)
        while self._file.tell() < end:
            yield from pickle.load(self._file)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` `size` at a time, read as they are needed (an import's rows, a spool's items)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
