"""The HTML report opened in headless Chromium: every municipality shows, the charts draw, the
console stays clean and the page asks for nothing outside itself.

Needs a Chromium on the machine (`.ci/run` installs Debian's and sets DXFIELD_REQUIRE_BROWSER, so
in CI a missing browser fails instead of skipping). Playwright drives it; its own browser
downloads are never used.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from dxfield.report.content import make_scope
from dxfield.report.render import write_report
from dxfield.store.engine import Store
from dxfield.store.followups import list_initiatives

BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    for candidate in (
        os.environ.get("DXFIELD_CHROMIUM", ""),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and (found := shutil.which(candidate)):
            return found
    if os.environ.get("DXFIELD_REQUIRE_BROWSER"):
        pytest.fail("no Chromium on this machine, and DXFIELD_REQUIRE_BROWSER is set")
    pytest.skip("no Chromium on this machine (set DXFIELD_CHROMIUM to its path)")


@pytest.mark.parametrize("size", [(1200, 900), (390, 800)], ids=["desktop", "phone"])
def test_the_html_report_opens_cleanly_in_chromium(
    demo_store: Store, tmp_path: Path, size: tuple[int, int]
) -> None:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "report.html"
    write_report(demo_store, make_scope(demo_store, as_of=dt.date(2024, 10, 31)), out, "html")
    municipalities = sorted({s.municipality for s in list_initiatives(demo_store)})

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=BROWSER_FLAGS)
        try:
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.on(
                "console",
                lambda m: (
                    problems.append(f"{m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")

            headings = page.locator("section.municipality > h3").all_inner_texts()
            assert sorted(headings) == municipalities
            for name in municipalities:
                section = page.locator(f'section.municipality[data-municipality="{name}"]')
                assert section.is_visible()
                assert section.locator("h5").count() == 3  # the three support areas
            chart_rows = page.locator("#charts svg g.row").evaluate_all(
                "rows => rows.map(r => [r.dataset.municipality, r.getBBox().width])"
            )
            assert sorted(name for name, _ in chart_rows) == municipalities
            assert all(width > 0 for _, width in chart_rows)
            funnel = page.locator("#charts svg rect.stage")
            assert funnel.count() == 2  # 豊岡市's two communities reached stages 1 and 2
            # Nothing overflows the page sideways, on a phone either.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF")
        finally:
            browser.close()
    assert problems == []
    assert requests == [out.as_uri()]
