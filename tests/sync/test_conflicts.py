"""Conflicts through bundles: both versions kept, shown, resolved, and the resolution syncs."""

from __future__ import annotations

import json
from pathlib import Path

from dxfield.store import maintenance, records
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.conflicts import get_conflict, list_conflicts, resolve_conflict
from dxfield.store.engine import Store
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli


def _pair(tmp_path: Path) -> tuple[Store, Store]:
    a = Store.open(tmp_path / "a", device_name="豊岡")
    b = Store.open(tmp_path / "b", device_name="兵庫県")
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))
    return a, b


def _swap(a: Store, b: Store, folder: Path, name: str) -> None:
    export_bundle(a, folder / f"{name}-ab.dxb", "兵庫県")
    export_bundle(b, folder / f"{name}-ba.dxb", "豊岡")
    import_bundle(b, folder / f"{name}-ab.dxb")
    import_bundle(a, folder / f"{name}-ba.dxb")


def test_concurrent_edits_are_kept_shown_and_resolved_everywhere(tmp_path: Path, cli: Cli) -> None:
    a, b = _pair(tmp_path)
    try:
        activity = add_activity(
            a,
            ActivityInput(title="元の題", kind="meeting", date="2024-07-17", municipality="豊岡市"),
        )
        _swap(a, b, tmp_path, "1")
        records.edit(a, "activity", activity.id, {"title": "豊岡の題", "location": "公民館"})
        records.edit(b, "activity", activity.id, {"title": "県の題"})
        _swap(a, b, tmp_path, "2")
        assert maintenance.dump(a) == maintenance.dump(b)
        (conflict,) = list_conflicts(a)
        assert conflict.entity_id == activity.id
        assert {v.data["title"] for v in conflict.versions} == {"豊岡の題", "県の題"}
        assert conflict.differing_fields == ["location", "title"]
        listed = cli("--data-dir", str(tmp_path / "b"), "conflicts", "list", "--json")
        assert json.loads(listed.out)[0]["entity_id"] == activity.id
        shown = cli("--data-dir", str(tmp_path / "a"), "conflicts", "show", activity.id[-8:])
        assert "* title" in shown.out and "豊岡の題" in shown.out and "県の題" in shown.out
        loser = next(v for v in conflict.versions if not v.winner)
        resolved = cli(
            "--data-dir", str(tmp_path / "b"), "conflicts", "resolve", activity.id,
            "--keep", loser.rev_id[-10:],
        )  # fmt: skip
        assert resolved.code == 0, resolved.err
        assert list_conflicts(b) == []
        assert records.get(b, "activity", activity.id).title == loser.data["title"]
        _swap(a, b, tmp_path, "3")  # the resolution travels like any change
        assert list_conflicts(a) == []
        assert records.get(a, "activity", activity.id).title == loser.data["title"]
        assert maintenance.dump(a) == maintenance.dump(b)
    finally:
        a.close()
        b.close()


def test_an_edit_against_a_delete_keeps_the_edit_reachable(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    try:
        activity = add_activity(
            a, ActivityInput(title="題", kind="meeting", date="2024-07-17", municipality="豊岡市")
        )
        _swap(a, b, tmp_path, "1")
        records.delete(a, "activity", activity.id)
        records.edit(b, "activity", activity.id, {"notes": "大事なメモ"})
        _swap(a, b, tmp_path, "2")
        assert maintenance.dump(a) == maintenance.dump(b)
        with a.read() as conn:
            from dxfield.store.merge import all_revisions

            leaves_kept = [
                r for r in all_revisions(conn)
                if r["entity_id"] == activity.id and r["data"].get("notes") == "大事なメモ"
            ]  # fmt: skip
        assert leaves_kept  # the edit is in every store's history, whichever won
    finally:
        a.close()
        b.close()


def test_resolving_needs_a_version_of_the_conflict(tmp_path: Path) -> None:
    import pytest

    from dxfield.domain.errors import LocalizedError, NotFound

    a, b = _pair(tmp_path)
    try:
        activity = add_activity(
            a, ActivityInput(title="題", kind="meeting", date="2024-07-17", municipality="豊岡市")
        )
        with pytest.raises(NotFound, match="not in conflict"):
            get_conflict(a, activity.id)
        _swap(a, b, tmp_path, "1")
        records.edit(a, "activity", activity.id, {"title": "一"})
        records.edit(b, "activity", activity.id, {"title": "二"})
        _swap(a, b, tmp_path, "2")
        with pytest.raises(LocalizedError, match="no version"):
            resolve_conflict(a, activity.id, keep="zzzzzz")
    finally:
        a.close()
        b.close()
