"""Merging revisions between stores: order-free, idempotent, and nothing lost.

Stores exchange every revision they hold (what a `--full` bundle carries), without the bundle
around it: the property tests drive `merge.apply_revisions` directly.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dxfield.domain.errors import LocalizedError
from dxfield.store import maintenance, merge, records
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import STORE_FILE, Store

DEVICES = 3


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three empty stores, each with its own device: copied for every example (opening a new
    store runs the migrations, which would make the property test slow)."""
    folders = []
    for number in range(DEVICES):
        folder = tmp_path_factory.mktemp(f"template{number}")
        with Store.open(folder, device_name=f"laptop-{number}"):
            pass
        folders.append(folder)
    return folders


def _copies(templates: list[Path], root: Path) -> Iterator[Store]:
    for number, template in enumerate(templates):
        folder = root / f"store{number}"
        folder.mkdir(parents=True)
        shutil.copy(template / STORE_FILE, folder / STORE_FILE)
        yield Store.open(folder)


def _everything(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        return merge.all_revisions(conn)


def _receive(store: Store, revisions: list[dict[str, Any]]) -> merge.MergeReport:
    checked = [merge.check_revision(r) for r in revisions]
    with store.unit() as unit:
        return merge.apply_revisions(unit, checked)


def _live_ids(store: Store) -> list[str]:
    from dxfield.store.activities import list_activities

    return sorted(row.id for row in list_activities(store, limit=1000))


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "edit", "edit", "delete", "send"]),
        st.integers(0, DEVICES - 1),
        st.integers(0, DEVICES - 1),
        st.integers(0, 50),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, seed=st.integers(0, 2**32 - 1))
def test_stores_that_exchange_everything_in_any_order_agree(
    templates: list[Path], tmp_path_factory: pytest.TempPathFactory, operations: Any, seed: int
) -> None:
    stores = list(_copies(templates, tmp_path_factory.mktemp("example")))
    try:
        for action, here, there, pick in operations:
            store = stores[here]
            live = _live_ids(store)
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
            else:  # one store sends everything it has to another, mid-way
                _receive(stores[there], _everything(store))
        # Then everyone sends everything to everyone, in a random order, some twice.
        rng = random.Random(seed)
        pairs = [(a, b) for a in range(DEVICES) for b in range(DEVICES) if a != b]
        for _ in range(2):
            rng.shuffle(pairs)
            for sender, receiver in pairs:
                _receive(stores[receiver], _everything(stores[sender]))
        dumps = [maintenance.dump(s) for s in stores]
        assert dumps[1] == dumps[0] and dumps[2] == dumps[0]
        held = [_everything(s) for s in stores]
        assert held[1] == held[0] and held[2] == held[0]
        # Idempotent: everything once more changes nothing and reports nothing new.
        report = _receive(stores[0], _everything(stores[1]))
        assert (report.new, report.updated) == (0, 0)
        assert maintenance.dump(stores[0]) == dumps[0]
    finally:
        for store in stores:
            store.close()


def test_concurrent_edits_keep_both_versions(templates: list[Path], tmp_path: Path) -> None:
    stores = list(_copies(templates, tmp_path))
    try:
        first, second, _ = stores
        activity = add_activity(
            first,
            ActivityInput(title="元の題", kind="meeting", date="2024-07-17", municipality="豊岡市"),
        )
        _receive(second, _everything(first))
        records.edit(first, "activity", activity.id, {"title": "一台目の題"})
        records.edit(second, "activity", activity.id, {"title": "二台目の題"})
        report = _receive(first, _everything(second))
        assert report.conflicting == 1 and report.new == 0
        _receive(second, _everything(first))
        with first.read() as conn:
            leaves = merge.conflicting_leaves(conn, "activity", activity.id)
        assert len(leaves) == 2
        titles = set()
        for store in (first, second):
            with store.read() as conn:
                assert merge.conflicting_leaves(conn, "activity", activity.id) == leaves
                for revision in merge.all_revisions(conn):
                    if revision["rev_id"] in leaves:
                        titles.add(revision["data"]["title"])
        assert titles == {"一台目の題", "二台目の題"}  # nothing lost: both are kept
        winner = records.get(first, "activity", activity.id).title
        assert records.get(second, "activity", activity.id).title == winner
    finally:
        for store in stores:
            store.close()


def test_a_tampered_or_invalid_revision_is_refused(templates: list[Path], tmp_path: Path) -> None:
    stores = list(_copies(templates, tmp_path))
    try:
        first = stores[0]
        add_activity(
            first,
            ActivityInput(title="題", kind="meeting", date="2024-07-17", municipality="豊岡市"),
        )
        revision = next(r for r in _everything(first) if r["entity"] == "activity")
        tampered = {**revision, "data": {**revision["data"], "title": "書き換え"}}
        with pytest.raises(LocalizedError, match="does not match its version id"):
            merge.check_revision(tampered)
        # A correctly hashed record that fails validation (an impossible date) is refused too.
        bad_data = {**revision["data"], "date": "2024-02-30"}
        bad = {
            **revision,
            "data": bad_data,
            "rev_id": merge.revisions.revision_id(
                revision["generation"],
                "activity",
                revision["entity_id"],
                revision["parents"],
                revision["hlc"],
                revision["device_id"],
                revision["deleted"],
                bad_data,
            ),
        }
        with pytest.raises(LocalizedError, match="date"):
            merge.check_revision(bad)
        with pytest.raises(LocalizedError, match="unknown kind"):
            merge.check_revision({**revision, "entity": "secret"})
    finally:
        for store in stores:
            store.close()


def test_a_revision_from_a_day_ahead_is_taken_and_flagged(
    templates: list[Path], tmp_path: Path
) -> None:
    stores = list(_copies(templates, tmp_path))
    try:
        first, second, _ = stores
        revision = next(
            r
            for r in _everything(first)
            if r["entity"] == "organization" and r["data"]["name"] == "豊岡市"
        )
        data = {**revision["data"], "kana": "とよおかし(未来)"}
        future = {
            **revision,
            "parents": [revision["rev_id"]],
            "generation": revision["generation"] + 1,
            "hlc": "9999999999999-000000",
            "device_id": "0190c9a1-0000-7000-8000-00000000f0f0",  # a device from elsewhere
            "data": data,
        }
        future["rev_id"] = merge.revisions.revision_id(
            future["generation"],
            "organization",
            future["entity_id"],
            future["parents"],
            future["hlc"],
            future["device_id"],
            False,
            data,
        )
        report = _receive(second, [future])
        assert report.skewed == [future["rev_id"]] and report.updated == 1
        with second.write() as conn:  # the local clock did not jump into that future
            from dxfield.store import hlc

            assert hlc.tick(conn)[0] < "9"
    finally:
        for store in stores:
            store.close()


def test_the_exported_lines_are_the_canonical_json_of_the_revisions(
    templates: list[Path], tmp_path: Path
) -> None:
    from dxfield.store.revisions import canonical_json

    store = next(_copies(templates, tmp_path))
    try:
        activity = add_activity(
            store,
            ActivityInput(
                title='題 "引用" \\ と改行',
                kind="meeting",
                date="2024-07-17",
                municipality="豊岡市",
            ),
        )
        records.edit(store, "activity", activity.id, {"notes": "一行目\n二行目\t"})
        records.delete(store, "activity", activity.id)
        with store.read() as conn:
            lines, watermark = merge.revision_lines_since(conn, 0)
            revisions = merge.all_revisions(conn)
            assert merge.revision_lines_since(conn, watermark) == ([], watermark)
        assert lines == [canonical_json(r) for r in revisions]
        assert any(r["parents"] for r in revisions)  # the splice is checked with parents too
    finally:
        store.close()
