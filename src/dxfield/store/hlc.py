"""The hybrid logical clock that stamps revisions.

A stamp is `<wall ms, 13 digits>-<counter, 6 digits>`: it sorts as text, never goes backwards on
one device even if the wall clock does, and moves past every stamp this store has seen (imports
call `observe`). The state lives in `local_state`, updated inside the writer's transaction.

It reads real time itself (`wall_ms`), not `dxfield.clock`: a stamp orders revisions across
devices and must follow real time even where a test has frozen "today".
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from dxfield import clock
from dxfield.store.schema import LOCAL_STATE

_KEY = "hlc"
_COUNTER_MAX = 999_999
SKEW_LIMIT_MS = 24 * 60 * 60 * 1000
REFERENCE_HLC = "0000000000000-000000"
_STAMP = re.compile(r"([0-9]{13})-([0-9]{6})")


@dataclass(frozen=True, order=True)
class Stamp:
    """One HLC stamp."""

    wall_ms: int
    counter: int

    def __str__(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:06d}"

    @classmethod
    def parse(cls, text: object) -> Stamp:
        """Read a stamp written by `str()`: exactly 13 and 6 ASCII digits; anything else (a
        space, a sign, a full-width digit, another length) is a ValueError."""
        match = _STAMP.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not a clock stamp: {str(text)[:40]!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def parse_or_floor(cls, text: object) -> Stamp:
        """A stamp as `parse` reads it, or one below every real stamp when it is unreadable
        (a store written before stamps were checked may hold one; `check` reports it)."""
        try:
            return cls.parse(text)
        except ValueError:
            return FLOOR

    def next(self, now_ms: int) -> Stamp:
        """The stamp after this one at wall time `now_ms`."""
        if now_ms > self.wall_ms:
            return Stamp(now_ms, 0)
        if self.counter >= _COUNTER_MAX:
            return Stamp(self.wall_ms + 1, 0)
        return Stamp(self.wall_ms, self.counter + 1)


FLOOR = Stamp(-1, -1)
"""Below every stamp: where an unreadable one sorts."""


def stamped_at(text: object) -> dt.datetime | None:
    """When a stamp says its revision was written, in Japan's time; None for reference data and
    for a stamp that cannot be read."""
    stamp = Stamp.parse_or_floor(text)
    return clock.from_epoch_ms(stamp.wall_ms) if stamp.wall_ms > 0 else None


def wall_ms() -> int:
    """Milliseconds since the epoch by the wall clock."""
    return time.time_ns() // 1_000_000


_table = LOCAL_STATE


def _load(conn: Connection) -> Stamp | None:
    value = conn.execute(select(_table.c.value).where(_table.c.key == _KEY)).scalar()
    return Stamp.parse_or_floor(value) if value else None


def _save(conn: Connection, stamp: Stamp, existed: bool) -> None:
    if existed:
        conn.execute(update(_table).where(_table.c.key == _KEY).values(value=str(stamp)))
    else:
        conn.execute(insert(_table).values(key=_KEY, value=str(stamp)))


def tick(conn: Connection, count: int = 1) -> list[str]:
    """Reserve `count` consecutive stamps for new revisions (inside a write transaction).

    A clock that stands more than a day ahead of real time was dragged there by a stamp taken
    before stamps were checked: it falls back to real time rather than stamping every later
    change in that future. (A change follows the version it edits, so it still wins.)
    """
    last = _load(conn)
    now = wall_ms()
    current = last or Stamp(0, 0)
    if current.wall_ms - now > SKEW_LIMIT_MS:
        current = Stamp(now - 1, 0)
    stamps = []
    for _ in range(count):
        current = current.next(now)
        stamps.append(str(current))
    _save(conn, current, last is not None)
    return stamps


def skew_limit() -> Stamp:
    """Stamps above this one are over a day ahead of this machine's clock (clock skew)."""
    return Stamp(wall_ms() + SKEW_LIMIT_MS, _COUNTER_MAX)


def observe(conn: Connection, seen: Stamp) -> None:
    """Move the clock past a stamp seen in an import (never one beyond `skew_limit`)."""
    if seen > skew_limit():
        return
    last = _load(conn)
    if last is None or seen > last:
        _save(conn, seen, last is not None)


def ahead_of_real_time(conn: Connection) -> int:
    """How many milliseconds this store's clock stands ahead of real time (0 when it does not)."""
    last = _load(conn)
    return max(0, last.wall_ms - wall_ms()) if last else 0
