"""Purging an attachment's content on request (issue 19, erasure): the hub's `purge` record and
what every store does when it takes one.

Deleting an attachment keeps its history (its file name, caption and bytes stay in the store and
in every bundle). A resident who asks for a photo of them to be removed needs more: the hub writes
a purge (`purge_attachment`, hub only), one record per attachment, its id derived from the
attachment's (`ids.purge_id`), holding the attachment's id, the SHA-256 of its bytes and the
reason; who and when are the revision's author and stamp. The purge is signed by the hub and
travels in bundles like any record; a bundle bringing one whose author is not the hub is refused
whole (sync/authors.py).

Every store that takes a purge, in the transaction that takes it (`take`):

- deletes, once the transaction has committed (`Unit.after_commit`: a rollback leaves them), the
  blob of every SHA-256 a version of the attachment held here names (an earlier version, a
  conflict's losing side may name other bytes than the purge's `sha256`), and each one's
  thumbnail (`blobs.remove_blob`). The purge's own `sha256` is taken on its word only when this
  store holds no version of the attachment; when it holds some and none names it, that part is
  ignored, not refused: the hub wrote it from the attachment it held, so a mismatch is a fault,
  and bytes that a live record here uses and that no purged version names are not the purge's to
  erase (refusing would refuse every later bundle from the hub over one bad field);
- removes the personal fields of every version of the attachment it holds, in place: the file
  name becomes `purged` (`PURGED_FILE_NAME`), the caption "", the time taken null; the owner,
  type, size and SHA-256 are kept. Such a version no longer matches its id or its proof (both are
  cleared): `check` and history call it purged, not damaged, and no bundle sends it again (the
  purge travels instead);
- marks the attachment's row deleted, with the same fields removed, and drops it from the search.

Afterwards, versions of the purged attachment that arrive (from a laptop that had not heard of
the purge) are not stored (`without_purged`).

A purge is about the content. The bytes it erased (`erased`: those its attachment's versions named,
as above) are never kept again, whichever record brings them (`purged_contents`), and **no live
attachment record may name them**, since its bytes are gone. So, whenever a store takes a purge or
a new version of an attachment (`settle`, at the end of every merge and of every purge taken):
a live attachment, not purged, that names erased bytes (the same photo attached again elsewhere,
by a laptop that had not heard of the purge) is

- on the hub: purged too, with a purge of its own signed by the hub (the first purge's reason),
  which travels like the first; a deleted one too (its history holds its name and caption); the
  hub's `dxfield purge` purges every attachment that shares the bytes this way;
- on a laptop (which cannot write a purge): deleted, by an ordinary deletion of this device, so
  that it is never a live record without its bytes; the hub purges it when it arrives there, and
  that purge erases its personal fields here in turn.

Attaching erased bytes again is refused on every store (`attach.purged`). A bundle's live record
naming erased bytes needs none (`blob_refs.missing_blobs`): it is purged or deleted before the
import commits. Every export carries every purge, whatever the watermark (store/outgoing.py): a
store restored from a backup made before the purge gets it again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from dxfield import clock
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import PURGED_FILE_NAME, AttachmentRead, PurgeRead
from dxfield.i18n import N_, gettext, problems, quote
from dxfield.store import blobs, records, revisions, search_index
from dxfield.store.authorship import canonical_json, is_hub_account
from dxfield.store.backend import backend_for
from dxfield.store.ids import purge_id
from dxfield.store.schema import REVISIONS
from dxfield.store.unit import Unit, Work, unit_of

if TYPE_CHECKING:
    from dxfield.store.engine import Store

ENTITY = "purge"
ATTACHMENT = "attachment"
REDACTED = {"file_name": PURGED_FILE_NAME, "caption": "", "taken_at": None}
"""The personal fields of an attachment's versions, as a purge leaves them."""

PROBLEMS = problems(
    {
        "purge.not_hub": N_(
            "only the hub purges an attachment; {device} is not the hub (ask there: the purge "
            "reaches every store through the hub)"
        ),
        "purge.already": N_("the attachment {id} is purged already"),
        "check.purged_blob": N_(
            "the file of the purged attachment {id} is still in the data folder ({path}): delete it"
        ),
        "check.purged_row": N_(
            "the content of the purged attachment {id} is still in the hub's database ({sha256}): "
            "remove the attached content no record uses"
        ),
    }
)

_revisions = REVISIONS


@dataclass(frozen=True)
class PurgeNote:
    """A purged attachment as the lists show it: `消去済み (when, by whom, reason)`."""

    attachment_id: str
    purge: PurgeRead
    author: str
    """The hub's name as this store knows it (its id when unknown)."""

    def line(self, lang: str | None = None) -> str:
        """`purged (2026-12-03 14:05, by 兵庫県: the reason)` in `lang` (default: the user's)."""
        return gettext(N_("purged ({when}, by {who}: {reason})"), lang).format(
            when=when_purged(self.purge), who=self.author, reason=self.purge.reason
        )


def when_purged(purge: PurgeRead) -> str:
    """When the hub purged, in Japan's time (`YYYY-MM-DD HH:MM`)."""
    return clock.in_japan(purge.created_at).strftime("%Y-%m-%d %H:%M")


# -- the hub's verb ------------------------------------------------------------------------------


def sharing(work: Work, attachment_text: str) -> tuple[AttachmentRead, list[AttachmentRead]]:
    """The attachment `attachment_text` names (its id or a unique part; deleted ones too) and
    the other attachments that hold the same bytes and are not purged yet (purging it purges
    them too). Refused when it is purged already."""
    with unit_of(work, write=False) as unit:
        return _sharing(unit.conn, attachment_text)


def _sharing(conn: Connection, text: str) -> tuple[AttachmentRead, list[AttachmentRead]]:
    table = records.ATTACHMENTS.table
    attachment_id = records.resolve_id(conn, ATTACHMENT, text)
    if purged_attachments(conn, [attachment_id]):
        raise LocalizedError("purge.already", id=attachment_id)
    row = conn.execute(select(table).where(table.c.id == attachment_id)).mappings().one()
    found = records.ATTACHMENTS.to_read(row)
    others = [
        records.ATTACHMENTS.to_read(r)
        for r in conn.execute(
            select(table)
            .where(table.c.sha256 == found.sha256, table.c.id != attachment_id)
            .order_by(table.c.id)
        ).mappings()
    ]
    done = purged_attachments(conn, [o.id for o in others])
    return found, [o for o in others if o.id not in done]


def require_hub(work: Work) -> None:
    """Refuse, in one line, on any store but the hub's own account."""
    store = work if not isinstance(work, Unit) else work.store
    if not is_hub_account(store):
        raise LocalizedError("purge.not_hub", device=quote(store.device.name))


def purge_attachment(work: Work, attachment_text: str, reason: str) -> list[PurgeRead]:
    """On the hub: purge the attachment `attachment_text` names, and every other attachment that
    holds the same bytes (see the module's text), each with a purge of its own; returns the
    purges written, the named attachment's first. The blob is deleted once this commits."""
    require_hub(work)
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        found, others = _sharing(conn, attachment_text)
        _write_purge(unit, found.id, found.sha256, reason)  # and, by `settle`, the others
        for other in others:
            if not purged_attachments(conn, [other.id]):  # not sharing this version's bytes
                _write_purge(unit, other.id, other.sha256, reason)
        return [records.PURGES.get(unit, purge_id(a.id)) for a in (found, *others)]


def _write_purge(unit: Unit, attachment_id: str, sha256: str, reason: str) -> None:
    """Write the hub's purge of `attachment_id` and take it here."""
    content = records.validate(
        ENTITY, {"attachment_id": attachment_id, "sha256": sha256, "reason": reason}
    )
    revisions.write_record(unit, ENTITY, purge_id(attachment_id), content)
    take(unit, attachment_id, sha256)


# -- what every store does -----------------------------------------------------------------------


def take(unit: Unit, attachment_id: str, sha256: str) -> None:
    """The purge of `attachment_id` (whose bytes are `sha256`) taken here, in the unit's
    transaction: every version of the attachment loses its personal fields (and its proofs,
    which no longer match), its row likewise and deleted, its search entry dropped; the blobs
    its versions named (`erased_by`) and their thumbnails are deleted once the unit has
    committed, and a live record here that names them is purged or deleted (`settle`)."""
    unit.require_write()
    conn = unit.conn
    rows = conn.execute(
        select(_revisions.c.rev_id, _revisions.c.data).where(
            _revisions.c.entity == ATTACHMENT, _revisions.c.entity_id == attachment_id
        )
    ).all()
    named: set[str] = set()
    for row in rows:
        data = json.loads(row.data)
        if isinstance(data.get("sha256"), str):
            named.add(data["sha256"])
        redacted = {**data, **REDACTED}
        conn.execute(
            update(_revisions)
            .where(_revisions.c.rev_id == row.rev_id)
            .values(data=canonical_json(redacted), signature=None, attestation=None)
        )
    table = records.ATTACHMENTS.table
    conn.execute(update(table).where(table.c.id == attachment_id).values(**REDACTED, deleted=True))
    search_index.remove(conn, ATTACHMENT, attachment_id)
    # A folder's files once this commits; a hub's rows now, in this transaction (store/blobs.py).
    unit.store.blobs.remove(unit, erased_by(named, sha256))
    settle(unit)


def erased_by(named: set[str], sha256: str) -> set[str]:
    """The bytes a purge naming `sha256` erases where the attachment's versions name `named`:
    all of those; the purge's own word only when no version is held here (see the module's
    text: a purge's `sha256` that none of them names is ignored)."""
    return set(named) if named else {sha256}


def take_arrived(unit: Unit, purges: Iterable[Mapping[str, Any]]) -> None:
    """Take every purge among revisions just stored (each the content of a `purge` revision)."""
    for content in purges:
        attachment_id, sha256 = content.get("attachment_id"), content.get("sha256")
        if isinstance(attachment_id, str) and isinstance(sha256, str):
            take(unit, attachment_id, sha256)


def settle(unit: Unit) -> None:
    """No live record here names bytes a purge erased: on the hub each such attachment (live or
    deleted) is purged too (its own purge, the first one's reason), elsewhere a live one is
    deleted (see the module's text)."""
    conn = unit.conn
    reasons = _erased(conn)
    if not reasons:
        return
    table = records.ATTACHMENTS.table
    hub = is_hub_account(unit.store)
    # The hub purges a deleted one too: its history still holds its file name and caption.
    naming = table.c.sha256.in_(sorted(reasons))
    live = conn.execute(
        select(table.c.id, table.c.sha256)
        .where(naming if hub else naming & table.c.deleted.is_(False))
        .order_by(table.c.id)
    ).all()
    if not live:
        return
    purged = purged_attachments(conn, [row.id for row in live])
    deleted: list[str] = []
    for row in live:
        if row.id in purged:
            continue
        if hub:
            _write_purge(unit, row.id, row.sha256, reasons[row.sha256][0])
        else:
            revisions.write_record(unit, ATTACHMENT, row.id, None, deleted=True)
            deleted.append(row.sha256)
    if deleted:
        unit.store.blobs.remove(unit, deleted)


def without_purged(
    conn: Connection, incoming: Sequence[dict[str, Any]], contents: Mapping[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """`incoming` revisions (not held here yet) without the versions of attachments that are
    purged, here or by a purge among them; and how many were left out. `contents`: each
    revision's record, by revision id."""
    attachments = sorted({r["entity_id"] for r in incoming if r["entity"] == ATTACHMENT})
    if not attachments:
        return list(incoming), 0
    purged = purged_attachments(conn, attachments)
    for revision in incoming:
        if revision["entity"] == ENTITY:
            named = contents[revision["rev_id"]].get("attachment_id")
            if isinstance(named, str):
                purged.add(named)
    kept = [r for r in incoming if not (r["entity"] == ATTACHMENT and r["entity_id"] in purged)]
    return kept, len(incoming) - len(kept)


# -- questions others ask ------------------------------------------------------------------------


def purged_attachments(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Those of the attachment ids `ids` that are purged here: their bytes are gone, and a bundle
    neither brings nor needs them (the blob-required rule exempts them)."""
    table = records.PURGES.table
    wanted = sorted(set(ids))
    found: set[str] = set()
    backend = backend_for(conn)
    for start in range(0, len(wanted), backend.batch):
        among = backend.among(table.c.attachment_id, wanted[start : start + backend.batch])
        found.update(conn.execute(select(table.c.attachment_id).where(among)).scalars())
    return found


def forget_purged_thumbnails(store: Store) -> int:
    """Remove this person's thumbnails of erased bytes, and any copy of them an earlier build
    left in their folder (before the hub kept blobs in its database); how many. On a hub the
    team shares the database but each person keeps thumbnails in their own folder: a purge made
    by a colleague erases the bytes for all, and each person's copies go at their next open."""
    try:
        held = set(blobs.thumbnails(store.data_dir))
        held.update(sha256 for sha256, _path in blobs.kept_blobs(store.data_dir))
    except OSError:  # a folder that cannot be listed: `check` names what it can
        return 0
    if not held:
        return 0
    with store.read() as conn:
        erased = purged_contents(conn, held)
    for sha256 in erased:
        blobs.remove_blob(store.data_dir, sha256)  # the copy, and its thumbnail
    return len(erased)


def purged_contents(conn: Connection, shas: Iterable[str]) -> set[str]:
    """Those of the SHA-256s `shas` whose bytes a purge erased here (`erased_by`): never kept
    again from a bundle, whichever attachment brings them (the same bytes attached again
    elsewhere), and never named by a live record once a merge is done (`settle`)."""
    wanted = set(shas)
    if not wanted:
        return set()
    return wanted & set(_erased(conn))


def _erased(conn: Connection) -> dict[str, tuple[str, str]]:
    """Every SHA-256 a purge erased here, with that purge's reason and attachment (the first
    purge's, by attachment id, when several erased the same bytes). Purges are few: read
    whole."""
    table = records.PURGES.table
    found = conn.execute(
        select(table.c.attachment_id, table.c.sha256, table.c.reason).order_by(
            table.c.attachment_id
        )
    ).all()
    if not found:
        return {}
    named: dict[str, set[str]] = {}
    ids = [row.attachment_id for row in found]
    backend = backend_for(conn)
    for start in range(0, len(ids), backend.batch):
        among = backend.among(_revisions.c.entity_id, ids[start : start + backend.batch])
        for entity_id, data in conn.execute(
            select(_revisions.c.entity_id, _revisions.c.data).where(
                among, _revisions.c.entity == ATTACHMENT
            )
        ):
            content = json.loads(data) if data else None
            sha256 = content.get("sha256") if isinstance(content, dict) else None
            if isinstance(sha256, str):
                named.setdefault(entity_id, set()).add(sha256)
    reasons: dict[str, tuple[str, str]] = {}
    for row in found:
        for sha256 in sorted(erased_by(named.get(row.attachment_id, set()), row.sha256)):
            reasons.setdefault(sha256, (row.reason, row.attachment_id))
    return reasons


def purges_of(
    work: Work, ids: Iterable[str], names: Mapping[str, str] | None = None
) -> dict[str, PurgeNote]:
    """For each of the attachment ids `ids` that is purged: its purge, with its author's name
    (from `names`, by device id: `sync.authors.names_here`; else the names given here)."""
    from dxfield.store.local_state import device_names

    table = records.PURGES.table
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        purged = purged_attachments(conn, ids)
        rows = (
            conn.execute(select(table).where(table.c.attachment_id.in_(sorted(purged))))
            .mappings()
            .all()
            if purged
            else []
        )
        found = [records.PURGES.to_read(row) for row in rows]
        if names is None:
            names = device_names(unit.store) if found else {}
    return {
        p.attachment_id: PurgeNote(p.attachment_id, p, names.get(p.device_id, p.device_id))
        for p in found
    }


def purged_of_owner(
    work: Work, owner_id: str, names: Mapping[str, str] | None = None
) -> list[PurgeNote]:
    """The purged attachments of the activity or finding `owner_id` (its id or a unique part),
    oldest purge first: what the lists show as 消去済み in place of the file."""
    table = records.ATTACHMENTS.table
    with unit_of(work, write=False) as unit:
        owners = []
        for repository in (records.ACTIVITIES, records.FINDINGS):
            with contextlib.suppress(LocalizedError):
                owners.append(repository.resolve(unit, owner_id))
        ids = list(
            unit.conn.execute(select(table.c.id).where(table.c.owner_id.in_(owners))).scalars()
        )
        found = purges_of(unit, ids, names) if ids else {}
    return sorted(found.values(), key=lambda n: (n.purge.created_at, n.attachment_id))


def left_behind(conn: Connection, kept: Path | blobs.Kept) -> list[LocalizedError]:
    """The purged files still kept (in the data folder: one that could not be deleted when the
    purge was taken, or put back by hand; in a hub's database: rows put back), each as `check`
    says it."""
    kept = blobs.of_folder(kept)
    found = []
    erased = sorted(_erased(conn).items(), key=lambda item: (item[1][1], item[0]))
    held = kept.sizes([sha for sha, _ in erased], conn)
    for sha256, (_reason, attachment_id) in erased:
        if sha256 not in held:
            continue
        if kept.in_database:
            found.append(LocalizedError("check.purged_row", id=attachment_id, sha256=sha256))
        else:
            path = blobs.blob_path(kept.data_dir, sha256)
            found.append(LocalizedError("check.purged_blob", id=attachment_id, path=str(path)))
    return found
