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
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

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
from dxfield.sync import verifying
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

    def claim(self, row: Mapping[str, Any], found: bytes) -> LocalizedError | Proof:
        # What it reads of `row` is JUDGED.
        """Whether the revision `row` (with its proof, from `merge.check_signed_revision`) whose
        digest is `found` may be taken here, as far as who wrote it goes: why not, or the proof
        left to verify (by `Checking`)."""
        author = row["device_id"]
        if author in self.everywhere:
            return LocalizedError("author.everywhere", device=quote(self.name(author)))
        kept = self.revoked.get(author)
        if kept is not None and row["rev_id"] not in kept:
            return LocalizedError("author.revoked", device=quote(self.name(author)))
        if row["entity"] in HUB_ONLY_KINDS and author != self.hub_id:
            return LocalizedError("author.purge_not_hub", device=quote(self.name(author)))
        signature = row.get("signature")
        if signature is not None:
            key = self.keys.get(author)
            if key is None:
                return LocalizedError("author.unknown", device=quote(self.name(author)))
            return Proof((key,), SIGNATURE_PREFIX + found, signature, author)
        return Proof(self.hubs, ATTESTATION_PREFIX + found, row.get("attestation"), None)


@dataclass(frozen=True)
class Proof:
    """What is left to judge of a revision once its author may have written it: whether
    `proof` over `message` verifies with one of `keys`."""

    keys: tuple[bytes, ...]
    message: bytes
    proof: object
    author: str | None
    """The author whose signature it is; None for the hub's attestation."""

    @property
    def job(self) -> verifying.Job:
        return (self.keys, self.message, self.proof)

    def problem(self, authors: Authors) -> LocalizedError:
        """Why the revision is refused when the proof does not verify."""
        if self.author is None:
            return LocalizedError("author.bad_attestation")
        return LocalizedError("author.bad_signature", device=quote(authors.name(self.author)))


class Checking:
    """Authorship checked while the import goes on.

    Who wrote a revision, and whether they may have, is judged as it is handed over (`check`);
    its proof is verified later, a batch at a time, in helper processes (`sync.verifying`):
    on two cores, a bundle's check verifies a page's signatures while it reads and checks the
    next page (and its write, when what it judged by changed, while it writes the page).
    `flush` sends what was handed over to a helper; `settle` waits until every revision handed
    over so far is judged and gives the first that may not be taken (in the order they were
    handed over) with its problem: call it before anything is kept. `close` ends the helpers
    (more start should more proofs come).

    A few proofs (a small bundle's) are verified in this process, at `settle`: starting a helper
    costs more than they do. Should a helper fail to start or die, its batches are verified here
    too: slower, and the same answer."""

    BATCH = 1_000
    """Proofs sent to a helper at a time (the next batch is read meanwhile)."""
    HELPED_FROM = 200
    """Fewer proofs than this, with no helper started yet, are verified here."""

    def __init__(self, authors: Authors) -> None:
        self.authors = authors
        self.helped = 0
        """Batches a helper verified (what a test sees of them)."""
        self._handed: list[tuple[Mapping[str, Any], LocalizedError | Proof]] = []
        self._waiting: list[tuple[int, verifying.Job]] = []  # proofs not sent yet, by position
        self._sent: list[tuple[list[int], verifying.Helper | None]] = []
        self._helpers: list[verifying.Helper] = []
        self._next = 0  # the helper the next batch goes to
        self._no_helper = False

    def check(self, row: Mapping[str, Any], found: bytes) -> None:
        """Judge `row` (whose digest is `found`), its proof later (what `Authors.claim` reads
        of it is kept until then, not its record: a page waits whole otherwise)."""
        judged = {k: row[k] for k in JUDGED if k in row}
        claimed = self.authors.claim(judged, found)
        if isinstance(claimed, Proof):
            self._waiting.append((len(self._handed), claimed.job))
            if len(self._waiting) >= self.BATCH:
                self.flush()
        self._handed.append((judged, claimed))

    def flush(self) -> None:
        """Send the proofs handed over to a helper, to be verified while the import goes on
        (unless they are too few to start one for)."""
        waiting = self._waiting
        if not waiting or (not self._helpers and len(waiting) < self.HELPED_FROM):
            return
        self._waiting = []
        self._sent.append(([p for p, _ in waiting], self._send([job for _, job in waiting])))

    def settle(self) -> tuple[Mapping[str, Any], LocalizedError] | None:
        """The first revision handed over that may not be taken, and why; None when all may."""
        handed, self._handed = self._handed, []
        sent, self._sent = self._sent, []
        waiting, self._waiting = self._waiting, []
        refused = {n for n, (_, claimed) in enumerate(handed) if not isinstance(claimed, Proof)}
        for positions, helper in [*sent, ([p for p, _ in waiting], None)]:
            failed = self._answer(helper) if helper is not None else None
            if failed is None:  # a few, or no helper could say: verified here
                failed = verifying.failing([_job(handed[p][1]) for p in positions])
            refused.update(positions[n] for n in failed if 0 <= n < len(positions))
        if not refused:
            return None
        row, claimed = handed[min(refused)]
        return row, claimed.problem(self.authors) if isinstance(claimed, Proof) else claimed

    def close(self) -> None:
        """End the helpers (what was handed over and not settled is dropped, unjudged)."""
        self._handed, self._waiting, self._sent = [], [], []
        helpers, self._helpers = self._helpers, []
        for helper in helpers:
            helper.close()

    def _send(self, jobs: list[verifying.Job]) -> verifying.Helper | None:
        """`jobs` sent to a helper (started now when none is); None when none can take them."""
        if self._no_helper:
            return None
        if not self._helpers:
            try:
                self._helpers = [verifying.Helper() for _ in range(_helpers())]
            except OSError:  # no process to be had here
                self.close()
                self._no_helper = True
                return None
        helper = self._helpers[self._next % len(self._helpers)]
        self._next += 1
        helper.send(jobs)
        return helper

    def _answer(self, helper: verifying.Helper) -> list[int] | None:
        """What `helper` found of the oldest batch sent to it; None when it could not say (it
        died: verified here instead, as is all that follows)."""
        try:
            found = helper.receive()
        except verifying.HelperGone:
            self._no_helper = True
            return None
        self.helped += 1
        return found


def _job(claimed: LocalizedError | Proof) -> verifying.Job:
    if not isinstance(claimed, Proof):
        raise TypeError("only a proof is verified")
    return claimed.job


def _helpers() -> int:
    """Helper processes for a bundle's proofs: one core (of those this process may use) is the
    import's own."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(3, (usable or 2) - 1))


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
