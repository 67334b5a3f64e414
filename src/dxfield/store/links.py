"""Which records a record points at, and of which kind each must be.

A bundle's revisions are checked against these (a record may not point at one that is neither in
the store nor in the bundle, or that is of another kind), and `check` follows them to find the
dangling ones in a store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# entity: (field, the kind it points at, how the ids are held: "one" or "many"), and the nested
# lists of objects that hold ids.
_DIRECT: dict[str, tuple[tuple[str, str, str], ...]] = {
    "organization": (("parent_id", "organization", "one"),),
    "initiative": (("municipality_id", "organization", "one"),),
    "activity": (
        ("initiative_id", "initiative", "one"),
        ("municipality_id", "organization", "one"),
    ),
    "finding": (("initiative_id", "initiative", "one"), ("activity_id", "activity", "one")),
    "action": (("initiative_id", "initiative", "one"),),
    "stage_model": (),
    "engagement_track": (
        ("model_id", "stage_model", "one"),
        ("community_id", "organization", "one"),
        ("initiative_id", "initiative", "one"),
    ),
    "stage_move": (("track_id", "engagement_track", "one"), ("evidence_ids", "activity", "many")),
    "attachment": (),
    "note_template": (),
    # A purge names its attachment (`attachment_id`) but does not point at it as a link: the
    # purged attachment's versions are never sent again (store/purges.py), so a store that never
    # held them takes the purge alone, and must (the purge keeps the attachment out for good).
    "purge": (),
}


def links_of(entity: str, data: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(field, kind, id) for every record `data` (a validated record of `entity`) points at."""
    for field, kind, arity in _DIRECT.get(entity, ()):
        value = data.get(field)
        if arity == "one" and isinstance(value, str):
            yield field, kind, value
        elif arity == "many" and isinstance(value, list):
            yield from ((field, kind, v) for v in value if isinstance(v, str))
    if entity == "initiative":
        for provider in data.get("providers") or []:
            if isinstance(provider, dict) and isinstance(provider.get("org_id"), str):
                yield "providers", "organization", provider["org_id"]
    elif entity == "activity":
        participants = data.get("participants")
        if isinstance(participants, dict):
            for org_id in participants.get("organization_ids") or []:
                if isinstance(org_id, str):
                    yield "participants", "organization", org_id
    elif entity == "attachment":
        owner, owner_kind = data.get("owner_id"), data.get("owner_type")
        if isinstance(owner, str) and isinstance(owner_kind, str):
            yield "owner_id", owner_kind, owner


def kinds_pointing_at(kind: str) -> frozenset[str]:
    """The kinds of record that may point at a record of `kind` (by a field of their own)."""
    return frozenset(
        entity
        for entity, fields in _DIRECT.items()
        if any(target == kind for _, target, _ in fields)
    )
