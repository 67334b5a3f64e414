"""`M` writes an activity's minutes (議事録) as a Word file into the documents folder, from the
Log's row under the cursor and from the activity's own screen, and says where."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from docx import Document

from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_view import ActivityViewScreen
from dxfield.tui.widgets.activity_list import ActivityList
from tests.tui.test_app import SIZE, open_log, settle


@pytest.mark.usefixtures("frozen_today")
async def test_m_writes_the_minutes_from_the_log_and_the_activity(demo: Path) -> None:
    folder = Path(os.environ["DXFIELD_DOCUMENTS_DIR"])
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        listing = app.screen.query_one(ActivityList)
        row = listing.row_at(listing.cursor)
        assert row is not None
        await pilot.press("M")
        await settle(app, pilot)
        (first,) = folder.glob("*.docx")
        assert first.name.startswith("議事録-") and row.title[:10] in first.name
        said = [str(n.message) for n in app._notifications]
        assert any(first.name in message for message in said), said
        headings = [p.text for p in Document(str(first)).paragraphs if p.style.name == "Heading 1"]
        assert headings[:2] == ["件名", "日時"]

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        await pilot.press("M")
        await settle(app, pilot)
        # The same activity again: a new file beside the first, never over it.
        written = sorted(folder.glob("*.docx"))
        assert len(written) == 2
        assert first in written and any(p.stem.endswith("-2") for p in written)


@pytest.mark.usefixtures("frozen_today")
async def test_m_says_how_many_photos_could_not_be_shown(demo: Path) -> None:
    from dxfield.store.engine import Store
    from tests.report.test_minutes_photos import attach, picture, record_only

    folder = Path(os.environ["DXFIELD_DOCUMENTS_DIR"])
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_log(app, pilot)
        listing = app.screen.query_one(ActivityList)
        row = listing.row_at(listing.cursor)
        assert row is not None
        with Store.open(demo) as store:
            attach(store, row.id, "IMG_0001.jpg", picture((600, 400)), caption="板書")
            record_only(store, row.id, "IMG_0002.jpg", picture((60, 40)), keep_blob=False)
        await pilot.press("M")
        await settle(app, pilot)
        (written,) = folder.glob("*.docx")
        assert len(Document(str(written)).inline_shapes) == 1
        (said,) = [n for n in app._notifications if written.name in str(n.message)]
        assert "1 photo could not be shown" in str(said.message)
        assert said.severity == "warning"
