"""The roster on real stores: the hub's follows its trust list, a laptop takes only newer ones."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from dxfield.store import local_state
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.schema import REVISIONS
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import SyncError, card_text, own_card, parse_card, revoke, trust_card
from dxfield.sync.roster import held_roster, hub_roster, parse_roster, take_roster


def _hub(folder: Path, name: str) -> Store:
    store = Store.open(folder, device_name=name)
    local_state.set_device_role(store, "hub")
    return Store.open(folder) if store.close() is None else store


def _introduce(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def _laptop(folder: Path, name: str) -> Store:
    """A laptop (role field: on PostgreSQL a folder's first account would be a hub)."""
    store = Store.open(folder, device_name=name)
    local_state.set_device_role(store, "field")
    store.close()
    return Store.open(folder)


def _hub_only(folder: Path) -> tuple[Store, Store, Store]:
    """A hub and two laptops that trust only the hub's card (the hub trusts both)."""
    hub = _hub(folder / "hub", "兵庫県")
    toyooka = _laptop(folder / "toyooka", "豊岡リエゾン")
    nishinomiya = _laptop(folder / "nishinomiya", "西宮リエゾン")
    for laptop in (toyooka, nishinomiya):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))  # the hub's card only
    return hub, toyooka, nishinomiya


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Store, Store, Store]]:
    hub = _hub(tmp_path / "hub", "兵庫県")
    toyooka = Store.open(tmp_path / "toyooka", device_name="豊岡リエゾン")
    nishinomiya = Store.open(tmp_path / "nishinomiya", device_name="西宮リエゾン")
    for laptop in (toyooka, nishinomiya):
        _introduce(hub, laptop)
    yield hub, toyooka, nishinomiya
    for store in (hub, toyooka, nishinomiya):
        store.close()


def test_the_hubs_roster_follows_whom_it_trusts(fleet: tuple[Store, Store, Store]) -> None:
    hub, toyooka, nishinomiya = fleet
    first = hub_roster(hub)
    assert hub_roster(hub) == first  # nothing changed: the same roster, the same serial
    roster, taken = take_roster(toyooka, first)
    assert taken and roster.serial == 2  # a serial for each device trusted, as it was trusted
    assert {e.card.id for e in roster.devices} == {toyooka.device.id, nishinomiya.device.id}
    assert roster.hub.id == hub.device.id
    assert take_roster(toyooka, first) == (roster, False)  # the same again: nothing
    assert held_roster(toyooka, hub.device.id) == roster


def test_a_revocation_keeps_what_the_hub_held_and_an_old_roster_cannot_undo_it(
    fleet: tuple[Store, Store, Store], tmp_path: Path
) -> None:
    hub, toyooka, nishinomiya = fleet
    before = hub_roster(hub)
    serial = parse_roster(before)[0].serial
    add_activity(
        toyooka,
        ActivityInput(
            title="奥矢根区 意見交換会", kind="workshop", date="2024-07-17", municipality="豊岡市"
        ),
    )
    export_bundle(toyooka, tmp_path / "t.dxb", "兵庫県")
    import_bundle(hub, tmp_path / "t.dxb")
    with hub.read() as conn:
        held = set(
            conn.execute(
                select(REVISIONS.c.rev_id).where(REVISIONS.c.device_id == toyooka.device.id)
            ).scalars()
        )
    assert held
    revoke(hub, "豊岡リエゾン")
    after = hub_roster(hub)
    roster, taken = take_roster(nishinomiya, after)
    entry = roster.entry(toyooka.device.id)
    assert taken and roster.serial == serial + 1  # the revocation's own serial, at once
    assert entry is not None and entry.revoked_at == serial + 1 and entry.kept == held
    assert all(roster.authorship(toyooka.device.id, rev) == "ok" for rev in held)
    assert roster.authorship(toyooka.device.id, "9-" + "0" * 32) == "revoked"
    # The file from before the revocation, replayed: nothing changes.
    held, taken_again = take_roster(nishinomiya, before)
    assert held == roster and not taken_again  # the roster held stands, revocation and all
    assert held.authorship(toyooka.device.id, "9-" + "0" * 32) == "revoked"
    assert held_roster(nishinomiya, hub.device.id) == roster
    assert hub_roster(hub) == after  # the cut stays where it was


def test_a_roster_from_a_hub_not_trusted_here_is_refused(
    fleet: tuple[Store, Store, Store], tmp_path: Path
) -> None:
    hub, toyooka, _ = fleet
    with _hub(tmp_path / "osaka", "大阪府") as other:
        trust_card(other, parse_card(card_text(own_card(toyooka))))
        data = hub_roster(other)
    with pytest.raises(SyncError) as refused:
        take_roster(toyooka, data)
    assert refused.value.code == "roster.other_hub"
    assert held_roster(toyooka, hub.device.id) is None


def test_a_hub_key_rotated_away_signs_no_later_roster(
    fleet: tuple[Store, Store, Store],
) -> None:
    """Once a laptop holds a roster whose chain moved to a new hub key, a roster signed with the
    old key (a stolen one) is refused, however high its serial."""
    from nacl.signing import SigningKey

    from dxfield.sync.keys import device_keys
    from dxfield.sync.roster import KeyStep, new_roster, next_hub_key, signed_roster

    hub, toyooka, _ = fleet
    old_key = device_keys(hub).signing
    hub_card = own_card(hub)
    new_key = SigningKey.generate()
    rotated = replace(hub_card, signing_key=base64.b64encode(bytes(new_key.verify_key)).decode())
    chain = [KeyStep(hub_card), next_hub_key(old_key, rotated)]
    first = new_roster(None, chain, {toyooka.device.id: own_card(toyooka)}, {})
    assert take_roster(toyooka, signed_roster(first, new_key))[1]
    forged = new_roster(None, [KeyStep(hub_card)], {}, {})
    forged = replace(forged, serial=99)
    with pytest.raises(SyncError) as refused:
        take_roster(toyooka, signed_roster(forged, old_key))
    assert refused.value.code == "roster.bad_key_chain"
    assert held_roster(toyooka, hub.device.id) == first


def test_a_laptop_that_trusts_only_the_hub_sends_to_another_through_the_roster(
    tmp_path: Path,
) -> None:
    from dxfield.domain.errors import NotFound
    from dxfield.store import maintenance
    from dxfield.sync.bundle import recipients

    hub, toyooka, nishinomiya = _hub_only(tmp_path)
    try:
        assert [d.name for d in recipients(toyooka)] == ["兵庫県"]
        with pytest.raises(NotFound):
            export_bundle(toyooka, tmp_path / "no.dxb", "西宮リエゾン")
        for laptop in (toyooka, nishinomiya):
            import_bundle(laptop, export_bundle(hub, tmp_path / "h.dxb", laptop.device.id).path)
        assert [d.name for d in recipients(toyooka)] == ["兵庫県", "西宮リエゾン"]
        add_activity(
            toyooka,
            ActivityInput(
                title="資母地区", kind="hearing", date="2024-08-02", municipality="豊岡市"
            ),
        )
        sent = export_bundle(toyooka, tmp_path / "t-n.dxb", "西宮リエゾン")
        assert sent.revisions == 1
        assert import_bundle(nishinomiya, sent.path).new == 1
        assert maintenance.dump(nishinomiya) == maintenance.dump(toyooka)
    finally:
        for store in (hub, toyooka, nishinomiya):
            store.close()


def test_check_lists_what_a_revoked_laptop_slipped_in_before_the_revocation_arrived(
    tmp_path: Path,
) -> None:
    """豊岡 sends 西宮 a change directly; the hub, which never got it, revokes 豊岡. Once 西宮
    takes the hub's roster, it keeps the change (nothing held is dropped) and check names it."""
    from dxfield.store import maintenance

    hub, toyooka, nishinomiya = _hub_only(tmp_path)
    try:
        for laptop in (toyooka, nishinomiya):
            import_bundle(laptop, export_bundle(hub, tmp_path / "h.dxb", laptop.device.id).path)
        add_activity(
            toyooka,
            ActivityInput(
                title="資母地区", kind="hearing", date="2024-08-02", municipality="豊岡市"
            ),
        )
        import_bundle(nishinomiya, export_bundle(toyooka, tmp_path / "t.dxb", "西宮リエゾン").path)
        assert maintenance.check(nishinomiya).ok
        revoke(hub, "豊岡リエゾン")
        import_bundle(nishinomiya, export_bundle(hub, tmp_path / "h2.dxb", "西宮リエゾン").path)
        report = maintenance.check(nishinomiya)
        found = [f for f in report.findings if f.code == "revoked-author"]
        assert len(found) == 1 and "資母地区" not in found[0].message("en")
        assert "is by" in found[0].message("en") and "revoked" in found[0].message("en")
    finally:
        for store in (hub, toyooka, nishinomiya):
            store.close()
