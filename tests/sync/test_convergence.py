"""Order-free through real bundles, the way a prefecture's fleet syncs: a hub and two laptops
edit, delete and exchange signed, encrypted bundles in random orders, and end with byte-identical
dumps.

The hub trusts both laptops; each laptop trusts only the hub's card (bundle format 2, §2). A
laptop learns the other through the roster the hub's bundles carry: once it holds one, it may
send to the other laptop directly, and takes that laptop's bundles and its revisions (signed by
their author, checked with the key the roster gives)."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxfield.store import local_state, maintenance, records
from dxfield.store.activities import ActivityInput, add_activity, list_activities
from dxfield.store.engine import STORE_FILE, Store
from dxfield.sync.bundle import BundleError, export_bundle, import_bundle
from dxfield.sync.keys import KEY_FILE, card_text, list_trusted, own_card, parse_card, trust_card
from dxfield.sync.roster import newest_held

NAMES = ["hub", "toyooka", "nishinomiya"]
HUB = 0


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A hub that trusts both laptops, and two laptops that trust only the hub's card and hold
    no roster yet (copied for every example)."""
    folders = [tmp_path_factory.mktemp(name) for name in NAMES]
    stores = [Store.open(f, device_name=n) for f, n in zip(folders, NAMES, strict=True)]
    local_state.set_device_role(stores[HUB], "hub")
    hub_card = parse_card(card_text(own_card(stores[HUB])))
    assert hub_card.role == "hub"
    for laptop in stores[HUB + 1 :]:
        trust_card(stores[HUB], parse_card(card_text(own_card(laptop))))
        trust_card(laptop, hub_card)
    for store in stores:
        store.close()
    return folders


@dataclass(frozen=True)
class Carried:
    """A bundle written and not yet imported: the file, who wrote it, for whom."""

    path: Path
    sender: Store
    receiver: Store


def _waits(carried: Carried, exc: BundleError) -> bool:
    """Whether a refused bundle waits for another one, as its one line tells a person:
    - an incremental bundle that came before the one holding a version its changes follow
      ("import the earlier bundles first");
    - a laptop's bundle to a laptop that does not know it yet: it trusts only the hub's card
      until a bundle of the hub's brings the roster naming the sender."""
    if exc.code == "bundle.earlier_bundle_first":
        return True
    if exc.code == "bundle.untrusted_sender":
        held = newest_held(carried.receiver)
        return held is None or held[0].entry(carried.sender.device.id) is None
    return False


def _import_all(pending: list[Carried], hub: Store, *, settle: bool) -> list[Carried]:
    """Import every bundle in the order given; one that waits for another (`_waits`) is refused
    whole (nothing written, the dump unchanged) and tried again after the others. Returns those
    still waiting when no more can be imported; with `settle`, none: a laptop still waiting
    for a roster is given a full bundle of the hub's first, as a person would import one."""
    while pending:
        waiting: list[Carried] = []
        for carried in pending:
            before = maintenance.dump(carried.receiver)
            try:
                import_bundle(carried.receiver, carried.path)
            except BundleError as exc:
                assert _waits(carried, exc), exc
                assert maintenance.dump(carried.receiver) == before
                waiting.append(carried)
        if len(waiting) == len(pending):
            if not settle:
                return waiting
            # Only a laptop that knows no other laptop yet can stop everything: nothing else
            # waits for anything that is not in `pending`.
            stalled = {
                c.receiver.device.id: c.receiver for c in waiting if newest_held(c.receiver) is None
            }
            assert stalled, "no bundle could be imported"
            for receiver in stalled.values():
                path = receiver.data_dir.parent / f"roster-for-{receiver.device.name}.dxb"
                export_bundle(hub, path, receiver.device.name, full=True)
                import_bundle(receiver, path)
        pending = waiting
    return []


def _copies(templates: list[Path], root: Path) -> Iterator[Store]:
    for template, name in zip(templates, NAMES, strict=True):
        folder = root / name
        folder.mkdir(parents=True)
        for file in (STORE_FILE, KEY_FILE):
            shutil.copy(template / file, folder / file)
        yield Store.open(folder)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["create", "edit", "edit", "delete", "send", "send", "send", "deliver", "deliver"]
        ),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 50),
        st.booleans(),
    ),
    min_size=1,
    max_size=20,
)


@pytest.mark.sqlite_only  # each example starts from copies of the three store files
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, seed=st.integers(0, 2**32 - 1), introduced=st.integers(0, 2))
def test_bundles_in_any_order_through_the_hub_leave_every_store_the_same(
    templates: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
    operations: Any,
    seed: int,
    introduced: int,
) -> None:
    """`introduced`: how many laptops (the first ones) have taken a first bundle of the hub's,
    whose roster names the other laptop, before anyone edits; the others learn it as they go."""
    root = tmp_path_factory.mktemp("example")
    stores = list(_copies(templates, root))
    hub = stores[HUB]
    rng = random.Random(seed)
    sent = 0

    def send(sender: Store, receiver: Store, full: bool) -> Path:
        nonlocal sent
        sent += 1
        path = root / f"{sent}.dxb"
        export_bundle(sender, path, receiver.device.name, full=full)
        return path

    try:
        for laptop in stores[HUB + 1 : HUB + 1 + introduced]:
            import_bundle(laptop, send(hub, laptop, False))
        pending: list[Carried] = []
        for action, here, there, pick, full in operations:
            store = stores[here]
            live = sorted(row.id for row in list_activities(store, limit=1000))
            if action == "create" or (action in ("edit", "delete") and not live):
                add_activity(
                    store,
                    ActivityInput(
                        title=f"活動 {pick}",
                        kind="meeting",
                        date="2024-07-17",
                        municipality="豊岡市",
                    ),
                )
            elif action == "edit":
                records.edit(store, "activity", live[pick % len(live)], {"title": f"編集 {pick}"})
            elif action == "delete":
                records.delete(store, "activity", live[pick % len(live)])
            elif action == "deliver":  # someone imports, in any order, what waits for them
                mine = [c for c in pending if c.receiver is store]
                rng.shuffle(mine)
                left = _import_all(mine, hub, settle=False)
                pending = [c for c in pending if c.receiver is not store] + left
            elif here != there:  # a bundle written now, carried and imported later
                receiver = stores[there]
                if HUB not in (here, there) and newest_held(store) is None:
                    receiver = hub  # a laptop that knows no other laptop yet sends to the hub
                pending.append(Carried(send(store, receiver, full), store, receiver))
        rng.shuffle(pending)
        _import_all(pending, hub, settle=True)
        # Then full bundles: the hub's to each laptop (which then knows the other), and among
        # everyone, in a random order, some twice.
        for laptop in stores[HUB + 1 :]:
            import_bundle(laptop, send(hub, laptop, True))
        pairs = [(a, b) for a in range(3) for b in range(3) if a != b]
        for _ in range(2):
            rng.shuffle(pairs)
            for a, b in pairs:
                import_bundle(stores[b], send(stores[a], stores[b], True))
        dumps = [maintenance.dump(s) for s in stores]
        assert dumps[1] == dumps[0] and dumps[2] == dumps[0]
        for laptop in stores[HUB + 1 :]:
            # Still trusting only the hub's card by hand; the other laptop known by the roster.
            assert [t.card.id for t in list_trusted(laptop)] == [hub.device.id]
            held = newest_held(laptop)
            assert held is not None
            assert {e.card.id for e in held[0].devices} == {s.device.id for s in stores[1:]}
    finally:
        for store in stores:
            store.close()


def test_a_laptop_takes_the_other_laptops_bundle_once_a_hub_bundle_names_it(
    tmp_path: Path,
) -> None:
    """The path the random test takes now and then, spelt out: a laptop that trusts only the
    hub's card refuses another laptop's bundle in one line, nothing written, until it has
    imported a bundle of the hub's; then it takes it, and the revisions in it are signed by
    their author. The hub is in PostgreSQL on that engine's run; laptops keep files."""
    hub = Store.open(tmp_path / "hub", device_name="hub")
    local_state.set_device_role(hub, "hub")
    laptops = [Store.open(tmp_path / n, device_name=n, database="") for n in NAMES[1:]]
    toyooka, nishinomiya = laptops
    try:
        hub_card = parse_card(card_text(own_card(hub)))
        for laptop in laptops:
            trust_card(hub, parse_card(card_text(own_card(laptop))))
            trust_card(laptop, hub_card)
        export_bundle(hub, tmp_path / "hub-toyooka.dxb", "toyooka")
        import_bundle(toyooka, tmp_path / "hub-toyooka.dxb")
        add_activity(
            toyooka,
            ActivityInput(
                title="奥矢根区 意見交換会",
                kind="workshop",
                date="2024-07-17",
                municipality="豊岡市",
            ),
        )
        export_bundle(toyooka, tmp_path / "toyooka-nishinomiya.dxb", "nishinomiya")
        before = maintenance.dump(nishinomiya)
        with pytest.raises(BundleError) as refused:
            import_bundle(nishinomiya, tmp_path / "toyooka-nishinomiya.dxb")
        assert refused.value.code == "bundle.untrusted_sender"
        assert "\n" not in str(refused.value)
        assert maintenance.dump(nishinomiya) == before
        export_bundle(hub, tmp_path / "hub-nishinomiya.dxb", "nishinomiya")
        assert import_bundle(nishinomiya, tmp_path / "hub-nishinomiya.dxb").roster is not None
        taken = import_bundle(nishinomiya, tmp_path / "toyooka-nishinomiya.dxb")
        assert taken.new == 1
        assert maintenance.dump(nishinomiya) == maintenance.dump(toyooka)
        assert [t.card.id for t in list_trusted(nishinomiya)] == [hub.device.id]
    finally:
        for store in (hub, *laptops):
            store.close()
