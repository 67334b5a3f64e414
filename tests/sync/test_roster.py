"""The roster the hub signs: read as hostile input, verified through the hub's key chain, never
taken back to an older serial; a revoked device's revisions are kept only as the hub held them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from dxfield.store.ids import new_id
from dxfield.sync.keys import DeviceCard, SyncError
from dxfield.sync.roster import (
    KeyStep,
    Roster,
    new_roster,
    newer,
    next_hub_key,
    parse_roster,
    signed_roster,
    verify_roster,
)

pytestmark = pytest.mark.sqlite_only  # no store: nothing to run on PostgreSQL

REV_A = "1-" + "a" * 32
REV_B = "2-" + "b" * 32


def _card(name: str, role: str, key: SigningKey, device_id: str | None = None) -> DeviceCard:
    return DeviceCard(
        id=device_id or new_id(),
        name=name,
        role=role,
        signing_key=base64.b64encode(bytes(key.verify_key)).decode(),
        encryption_key=base64.b64encode(bytes(PrivateKey.generate().public_key)).decode(),
    )


class Fleet:
    """A hub and two laptops, with their keys."""

    def __init__(self) -> None:
        self.hub_key = SigningKey.generate()
        self.hub = _card("兵庫県", "hub", self.hub_key)
        self.keys = {name: SigningKey.generate() for name in ("toyooka", "nishinomiya")}
        self.cards = {n: _card(n, "field", k) for n, k in self.keys.items()}

    def roster(self, previous: Roster | None = None, **revoked: frozenset[str]) -> Roster:
        enrolled = {c.id: c for c in self.cards.values()}
        cut = {self.cards[name].id: kept for name, kept in revoked.items()}
        return new_roster(previous, [KeyStep(self.hub)], enrolled, cut)


@pytest.fixture
def fleet() -> Fleet:
    return Fleet()


def _edit(data: bytes, change: Any) -> bytes:
    wire = json.loads(data)
    change(wire)
    return json.dumps(wire, ensure_ascii=False).encode()


def test_a_roster_the_hub_signed_is_read_back_whole(fleet: Fleet) -> None:
    roster = fleet.roster()
    taken = verify_roster(signed_roster(roster, fleet.hub_key), fleet.hub)
    assert taken == roster
    assert taken.serial == 1 and taken.hub == fleet.hub
    toyooka = fleet.cards["toyooka"]
    assert taken.card_of(toyooka.id) == toyooka and taken.card_of(fleet.hub.id) == fleet.hub
    assert taken.card_of(new_id()) is None
    assert taken.authorship(toyooka.id, REV_A) == "ok"
    assert taken.authorship(new_id(), REV_A) == "unknown"


def test_the_same_devices_keep_the_serial_and_a_change_raises_it(fleet: Fleet) -> None:
    first = fleet.roster()
    assert fleet.roster(first) is first
    fleet.cards["kobe"] = _card("kobe", "field", SigningKey.generate())
    second = fleet.roster(first)
    assert second.serial == 2
    assert second.entry(fleet.cards["toyooka"].id).enrolled_at == 1  # type: ignore[union-attr]
    assert second.entry(fleet.cards["kobe"].id).enrolled_at == 2  # type: ignore[union-attr]
    assert newer(first, second) and not newer(second, first) and not newer(second, second)
    assert newer(None, first)


def test_revocation_cuts_at_the_serial_and_keeps_what_the_hub_held(fleet: Fleet) -> None:
    first = fleet.roster()
    cut = fleet.roster(first, toyooka=frozenset({REV_A}))
    toyooka = fleet.cards["toyooka"].id
    entry = cut.entry(toyooka)
    assert entry is not None and entry.revoked_at == 2 and entry.kept == {REV_A}
    assert cut.authorship(toyooka, REV_A) == "ok"  # taken before the cut: valid everywhere
    assert cut.authorship(toyooka, REV_B) == "revoked"  # anything else, whatever its stamp
    # Later rosters keep the cut where it was, whatever the hub holds by then.
    fleet.cards["kobe"] = _card("kobe", "field", SigningKey.generate())
    later = fleet.roster(cut, toyooka=frozenset({REV_A, REV_B}))
    assert later.serial == 3 and later.entry(toyooka) == entry
    taken = verify_roster(signed_roster(later, fleet.hub_key), fleet.hub)
    assert taken.authorship(toyooka, REV_B) == "revoked"


def test_a_rotated_hub_key_is_followed_from_the_card_a_laptop_trusts(fleet: Fleet) -> None:
    new_key = SigningKey.generate()
    rotated = _card("兵庫県", "hub", new_key, device_id=fleet.hub.id)
    steps = [KeyStep(fleet.hub), next_hub_key(fleet.hub_key, rotated)]
    roster = new_roster(None, steps, {c.id: c for c in fleet.cards.values()}, {})
    data = signed_roster(roster, new_key)
    assert verify_roster(data, fleet.hub).hub == rotated  # trusts the old card
    assert verify_roster(data, rotated).hub == rotated  # or the new one
    with pytest.raises(SyncError) as old_key:  # the new roster signed with the old key
        verify_roster(signed_roster(roster, fleet.hub_key), fleet.hub)
    assert old_key.value.code == "roster.bad_signature"


def test_a_hub_key_not_signed_by_the_one_before_is_refused(fleet: Fleet) -> None:
    thief = SigningKey.generate()
    fake = _card("兵庫県", "hub", thief, device_id=fleet.hub.id)
    laptop_key = fleet.keys["toyooka"]  # an enrolled laptop signs the step, not the hub
    steps = [KeyStep(fleet.hub), next_hub_key(laptop_key, fake)]
    roster = new_roster(None, steps, {}, {})
    with pytest.raises(SyncError) as refused:
        verify_roster(signed_roster(roster, thief), fleet.hub)
    assert refused.value.code == "roster.bad_key_chain"
    # A chain that does not hold the card the laptop trusts at all.
    alone = new_roster(None, [KeyStep(fake)], {}, {})
    with pytest.raises(SyncError) as missing:
        verify_roster(signed_roster(alone, thief), fleet.hub)
    assert missing.value.code == "roster.bad_key_chain"


def test_another_hubs_roster_is_refused(fleet: Fleet) -> None:
    other_key = SigningKey.generate()
    other = _card("大阪府", "hub", other_key)
    roster = new_roster(None, [KeyStep(other)], {}, {})
    with pytest.raises(SyncError) as refused:
        verify_roster(signed_roster(roster, other_key), fleet.hub)
    assert refused.value.code == "roster.other_hub"
    assert "大阪府" in refused.value.message("ja")


def test_a_roster_signed_by_an_enrolled_laptop_is_refused(fleet: Fleet) -> None:
    roster = fleet.roster()
    with pytest.raises(SyncError) as refused:
        verify_roster(signed_roster(roster, fleet.keys["toyooka"]), fleet.hub)
    assert refused.value.code == "roster.bad_signature"


def _serial_up(wire: dict[str, Any]) -> None:
    wire["body"]["serial"] += 100


def _revoked_back(wire: dict[str, Any]) -> None:
    for entry in wire["body"]["devices"]:
        entry["revoked_at"] = None
        entry["kept"] = []


def _role_to_hub(wire: dict[str, Any]) -> None:
    wire["body"]["devices"][0]["card"]["role"] = "hub"


@pytest.mark.parametrize("change", [_serial_up, _revoked_back, _role_to_hub])
def test_a_signed_roster_changed_afterwards_is_refused(fleet: Fleet, change: Any) -> None:
    data = signed_roster(fleet.roster(fleet.roster(), toyooka=frozenset({REV_A})), fleet.hub_key)
    with pytest.raises(SyncError) as refused:
        verify_roster(_edit(data, change), fleet.hub)
    assert refused.value.code == "roster.bad_signature"


def _set(path: list[Any], value: Any) -> Any:
    def change(wire: dict[str, Any]) -> None:
        target = wire
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


MALFORMED = [
    ("serial_bool", _set(["body", "serial"], True), "roster.malformed"),
    ("serial_zero", _set(["body", "serial"], 0), "roster.malformed"),
    ("serial_text", _set(["body", "serial"], "7"), "roster.malformed"),
    ("no_zone", _set(["body", "issued_at"], "2026-12-02T10:00:00"), "roster.malformed"),
    ("extra_key", _set(["body", "extra"], 1), "roster.malformed"),
    ("extra_top", _set(["extra"], 1), "roster.malformed"),
    ("no_hub_keys", _set(["body", "hub_keys"], []), "roster.malformed"),
    ("devices_not_list", _set(["body", "devices"], {}), "roster.malformed"),
    ("kept_unrevoked", _set(["body", "devices", 0, "kept"], [REV_A]), "roster.malformed"),
    ("enrolled_later", _set(["body", "devices", 0, "enrolled_at"], 99), "roster.malformed"),
    ("short_signature", _set(["signature"], "AAAA"), "roster.malformed"),
    (
        "card_control",
        _set(["body", "devices", 0, "card", "name"], "a\x1b]0;x\x07"),
        "roster.bad_card",
    ),
    ("card_role", _set(["body", "devices", 0, "card", "role"], "root"), "roster.bad_card"),
    (
        "card_short_key",
        _set(["body", "devices", 0, "card", "signing_key"], "AAAA"),
        "roster.bad_card",
    ),
    ("version", _set(["version"], 2), "roster.unknown_version"),
    ("format", _set(["format"], "dxfield-card"), "roster.wrong_format"),
]


@pytest.mark.parametrize(("name", "change", "code"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_roster_is_refused_before_its_signature(
    fleet: Fleet, name: str, change: Any, code: str
) -> None:
    data = signed_roster(fleet.roster(), fleet.hub_key)
    with pytest.raises(SyncError) as refused:
        parse_roster(_edit(data, change))
    assert refused.value.code == code, name
    assert "\x1b" not in refused.value.message("en")


def test_a_duplicate_device_and_the_hub_as_a_device_are_refused(fleet: Fleet) -> None:
    data = signed_roster(fleet.roster(), fleet.hub_key)

    def twice(wire: dict[str, Any]) -> None:
        wire["body"]["devices"].append(wire["body"]["devices"][0])

    def hub_listed(wire: dict[str, Any]) -> None:
        wire["body"]["devices"][0]["card"] = wire["body"]["hub_keys"][0]["card"]

    for change in (twice, hub_listed):
        with pytest.raises(SyncError) as refused:
            parse_roster(_edit(data, change))
        assert refused.value.code == "roster.malformed"


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"[" * 100_000, b"null", b"{}"])
def test_what_is_not_a_roster_is_one_line(data: bytes) -> None:
    with pytest.raises(SyncError) as refused:
        parse_roster(data)
    assert refused.value.code in ("roster.not_json", "roster.wrong_format")
    assert "\n" not in refused.value.message("ja")


def test_a_roster_in_another_encoding_is_one_line(fleet: Fleet) -> None:
    data = signed_roster(fleet.roster(), fleet.hub_key)
    with pytest.raises(SyncError) as refused:
        parse_roster(data.decode("utf-8").encode("utf-16"))
    assert refused.value.code == "roster.not_json"


def test_the_signature_covers_the_format_and_version(fleet: Fleet) -> None:
    data = signed_roster(fleet.roster(), fleet.hub_key)
    _, signed, _ = parse_roster(data)
    assert b'"format":"dxfield-roster"' in signed and b'"version":1' in signed
