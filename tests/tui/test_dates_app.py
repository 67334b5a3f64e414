"""Dates in the app as documents write them (issue 18): the form takes a 年度, a month and
上旬/中旬/下旬 and keeps the precision, refuses an implausible date under its field, and the
dashboard shows the 年度 its data is in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Label

from dxfield import clock
from dxfield.i18n import set_language
from dxfield.store import activities
from dxfield.store.engine import Store
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_form import ActivityFormScreen
from dxfield.tui.screens.dashboard import DashboardScreen, InitiativeCardView
from dxfield.tui.screens.log import LogScreen
from tests.tui.test_app import SIZE, new_form, settle


@pytest.fixture(autouse=True)
def japanese() -> Iterator[None]:
    set_language("ja")
    yield
    set_language(None)


def stored(folder: Path, title: str) -> tuple[dt.date, str]:
    with Store.open(folder) as store:
        (found,) = [a for a in activities.list_activities(store, limit=1000) if a.title == title]
        record = activities.get_activity(store, found.id)
        return record.date, record.date_precision.value


async def log_with_date(app: DxfieldApp, pilot, title: str, date: str) -> ActivityFormScreen:  # type: ignore[no-untyped-def]
    """Open a new form, type a title, tab to the date (past 市町村 and 取組), replace it with
    `date` and save."""
    form = await new_form(app, pilot)
    await pilot.press(*title, "tab", "tab", "tab")
    assert app.focused is form.query_one("#date", Input)
    await pilot.press("end", "ctrl+u", *date, "ctrl+s")
    await settle(app, pilot)
    return form


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize(
    ("typed", "day", "precision", "shown"),
    [
        ("2024年10月下旬", dt.date(2024, 10, 21), "late_month", "2024年10月下旬"),
        ("令和6年度", dt.date(2024, 4, 1), "fiscal_year", "令和6年度"),
        ("R6.10", dt.date(2024, 10, 1), "month", "2024年10月"),
    ],
)
async def test_the_form_takes_a_period_and_keeps_its_precision(
    demo: Path, typed: str, day: dt.date, precision: str, shown: str
) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        form = await log_with_date(app, pilot, "精度の記録", typed)
        assert app.screen is not form, str(form.query_one("#error-date", Label).render())
        assert stored(demo, "精度の記録") == (day, precision)
        # Opened again, the field shows the date as written, and an untouched save keeps it.
        with Store.open(demo) as store:
            (found,) = [
                a for a in activities.list_activities(store, limit=1000) if a.title == "精度の記録"
            ]
        app.open_form(activity_id=found.id)
        await settle(app, pilot)
        assert app.screen.query_one("#date", Input).value == shown
        await pilot.press("end", *"2", "ctrl+s")  # the title, changed
        await settle(app, pilot)
    assert stored(demo, "精度の記録2") == (day, precision)


@pytest.mark.parametrize(
    ("at", "last"),
    [
        pytest.param(dt.date(2025, 3, 31), "2027-03-31", id="31-march"),
        pytest.param(dt.date(2025, 4, 1), "2027-04-01", id="1-april"),
    ],
)
@pytest.mark.parametrize("size", [SIZE, (80, 24)])
@pytest.mark.parametrize("typed", ["9999-12-31", "令和99年1月1日"])
async def test_an_implausible_date_is_refused_under_the_field_wrapped(
    demo: Path, at: dt.date, last: str, size: tuple[int, int], typed: str
) -> None:
    with Store.open(demo) as store:
        before = activities.list_activities(store, limit=1000)
    with clock.frozen(at):
        app = DxfieldApp(demo)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            form = await log_with_date(app, pilot, "遠い日付", typed)
            assert app.screen is form  # not saved, nothing typed lost
            assert form.query_one("#title", Input).value == "遠い日付"
            assert app.focused is form.query_one("#date", Input)
            error = form.query_one("#error-date", Label)
            expected = (
                f"日付: '{typed}' は受け付けられる日付の範囲外です(2000-01-01 から {last} まで)"
            )
            assert str(error.render()) == expected
            # Shown whole: wrapped within its field, on as many lines as it needs.
            field = form.query_one("#date", Input).parent
            assert field is not None
            assert error.display and error.region.width <= field.region.width
            lines = error.render_lines(error.region.reset_offset)
            text = "".join(s.text for line in lines for s in line).replace(" ", "")
            assert text == expected.replace(" ", "")
            assert error.region.height >= 2
    with Store.open(demo) as store:
        assert activities.list_activities(store, limit=1000) == before


@pytest.mark.usefixtures("frozen_today")
async def test_the_dashboard_names_todays_nendo_in_the_demos_year(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        window = str(app.screen.query_one("#window", Label).render())
        assert window == "令和6年度・2024年11月26日時点"
        toyooka = next(
            v for v in app.screen.query(InitiativeCardView) if v.card.municipality == "豊岡市"
        )
        body = str(toyooka.query_one(".card-body").render())
        assert "活動 今月 0件 / 令和6年度 5件 / 計 5件" in body
        assert str(toyooka.query_one(".card-axis", Label).render()) == "2024-04 … 2025-03"


@pytest.mark.parametrize(
    "at", [dt.date(2025, 4, 1), dt.date(2026, 5, 10)], ids=["1-april", "later"]
)
async def test_after_the_demos_nendo_the_dashboard_still_shows_it(demo: Path, at: dt.date) -> None:
    with clock.frozen(at):
        app = DxfieldApp(demo)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            window = str(app.screen.query_one("#window", Label).render())
            assert window == "令和6年度・2025年3月31日時点"
            views = list(app.screen.query(InitiativeCardView))
            toyooka = next(v for v in views if v.card.municipality == "豊岡市")
            body = str(toyooka.query_one(".card-body").render())
            # Its last month with data named, not "今月 0件"; days to the 年度's end, not 700.
            assert "活動 2024年10月 0件 / 令和6年度 5件 / 計 5件" in body
            assert "(151日)" in body and "今月" not in body
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, LogScreen)
