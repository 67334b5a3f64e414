"""Which attachments' bytes a bundle must bring, and which of those it brings are worth keeping.

An attachment record names its bytes by their SHA-256 (`store/blobs.py` keeps them by it: in
the data folder, or in a hub's database). A
bundle carries the bytes of the attachment revisions in it as blob members (docs/bundle-format.md
§4), once per recipient; an import takes the revisions first, then the blobs, and before it
commits asks `missing_blobs`: a live revision that arrived without its bytes, which are not kept
here either, refuses the whole bundle. Kept in one place so that what needs no bytes (a record
purged on the hub, issue 19's purge) is said once, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.engine import Connection

from dxfield.store import blobs, purges
from dxfield.store.backend import backend_for
from dxfield.store.revisions import table_for
from dxfield.store.schema import REVISIONS

_revisions = REVISIONS


@dataclass(frozen=True)
class Needed:
    """A live attachment revision a bundle brought that this store did not hold: its place in the
    bundle (counted from 1, as a refusal names it), its record, and the bytes it names."""

    number: int
    entity_id: str
    rev_id: str
    sha256: str


def missing_blobs(
    conn: Connection, kept: Path | blobs.Kept, needed: Iterable[Needed], arrived: Set[str]
) -> list[Needed]:
    """Of `needed` (merged into the store in `conn`'s transaction, not yet committed), those whose
    bytes are neither among those the bundle brought (`arrived`) nor kept (`kept`: a data folder,
    or a store's blobs, a hub's asked in `conn`'s transaction), and that
    still need them once merged: a revision that is a leaf. One that a later revision follows
    (here or in the bundle: an edit, which names its own bytes, or a deletion) needs none; the
    sender may rightly have lacked them (pruned once the record was deleted there)."""
    kept = blobs.of_folder(kept)
    unknown = [n for n in needed if n.sha256 not in arrived]
    held = kept.sizes([n.sha256 for n in unknown], conn) if unknown else {}
    candidates = [n for n in unknown if n.sha256 not in held]
    if not candidates:
        return []
    leaves = _rev_ids(
        conn,
        [n.rev_id for n in candidates],
        _revisions.c.leaf.is_(True) & _revisions.c.deleted.is_(False),
    )
    # A record purged here (the hub's `purge`, one per attachment, perhaps in this very bundle)
    # needs no bytes: they are erased everywhere. Nor does one naming bytes a purge erased (the
    # same photo attached again elsewhere): the merge has purged or deleted it (`purges.settle`).
    purged = purges.purged_attachments(conn, [n.entity_id for n in candidates])
    erased = purges.purged_contents(conn, [n.sha256 for n in candidates])
    return [
        n
        for n in candidates
        if n.rev_id in leaves and n.entity_id not in purged and n.sha256 not in erased
    ]


def referenced_here(conn: Connection, sha256: str) -> bool:
    """Whether a live attachment record in the store (the bundle's merged in) names `sha256`."""
    table = table_for("attachment")
    found = conn.execute(
        select(table.c.id).where(table.c.sha256 == sha256, table.c.deleted.is_(False)).limit(1)
    ).first()
    return found is not None


def held_revisions(conn: Connection, rev_ids: Sequence[str]) -> set[str]:
    """Those of `rev_ids` the store holds."""
    return _rev_ids(conn, rev_ids, true())


def _rev_ids(conn: Connection, rev_ids: Sequence[str], where: ColumnElement[bool]) -> set[str]:
    found: set[str] = set()
    backend = backend_for(conn)
    for start in range(0, len(rev_ids), backend.batch):
        among = backend.among(_revisions.c.rev_id, rev_ids[start : start + backend.batch])
        found.update(conn.execute(select(_revisions.c.rev_id).where(among, where)).scalars())
    return found
