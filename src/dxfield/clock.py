"""Today and now: the one place dxfield reads the wall clock.

"Today" is the calendar date in Japan (Asia/Tokyo), whatever zone the machine is set to: a
liaison's day, month and 年度 (April to March) are Japan's, and a laptop or a CI runner on UTC
is nine hours behind at midnight on 3/31. Instants (when a record was first written, when a
bundle was made, when a draft was saved) are kept in UTC and shown in Japan's time.

Everything in dxfield asks this module: the app, the CLI, the store's services, the report's
defaults, file names. A test injects another clock with `use` or `frozen`; time-machine or
faketime move the real one underneath. The hybrid logical clock that stamps revisions
(`store/hlc.py`) keeps its own reading of real time, as its stamps must follow it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")

Source = Callable[[], dt.datetime]


def _system() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Source = _system


def now() -> dt.datetime:
    """This instant, timezone-aware, in UTC."""
    return _source().astimezone(dt.UTC)


def today() -> dt.date:
    """Today's date in Japan."""
    return japan_date(now())


def in_japan(instant: dt.datetime) -> dt.datetime:
    """`instant` in Japan's time; a naive one is taken as UTC, as the store keeps them."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(JAPAN)


def japan_date(instant: dt.datetime) -> dt.date:
    """The date in Japan at `instant` (naive means UTC)."""
    return in_japan(instant).date()


def from_epoch_ms(ms: int) -> dt.datetime:
    """The instant `ms` milliseconds after the epoch (an HLC stamp's wall time), in Japan's time."""
    return dt.datetime.fromtimestamp(ms / 1000, JAPAN)


def parse_instant(text: str) -> dt.datetime | None:
    """An ISO 8601 instant as stored (naive means UTC), or None when it is not one."""
    try:
        instant = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def file_stamp() -> str:
    """Now in Japan as `YYYYMMDD-HHMMSS`, for file names that sort by when they were made."""
    return f"{in_japan(now()):%Y%m%d-%H%M%S}"


@contextlib.contextmanager
def use(source: Source) -> Iterator[None]:
    """Read "now" from `source` (a callable returning an aware datetime) until the block ends.

    For tests: it is process-wide, so the app's workers and the services they call see it too.
    """
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous


def noon_in_japan(day: dt.date) -> dt.datetime:
    """Noon of `day` in Japan."""
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=JAPAN)


@contextlib.contextmanager
def frozen(at: dt.date | dt.datetime) -> Iterator[dt.datetime]:
    """Stop the clock at `at` (a date: noon of that day in Japan) until the block ends."""
    instant = at if isinstance(at, dt.datetime) else noon_in_japan(at)
    if instant.tzinfo is None:
        raise ValueError("a frozen instant needs a time zone")
    with use(lambda: instant):
        yield instant.astimezone(dt.UTC)
