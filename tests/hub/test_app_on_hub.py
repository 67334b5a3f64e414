"""The app on a hub in PostgreSQL, opened by two people at once: each sees the other's changes
when a screen is refreshed, and a colleague's saves carry their own identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from dxfield.tui.app import DxfieldApp
from dxfield.tui.widgets.status_bar import StatusBar
from tests.tui.test_app import SIZE, open_log, settle, titles


def _activity(title: str) -> ActivityInput:
    return ActivityInput(municipality="豊岡市", kind="meeting", date="2024-08-01", title=title)


@pytest.mark.usefixtures("frozen_today")
async def test_two_people_see_each_others_changes_on_refresh(
    pg_database: str, tmp_path: Path
) -> None:
    hub_dir, sato_dir = tmp_path / "hub", tmp_path / "sato"
    with Store.open(hub_dir, database=pg_database, create=True) as hub:
        add_activity(hub, _activity("県庁 打合せ"))
        with Store.open(sato_dir, database=pg_database, device_name="佐藤") as sato:
            trust_card(hub, parse_card(card_text(own_card(sato))))
    first, second = DxfieldApp(hub_dir, pg_database), DxfieldApp(sato_dir, pg_database)
    async with first.run_test(size=SIZE) as one, second.run_test(size=SIZE) as two:
        await open_log(first, one)
        await open_log(second, two)
        assert titles(first) == titles(second) == ["県庁 打合せ"]
        assert "postgresql://" in str(second.screen.query_one(StatusBar).render())
        add_activity(second.store, _activity("佐藤 現地視察"))  # 佐藤 saves on her screen
        assert titles(first) == ["県庁 打合せ"]  # shown as it was until refreshed
        await one.press("r")
        await settle(first, one)
        assert set(titles(first)) == {"県庁 打合せ", "佐藤 現地視察"}
        assert second.store.device.name == "佐藤" and second.store.device.role == "staff"
