"""A writer that waits while another writes (issue 17): what it says, and when it stops.

`Store.write(waiting=...)` takes a callable, called once when the write lock is held by another
(a long import writing); the writer then waits for the lock however long. A `GivingUp` is such
a callable that may also stop: `wanted()` is asked before the first try for the lock, at each
try after it, and, for an import given one, between two pages (a bundle's) or batches (a
table's) of its check; once it says no, the import ends in `store.given_up` before anything is
written. The app's Sync screen gives one for its imports, wanted while the app runs: a person
who quits during an import has the app close at once (the bundle is still on the stick, for
the next import), where it used to leave the terminal blank until the import was done, and,
should it be waiting for another writer, write it after the app was gone. A save in the app,
and a form's draft, give one wanted until the person quits without waiting for them (ctrl+q
twice, `DxfieldApp.quit_anyway`): they wait, so that what was typed lands. Every other save
the app makes (a finding, an action, a quick note, a track's move...) goes through services
that open their own units: the app's forms give those units their `waiting` through
`saving_waits` (a context variable of the thread the save runs in), so that they too wait,
saying so, rather than fail as "busy" after ten seconds of a long import.

On SQLite the wait goes in tries of WAIT_TRY_MS, so Ctrl-C stops a waiting command-line import
at once rather than at the end of a busy timeout. On the hub a plain waiter queues on the
advisory lock (psycopg cancels the query on Ctrl-C); a `GivingUp` tries again every WAIT_TRY_MS
instead, so that it can stop, and so gives up its place in the queue.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems

PROBLEMS = problems(
    {"store.given_up": N_("stopped before anything was written")},
)

WAIT_TRY_MS = 300
"""How long one try for the write lock lasts while a writer waits for it (and, the first time,
before the writer says it waits)."""


@dataclass(frozen=True)
class GivingUp:
    """A `waiting` (see `Store.write`) that stops once `wanted()` is False: `say()` is called
    once, when the wait begins."""

    say: Callable[[], object]
    wanted: Callable[[], bool]

    def __call__(self) -> object:
        return self.say()


def still_wanted(waiting: Callable[[], object] | None) -> None:
    """Raise `store.given_up` when `waiting` is a `GivingUp` no longer wanted (a plain
    callable, or none, always is)."""
    if isinstance(waiting, GivingUp) and not waiting.wanted():
        raise LocalizedError("store.given_up")


_SAVING: ContextVar[tuple[int, Callable[[], object]] | None] = ContextVar(
    "dxfield_saving", default=None
)


@contextlib.contextmanager
def saving_waits(waiting: Callable[[], object]) -> Iterator[None]:
    """Within the block, in this thread, a writing unit opened without a `waiting` of its own
    waits as one given `waiting` would. Only in this thread: what it hands to the app's loop
    (`call_from_thread` copies the context) does not wait."""
    token = _SAVING.set((threading.get_ident(), waiting))
    try:
        yield
    finally:
        _SAVING.reset(token)


def waiting_for(waiting: Callable[[], object] | None) -> Callable[[], object] | None:
    """The `waiting` a writing unit uses: its own, else the one `saving_waits` gave."""
    if waiting is not None:
        return waiting
    given = _SAVING.get()
    return given[1] if given is not None and given[0] == threading.get_ident() else None
