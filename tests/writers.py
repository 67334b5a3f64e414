"""Another writer on a store, as another process's import would be: it holds the write lock
(SQLite's `BEGIN IMMEDIATE`, the hub's advisory lock) from `take` until it is let go, through
a store of its own on the same data, in a thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from dxfield.store.engine import Store


class OtherWriter:
    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._taken, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold)

    def take(self) -> None:
        """Begin writing, and hold the lock (returns once it is held)."""
        self._thread.start()
        assert self._taken.wait(30), "the other writer did not get the lock"

    def let_go_soon(self) -> None:
        """End the write a while from now (from a `waiting` callback: the one waiting then
        gets the lock)."""
        threading.Timer(0.5, self._release.set).start()

    def let_go(self) -> None:
        self._release.set()

    def _hold(self) -> None:
        with Store.open(self._data_dir) as other, other.unit():
            self._taken.set()
            self._release.wait(60)


@contextlib.contextmanager
def another_writer(data_dir: Path) -> Iterator[OtherWriter]:
    """An `OtherWriter` on `data_dir`, let go (and its thread joined) when the block ends."""
    writer = OtherWriter(data_dir)
    try:
        yield writer
    finally:
        writer.let_go()
        if writer._thread.is_alive():
            writer._thread.join()
