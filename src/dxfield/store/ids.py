"""Record ids: UUIDv7 for new records, name-based UUIDs for shared reference data."""

from __future__ import annotations

import re
import uuid

ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""Record and device ids: UUIDs as dxfield writes them (lower case, hyphenated)."""

# Reference data (municipalities, built-in stage models) gets ids derived from a stable key, so
# that every store agrees on them and sync never doubles a municipality.
REFERENCE_NAMESPACE = uuid.UUID("8f1c6a52-3c2b-4f7e-9d0a-5b6f1e2d7c40")


def new_id() -> str:
    """A new time-ordered UUIDv7."""
    from uuid6 import uuid7  # on first need: a read verb checks ids, and makes none

    return str(uuid7())


def reference_id(kind: str, key: str) -> str:
    """The id every store gives the reference record `kind:key` (e.g. `lgcode:282090`)."""
    return str(uuid.uuid5(REFERENCE_NAMESPACE, f"{kind}:{key}"))


def looks_like_id(text: str) -> bool:
    """Whether `text` is a whole record id (a UUID as dxfield writes it, in either case)."""
    return ID_PATTERN.fullmatch(text.strip().lower()) is not None
