"""An enrolled device is not a trusted one: bundles signed with a real, trusted key but carrying
hostile revisions are refused in one line with the store unchanged, or taken and flagged where
that is the rule; and what they cannot do, nothing else can undo either (restore, revert)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dxfield.domain.errors import LocalizedError
from dxfield.store import maintenance, merge, records
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli
from tests.sync.corpus import Pair, bundle, resealed, sender_revisions, signed
from tests.sync.forged import FORGED, last_activity, lines_with, organization_under


def _introduce(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def _log(store: Store, title: str) -> str:
    given_ = ActivityInput(title=title, kind="meeting", date="2024-07-17", municipality="豊岡市")
    return add_activity(store, given_).id


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    stores = [Store.open(tmp_path / n, device_name=n) for n in ("sender", "receiver", "other")]
    sender, receiver, stranger = stores
    _introduce(sender, receiver)
    _log(sender, "奥矢根区 意見交換会")
    yield Pair(sender, receiver, stranger)
    for store in stores:
        store.close()


def _import(cli: Cli, store: Store, path: Path) -> Any:
    return cli("--lang", "en", "--data-dir", str(store.data_dir), "import", str(path))


@pytest.mark.parametrize(("name", "make", "message"), FORGED, ids=[f[0] for f in FORGED])
def test_a_hostile_revision_under_a_trusted_key_is_refused_in_one_line(
    pair: Pair, cli: Cli, tmp_path: Path, name: str, make: Any, message: str
) -> None:
    path = tmp_path / f"{name}.dxb"
    path.write_bytes(make(pair))
    before = maintenance.dump(pair.receiver)
    result = _import(cli, pair.receiver, path)
    assert result.code == 1 and result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bundle refused: revision"), result.err
    assert message in lines[0], lines[0]
    assert "unexpected" not in lines[0] and "\x1b" not in lines[0]
    assert maintenance.dump(pair.receiver) == before
    assert maintenance.check(pair.receiver).ok


def test_an_id_of_another_kind_here_is_refused(pair: Pair, cli: Cli, tmp_path: Path) -> None:
    """The attack of the issue: an organization revision under an activity's id, after the
    activity itself has arrived, would have been merged into the activity."""
    first = tmp_path / "first.dxb"
    first.write_bytes(bundle(pair))
    assert _import(cli, pair.receiver, first).code == 0
    activity = last_activity(pair)
    organization = organization_under(activity, "なりすまし", pair.sender)
    second = tmp_path / "second.dxb"
    second.write_bytes(bundle(pair, lines_with(pair, organization, replace=True)))
    before = maintenance.dump(pair.receiver)
    result = _import(cli, pair.receiver, second)
    assert result.code == 1
    assert (
        f"the id {activity['entity_id']} belongs to another kind of record (activity), not to organization"
        in (result.err)
    )
    assert maintenance.dump(pair.receiver) == before
    listed = cli("--data-dir", str(pair.receiver.data_dir), "activity", "list", "--json")
    assert listed.code == 0 and len(json.loads(listed.out)) == 1


def _far_ahead(pair: Pair) -> dict[str, Any]:
    activity = last_activity(pair)
    data = {**activity["data"], "title": "未来からの題"}
    return resealed(
        {
            **activity,
            "data": data,
            "generation": 2,
            "parents": [activity["rev_id"]],
            "hlc": "9999999999999-000000",
        },
        pair.sender,
    )


def test_a_stamp_far_ahead_is_taken_flagged_and_moves_no_clock(
    pair: Pair, cli: Cli, tmp_path: Path
) -> None:
    from dxfield.store import hlc

    path = tmp_path / "future.dxb"
    ahead = _far_ahead(pair)
    path.write_bytes(bundle(pair, lines_with(pair, last_activity(pair), ahead)))
    result = cli("--lang", "en", "--data-dir", str(pair.receiver.data_dir), "import", str(path))
    assert result.code == 0, result.err
    assert "clock skew 1" in result.out
    with pair.receiver.read() as conn:
        assert hlc.ahead_of_real_time(conn) == 0
    report = maintenance.check(pair.receiver)
    assert not report.ok
    (finding,) = [f for f in report.findings if f.code == "far-ahead"]
    assert ahead["rev_id"] in finding.message("en") and "sender" in finding.message("en")
    checked = cli("--lang", "en", "--data-dir", str(pair.receiver.data_dir), "check")
    assert checked.code == 1 and ahead["rev_id"] in checked.out
    # An honest edit made after it is its child, and wins everywhere.
    activity_id = ahead["entity_id"]
    records.edit(pair.receiver, "activity", activity_id, {"title": "正しい題"})
    assert records.get(pair.receiver, "activity", activity_id).title == "正しい題"


def test_a_store_clock_already_dragged_ahead_falls_back(store: Store) -> None:
    from dxfield.store import hlc

    with store.write() as conn:
        hlc._save(conn, hlc.Stamp(9_999_999_999_999, 0), hlc._load(conn) is not None)
        assert hlc.ahead_of_real_time(conn) > 0
        (stamp,) = hlc.tick(conn)
    assert stamp < "9"
    with store.read() as conn:
        assert hlc.ahead_of_real_time(conn) == 0


def test_equal_stamps_and_devices_have_one_winner_in_every_order(pair: Pair) -> None:
    """Two sibling versions with the same stamp and device: the revision id decides, so every
    store shows the same one whatever the order they came in."""
    activity = last_activity(pair)
    siblings = [
        resealed(
            {
                **activity,
                "data": {**activity["data"], "title": title},
                "generation": 2,
                "parents": [activity["rev_id"]],
                "hlc": "1732580800000-000001",
            },
            pair.sender,
        )
        for title in ("一つ目", "二つ目")
    ]
    expected = max(siblings, key=lambda r: r["rev_id"])["data"]["title"]
    everything = sender_revisions(pair)
    for order in (siblings, siblings[::-1]):
        for store in (pair.receiver, pair.stranger):
            if store is pair.stranger and order is siblings:
                continue
            checked = [merge.check_signed_revision(r)[0] for r in [*everything, *order]]
            with store.unit() as unit:
                merge.apply_revisions(unit, checked[: len(everything)])
                merge.apply_revisions(unit, checked[len(everything) :])
    titles = {
        records.get(s, "activity", activity["entity_id"]).title
        for s in (pair.receiver, pair.stranger)
    }
    assert titles == {expected}
    assert maintenance.dump(pair.receiver) == maintenance.dump(pair.stranger)


# -- a hostile device, at random ---------------------------------------------------------------

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.text(max_size=30),
    st.sampled_from(
        [
            "9999999999999-000000",
            " 1-000000",
            "1-" + "0" * 32,
            "activity",
            "0190c9a1-0000-7000-8000-00000000beef",
            "2024-02-30",
            "R6.7.17",
        ]
    ),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
FIELDS = ["rev_id", "entity", "entity_id", "generation", "parents", "hlc", "device_id", "deleted"]
DATA_FIELDS = ["title", "date", "kind", "municipality_id", "participants", "tags", "created_at",
               "initiative_id", "notes", "unknown"]  # fmt: skip


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(  # a stamp far ahead, made as its author would have: taken, flagged
    where="top", top_field="hlc", data_field="title", value="9999999999999-000000", rehashed=True
)
@given(
    where=st.sampled_from(["top", "data"]),
    top_field=st.sampled_from(FIELDS),
    data_field=st.sampled_from(DATA_FIELDS),
    value=VALUES,
    rehashed=st.booleans(),
)
def test_a_mutated_revision_is_refused_cleanly_or_taken_soundly(
    pair: Pair, tmp_path: Path, where: str, top_field: str, data_field: str, value: Any,
    rehashed: bool,
) -> None:  # fmt: skip
    activity = last_activity(pair)
    if where == "top":
        changed = {**activity, top_field: value}
    else:
        changed = {**activity, "data": {**activity["data"], data_field: value}}
    if rehashed:
        # Made as its author would have: its id the hash of its content, signed with the
        # sender's real key (a field too broken for that stays as it is, and is refused).
        with contextlib.suppress(TypeError, ValueError, KeyError):
            changed = resealed(changed, pair.sender)
    else:
        changed = signed(changed, pair.sender)
    path = tmp_path / "mutated.dxb"
    path.write_bytes(bundle(pair, lines_with(pair, changed)))
    before = maintenance.dump(pair.receiver)
    try:
        import_bundle(pair.receiver, path)
    except LocalizedError as exc:
        message = exc.message("en")
        assert "\n" not in message and "unexpected" not in message
        assert maintenance.dump(pair.receiver) == before
    report = maintenance.check(pair.receiver)
    # A stamp over a day ahead is taken and flagged for a person to look at, not refused: the
    # one finding that may stay (the pair lives through every example, so it stays after one).
    unflagged = [f for f in report.findings if f.code != "far-ahead"]
    assert dataclasses.replace(report, findings=unflagged).ok
    # The stores still converge: what the receiver took goes back, and both agree.
    export_bundle(pair.receiver, tmp_path / "back.dxb", "sender", full=True)
    import_bundle(pair.sender, tmp_path / "back.dxb")
    export_bundle(pair.sender, tmp_path / "forth.dxb", "receiver", full=True)
    import_bundle(pair.receiver, tmp_path / "forth.dxb")
    assert maintenance.dump(pair.receiver) == maintenance.dump(pair.sender)
