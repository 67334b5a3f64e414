"""Record ids: UUIDv7 for new records, name-based UUIDs for shared reference data and for the
records there is one of per key (a kind's note template, an attachment's purge)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

ID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""Record and device ids: UUIDs as dxfield writes them (lower case, hyphenated)."""

# Reference data (municipalities, built-in stage models) gets ids derived from a stable key, so
# that every store agrees on them and sync never doubles a municipality.
REFERENCE_NAMESPACE = uuid.UUID("8f1c6a52-3c2b-4f7e-9d0a-5b6f1e2d7c40")
# A kind of activity's note template has the id derived from the kind's value, so that every
# device edits the same record: two laptops changing the meeting's template make two versions of
# one record (a conflict, shown and resolved as any), never two templates.
NOTE_TEMPLATE_NAMESPACE = uuid.UUID("45b9564c-ed5a-4912-8756-fec8a99c8713")
# An attachment's purge has the id derived from the attachment's id: there is one purge per
# attachment everywhere, and a second one (under any other id) is refused.
PURGE_NAMESPACE = uuid.UUID("3ebcf407-53eb-4528-b3f1-005b87a28acd")


_uuid7: Callable[[], Any] | None = None


def new_id() -> str:
    """A new time-ordered UUIDv7: the wall clock's millisecond, then a counter that keeps the ids
    one process makes in the same millisecond in order, then random bits (uuid-utils: a table
    import makes one per row, and uuid6's took a tenth of its checking, while moving each id a
    millisecond past the last, so that 100,000 rows stood 100 seconds in the future)."""
    global _uuid7
    if _uuid7 is None:  # on first need: a read verb checks ids, and makes none
        from uuid_utils import uuid7

        _uuid7 = uuid7  # once: an import statement a call was a third of an id's time
    return str(_uuid7())


def reference_id(kind: str, key: str) -> str:
    """The id every store gives the reference record `kind:key` (e.g. `lgcode:282090`)."""
    return str(uuid.uuid5(REFERENCE_NAMESPACE, f"{kind}:{key}"))


def looks_like_id(text: str) -> bool:
    """Whether `text` is a whole record id (a UUID as dxfield writes it, in either case)."""
    return ID_PATTERN.fullmatch(text.strip().lower()) is not None


def note_template_id(kind: str) -> str:
    """The id of the note template of the activity kind `kind` (its value, e.g. `meeting`)."""
    return str(uuid.uuid5(NOTE_TEMPLATE_NAMESPACE, kind))


def purge_id(attachment_id: str) -> str:
    """The id of the purge of the attachment `attachment_id`."""
    return str(uuid.uuid5(PURGE_NAMESPACE, attachment_id))


FIXED_IDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "note_template": lambda content: note_template_id(str(content.get("kind"))),
    "purge": lambda content: purge_id(str(content.get("attachment_id"))),
}
"""The kinds whose record's id follows from its content: what the id must be, given the content.
The write path refuses to write another, and a bundle whose revision has another is refused."""


def fixed_id(entity: str, content: dict[str, Any]) -> str | None:
    """The id a record of `entity` with `content` must have (None: any new id will do)."""
    rule = FIXED_IDS.get(entity)
    return None if rule is None else rule(content)
