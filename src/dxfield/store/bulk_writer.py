"""Prepared batches written on a second thread while the caller prepares the next.

A table import's write pass is two kinds of work: Python making each batch ready (revisions,
their canonical text and signatures, the records' rows, the search entries) and the database
writing it (SQLite's B-trees and full-text index, or the hub's COPY). The database drivers let
go of the GIL while the engine works, so the two overlap on a second core: `BulkWriter` takes
`revisions.BulkRows` in order and writes them with `revisions.write_bulk`.

The connection is used by one thread at a time: while the writer holds batches, the caller
touches the connection only after `drain`. A failure in the writer (a full disk, a constraint)
is raised in the caller at its next `put` or `drain`, or when the block ends, as the very
exception the write raised; the writer then writes nothing more, and the caller's transaction
rolls back as it would have.
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType

from sqlalchemy.engine import Connection

from dxfield.store.revisions import BulkRows, write_bulk

DEPTH = 2
"""Batches waiting to be written: enough to keep the writer busy, few enough that memory stays
flat (a batch of 2,000 activities is a few megabytes)."""


class BulkWriter:
    """A thread writing `BulkRows` to `conn` in the order given (use it as a `with` block)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queue: queue.Queue[BulkRows | None] = queue.Queue(maxsize=DEPTH)
        self._failed: BaseException | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name="dxfield-bulk-writer", daemon=True)

    def __enter__(self) -> BulkWriter:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is not None:
            self._abandoned = True  # what waits is not written: the transaction is going
        self._queue.put(None)
        self._thread.join()
        if kind is None:
            self._raise()

    def put(self, rows: BulkRows) -> None:
        """Write `rows` after those given before (waits while DEPTH batches are waiting)."""
        self._raise()
        self._queue.put(rows)

    def drain(self) -> None:
        """Wait until everything given is written: the connection is the caller's again."""
        self._queue.join()
        self._raise()

    def _raise(self) -> None:
        if self._failed is not None:
            raise self._failed

    def _run(self) -> None:
        while True:
            rows = self._queue.get()
            try:
                if rows is None:
                    return
                if self._failed is None and not self._abandoned:
                    write_bulk(self._conn, rows)
            except BaseException as exc:  # handed to the caller's thread
                self._failed = exc
            finally:
                self._queue.task_done()
