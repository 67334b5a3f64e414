"""A writer that waits while another writes (issue 17): what it says, and when it stops waiting.

`Store.write(waiting=...)` takes a callable, called once when the write lock is held by another
(a long import writing); the writer then waits for the lock however long. A `GivingUp` is such
a callable that may also stop waiting: `wanted()` is asked at each try, and once it says no the
write ends in `store.wait_given_up` before anything is written. The app's Sync screen gives one
for its imports: a person who quits while an import waits has the app close at once (the
bundle is still on the stick, for the next import), where it used to leave the terminal blank
until the other writer finished, and then write the import after the app was gone. A save in
the app gives a plain callable: it waits, so that what was typed lands.

Either way the wait goes in tries of WAIT_TRY_MS, so Ctrl-C on the command line stops a
waiting import at once rather than at the end of a busy timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems

PROBLEMS = problems(
    {
        "store.wait_given_up": N_(
            "stopped waiting for another dxfield to finish writing; nothing was written"
        ),
    }
)

WAIT_TRY_MS = 300
"""How long one try for the write lock lasts while a writer waits for it (and, the first time,
before the writer says it waits)."""


@dataclass(frozen=True)
class GivingUp:
    """A `waiting` (see `Store.write`) that stops waiting once `wanted()` is False: `say()` is
    called once, when the wait begins."""

    say: Callable[[], object]
    wanted: Callable[[], bool]

    def __call__(self) -> object:
        return self.say()


def still_wanted(waiting: Callable[[], object]) -> None:
    """Raise `store.wait_given_up` when `waiting` is a `GivingUp` no longer wanted (between two
    tries for the lock)."""
    if isinstance(waiting, GivingUp) and not waiting.wanted():
        raise LocalizedError("store.wait_given_up")
