"""A draft's row in local state, decoded: free of SQLAlchemy, so that the light read path
(`store/light.py`) finds left-over drafts at start with one small query, exactly as
`local_state.list_drafts` does."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

DRAFT_PREFIX = "draft:"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """A form saved while it was being typed."""

    name: str
    data: dict[str, Any]
    saved_at: dt.datetime


def read_draft(key: str, value: str) -> Draft | None:
    """A draft row decoded, or None (logged) when it is not a readable draft."""
    name = key[len(DRAFT_PREFIX) :]
    try:
        decoded = json.loads(value)
        data = decoded["data"]
        saved_at = dt.datetime.fromisoformat(decoded["saved_at"])
        if not isinstance(data, dict):
            raise TypeError(f"data is {type(data).__name__}, not an object")
    except Exception as exc:  # whatever is wrong with one row must not stop the app starting
        log.warning("skipping the unreadable draft %r: %s: %s", name, type(exc).__name__, exc)
        return None
    if saved_at.tzinfo is None:
        saved_at = saved_at.replace(tzinfo=dt.UTC)
    return Draft(name, data, saved_at)


def drafts_of(rows: list[tuple[str, str]]) -> list[Draft]:
    """The readable drafts among (key, value) rows, most recently saved first."""
    drafts = [d for d in (read_draft(k, v) for k, v in rows if k.startswith(DRAFT_PREFIX)) if d]
    drafts.sort(key=lambda d: (d.saved_at, d.name), reverse=True)
    return drafts


QUEUED_FILES = "attachments"
"""The key of a draft's data that holds the files its form chose to attach once the record is
saved (a new activity's `ctrl+t`): a list of {"paths": [text, ...], "caption": text}."""


QUEUED_BY = "attachments_by"
"""The key of the device that chose the queued files. On a hub the team's drafts share one
database: another person's draft restored here must not attach files from this person's disk
at the paths the other one chose."""


def queued_by_other(data: dict[str, Any], device_id: str) -> bool:
    """Whether a draft's queued files were chosen on a device other than `device_id`."""
    return bool(queued_files(data)) and data.get(QUEUED_BY) != device_id


def queued_files(data: dict[str, Any]) -> list[tuple[list[str], str]]:
    """The files a draft's form had chosen to attach, as (paths, caption) per choice, in the
    order chosen. What is not of that shape (a draft written before files were kept in it, a
    damaged row) is skipped, never raised: a draft must always open."""
    found: list[tuple[list[str], str]] = []
    given = data.get(QUEUED_FILES)
    if not isinstance(given, list):
        return found
    for item in given:
        if not isinstance(item, dict) or not isinstance(item.get("paths"), list):
            continue
        paths = [p for p in item["paths"] if isinstance(p, str) and p]
        caption = item.get("caption")
        if paths:
            found.append((paths, caption if isinstance(caption, str) else ""))
    return found
