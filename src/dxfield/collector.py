"""Python's cycle collector, eased while bulk work makes and drops objects by the hundred thousand.

A table's import, a bundle's import or export, a report's year of activities: each makes a few
objects a row and frees nearly all of them by reference counting, the rows holding no cycles.
The collector counts them all the same: its first generation, collected every 700 new objects
by default, ran some 3,000 times in an import of 100,000 rows, and its passes went on to some
twenty full collections, each walking every object the process holds (the modules, the ORM's
and pydantic's tables) and stopping every thread, the app's event loop included. Timed with
`gc.callbacks`: 1.5 s of a table import of 100,000 rows, over 6 s of a bundle's.

While bulk work runs, the first generation waits for `BULK_THRESHOLD` new objects rather than
700: the collector still runs, so garbage that does hold a cycle is still collected and memory
stays flat however long the work, but a few times in an import rather than thousands. Nested
and concurrent bulk work (two workers of the app) keep it so until the last one ends; the
first threshold is then the one the first found. Measured on Python 3.11; 3.14's incremental
collector walks the old objects a little at a time, so it may gain less there.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLD = 100_000
"""New objects (net of those freed) between two collections of the first generation, during
bulk work: some ten megabytes of garbage held by cycles at the most."""

_lock = threading.Lock()
_users = 0
_found = 0
"""The first threshold the first bulk work found (0: automatic collection off, left so)."""


@contextmanager
def collector_eased() -> Iterator[None]:
    """Bulk work inside: the collector's first generation collected every `BULK_THRESHOLD` new
    objects; the first threshold found before is put back when the last bulk work ends. Only
    that one changes (Python 3.14's incremental collector reads no third one)."""
    global _users, _found
    with _lock:
        if _users == 0:
            _found = gc.get_threshold()[0]
            if _found:
                gc.set_threshold(max(BULK_THRESHOLD, _found))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _found:
                gc.set_threshold(_found)
