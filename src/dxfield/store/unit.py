"""One user action, one transaction: the unit of work every service takes.

A CLI verb, a save in the app, an import, a table import: each is one `Unit`, handed out by
`Store.unit()`. A writing unit is one `BEGIN IMMEDIATE` transaction: its checks and its writes
see the same store, no other writer comes between them, and the hybrid logical clock ticks
inside it (so two writers, even in two processes, never mint the same stamp). A reading unit is
one deferred transaction: everything it reads is one snapshot.

Services take `Work`: a unit, or a store, for which they open a unit of their own (one service
is then the whole action). A service composes with another by passing its unit on; it never
opens a second transaction while it holds one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy.engine import Connection

from dxfield import clock

if TYPE_CHECKING:
    from dxfield.store.backend import Backend
    from dxfield.store.engine import DeviceInfo, Store


@dataclass(frozen=True)
class Unit:
    """The transaction of one user action: its connection, the device writing, the clock."""

    conn: Connection
    store: Store
    writes: bool
    locked: bool = True
    """Whether a writing unit holds the write lock (one begun without it, on a backend that
    `writes_ahead`, takes it with `lock`)."""
    after_commit: list[Callable[[], object]] = field(default_factory=list, compare=False)
    """What is done once the unit has committed, in order (never when it rolls back): what
    cannot be taken back, such as deleting a purged attachment's file (store/purges.py)."""

    @property
    def device(self) -> DeviceInfo:
        """The device this store belongs to (the author of what the unit writes)."""
        return self.store.device

    @staticmethod
    def today() -> dt.date:
        """Today in Japan (dxfield.clock)."""
        return clock.today()

    @staticmethod
    def now() -> dt.datetime:
        """This instant, in UTC (dxfield.clock)."""
        return clock.now()

    @property
    def backend(self) -> Backend:
        """What is particular to the store's database engine (store/backend.py)."""
        return self.store.backend

    def require_write(self) -> None:
        """Refuse to write through a reading unit, or a writing one that has not taken the
        write lock yet (a programming error, not a user's)."""
        if not self.writes:
            raise RuntimeError("a reading unit of work cannot write")
        if not self.locked:
            raise RuntimeError("this unit of work has not taken the write lock yet")

    def lock(self, waiting: Callable[[], object] | None = None) -> None:
        """Take the write lock in a writing unit begun without it (`Store.unit(lock=False)`);
        `waiting`: see `Store.write`."""
        if not self.writes:
            raise RuntimeError("a reading unit of work cannot take the write lock")
        if not self.locked:
            self.backend.take_write_lock(self.conn, waiting)
            object.__setattr__(self, "locked", True)  # the one field that changes, once


Work: TypeAlias = "Store | Unit"
"""What a service takes: a unit of work, or a store to open one on."""


@contextlib.contextmanager
def unit_of(
    work: Work, *, write: bool, waiting: Callable[[], object] | None = None
) -> Iterator[Unit]:
    """The unit `work` is, or a new one on the store `work` (committed when the block ends,
    rolled back when it raises). A writing service given a reading unit is refused.
    `waiting`: see `Store.write` (a writer that waits for the lock however long, and says so)."""
    if isinstance(work, Unit):
        if write:
            work.require_write()
        yield work
        return
    with work.unit(write=write, waiting=waiting) as unit:
        yield unit
