"""The roster: which devices the hub has enrolled, signed by the hub (bundle format 2: §2 and §3 of
docs/bundle-format.md).

A laptop trusts one card by hand, the hub's; every other device it learns from the roster the
hub signs and sends in its bundles. The roster has a serial number that only grows: a store
takes a roster only if the hub signed it and its serial is higher than the one it holds, so a
replayed old file cannot bring a revoked device back. A revoked device's revisions are valid
where the hub had taken them before the revocation (`kept`), and nowhere else: stamps are chosen
by authors, so they are never the cut.

The hub can rotate its keys: each new hub card is signed by the previous key (`hub_keys`), so a
laptop that trusts an older card follows the chain. Everything here is PyNaCl's Ed25519.

Wire form (one JSON object; `body` in canonical JSON is what the signature covers, after the
prefix `dxfield-roster-2\\n`):

    {"format": "dxfield-roster", "version": 1, "body": {...}, "signature": base64}
    body: {"serial": n, "issued_at": ISO time, "hub_keys": [{"card": {...},
           "signed_by_previous": base64 | null}], "devices": [{"card": {...},
           "enrolled_at": n, "revoked_at": n | null, "kept": [rev id, ...]}]}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy.engine import Connection

from dxfield import clock
from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.store import local_state
from dxfield.store.authorship import HELD_ROSTER_PREFIX, HUB_STEPS_KEY, OWN_ROSTER_KEY
from dxfield.store.engine import Store
from dxfield.store.merge import REV_ID_PATTERN
from dxfield.store.revisions import canonical_json
from dxfield.sync.keys import DeviceCard, SyncError, card_from_fields, check_envelope

ROSTER_FORMAT = "dxfield-roster"
ROSTER_VERSION = 1
_ROSTER_SIGNED = b"dxfield-roster-2\n"
_HUB_KEY_SIGNED = b"dxfield-hub-key-2\n"
MAX_DEVICES = 10_000
"""More devices than a prefecture (or the country's 1,741 municipalities) would enrol."""
MAX_KEPT = 1_000_000
"""The most revisions a roster keeps, over all revoked devices."""
MAX_HUB_KEYS = 100
MAX_SERIAL = 2**53
_BODY_KEYS = frozenset({"serial", "issued_at", "hub_keys", "devices"})
_ENTRY_KEYS = frozenset({"card", "enrolled_at", "revoked_at", "kept"})
_STEP_KEYS = frozenset({"card", "signed_by_previous"})

PROBLEMS = problems(
    {
        "roster.not_json": N_("not a roster: not JSON"),
        "roster.wrong_format": N_("not a roster: wrong format"),
        "roster.unknown_version": N_(
            "not a roster: version {version} is not one this dxfield reads (update dxfield)"
        ),
        "roster.malformed": N_("the roster is malformed: {what}"),
        "roster.bad_card": N_("the roster holds a card that is not valid: {problem}"),
        "roster.bad_signature": N_("the roster is not signed by the hub"),
        "roster.bad_key_chain": N_(
            "the roster's hub keys do not follow from one another (a new hub key must be "
            "signed by the one before it)"
        ),
        "roster.other_hub": N_(
            "the roster is the hub {hub}'s, not that of the hub this device trusts"
        ),
    }
)


def _refuse(code: str, **values: Any) -> SyncError:
    return SyncError(code, **values)


def _malformed(what: str) -> SyncError:
    return _refuse("roster.malformed", what=what)


@dataclass(frozen=True)
class RosterEntry:
    """One enrolled device: its card, the serial it was enrolled at, and, once revoked, the
    serial it was revoked at and the revisions by it that the hub had taken until then."""

    card: DeviceCard
    enrolled_at: int
    revoked_at: int | None = None
    kept: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class KeyStep:
    """A hub card, and the previous hub key's signature over it (None for the first)."""

    card: DeviceCard
    signed_by_previous: str | None = None


@dataclass(frozen=True)
class Roster:
    """A roster as signed by the hub."""

    serial: int
    issued_at: str
    hub_keys: tuple[KeyStep, ...]
    devices: tuple[RosterEntry, ...]

    @property
    def hub(self) -> DeviceCard:
        """The hub's current card (the last of its keys)."""
        return self.hub_keys[-1].card

    def entry(self, device_id: str) -> RosterEntry | None:
        """The device's entry, if it was ever enrolled."""
        return next((e for e in self.devices if e.card.id == device_id), None)

    def card_of(self, device_id: str) -> DeviceCard | None:
        """The card a revision or bundle by `device_id` must verify with: the hub's current
        card for the hub, an enrolled device's own; None for a device the roster does not
        know."""
        if device_id == self.hub.id:
            return self.hub
        found = self.entry(device_id)
        return found.card if found is not None else None

    def authorship(self, device_id: str, rev_id: str) -> str:
        """Whether a revision by `device_id` may be taken: "ok", "unknown" (not enrolled) or
        "revoked" (revoked, and not among what the hub had taken before)."""
        if device_id == self.hub.id:
            return "ok"
        found = self.entry(device_id)
        if found is None:
            return "unknown"
        if found.revoked_at is not None and rev_id not in found.kept:
            return "revoked"
        return "ok"


# -- writing -------------------------------------------------------------------------------------


def _card_fields(card: DeviceCard) -> dict[str, str]:
    return asdict(card)


def _body(roster: Roster) -> dict[str, Any]:
    return {
        "serial": roster.serial,
        "issued_at": roster.issued_at,
        "hub_keys": [
            {"card": _card_fields(s.card), "signed_by_previous": s.signed_by_previous}
            for s in roster.hub_keys
        ],
        "devices": [
            {
                "card": _card_fields(e.card),
                "enrolled_at": e.enrolled_at,
                "revoked_at": e.revoked_at,
                "kept": sorted(e.kept),
            }
            for e in sorted(roster.devices, key=lambda e: e.card.id)
        ],
    }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def signed_roster(roster: Roster, hub_key: SigningKey) -> bytes:
    """The roster's wire form, signed with the hub's current signing key."""
    body = _body(roster)
    signature = hub_key.sign(_signed_part(body)).signature
    wire = {
        "format": ROSTER_FORMAT,
        "version": ROSTER_VERSION,
        "body": body,
        "signature": _b64(signature),
    }
    return canonical_json(wire).encode()


def _signed_part(body: Mapping[str, Any]) -> bytes:
    """What the hub's signature covers: the format, the version and the body, canonical."""
    envelope = {"format": ROSTER_FORMAT, "version": ROSTER_VERSION, "body": body}
    return _ROSTER_SIGNED + canonical_json(envelope).encode()


def next_hub_key(previous: SigningKey, card: DeviceCard) -> KeyStep:
    """The step that makes `card` (the hub's new card, same id, new keys) follow from the key
    before it."""
    message = _HUB_KEY_SIGNED + canonical_json(_card_fields(card)).encode()
    return KeyStep(card, _b64(previous.sign(message).signature))


def new_roster(
    previous: Roster | None,
    hub_keys: Iterable[KeyStep],
    enrolled: Mapping[str, DeviceCard],
    revoked: Mapping[str, frozenset[str]],
) -> Roster:
    """The roster that follows `previous` (None: the first): the serial one higher when
    anything changed, each device's enrolment serial kept, and a device newly revoked cut at
    the new serial with the revisions the hub holds by it (`revoked`: id -> those rev ids)."""
    steps = tuple(hub_keys)
    serial = (previous.serial if previous else 0) + 1
    before = {e.card.id: e for e in previous.devices} if previous else {}
    devices = []
    for device_id, card in sorted(enrolled.items()):
        old = before.get(device_id)
        enrolled_at = old.enrolled_at if old is not None and old.card == card else serial
        if device_id in revoked:
            if old is not None and old.revoked_at is not None and old.card == card:
                devices.append(old)  # the cut stays where it was
            else:
                devices.append(RosterEntry(card, enrolled_at, serial, revoked[device_id]))
        else:
            devices.append(RosterEntry(card, enrolled_at))
    candidate = Roster(serial, clock.now().isoformat(timespec="seconds"), steps, tuple(devices))
    if previous is not None and _same(previous, candidate):
        return previous
    return candidate


def _same(a: Roster, b: Roster) -> bool:
    """Whether two rosters say the same thing (serial and time aside)."""
    left, right = _body(a), _body(b)
    for body in (left, right):
        body.pop("serial")
        body.pop("issued_at")
    return left == right


# -- reading -------------------------------------------------------------------------------------


def _int(value: Any, what: str, *, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_SERIAL:
        raise _malformed(what)
    return value


def _card(value: Any) -> DeviceCard:
    if not isinstance(value, dict):
        raise _malformed("card")
    try:
        return card_from_fields(value)
    except LocalizedError as exc:
        raise _refuse("roster.bad_card", problem=exc) from None


def _signature(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise _malformed(what)
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise _malformed(what) from None
    if len(raw) != 64:
        raise _malformed(what)
    return raw


def _step(value: Any, first: bool) -> KeyStep:
    if not isinstance(value, dict) or set(value) != _STEP_KEYS:
        raise _malformed("hub_keys")
    card = _card(value["card"])
    if card.role != "hub":
        raise _malformed("hub_keys")
    signed = value["signed_by_previous"]
    if first != (signed is None):
        raise _malformed("hub_keys")
    if signed is not None:
        _signature(signed, "hub_keys")
    return KeyStep(card, signed)


def _entry(value: Any, serial: int) -> RosterEntry:
    if not isinstance(value, dict) or set(value) != _ENTRY_KEYS:
        raise _malformed("devices")
    card = _card(value["card"])
    enrolled_at = _int(value["enrolled_at"], "enrolled_at")
    revoked_at = value["revoked_at"]
    if revoked_at is not None:
        revoked_at = _int(revoked_at, "revoked_at")
    kept = value["kept"]
    if (
        enrolled_at > serial
        or (revoked_at is not None and not enrolled_at <= revoked_at <= serial)
        or not isinstance(kept, list)
        or (kept and revoked_at is None)
        or not all(isinstance(k, str) and REV_ID_PATTERN.fullmatch(k) for k in kept)
        or len(set(kept)) != len(kept)
    ):
        raise _malformed("devices")
    return RosterEntry(card, enrolled_at, revoked_at, frozenset(kept))


def parse_roster(data: bytes) -> tuple[Roster, bytes, bytes]:
    """A roster read from its wire form, every field checked as hostile input; with the bytes
    its signature covers and the signature (`verify_roster` checks them)."""
    try:
        wire = json.loads(data.decode("utf-8"))  # UTF-8 only (json.loads would take UTF-16)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _refuse("roster.not_json") from None
    check_envelope(
        wire, ROSTER_FORMAT, ROSTER_VERSION, lambda code, **v: _refuse(f"roster.{code}", **v)
    )
    if set(wire) != {"format", "version", "body", "signature"}:
        raise _malformed("fields")
    body = wire["body"]
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        raise _malformed("body")
    serial = _int(body["serial"], "serial")
    issued_at = body["issued_at"]
    try:
        when = dt.datetime.fromisoformat(issued_at) if isinstance(issued_at, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _malformed("issued_at")
    steps_in, devices_in = body["hub_keys"], body["devices"]
    if not isinstance(steps_in, list) or not 1 <= len(steps_in) <= MAX_HUB_KEYS:
        raise _malformed("hub_keys")
    steps = tuple(_step(s, i == 0) for i, s in enumerate(steps_in))
    if len({s.card.id for s in steps}) != 1:
        raise _malformed("hub_keys")
    if not isinstance(devices_in, list) or len(devices_in) > MAX_DEVICES:
        raise _malformed("devices")
    devices = tuple(_entry(e, serial) for e in devices_in)
    ids = [e.card.id for e in devices]
    if len(set(ids)) != len(ids) or steps[0].card.id in ids:
        raise _malformed("devices")
    if sum(len(e.kept) for e in devices) > MAX_KEPT:
        raise _malformed("kept")
    roster = Roster(serial, issued_at, steps, devices)
    try:
        signed = _signed_part(body)
    except UnicodeEncodeError:  # a lone surrogate, which JSON may escape and no text holds
        raise _malformed("body") from None
    return roster, signed, _signature(wire["signature"], "signature")


def _verify(card: DeviceCard, message: bytes, signature: bytes) -> bool:
    try:
        VerifyKey(base64.b64decode(card.signing_key)).verify(message, signature)
    except BadSignatureError:
        return False
    return True


def verify_roster(data: bytes, trusted_hub: DeviceCard) -> Roster:
    """The roster in `data`, if the hub this device trusts (`trusted_hub`, the card its person
    checked) signed it, directly or through the chain of the hub's later keys."""
    roster, signed, signature = parse_roster(data)
    if trusted_hub.id != roster.hub_keys[0].card.id:
        raise _refuse("roster.other_hub", hub=quote(roster.hub_keys[0].card.name))
    _follow(roster.hub_keys, trusted_hub)
    if not _verify(roster.hub, signed, signature):
        raise _refuse("roster.bad_signature")
    return roster


def _follow(steps: tuple[KeyStep, ...], known: DeviceCard) -> DeviceCard:
    """The last card of `steps`, if each one after `known` is signed by the key before it."""
    cards = [s.card for s in steps]
    if known not in cards:
        raise _refuse("roster.bad_key_chain")
    start = cards.index(known)
    for before, step in zip(steps[start:], steps[start + 1 :], strict=False):
        assert step.signed_by_previous is not None  # _step: only the first has none
        try:
            message = _HUB_KEY_SIGNED + canonical_json(_card_fields(step.card)).encode()
        except UnicodeEncodeError:
            raise _refuse("roster.bad_key_chain") from None
        if not _verify(before.card, message, base64.b64decode(step.signed_by_previous)):
            raise _refuse("roster.bad_key_chain")
    return cards[-1]


def follow_sender_keys(known: DeviceCard, value: object) -> DeviceCard:
    """The hub's current card from a bundle header's `sender_keys` (hostile input: checked as a
    roster's `hub_keys`), followed from the card this store knows; `known` itself when absent."""
    if value is None:
        return known
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_HUB_KEYS:
        raise _malformed("hub_keys")
    steps = tuple(_step(s, i == 0) for i, s in enumerate(value))
    if len({s.card.id for s in steps}) != 1 or steps[0].card.id != known.id:
        raise _malformed("hub_keys")
    return _follow(steps, known)


def hub_key_chain(store: Store) -> list[dict[str, Any]] | None:
    """The hub's chain of keys as a bundle header carries it; None before any rotation."""
    steps = _hub_steps(store)
    if len(steps) < 2:
        return None
    return [
        {"card": _card_fields(s.card), "signed_by_previous": s.signed_by_previous} for s in steps
    ]


def rotated_steps(store: Store, previous: SigningKey, card: DeviceCard) -> list[dict[str, Any]]:
    """The hub's chain of keys with `card` (its new one) signed by `previous` appended, as
    kept in local state (`keep_hub_steps_in`)."""
    steps = [*_hub_steps(store), next_hub_key(previous, card)]
    return [
        {"card": _card_fields(s.card), "signed_by_previous": s.signed_by_previous} for s in steps
    ]


def keep_hub_steps_in(conn: Connection, steps: list[dict[str, Any]]) -> None:
    """Keep the hub's chain of keys (from `rotated_steps`), in the caller's unit."""
    local_state.put_value_in(conn, _HUB_KEYS, steps)


def newer(held: Roster | None, offered: Roster) -> bool:
    """Whether a store holding `held` takes `offered`: only a higher serial, so that an old
    roster replayed (a file kept from before a revocation) changes nothing."""
    return held is None or offered.serial > held.serial


# -- on a store ------------------------------------------------------------------------------------

_HUB_ROSTER = OWN_ROSTER_KEY
_TAKEN = HELD_ROSTER_PREFIX


def _hub_steps(store: Store) -> list[KeyStep]:
    """The hub's chain of keys: its first card, then each rotation (kept in local state)."""
    from dxfield.sync.keys import own_card

    kept = local_state.get_value(store, _HUB_KEYS)
    if not kept:
        return [KeyStep(own_card(store))]
    return [KeyStep(card_from_fields(s["card"]), s["signed_by_previous"]) for s in kept]


_HUB_KEYS = HUB_STEPS_KEY


def _held_by(store: Store, device_id: str) -> frozenset[str]:
    """The ids of the revisions by `device_id` this store holds."""
    from sqlalchemy import select

    from dxfield.store.schema import REVISIONS

    with store.read() as conn:
        rows = conn.execute(select(REVISIONS.c.rev_id).where(REVISIONS.c.device_id == device_id))
        return frozenset(rows.scalars())


def hub_roster(store: Store) -> bytes:
    """The hub's roster as of now, signed: every device it trusts (colleagues on a hub in
    PostgreSQL too), the revoked ones cut at the serial that first saw them revoked, with what
    this store held by them. The serial grows only when something changed; the roster is kept
    in the hub's local state, so the next one follows it."""
    from dxfield.sync.keys import device_keys, list_trusted

    held = local_state.get_value(store, _HUB_ROSTER)
    previous = parse_roster(held.encode())[0] if isinstance(held, str) else None
    trusted = list_trusted(store)
    before = {e.card.id: e for e in previous.devices} if previous else {}
    revoked: dict[str, frozenset[str]] = {}
    for device in trusted:
        if not device.revoked:
            continue
        old = before.get(device.card.id)
        already = old is not None and old.revoked_at is not None and old.card == device.card
        revoked[device.card.id] = old.kept if already and old else _held_by(store, device.card.id)
    roster = new_roster(previous, _hub_steps(store), {d.card.id: d.card for d in trusted}, revoked)
    if roster is previous and isinstance(held, str):
        return held.encode()
    data = signed_roster(roster, device_keys(store).signing)
    local_state.put_value(store, _HUB_ROSTER, data.decode())
    return data


def own_roster(store: Store) -> Roster | None:
    """On a hub (any account of a hub in PostgreSQL): the roster it last signed, as kept by
    `hub_roster`, read without making a new one; None when it has signed none yet."""
    held = local_state.get_value(store, _HUB_ROSTER)
    return parse_roster(held.encode())[0] if isinstance(held, str) else None


def held_roster(store: Store, hub_id: str) -> Roster | None:
    """The newest roster of the hub `hub_id` this store has taken (already verified when taken)."""
    held = local_state.get_value(store, _TAKEN + hub_id)
    return parse_roster(held.encode())[0] if isinstance(held, str) else None


def take_roster(store: Store, data: bytes) -> tuple[Roster, bool]:
    """Verify a roster against the hub card this store trusts (or, once it holds a roster, that
    roster's hub key) and keep it if it is newer than the one held: (the roster now held,
    whether the offered one was taken). An older or equal one changes nothing."""
    roster, taken = offered_roster(store, data)
    if taken:
        local_state.put_value(store, _TAKEN + roster.hub_keys[0].card.id, data.decode("utf-8"))
    return roster, taken


def offered_roster(store: Store, data: bytes) -> tuple[Roster, bool]:
    """`take_roster` writing nothing: (the roster to hold, whether it is the offered one, to
    keep with `keep_roster_in` once what brought it is taken whole)."""

    offered = parse_roster(data)[0]
    hub_id = offered.hub_keys[0].card.id
    pinned = pinned_hub(store)
    if pinned is None or pinned.id != hub_id:
        raise _refuse("roster.other_hub", hub=quote(offered.hub_keys[0].card.name))
    held = held_roster(store, hub_id)
    if held is not None and offered.serial <= held.serial:
        return held, False  # an older or equal one replayed grants nothing: not even checked
    # Once a roster has been taken, its hub key is the one trusted: a later roster must extend
    # that chain of keys, so a key the hub has rotated away (lost, stolen) signs nothing more.
    roster = verify_roster(data, held.hub if held is not None else pinned)
    if held is not None and roster.hub_keys[: len(held.hub_keys)] != held.hub_keys:
        raise _refuse("roster.bad_key_chain")
    return roster, True


def keep_roster_in(conn: Connection, roster: Roster, data: bytes) -> None:
    """Hold `roster` (its signed bytes `data`, from `offered_roster`), in the caller's unit."""
    local_state.put_value_in(conn, _TAKEN + roster.hub_keys[0].card.id, data.decode("utf-8"))


def roster_hub_id(data: bytes) -> str:
    """The id of the hub a roster is by (read, not verified)."""
    return parse_roster(data)[0].hub_keys[0].card.id


def pinned_hub(store: Store) -> DeviceCard | None:
    """The one hub this store follows: the card of role hub it trusts and has not revoked. None
    when there is none, or more than one (then no roster counts here: a card's role is written
    by whoever hands it over, so a second "hub" must not get to rule)."""
    from dxfield.sync.keys import list_trusted

    hubs = [t.card for t in list_trusted(store) if t.card.role == "hub" and not t.revoked]
    return hubs[0] if len(hubs) == 1 else None


def newest_held(store: Store) -> tuple[Roster, bytes] | None:
    """The roster this store holds of the hub it follows (`pinned_hub`), with its signed bytes
    (a laptop forwards it in the bundles it writes); None when it holds none."""
    pinned = pinned_hub(store)
    value = local_state.get_value(store, _TAKEN + pinned.id) if pinned is not None else None
    if not isinstance(value, str):
        return None
    return parse_roster(value.encode())[0], value.encode()
