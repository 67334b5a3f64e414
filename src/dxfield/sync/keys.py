"""A device's keys, its public card, and the devices it trusts.

Each device has an Ed25519 signing key (its bundles are signed with it) and an X25519 key
(bundles for it are encrypted to it), both from libsodium through PyNaCl: nothing here is
home-made cryptography. The private keys live in one owner-only file in the data dir, made on
first need. A device's **card** (id, name, role, both public keys) is what travels to another
device, which trusts it (`trust_card`) after checking its fingerprint with the person.
Trusted devices are local state: never synced.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import N_, current_language, gettext, problems, quote, registered_problems
from dxfield.paths import KEY_FILE as KEY_FILE  # re-exported: where the keys live
from dxfield.store import local_state
from dxfield.store.engine import Store, device_name_of
from dxfield.store.files import read_regular_file
from dxfield.store.ids import ID_PATTERN
from dxfield.store.key_file import DeviceKeys as DeviceKeys  # re-exported: its old home
from dxfield.store.key_file import device_keys_in

CARD_FORMAT = "dxfield-device-card"
CARD_VERSION = 1
MAX_CARD_BYTES = 64 << 10
"""A card is a few hundred bytes; a file beyond this is not read."""
ROLES = ("field", "hub", "staff")
"""A laptop, the prefecture's hub, or a colleague working on a hub in PostgreSQL (store/hub.py)."""
CHOSEN_ROLES = ("field", "hub")
"""The roles `init` gives a device (a colleague's on a hub follows from whose account it is)."""
_TRUSTED = "trusted-device:"

PROBLEMS = problems(
    {
        "card.unreadable_file": N_("not a device card: {problem}"),
        "card.not_json": N_("not a device card: not JSON"),
        "card.wrong_format": N_("not a device card: wrong format"),
        "card.unknown_version": N_(
            "not a device card: version {version} is not one this dxfield reads (update dxfield)"
        ),
        "card.missing_field": N_("not a device card: {name} is missing"),
        "card.control_character": N_("not a device card: {name} holds a control character"),
        "card.not_a_device_id": N_("not a device card: id is not a device id"),
        "card.unknown_role": N_("not a device card: unknown role {role}"),
        "card.not_base64": N_("not a device card: {name} is not base64"),
        "card.wrong_key_length": N_("not a device card: {name} has the wrong length"),
        "device.own_card": N_("this is this device's own card: it cannot be trusted"),
        "device.name_taken": N_(
            "a device called {name} is already trusted; give this one another name"
        ),
        "device.other_keys": N_(
            "device {device} is already trusted with other keys; revoke it first"
        ),
        "device.second_hub": N_(
            "this device already follows the hub {hub}; a laptop follows one hub (revoke that "
            "one first if the prefecture's hub has changed)"
        ),
        "device.ambiguous": N_("more than one trusted device matches {text}; give its id"),
        "device.not_found": N_("no trusted device {text}"),
        "device.trust_on_hub": N_(
            "only the hub's own account trusts and revokes devices' cards; {device} works on "
            "the hub but does not decide whom it trusts"
        ),
    }
)


class SyncError(LocalizedError):
    """An error of sync that may hold another one (what reading the file said, what a revision
    lacked): its value is that error's code (plain data, as every value), and the other error
    itself is kept in `causes`, rendered in the same language as this one."""

    def __init__(
        self, code: str, en: str | None = None, field: str | None = None, **values: Any
    ) -> None:
        causes = {k: v for k, v in values.items() if isinstance(v, LocalizedError)}
        plain = {k: (v.code or v.text("en")) if k in causes else v for k, v in values.items()}
        super().__init__(code, en, field, **plain)
        self.causes: dict[str, LocalizedError] = causes

    def text(self, lang: str | None = None) -> str:
        lang = lang or current_language()
        if not self.causes or not self.code:
            return super().text(lang)
        told = {name: cause.message(lang) for name, cause in self.causes.items()}
        message = gettext(registered_problems()[self.code], lang)
        return message.format(**{**self.values, **told})


@dataclass(frozen=True)
class DeviceCard:
    """What another device needs to know of this one: who, and its two public keys."""

    id: str
    name: str
    role: str
    signing_key: str
    """Ed25519 verify key, base64."""
    encryption_key: str
    """X25519 public key, base64."""

    @property
    def fingerprint(self) -> str:
        """Sixteen bytes of the keys' SHA-256, for two people to compare aloud."""
        raw = base64.b64decode(self.signing_key) + base64.b64decode(self.encryption_key)
        digest = hashlib.sha256(raw).hexdigest()[:32]
        return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class TrustedDevice:
    """A device whose bundles this store accepts (until revoked)."""

    card: DeviceCard
    name: str
    """The name it is known by here (its own, unless given another when trusted)."""
    revoked: bool = False


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def device_keys(store: Store) -> DeviceKeys:
    """This device's keys, made (owner-only) the first time they are needed.

    A key file that others can read, that is not this store's device's, or that is not a key
    file is refused in one line and left as it is (`dxfield.store.key_file`)."""
    return device_keys_in(store.data_dir, store.device.id)


def own_card(store: Store) -> DeviceCard:
    """This device's public card."""
    keys = device_keys(store)
    return DeviceCard(
        id=store.device.id,
        name=store.device.name,
        role=store.device.role,
        signing_key=_b64(bytes(keys.signing.verify_key)),
        encryption_key=_b64(bytes(keys.encryption.public_key)),
    )


def card_text(card: DeviceCard) -> str:
    """A card as the file `keys export` writes."""
    return (
        json.dumps(
            {"format": CARD_FORMAT, "version": CARD_VERSION, **asdict(card)},
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )


def _bad_card(code: str, **values: Any) -> LocalizedError:
    return SyncError(f"card.{code}", **values)


def parse_card(text: str) -> DeviceCard:
    """A card read from its file, checked: format, version, fields and key lengths."""
    try:
        data = json.loads(text)
    except ValueError:
        raise _bad_card("not_json") from None
    check_envelope(data, CARD_FORMAT, CARD_VERSION, _bad_card)
    return card_from_fields(data)


def check_envelope(data: Any, form: str, version: int, refuse: Any) -> None:
    """A signed document's outer object (a card, a roster): a JSON object of format `form` at
    `version`; otherwise `refuse("wrong_format")` or `refuse("unknown_version", version=...)`."""
    if not isinstance(data, dict) or data.get("format") != form:
        raise refuse("wrong_format")
    if data.get("version") != version:
        found = data.get("version")
        raise refuse("unknown_version", version=found if isinstance(found, int) else quote(found))


def card_from_fields(data: dict[str, Any]) -> DeviceCard:
    """A card from its fields (a card file's, or one inside a roster), each checked: present,
    one line without control or bidi characters, an id, a known role, two 32-byte keys."""
    fields = {}
    for name in ("id", "name", "role", "signing_key", "encryption_key"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise _bad_card("missing_field", name=name)
        if any(
            ord(c) < 32
            or 0x7F <= ord(c) <= 0x9F
            or 0x202A <= ord(c) <= 0x202E
            or 0x2066 <= ord(c) <= 0x2069
            for c in value
        ):
            raise _bad_card("control_character", name=name)
        fields[name] = value.strip()
    if not ID_PATTERN.fullmatch(fields["id"]):
        raise _bad_card("not_a_device_id")
    if fields["role"] not in ROLES:
        raise _bad_card("unknown_role", role=quote(fields["role"]))
    for name in ("signing_key", "encryption_key"):
        try:
            raw = base64.b64decode(fields[name], validate=True)
        except (ValueError, binascii.Error):
            raise _bad_card("not_base64", name=name) from None
        if len(raw) != 32:
            raise _bad_card("wrong_key_length", name=name)
    return DeviceCard(**fields)


def read_card_file(path: Path) -> DeviceCard:
    """A card from the file a person gives: read as bytes, so a wrong file (a store, a picture)
    is "not a device card", not a crash; a pipe or a device is refused unopened, and no more
    than a card's worth is read."""
    try:
        raw = read_regular_file(path, MAX_CARD_BYTES)
    except LocalizedError as exc:
        raise _bad_card("unreadable_file", problem=exc) from None
    return parse_card(raw.decode("utf-8", errors="replace"))


def _trusted_from(value: Any) -> TrustedDevice:
    card = DeviceCard(**value["card"])
    return TrustedDevice(card, value.get("name") or card.name, bool(value.get("revoked")))


def trust_card(store: Store, card: DeviceCard, *, name: str | None = None) -> TrustedDevice:
    """Accept bundles from `card`'s device from now on (trusting it again un-revokes it)."""
    _require_hub_account(store)
    if card.id == store.device.id:
        raise LocalizedError("device.own_card")
    local = device_name_of(name) if name else card.name.strip()
    existing = {t.card.id: t for t in list_trusted(store)}
    for other in existing.values():
        if other.name == local and other.card.id != card.id and not other.revoked:
            raise LocalizedError("device.name_taken", field="name", name=quote(local))
    before = existing.get(card.id)
    if before is not None and before.card != card and not before.revoked:
        raise LocalizedError("device.other_keys", device=card.id)
    if card.role == "hub" and store.device.role != "hub":
        hub = next((t for t in existing.values() if t.card.role == "hub" and not t.revoked), None)
        if hub is not None and hub.card.id != card.id:
            # A laptop follows one hub: its roster says who else is enrolled. A second card
            # that says "hub" (its role is its sender's word) would get to say it too.
            raise LocalizedError("device.second_hub", hub=quote(hub.name))
    trusted = TrustedDevice(card, local, revoked=False)
    local_state.put_value(store, _TRUSTED + card.id, {"card": asdict(card), "name": local})
    _new_roster(store)
    return trusted


def _new_roster(store: Store) -> None:
    """On the hub, the roster follows its trust list at once (a revocation's cut is made now,
    not at the next export: docs/bundle-format.md), and an export only reads it."""
    if store.device.role == "hub":
        from dxfield.sync.roster import hub_roster

        hub_roster(store)


def _require_hub_account(store: Store) -> None:
    """On a shared hub, whom the hub trusts (whose bundles it takes, which colleagues may write)
    is decided by the hub's own account, as only it syncs: an enrolled colleague may not enrol
    another, nor revoke a laptop."""
    if store.hub_id is not None and store.device.id != store.hub_id:
        raise LocalizedError("device.trust_on_hub", device=store.device.name)


def list_trusted(store: Store) -> list[TrustedDevice]:
    """Every device this store has trusted (revoked ones too), by name."""
    found = [_trusted_from(v) for v in local_state.values_with_prefix(store, _TRUSTED).values()]
    return sorted(found, key=lambda t: (t.revoked, t.name, t.card.id))


def find_trusted(store: Store, text: str) -> TrustedDevice:
    """A trusted device by its local name, its id, or the end of its id."""
    wanted = text.strip()
    devices = list_trusted(store)
    matches = [t for t in devices if t.name == wanted or t.card.id == wanted]
    if not matches and len(wanted) >= 6:
        matches = [t for t in devices if t.card.id.endswith(wanted.lower())]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LocalizedError("device.ambiguous", text=quote(text))
    raise NotFound("device.not_found", text=quote(text))


def revoke(store: Store, text: str) -> TrustedDevice:
    """Stop accepting bundles from a device (it stays listed, as revoked)."""
    _require_hub_account(store)
    device = find_trusted(store, text)
    value = {"card": asdict(device.card), "name": device.name, "revoked": True}
    local_state.put_value(store, _TRUSTED + device.card.id, value)
    _new_roster(store)
    return TrustedDevice(device.card, device.name, revoked=True)
