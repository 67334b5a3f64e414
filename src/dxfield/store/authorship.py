"""Who wrote a revision, provably: its digest, its author's signature, the hub's attestation.

A revision's **digest** is the SHA-256 of the canonical JSON its id is made from (entity, id,
sorted parents, stamp, device, deleted, data); its id is the generation and the first 128 bits of
that digest. Its **signature** is its author's Ed25519 signature over
`b"dxfield-revision-2\\n" + digest`, made when the revision is written; an **attestation** is the
hub's over `b"dxfield-attest-2\\n" + digest`, for a revision from before format 2 whose author
never signed it (docs/bundle-format.md §1 and §6). The prefixes keep either from ever
being taken for a signature over anything else dxfield signs. Both are stored base64 beside the
revision (`revision.signature`, `revision.attestation`) and are no part of its content: neither
its id nor a dump shows them. PyNaCl (libsodium) does the cryptography; nothing here is home-made.

`upgrade` runs when a store is opened: once per device, it signs every unsigned revision this
device wrote before format 2 and, on the hub (on PostgreSQL, the hub's own account), attests every
unsigned revision by another device that is neither reference data nor the demo's.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from nacl.bindings import crypto_sign, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from dxfield.store import markers
from dxfield.store.json_text import canonical_json as canonical_json  # re-exported

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dxfield.store.engine import Store

SIGNATURE_PREFIX = b"dxfield-revision-2\n"
ATTESTATION_PREFIX = b"dxfield-attest-2\n"
CUT_KEY = "authorship-cut"
"""local_state: the arrival order of the newest revision this store held when a format-2
dxfield first opened it. The upgrade signs and attests only up to it: what format-1 imports
bring later (a revision claiming this device's id, or a colleague's, included) is never
vouched for by the upgrade of a device that opens the store later."""
UPGRADED_KEY = markers.UPGRADED_KEY
"""local_state: this device (the key's suffix) has signed (and, a hub, attested) what it held."""
HUB_KEY = "hub-signing-key"
"""local_state on a hub: the hub's public signing key (base64), for `check` on any account."""
BATCH = 5_000
"""Revisions read, signed and updated at a time during the upgrade."""


def digest(
    entity: str,
    entity_id: str,
    parents: Sequence[str],
    hlc: str,
    device_id: str,
    deleted: bool,
    data: Mapping[str, Any],
) -> bytes:
    """The SHA-256 of a revision's canonical JSON (what its id is the first 128 bits of)."""
    body = canonical_json(
        {
            "entity": entity,
            "id": entity_id,
            "parents": sorted(parents),
            "hlc": hlc,
            "device": device_id,
            "deleted": deleted,
            "data": data,
        }
    )
    return hashlib.sha256(body.encode()).digest()


def digest_of_text(
    entity: str,
    entity_id: str,
    parents: Sequence[str],
    hlc: str,
    device_id: str,
    deleted: bool,
    data_text: str,
) -> bytes:
    """`digest`, given the record's canonical JSON (`canonical_json(data)`), which the caller
    needs anyway: the body is spliced around it, the same bytes without writing the record's
    JSON twice (an import checks every revision it brings this way)."""
    text = encode_basestring
    shown = ",".join(text(p) for p in sorted(parents))
    body = (
        f'{{"data":{data_text},"deleted":{"true" if deleted else "false"},'
        f'"device":{text(device_id)},"entity":{text(entity)},'
        f'"hlc":{text(hlc)},"id":{text(entity_id)},"parents":[{shown}]}}'
    )
    return hashlib.sha256(body.encode()).digest()


def id_of(generation: int, found: bytes) -> str:
    """A revision's id: its generation and the first 128 bits of its digest."""
    return f"{generation}-{found.hex()[:32]}"


def matches_id(rev_id: str, found: bytes) -> bool:
    """Whether `found` is the digest the revision id `rev_id` was made from."""
    return rev_id.partition("-")[2] == found.hex()[:32]


def stored_digest(row: Any) -> bytes | None:
    """The digest of a stored revision (a row with rev_id, entity, entity_id, parents, hlc,
    device_id, deleted and data as stored), or None when its content does not match its id.

    The stored `data` is canonical JSON already, so the body is spliced around it as it is (the
    upgrade's cost is in this, for every revision a store holds); a row whose text is not in that
    form is parsed and written again, and one that still does not match its id is not vouched for.
    """
    parents = row.parents
    if isinstance(parents, str):  # read as text (`_COLUMNS`): parsed only when it must be
        shown = parents if parents == "[]" or "," not in parents else None
    else:
        shown = None
        parents = canonical_json(sorted(parents or []))
    text = encode_basestring
    body = (
        f'{{"data":{row.data},"deleted":{"true" if row.deleted else "false"},'
        f'"device":{text(row.device_id)},"entity":{text(row.entity)},'
        f'"hlc":{text(row.hlc)},"id":{text(row.entity_id)},'
        f'"parents":{shown if shown is not None else parents}}}'
    )
    found = hashlib.sha256(body.encode()).digest()
    if matches_id(row.rev_id, found):
        return found
    try:
        data = json.loads(row.data)
        if isinstance(parents, str):
            parents = json.loads(parents)
    except ValueError:
        return None
    found = digest(
        row.entity, row.entity_id, parents or [], row.hlc, row.device_id, bool(row.deleted), data
    )
    return found if matches_id(row.rev_id, found) else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class Signer:
    """A device's signing key, ready to sign many digests (the bulk path and the upgrade sign a
    revision each): libsodium's Ed25519 through PyNaCl's bindings, the secret key expanded once.
    About 35 µs a revision on a loaded two-core machine."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self._secret = crypto_sign_seed_keypair(bytes(key))[1]

    def _signature(self, message: bytes) -> str:
        return _b64(crypto_sign(message, self._secret)[:64])

    def sign(self, found: bytes) -> str:
        """The author's signature over a revision's digest, base64."""
        return self._signature(SIGNATURE_PREFIX + found)

    def attest(self, found: bytes) -> str:
        """The hub's attestation of a revision's digest, base64."""
        return self._signature(ATTESTATION_PREFIX + found)


def sign(key: SigningKey | Signer, found: bytes) -> str:
    """The author's signature over a revision's digest, base64."""
    return (key if isinstance(key, Signer) else Signer(key)).sign(found)


def attest(key: SigningKey | Signer, found: bytes) -> str:
    """The hub's attestation of a revision's digest, base64."""
    return (key if isinstance(key, Signer) else Signer(key)).attest(found)


def _verifies(key: VerifyKey, prefix: bytes, found: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(prefix + found, raw)
    except (ValueError, binascii.Error, BadSignatureError, TypeError):
        return False
    return True


def signature_verifies(key: VerifyKey, found: bytes, signature: str | None) -> bool:
    """Whether `signature` is the holder of `key`'s signature over the digest `found`."""
    return _verifies(key, SIGNATURE_PREFIX, found, signature)


def attestation_verifies(key: VerifyKey, found: bytes, attestation: str | None) -> bool:
    """Whether `attestation` is the holder of `key`'s attestation of the digest `found`."""
    return _verifies(key, ATTESTATION_PREFIX, found, attestation)


def verify_key(text: str) -> VerifyKey | None:
    """A public signing key from its base64 (a card's), or None when it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
        return VerifyKey(raw) if len(raw) == 32 else None
    except (ValueError, binascii.Error, TypeError):
        return None


# -- the upgrade: what a store held before format 2 ------------------------------------------------


def unsigned_authors() -> frozenset[str]:
    """The fixed pseudo-devices whose revisions every store holds and nobody signs."""
    from dxfield.store.reference import DEMO_DEVICE, REFERENCE_DEVICE

    return frozenset({REFERENCE_DEVICE, DEMO_DEVICE})


@dataclass
class Upgrade:
    """What opening a store signed and attested (nothing, once done)."""

    signed: int = 0
    attested: int = 0
    unvouched: list[str] = field(default_factory=list)
    """Revisions whose content does not match their id: neither signed nor attested."""


def is_hub_account(store: Store) -> bool:
    """Whether this store's device is a hub (on PostgreSQL: the hub's own account)."""
    return store.device.role == "hub" and (store.hub_id is None or store.hub_id == store.device.id)


def upgrade(store: Store) -> Upgrade:
    """Sign, once per device, every unsigned revision this device wrote, and on a hub attest
    every unsigned revision by another device that is neither reference data nor the demo's;
    all in one unit. Opening again does nothing (a marker in local state). Nothing happens on a
    hub account that may not write yet, nor when the key file is refused (its one line comes with
    the first write, and the upgrade runs at the next open)."""
    from sqlalchemy import select

    from dxfield.domain.errors import LocalizedError
    from dxfield.store.key_file import key_path
    from dxfield.store.local_state import put_value_in
    from dxfield.store.schema import LOCAL_STATE

    done = Upgrade()
    marker = UPGRADED_KEY + store.device.id
    if not store.enrolled:
        return done
    with store.read() as conn:
        if conn.execute(select(LOCAL_STATE.c.key).where(LOCAL_STATE.c.key == marker)).first():
            return done
    try:
        with store.unit() as unit:
            conn = unit.conn
            if conn.execute(select(LOCAL_STATE.c.key).where(LOCAL_STATE.c.key == marker)).first():
                return done  # another process did it meanwhile
            hub = is_hub_account(store)
            cut = _cut(conn)
            if hub and not key_path(store.data_dir).exists():
                # A hub never makes itself new keys to attest with: they would not be the
                # hub's that the laptops trust. The keys come back (a restore), then this runs.
                return done
            _sign_own(store, conn, done, cut)
            if hub:
                _attest_others(store, conn, done, cut)
            put_value_in(conn, marker, {"signed": done.signed, "attested": done.attested})
    except LocalizedError as exc:
        if not (exc.code or "").startswith("keys."):
            raise
        return Upgrade()  # the key file was refused: the first write says so, in one line
    return done


_COLUMNS = ("rev_id", "entity", "entity_id", "parents", "hlc", "device_id", "deleted", "data")


def _columns() -> list[Any]:
    """What `stored_digest` reads of a revision; parents as text on both engines (psycopg would
    hand PostgreSQL's json over parsed, SQLite's driver would parse it in Python)."""
    from sqlalchemy import Text, cast

    from dxfield.store.schema import REVISIONS

    return [
        cast(REVISIONS.c[name], Text).label(name) if name == "parents" else REVISIONS.c[name]
        for name in _COLUMNS
    ]


def _cut(conn: Connection) -> int:
    """The store's authorship cut (`CUT_KEY`), set now if no format-2 dxfield opened it yet."""
    from sqlalchemy import func, select

    from dxfield.store.backend import backend_for
    from dxfield.store.local_state import put_value_in
    from dxfield.store.schema import LOCAL_STATE, REVISIONS

    value = conn.execute(select(LOCAL_STATE.c.value).where(LOCAL_STATE.c.key == CUT_KEY)).scalar()
    if value is not None:
        return int(json.loads(value))
    newest = conn.execute(
        select(func.max(backend_for(conn).arrival_order(REVISIONS))).select_from(REVISIONS)
    ).scalar()
    put_value_in(conn, CUT_KEY, int(newest or 0))
    return int(newest or 0)


def _unsigned(conn: Connection, condition: Any) -> Iterable[list[Any]]:
    """The unsigned, unattested revisions meeting `condition`, a batch at a time (by id)."""
    from dxfield.store.schema import REVISIONS

    table = REVISIONS
    return _batches(conn, condition & table.c.signature.is_(None) & table.c.attestation.is_(None))


def _batches(conn: Connection, condition: Any, *, with_proofs: bool = False) -> Iterable[list[Any]]:
    """The revisions meeting `condition`, a batch at a time (by id); with their signature and
    attestation when `with_proofs`."""
    from sqlalchemy import select

    from dxfield.store.schema import REVISIONS

    table = REVISIONS
    columns = _columns()
    if with_proofs:
        columns += [table.c.signature, table.c.attestation]
    after = ""
    while True:
        rows = conn.execute(
            select(*columns)
            .where(condition, table.c.rev_id > after)
            .order_by(table.c.rev_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield list(rows)
        after = rows[-1].rev_id


def _vouch(
    conn: Connection, rows: list[Any], key: Signer, column: str, how: Any, done: Upgrade
) -> int:
    from dxfield.store.backend import backend_for
    from dxfield.store.schema import REVISIONS

    values: list[tuple[str, str]] = []
    for row in rows:
        found = stored_digest(row)
        if found is None:
            done.unvouched.append(row.rev_id)
            continue
        values.append((row.rev_id, how(key, found)))
    backend_for(conn).update_column(conn, REVISIONS, "rev_id", column, values)
    return len(values)


def _held_then(conn: Connection, cut: int) -> Any:
    from dxfield.store.backend import backend_for
    from dxfield.store.schema import REVISIONS

    return backend_for(conn).arrival_order(REVISIONS) <= cut


def _sign_own(store: Store, conn: Connection, done: Upgrade, cut: int) -> None:
    from dxfield.store.schema import REVISIONS

    mine = (REVISIONS.c.device_id == store.device.id) & _held_then(conn, cut)
    for rows in _unsigned(conn, mine):
        done.signed += _vouch(conn, rows, store.signer(), "signature", sign, done)


def _attest_others(store: Store, conn: Connection, done: Upgrade, cut: int) -> None:
    from dxfield.store.local_state import put_value_in
    from dxfield.store.schema import REVISIONS

    others = REVISIONS.c.device_id.not_in(
        [store.device.id, *sorted(unsigned_authors())]
    ) & _held_then(conn, cut)
    for rows in _unsigned(conn, others):
        done.attested += _vouch(conn, rows, store.signer(), "attestation", attest, done)
    if done.attested:
        put_value_in(conn, HUB_KEY, _b64(bytes(store.signer().key.verify_key)))


def vouch_again(
    store: Store, conn: Connection, key: SigningKey, previous_keys: Sequence[str]
) -> Upgrade:
    """After the hub's key is rotated: sign again, with the new `key`, every revision the hub
    signed as author and attest again every revision it attested, in the caller's unit, so that
    what it sends verifies with its current key alone (a key rotated away vouches for nothing
    new: a laptop checks against the roster's current hub key)."""
    from dxfield.store.local_state import put_value_in
    from dxfield.store.schema import REVISIONS

    done = Upgrade()
    signer = Signer(key)
    table = REVISIONS
    mine = (table.c.device_id == store.device.id) & table.c.signature.is_not(None)
    for rows in _batches(conn, mine):
        done.signed += _vouch(conn, rows, signer, "signature", sign, done)
    before = [k for k in (verify_key(str(v)) for v in previous_keys) if k is not None]
    for rows in _batches(conn, table.c.attestation.is_not(None), with_proofs=True):
        # Only what the hub did attest (with a key of its chain): a row whose attestation does
        # not verify (written by hand, or by a bug) is not laundered by the new key.
        genuine = [
            r
            for r in rows
            if (found := stored_digest(r)) is not None
            and any(attestation_verifies(k, found, r.attestation) for k in before)
        ]
        done.attested += _vouch(conn, genuine, signer, "attestation", attest, done)
    put_value_in(conn, HUB_KEY, _b64(bytes(key.verify_key)))
    return done


# -- check: which stored signatures and attestations do not verify ---------------------------------


@dataclass(frozen=True)
class AuthorKeys:
    """The public keys a store knows: each author's (its own, its trusted devices', those of
    the hub's roster it holds; a hub's every key since its first), the hubs'."""

    authors: dict[str, list[VerifyKey]]
    hubs: list[VerifyKey]
    revoked: dict[str, frozenset[str]] = field(default_factory=dict)
    """Each revoked device of the roster this store holds (the hub: its own), with the ids of
    its revisions the hub kept at its revocation."""


HUB_STEPS_KEY = "roster:hub-keys"
"""local_state on the hub: its chain of keys (sync.roster keeps it; read here for `check`)."""
HELD_ROSTER_PREFIX = "roster:of:"
"""local_state: the hub's roster this store took, verified when it was (sync.roster)."""
OWN_ROSTER_KEY = "roster:own"
"""local_state on the hub: the roster it signed last (sync.roster)."""


def _revoked_in(document: Any) -> dict[str, frozenset[str]]:
    """The revoked devices of a kept roster and what the hub kept of each."""
    body = document.get("body") if isinstance(document, dict) else None
    entries = body.get("devices") if isinstance(body, dict) else None
    found: dict[str, frozenset[str]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("revoked_at") is None:
            continue
        card, kept = entry.get("card"), entry.get("kept")
        if isinstance(card, dict) and isinstance(kept, list):
            found[str(card.get("id"))] = frozenset(str(k) for k in kept)
    return found


def _cards_in(value: Any, *path: str) -> list[dict[str, Any]]:
    """The card dicts at `path` (a list of entries each with a "card") in a kept document."""
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    entries = value if isinstance(value, list) else []
    return [e["card"] for e in entries if isinstance(e, dict) and isinstance(e.get("card"), dict)]


def known_keys(store: Store, conn: Connection) -> AuthorKeys:
    """This device's key (from its key file, never made here), every trusted device's card
    (revoked ones too: what they signed before stays theirs), the devices of the hub's roster
    this store holds, and the hub's keys: on the hub its own (and those it rotated away), on
    PostgreSQL for a colleague the one the hub's account recorded when it attested, on a laptop
    the card of a trusted device of role hub and the roster's chain of hub keys."""
    from dxfield.domain.errors import LocalizedError
    from dxfield.store.key_file import key_path, read_key_file
    from dxfield.store.local_state import values_in
    from dxfield.store.markers import TRUSTED_PREFIX

    authors: dict[str, list[VerifyKey]] = {}
    trusted_hubs: list[VerifyKey] = []

    def know(card: dict[str, Any], *, hub: bool = False) -> None:
        key = verify_key(str(card.get("signing_key", "")))
        if key is None:
            return
        known = authors.setdefault(str(card.get("id")), [])
        if key not in known:
            known.append(key)
        if hub and key not in trusted_hubs:
            trusted_hubs.append(key)

    for value in values_in(conn, TRUSTED_PREFIX).values():
        card = value.get("card") if isinstance(value, dict) else None
        if isinstance(card, dict):
            know(card, hub=card.get("role") == "hub")
    revoked: dict[str, frozenset[str]] = {}
    rosters = values_in(conn, HELD_ROSTER_PREFIX)
    own_roster = values_in(conn, OWN_ROSTER_KEY).get(OWN_ROSTER_KEY)
    for text in rosters.values():
        try:
            held = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            continue
        for card in _cards_in(held, "body", "devices"):
            know(card)
        for card in _cards_in(held, "body", "hub_keys"):
            know(card, hub=True)
        revoked.update(_revoked_in(held))
    if is_hub_account(store) and isinstance(own_roster, str):
        with contextlib.suppress(ValueError):
            revoked.update(_revoked_in(json.loads(own_roster)))
    own_steps = _cards_in({"steps": values_in(conn, HUB_STEPS_KEY).get(HUB_STEPS_KEY)}, "steps")
    try:
        found = read_key_file(key_path(store.data_dir))
    except LocalizedError:
        found = None
    own: list[VerifyKey] = []
    if found is not None and found.device_id == store.device.id:
        own = [SigningKey(base64.b64decode(found.signing_seed)).verify_key]
        for card in own_steps:
            key = verify_key(str(card.get("signing_key", "")))
            if key is not None and key not in own:
                own.append(key)
        authors[store.device.id] = own
    if is_hub_account(store):
        hubs = own
    elif store.hub_id is not None:
        recorded = values_in(conn, HUB_KEY).get(HUB_KEY)
        key = verify_key(recorded) if isinstance(recorded, str) else None
        hubs = [key] if key is not None else []
    else:
        hubs = trusted_hubs
    return AuthorKeys(authors, hubs, revoked)


def revoked_outside(conn: Connection, keys: AuthorKeys, limit: int) -> list[BadProof]:
    """Revisions held here by a revoked device that the hub did not keep at its revocation
    (taken before this store heard of it): kept, as everything held is, and listed by `check`;
    at most `limit`."""
    from sqlalchemy import select

    from dxfield.store.schema import REVISIONS

    if not keys.revoked:
        return []
    table = REVISIONS
    rows = conn.execute(
        select(table.c.rev_id, table.c.entity, table.c.entity_id, table.c.device_id)
        .where(table.c.device_id.in_(sorted(keys.revoked)))
        .order_by(table.c.rev_id)
    )
    found: list[BadProof] = []
    for row in rows:
        if row.rev_id not in keys.revoked[row.device_id]:
            found.append(BadProof(row.rev_id, row.entity, row.entity_id, row.device_id, False))
            if len(found) >= limit:
                break
    return found


@dataclass(frozen=True)
class BadProof:
    """A stored signature or attestation that does not verify."""

    rev_id: str
    entity: str
    entity_id: str
    author: str
    attestation: bool
    """True when it is the hub's attestation that fails (else the author's signature)."""


def bad_proofs(conn: Connection, keys: AuthorKeys, limit: int) -> list[BadProof]:
    """Revisions whose signature does not verify with their author's known key, or whose
    attestation verifies with no hub key known; at most `limit`. A revision whose author's key
    is not known here (a device this store has not trusted) is not judged."""
    from sqlalchemy import or_, select

    from dxfield.store.schema import REVISIONS

    table = REVISIONS
    rows = conn.execute(
        select(*_columns(), table.c.signature, table.c.attestation)
        .where(or_(table.c.signature.is_not(None), table.c.attestation.is_not(None)))
        .order_by(table.c.rev_id)
    )
    bad: list[BadProof] = []
    for row in rows:
        if len(bad) >= limit:
            break
        author = keys.authors.get(row.device_id)
        judge_signature = row.signature is not None and bool(author)
        judge_attestation = row.attestation is not None and bool(keys.hubs)
        if not (judge_signature or judge_attestation):
            continue
        found = stored_digest(row)
        if judge_signature and (
            found is None
            or not author
            or not any(signature_verifies(k, found, row.signature) for k in author)
        ):
            bad.append(BadProof(row.rev_id, row.entity, row.entity_id, row.device_id, False))
            continue
        if judge_attestation and (
            found is None
            or not any(attestation_verifies(k, found, row.attestation) for k in keys.hubs)
        ):
            bad.append(BadProof(row.rev_id, row.entity, row.entity_id, row.device_id, True))
    return bad
