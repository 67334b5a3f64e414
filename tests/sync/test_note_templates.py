"""Note templates are synced records (issue 18): a kind's template set on one laptop reaches the
hub and the other laptop through bundles; two laptops' edits of it are one record's conflict,
shown and resolved as any; going back to the built-in template is a deletion that syncs and can
be restored. (Hostile templates in a bundle: tests/sync/forged.py, `template-*`.)"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import _
from dxfield.store import local_state, maintenance, records
from dxfield.store.conflicts import list_conflicts
from dxfield.store.engine import Store
from dxfield.store.ids import note_template_id
from dxfield.store.note_templates import (
    built_in,
    note_template,
    reset_note_template,
    saved_templates,
    set_note_template,
)
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli

HUB, A, B = "兵庫県", "豊岡リエゾン", "西宮リエゾン"
MINUTES = "## 日時\n\n## 出席者\n\n## 決定事項\n\n"


@dataclass
class Fleet:
    hub: Store
    a: Store
    b: Store
    folder: Path


def _with_role(folder: Path, name: str, role: str) -> Store:
    """The store in `folder`, its device of `role` (on PostgreSQL a folder's first account is a
    hub: a laptop there is made one by its role)."""
    store = Store.open(folder, device_name=name)
    if store.device.role == role:
        return store
    local_state.set_device_role(store, role)
    store.close()
    return Store.open(folder)


_files = itertools.count(1)


def _sync(fleet: Fleet, sender: Store, receiver: Store) -> None:
    path = fleet.folder / f"sync-{next(_files)}.dxb"
    export_bundle(sender, path, receiver.device.name)
    import_bundle(receiver, path)


def _round(fleet: Fleet) -> None:
    """Both laptops to the hub, then the hub to both."""
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.b, fleet.hub)
    _sync(fleet, fleet.hub, fleet.a)
    _sync(fleet, fleet.hub, fleet.b)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    hub = _with_role(tmp_path / "hub", HUB, "hub")
    a = _with_role(tmp_path / "toyooka", A, "field")
    b = _with_role(tmp_path / "nishinomiya", B, "field")
    for laptop in (a, b):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))
    made = Fleet(hub, a, b, tmp_path)
    _round(made)  # the laptops hold the hub's roster: they know each other
    yield made
    for store in (hub, a, b):
        store.close()


def _same_everywhere(fleet: Fleet) -> None:
    assert maintenance.dump(fleet.a) == maintenance.dump(fleet.hub) == maintenance.dump(fleet.b)
    for store in (fleet.hub, fleet.a, fleet.b):
        assert maintenance.check(store).ok


def test_a_template_set_on_a_laptop_reaches_the_hub_and_the_other_laptop(fleet: Fleet) -> None:
    assert set_note_template(fleet.a, "meeting", MINUTES)
    assert set_note_template(fleet.a, "site_visit", "## 視察先\n")
    _sync(fleet, fleet.a, fleet.hub)
    assert note_template(fleet.hub, "meeting") == MINUTES
    _sync(fleet, fleet.hub, fleet.b)
    assert note_template(fleet.b, "meeting") == MINUTES
    assert note_template(fleet.b, "site_visit") == "## 視察先\n"
    saved = saved_templates(fleet.b)
    assert saved["meeting"].id == note_template_id("meeting")
    assert saved["meeting"].device_id == fleet.a.device.id  # its author, forwarded by the hub
    _same_everywhere(fleet)
    # Back to the built-in template: a deletion, which travels like any change.
    assert reset_note_template(fleet.a, "meeting")
    _round(fleet)
    assert note_template(fleet.b, "meeting") == built_in("meeting")
    assert "meeting" not in saved_templates(fleet.hub)
    # Saved again, on the other laptop: the one record comes back, following its deletion.
    assert set_note_template(fleet.b, "meeting", "## 議題\n")
    _round(fleet)
    assert note_template(fleet.a, "meeting") == "## 議題\n"
    assert list_conflicts(fleet.hub) == []
    _same_everywhere(fleet)


def test_concurrent_edits_of_a_template_are_a_conflict_resolved_everywhere(
    fleet: Fleet, cli: Cli
) -> None:
    set_note_template(fleet.a, "hearing", MINUTES)
    _round(fleet)
    set_note_template(fleet.a, "hearing", MINUTES + "## 豊岡の追記\n")
    set_note_template(fleet.b, "hearing", "## 西宮の書き方\n")
    _round(fleet)
    _same_everywhere(fleet)
    (conflict,) = list_conflicts(fleet.hub)
    assert (conflict.entity, conflict.entity_id) == ("note_template", note_template_id("hearing"))
    assert conflict.differing_fields == ["text"]
    assert {v.data["text"] for v in conflict.versions} == {
        MINUTES + "## 豊岡の追記\n",
        "## 西宮の書き方\n",
    }
    hub = str(fleet.hub.data_dir)
    listed = json.loads(cli("--data-dir", hub, "conflicts", "list", "--json").out)
    assert [c["entity"] for c in listed] == ["note_template"]
    shown = cli("--lang", "en", "--data-dir", hub, "conflicts", "list")
    assert "Hearing" in shown.out, shown.out  # named by its kind, not its first heading
    loser = next(v for v in conflict.versions if not v.winner)
    resolved = cli(
        "--data-dir", hub, "conflicts", "resolve", conflict.entity_id, "--keep", loser.rev_id
    )
    assert resolved.code == 0, resolved.err
    _round(fleet)
    for store in (fleet.hub, fleet.a, fleet.b):
        assert list_conflicts(store) == []
        assert note_template(store, "hearing") == loser.data["text"]
    _same_everywhere(fleet)


def test_two_laptops_saving_a_kinds_first_template_edit_one_record(fleet: Fleet) -> None:
    """Neither had the record: both make its first version, under the kind's one id, so the
    hub holds one record in conflict, never two templates of a kind."""
    set_note_template(fleet.a, "workshop", "## 豊岡\n")
    set_note_template(fleet.b, "workshop", "## 西宮\n")
    _round(fleet)
    (conflict,) = list_conflicts(fleet.b)
    assert conflict.entity_id == note_template_id("workshop")
    assert len(conflict.versions) == 2
    assert note_template(fleet.a, "workshop") == note_template(fleet.b, "workshop")
    _same_everywhere(fleet)


def test_a_deleted_template_is_restored_and_its_history_kept(fleet: Fleet, cli: Cli) -> None:
    set_note_template(fleet.a, "briefing", MINUTES)
    set_note_template(fleet.a, "briefing", "## 説明内容\n")
    reset_note_template(fleet.a, "briefing")
    folder = str(fleet.a.data_dir)
    deleted = cli("--lang", "en", "--data-dir", folder, "deleted")
    assert "note template" in deleted.out and "Briefing" in deleted.out, deleted.out
    restored = cli("--data-dir", folder, "restore", note_template_id("briefing"))
    assert restored.code == 0, restored.err
    assert note_template(fleet.a, "briefing") == "## 説明内容\n"
    reverted = cli(
        "--data-dir",
        folder,
        "revert",
        note_template_id("briefing"),
        "--to",
        _first_version(fleet.a, "briefing"),
    )
    assert reverted.code == 0, reverted.err
    assert note_template(fleet.a, "briefing") == MINUTES
    _round(fleet)
    assert note_template(fleet.b, "briefing") == MINUTES
    _same_everywhere(fleet)


def _first_version(store: Store, kind: str) -> str:
    from dxfield.store.maintenance import record_history

    _entity, history = record_history(store, note_template_id(kind))
    return str(history[0]["rev_id"])


def test_no_write_gives_a_template_another_id_or_kind(fleet: Fleet) -> None:
    """The write path keeps a template under its kind's id: what it refused here, every other
    store would refuse in a bundle."""
    with pytest.raises(LocalizedError, match="cannot be the id of this"):
        records.create(
            fleet.a,
            "note_template",
            {"kind": "meeting", "text": "x"},
            record_id=note_template_id("hearing"),
        )
    set_note_template(fleet.a, "meeting", "x")
    with pytest.raises(LocalizedError, match="cannot be the id of this"):
        records.edit(fleet.a, "note_template", note_template_id("meeting"), {"kind": "hearing"})
    with pytest.raises(LocalizedError, match="kind"):
        set_note_template(fleet.a, "party", "x")
    with pytest.raises(LocalizedError, match="too long"):
        set_note_template(fleet.a, "meeting", "x" * 100_001)
    assert note_template(fleet.a, "meeting") == "x"


def test_saving_what_a_kind_shows_already_writes_nothing(fleet: Fleet) -> None:
    before = maintenance.dump(fleet.a)
    assert not set_note_template(fleet.a, "meeting", built_in("meeting"))
    assert not set_note_template(fleet.a, "survey", "")  # no template, and none built in
    assert not reset_note_template(fleet.a, "meeting")
    assert maintenance.dump(fleet.a) == before
    assert set_note_template(fleet.a, "meeting", "")  # "no template" for a kind that has one
    assert note_template(fleet.a, "meeting") == ""
    assert not set_note_template(fleet.a, "meeting", "")
    assert _("Date and time") in built_in("meeting")
