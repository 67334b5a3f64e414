"""Every revision signed by its author (bundle format 2 §1 and §4, the store's side): what a
device writes carries its signature, reference data and the demo's never do, a store from before
signs its own once when it opens, a hub attests the rest, and `check` finds a signature or an
attestation that does not verify. Runs on both engines."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import VerifyKey
from sqlalchemy import delete, func, select, update

from dxfield.store import authorship, maintenance, records, revisions
from dxfield.store.activities import ActivityInput, add_activity, edit_activity
from dxfield.store.authorship import (
    UPGRADED_KEY,
    attestation_verifies,
    signature_verifies,
    stored_digest,
)
from dxfield.store.engine import Store
from dxfield.store.ids import new_id
from dxfield.store.local_state import set_device_role
from dxfield.store.reference import DEMO_DEVICE, REFERENCE_DEVICE, municipality_id
from dxfield.store.schema import LOCAL_STATE, REVISIONS, SEARCH_TEXT
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _activity(title: str) -> ActivityInput:
    return ActivityInput(municipality="豊岡市", kind="meeting", date="2024-08-01", title=title)


def _rows(store: Store, *conditions: Any) -> list[Any]:
    table = REVISIONS
    with store.read() as conn:
        return list(
            conn.execute(
                select(
                    table.c.rev_id,
                    table.c.entity,
                    table.c.entity_id,
                    table.c.parents,
                    table.c.hlc,
                    table.c.device_id,
                    table.c.deleted,
                    table.c.data,
                    table.c.signature,
                    table.c.attestation,
                )
                .where(*conditions)
                .order_by(table.c.rev_id)
            )
        )


def _card_key(store: Store) -> VerifyKey:
    """The public key a device's card carries (what another device would check with)."""
    card = parse_card(card_text(own_card(store)))
    return VerifyKey(base64.b64decode(card.signing_key))


def _signed_by(store: Store, rows: list[Any]) -> bool:
    key = _card_key(store)
    return all(
        (found := stored_digest(row)) is not None
        and signature_verifies(key, found, row.signature)
        and row.attestation is None
        for row in rows
    )


def _findings(store: Store) -> list[tuple[str, str]]:
    return [(f.code, f.message("en")) for f in maintenance.check(store).findings]


def test_a_revision_is_signed_when_written_and_verifies_with_the_card(store: Store) -> None:
    made = add_activity(store, _activity("奥矢根区 意見交換会"))
    edit_activity(store, made.id, ActivityInput(title="奥矢根区 意見交換会(第2回)"))
    mine = _rows(store, REVISIONS.c.entity_id == made.id)
    assert len(mine) == 2 and all(row.device_id == store.device.id for row in mine)
    assert all(row.signature for row in mine)
    assert _signed_by(store, mine)
    # The signature is over the revision's digest, under its own prefix: not the bare digest,
    # not an attestation.
    key = _card_key(store)
    row = mine[0]
    found = stored_digest(row)
    assert found is not None and authorship.matches_id(row.rev_id, found)
    assert not attestation_verifies(key, found, row.signature)
    raw = base64.b64decode(row.signature)
    key.verify(b"dxfield-revision-2\n" + found, raw)
    assert _findings(store) == []


def test_bulk_created_revisions_are_signed_but_reference_ones_are_not(store: Store) -> None:
    content = records.validate("organization", {"kind": "community", "name": "長谷地区"})
    ids = [new_id(), new_id()]
    with store.unit() as unit:
        assert revisions.bulk_create(unit, "organization", [(i, content) for i in ids]) == 2
    made = _rows(store, REVISIONS.c.entity_id.in_(ids))
    assert len(made) == 2 and _signed_by(store, made)
    reference = _rows(store, REVISIONS.c.device_id == REFERENCE_DEVICE)
    assert reference and all(r.signature is None and r.attestation is None for r in reference)


def test_bulk_created_chunks_are_each_signed_stamped_and_findable(store: Store) -> None:
    """bulk_create prepares a chunk in a second thread while the last one is indexed: every
    record of every chunk (the last one, cut short, too) is signed, stamped once, materialized
    and found by search, and `advance` hears of each chunk."""
    from dxfield.store.search import search_ids

    items = [
        (
            new_id(),
            records.validate(
                "activity",
                {
                    "municipality_id": municipality_id("282090"),
                    "kind": "meeting",
                    "title": f"長谷地区 説明会 {n}",
                    "date": "2024-07-17",
                },
            ),
        )
        for n in range(7)
    ]
    heard: list[int] = []
    with store.unit() as unit:
        written = revisions.bulk_create(
            unit, "activity", iter(items), chunk=3, advance=heard.append
        )
    assert written == 7 and heard == [3, 3, 1]
    ids = [i for i, _ in items]
    made = _rows(store, REVISIONS.c.entity_id.in_(ids))
    assert len(made) == 7 and _signed_by(store, made)
    assert len({row.hlc for row in made}) == 7
    with store.read() as conn:
        assert {i for _, i in search_ids(conn, "長谷地区")} == set(ids)
    assert _findings(store) == []


def test_a_bulk_create_refused_partway_leaves_nothing(store: Store) -> None:
    """A record refused in a later chunk (a note template under another id than its kind's)
    fails the unit: the chunks already written go with its rollback."""
    from dxfield.domain.errors import LocalizedError
    from dxfield.store.ids import note_template_id

    def template(kind: str) -> dict[str, Any]:
        return records.validate("note_template", {"kind": kind, "text": "# 議題"})

    items = [(note_template_id(k), template(k)) for k in ("meeting", "workshop", "hearing")]
    items.append((new_id(), template("training")))
    with store.read() as conn:
        before = conn.execute(select(func.count()).select_from(REVISIONS)).scalar()
    with pytest.raises(LocalizedError, match="cannot be the id"), store.unit() as unit:
        revisions.bulk_create(unit, "note_template", items, chunk=2)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(REVISIONS)).scalar() == before
        assert conn.execute(select(func.count()).select_from(SEARCH_TEXT)).scalar() == 0


def test_reference_and_demo_revisions_stay_unsigned_on_every_open(demo_store: Store) -> None:
    pseudo = REVISIONS.c.device_id.in_([REFERENCE_DEVICE, DEMO_DEVICE])
    rows = _rows(demo_store, pseudo)
    assert {r.device_id for r in rows} == {REFERENCE_DEVICE, DEMO_DEVICE}
    assert all(r.signature is None and r.attestation is None for r in rows)
    data_dir = demo_store.data_dir
    demo_store.close()
    with Store.open(data_dir) as again:  # a hub too, on PostgreSQL: it attests none of them
        assert authorship.upgrade(again) == authorship.Upgrade()
        assert _rows(again, pseudo) == rows
        assert _findings(again) == []


def test_the_fast_digest_of_a_stored_revision_is_the_one_its_id_is_made_from(
    demo_store: Store,
) -> None:
    import json

    made = _activity('県庁 打合せ "引用" \\ 😀 \u3000')
    made.notes = "改行\nあり\t</script>"
    add_activity(demo_store, made)
    rows = _rows(demo_store)
    assert len(rows) > 100
    for row in rows:
        found = stored_digest(row)
        expected = authorship.digest(
            row.entity,
            row.entity_id,
            row.parents or [],
            row.hlc,
            row.device_id,
            bool(row.deleted),
            json.loads(row.data),
        )
        assert found == expected and authorship.matches_id(row.rev_id, found)


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.sqlite_only  # no store is opened
@settings(max_examples=300, deadline=None)
@given(
    entity=_TEXT,
    entity_id=_TEXT,
    parents=st.lists(_TEXT, max_size=4),
    hlc=_TEXT,
    device_id=_TEXT,
    deleted=st.booleans(),
    data=st.dictionaries(_TEXT, _JSON, max_size=5),
)
def test_the_digest_spliced_around_the_records_json_is_the_digest(
    entity: str,
    entity_id: str,
    parents: list[str],
    hlc: str,
    device_id: str,
    deleted: bool,
    data: dict[str, Any],
) -> None:
    """An import checks each revision with `digest_of_text` (the record's canonical JSON made
    once): it must give the bytes `digest` gives, whatever the text (quotes, backslashes,
    controls, any script), the parents' order and the record's nesting."""
    spliced = authorship.digest_of_text(
        entity, entity_id, parents, hlc, device_id, deleted, authorship.canonical_json(data)
    )
    assert spliced == authorship.digest(entity, entity_id, parents, hlc, device_id, deleted, data)


def _unupgrade(store: Store) -> None:
    """Make a store look as a format-1 dxfield left it: no signature, no attestation, no
    marker (what migration 0003 gives a store written before it)."""
    with store.write() as conn:
        conn.execute(update(REVISIONS).values(signature=None, attestation=None))
        conn.execute(delete(LOCAL_STATE).where(LOCAL_STATE.c.key.startswith(UPGRADED_KEY)))
        conn.execute(delete(LOCAL_STATE).where(LOCAL_STATE.c.key == authorship.CUT_KEY))


def _hub_with_a_laptops_work(tmp_path: Path) -> tuple[Store, Store, list[str]]:
    laptop = Store.open(tmp_path / "laptop", device_name="toyooka-liaison")
    hub = Store.open(tmp_path / "hub", device_name="prefecture-hub")
    set_device_role(hub, "hub")
    trust_card(hub, parse_card(card_text(own_card(laptop))))
    trust_card(laptop, parse_card(card_text(own_card(hub))))
    made = [add_activity(laptop, _activity(t)).id for t in ("奥矢根区 意見交換会", "庁内研修")]
    export_bundle(laptop, tmp_path / "in.dxb", "prefecture-hub")
    assert import_bundle(hub, tmp_path / "in.dxb").new == 2
    return laptop, hub, made


def test_a_hub_attests_others_revisions_once_at_upgrade(tmp_path: Path) -> None:
    laptop, hub, made = _hub_with_a_laptops_work(tmp_path)
    with laptop, hub:
        theirs = REVISIONS.c.entity_id.in_(made)
        # Format 2 carries the author's signature; the hub attests nothing that comes signed.
        assert all(r.signature and r.attestation is None for r in _rows(hub, theirs))
        own = add_activity(hub, _activity("県 確認")).id
        _unupgrade(hub)
        _unupgrade(laptop)
        data_dir = hub.data_dir
    with Store.open(data_dir) as hub:
        rows = _rows(hub, theirs)
        key = _card_key(hub)
        assert len(rows) == 2
        for row in rows:
            found = stored_digest(row)
            assert row.signature is None and found is not None
            assert attestation_verifies(key, found, row.attestation)
            assert not signature_verifies(key, found, row.attestation)
        assert _signed_by(hub, _rows(hub, REVISIONS.c.entity_id == own))
        pseudo = _rows(hub, REVISIONS.c.device_id == REFERENCE_DEVICE)
        assert all(r.signature is None and r.attestation is None for r in pseudo)
        before = _rows(hub)
        assert _findings(hub) == []
    with Store.open(data_dir) as hub:  # idempotent: opening again changes nothing
        assert authorship.upgrade(hub) == authorship.Upgrade()
        assert _rows(hub) == before
    with Store.open(tmp_path / "laptop") as laptop:  # a laptop signs its own, attests nothing
        rows = _rows(laptop, theirs)
        assert _signed_by(laptop, rows)
        assert all(r.attestation is None for r in _rows(laptop))


def test_a_laptop_attests_nothing_and_a_revision_taken_after_the_upgrade_stays_unattested(
    tmp_path: Path,
) -> None:
    laptop, hub, _made = _hub_with_a_laptops_work(tmp_path)
    with laptop, hub:
        add_activity(laptop, _activity("後から"))
        export_bundle(laptop, tmp_path / "more.dxb", "prefecture-hub")
        assert import_bundle(hub, tmp_path / "more.dxb").new == 1
        data_dir = hub.data_dir
    with Store.open(data_dir) as hub:  # upgraded long ago (when made): nothing is attested now
        assert all(r.attestation is None for r in _rows(hub))


def test_signed_at_upgrade_and_an_attested_copy_dump_the_same(tmp_path: Path) -> None:
    laptop, hub, _made = _hub_with_a_laptops_work(tmp_path)
    with laptop, hub:
        _unupgrade(laptop)
        _unupgrade(hub)
        folders = laptop.data_dir, hub.data_dir
    with Store.open(folders[0]) as laptop, Store.open(folders[1]) as hub:
        assert any(r.signature for r in _rows(laptop))
        assert any(r.attestation for r in _rows(hub))
        assert not any(r.signature for r in _rows(hub))
        assert maintenance.dump_text(laptop) == maintenance.dump_text(hub)
        assert "signature" not in maintenance.dump_text(laptop)
        assert "attestation" not in maintenance.dump_text(hub)


def test_check_finds_each_signature_that_is_not_the_authors(store: Store) -> None:
    first = add_activity(store, _activity("一つ目")).id
    second = add_activity(store, _activity("二つ目")).id
    a, b = _rows(store, REVISIONS.c.entity_id.in_([first, second]))
    assert _findings(store) == []
    with store.write() as conn:  # each carries the other's signature: real, but not over it
        conn.execute(
            update(REVISIONS).where(REVISIONS.c.rev_id == a.rev_id).values(signature=b.signature)
        )
        conn.execute(
            update(REVISIONS).where(REVISIONS.c.rev_id == b.rev_id).values(signature=a.signature)
        )
    found = _findings(store)
    assert [code for code, _ in found] == ["bad-signature", "bad-signature"]
    for (_, line), row in zip(found, (a, b), strict=True):
        assert line == (
            f"version {row.rev_id} (activity {row.entity_id}) carries a signature that is not "
            f"its author's ({store.device.id})"
        )
    assert not maintenance.check(store).ok
    with store.write() as conn:  # not base64 at all: one line too
        conn.execute(
            update(REVISIONS).where(REVISIONS.c.rev_id == a.rev_id).values(signature=a.signature)
        )
        conn.execute(
            update(REVISIONS).where(REVISIONS.c.rev_id == b.rev_id).values(signature="@@@")
        )
    assert [code for code, _ in _findings(store)] == ["bad-signature"]


def test_check_finds_an_attestation_that_is_not_the_hubs(tmp_path: Path) -> None:
    laptop, hub, made = _hub_with_a_laptops_work(tmp_path)
    with laptop, hub:
        _unupgrade(hub)
        data_dir = hub.data_dir
    with Store.open(data_dir) as hub:
        row = _rows(hub, REVISIONS.c.entity_id == made[0])[0]
        found = stored_digest(row)
        assert found is not None and row.attestation
        forged = authorship.attest(_laptop_key(tmp_path), found)  # real, but not by the hub
        with hub.write() as conn:
            conn.execute(
                update(REVISIONS).where(REVISIONS.c.rev_id == row.rev_id).values(attestation=forged)
            )
        found = _findings(hub)
        assert found == [
            (
                "bad-attestation",
                f"version {row.rev_id} (activity {made[0]}) carries an attestation that is not "
                "the hub's",
            )
        ]


def _laptop_key(tmp_path: Path) -> Any:
    from dxfield.store.key_file import device_keys_in

    with Store.open(tmp_path / "laptop") as laptop:
        return device_keys_in(laptop.data_dir, laptop.device.id).signing


def test_a_refused_key_file_writes_nothing_and_says_so_in_one_line(store: Store) -> None:
    from dxfield.domain.errors import LocalizedError
    from dxfield.store.key_file import key_path

    own_card(store)
    path = key_path(store.data_dir)
    path.chmod(0o644)
    again = Store.open(store.data_dir)  # opening still works: `check` must be able to say why
    with again:
        before = maintenance.dump_text(again)
        with pytest.raises(LocalizedError) as refused:
            add_activity(again, _activity("書けない"))
        assert refused.value.code == "keys.open_to_others"
        assert maintenance.dump_text(again) == before
    path.chmod(0o600)


# -- the committed stores of earlier releases ------------------------------------------------------


@pytest.mark.sqlite_only
def test_the_previous_release_laptop_signs_its_own_once_when_opened(tmp_path: Path) -> None:
    folder = tmp_path / "laptop"
    shutil.copytree(FIXTURES / "main-4b25afa" / "laptop", folder)
    (folder / "device-keys.json").chmod(0o600)
    raw = sqlite3.connect(folder / "dxfield.sqlite3")
    (device,) = raw.execute("SELECT id FROM device").fetchone()
    own = raw.execute("SELECT count(*) FROM revision WHERE device_id = ?", (device,)).fetchone()[0]
    raw.close()
    assert own == 14
    with Store.open(folder) as laptop:
        mine = _rows(laptop, REVISIONS.c.device_id == device)
        assert len(mine) == own and _signed_by(laptop, mine)  # with the key it already had
        others = _rows(laptop, REVISIONS.c.device_id != device)
        assert others and all(r.signature is None and r.attestation is None for r in others)
        before = _rows(laptop)
        assert maintenance.dump_text(laptop) == (
            FIXTURES / "main-4b25afa" / "laptop.dump.json"
        ).read_text(encoding="utf-8")
        assert _findings(laptop) == []
    with Store.open(folder) as laptop:
        assert authorship.upgrade(laptop) == authorship.Upgrade()
        assert _rows(laptop) == before


def test_a_store_without_a_key_file_gets_one_when_it_has_its_own_to_sign(store: Store) -> None:
    from dxfield.store.key_file import key_path

    made = add_activity(store, _activity("鍵なし")).id
    _unupgrade(store)
    key_path(store.data_dir).unlink()  # as a format-1 store that never exported
    data_dir = store.data_dir
    store.close()
    with Store.open(data_dir) as again:
        if authorship.is_hub_account(again):
            # A hub (on PostgreSQL, the first account is one) never makes itself new keys to
            # vouch with: they would not be the ones the laptops trust. It waits for its own.
            assert not key_path(data_dir).exists()
            assert not any(r.signature for r in _rows(again, REVISIONS.c.entity_id == made))
            return
        assert key_path(data_dir).exists()
        assert stat.S_IMODE(key_path(data_dir).stat().st_mode) == 0o600
        assert _signed_by(again, _rows(again, REVISIONS.c.entity_id == made))
        assert _findings(again) == []


def test_an_upgrade_vouches_only_for_what_the_store_held_when_format_2_first_opened_it(
    tmp_path: Path,
) -> None:
    """A device that first opens the store later (a colleague on a hub, a laptop upgraded after
    its hub) never signs what format-1 imports brought after the cut, even in its own name:
    such a revision may be a forgery of it."""
    laptop, hub, made = _hub_with_a_laptops_work(tmp_path)
    with laptop, hub:
        _unupgrade(hub)
        data_dir = hub.data_dir
    with Store.open(data_dir) as hub:  # format 2 opens it: the cut, and the laptop's attested
        theirs = _rows(hub, REVISIONS.c.entity_id.in_(made))
        assert theirs and all(r.attestation for r in theirs)
        # What a format-1 bundle may bring later: an unsigned revision claiming the hub's id.
        stored = theirs[0].data
        forged = revisions.build_revision(
            "activity",
            new_id(),
            stored if isinstance(stored, dict) else json.loads(stored),
            parents=(),
            generation=1,
            hlc=theirs[0].hlc,
            device_id=hub.device.id,
            deleted=False,
        )
        with hub.write() as conn:
            conn.execute(REVISIONS.insert().values(**forged))
            conn.execute(delete(LOCAL_STATE).where(LOCAL_STATE.c.key.startswith(UPGRADED_KEY)))
    with Store.open(data_dir) as hub:  # as if this device opened the store for the first time
        (row,) = _rows(hub, REVISIONS.c.rev_id == forged["rev_id"])
        assert row.signature is None and row.attestation is None
