"""Snapshots of the screens of issue 18's "nothing lost" part, in Japanese at 80x24: the draft
question asked at start, and a finding read in full."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from dxfield.i18n import set_language
from dxfield.store.engine import Store
from dxfield.store.followups import list_findings
from dxfield.store.local_state import save_draft
from dxfield.tui.app import DxfieldApp
from tests.tui.test_snapshots import demo, steady  # noqa: F401 - the fixed-device demo fixture


@pytest.mark.usefixtures("frozen_today")
def test_the_draft_question_at_80x24(snap_compare, demo: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Store.open(demo) as store:
        save_draft(
            store,
            "activity-new-0123456789ab",
            {"title": "多可町ヒアリング 保健福祉DX", "date": "2024年10月下旬", "notes": "窓口の話"},
        )
    set_language("ja")
    app = DxfieldApp(demo)
    assert snap_compare(app, terminal_size=(80, 24), run_before=steady())


@pytest.mark.usefixtures("frozen_today")
def test_a_finding_in_full_at_80x24(snap_compare, demo: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Store.open(demo) as store:
        longest = max(list_findings(store), key=lambda f: len(f.text))
    set_language("ja")
    app = DxfieldApp(demo)

    async def open_it(pilot: Pilot[None]) -> None:
        from dxfield.tui.screens.finding_view import FindingViewScreen

        await steady()(pilot)
        pilot.app.push_screen(FindingViewScreen(longest.id))
        await steady()(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_it)
