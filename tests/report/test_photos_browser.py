"""Photos opened in headless Chromium: the report written with --with-photos and the minutes in
HTML show every photo (decoded, within the page's width, on a phone too), ask for nothing
outside the file, and print to A4. Needs Chromium (see test_report_browser.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dxfield.report.content import make_scope
from dxfield.report.minutes import build_minutes, render
from dxfield.report.render import write_report
from dxfield.store.engine import Store
from tests.report.test_minutes_photos import attach, picture, workshop
from tests.report.test_report_browser import BROWSER_FLAGS, _chromium


def _open(executable: str, out: Path, size: tuple[int, int]) -> list[dict[str, float]]:
    """The photos of the page as the browser laid them out; fails on any console problem or
    request outside the file."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            photos = page.locator("figure img").evaluate_all(
                """images => images.map(i => ({
                    complete: i.complete ? 1 : 0, natural: i.naturalWidth,
                    width: i.getBoundingClientRect().width,
                    height: i.getBoundingClientRect().height,
                    page: document.documentElement.clientWidth}))"""
            )
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1
            assert page.pdf(format="A4").startswith(b"%PDF")
        finally:
            browser.close()
    assert problems == []
    # A data: URI is inside the file (Chromium may or may not report it as a request).
    assert [r for r in requests if not r.startswith("data:image/jpeg;base64,")] == [out.as_uri()]
    return photos


@pytest.mark.parametrize("size", [(1200, 900), (390, 800)], ids=["desktop", "phone"])
def test_the_report_with_photos_shows_them(
    demo_store: Store, tmp_path: Path, size: tuple[int, int]
) -> None:
    executable = _chromium()
    for title, day, colour in (
        ("十月の会", "2024-10-01", "#3a7"),
        ("後の会", "2024-10-20", "#a37"),
    ):
        activity = workshop(demo_store, title=title, date=day)
        attach(demo_store, activity, "a.jpg", picture((2400, 1800), colour=colour))
    out = tmp_path / "report.html"
    scope = make_scope(demo_store, as_of=dt.date(2024, 10, 31), with_photos=True)
    write_report(demo_store, scope, out, "html")
    photos = _open(executable, out, size)
    assert len(photos) == 2
    for photo in photos:
        assert photo["complete"] and photo["natural"] > 0
        assert 0 < photo["width"] <= photo["page"] and photo["height"] > 0


@pytest.mark.parametrize("size", [(1200, 900), (390, 800)], ids=["desktop", "phone"])
def test_the_minutes_in_html_show_their_photos(
    demo_store: Store, tmp_path: Path, size: tuple[int, int]
) -> None:
    executable = _chromium()
    activity = workshop(demo_store)
    for number, shape in enumerate(((4000, 3000), (1500, 4000), (900, 900))):
        attach(demo_store, activity, f"{number}.jpg", picture(shape, colour=f"#{number}7a"))
    out = tmp_path / "minutes.html"
    out.write_bytes(render(build_minutes(demo_store, [activity]), "html"))
    photos = _open(executable, out, size)
    assert len(photos) == 3
    for photo in photos:
        assert photo["complete"] and photo["natural"] > 0
        assert 0 < photo["width"] <= photo["page"]
        assert 0 < photo["height"] <= 600  # a portrait photo does not fill the screen
