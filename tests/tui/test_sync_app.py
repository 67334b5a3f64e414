"""The Sync and Conflicts screens, driven from the keyboard."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from dxfield.i18n import LocalizedError
from dxfield.store import records
from dxfield.store.activities import ActivityInput, add_activity, list_activities
from dxfield.store.conflicts import list_conflicts
from dxfield.store.engine import Store
from dxfield.sync import bundle
from dxfield.sync.bundle import bundle_log, export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.sync import ConflictsScreen, SyncScreen
from tests.tui.test_app import SIZE, settle
from tests.writers import OtherWriter, another_writer


def _stores(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "toyooka", tmp_path / "hub"
    with Store.open(a, device_name="豊岡") as first, Store.open(b, device_name="兵庫県") as hub:
        trust_card(first, parse_card(card_text(own_card(hub))))
        trust_card(hub, parse_card(card_text(own_card(first))))
        add_activity(
            first,
            ActivityInput(
                title="奥矢根区 意見交換会",
                kind="workshop",
                date="2024-07-17",
                municipality="豊岡市",
            ),
        )
    return a, b


async def test_export_to_a_folder_then_import_it_on_the_hub(tmp_path: Path) -> None:
    a, b = _stores(tmp_path)
    stick = tmp_path / "usb"
    stick.mkdir()
    app = DxfieldApp(a)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, SyncScreen)
        assert app.screen.query_one("#recipient", Select).value is not Select.BLANK
        app.screen.query_one("#export-folder", Input).value = str(stick)
        app.screen.query_one("#recipient", Select).focus()
        await pilot.press("e")
        await settle(app, pilot)
        assert "Wrote" in str(app.screen.query_one("#sync-message").render())
        assert "(1 change)" in str(app.screen.query_one("#sync-message").render())
        # Again, to another folder: the bundle is written, and says it holds nothing new.
        other = tmp_path / "other"
        other.mkdir()
        app.screen.query_one("#export-folder", Input).value = str(other)
        app.screen.query_one("#recipient", Select).focus()
        await pilot.press("e")
        await settle(app, pilot)
        assert "(nothing new)" in str(app.screen.query_one("#sync-message").render())
        assert len(list(other.glob("*.dxb"))) == 1
    assert len(list(stick.glob("*.dxb"))) == 1

    app = DxfieldApp(b)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        app.screen.query_one("#import-path", Input).value = str(stick)
        app.screen.query_one("#recipient", Select).focus()
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        message = str(app.screen.query_one("#sync-message").render())
        assert "Imported 1 file: new 1" in message
    with Store.open(b) as hub:
        titles = [r.title for r in list_activities(hub, limit=10)]
        assert titles == ["奥矢根区 意見交換会"]
        assert [e["direction"] for e in bundle_log(hub)] == ["in"]


async def _import_while_held(
    app: DxfieldApp, pilot: Pilot[Any], other: OtherWriter, stick: Path
) -> None:
    """On the Sync screen, the folder `stick` imported while `other` holds the store: returns
    once the import says it waits."""
    await settle(app, pilot)
    await pilot.press("s")
    await settle(app, pilot)
    other.take()
    app.screen.query_one("#import-path", Input).value = str(stick)
    app.screen.query_one("#recipient", Select).focus()
    await pilot.press("ctrl+o")
    said = await _notified(app, pilot, "this import goes on once it is done")
    assert any("this import goes on once it is done" in m for m in said), said


async def _notified(app: DxfieldApp, pilot: Pilot[Any], words: str) -> list[str]:
    """The app's notifications once one holds `words` (or after some 15 s)."""
    said: list[str] = []
    for _ in range(300):
        await pilot.pause(0.05)
        said = [str(n.message) for n in app._notifications]
        if any(words in m for m in said):
            break
    return said


async def test_an_import_that_finds_another_writing_waits_and_says_so(tmp_path: Path) -> None:
    """A colleague's import writing on the hub when this one's check is done: it waits for it,
    saying so, then lands."""
    a, b = _stores(tmp_path)
    stick = tmp_path / "usb"
    stick.mkdir()
    with Store.open(a) as first:
        export_bundle(first, stick / "1.dxb", "兵庫県")
    app = DxfieldApp(b)
    with another_writer(b) as other:
        async with app.run_test(size=SIZE) as pilot:
            await _import_while_held(app, pilot, other, stick)
            assert "Imported" not in str(app.screen.query_one("#sync-message").render())
            other.let_go()
            for _ in range(300):
                await pilot.pause(0.05)
                if "Imported" in str(app.screen.query_one("#sync-message").render()):
                    break
            assert "Imported 1 file: new 1" in str(app.screen.query_one("#sync-message").render())


async def test_a_conflict_is_shown_side_by_side_and_resolved_with_a_key(tmp_path: Path) -> None:
    a, b = _stores(tmp_path)
    with Store.open(a) as first, Store.open(b) as hub:
        export_bundle(first, tmp_path / "1.dxb", "兵庫県")
        import_bundle(hub, tmp_path / "1.dxb")
        (activity_id,) = [row.id for row in list_activities(first, limit=5)]
        records.edit(first, "activity", activity_id, {"title": "豊岡の題"})
        records.edit(hub, "activity", activity_id, {"title": "県の題"})
        export_bundle(hub, tmp_path / "2.dxb", "豊岡")
        import_bundle(first, tmp_path / "2.dxb")
        assert len(list_conflicts(first)) == 1
    app = DxfieldApp(a)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        from dxfield.tui.widgets.status_bar import StatusBar

        assert "1 conflict (s, k)" in str(app.screen.query_one(StatusBar).render())
        await pilot.press("k")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        (conflict,) = screen.conflicts
        keep = conflict.versions[1].data["title"]
        await pilot.press("2")
        await settle(app, pilot)
        assert screen.conflicts == []
    with Store.open(a) as first:
        assert list_conflicts(first) == []
        assert records.get(first, "activity", activity_id).title == keep


async def test_a_missing_folder_or_no_bundles_is_said_in_one_line(tmp_path: Path) -> None:
    a, _ = _stores(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    app = DxfieldApp(a)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#export-folder", Input).value = str(tmp_path / "pulled-out-stick")
        screen.query_one("#recipient", Select).focus()
        await pilot.press("e")
        await settle(app, pilot)
        assert "There is no folder" in str(screen.query_one("#sync-message").render())
        screen.query_one("#import-path", Input).value = str(empty)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert "No sync files" in str(screen.query_one("#sync-message").render())
        assert isinstance(app.screen, SyncScreen)


async def test_a_devices_name_cannot_steer_the_export_out_of_the_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "toyooka", tmp_path / "hub"
    with (
        Store.open(a, device_name="../../豊岡") as first,
        Store.open(b, device_name="兵庫県") as hub,
    ):
        # The hub's card names it "../../x\\..\\y": its own name, which the laptop keeps.
        card = parse_card(card_text(own_card(hub)).replace("兵庫県", "../../x\\\\..\\\\y"))
        trust_card(first, card)
    stick = tmp_path / "usb" / "stick"
    stick.mkdir(parents=True)
    app = DxfieldApp(a)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        app.screen.query_one("#export-folder", Input).value = str(stick)
        app.screen.query_one("#recipient", Select).focus()
        await pilot.press("e")
        await settle(app, pilot)
        assert "Wrote" in str(app.screen.query_one("#sync-message").render())
    (written,) = [p for p in tmp_path.rglob("*.dxb")]
    assert written.parent == stick, written


async def test_versions_stamped_far_ahead_are_listed_with_their_sender(tmp_path: Path) -> None:
    from dxfield.store import merge
    from dxfield.store.revisions import revision_id

    a, b = _stores(tmp_path)
    with Store.open(a) as first, first.read() as conn:
        revision = next(r for r in merge.all_revisions(conn) if r["entity"] == "activity")
    data = {**revision["data"], "title": "未来の題"}
    ahead = {**revision, "data": data, "generation": 2, "parents": [revision["rev_id"]],
             "hlc": "9999999999999-000000"}  # fmt: skip
    ahead["rev_id"] = revision_id(2, "activity", revision["entity_id"], ahead["parents"],
                                  ahead["hlc"], revision["device_id"], False, data)  # fmt: skip
    with Store.open(b) as hub, hub.unit() as unit:
        checked = [merge.check_revision(r) for r in (revision, ahead)]
        merge.apply_revisions(unit, checked, sender="x", sender_name="豊岡")
    app = DxfieldApp(b)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, SyncScreen)
        shown = str(app.screen.query_one("#far-ahead").render())
        assert "1 version stamped over a day ahead" in shown and "豊岡" in shown


async def test_the_second_laptop_shows_the_first_as_the_author_verified(tmp_path: Path) -> None:
    """The activity's history on a laptop that trusts only the hub's card: the author is the
    other laptop, by the name the hub's roster gives it, and its signature verified here."""
    from dxfield.store import local_state
    from dxfield.tui.screens.activity_view import ActivityViewScreen
    from tests.tui.test_escape_app import shown

    folders = [tmp_path / name for name in ("hub", "kami", "asago")]
    with (
        Store.open(folders[0], device_name="兵庫県") as hub,
        Store.open(folders[1], device_name="香美リエゾン") as kami,
        Store.open(folders[2], device_name="朝来リエゾン") as asago,
    ):
        local_state.set_device_role(hub, "hub")
        for laptop in (kami, asago):
            trust_card(hub, parse_card(card_text(own_card(laptop))))
            trust_card(laptop, parse_card(card_text(own_card(hub))))
        made = add_activity(
            kami,
            ActivityInput(
                title="小代地区 意見交換会",
                kind="workshop",
                date="2024-07-17",
                municipality="香美町",
            ),
        ).id
        export_bundle(kami, tmp_path / "1.dxb", "兵庫県")
        import_bundle(hub, tmp_path / "1.dxb")
        export_bundle(hub, tmp_path / "2.dxb", "朝来リエゾン")
        import_bundle(asago, tmp_path / "2.dxb")
    app = DxfieldApp(folders[2])
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_activity(made)
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        text = await shown(app, pilot, "香美リエゾン · verified")
        assert "香美リエゾン · verified · created" in text, text


async def test_an_import_goes_on_when_the_person_leaves_the_screen_and_says_where_they_are(
    tmp_path: Path,
) -> None:
    """Two bundles, the store held by another writer; the person goes to the dashboard while
    the import waits: both bundles land, and the result is said on the dashboard."""
    a, b = _stores(tmp_path)
    stick = tmp_path / "usb"
    stick.mkdir()
    with Store.open(a) as first:
        export_bundle(first, stick / "1.dxb", "兵庫県")
        add_activity(
            first,
            ActivityInput(title="二回目", kind="meeting", date="2024-08-01", municipality="豊岡市"),
        )
        export_bundle(first, stick / "2.dxb", "兵庫県")
    app = DxfieldApp(b)
    with another_writer(b) as other:
        async with app.run_test(size=SIZE) as pilot:
            await _import_while_held(app, pilot, other, stick)
            await pilot.press("h")
            await settle(app, pilot)
            assert not isinstance(app.screen, SyncScreen)
            other.let_go()
            said = await _notified(app, pilot, "Imported")
            assert any("Imported 2 files: new 2" in m for m in said), said
    with Store.open(b) as hub:
        assert sorted(r.title for r in list_activities(hub, limit=10)) == sorted(
            ["奥矢根区 意見交換会", "二回目"]
        )


async def test_quitting_while_an_import_waits_closes_at_once_and_imports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app used to close its screen and leave the terminal blank until the other writer
    was done, then write the import with no one there: now the import stops waiting."""
    a, b = _stores(tmp_path)
    stick = tmp_path / "usb"
    stick.mkdir()
    with Store.open(a) as first:
        export_bundle(first, stick / "1.dxb", "兵庫県")
    ended: list[BaseException | None] = []
    done = threading.Event()

    def importing(*args: Any, **kwargs: Any) -> Any:
        try:
            result = import_bundle(*args, **kwargs)
            ended.append(None)
            return result
        except BaseException as exc:
            ended.append(exc)
            raise
        finally:
            done.set()

    monkeypatch.setattr(bundle, "import_bundle", importing)
    app = DxfieldApp(b)
    with another_writer(b) as other:
        async with app.run_test(size=SIZE) as pilot:
            await _import_while_held(app, pilot, other, stick)
            await pilot.press("ctrl+q")
        # The other writer still holds the store: the import gave up on its own.
        assert done.wait(5), "the import went on waiting after the app closed"
        [error] = ended
        assert isinstance(error, LocalizedError) and error.code == "store.given_up"
    with Store.open(b) as hub:
        assert list_activities(hub, limit=10) == []
        assert bundle_log(hub) == []
