"""`history` says who wrote each version and whether this store can prove it (issue 16's "Done
when": the second laptop's history names the first laptop as the author of its activities,
verified).

A fleet as the prefecture runs it: a hub (in PostgreSQL on that engine's run) that trusts two
laptops, each laptop trusting only the hub's card; laptops keep files. The second laptop knows
the first only through the roster the hub's bundles carry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from dxfield.store import local_state
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.authorship import digest
from dxfield.store.engine import Store
from dxfield.store.maintenance import record_history
from dxfield.store.schema import REVISIONS
from dxfield.sync.authors import (
    ATTESTED,
    BUILT_IN,
    UNVERIFIED,
    VERIFIED,
    authorship_here,
)
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, revoke, trust_card
from tests.conftest import Cli

KAMI, ASAGO = "香美リエゾン", "朝来リエゾン"


def test_the_second_laptops_history_names_the_first_laptop_verified(
    cli: Cli, tmp_path: Path
) -> None:
    hub = ("--data-dir", str(tmp_path / "hub"))
    kami = ("--data-dir", str(tmp_path / "kami"), "--database", "")  # a laptop keeps a file
    asago = ("--data-dir", str(tmp_path / "asago"), "--database", "")

    def run(*args: str) -> str:
        result = cli("--lang", "en", *args)
        assert result.code == 0, result.err
        return result.out

    run(*hub, "init", "--role", "hub", "--device-name", "兵庫県")
    run(*kami, "init", "--device-name", KAMI)
    run(*asago, "init", "--device-name", ASAGO)
    for name, who in (("hub", hub), ("kami", kami), ("asago", asago)):
        run(*who, "keys", "export", "--out", str(tmp_path / f"{name}.card"))
    for laptop in ("kami", "asago"):
        run(*hub, "keys", "trust", str(tmp_path / f"{laptop}.card"))
    for laptop in (kami, asago):
        run(*laptop, "keys", "trust", str(tmp_path / "hub.card"))  # the hub's card alone
    made = run(*kami, "activity", "add", "--municipality", "香美町", "--kind", "workshop",
               "--date", "R6.7.17", "--title", "小代地区 意見交換会").strip()  # fmt: skip
    run(*kami, "activity", "edit", made, "--title", "小代地区 意見交換会(第1回)")
    run(*kami, "export", "--to", str(tmp_path / "kami-hub.dxb"), "--recipient", "兵庫県")
    run(*hub, "import", str(tmp_path / "kami-hub.dxb"))
    run(*hub, "export", "--to", str(tmp_path / "hub-asago.dxb"), "--recipient", ASAGO)
    run(*asago, "import", str(tmp_path / "hub-asago.dxb"))

    lines = [line for line in run(*asago, "history", made).splitlines() if "(version" in line]
    assert len(lines) == 2
    assert all(f" {KAMI}, verified  (version " in line for line in lines), lines
    shown = json.loads(run(*asago, "history", made, "--json"))["revisions"]
    assert [(r["author"], r["authorship"]) for r in shown] == [(KAMI, "verified")] * 2
    japanese = cli("--lang", "ja", *asago, "history", made).out
    assert japanese.count(f" {KAMI}・署名を確認済み  (版 ") == 2, japanese
    # `activity show` names the last change's device the same way (never its id).
    last = next(line for line in run(*asago, "activity", "show", made).splitlines()
                if line.startswith("last change: "))  # fmt: skip
    assert last.endswith(f" JST {KAMI}"), last
    on_hub = run(*hub, "history", made)
    assert on_hub.count(f" {KAMI}, verified  (version ") == 2, on_hub


# -- each verdict, on stores ------------------------------------------------------------------


@dataclass
class Fleet:
    hub: Store
    kami: Store
    asago: Store
    folder: Path
    sent: int = 0

    def carry(self, sender: Store, receiver: Store) -> None:
        """A bundle from `sender` to `receiver`, imported."""
        self.sent += 1
        path = self.folder / f"{self.sent}.dxb"
        export_bundle(sender, path, receiver.device.name)
        import_bundle(receiver, path)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    hub = Store.open(tmp_path / "hub", device_name="兵庫県")
    local_state.set_device_role(hub, "hub")
    kami = Store.open(tmp_path / "kami", device_name=KAMI, database="")
    asago = Store.open(tmp_path / "asago", device_name=ASAGO, database="")
    hub_card = parse_card(card_text(own_card(hub)))
    for laptop in (kami, asago):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, hub_card)
    yield Fleet(hub, kami, asago, tmp_path)
    for store in (hub, kami, asago):
        store.close()


def _add(store: Store, title: str) -> str:
    return add_activity(
        store,
        ActivityInput(title=title, kind="meeting", date="2024-07-17", municipality="香美町"),
    ).id


def _verdicts(store: Store, record_id: str) -> list[tuple[str, str]]:
    _entity, history = record_history(store, record_id)
    found = authorship_here(store, history)
    return [(found[r["rev_id"]].author, found[r["rev_id"]].verdict) for r in history]


def _set_proof(store: Store, record_id: str, **proof: str | None) -> None:
    with store.write() as conn:
        conn.execute(update(REVISIONS).where(REVISIONS.c.entity_id == record_id).values(**proof))


def test_a_version_held_from_before_format_2_is_unverified_or_attested(fleet: Fleet) -> None:
    made = _add(fleet.kami, "小代地区 意見交換会")
    fleet.carry(fleet.kami, fleet.hub)
    fleet.carry(fleet.hub, fleet.asago)
    assert _verdicts(fleet.asago, made) == [(KAMI, VERIFIED)]
    # As a laptop holds what it took from another laptop before format 2: no signature.
    _set_proof(fleet.asago, made, signature=None)
    assert _verdicts(fleet.asago, made) == [(KAMI, UNVERIFIED)]
    # As the hub's upgrade attests what it held: the hub's attestation, no signature.
    with fleet.hub.read() as conn:
        row = conn.execute(select(REVISIONS).where(REVISIONS.c.entity_id == made)).mappings().one()
    found = digest(row["entity"], row["entity_id"], row["parents"], row["hlc"],
                   row["device_id"], row["deleted"], json.loads(row["data"]))  # fmt: skip
    _set_proof(fleet.asago, made, attestation=fleet.hub.signer().attest(found))
    assert _verdicts(fleet.asago, made) == [(KAMI, ATTESTED)]
    # Attested by anyone but the hub, or signed by another device: neither counts.
    _set_proof(fleet.asago, made, attestation=fleet.kami.signer().attest(found))
    assert _verdicts(fleet.asago, made) == [(KAMI, UNVERIFIED)]
    _set_proof(fleet.asago, made, attestation=None, signature=fleet.asago.signer().sign(found))
    assert _verdicts(fleet.asago, made) == [(KAMI, UNVERIFIED)]


def test_a_revoked_devices_version_counts_only_if_the_hub_had_taken_it(fleet: Fleet) -> None:
    made = _add(fleet.kami, "小代地区 意見交換会")
    fleet.carry(fleet.kami, fleet.hub)
    fleet.carry(fleet.hub, fleet.asago)
    fleet.carry(fleet.hub, fleet.kami)  # kami now knows asago through the roster
    later = _add(fleet.kami, "香住地区 説明会")
    fleet.carry(fleet.kami, fleet.asago)  # straight to asago: the hub never took it
    assert _verdicts(fleet.asago, later) == [(KAMI, VERIFIED)]
    revoke(fleet.hub, KAMI)
    fleet.carry(fleet.hub, fleet.asago)  # the roster that cuts kami at what the hub held
    assert _verdicts(fleet.asago, made) == [(KAMI, VERIFIED)]
    assert _verdicts(fleet.asago, later) == [(KAMI, UNVERIFIED)]
    assert _verdicts(fleet.hub, made) == [(KAMI, VERIFIED)]  # the hub judges by its own roster


def test_own_versions_are_verified_and_reference_data_is_built_in(fleet: Fleet) -> None:
    made = _add(fleet.asago, "和田山地区 聞き取り")
    assert _verdicts(fleet.asago, made) == [(ASAGO, VERIFIED)]
    with fleet.asago.read() as conn:
        organization = conn.execute(
            select(REVISIONS.c.entity_id).where(REVISIONS.c.entity == "organization").limit(1)
        ).scalar_one()
    assert [verdict for _, verdict in _verdicts(fleet.asago, organization)] == [BUILT_IN]
