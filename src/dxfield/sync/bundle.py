"""Sync bundles: export and import, one signed, encrypted file of revisions for one device.

dxfield writes format 2 (docs/bundle-format.md): the streamed container of `sync.container`
holding a manifest, the hub's roster, the revisions (each with its author's signature or the
hub's attestation) and blobs. Reading checks the container as it streams (signature before any
chunk, each chunk against its hash), then each revision on its own (its id the hash of its
content, its record valid), then its authorship (`sync.authors`: a known, unrevoked author whose
signature verifies, or the hub's attestation). The whole file is checked first, without the
write lock (others keep saving meanwhile), what was checked spooled; then it is merged in one
transaction, which a refusal anywhere in the file rolls back whole: nothing of a refused bundle
is kept.

Format 1, from releases before, is read only on the hub, only while it accepts it
(`accept_format_1_until`), only from enrolled devices: their own revisions in it are attested by
the hub as they are taken, and any other must be held already.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from nacl.public import PublicKey
from nacl.signing import VerifyKey
from sqlalchemy.engine import Connection

from dxfield import clock
from dxfield.collector import collector_eased
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.domain.records import MAX_ATTACHMENT_BYTES
from dxfield.i18n import N_, problems, quote
from dxfield.store import blob_refs, blobs, files, local_state, merge, outgoing, purges
from dxfield.store.attachments import size_text
from dxfield.store.authorship import is_hub_account, known_keys
from dxfield.store.engine import Store
from dxfield.store.files import guard_output
from dxfield.store.spool import Spool
from dxfield.store.unit import Unit
from dxfield.store.waits import still_wanted
from dxfield.sync import container, format1
from dxfield.sync.authors import HUB_ONLY_KINDS, Checking, authors_of
from dxfield.sync.keys import TrustedDevice, device_keys, find_trusted, list_trusted
from dxfield.sync.roster import (
    Roster,
    follow_sender_keys,
    hub_key_chain,
    hub_roster,
    keep_roster_in,
    newest_held,
    offered_roster,
    roster_hub_id,
)
from dxfield.sync.wire import (
    MAGIC,
    MANIFEST_FORMAT,
    VERSION_DIGITS,
    BundleError,
    refuse,
    version_of,
)

FORMAT_VERSION = container.FORMAT_VERSION
_WATERMARK = local_state.EXPORT_WATERMARK
_LOG = "bundle-log:"
ACCEPT_V1 = "accept-format-1-until"
"""local_state on the hub: the last day (Japan's) it takes format-1 bundles."""
_MANIFEST_KEYS = frozenset(
    {"format", "version", "sender", "recipient", "created_at", "full", "revisions", "blobs"}
)

PROBLEMS = problems(
    {
        "bundle.format_1_here": N_(
            "bundle refused: {device} made it with an older dxfield (format 1); update dxfield "
            "there and export again"
        ),
        "bundle.format_1_closed": N_(
            "bundle refused: {device} made it with an older dxfield (format 1), and the hub no "
            "longer takes those; update dxfield there and export again"
        ),
        "bundle.not_sender_v1": N_(
            "bundle refused: revision {number}: it came unsigned from {sender} but was written "
            "by {author}, and this store does not hold it; {author} must send it"
        ),
        "bundle.members_order": N_(
            "bundle refused: member {number} ({kind}) is not where it belongs (a manifest "
            "first, at most one roster, then revisions and attachments)"
        ),
        "bundle.manifest_mismatch_v2": N_(
            "bundle refused: the manifest does not match the contents ({part})"
        ),
        "bundle.roster_refused": N_("bundle refused: the roster: {problem}"),
        "bundle.accept_v1_past": N_(
            "{date} is in the past: the hub would take no format-1 bundle at all"
        ),
        "bundle.accept_v1_not_hub": N_(
            "only the hub decides which bundles it takes; {device} is not the hub"
        ),
        "bundle.blob_missing": N_(
            "bundle refused: revision {number}: the attachment's bytes ({sha256}) are neither "
            "in the bundle nor kept here ({device} may lack them too)"
        ),
        "bundle.too_many_blobs": N_(
            "bundle refused: it holds more than {limit} attachments (a bundle holds at most "
            "that many)"
        ),
        "bundle.blobs_too_large": N_(
            "bundle refused: its attachments take more than {limit} (a bundle holds at most "
            "that much)"
        ),
        "bundle.blob_too_large": N_(
            "bundle refused: the attachment {sha256} is larger than an attachment may be ({limit})"
        ),
        "bundle.export_too_large": N_(
            "cannot write the bundle: its {count} attachments take {size}, more than one bundle "
            "holds (at most {count_limit} attachments, {size_limit}); split it into parts of a "
            "largest size (for example 1G)"
        ),
        "bundle.max_size_too_small": N_(
            "a largest part of {size} is too small: every part carries all the records without their "
            "attachments, about {text}; choose a larger size"
        ),
        "bundle.max_size_too_large": N_(
            "a largest part of {size} is larger than a bundle may be; at most {limit}"
        ),
        "bundle.bad_size": N_("cannot read {value} as a size (for example 50M or 1G)"),
        "bundle.part_exists": N_(
            "{path} exists already; choose another name (a split export writes NAME-1-of-N.dxb "
            "and so on, and overwrites none)"
        ),
    }
)

MAX_BUNDLE_BLOBS = 10_000
"""Attachments one bundle holds at most: each is a file of its own written while the bundle is
read (on a hub, then written as rows under the store's write lock)."""
MAX_BUNDLE_BLOB_BYTES = 3 << 30
"""Their bytes, at most (3 GiB): a bundle then still fits a FAT32 USB stick (4 GiB a file), and
an import takes a minute or so at most. Larger exports are split (`export --max-size`)."""


@dataclass(frozen=True)
class ExportResult:
    """What `export_bundle` wrote."""

    path: Path
    recipient: str
    revisions: int
    """Revisions the bundle carries (every purge among them, each time)."""
    bytes: int
    encrypted: bool
    full: bool
    unsent: int = 0
    """Revisions that arrived since the last bundle but carry no proof of who wrote them (taken
    from another laptop before format 2): not sent; their authors send them, signed."""
    blobs: int = 0
    """Attachments' bytes sent (in all the parts; one sent in two parts counts twice)."""
    blob_bytes: int = 0
    missing_blobs: int = 0
    """Attachments whose bytes this store does not keep (never had, or purged): not sent."""
    parts: tuple[Path, ...] = ()
    """A split export (`max_size`): every part, in order (`path` is the first)."""
    oversized: int = 0
    """Parts larger than `max_size`: each holds one attachment's record with bytes larger
    than it, alone."""
    new: int = 0
    """Of `revisions`, those the recipient has not acknowledged (arrived here after its
    watermark). A purge it has is carried again (a store restored from an older backup needs
    it) but is not new."""

    @property
    def nothing_new(self) -> bool:
        """Nothing the recipient lacks, as far as its watermark says: no new revision and no
        attachment's bytes (purges it has, carried again, do not count)."""
        return self.new == 0 and self.blobs == 0


@dataclass(frozen=True)
class ImportResult:
    """What `import_bundle` did with one file (nothing, with `dry_run`)."""

    path: Path
    sender: str
    revisions: int
    new: int
    updated: int
    unchanged: int
    conflicting: int
    skewed: int
    dry_run: bool
    format: int = FORMAT_VERSION
    unsigned: int = 0
    """Format 1: the sender's own revisions that came unsigned and the hub attested."""
    blobs: int = 0
    roster: int | None = None
    """The serial of the hub's roster this import took (None: it took none)."""
    purged: int = 0
    """Versions of attachments purged here that the bundle brought and were left out (from a
    device that had not heard of the purge yet)."""
    ignored_blobs: int = 0
    """Attachments' bytes that no live record names, here or in the bundle: checked, not kept."""


# -- export --------------------------------------------------------------------------------------


def require_hub_account(store: Store) -> None:
    """On a shared hub, bundles are the hub's: signed and opened with the hub's keys, counted
    against its watermarks. A colleague's account (their own keys) neither sends nor takes them."""
    if store.hub_id is not None and store.device.id != store.hub_id:
        raise refuse("bundle.not_hub_account", device=store.device.name)


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


@collector_eased()
def export_bundle(
    store: Store,
    out: Path,
    recipient: str,
    *,
    full: bool = False,
    encrypt: bool = True,
    max_size: int | None = None,
) -> ExportResult:
    """Write one format-2 bundle for the device `recipient` (name or id; trusted here, or
    enrolled in the hub's roster this store holds): every revision that arrived here since the
    last bundle for it (`full`: all of them) with its proof, the hub's roster, and the bytes of
    the attachments those revisions name that the recipient does not hold yet.

    `max_size` (bytes) splits it into parts `NAME-1-of-N.dxb`… of at most that size that import
    in any order: each carries every revision but the attachments' (small, and taken again
    without change), and its share of attachment records with their bytes (see `_split`)."""
    require_hub_account(store)
    target = _recipient(store, recipient)
    keys = device_keys(store)
    if max_size is not None and max_size > MAX_BUNDLE_BLOB_BYTES:
        raise LocalizedError(
            "bundle.max_size_too_large",
            size=size_text(max_size),
            limit=size_text(MAX_BUNDLE_BLOB_BYTES),
        )
    if is_hub_account(store):
        roster_data: bytes | None = hub_roster(store)
    else:
        held = newest_held(store)
        roster_data = held[1] if held is not None else None
    watermark_key = _WATERMARK + target.card.id
    watermark = 0 if full else int(local_state.get_value(store, watermark_key, 0))
    encryption = PublicKey(base64.b64decode(target.card.encryption_key)) if encrypt else None
    with store.read() as conn:
        left_out = outgoing.withheld(conn, watermark, known_keys(store, conn).revoked)
        counts = outgoing.counts_since(conn, watermark, left_out)
        count, unsent, newest = counts.sent, counts.unsent, counts.newest
        refs = outgoing.attachment_refs_since(conn, watermark, left_out)
        sent_before = (
            frozenset() if full else outgoing.blobs_held_by(conn, target.card.id, watermark)
        )
        kept = store.blobs
        groups, missing = _attachment_groups(
            kept,
            conn,
            refs,
            sent_before,
            outgoing.pointing_at_attachments(conn, watermark, left_out),
        )
        if max_size is None:
            parts = [_Part(None, groups)]
            _within_caps(parts[0])
        else:
            grouped = frozenset(r for g in groups for r in g.rev_ids)
            text = sum(
                len(line) + 1
                for page in outgoing.signed_lines_since(
                    conn, watermark, left_out=left_out | grouped
                )
                for line in page
            )
            fixed = text + len(roster_data or b"") + 4096
            parts = _split(groups, max_size, fixed)
        grouped_ids = frozenset(r for g in groups for r in g.rev_ids)
        paths = _part_paths(store, out, len(parts))

        def members(part: _Part) -> Iterator[container.Member]:
            blobs_in = part.blobs()
            yield container.Manifest(
                {
                    "format": MANIFEST_FORMAT,
                    "version": FORMAT_VERSION,
                    "sender": store.device.id,
                    "recipient": target.card.id,
                    "created_at": _now(),
                    "full": full,
                    "revisions": count - len(grouped_ids) + len(part.rev_ids())
                    if part.split is not None
                    else count,
                    "blobs": len(blobs_in),
                }
            )
            if roster_data is not None:
                yield container.Roster(json.loads(roster_data))
            if part.split is None:
                for page in outgoing.signed_lines_since(conn, watermark, left_out=left_out):
                    yield container.Revisions(page)
            else:
                # Every revision but the attachments' first (an attachment's owner is then
                # here before it), then this part's attachment records.
                for page in outgoing.signed_lines_since(
                    conn, watermark, left_out=left_out | grouped_ids
                ):
                    yield container.Revisions(page)
                for page in outgoing.signed_lines_since(
                    conn, watermark, left_out=left_out, only=part.rev_ids()
                ):
                    yield container.Revisions(page)
            for sha256, size in blobs_in:
                yield container.Blob(sha256, size, _blob_pieces(_Source(kept, conn), sha256))

        written = _write_parts(
            store,
            paths,
            parts,
            lambda part, path: container.write_container(
                path,
                keys.signing,
                store.device.id,
                target.card.id,
                encryption,
                members(part),
                data_dir=store.data_dir,
                sender_keys=hub_key_chain(store) if is_hub_account(store) else None,
            ),
        )
    # Forward only: of two exports to one device at once, the one that read less may finish
    # last; its watermark must not take the other's back (that would send it all again).
    with store.unit() as unit:
        if newest > int(local_state.get_value(unit, watermark_key, 0)):
            local_state.put_value(unit, watermark_key, newest)
    sent = [blob for part in parts for blob in part.blobs()]
    for path, item in zip(paths, written, strict=True):
        _log(store, "out", target, path, item.head_sha256, {"revisions": count, "full": full})
    return ExportResult(
        paths[0],
        target.name,
        count,
        sum(item.bytes for item in written),
        encrypt,
        full,
        unsent,
        blobs=len(sent),
        blob_bytes=sum(size for _, size in sent),
        missing_blobs=missing,
        parts=tuple(paths) if max_size is not None else (),
        oversized=sum(1 for part in parts if max_size is not None and part.size > max_size),
        new=counts.new,
    )


@dataclass
class _Group:
    """One attachment record's revisions in an export, and the bytes they send (those its live
    revisions name that the recipient does not hold and this store keeps)."""

    rev_ids: list[str]
    blobs: dict[str, int]


@dataclass
class _Part:
    """What one bundle of an export carries besides the other revisions: attachment records
    with their bytes. `split` is None for a whole export, else the part's planned size."""

    split: int | None
    groups: list[_Group]

    def rev_ids(self) -> frozenset[str]:
        return frozenset(r for g in self.groups for r in g.rev_ids)

    def blobs(self) -> list[tuple[str, int]]:
        """Each attachment's bytes once, in the order their records came."""
        found: dict[str, int] = {}
        for group in self.groups:
            for sha256, size in group.blobs.items():
                found.setdefault(sha256, size)
        return list(found.items())

    @property
    def size(self) -> int:
        return self.split or 0


def _attachment_groups(
    kept: blobs.Kept,
    conn: Connection,
    refs: list[outgoing.AttachmentRef],
    sent_before: frozenset[str],
    pointing: Sequence[tuple[str, str]] = (),
) -> tuple[list[_Group], int]:
    """The export's attachment records, in the order they first come, each with the bytes it
    sends and the revisions that point at it (`pointing`: revision, attachment); and how many
    attachments' bytes this store lacks (not sent)."""
    groups: dict[str, _Group] = {}
    missing: set[str] = set()
    sizes = kept.sizes(
        {r.sha256 for r in refs if not r.deleted and r.leaf and r.sha256 not in sent_before}, conn
    )
    for ref in refs:
        group = groups.setdefault(ref.entity_id, _Group([], {}))
        group.rev_ids.append(ref.rev_id)
        # Only a live leaf needs its bytes where it goes (`blob_refs.missing_blobs`): one that
        # an edit or a deletion follows does not, and its bytes may rightly be gone here.
        if ref.deleted or not ref.leaf or ref.sha256 in sent_before or ref.sha256 in group.blobs:
            continue
        size = sizes.get(ref.sha256)
        if size is None:
            missing.add(ref.sha256)
            continue
        group.blobs[ref.sha256] = size
    for rev_id, attachment_id in pointing:
        groups.setdefault(attachment_id, _Group([], {})).rev_ids.append(rev_id)
    return list(groups.values()), len(missing)


def _within_caps(part: _Part) -> None:
    sent = part.blobs()
    total = sum(size for _, size in sent)
    if len(sent) > MAX_BUNDLE_BLOBS or total > MAX_BUNDLE_BLOB_BYTES:
        raise LocalizedError(
            "bundle.export_too_large",
            count=len(sent),
            size=size_text(total),
            count_limit=MAX_BUNDLE_BLOBS,
            size_limit=size_text(MAX_BUNDLE_BLOB_BYTES),
        )


_BLOB_LINE = 140
"""A blob member's line, at most (its JSON names the hash and the size)."""


def _bound(plain: int) -> int:
    """The most a bundle of `plain` bytes of plain text takes as a file: zlib's bound for
    incompressible input (a 4,096th more, and 13 bytes a chunk), the stream's tag, each chunk's
    length and its hash in the header, and the rest of the header."""
    chunks = plain // container.CHUNK_BYTES + 1
    return plain + plain // 4096 + plain // 16384 + chunks * (13 + 17 + 4 + 70) + 4096


def _split(groups: list[_Group], max_size: int, fixed: int) -> list[_Part]:
    """The parts of an export of at most `max_size` bytes each: every part carries `fixed`
    bytes (the other revisions, the roster), and attachment records with their bytes are
    spread over them in the order they come, a part closed when the next record would take it
    over `max_size` or over a bundle's caps. A record whose bytes alone take a part over
    `max_size` goes alone in a part of its own."""
    if _bound(fixed) > max_size:
        raise LocalizedError(
            "bundle.max_size_too_small", size=size_text(max_size), text=size_text(fixed)
        )
    parts: list[_Part] = []
    current: list[_Group] = []
    plain, count, blob_bytes = fixed, 0, 0
    held: set[str] = set()

    def close() -> None:
        parts.append(_Part(_bound(plain), current))

    for group in groups:
        new = {sha: size for sha, size in group.blobs.items() if sha not in held}
        more = sum(new.values())
        grown = plain + more + _BLOB_LINE * len(new) + 512 * len(group.rev_ids)
        if current and (
            _bound(grown) > max_size
            or count + len(new) > MAX_BUNDLE_BLOBS
            or blob_bytes + more > MAX_BUNDLE_BLOB_BYTES
        ):
            close()
            current, held = [], set()
            plain, count, blob_bytes = fixed, 0, 0
            new = dict(group.blobs)
            more = sum(new.values())
            grown = plain + more + _BLOB_LINE * len(new) + 512 * len(group.rev_ids)
        current.append(group)
        held.update(new)
        plain, count, blob_bytes = grown, count + len(new), blob_bytes + more
    close()
    return parts


def _part_paths(store: Store, out: Path, count: int) -> list[Path]:
    """Where the parts go: `out` itself for one, else `STEM-1-of-N.dxb`… beside it; none may be
    there already, nor be a data folder's file."""
    if count == 1:
        return [out]
    suffix = out.suffix or ".dxb"
    paths = [out.with_name(f"{out.stem}-{n}-of-{count}{suffix}") for n in range(1, count + 1)]
    for path in paths:
        guard_output(store.data_dir, path)
        if os.path.lexists(path):
            raise LocalizedError("bundle.part_exists", path=quote(str(path), 160))
    return paths


def _write_parts(
    store: Store,
    paths: list[Path],
    parts: list[_Part],
    write: Callable[[_Part, Path], container.Written],
) -> list[container.Written]:
    """Each part written whole under a hidden name beside its place, then all put in place: a
    failure (a full disk) or a kill midway leaves none of them under its name."""
    if len(parts) == 1:
        return [write(parts[0], paths[0])]
    hidden = [path.with_name(f".{path.name}.{os.getpid()}.part") for path in paths]
    written: list[container.Written] = []
    try:
        for part, path in zip(parts, hidden, strict=True):
            written.append(write(part, path))
        for source, path in zip(hidden, paths, strict=True):
            os.replace(source, path)
    except OSError as exc:
        raise LocalizedError(
            "bundle.cannot_write", path=quote(str(paths[0]), 160), reason=exc.strerror or ""
        ) from None
    finally:
        for path in hidden:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    return [
        container.Written(path, w.bytes, w.chunks, w.encrypted, w.head_sha256)
        for path, w in zip(paths, written, strict=True)
    ]


@dataclass(frozen=True)
class _Source:
    """Where an export reads blobs: the store's, in the export's own transaction `conn`."""

    kept: blobs.Kept
    conn: Connection


def _blob_pieces(source: _Source, sha256: str) -> Iterator[bytes]:
    """The bytes kept under `sha256`, a MiB at a time, opened only when they are read (a hub's
    chunk by chunk in the export's transaction; the writer checks them against their size and
    hash as it goes)."""
    with source.kept.open(sha256, source.conn) as handle:
        while piece := handle.read(1 << 20):
            yield piece


@contextlib.contextmanager
def _arriving_blobs(store: Store) -> Iterator[blobs.Staging]:
    """Where an import's check writes the bundle's blobs, as files: beside their place in a
    laptop's folder (the write renames them into it); on a hub, whose blobs are rows, in a
    folder of their own in its data folder (the write makes them rows of its unit; the folder
    goes after, and `check` and `prune` find what a killed import left in it)."""
    if not store.shared:
        with blobs.Staging(store.data_dir) as staging:
            yield staging
        return
    with (
        tempfile.TemporaryDirectory(dir=store.data_dir, prefix=blobs.STAGING_PREFIX) as folder,
        blobs.Staging(Path(folder)) as staging,
    ):
        yield staging


def _file_pieces(path: Path) -> Iterator[bytes]:
    """A staged blob's bytes, a MiB at a time (whoever keeps them checks their hash again)."""
    with path.open("rb") as handle:
        while piece := handle.read(blobs.CHUNK_BYTES):
            yield piece


def parse_size(text: str) -> int:
    """`50M`, `1G`, `700K`, `2.5G` or a number of bytes (K, M, G of 1,024; `MB` and so on too)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGkmg]?)(?:[Bb]|i[Bb])?\s*", text)
    if found is None:
        raise LocalizedError("bundle.bad_size", value=quote(text, 40))
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[found.group(2).lower()]
    size = int(float(found.group(1)) * scale)
    if size <= 0:
        raise LocalizedError("bundle.bad_size", value=quote(text, 40))
    return size


def _recipient(store: Store, text: str) -> TrustedDevice:
    """The device `text` names: trusted here, or else enrolled in the roster this store holds
    (a laptop that trusts only the hub's card sends to its colleagues through the roster)."""
    try:
        device = find_trusted(store, text)
    except NotFound:
        held = newest_held(store)
        found = _in_roster(held[0], text) if held is not None else None
        if found is None:
            raise
        device = found
    if device.revoked:
        raise LocalizedError("bundle.recipient_revoked", device=quote(device.name))
    return device


def recipients(store: Store) -> list[TrustedDevice]:
    """The devices this store may write a bundle for: those it trusts and has not revoked, and
    those enrolled and not revoked in the hub's roster it holds; by name."""
    found = {t.card.id: t for t in list_trusted(store) if not t.revoked}
    held = newest_held(store)
    if held is not None:
        for entry in held[0].devices:
            if entry.revoked_at is None and entry.card.id != store.device.id:
                found.setdefault(entry.card.id, TrustedDevice(entry.card, entry.card.name))
        hub = held[0].hub
        if hub.id != store.device.id and hub.id not in found:
            found[hub.id] = TrustedDevice(hub, hub.name)
    return sorted(found.values(), key=lambda t: (t.name, t.card.id))


def _in_roster(roster: Roster, text: str) -> TrustedDevice | None:
    for entry in roster.devices:
        if text in (entry.card.id, entry.card.name):
            return TrustedDevice(entry.card, entry.card.name, entry.revoked_at is not None)
    return None


def _log(
    store: Store,
    direction: str,
    peer: TrustedDevice,
    path: Path,
    digest: str,
    counts: dict[str, Any],
) -> None:
    """Note a bundle written or read. `digest` names it: the SHA-256 of its signed head (format
    2, whose head names every chunk's hash), or of the whole file (format 1: one signed
    document, all head)."""
    at = _now()
    local_state.put_value(
        store,
        f"{_LOG}{at}-{direction}-{digest[:16]}",
        {
            "direction": direction,
            "peer": peer.name,
            "peer_id": peer.card.id,
            "file": str(path),
            "head_sha256": digest,
            "at": at,
            **counts,
        },
    )


def bundle_log(store: Store) -> list[dict[str, Any]]:
    """Bundles written and read here, newest first."""
    entries = local_state.values_with_prefix(store, _LOG)
    return [entries[key] for key in sorted(entries, reverse=True)]


def unexported_counts(store: Store) -> dict[str, int]:
    """For each device this store may send to: how many revisions arrived here since its last
    bundle."""
    result = {}
    with store.read() as conn:
        for device in recipients(store):
            watermark = int(local_state.get_value(store, _WATERMARK + device.card.id, 0))
            result[device.name] = merge.count_revisions_since(conn, watermark)
    return result


# -- the format-1 window on the hub ------------------------------------------------------------


def accept_format_1_until(store: Store, until: dt.date | None) -> dt.date | None:
    """On the hub: take format-1 bundles from enrolled devices until `until` (Japan's date,
    included), or no longer (None). Returns the date now set."""
    if not is_hub_account(store):
        raise LocalizedError("bundle.accept_v1_not_hub", device=quote(store.device.name))
    if until is not None and until < clock.today():
        raise LocalizedError("bundle.accept_v1_past", date=until.isoformat())
    local_state.put_value(store, ACCEPT_V1, until.isoformat() if until is not None else None)
    return until


def format_1_window(store: Store) -> dt.date | None:
    """The last day the hub takes format-1 bundles (None: it takes none)."""
    value = local_state.get_value(store, ACCEPT_V1)
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# -- import --------------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside the transaction of a dry run, so that it rolls back."""


@dataclass
class _Known:
    """The devices whose bundles this store takes: those it trusts, and on a laptop those of the
    hub's roster it holds (the hub's current key from the roster's chain)."""

    trusted: dict[str, TrustedDevice]
    roster: Roster | None

    @classmethod
    def of(cls, store: Store) -> _Known:
        # The hub knows whom it trusts: a roster it was sent (another "hub"'s) counts for nothing.
        held = None if is_hub_account(store) else newest_held(store)
        trusted = {t.card.id: t for t in list_trusted(store)}
        return cls(trusted, held[0] if held is not None else None)

    def sender(self, sender_id: object) -> TrustedDevice:
        """The sender `sender_id`, refused when unknown or revoked."""
        if not isinstance(sender_id, str):
            raise refuse("bundle.no_sender")
        found = self.trusted.get(sender_id)
        roster = self.roster
        if roster is not None:
            # The hub's roster says who is enrolled and revoked, and with which card; a card
            # trusted by hand stays revoked if this store revoked it.
            entry = roster.entry(sender_id)
            mine = found is not None and found.revoked
            if sender_id == roster.hub.id:
                name = found.name if found is not None else roster.hub.name
                found = TrustedDevice(roster.hub, name, mine)
            elif entry is not None:
                name = found.name if found is not None else entry.card.name
                found = TrustedDevice(entry.card, name, mine or entry.revoked_at is not None)
        if found is None:
            raise refuse("bundle.untrusted_sender", device=quote(sender_id))
        if found.revoked:
            raise refuse("bundle.revoked_sender", device=quote(found.name))
        return found

    def verify_key(self, sender_id: object, sender_keys: object = None) -> VerifyKey:
        """The key the bundle's header must verify with: the sender's, or for a hub that has
        rotated its key, the end of the chain the header carries, followed from the key known
        here (each step signed by the one before)."""
        card = self.sender(sender_id).card
        if sender_keys is not None:
            try:
                card = follow_sender_keys(card, sender_keys)
            except LocalizedError:
                raise refuse("bundle.bad_header", part="sender_keys") from None
        return VerifyKey(base64.b64decode(card.signing_key))


@collector_eased()
def import_bundle(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    waiting: Callable[[], object] | None = None,
) -> ImportResult:
    """Verify, decrypt and check one bundle, then merge it in one transaction (none of it on
    error). `waiting`, when given, is called once should another writer (another import) hold
    the write lock when the merge comes: the import then waits for it however long, where it
    would otherwise give up as "busy" after the check's work."""
    require_hub_account(store)
    version = _version(path)
    if version == 1:
        return _import_format_1(store, path, dry_run, waiting)
    if version > FORMAT_VERSION:
        raise refuse("bundle.newer_format", version=version)
    if version != FORMAT_VERSION:
        raise refuse("bundle.wrong_version")
    return _Import(store, path, dry_run, waiting).run()


def read_bundle(store: Store, path: Path) -> tuple[TrustedDevice, list[dict[str, Any]]]:
    """Read and check a format-2 bundle for this store without taking any of it: its sender and
    its revisions as they would be inserted (each checked on its own, with its proof; not yet
    against this store or its authors). Any problem is a BundleError naming it."""
    if _version(path) != FORMAT_VERSION:
        raise refuse("bundle.wrong_version")
    known = _Known.of(store)
    rows: list[dict[str, Any]] = []
    with container.ContainerReader(
        path, known.verify_key, store.device.id, device_keys(store).encryption
    ) as reader:
        for member in reader.members():
            if isinstance(member, container.Revisions):
                for revision in member.lines:
                    try:
                        rows.append(merge.check_signed_revision(revision)[0])
                    except LocalizedError as exc:
                        raise format1.refused_revision(len(rows) + 1, exc) from None
        return known.sender(reader.header.sender), rows


def _version(path: Path) -> int:
    try:
        with files.open_regular_file(path) as handle:
            first = handle.read(len(MAGIC) + VERSION_DIGITS + 1)
    except LocalizedError as exc:
        raise refuse("bundle.unreadable_file", problem=exc) from None
    except OSError as exc:
        problem = LocalizedError("file.unreadable", path=quote(str(path), 160), reason=exc.strerror)
        raise refuse("bundle.unreadable_file", problem=problem) from None
    return version_of(first)


class _Import:
    """One format-2 bundle taken member by member in one unit (see the module's text)."""

    def __init__(
        self, store: Store, path: Path, dry_run: bool, waiting: Callable[[], object] | None
    ) -> None:
        self.store = store
        self.path = path
        self.dry_run = dry_run
        self.waiting = waiting
        self.known = _Known.of(store)
        self.hub = is_hub_account(store)
        self.report = merge.MergeReport()
        self.revisions = 0
        self.blobs = 0
        self.manifest: dict[str, Any] | None = None
        self.roster: tuple[Roster, bytes] | None = None
        self.checking: Checking | None = None
        self.unsettled: tuple[list[dict[str, Any]], int] | None = None
        """The page whose revisions were last handed to `checking`, not yet settled: its
        revisions' rows and where it starts."""
        self.seen_roster = False
        self.needed: list[blob_refs.Needed] = []
        """The live attachment revisions this store lacked: each needs its bytes."""
        self.named: set[str] = set()
        """The hashes the bundle's live attachment revisions name."""
        self.arrived: set[str] = set()
        """The attachments' bytes the bundle brought that are kept (staged, or here already)."""
        self.blob_bytes = 0
        self.ignored = 0
        self.head_sha256: str | None = None
        """The SHA-256 of the bundle's signed head: its name in the bundle log."""

    def run(self) -> ImportResult:
        store = self.store
        keys = device_keys(store)
        with (
            container.ContainerReader(
                self.path, self.known.verify_key, store.device.id, keys.encryption
            ) as reader,
            Spool(store.data_dir) as spool,
            contextlib.ExitStack() as stack,
        ):
            sender = self.known.sender(reader.header.sender)
            watermark_key = _WATERMARK + sender.card.id
            try:
                # 1. The check: every member read and checked without the write lock, so a
                # long bundle keeps no one from saving; the pages checked wait in the spool,
                # the blobs as files.
                arriving = stack.enter_context(_arriving_blobs(store))
                with store.unit(write=False) as unit:
                    try:
                        for number, member in enumerate(reader.members(), 1):
                            self._member(unit, number, member, sender, arriving, spool)
                    except Exception:  # an earlier revision's refusal is named before a fault
                        self._settle()  # (not before Ctrl-C: that stops the import at once)
                        raise
                    self._settle()
                    self._finish(reader.header)
                    self.head_sha256 = reader.head_sha256
                if self.checking is not None:  # no helper idles through the write's wait
                    self.checking.close()
                # 2. The write: the checked pages merged in one unit, under the lock.
                with store.unit(waiting=self.waiting) as unit:
                    sender = self._known_again(reader.header.sender)
                    before = merge.latest_arrival(unit.conn)
                    self._merge(unit, spool, sender)
                    # Bytes kept here already when the check read them are looked up again.
                    arrived = self.arrived if self.dry_run else set(arriving.staged)
                    self._require_blobs(unit, sender, arrived)
                    after = merge.latest_arrival(unit.conn)
                    if self.dry_run:
                        raise _DryRun
                    if self.roster is not None:
                        keep_roster_in(unit.conn, *self.roster)
                    # What just came from the sender need not go back to it: when nothing else
                    # was waiting for it, its watermark moves past this import. In the same
                    # unit, under the write lock: what arrived meanwhile is this import's alone.
                    if int(local_state.get_value(unit, watermark_key, 0)) >= before:
                        local_state.put_value(unit, watermark_key, after)
                    # Bytes a purge erased here are not kept again, whichever record brings them.
                    for sha256 in purges.purged_contents(unit.conn, arriving.staged):
                        arriving.drop(sha256)
                    if store.shared:  # a hub's blobs are rows: the files become rows of this unit
                        with store.blobs.staging(unit.conn) as rows:
                            for sha256, path in sorted(arriving.staged.items()):
                                rows.add(sha256, _file_pieces(path))
                            rows.keep()
                    else:  # before the commit: kept revisions never lack their blobs
                        arriving.keep()
            except _DryRun:
                pass
            finally:
                if self.checking is not None:
                    self.checking.close()
        result = ImportResult(
            path=self.path,
            sender=sender.name,
            revisions=self.revisions,
            new=self.report.new,
            updated=self.report.updated,
            unchanged=self.report.unchanged,
            conflicting=self.report.conflicting,
            skewed=len(self.report.skewed),
            dry_run=self.dry_run,
            blobs=self.blobs - self.ignored,
            roster=self.roster[0].serial if self.roster is not None else None,
            purged=self.report.purged,
            ignored_blobs=self.ignored,
        )
        if not self.dry_run:
            counts = asdict(result)
            counts.pop("path")
            _log(store, "in", sender, self.path, self.head_sha256 or "", counts)
        return result

    def _member(
        self,
        unit: Unit,
        number: int,
        member: container.Member,
        sender: TrustedDevice,
        staging: blobs.StagingLike,
        spool: Spool,
    ) -> None:
        kind = type(member).__name__.lower()
        still_wanted(self.waiting)  # an import no longer wanted stops here (store/waits.py)
        if isinstance(member, container.Manifest):
            if self.manifest is not None or number != 1:
                raise refuse("bundle.members_order", number=number, kind=kind)
            self.manifest = dict(member.fields)
            claimed = self.manifest.get("blobs")
            if type(claimed) is int and claimed > MAX_BUNDLE_BLOBS:
                raise refuse("bundle.too_many_blobs", limit=MAX_BUNDLE_BLOBS)
            return
        if self.manifest is None:
            raise refuse("bundle.members_order", number=number, kind=kind)
        if isinstance(member, container.Roster):
            if self.seen_roster or self.revisions or self.blobs:
                raise refuse("bundle.members_order", number=number, kind=kind)
            self.seen_roster = True
            try:
                # ASCII escapes: a lone surrogate stays an escape, which the roster's own
                # reading refuses, rather than failing to encode here.
                text = json.dumps(member.document).encode()
            except (ValueError, RecursionError):
                raise refuse("bundle.roster_not_json", number=number) from None
            self._offered(text)
        elif isinstance(member, container.Revisions):
            if self.blobs:
                raise refuse("bundle.members_order", number=number, kind=kind)
            self._check(unit, member.lines, spool)
        else:
            self._blob(unit, member, staging)

    def _blob(self, unit: Unit, member: container.Blob, staging: blobs.StagingLike) -> None:
        """A blob member: within the bundle's caps, checked against its hash as it is read, and
        staged when a live attachment record (the bundle's, or one here) names it; else read
        through and not kept (nothing refers to it: `prune` would remove it at once)."""
        self.blobs += 1
        self.blob_bytes += member.size
        if self.blobs > MAX_BUNDLE_BLOBS:
            raise refuse("bundle.too_many_blobs", limit=MAX_BUNDLE_BLOBS)
        if self.blob_bytes > MAX_BUNDLE_BLOB_BYTES:
            raise refuse("bundle.blobs_too_large", limit=size_text(MAX_BUNDLE_BLOB_BYTES))
        if member.size > MAX_ATTACHMENT_BYTES:
            raise refuse(
                "bundle.blob_too_large",
                sha256=member.sha256,
                limit=size_text(MAX_ATTACHMENT_BYTES),
            )
        if member.sha256 in self.named or blob_refs.referenced_here(unit.conn, member.sha256):
            if self.dry_run:  # checked all the same, written nowhere
                for _ in member.pieces:
                    pass
            else:
                staging.add(member.sha256, member.pieces)
            self.arrived.add(member.sha256)
        else:
            for _ in member.pieces:  # read through: its hash is checked all the same
                pass
            self.ignored += 1

    def _known_again(self, sender_id: object) -> TrustedDevice:
        """Under the write lock, where it stays so: whom this store knows now (a device trusted
        or revoked, a roster another import took since the check), the bundle's roster taken
        only if it is still newer than the one held; the sender, refused if revoked meanwhile."""
        self.known = _Known.of(self.store)
        offered, self.roster = self.roster, None
        if offered is not None:
            self._offered(offered[1])
        return self.known.sender(sender_id)

    def _require_blobs(self, unit: Unit, sender: TrustedDevice, arrived: set[str]) -> None:
        """Refuse the bundle when a live attachment revision it brought lacks its bytes, neither
        `arrived` nor kept here (see `blob_refs.missing_blobs`)."""
        missing = blob_refs.missing_blobs(unit.conn, self.store.blobs, self.needed, arrived)
        if missing:
            first = min(missing, key=lambda n: n.number)
            raise refuse(
                "bundle.blob_missing",
                number=first.number,
                sha256=first.sha256,
                device=quote(sender.name),
            )

    def _note_attachments(
        self,
        unit: Unit,
        rows: list[dict[str, Any]],
        contents: dict[str, dict[str, Any]],
        start: int,
    ) -> None:
        """Before a page is merged: the live attachment revisions in it, and of those the ones
        this store lacks (they need their bytes)."""
        live = [
            (start + n, row)
            for n, row in enumerate(rows, 1)
            if row["entity"] == "attachment" and not row["deleted"]
        ]
        if not live:
            return
        held = blob_refs.held_revisions(unit.conn, [row["rev_id"] for _, row in live])
        for number, row in live:
            sha256 = contents[row["rev_id"]].get("sha256")
            if not isinstance(sha256, str):
                continue  # the record's own check refuses it
            self.named.add(sha256)
            if row["rev_id"] not in held:
                self.needed.append(
                    blob_refs.Needed(number, row["entity_id"], row["rev_id"], sha256)
                )

    def _offered(self, data: bytes) -> None:
        """A roster in the bundle: a hub takes none (it is the enrolment authority: its own trust
        list says whom it knows, whatever a card it trusts says its role is); another store takes
        a newer one from the hub it follows, once the whole bundle is taken, and refuses the
        bundle when the roster is another hub's or claims its hub without its signature."""
        try:
            if roster_hub_id(data) in (self.store.device.id, self.store.hub_id) or self.hub:
                return
            roster, taken = offered_roster(self.store, data)
        except LocalizedError as exc:
            raise BundleError("bundle.roster_refused", problem=exc) from None
        if taken:
            self.roster = (roster, data)
            self.known.roster = roster

    def _check(self, unit: Unit, lines: Any, spool: Spool) -> None:
        """A page of revisions checked (in the check's reading `unit`) and spooled: each on its
        own, and the authorship of those this store lacks, in a helper process (`Checking`)
        while the next page is read; settled before it is handed over."""
        if self.checking is None:
            self.checking = Checking(authors_of(self.store, self.known.roster))
        checking = self.checking
        start = self.revisions
        rows: list[dict[str, Any]] = []
        digests: dict[str, bytes] = {}
        contents: dict[str, dict[str, Any]] = {}
        # What the store holds already is not validated again (a bundle taken twice, a hub's
        # bundle bringing back a laptop's own work): its id is its content's hash.
        held = blob_refs.held_revisions(unit.conn, _claimed_ids(lines))
        for offset, revision in enumerate(lines, 1):
            try:
                row, found = merge.check_signed_revision(revision, held=held)
            except LocalizedError as exc:
                raise format1.refused_revision(start + offset, exc) from None
            rows.append(row)
            digests[row["rev_id"]] = found
            contents[row["rev_id"]] = revision["data"]  # parsed already: not parsed again
        self.revisions += len(rows)
        self._settle()  # the page before
        for row in rows:
            if row["rev_id"] not in held:
                checking.check(row, digests[row["rev_id"]])
        checking.flush()  # verified while the next page is read
        self.unsettled = (rows, start)
        self._note_attachments(unit, rows, contents, start)
        # A revision at a time (a page whole would be pickled in memory), without its record:
        # the row's `data` holds it, its canonical JSON, which the merge parses again faster
        # than it would unpickle the record (and the spool is two fifths smaller).
        for row in rows:
            rev_id = row["rev_id"]
            spool.add((start, row, digests[rev_id], rev_id in held))

    def _merge(self, unit: Unit, spool: Spool, sender: TrustedDevice) -> None:
        """The spooled pages merged in the writing `unit`. A revision the check found held here
        (and so did not validate, nor check who wrote it) but the store lacks now is checked
        here; the authorship of all of them is when the authors this store knows changed since
        the check (a card trusted or removed, a roster taken meanwhile)."""
        checking = self.checking
        if checking is None:
            return
        now = authors_of(self.store, self.known.roster)  # under the lock: it stays so
        anew = now != checking.authors
        if anew:
            checking.close()
            checking = self.checking = Checking(now)
        self.needed = []  # what the store lacks, as it is now
        for start, page in itertools.groupby(spool, key=itemgetter(0)):
            rows, digests, contents, held = [], {}, {}, set()
            for _, row, found, was_held in page:
                rows.append(row)
                rev_id = row["rev_id"]
                digests[rev_id] = found
                if was_held:
                    held.add(rev_id)
                # An attachment's record is read before the page is merged (its bytes); the
                # others are parsed by `apply_revisions`, only those the store lacks.
                if row["entity"] == "attachment":
                    contents[rev_id] = json.loads(row["data"])

            def accept(
                row: dict[str, Any],
                digests: dict[str, bytes] = digests,
                held: set[str] = held,
            ) -> None:
                if row["rev_id"] in held:  # held at the check, so not validated there
                    merge.check_content(row, json.loads(row["data"]))
                if anew or row["rev_id"] in held:
                    checking.check(row, digests[row["rev_id"]])

            self._note_attachments(unit, rows, contents, start)
            self.unsettled = (rows, start)
            try:
                _apply(unit, rows, sender, self.report, accept, start, contents)
            except Exception:
                self._settle()
                raise
            self._settle()

    def _settle(self) -> None:
        """Refuse the bundle at the first revision handed to `Checking` whose authorship does
        not check out (of the page `unsettled`, numbered from its start + 1)."""
        if self.checking is None or self.unsettled is None:
            return
        (rows, start), self.unsettled = self.unsettled, None
        found = self.checking.settle()
        if found is not None:
            refused, problem = found
            # By all that was judged of it, not its id alone: a page may hold one revision
            # twice, and only a copy whose proof is forged is refused.
            offset = next(
                n
                for n, row in enumerate(rows)
                if all(row.get(key) == value for key, value in refused.items())
            )
            raise format1.refused_revision(start + 1 + offset, problem)

    def _finish(self, header: container.Header) -> None:
        manifest = self.manifest
        if manifest is None:
            raise refuse("bundle.no_manifest")
        if set(manifest) != _MANIFEST_KEYS:
            raise refuse("bundle.manifest_mismatch_v2", part="fields")
        expected = {
            "format": MANIFEST_FORMAT,
            "version": FORMAT_VERSION,
            "sender": header.sender,
            "recipient": header.recipient,
            "revisions": self.revisions,
            "blobs": self.blobs,
        }
        for name, value in expected.items():
            if manifest[name] != value or type(manifest[name]) is not type(value):
                raise refuse("bundle.manifest_mismatch_v2", part=name)
        if not isinstance(manifest["full"], bool):
            raise refuse("bundle.manifest_mismatch_v2", part="full")
        if clock.parse_instant(str(manifest["created_at"])) is None:
            raise refuse("bundle.manifest_mismatch_v2", part="created_at")


def _claimed_ids(lines: list[Any]) -> list[str]:
    """The ids a page's revisions claim, those in the form of one (whatever else a hostile
    bundle puts there is refused by the check, never sent to the database)."""
    return [
        claimed
        for revision in lines
        if isinstance(revision, dict)
        and isinstance(claimed := revision.get("rev_id"), str)
        and merge.REV_ID_PATTERN.fullmatch(claimed)
    ]


def _apply(
    unit: Unit,
    rows: list[dict[str, Any]],
    sender: TrustedDevice,
    report: merge.MergeReport,
    accept: Callable[[dict[str, Any]], None],
    start: int = 0,
    contents: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Merge `rows` (numbered from `start` + 1 in the bundle) into `report`; a revision refused
    by the merge or by `accept` refuses the bundle in one line naming it."""
    try:
        done = merge.apply_revisions(
            unit,
            rows,
            sender=sender.card.id,
            sender_name=sender.name,
            accept=accept,
            contents=contents,
        )
    except merge.RevisionRefused as exc:
        number = start + next((n for n, r in enumerate(rows, 1) if r["rev_id"] == exc.rev_id), 0)
        if exc.code == "revision.parent_missing":
            # Most likely an incremental bundle that came before the one holding that version:
            # nothing is lost, the order is. Say how to go on.
            raise BundleError(
                "bundle.earlier_bundle_first", number=number, problem=exc, device=sender.name
            ) from None
        raise format1.refused_revision(number, exc) from None
    report.new += done.new
    report.updated += done.updated
    report.unchanged += done.unchanged
    report.conflicting += done.conflicting
    report.skewed += done.skewed
    report.purged += done.purged


def _import_format_1(
    store: Store, path: Path, dry_run: bool, waiting: Callable[[], object] | None
) -> ImportResult:
    """A format-1 bundle: on the hub during its window only (see the module's text)."""
    try:
        data = files.read_regular_file(path, format1.MAX_FILE_BYTES)
    except LocalizedError as exc:
        raise refuse("bundle.unreadable_file", problem=exc) from None
    known = _Known.of(store)
    window = format_1_window(store) if is_hub_account(store) else None

    def verify_key(sender_id: object) -> VerifyKey:
        sender = known.sender(sender_id)  # format 1 has no chain of keys: no rotation before it
        if not is_hub_account(store):
            raise refuse("bundle.format_1_here", device=quote(sender.name))
        if window is None or clock.today() > window:
            raise refuse("bundle.format_1_closed", device=quote(sender.name))
        return VerifyKey(base64.b64decode(sender.card.signing_key))

    read = format1.read_bundle(data, verify_key, store.device.id, device_keys(store).encryption)
    sender = known.sender(read.sender)
    signer = store.signer()
    report = merge.MergeReport()
    unsigned = 0

    numbers = {row["rev_id"]: n for n, row in enumerate(read.revisions, 1)}

    def accept(row: dict[str, Any]) -> None:
        # The bundle's signature proves its sender wrote what it wrote in its own name, as an
        # author's signature would: the hub attests those. Anyone else's must be held already.
        nonlocal unsigned
        if row["entity"] in HUB_ONLY_KINDS:  # a laptop's: format 1 comes from laptops only
            raise format1.refused_revision(
                numbers[row["rev_id"]],
                LocalizedError(
                    "author.purge_not_hub", device=quote(_name_of(store, known, row["device_id"]))
                ),
            )
        if row["device_id"] != sender.card.id:
            raise refuse(
                "bundle.not_sender_v1",
                number=numbers[row["rev_id"]],
                sender=quote(sender.name),
                author=quote(_name_of(store, known, row["device_id"])),
            )
        row["attestation"] = signer.attest(read.digests[row["rev_id"]])
        unsigned += 1

    watermark_key = _WATERMARK + sender.card.id
    try:
        with store.unit(waiting=waiting) as unit:
            before = merge.latest_arrival(unit.conn)
            _apply(unit, read.revisions, sender, report, accept)
            after = merge.latest_arrival(unit.conn)
            if dry_run:
                raise _DryRun
            if int(local_state.get_value(unit, watermark_key, 0)) >= before:
                local_state.put_value(unit, watermark_key, after)
    except _DryRun:
        pass
    result = ImportResult(
        path=path,
        sender=sender.name,
        revisions=len(read.revisions),
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        conflicting=report.conflicting,
        skewed=len(report.skewed),
        dry_run=dry_run,
        format=1,
        unsigned=unsigned,
    )
    if not dry_run:
        counts = asdict(result)
        counts.pop("path")
        _log(store, "in", sender, path, hashlib.sha256(data).hexdigest(), counts)
    return result


def _name_of(store: Store, known: _Known, device_id: str) -> str:
    if device_id == store.device.id:
        return store.device.name
    found = known.trusted.get(device_id)
    if found is not None:
        return found.name
    return device_id
