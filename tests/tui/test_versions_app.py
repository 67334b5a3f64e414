"""Nothing deleted is gone, in the app: the deleted records (D in the Log) bring one back, and
an activity's view makes an earlier version current (v)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from dxfield.store import records
from dxfield.store.activities import list_activities
from dxfield.store.engine import Store
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_view import ActivityViewScreen
from dxfield.tui.screens.confirm import ConfirmScreen
from dxfield.tui.screens.deleted import DeletedScreen
from dxfield.tui.screens.version_picker import VersionPickerScreen
from tests.tui.test_app import SIZE, settle


def _first_activity(folder: Path) -> tuple[str, str]:
    with Store.open(folder) as store:
        row = list_activities(store, limit=1)[0]
        return row.id, row.title


async def test_a_deleted_activity_comes_back_from_the_deleted_records(demo: Path) -> None:
    activity_id, title = _first_activity(demo)
    with Store.open(demo) as store:
        records.delete(store, "activity", activity_id)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        await pilot.press("D")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DeletedScreen)
        assert [(i.entity_id, i.label) for i in screen.items] == [(activity_id, title)]
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen and screen.items == []
    with Store.open(demo) as store:
        assert records.get(store, "activity", activity_id).title == title


async def test_an_earlier_version_is_made_current_from_the_view(demo: Path) -> None:
    activity_id, title = _first_activity(demo)
    with Store.open(demo) as store:
        records.edit(store, "activity", activity_id, {"title": "書き換えた題"})
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_activity(activity_id)
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        await pilot.press("v")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, VersionPickerScreen)
        assert len(picker.choices) == 1 and title in picker.choices[0][0]
        picker.query_one(OptionList).highlighted = 0
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
    with Store.open(demo) as store:
        assert records.get(store, "activity", activity_id).title == title
