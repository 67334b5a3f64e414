"""`report --with-photos`: one or two photos per municipality from its latest activities, inside
the HTML as data: URIs (the file stays self-contained), listed in Markdown; none without the
option; a photo whose file is missing is passed over for the next and told of."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from dxfield.report.content import build_report, make_scope
from dxfield.report.photos import REPORT_SIDE
from dxfield.report.render import render_html, render_markdown, write_report
from dxfield.store.engine import Store
from tests.conftest import Cli
from tests.report.test_minutes_photos import attach, handout, picture, record_only, workshop

AS_OF = dt.date(2024, 10, 31)


@pytest.fixture
def taka(demo_store: Store) -> dict[str, str]:
    """Two 多可町 workshops of October with two photos each, and a PDF; attachment ids by name."""
    earlier = workshop(demo_store, title="十月の会", date="2024-10-01")
    later = workshop(demo_store, title="後の会", date="2024-10-20")
    ids = {}
    for activity, name, caption in (
        (earlier, "a1.jpg", "最初の会の板書"),
        (earlier, "a2.jpg", ""),
        (later, "b1.jpg", "<script>alert(1)</script>付箋"),
        (later, "b2.jpg", "集合写真"),
    ):
        ids[name] = attach(demo_store, activity, name, picture((2400, 1800)), caption=caption).id
    attach(demo_store, later, "資料.pdf", handout())
    return ids


def _scope(store: Store, **given: object):  # type: ignore[no-untyped-def]
    return make_scope(store, as_of=AS_OF, municipalities=["多可町"], **given)  # type: ignore[arg-type]


def test_without_the_option_there_are_no_photos(demo_store: Store, taka: dict[str, str]) -> None:
    report = build_report(demo_store, _scope(demo_store))
    assert all(not s.photos for s in report.sections)
    html = render_html(report)
    assert "data:image" not in html and "<img" not in html
    assert "写真" not in render_markdown(report)


def test_the_latest_activities_first_photos_in_the_html(
    demo_store: Store, taka: dict[str, str]
) -> None:
    report = build_report(demo_store, _scope(demo_store, with_photos=True))
    (section,) = report.sections
    # The first photo of the latest activity, then of the one before it.
    assert [p.attachment_id for p in section.photos] == [taka["b1.jpg"], taka["a1.jpg"]]
    assert section.photos[1].caption == "最初の会の板書(2024年10月1日、十月の会)"
    html = render_html(report)
    sources = re.findall(r"""(?:src|href)\s*=\s*"([^"]*)""", html)
    assert len(sources) == 2 and all(s.startswith("data:image/jpeg;base64,") for s in sources)
    assert not re.search(r"@import|url\(|<script", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;付箋" in html
    for photo in section.photos:
        assert photo.image is not None
        with Image.open(io.BytesIO(photo.image)) as image:
            assert max(image.size) == REPORT_SIDE


def test_markdown_lists_the_photos(demo_store: Store, taka: dict[str, str]) -> None:
    report = build_report(demo_store, _scope(demo_store, with_photos=True), images=False)
    assert all(p.image is None for p in report.sections[0].photos)
    text = render_markdown(report)
    assert "data:" not in text
    listed = text.split("**写真**\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert listed == [
        rf"- \<script\>alert(1)\</script\>付箋(2024年10月20日、後の会)(添付ID {taka['b1.jpg']})",
        f"- 最初の会の板書(2024年10月1日、十月の会)(添付ID {taka['a1.jpg']})",
    ]


def test_a_single_activity_gives_its_first_two_photos(demo_store: Store) -> None:
    only = workshop(demo_store, title="一度きりの会", date="2024-10-10")
    first = attach(demo_store, only, "1.png", picture((300, 200), "PNG"))
    second = attach(demo_store, only, "2.jpg", picture((300, 200), colour="#123"))
    attach(demo_store, only, "3.jpg", picture((300, 200), colour="#456"))
    (section,) = build_report(demo_store, _scope(demo_store, with_photos=True)).sections
    assert [p.attachment_id for p in section.photos] == [first.id, second.id]
    assert section.photos[0].caption.startswith("1.png(")  # no caption: the file name


def test_a_missing_photo_is_passed_over_and_told_of(demo_store: Store) -> None:
    activity = workshop(demo_store, title="会", date="2024-10-10")
    gone = record_only(demo_store, activity, "gone.jpg", picture((30, 20), colour="#111"),
                       keep_blob=False)  # fmt: skip
    broken = record_only(demo_store, activity, "broken.jpg", b"\xff\xd8\xffnot really")
    kept = attach(demo_store, activity, "kept.jpg", picture((30, 20)))
    report = build_report(demo_store, _scope(demo_store, with_photos=True))
    assert [p.attachment_id for p in report.sections[0].photos] == [kept.id]
    assert [(p.attachment_id, p.problem) for p in report.photo_problems] == [
        (gone.id, "missing"),
        (broken.id, "unreadable"),
    ]


def test_photos_of_later_activities_or_other_years_stay_out(demo_store: Store) -> None:
    later = workshop(demo_store, title="十一月の会", date="2024-11-20")
    attach(demo_store, later, "later.jpg", picture((30, 20)))
    last_year = workshop(demo_store, title="前年度の会", date="2024-03-10")
    attach(demo_store, last_year, "old.jpg", picture((30, 20), colour="#789"))
    (section,) = build_report(demo_store, _scope(demo_store, with_photos=True)).sections
    assert section.photos == []


def test_cli_with_and_without_photos(
    demo_store: Store, taka: dict[str, str], cli: Cli, tmp_path: Path
) -> None:
    args = ("--data-dir", str(demo_store.data_dir), "report", "--as-of", "2024-10-31",
            "--municipality", "多可町")  # fmt: skip
    plain, with_photos = tmp_path / "plain.html", tmp_path / "photos.html"
    assert cli(*args, "--out", str(plain)).code == 0
    result = cli(*args, "--with-photos", "--out", str(with_photos))
    assert result.code == 0 and result.err == ""
    assert "data:image/jpeg;base64," not in plain.read_text(encoding="utf-8")
    assert with_photos.read_text(encoding="utf-8").count("data:image/jpeg;base64,") == 2
    shown = cli(*args, "--with-photos", "--format", "md")
    assert shown.code == 0 and f"(添付ID {taka['a1.jpg']})" in shown.out


def test_cli_warns_of_a_missing_photo(demo_store: Store, cli: Cli, tmp_path: Path) -> None:
    activity = workshop(demo_store, title="会", date="2024-10-10")
    gone = record_only(demo_store, activity, "gone.jpg", picture((30, 20)), keep_blob=False)
    out = tmp_path / "r.html"
    result = cli("--data-dir", str(demo_store.data_dir), "report", "--as-of", "2024-10-31",
                 "--with-photos", "--out", str(out))  # fmt: skip
    assert result.code == 0 and out.exists()
    (line,) = result.err.strip().splitlines()
    assert gone.id in line and "'gone.jpg'" in line and "多可町" in line


def test_write_report_embeds_photos_only_in_html(
    demo_store: Store, taka: dict[str, str], tmp_path: Path
) -> None:
    scope = _scope(demo_store, with_photos=True)
    write_report(demo_store, scope, tmp_path / "r.md", "md")
    write_report(demo_store, scope, tmp_path / "r.html", "html")
    assert "data:" not in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "data:image/jpeg" in (tmp_path / "r.html").read_text(encoding="utf-8")
