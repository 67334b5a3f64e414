"""Issue 16's attacks on authorship, made with enrolled devices' real keys and tried through
`dxfield import`, on a hub and two laptops: 豊岡 (A) and 西宮 (B).

The hub trusts both laptops' cards; each laptop trusts only the hub's card, by hand, and knows
the other through the roster the hub's bundles carry. Each attack is one fault in a bundle that
is otherwise what its sender's dxfield would write (signed with its real key, sealed to the
recipient's real key, every other revision signed by its author), and is refused with one line:
the store's dump, the rosters it holds and `check` stay as they were. A replayed old file is the
exception the design makes: it is taken, and changes nothing.

Format 1 closes the file: the hub takes a good one from an enrolled laptop during its window,
and refuses what the window's rules refuse.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from dxfield import clock
from dxfield.store import local_state, maintenance
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.authorship import is_hub_account, unsigned_authors
from dxfield.store.engine import Store
from dxfield.store.reference import REFERENCE_DEVICE
from dxfield.sync.bundle import accept_format_1_until, export_bundle, import_bundle
from dxfield.sync.container import Blob, Manifest, Member, Revisions, Roster
from dxfield.sync.keys import (
    DeviceCard,
    card_text,
    device_keys,
    list_trusted,
    own_card,
    parse_card,
    revoke,
    trust_card,
)
from dxfield.sync.roster import (
    KeyStep,
    hub_roster,
    new_roster,
    newest_held,
    next_hub_key,
    parse_roster,
    signed_roster,
)
from tests.conftest import Cli
from tests.sync.corpus import (
    Parsed,
    attested,
    flip,
    format_1_bundle,
    held_revisions,
    manifest,
    members,
    outgoing_revisions,
    resealed,
    signed,
    write_bundle,
)

HUB, A, B = "兵庫県", "豊岡リエゾン", "西宮リエゾン"
NOBODY = "0190c9a1-0000-7000-8000-00000000beef"
OTHER_HUB = "0190c9a1-0000-7000-8000-00000000cafe"
"""Device ids no store here knows."""


@dataclass
class Fleet:
    hub: Store
    a: Store
    b: Store
    folder: Path

    def __getitem__(self, name: str) -> Store:
        store: Store = getattr(self, name)
        return store


def _with_role(folder: Path, name: str, role: str) -> Store:
    """The store in `folder`, its device of `role`. On PostgreSQL every folder's database is a
    hub's, whose first account is the hub: a laptop there is made one by its role, as on a file."""
    store = Store.open(folder, device_name=name)
    if store.device.role == role:
        return store
    local_state.set_device_role(store, role)
    store.close()
    return Store.open(folder)


def _log(store: Store, title: str) -> dict[str, Any]:
    """A new activity on `store`; its revision as `store`'s bundles carry it (signed)."""
    made = add_activity(
        store,
        ActivityInput(title=title, kind="meeting", date="2024-07-17", municipality="豊岡市"),
    )
    return next(r for r in outgoing_revisions(store) if r["entity_id"] == made.id)


_files = itertools.count(1)


def _sync(fleet: Fleet, sender: Store, receiver: Store, *, full: bool = False) -> Path:
    path = fleet.folder / f"sync-{next(_files)}.dxb"
    export_bundle(sender, path, receiver.device.name, full=full)
    import_bundle(receiver, path)
    return path


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    hub = _with_role(tmp_path / "hub", HUB, "hub")
    a = _with_role(tmp_path / "toyooka", A, "field")
    b = _with_role(tmp_path / "nishinomiya", B, "field")
    for laptop in (a, b):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))
    made = Fleet(hub, a, b, tmp_path)
    _log(a, "奥矢根区 意見交換会")
    _log(b, "窓口体験調査")
    _sync(made, a, hub)
    _sync(made, b, hub)
    _sync(made, hub, a)
    _sync(made, hub, b)
    yield made
    for store in (hub, a, b):
        store.close()


def _roster_of(store: Store) -> bytes | None:
    """The roster `store`'s bundles carry: the hub's own, or the newest a laptop holds."""
    if is_hub_account(store):
        return hub_roster(store)
    held = newest_held(store)
    return held[1] if held is not None else None


def _send(by: Store, to: Store, revisions: list[Any], **options: Any) -> bytes:
    """A bundle as `by`'s export writes it (its roster first), holding `revisions`."""
    return write_bundle(by, to, members(by, to, revisions, roster=_roster_of(by), **options))


def _state(store: Store) -> tuple[Any, dict[str, Any]]:
    """What no refused bundle may change: the store's dump and the rosters it keeps."""
    return maintenance.dump(store), local_state.values_with_prefix(store, "roster:")


def _import(cli: Cli, store: Store, path: Path) -> Any:
    return cli("--lang", "en", "--data-dir", str(store.data_dir), "import", str(path))


def _refused(cli: Cli, store: Store, data: bytes, words: str, folder: Path) -> str:
    """Import `data` into `store` through the command line: refused in one line holding
    `words`, nothing changed, `check` still ok. Returns the line."""
    path = folder / f"attack-{next(_files)}.dxb"
    path.write_bytes(data)
    before = _state(store)
    result = _import(cli, store, path)
    assert result.code == 1 and result.out == "", result.out
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bundle refused: "), result.err
    line: str = lines[0]
    assert words in line, line
    assert "unexpected" not in line and "\x1b" not in line
    assert _state(store) == before
    assert maintenance.check(store).ok
    return line


def _taken(cli: Cli, store: Store, data: bytes, folder: Path) -> Any:
    path = folder / f"taken-{next(_files)}.dxb"
    path.write_bytes(data)
    result = cli("--lang", "en", "--data-dir", str(store.data_dir), "import", str(path), "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)[0]


def test_the_fleet_is_as_described(fleet: Fleet) -> None:
    """What every attack below starts from: the laptops trust the hub's card alone, know each
    other through the hub's roster, and all three stores hold the same records."""
    for laptop, other in ((fleet.a, fleet.b), (fleet.b, fleet.a)):
        assert [t.name for t in list_trusted(laptop)] == [HUB]
        held = newest_held(laptop)
        assert held is not None and held[0].entry(other.device.id) is not None
    assert maintenance.dump(fleet.a) == maintenance.dump(fleet.hub) == maintenance.dump(fleet.b)


# -- forged authors ------------------------------------------------------------------------------


def _claiming(revision: dict[str, Any], author: str, by: Store) -> dict[str, Any]:
    """`revision` rewritten in `author`'s name (a device id), its id made to match, signed by
    `by` with its real key: as a hostile `by` would forge it."""
    return resealed({**revision, "device_id": author}, by)


def _edit_of(revision: dict[str, Any], title: str) -> dict[str, Any]:
    """A next version of `revision`'s record with another title (not yet signed)."""
    return {
        **revision,
        "data": {**revision["data"], "title": title},
        "generation": revision["generation"] + 1,
        "parents": [revision["rev_id"]],
        "hlc": "1732580800000-000001",
    }


def _b_activity(fleet: Fleet) -> dict[str, Any]:
    return next(r for r in outgoing_revisions(fleet.b) if r["device_id"] == fleet.b.device.id)


@pytest.mark.parametrize("how", ["new-record", "edit-of-b"])
@pytest.mark.parametrize(
    ("victim", "claimed"), [("hub", "b"), ("hub", "hub"), ("b", "hub"), ("b", "b")]
)
def test_a_revision_in_another_devices_name_is_refused(
    fleet: Fleet, cli: Cli, victim: str, claimed: str, how: str
) -> None:
    """The issue's attack: A's bundle carries a revision claiming to be B's or the hub's, its id
    the true hash of that claim, signed by A with A's real key."""
    if how == "new-record":
        revision = _log(fleet.a, "県からの通知（偽）")
    else:
        revision = _edit_of(_b_activity(fleet), "西宮市 窓口体験調査（取り下げ）")
    forged = _claiming(revision, fleet[claimed].device.id, fleet.a)
    data = _send(fleet.a, fleet[victim], [forged])
    name = {"hub": HUB, "b": B}[claimed]
    _refused(cli, fleet[victim], data, f"revision 1: author: not signed by '{name}'", fleet.folder)


@pytest.mark.parametrize("victim", ["hub", "b"])
def test_a_revision_by_a_device_nobody_enrolled_is_refused(
    fleet: Fleet, cli: Cli, victim: str
) -> None:
    """A stranger's revision, signed with the stranger's own real key, forwarded by A."""
    with _with_role(fleet.folder / "stranger", "よそ者", "field") as stranger:
        revision = _log(stranger, "よそ者の記録")
    data = _send(fleet.a, fleet[victim], [revision])
    words = f"author: '{revision['device_id']}' is not an enrolled device"
    _refused(cli, fleet[victim], data, words, fleet.folder)


@pytest.mark.parametrize("victim", ["hub", "b"])
def test_a_revision_in_the_name_of_reference_data_is_refused(
    fleet: Fleet, cli: Cli, victim: str
) -> None:
    """Reference data's pseudo-device signs nothing and every store holds what it wrote: a new
    revision in its name is refused, whoever signed it."""
    forged = _claiming(_log(fleet.a, "基準データの書き換え"), REFERENCE_DEVICE, fleet.a)
    data = _send(fleet.a, fleet[victim], [forged])
    _refused(cli, fleet[victim], data, "writes what every store holds already", fleet.folder)


def test_a_revision_re_signed_by_another_device_is_refused(fleet: Fleet, cli: Cli) -> None:
    """B's own new revision, untouched, but carrying A's signature in place of B's, in A's
    bundle to the hub; as B signed it, the same bundle is taken."""
    revision = _log(fleet.b, "西宮市 意見交換会")
    resigned = signed(revision, fleet.a)
    assert resigned["rev_id"] == revision["rev_id"] and resigned != revision
    data = _send(fleet.a, fleet.hub, [resigned])
    _refused(cli, fleet.hub, data, "revision 1: author: not signed by '西宮リエゾン'", fleet.folder)
    assert _taken(cli, fleet.hub, _send(fleet.a, fleet.hub, [revision]), fleet.folder)["new"] == 1


def test_a_revision_re_signed_by_the_hub_is_refused(fleet: Fleet, cli: Cli) -> None:
    """Not even the hub signs in B's name: its signature in place of B's, in the hub's own
    bundle to A, is refused (the hub vouches for old revisions by attestation, not signature)."""
    revision = _log(fleet.b, "西宮市 意見交換会")
    data = _send(fleet.hub, fleet.a, [signed(revision, fleet.hub)])
    _refused(cli, fleet.a, data, "revision 1: author: not signed by '西宮リエゾン'", fleet.folder)


# -- forged hub ----------------------------------------------------------------------------------


def _forged_card(like: DeviceCard, key: SigningKey, **changes: Any) -> DeviceCard:
    """`like` with `key`'s public key for its signing key, and `changes`."""
    raw = base64.b64encode(bytes(key.verify_key)).decode()
    return replace(like, signing_key=raw, **changes)


def _a_roster(fleet: Fleet, steps: list[KeyStep]) -> bytes:
    """A roster A makes, serial far ahead of the hub's: A and a stranger enrolled, B gone;
    signed with A's real key."""
    held = newest_held(fleet.a)
    assert held is not None
    entry = held[0].entry(fleet.a.device.id)
    assert entry is not None
    stranger = _forged_card(entry.card, SigningKey.generate(), id=NOBODY, name="よそ者")
    roster = new_roster(None, steps, {fleet.a.device.id: entry.card, NOBODY: stranger}, {})
    return signed_roster(replace(roster, serial=held[0].serial + 10), device_keys(fleet.a).signing)


def _roster_signed_by_a(fleet: Fleet) -> bytes:
    return _a_roster(fleet, [KeyStep(own_card(fleet.hub))])


def _roster_with_a_rotation_to_a(fleet: Fleet) -> bytes:
    """The hub's card, then a 'rotation' to A's key, which A signs as if it were the hub's."""
    key = device_keys(fleet.a).signing
    rotated = _forged_card(own_card(fleet.hub), key)
    return _a_roster(fleet, [KeyStep(own_card(fleet.hub)), next_hub_key(key, rotated)])


def _roster_of_another_hub(fleet: Fleet) -> bytes:
    """A 'hub' of the same name, whose key is A's."""
    key = device_keys(fleet.a).signing
    other = _forged_card(own_card(fleet.hub), key, id=OTHER_HUB)
    return _a_roster(fleet, [KeyStep(other)])


ROSTERS: list[tuple[str, Callable[[Fleet], bytes], str]] = [
    ("signed-by-a", _roster_signed_by_a, "the roster: the roster is not signed by the hub"),
    ("rotated-to-a", _roster_with_a_rotation_to_a, "the roster's hub keys do not follow"),
    (
        "another-hub",
        _roster_of_another_hub,
        "the roster is the hub '兵庫県''s, not that of the hub this device trusts",
    ),
]


@pytest.mark.parametrize(("name", "make", "words"), ROSTERS, ids=[r[0] for r in ROSTERS])
def test_a_roster_the_hub_did_not_sign_is_refused(
    fleet: Fleet, cli: Cli, name: str, make: Callable[[Fleet], bytes], words: str
) -> None:
    """A's bundle to B carries a roster A made (B dropped, a stranger enrolled), beside a
    revision of A's own that would otherwise be taken."""
    revision = _log(fleet.a, "豊岡市 会議")
    parts = members(fleet.a, fleet.b, [revision], roster=make(fleet))
    _refused(cli, fleet.b, write_bundle(fleet.a, fleet.b, parts), words, fleet.folder)
    assert _taken(cli, fleet.b, _send(fleet.a, fleet.b, [revision]), fleet.folder)["new"] == 1


def test_a_bundle_in_the_hubs_name_not_signed_by_the_hub_is_refused(fleet: Fleet, cli: Cli) -> None:
    """A writes a bundle whose header names the hub as its sender, and signs it with A's key."""
    revision = _claiming(_log(fleet.a, "県からの通知（偽）"), fleet.hub.device.id, fleet.a)
    parts = members(fleet.hub, fleet.b, [revision], roster=_roster_signed_by_a(fleet))
    data = write_bundle(fleet.a, fleet.b, parts, sender_id=fleet.hub.device.id)
    _refused(cli, fleet.b, data, "the signature does not match", fleet.folder)


def test_a_roster_of_the_hubs_sent_to_the_hub_is_not_taken_from_a_laptop(
    fleet: Fleet, cli: Cli
) -> None:
    """The hub is the authority on its roster: one in a laptop's bundle (here A's forgery)
    changes nothing there, and the roster the hub sends next is its own."""
    before = hub_roster(fleet.hub)
    revision = _log(fleet.a, "豊岡市 会議")
    parts = members(fleet.a, fleet.hub, [revision], roster=_roster_signed_by_a(fleet))
    taken = _taken(cli, fleet.hub, write_bundle(fleet.a, fleet.hub, parts), fleet.folder)
    assert taken["new"] == 1 and taken["roster"] is None
    assert hub_roster(fleet.hub) == before


def test_a_card_that_calls_itself_a_hub_gives_its_laptop_no_say_on_the_hub(
    fleet: Fleet, cli: Cli
) -> None:
    """A card's role is its sender's to write (the fingerprint the keeper checks covers its keys
    alone): a laptop enrolled with a card saying "hub" neither attests on the hub nor has its
    own roster taken there. (Both were taken before: the hub attested with every trusted card of
    role hub, and took such a card's roster, whose devices' keys then judged authorship.)"""
    with _with_role(fleet.folder / "amagasaki", "尼崎リエゾン", "field") as c:
        card = replace(own_card(c), role="hub")
        trust_card(fleet.hub, card)
        in_bs_name = _claiming(_log(c, "西宮市 記録（偽）"), fleet.b.device.id, c)
        data = _send(c, fleet.hub, [attested(in_bs_name, c)])
        _refused(cli, fleet.hub, data, f"revision 1: {OLD}", fleet.folder)
        key = device_keys(c).signing
        b_with_cs_key = _forged_card(own_card(fleet.b), key)
        roster = new_roster(None, [KeyStep(card)], {fleet.b.device.id: b_with_cs_key}, {})
        parts = members(c, fleet.hub, [in_bs_name], roster=signed_roster(roster, key))
        words = "revision 1: author: not signed by '西宮リエゾン'"
        _refused(cli, fleet.hub, write_bundle(c, fleet.hub, parts), words, fleet.folder)


# -- revocation, and an old roster replayed ------------------------------------------------------


@dataclass
class Revoked:
    """A revoked by the hub, after the hub had taken `kept` from it; `after` written since."""

    fleet: Fleet
    kept: dict[str, Any]
    after: dict[str, Any]
    old_roster: bytes
    old_bundle: Path
    """The hub's full bundle for B from before the revocation, which B took then."""


@pytest.fixture
def revoked(fleet: Fleet) -> Revoked:
    old_roster = hub_roster(fleet.hub)
    old_bundle = _sync(fleet, fleet.hub, fleet.b, full=True)
    kept = _log(fleet.a, "失効前に県が受け取った記録")
    _sync(fleet, fleet.a, fleet.hub)
    revoke(fleet.hub, A)
    after = _log(fleet.a, "失効後の記録")
    return Revoked(fleet, kept, after, old_roster, old_bundle)


def _holds(store: Store, revision: dict[str, Any]) -> bool:
    return any(r["rev_id"] == revision["rev_id"] for r in held_revisions(store))


def test_a_revoked_devices_revision_the_hub_took_before_the_cut_is_kept(
    revoked: Revoked, cli: Cli
) -> None:
    fleet = revoked.fleet
    roster = parse_roster(hub_roster(fleet.hub))[0]
    entry = roster.entry(fleet.a.device.id)
    assert entry is not None and entry.revoked_at == roster.serial
    assert revoked.kept["rev_id"] in entry.kept and revoked.after["rev_id"] not in entry.kept
    path = fleet.folder / "after-the-cut.dxb"
    export_bundle(fleet.hub, path, B)
    taken = _taken(cli, fleet.b, path.read_bytes(), fleet.folder)
    assert taken["roster"] == roster.serial and taken["new"] == 1
    assert _holds(fleet.b, revoked.kept)
    assert maintenance.check(fleet.b).ok


def test_an_old_roster_replayed_changes_nothing(revoked: Revoked, cli: Cli) -> None:
    """B has the roster that revokes A; the hub's bundle from before, replayed, is taken as
    what it is (nothing new) and A stays revoked."""
    fleet = revoked.fleet
    _sync(fleet, fleet.hub, fleet.b)
    held = newest_held(fleet.b)
    entry = held[0].entry(fleet.a.device.id) if held is not None else None
    assert entry is not None and entry.revoked_at is not None
    before = _state(fleet.b)
    taken = _taken(cli, fleet.b, revoked.old_bundle.read_bytes(), fleet.folder)
    assert taken["new"] == taken["updated"] == 0 and taken["roster"] is None
    assert _state(fleet.b) == before
    data = _send(fleet.a, fleet.b, [revoked.after])
    _refused(cli, fleet.b, data, "the sender '豊岡リエゾン' was revoked", fleet.folder)


CUT = "author: '豊岡リエゾン' was revoked, and the hub had not taken this version before"


def _stamped_before(revoked: Revoked) -> dict[str, Any]:
    """A's revision after the cut, stamped by A in 2023, long before it (authors choose
    stamps)."""
    return resealed({**revoked.after, "hlc": "1700000000000-000000"}, revoked.fleet.a)


def _forwarded_by_b(revoked: Revoked, revision: dict[str, Any]) -> tuple[Store, bytes]:
    fleet = revoked.fleet
    return fleet.hub, _send(fleet.b, fleet.hub, [revision])


def _under_the_old_roster(revoked: Revoked) -> tuple[Store, bytes]:
    """The hub's roster from before the revocation, replayed in a bundle under the hub's own key
    with A's revision after the cut: the old roster does not bring A back."""
    fleet = revoked.fleet
    parts = members(fleet.hub, fleet.b, [revoked.after], roster=revoked.old_roster)
    return fleet.b, write_bundle(fleet.hub, fleet.b, parts)


REVOCATIONS: list[tuple[str, Callable[[Revoked], tuple[Store, bytes]], str]] = [
    (
        "a-to-the-hub",
        lambda r: (r.fleet.hub, _send(r.fleet.a, r.fleet.hub, [r.after])),
        "the sender '豊岡リエゾン' was revoked",
    ),
    (
        "a-to-b",
        lambda r: (r.fleet.b, _send(r.fleet.a, r.fleet.b, [r.after])),
        "the sender '豊岡リエゾン' was revoked",
    ),
    ("forwarded-by-b", lambda r: _forwarded_by_b(r, r.after), CUT),
    ("stamped-before-the-cut", lambda r: _forwarded_by_b(r, _stamped_before(r)), CUT),
    ("under-the-old-roster", _under_the_old_roster, CUT),
]


@pytest.mark.parametrize(("name", "make", "words"), REVOCATIONS, ids=[r[0] for r in REVOCATIONS])
def test_a_revoked_devices_revision_after_the_cut_is_refused(
    revoked: Revoked,
    cli: Cli,
    name: str,
    make: Callable[[Revoked], tuple[Store, bytes]],
    words: str,
) -> None:
    fleet = revoked.fleet
    _sync(fleet, fleet.hub, fleet.b)  # B holds the roster that revokes A
    victim, data = make(revoked)
    _refused(cli, victim, data, words, fleet.folder)


# -- a new revision disguised as one from before format 2 ----------------------------------------

OLD = "author: written before bundles were signed by authors, and not attested by the hub"


def _unsigned(fleet: Fleet) -> dict[str, Any]:
    revision = _log(fleet.a, "古い記録のふり")
    return {k: v for k, v in revision.items() if k != "signature"}


def _attested_by_a(fleet: Fleet) -> dict[str, Any]:
    return attested(_log(fleet.a, "古い記録のふり"), fleet.a)


def _old_stamp_attested_by_a(fleet: Fleet) -> dict[str, Any]:
    revision = _log(fleet.a, "古い記録のふり")
    return attested(resealed({**revision, "hlc": "1577836800000-000000"}, fleet.a), fleet.a)


def _bs_attested_by_a(fleet: Fleet) -> dict[str, Any]:
    return attested(_claiming(_log(fleet.a, "古い記録のふり"), fleet.b.device.id, fleet.a), fleet.a)


def _attestation_of_another(fleet: Fleet) -> dict[str, Any]:
    """A real attestation by the hub's key, of another revision, copied onto A's new one."""
    genuine = attested(_b_activity(fleet), fleet.hub)
    revision = _unsigned(fleet)
    return {**revision, "attestation": genuine["attestation"]}


DISGUISES: list[tuple[str, Callable[[Fleet], dict[str, Any]], str]] = [
    ("unsigned", _unsigned, "it carries neither its author's signature nor the hub's attestation"),
    ("attested-by-a", _attested_by_a, OLD),
    ("old-stamp-attested-by-a", _old_stamp_attested_by_a, OLD),
    ("bs-attested-by-a", _bs_attested_by_a, OLD),
    ("hub-attestation-of-another", _attestation_of_another, OLD),
]


@pytest.mark.parametrize("victim", ["hub", "b"])
@pytest.mark.parametrize(("name", "make", "words"), DISGUISES, ids=[d[0] for d in DISGUISES])
def test_a_new_revision_disguised_as_one_from_before_format_2_is_refused(
    fleet: Fleet,
    cli: Cli,
    name: str,
    make: Callable[[Fleet], dict[str, Any]],
    words: str,
    victim: str,
) -> None:
    data = _send(fleet.a, fleet[victim], [make(fleet)])
    _refused(cli, fleet[victim], data, f"revision 1: {words}", fleet.folder)


# -- the members: duplicated, out of order, miscounted --------------------------------------------


def _two_new(fleet: Fleet) -> list[dict[str, Any]]:
    """Two revisions of A's that B does not hold: each would be taken, so a refusal after the
    first is read must roll it back."""
    return [_log(fleet.a, "豊岡市 会議 一"), _log(fleet.a, "豊岡市 会議 二")]


def _parts(fleet: Fleet, order: str) -> list[Member]:
    """A's bundle to B with its members in `order`: M manifest, R roster, V revisions (one
    member per letter, a revision each), X an attachment."""
    revisions = _two_new(fleet)
    roster = _roster_of(fleet.a)
    assert roster is not None
    count = order.count("V")
    head = manifest(fleet.a, fleet.b, count, blobs=order.count("X"))
    made: list[Member] = []
    for letter in order:
        if letter == "M":
            made.append(Manifest(head))
        elif letter == "R":
            made.append(Roster(json.loads(roster)))
        elif letter == "V":
            made.append(Revisions([revisions.pop(0) if revisions else _log(fleet.a, "三")]))
        else:
            body = "添付ファイル".encode()
            made.append(Blob(hashlib.sha256(body).hexdigest(), len(body), [body]))
    return made


ORDERS: list[tuple[str, str, str]] = [
    ("manifest-twice", "MMRV", "member 2 (manifest)"),
    ("manifest-between-revisions", "MRVMV", "member 4 (manifest)"),
    ("roster-twice", "MRRV", "member 3 (roster)"),
    ("revisions-first", "VMRV", "member 1 (revisions)"),
    ("roster-first", "RMV", "member 1 (roster)"),
    ("roster-after-revisions", "MVRV", "member 3 (roster)"),
    ("revisions-after-an-attachment", "MRVXV", "member 5 (revisions)"),
]


@pytest.mark.parametrize(("name", "order", "words"), ORDERS, ids=[o[0] for o in ORDERS])
def test_members_duplicated_or_out_of_order_are_refused(
    fleet: Fleet, cli: Cli, name: str, order: str, words: str
) -> None:
    data = write_bundle(fleet.a, fleet.b, _parts(fleet, order))
    _refused(cli, fleet.b, data, f"{words} is not where it belongs", fleet.folder)
    # An attachment read before the refusal was staged, and is gone with it.
    assert [p for p in (fleet.b.data_dir / "blobs").rglob("*") if p.is_file()] == []


def _without(fields: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k != name}


MANIFESTS: list[tuple[str, Callable[[Fleet, dict[str, Any]], dict[str, Any]], str]] = [
    ("revisions-more", lambda f, m: {**m, "revisions": 3}, "revisions"),
    ("revisions-fewer", lambda f, m: {**m, "revisions": 1}, "revisions"),
    ("revisions-as-text", lambda f, m: {**m, "revisions": "2"}, "revisions"),
    ("blobs", lambda f, m: {**m, "blobs": 1}, "blobs"),
    ("sender", lambda f, m: {**m, "sender": f.b.device.id}, "sender"),
    ("recipient", lambda f, m: {**m, "recipient": f.hub.device.id}, "recipient"),
    ("version", lambda f, m: {**m, "version": 1}, "version"),
    ("format", lambda f, m: {**m, "format": "dxfield-bundle"}, "format"),
    ("created-at", lambda f, m: {**m, "created_at": "yesterday"}, "created_at"),
    ("full", lambda f, m: {**m, "full": "yes"}, "full"),
    ("extra-field", lambda f, m: {**m, "path": "../x"}, "fields"),
    ("missing-field", lambda f, m: _without(m, "full"), "fields"),
]


@pytest.mark.parametrize(("name", "change", "part"), MANIFESTS, ids=[m[0] for m in MANIFESTS])
def test_a_manifest_that_does_not_match_the_contents_is_refused(
    fleet: Fleet,
    cli: Cli,
    name: str,
    change: Callable[[Fleet, dict[str, Any]], dict[str, Any]],
    part: str,
) -> None:
    """Read last, when every revision has been taken in the unit: the refusal rolls all back."""
    revisions = _two_new(fleet)
    parts = members(fleet.a, fleet.b, revisions, roster=_roster_of(fleet.a), page=1)
    first = parts[0]
    assert isinstance(first, Manifest)
    parts[0] = Manifest(change(fleet, dict(first.fields)))
    data = write_bundle(fleet.a, fleet.b, parts)
    words = f"the manifest does not match the contents ({part})"
    _refused(cli, fleet.b, data, words, fleet.folder)


# -- chunks, through `dxfield import` ------------------------------------------------------------

SMALL = 256
"""Chunks of 256 bytes: the roster and each revision span several."""


def _chunked(fleet: Fleet) -> Parsed:
    """A's bundle to B: its roster and three revisions B lacks, a member each, in small chunks."""
    revisions = [*_two_new(fleet), _log(fleet.a, "豊岡市 会議 三")]
    parts = members(fleet.a, fleet.b, revisions, roster=_roster_of(fleet.a), page=1)
    return Parsed.of(write_bundle(fleet.a, fleet.b, parts, chunk_bytes=SMALL))


def _swapped(chunks: list[bytes]) -> list[bytes]:
    return [chunks[1], chunks[0], *chunks[2:]]


def _from_another_bundle(fleet: Fleet, parsed: Parsed) -> bytes:
    """Chunk 2 of another real bundle from A to B spliced in, the manifest signed to match."""
    parts = members(fleet.a, fleet.b, [_log(fleet.a, "別の同期ファイル")])
    other = Parsed.of(write_bundle(fleet.a, fleet.b, parts, chunk_bytes=SMALL))
    chunks = [parsed.chunks[0], other.chunks[0], *parsed.chunks[2:]]
    return parsed.resigned(device_keys(fleet.a).signing, chunks)


Edit = Callable[[Fleet, Parsed], bytes]


def _a_signs(fleet: Fleet, parsed: Parsed, chunks: list[bytes]) -> bytes:
    return parsed.resigned(device_keys(fleet.a).signing, chunks)


CHUNKS: list[tuple[str, Edit, str]] = [
    (
        "first-chunk-tampered",
        lambda f, p: p.file([flip(p.chunks[0], 40), *p.chunks[1:]]),
        "chunk 1 does not match its hash",
    ),
    (
        "last-chunk-tampered",
        lambda f, p: p.file([*p.chunks[:-1], flip(p.chunks[-1], 20)]),
        "does not match its hash",
    ),
    ("chunks-reordered", lambda f, p: p.file(_swapped(p.chunks)), "chunk 1 is out of place"),
    (
        "chunks-reordered-and-signed",
        lambda f, p: _a_signs(f, p, _swapped(p.chunks)),
        "chunk 1 cannot be decrypted",
    ),
    ("truncated-at-a-chunk", lambda f, p: p.file(p.chunks[:-1]), "the file ends after chunk"),
    (
        "truncated-at-a-chunk-and-signed",
        lambda f, p: _a_signs(f, p, p.chunks[:-1]),
        "the encrypted stream does not end at its last chunk",
    ),
    ("truncated-in-a-chunk", lambda f, p: p.file()[:-10], "the file is cut short inside chunk"),
    (
        "chunk-appended",
        lambda f, p: p.file([*p.chunks, p.chunks[-1]]),
        "there is more after the last chunk",
    ),
    (
        "chunk-appended-and-signed",
        lambda f, p: _a_signs(f, p, [*p.chunks, p.chunks[-1]]),
        "the encrypted stream does not end at its last chunk",
    ),
    ("bytes-appended", lambda f, p: p.file() + b"\n", "there is more after the last chunk"),
    ("chunk-of-another-bundle", _from_another_bundle, "chunk 2 cannot be decrypted"),
]


@pytest.mark.parametrize(("name", "edit", "words"), CHUNKS, ids=[c[0] for c in CHUNKS])
def test_chunks_tampered_reordered_truncated_or_appended_are_refused(
    fleet: Fleet, cli: Cli, name: str, edit: Edit, words: str
) -> None:
    parsed = _chunked(fleet)
    assert len(parsed.chunks) > 10
    _refused(cli, fleet.b, edit(fleet, parsed), words, fleet.folder)
    # The file as A wrote it is taken: the edit was the only fault.
    assert _taken(cli, fleet.b, parsed.file(), fleet.folder)["new"] == 3


def test_a_fault_found_after_revisions_were_checked_leaves_nothing(
    fleet: Fleet, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last chunk damaged: the members before it were read and their revisions checked,
    and nothing is written: the merge comes only once the whole file is read and checked."""
    from dxfield.store import merge

    parsed = _chunked(fleet)
    checked: list[str] = []
    merged: list[str] = []
    check, apply = merge.check_signed_revision, merge.apply_revisions

    def checking(revision: Any, **options: Any) -> tuple[dict[str, Any], bytes]:
        row, found = check(revision, **options)
        checked.append(row["rev_id"])
        return row, found

    def merging(unit: Any, rows: Any, **options: Any) -> merge.MergeReport:
        merged.extend(r["rev_id"] for r in rows)
        return apply(unit, rows, **options)

    monkeypatch.setattr(merge, "check_signed_revision", checking)
    monkeypatch.setattr(merge, "apply_revisions", merging)
    damaged = parsed.file([*parsed.chunks[:-1], flip(parsed.chunks[-1], 20)])
    _refused(cli, fleet.b, damaged, "does not match its hash", fleet.folder)
    assert len(checked) >= 2 and not merged  # read and checked, never merged
    assert not any(_holds(fleet.b, {"rev_id": rev_id}) for rev_id in checked)


# -- format 1, on the hub during its window --------------------------------------------------------


def _format_1_of(store: Store) -> list[dict[str, Any]]:
    """What a format-1 export of `store` sent: every revision it holds but reference data's."""
    return [r for r in held_revisions(store) if r["device_id"] not in unsigned_authors()]


@pytest.fixture
def window(fleet: Fleet) -> dt.date:
    """The hub takes format-1 bundles for 30 days from today."""
    until = clock.today() + dt.timedelta(days=30)
    assert accept_format_1_until(fleet.hub, until) == until
    return until


def test_the_hub_takes_a_laptops_format_1_bundle_in_its_window_and_attests_it(
    fleet: Fleet, cli: Cli, window: dt.date
) -> None:
    revision = _log(fleet.a, "旧版で書いた記録")
    data = format_1_bundle(fleet.a, fleet.hub, _format_1_of(fleet.a))
    path = fleet.folder / "v1.dxb"
    path.write_bytes(data)
    result = import_bundle(fleet.hub, path)
    assert (result.format, result.new, result.unsigned) == (1, 1, 1)
    assert maintenance.check(fleet.hub).ok
    # The hub attested it as it took it: B takes it from the hub, though A never signed it.
    carried = next(r for r in outgoing_revisions(fleet.hub) if r["rev_id"] == revision["rev_id"])
    assert "attestation" in carried and "signature" not in carried
    _sync(fleet, fleet.hub, fleet.b)
    assert _holds(fleet.b, revision) and maintenance.check(fleet.b).ok


def _others_revision_not_held(fleet: Fleet) -> tuple[Store, bytes]:
    """B's new revision (the hub does not hold it) in A's format-1 bundle."""
    theirs = _log(fleet.b, "西宮市 未送信の記録")
    return fleet.hub, format_1_bundle(fleet.a, fleet.hub, [*_format_1_of(fleet.a), theirs])


def _in_the_hubs_name(fleet: Fleet) -> tuple[Store, bytes]:
    """A revision claiming to be the hub's, in A's format-1 bundle (no signature to forge)."""
    forged = _claiming(_log(fleet.a, "県からの通知（偽）"), fleet.hub.device.id, fleet.a)
    return fleet.hub, format_1_bundle(fleet.a, fleet.hub, [forged])


def _on_a_laptop(fleet: Fleet) -> tuple[Store, bytes]:
    return fleet.b, format_1_bundle(fleet.a, fleet.b, [_log(fleet.a, "旧版で書いた記録")])


def _after_the_window(fleet: Fleet) -> tuple[Store, bytes]:
    return fleet.hub, format_1_bundle(fleet.a, fleet.hub, [_log(fleet.a, "旧版で書いた記録")])


def _from_a_revoked_laptop(fleet: Fleet) -> tuple[Store, bytes]:
    revoke(fleet.hub, A)
    return fleet.hub, format_1_bundle(fleet.a, fleet.hub, [_log(fleet.a, "旧版で書いた記録")])


def _from_a_stranger(fleet: Fleet) -> tuple[Store, bytes]:
    with _with_role(fleet.folder / "stranger", "よそ者", "field") as stranger:
        return fleet.hub, format_1_bundle(stranger, fleet.hub, [_log(stranger, "よそ者の記録")])


def _signature_flipped(fleet: Fleet) -> tuple[Store, bytes]:
    data = format_1_bundle(fleet.a, fleet.hub, [_log(fleet.a, "旧版で書いた記録")])
    return fleet.hub, flip(data, len(data) - 5)


FORMAT_1: list[tuple[str, Callable[[Fleet], tuple[Store, bytes]], str, int]] = [
    ("another-devices-revision", _others_revision_not_held, "came unsigned from '豊岡リエゾン' but was written by '西宮リエゾン'", 0),
    ("in-the-hubs-name", _in_the_hubs_name, "came unsigned from '豊岡リエゾン' but was written by '兵庫県'", 0),
    ("on-a-laptop", _on_a_laptop, "made it with an older dxfield (format 1); update dxfield there", 0),
    ("after-the-window", _after_the_window, "and the hub no longer takes those", 31),
    ("revoked-laptop", _from_a_revoked_laptop, "the sender '豊岡リエゾン' was revoked", 0),
    ("stranger", _from_a_stranger, "is not a trusted device", 0),
    ("signature-flipped", _signature_flipped, "the signature does not match", 0),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "words", "later"), FORMAT_1, ids=[f[0] for f in FORMAT_1])
def test_a_format_1_bundle_the_window_does_not_allow_is_refused(
    fleet: Fleet,
    cli: Cli,
    window: dt.date,
    name: str,
    make: Callable[[Fleet], tuple[Store, bytes]],
    words: str,
    later: int,
) -> None:
    victim, data = make(fleet)
    with clock.frozen(clock.today() + dt.timedelta(days=later)):
        _refused(cli, victim, data, words, fleet.folder)


def test_a_hub_that_never_opened_its_window_refuses_format_1(fleet: Fleet, cli: Cli) -> None:
    data = format_1_bundle(fleet.a, fleet.hub, [_log(fleet.a, "旧版で書いた記録")])
    _refused(cli, fleet.hub, data, "the hub no longer takes those", fleet.folder)


def test_a_format_1_file_beyond_its_cap_is_refused(
    fleet: Fleet, cli: Cli, window: dt.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dxfield.sync import format1

    data = format_1_bundle(fleet.a, fleet.hub, [_log(fleet.a, "旧版で書いた記録")])
    monkeypatch.setattr(format1, "MAX_FILE_BYTES", len(data) - 1)
    _refused(cli, fleet.hub, data, f"is larger than {len(data) - 1} bytes", fleet.folder)


def test_a_roster_taken_while_a_bundle_is_checked_judges_its_write(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B checks A's bundle, which carries the roster A holds, while another import brings B the
    hub's newer roster, which revokes A (an import checks without the write lock, so another
    may commit meanwhile): the write judges by the newer roster, and keeps it."""
    from dxfield.sync import bundle

    written = _log(fleet.a, "豊岡市 会議 取消の前")
    from_a = fleet.folder / "a-to-b.dxb"
    export_bundle(fleet.a, from_a, fleet.b.device.name)
    revoke(fleet.hub, A)
    from_hub = fleet.folder / "hub-to-b.dxb"
    export_bundle(fleet.hub, from_hub, fleet.b.device.name)
    newer = parse_roster(hub_roster(fleet.hub))[0].serial
    real, done = bundle._Import._check, []

    def checked(self: bundle._Import, *args: Any) -> None:
        real(self, *args)
        if not done:
            done.append(True)
            import_bundle(fleet.b, from_hub)

    monkeypatch.setattr(bundle._Import, "_check", checked)
    with pytest.raises(bundle.BundleError) as refused:
        import_bundle(fleet.b, from_a)
    assert str(refused.value) == f"bundle refused: the sender '{A}' was revoked"
    assert done and not _holds(fleet.b, written)
    held = newest_held(fleet.b)
    assert held is not None and held[0].serial == newer
    assert maintenance.check(fleet.b).ok
