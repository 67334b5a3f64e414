"""Who may have written a revision a bundle brings, and whether its proof says so; and, for
`history`, whether this store can prove who wrote each version it holds (`authorship_here`).

Built once per import (or per history read) from what this store knows (docs/bundle-format.md,
"Authorship"):

- the hub's roster (the newest this store holds of a hub it trusts, or the one the bundle brings
  when it is newer): its devices, their revocations and cuts, and the hub's current key, which
  attests; a laptop that trusts only the hub's card knows everyone through it;
- the devices this store trusts by hand (on the hub: every enrolled laptop, colleagues on
  PostgreSQL too), and itself; on the hub, its own key attests.

A revision not held here must then be by a known author who is not revoked at that point (a
revoked device's revision counts only if the roster's cut kept it), and carry either its
author's signature or the hub's attestation over its digest. Stamps play no part: authors
choose them. The fixed pseudo-devices (reference data, the demo) sign nothing: every store holds
their revisions already, so one that is not held here is refused.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from queue import SimpleQueue
from threading import Event, Thread
from typing import Any

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.store import local_state
from dxfield.store.authorship import (
    ATTESTATION_PREFIX,
    HUB_KEY,
    SIGNATURE_PREFIX,
    attestation_verifies,
    digest,
    is_hub_account,
    matches_id,
    signature_verifies,
    unsigned_authors,
    verify_key,
)
from dxfield.store.engine import Store
from dxfield.store.key_file import key_path, read_key_file
from dxfield.store.purges import purged_attachments
from dxfield.sync.keys import DeviceCard, device_keys, list_trusted
from dxfield.sync.roster import Roster, newest_held, own_roster, pinned_hub

PROBLEMS = problems(
    {
        "author.unknown": N_("author: {device} is not an enrolled device"),
        "author.revoked": N_(
            "author: {device} was revoked, and the hub had not taken this version before"
        ),
        "author.bad_signature": N_("author: not signed by {device}"),
        "author.bad_attestation": N_(
            "author: written before bundles were signed by authors, and not attested by the hub"
        ),
        "author.purge_not_hub": N_(
            "author: {device} is not the hub, and only the hub purges an attachment"
        ),
        "author.everywhere": N_(
            "author: {device} writes what every store holds already, and this store does not "
            "hold this version"
        ),
    }
)


HUB_ONLY_KINDS = frozenset({"purge"})
"""The kinds of record only the hub writes: a revision of one by any other author is refused,
however well signed (a laptop's key cannot erase an attachment everywhere)."""


JUDGED = ("rev_id", "device_id", "entity", "signature", "attestation")
"""What `Authors.problem` reads of a revision's row."""


@dataclass(frozen=True)
class Authors:
    """The keys a store judges authorship by."""

    keys: Mapping[str, bytes]
    """Each known author's Ed25519 public key (raw 32 bytes)."""
    names: Mapping[str, str]
    revoked: Mapping[str, frozenset[str]]
    """A revoked device: the ids of its revisions that still count (the roster's cut)."""
    hubs: tuple[bytes, ...]
    """The keys whose attestation counts."""
    everywhere: frozenset[str] = field(default_factory=unsigned_authors)
    hub_id: str | None = None
    """The hub's device (its roster's, the one this laptop follows, or this store on the hub):
    the only author whose purge counts (None: no purge counts)."""

    def name(self, device_id: str) -> str:
        """The author's name as this store knows it (its id when unknown)."""
        return self.names.get(device_id, device_id)

    def problem(self, row: Mapping[str, Any], found: bytes) -> LocalizedError | None:
        # What it reads of `row` is JUDGED.
        """Why the revision `row` (with its proof, from `merge.check_signed_revision`) whose
        digest is `found` may not be taken here; None when it may."""
        author = row["device_id"]
        shown = quote(self.name(author))
        if author in self.everywhere:
            return LocalizedError("author.everywhere", device=shown)
        kept = self.revoked.get(author)
        if kept is not None and row["rev_id"] not in kept:
            return LocalizedError("author.revoked", device=shown)
        if row["entity"] in HUB_ONLY_KINDS and author != self.hub_id:
            return LocalizedError("author.purge_not_hub", device=shown)
        signature = row.get("signature")
        if signature is not None:
            key = self.keys.get(author)
            if key is None:
                return LocalizedError("author.unknown", device=shown)
            if not _verifies(key, SIGNATURE_PREFIX + found, signature):
                return LocalizedError("author.bad_signature", device=shown)
            return None
        attestation = row.get("attestation")
        if not any(_verifies(k, ATTESTATION_PREFIX + found, attestation) for k in self.hubs):
            return LocalizedError("author.bad_attestation")
        return None


class Checking:
    """Authorship checked in a second thread while the import goes on.

    Verifying a signature is libsodium's work, which lets go of Python's lock: on two cores, a
    bundle's check verifies a page's signatures while it reads and checks the next page (and
    its write, when what it judged by changed, while it writes the page). `check` hands a
    revision over; `settle` waits until every revision handed over so far is checked and gives
    the first that may not be taken (in the order they were handed over) with its problem: call
    it before anything is kept. `close` stops the thread."""

    def __init__(self, authors: Authors) -> None:
        self.authors = authors
        self._queue: SimpleQueue[tuple[Mapping[str, Any], bytes] | Event | None] = SimpleQueue()
        self._found: tuple[Mapping[str, Any], LocalizedError] | None = None
        self._failed: BaseException | None = None
        self._stopping = False
        self._thread = Thread(target=self._work, name="dxfield-authorship", daemon=True)
        self._thread.start()

    def check(self, row: Mapping[str, Any], found: bytes) -> None:
        """Check `row` (whose digest is `found`) in the background (what `Authors.problem`
        reads of it is kept until then, not its record: a page waits whole otherwise)."""
        self._queue.put(({k: row[k] for k in JUDGED if k in row}, found))

    def settle(self) -> tuple[Mapping[str, Any], LocalizedError] | None:
        """The first revision handed over that may not be taken, and why; None when all may."""
        done = Event()
        self._queue.put(done)
        done.wait()
        if self._failed is not None:
            raise self._failed
        return self._found

    def close(self) -> None:
        """Stop the thread (what was handed over and not settled is dropped, unchecked)."""
        self._stopping = True
        self._queue.put(None)
        self._thread.join()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, Event):
                item.set()
            elif not self._stopping and self._found is None and self._failed is None:
                row, found = item
                try:
                    problem = self.authors.problem(row, found)
                except BaseException as exc:  # handed to the caller by `settle`
                    self._failed = exc
                else:
                    if problem is not None:
                        self._found = (row, problem)


def _verifies(key: bytes, message: bytes, proof: object) -> bool:
    if not isinstance(proof, str):
        return False
    try:
        signature = base64.b64decode(proof, validate=True)
        crypto_sign_open(signature + message, key)
    except (ValueError, BadSignatureError):
        return False
    return len(signature) == 64


def _raw(card: DeviceCard) -> bytes:
    return base64.b64decode(card.signing_key)


def authors_of(store: Store, roster: Roster | None) -> Authors:
    """The authors this store knows: itself, the devices it trusts and, on a laptop, those of
    `roster` (the hub's newest this store holds or is taking); see the module's text."""
    return _authors(store, roster, bytes(device_keys(store).signing.verify_key))


def _authors(store: Store, roster: Roster | None, own: bytes | None) -> Authors:
    """`authors_of`, with this device's public key given (None: it has none, and its own
    revisions are judged like anyone's)."""
    keys: dict[str, bytes] = {}
    names: dict[str, str] = {}
    revoked: dict[str, frozenset[str]] = {}
    hubs: list[bytes] = []
    hub = is_hub_account(store)
    roster_hub = roster.hub.id if roster is not None else None
    if roster is not None:
        for entry in roster.devices:
            keys[entry.card.id] = _raw(entry.card)
            names[entry.card.id] = entry.card.name
            if entry.revoked_at is not None:
                revoked[entry.card.id] = entry.kept
        keys[roster.hub.id] = _raw(roster.hub)
        names[roster.hub.id] = roster.hub.name
        hubs.append(_raw(roster.hub))
    pinned = None if hub else pinned_hub(store)
    for trusted in list_trusted(store):
        card = trusted.card
        names.setdefault(card.id, trusted.name)
        if trusted.revoked:
            # Revoked here: nothing new of it counts (what the hub kept is held already).
            revoked[card.id] = frozenset()
            if card.id == roster_hub:
                hubs.clear()  # the hub itself revoked by hand: its key attests nothing here
        if card.id == roster_hub:
            continue  # the roster's chain of hub keys is newer than the card trusted by hand
        keys.setdefault(card.id, _raw(card))
        if not trusted.revoked and roster is None and pinned is not None and card == pinned:
            # The one hub this laptop follows. On the hub only its own key attests, and a
            # second card that says "hub" attests nothing: a card's role is its sender's word.
            hubs.append(_raw(card))
    if own is not None:
        keys[store.device.id] = own
        if hub:
            hubs.append(own)
    names[store.device.id] = store.device.name
    if hub:
        hub_id: str | None = store.hub_id or store.device.id
    elif roster_hub is not None:
        hub_id = roster_hub
    else:
        hub_id = pinned.id if pinned is not None else None
    return Authors(keys, names, revoked, tuple(hubs), hub_id=hub_id)


# -- who wrote what this store holds (history) ---------------------------------------------------

VERIFIED = "verified"
"""Its author's signature verifies with the key this store knows for that author."""
ATTESTED = "attested"
"""Written before authors signed; the hub's attestation verifies."""
UNVERIFIED = "unverified"
"""Neither: unsigned from before format 2 and not attested (held from before, from another
laptop), an author this store has no key for, a device revoked since whose version the hub had
not taken before, or content that does not match its id."""
PURGED = "purged"
"""A version of an attachment the hub purged: its personal fields were removed in place, so it
no longer matches its id or proof, by design (store/purges.py); not damage."""
BUILT_IN = "built-in"
"""Reference data or the demo's: the same on every store, written by a fixed pseudo-device that
signs nothing (`unsigned_authors`); history shows it as reference data, not as unverified."""
VERDICTS = {
    VERIFIED: N_("verified"),
    ATTESTED: N_("attested by the hub"),
    UNVERIFIED: N_("unverified"),
    PURGED: N_("purged by the hub"),
}
"""Each verdict as a person reads it (translated where shown); BUILT_IN is not shown."""


@dataclass(frozen=True)
class Authorship:
    """Who wrote a revision this store holds, and whether this store can prove it."""

    device_id: str
    author: str
    """The author's name as this store knows it (its id when unknown)."""
    verdict: str
    """VERIFIED, ATTESTED, UNVERIFIED, PURGED or BUILT_IN."""


def _judge(authors: Authors, row: Mapping[str, Any]) -> str:
    found = digest(
        row["entity"],
        row["entity_id"],
        row["parents"] or [],
        row["hlc"],
        row["device_id"],
        bool(row["deleted"]),
        row["data"],
    )
    author = row["device_id"]
    if author in authors.everywhere:
        return BUILT_IN
    if not matches_id(row["rev_id"], found):
        return UNVERIFIED
    kept = authors.revoked.get(author)
    if kept is not None and row["rev_id"] not in kept:
        return UNVERIFIED
    key = authors.keys.get(author)
    if key is not None and signature_verifies(VerifyKey(key), found, row.get("signature")):
        return VERIFIED
    attestation = row.get("attestation")
    if any(attestation_verifies(VerifyKey(k), found, attestation) for k in authors.hubs):
        return ATTESTED
    return UNVERIFIED


def authorship_here(store: Store, revisions: Iterable[Mapping[str, Any]]) -> dict[str, Authorship]:
    """For each of `revisions` (stored rows, `data` decoded, as `revisions.history` gives them),
    by its id: its author and whether this store can prove the author wrote it, judged as an
    import would (`Authors.problem`): by the keys of the roster this store holds (on a hub, its
    own), the devices it trusts and its own; the hub's attestation for a revision from before
    authors signed; a version of a purged attachment is PURGED. Reads only: no key file is made,
    no roster signed."""
    authors = _authors_here(store)
    rows = list(revisions)
    attachments = {row["entity_id"] for row in rows if row["entity"] == "attachment"}
    purged: set[str] = set()
    if attachments:
        with store.read() as conn:
            purged = purged_attachments(conn, attachments)
    return {
        row["rev_id"]: Authorship(
            row["device_id"],
            authors.name(row["device_id"]),
            PURGED
            if row["entity"] == "attachment" and row["entity_id"] in purged
            else _judge(authors, row),
        )
        for row in rows
    }


def _roster_here(store: Store) -> Roster | None:
    """The roster this store judges by: on a hub (any account of one), the roster it signs;
    else the newest it holds."""
    roster = own_roster(store) if store.device.role == "hub" or store.hub_id else None
    if roster is None:
        held = newest_held(store)
        roster = held[0] if held is not None else None
    return roster


def names_here(store: Store) -> dict[str, str]:
    """Who each device is, by id, as far as this store knows: the names given here
    (`local_state.device_names`: itself, the devices it trusts), and a device known only
    through the hub's roster (a laptop's colleagues) by the roster's name."""
    names: dict[str, str] = {}
    roster = _roster_here(store)
    if roster is not None:
        names.update((e.card.id, e.card.name) for e in roster.devices)
        names[roster.hub.id] = roster.hub.name
    names.update(local_state.device_names(store))
    return names


def _authors_here(store: Store) -> Authors:
    roster = _roster_here(store)
    authors = _authors(store, roster, _own_key(store))
    if roster is not None and is_hub_account(store):
        # The hub's own roster says what it held of each device it revoked when it cut it:
        # those versions stay proven here (an import takes nothing new of it, held or not).
        cut = {e.card.id: e.kept for e in roster.devices if e.revoked_at is not None}
        authors = replace(authors, revoked={**authors.revoked, **cut})
    if store.hub_id is None or store.hub_id in authors.keys:
        return authors
    # A colleague on a hub whose roster is not signed yet: the key the hub recorded when it
    # attested (`authorship.HUB_KEY`) is the hub's.
    recorded = local_state.get_value(store, HUB_KEY)
    key = verify_key(recorded) if isinstance(recorded, str) else None
    if key is None:
        return authors
    return replace(
        authors,
        keys={**authors.keys, store.hub_id: bytes(key)},
        hubs=(*authors.hubs, bytes(key)),
    )


def _own_key(store: Store) -> bytes | None:
    """This device's public signing key from its key file, which is never made here (None when
    there is none, or it is refused: the next write says why)."""
    try:
        found = read_key_file(key_path(store.data_dir))
    except LocalizedError:
        return None
    if found is None or found.device_id != store.device.id:
        return None
    return bytes(SigningKey(base64.b64decode(found.signing_seed)).verify_key)
