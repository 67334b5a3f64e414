"""Sync bundles: export and import, one signed, encrypted file of revisions for one device.

dxfield writes format 2 (docs/bundle-format.md): the streamed container of `sync.container`
holding a manifest, the hub's roster, the revisions (each with its author's signature or the
hub's attestation) and blobs. Reading checks the container as it streams (signature before any
chunk, each chunk against its hash), then each revision on its own (its id the hash of its
content, its record valid), then its authorship (`sync.authors`: a known, unrevoked author whose
signature verifies, or the hub's attestation). Revisions are taken a member at a time inside one
transaction, which a refusal anywhere in the file rolls back whole: nothing of a refused bundle
is kept.

Format 1, from releases before, is read only on the hub, only while it accepts it
(`accept_format_1_until`), only from enrolled devices: their own revisions in it are attested by
the hub as they are taken, and any other must be held already.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nacl.public import PublicKey
from nacl.signing import VerifyKey

from dxfield import clock
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import N_, problems, quote
from dxfield.store import blobs, files, local_state, merge, outgoing, purges
from dxfield.store.authorship import is_hub_account, known_keys
from dxfield.store.engine import Store
from dxfield.store.unit import Unit
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
    }
)


@dataclass(frozen=True)
class ExportResult:
    """What `export_bundle` wrote."""

    path: Path
    recipient: str
    revisions: int
    bytes: int
    encrypted: bool
    full: bool
    unsent: int = 0
    """Revisions that arrived since the last bundle but carry no proof of who wrote them (taken
    from another laptop before format 2): not sent; their authors send them, signed."""


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


# -- export --------------------------------------------------------------------------------------


def require_hub_account(store: Store) -> None:
    """On a shared hub, bundles are the hub's: signed and opened with the hub's keys, counted
    against its watermarks. A colleague's account (their own keys) neither sends nor takes them."""
    if store.hub_id is not None and store.device.id != store.hub_id:
        raise refuse("bundle.not_hub_account", device=store.device.name)


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def export_bundle(
    store: Store,
    out: Path,
    recipient: str,
    *,
    full: bool = False,
    encrypt: bool = True,
) -> ExportResult:
    """Write one format-2 bundle for the device `recipient` (name or id; trusted here, or
    enrolled in the hub's roster this store holds): every revision that arrived here since the
    last bundle for it (`full`: all of them) with its proof, and the hub's roster."""
    require_hub_account(store)
    target = _recipient(store, recipient)
    keys = device_keys(store)
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
        count, unsent, newest = outgoing.counts_since(conn, watermark, left_out)
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": FORMAT_VERSION,
            "sender": store.device.id,
            "recipient": target.card.id,
            "created_at": _now(),
            "full": full,
            "revisions": count,
            "blobs": 0,
        }

        def members() -> Iterator[container.Member]:
            yield container.Manifest(manifest)
            if roster_data is not None:
                yield container.Roster(json.loads(roster_data))
            for page in outgoing.signed_lines_since(conn, watermark, left_out=left_out):
                yield container.Revisions(page)

        written = container.write_container(
            out,
            keys.signing,
            store.device.id,
            target.card.id,
            encryption,
            members(),
            data_dir=store.data_dir,
            sender_keys=hub_key_chain(store) if is_hub_account(store) else None,
        )
    # Forward only: of two exports to one device at once, the one that read less may finish
    # last; its watermark must not take the other's back (that would send it all again).
    with store.unit() as unit:
        if newest > int(local_state.get_value(unit, watermark_key, 0)):
            local_state.put_value(unit, watermark_key, newest)
    _log(store, "out", target, out, written.sha256, {"revisions": count, "full": full})
    return ExportResult(out, target.name, count, written.bytes, encrypt, full, unsent)


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
    at = _now()
    local_state.put_value(
        store,
        f"{_LOG}{at}-{direction}-{digest[:16]}",
        {
            "direction": direction,
            "peer": peer.name,
            "peer_id": peer.card.id,
            "file": str(path),
            "sha256": digest,
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


def import_bundle(store: Store, path: Path, *, dry_run: bool = False) -> ImportResult:
    """Verify, decrypt, check and merge one bundle in one transaction (none of it on error)."""
    require_hub_account(store)
    version = _version(path)
    if version == 1:
        return _import_format_1(store, path, dry_run)
    if version > FORMAT_VERSION:
        raise refuse("bundle.newer_format", version=version)
    if version != FORMAT_VERSION:
        raise refuse("bundle.wrong_version")
    return _Import(store, path, dry_run).run()


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


def _file_sha256(path: Path) -> str:
    """The file's SHA-256 for the bundle log, read after the import committed: a stick pulled
    out meanwhile leaves the log without it, never an import said to fail that did not."""
    digest = hashlib.sha256()
    try:
        with files.open_regular_file(path) as handle:
            while piece := handle.read(1 << 20):
                digest.update(piece)
    except (OSError, LocalizedError):
        return ""
    return digest.hexdigest()


class _Import:
    """One format-2 bundle taken member by member in one unit (see the module's text)."""

    def __init__(self, store: Store, path: Path, dry_run: bool) -> None:
        self.store = store
        self.path = path
        self.dry_run = dry_run
        self.known = _Known.of(store)
        self.hub = is_hub_account(store)
        self.report = merge.MergeReport()
        self.revisions = 0
        self.blobs = 0
        self.manifest: dict[str, Any] | None = None
        self.roster: tuple[Roster, bytes] | None = None
        self.checking: Checking | None = None
        self.seen_roster = False

    def run(self) -> ImportResult:
        store = self.store
        keys = device_keys(store)
        with (
            container.ContainerReader(
                self.path, self.known.verify_key, store.device.id, keys.encryption
            ) as reader,
            blobs.Staging(store.data_dir) as staging,
        ):
            sender = self.known.sender(reader.header.sender)
            watermark_key = _WATERMARK + sender.card.id
            try:
                with store.unit() as unit:
                    before = merge.latest_arrival(unit.conn)
                    for number, member in enumerate(reader.members(), 1):
                        self._member(unit, number, member, sender, staging)
                    self._finish(reader.header)
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
                    for sha256 in purges.purged_contents(unit.conn, staging.staged):
                        staging.drop(sha256)
                    staging.keep()  # before the commit: kept revisions never lack their blobs
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
            blobs=self.blobs,
            roster=self.roster[0].serial if self.roster is not None else None,
            purged=self.report.purged,
        )
        if not self.dry_run:
            counts = asdict(result)
            counts.pop("path")
            _log(store, "in", sender, self.path, _file_sha256(self.path), counts)
        return result

    def _member(
        self,
        unit: Unit,
        number: int,
        member: container.Member,
        sender: TrustedDevice,
        staging: blobs.Staging,
    ) -> None:
        kind = type(member).__name__.lower()
        if isinstance(member, container.Manifest):
            if self.manifest is not None or number != 1:
                raise refuse("bundle.members_order", number=number, kind=kind)
            self.manifest = dict(member.fields)
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
            self._take(unit, member.lines, sender)
        else:
            staging.add(member.sha256, member.pieces)
            self.blobs += 1

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

    def _take(self, unit: Unit, lines: Any, sender: TrustedDevice) -> None:
        if self.checking is None:
            self.checking = Checking(authors_of(self.store, self.known.roster))
        checking = self.checking
        start = self.revisions
        rows: list[dict[str, Any]] = []
        digests: dict[str, bytes] = {}
        contents: dict[str, dict[str, Any]] = {}
        for offset, revision in enumerate(lines, 1):
            try:
                row, found = merge.check_signed_revision(revision)
            except LocalizedError as exc:
                raise format1.refused_revision(start + offset, exc) from None
            rows.append(row)
            digests[row["rev_id"]] = found
            contents[row["rev_id"]] = revision["data"]  # parsed already: not parsed again
        self.revisions += len(rows)

        numbers = {row["rev_id"]: start + n for n, row in enumerate(rows, 1)}

        def accept(row: dict[str, Any]) -> None:
            checking.check(row, digests[row["rev_id"]])

        def refuse_unaccepted() -> None:
            found = checking.settle()
            if found is not None:
                raise format1.refused_revision(numbers[found[0]["rev_id"]], found[1])

        # The page's signatures are verified while it is written (`Checking`), and settled
        # before the next page: a revision whose author does not check out refuses the bundle,
        # its page rolled back with the rest, as if it had been refused before the writes.
        try:
            _apply(unit, rows, sender, self.report, accept, start, contents)
        except BaseException:
            refuse_unaccepted()
            raise
        refuse_unaccepted()

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


def _import_format_1(store: Store, path: Path, dry_run: bool) -> ImportResult:
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
        with store.unit() as unit:
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
