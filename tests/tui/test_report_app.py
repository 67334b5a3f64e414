"""The Report screen: the Markdown preview follows the scope, and ctrl+s writes both files."""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Markdown, SelectionList

from dxfield.report.content import build_report, make_scope
from dxfield.report.render import render_html, render_markdown
from dxfield.store.engine import Store
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.report import ReportScreen
from tests.tui.test_app import SIZE, settle


def _message(app: DxfieldApp) -> str:
    return str(app.screen.query_one("#report-message").render())


def _preview(app: DxfieldApp) -> str:
    return app.screen.query_one("#report-markdown", Markdown).source


async def _submit(app: DxfieldApp, pilot: object, field: str, value: str) -> None:
    box = app.screen.query_one(field, Input)
    box.value = value
    box.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(app, pilot)  # type: ignore[arg-type]


@pytest.mark.usefixtures("frozen_today")
async def test_the_preview_follows_the_scope(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, ReportScreen)
        assert app.focused is app.screen.query_one("#report-preview")
        assert _preview(app).startswith("# 総務省の支援事業を活用した地域DXの取組")
        assert "7 municipalities, 27 activities" in _message(app)

        await _submit(app, pilot, "#report-as-of", "R6.7.31")
        assert "as of 2024-07-31" in _message(app)
        assert "2024年7月17日 西米良村への訪問" in _preview(app)
        assert "窓口体験調査" not in _preview(app)  # 10月下旬: after the as-of date

        places = app.screen.query_one("#report-places", SelectionList)
        toyooka = next(
            places.get_option_at_index(i).value
            for i in range(places.option_count)
            if str(places.get_option_at_index(i).prompt) == "豊岡市"
        )
        places.select(toyooka)
        await settle(app, pilot)
        assert "1 municipality," in _message(app)
        assert "### 豊岡市" in _preview(app) and "### 尼崎市" not in _preview(app)

        await _submit(app, pilot, "#report-as-of", "2024-02-30")
        assert "as-of date" in _message(app) and "2024-02-30" in _message(app)
        assert "### 豊岡市" in _preview(app)  # the last good preview stays


@pytest.mark.usefixtures("frozen_today")
async def test_ctrl_s_writes_markdown_and_html_as_previewed(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await _submit(app, pilot, "#report-as-of", "2024-10-31")
        app.screen.query_one("#report-personal", Checkbox).value = True
        await settle(app, pilot)
        app.screen.query_one("#report-folder", Input).value = str(tmp_path / "missing")
        app.screen.query_one("#report-preview").focus()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "There is no folder" in _message(app)
        assert not (tmp_path / "missing").exists()

        app.screen.query_one("#report-folder", Input).value = str(out)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Wrote" in _message(app)

    written = sorted(p.name for p in out.iterdir())
    assert written == ["dxfield-report-2024-10-31.html", "dxfield-report-2024-10-31.md"]
    with Store.open(demo) as store:
        scope = make_scope(store, as_of=dt.date(2024, 10, 31), include_personal=True)
        expected = render_markdown(build_report(store, scope))
    assert (out / "dxfield-report-2024-10-31.md").read_text(encoding="utf-8") == expected
    assert "<h3>豊岡市</h3>" in (out / "dxfield-report-2024-10-31.html").read_text("utf-8")


@pytest.mark.usefixtures("frozen_today")
async def test_a_late_preview_of_an_earlier_scope_is_dropped(demo: Path, tmp_path: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReportScreen)
        with Store.open(demo) as store:
            july = build_report(store, make_scope(store, as_of=dt.date(2024, 7, 31)))
        await _submit(app, pilot, "#report-as-of", "2024-10-31")
        # The July build, asked for before, arrives after the October one: it is dropped.
        screen._show(screen._generation - 1, july, render_markdown(july))
        await settle(app, pilot)
        assert "as of 2024-10-31" in _message(app)
        assert "窓口体験調査" in _preview(app)

        # A scope with a mistake: nothing is written until it is put right.
        await _submit(app, pilot, "#report-as-of", "2024-02-30")
        app.screen.query_one("#report-folder", Input).value = str(tmp_path)
        app.screen.query_one("#report-preview").focus()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "not ready" in _message(app)
        assert list(tmp_path.glob("dxfield-report-*")) == []


@pytest.mark.usefixtures("frozen_today")
async def test_ready_means_the_preview_is_on_screen(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status says the report is ready only once its preview shows (it said so 3-5 s
    before the Markdown's blocks were mounted and laid out: a blank preview under "ready";
    issue 18)."""
    said: list[tuple[str, int]] = []
    say = ReportScreen._say

    def spy(self: ReportScreen, message: str, *, error: bool = False) -> None:
        # How many of the preview's blocks are laid out when the status changes.
        markdown = self.query_one("#report-markdown", Markdown)
        said.append((message, sum(1 for b in markdown.children if b.region.height > 0)))
        say(self, message, error=error)

    monkeypatch.setattr(ReportScreen, "_say", spy)
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        ready = [laid_out for message, laid_out in said if "activities" in message]
        assert ready and ready[0] > 0, said
        assert "27 activities" in _message(app)
        markdown = app.screen.query_one("#report-markdown", Markdown)
        assert markdown.source.startswith("# 総務省の支援事業を活用した地域DXの取組")
        assert "総務省の支援事業" in html.unescape(app.export_screenshot()).replace("\xa0", " ")


@pytest.mark.usefixtures("frozen_today")
async def test_the_report_goes_into_the_documents_folder_then_the_last_one(
    demo: Path, tmp_path: Path
) -> None:
    """By default where people look for documents (the tests' own, made when missing); once
    written elsewhere, that folder is offered next time (issue 18)."""
    documents = Path(os.environ["DXFIELD_DOCUMENTS_DIR"])
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert app.screen.query_one("#report-folder", Input).value == "~/Documents"
        app.screen.query_one("#report-preview").focus()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Wrote ~/Documents/dxfield-report-" in _message(app)
        assert len(list(documents.glob("dxfield-report-*.md"))) == 1
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        app.screen.query_one("#report-folder", Input).value = str(elsewhere)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert app.screen.query_one("#report-folder", Input).value == str(elsewhere)


@pytest.mark.usefixtures("frozen_today")
async def test_photos_are_chosen_from_the_keyboard_and_written_as_the_cli_writes_them(
    demo: Path, tmp_path: Path
) -> None:
    """The Report screen's photos checkbox is the CLI's --with-photos: reached with tab, toggled
    with space; the preview lists the photos, the HTML holds their copies, and a photo whose
    file is not here is counted in the status."""
    from tests.report.test_minutes_photos import attach, picture, record_only, workshop

    with Store.open(demo) as store:
        earlier = workshop(store, title="十月の会", date="2024-10-01")
        later = workshop(store, title="後の会", date="2024-10-20")
        attach(store, earlier, "a1.jpg", picture((1200, 900)), caption="板書の写真")
        record_only(store, later, "gone.jpg", picture((60, 40)), caption="届いていない",
                    keep_blob=False)  # fmt: skip
    out = tmp_path / "reports"
    out.mkdir()
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        await _submit(app, pilot, "#report-as-of", "2024-10-31")
        assert "板書の写真" not in _preview(app)  # off by default, as in the CLI
        photos = app.screen.query_one("#report-photos", Checkbox)
        app.screen.query_one("#report-preview").focus()
        for _step in range(12):
            if app.focused is photos:
                break
            await pilot.press("shift+tab")
        assert app.focused is photos
        await pilot.press("space")
        await settle(app, pilot)
        assert photos.value
        assert "板書の写真(2024年10月1日、十月の会)" in _preview(app)
        app.screen.query_one("#report-folder", Input).value = str(out)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "Wrote" in _message(app)
        assert "1 photo could not be used" in _message(app)

    with Store.open(demo) as store:
        scope = make_scope(store, as_of=dt.date(2024, 10, 31), with_photos=True)
        markdown = render_markdown(build_report(store, scope, images=False))
        page = render_html(build_report(store, scope, images=True))
    written = out / "dxfield-report-2024-10-31.html"
    assert written.read_text(encoding="utf-8") == page
    assert page.count('src="data:image/jpeg;base64,') == 1
    assert (out / "dxfield-report-2024-10-31.md").read_text(encoding="utf-8") == markdown
