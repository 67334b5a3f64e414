"""Order-free through real bundles: three devices edit, delete and exchange signed, encrypted
bundles in random orders, and end with byte-identical dumps."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxfield.store import maintenance, records
from dxfield.store.activities import ActivityInput, add_activity, list_activities
from dxfield.store.engine import STORE_FILE, Store
from dxfield.sync.bundle import BundleError, export_bundle, import_bundle
from dxfield.sync.keys import KEY_FILE, card_text, own_card, parse_card, trust_card

NAMES = ["hub", "toyooka", "nishinomiya"]


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three devices that all trust each other (copied for every example)."""
    folders = [tmp_path_factory.mktemp(name) for name in NAMES]
    stores = [Store.open(f, device_name=n) for f, n in zip(folders, NAMES, strict=True)]
    cards = [parse_card(card_text(own_card(s))) for s in stores]
    for store in stores:
        for card in cards:
            if card.id != store.device.id:
                trust_card(store, card)
    for store in stores:
        store.close()
    return folders


def _import_all(pending: list[tuple[Path, Store]]) -> None:
    """Import every bundle in the order given. An incremental bundle may come before the one
    holding a version its changes follow: it is refused whole (nothing written, the dump
    unchanged) with a line saying to import the earlier one first, and is, after the others."""
    while pending:
        waiting: list[tuple[Path, Store]] = []
        for path, receiver in pending:
            before = maintenance.dump(receiver)
            try:
                import_bundle(receiver, path)
            except BundleError as exc:
                assert exc.code == "bundle.earlier_bundle_first", exc
                assert maintenance.dump(receiver) == before
                waiting.append((path, receiver))
        assert len(waiting) < len(pending), "no bundle could be imported"
        pending = waiting


def _copies(templates: list[Path], root: Path) -> Iterator[Store]:
    for template, name in zip(templates, NAMES, strict=True):
        folder = root / name
        folder.mkdir(parents=True)
        for file in (STORE_FILE, KEY_FILE):
            shutil.copy(template / file, folder / file)
        yield Store.open(folder)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "edit", "edit", "delete", "send", "send"]),
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
@given(operations=OPERATIONS, seed=st.integers(0, 2**32 - 1))
def test_bundles_in_any_order_leave_every_store_the_same(
    templates: list[Path], tmp_path_factory: pytest.TempPathFactory, operations: Any, seed: int
) -> None:
    root = tmp_path_factory.mktemp("example")
    stores = list(_copies(templates, root))
    sent = 0

    def send(sender: Store, receiver: Store, full: bool) -> Path:
        nonlocal sent
        sent += 1
        path = root / f"{sent}.dxb"
        export_bundle(sender, path, receiver.device.name, full=full)
        return path

    try:
        pending: list[tuple[Path, Store]] = []
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
            elif here != there:  # a bundle written now, carried and imported later
                pending.append((send(store, stores[there], full), stores[there]))
        rng = random.Random(seed)
        rng.shuffle(pending)
        _import_all(pending)
        # Then full bundles among everyone, in a random order, some twice.
        pairs = [(a, b) for a in range(3) for b in range(3) if a != b]
        for _ in range(2):
            rng.shuffle(pairs)
            for a, b in pairs:
                import_bundle(stores[b], send(stores[a], stores[b], True))
        dumps = [maintenance.dump(s) for s in stores]
        assert dumps[1] == dumps[0] and dumps[2] == dumps[0]
    finally:
        for store in stores:
            store.close()
