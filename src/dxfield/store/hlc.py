"""The hybrid logical clock that stamps revisions.

A stamp is `<wall ms, 13 digits>-<counter, 6 digits>`: it sorts as text, never goes backwards on
one device even if the wall clock does, and moves past every stamp this store has seen (imports
call `observe`). The state lives in `local_state`, updated inside the writer's transaction.

It reads real time itself (`wall_ms`), not `dxfield.clock`: a stamp orders revisions across
devices and must follow real time even where a test has frozen "today".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from dxfield.store.schema import LocalState

_KEY = "hlc"
_COUNTER_MAX = 999_999
SKEW_LIMIT_MS = 24 * 60 * 60 * 1000
REFERENCE_HLC = "0000000000000-000000"


@dataclass(frozen=True, order=True)
class Stamp:
    """One HLC stamp."""

    wall_ms: int
    counter: int

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:06d}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        """Read a stamp written by `str()`."""
        wall, _, counter = text.partition("-")
        return cls(int(wall), int(counter))

    def next(self, now_ms: int) -> Stamp:
        """The stamp after this one at wall time `now_ms`."""
        if now_ms > self.wall_ms:
            return Stamp(now_ms, 0)
        if self.counter >= _COUNTER_MAX:
            return Stamp(self.wall_ms + 1, 0)
        return Stamp(self.wall_ms, self.counter + 1)


def wall_ms() -> int:
    """Milliseconds since the epoch by the wall clock."""
    return time.time_ns() // 1_000_000


_table = LocalState.__table__  # type: ignore[attr-defined]


def _load(conn: Connection) -> Stamp | None:
    value = conn.execute(select(_table.c.value).where(_table.c.key == _KEY)).scalar()
    return Stamp.parse(value) if value else None


def _save(conn: Connection, stamp: Stamp, existed: bool) -> None:
    if existed:
        conn.execute(update(_table).where(_table.c.key == _KEY).values(value=str(stamp)))
    else:
        conn.execute(insert(_table).values(key=_KEY, value=str(stamp)))


def tick(conn: Connection, count: int = 1) -> list[str]:
    """Reserve `count` consecutive stamps for new revisions (inside a write transaction)."""
    last = _load(conn)
    current = last or Stamp(0, 0)
    now = wall_ms()
    stamps = []
    for _ in range(count):
        current = current.next(now)
        stamps.append(str(current))
    _save(conn, current, last is not None)
    return stamps


def skew_limit() -> str:
    """Stamps above this one are over a day ahead of this machine's clock (clock skew)."""
    return str(Stamp(wall_ms() + SKEW_LIMIT_MS, _COUNTER_MAX))


def observe(conn: Connection, seen: str) -> bool:
    """Move the clock past a stamp seen in an import; True when it is over a day in the future."""
    stamp = Stamp.parse(seen)
    last = _load(conn)
    if last is None or stamp > last:
        _save(conn, stamp, last is not None)
    return stamp.wall_ms - wall_ms() > SKEW_LIMIT_MS
