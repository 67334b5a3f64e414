"""Minutes (議事録): the service against a hearing with the 議事録 headings, the three formats
(Word read back with python-docx, HTML, Markdown), escaping, personal information, several
activities in date order, a municipality's month, and the CLI's errors."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document

from dxfield.demo.loader import demo_id
from dxfield.i18n import LocalizedError
from dxfield.report.minutes import (
    Minutes,
    build_minutes,
    render,
    select_activities,
    split_note,
    write_minutes,
)
from dxfield.report.minutes_docx import xml_text
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.followups import add_action, add_finding, list_initiatives
from tests.conftest import Cli

NOTE = """冒頭のあいさつ。

## 日時

## 場所

## 出席者

健康福祉課 山田課長

## 議題

予防接種アプリの導入スケジュール

## 内容

アプリは来年4月の稼働を目指す。

## 決定事項

仕様書の素案を11月中に作成する。

## 今後の対応

次回は12月上旬。
"""


def _taka(store: Store) -> str:
    (taka,) = [s.initiative.id for s in list_initiatives(store) if s.municipality == "多可町"]
    return taka


def _hearing(store: Store, **given: object) -> str:
    fields: dict[str, object] = {
        "title": "多可町 保健福祉DXヒアリング",
        "kind": "hearing",
        "date": "2024-10-15",
        "municipality": "多可町",
        "initiative": _taka(store),
        "start_time": "14:00",
        "end_time": "16:00",
        "location": "多可町役場 第1会議室",
        "notes": NOTE,
        "participants": ["多可町", "(株)ジオグリフ"],
        "head_count": 6,
        "participants_text": "山田太郎、佐藤花子",
        **given,
    }
    activity = add_activity(store, ActivityInput(**fields))  # type: ignore[arg-type]
    return activity.id


@pytest.fixture
def hearing(demo_store: Store) -> str:
    """The 多可町 hearing, with a finding recorded from it and an action set out at it."""
    activity_id = _hearing(demo_store)
    add_finding(demo_store, kind="issue", text="記録業務が紙中心", activity=activity_id)
    add_action(
        demo_store,
        text="仕様書の素案を作成する",
        initiative=_taka(demo_store),
        owner="鈴木一郎",
        due="2024-11-29",
        as_of="2024-10-15",
    )
    return activity_id


def _docx_text(data: bytes) -> str:
    document = Document(_bytes_io(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _bytes_io(data: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(data)


# -- the note -----------------------------------------------------------------------------------


def test_a_note_with_the_minutes_headings_is_split_under_them() -> None:
    sections = split_note(NOTE)
    assert sections.agenda == ["予防接種アプリの導入スケジュール"]
    assert sections.decisions == ["仕様書の素案を11月中に作成する。"]
    assert sections.next_steps == ["次回は12月上旬。"]
    assert sections.attendees == ["健康福祉課 山田課長"]
    # Before the first heading: 内容, with the 内容 section; empty sections are dropped.
    assert sections.content == ["冒頭のあいさつ。", "アプリは来年4月の稼働を目指す。"]
    assert sections.when == [] and sections.place == []


def test_english_headings_and_other_headings() -> None:
    sections = split_note("## Agenda\n\nBudget\n\n## Remarks\n\nRain\n\n## Decisions:\n\nGo")
    assert sections.agenda == ["Budget"]
    assert sections.decisions == ["Go"]
    assert sections.content == ["Remarks\n\nRain"]  # another heading stays, as a line, in 内容


def test_a_note_without_the_headings_is_all_content() -> None:
    sections = split_note("# 概要\n\n話し合った。")
    assert sections.content == ["# 概要\n\n話し合った。"]
    assert sections.agenda == []


def test_word_and_html_read_a_notes_list_items_and_strong_marks() -> None:
    from dxfield.report.minutes import plain_note

    assert plain_note("- 項目 **強調** です\n  * 入れ子\n### 小見出し\n2 * 3 * 4\n**閉じない") == (
        "・項目 強調 です\n  ・入れ子\n小見出し\n2 * 3 * 4\n**閉じない"
    )


# -- Word ---------------------------------------------------------------------------------------


def test_docx_has_the_headings_the_attendees_an_east_asian_font_and_an_a4_page(
    demo_store: Store, hearing: str
) -> None:
    data = render(build_minutes(demo_store, [hearing]), "docx")
    document = Document(_bytes_io(data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["件名", "日時", "場所", "出席者", "議題", "内容", "決定事項", "今後の対応"]
    title = [p.text for p in document.paragraphs if p.style.name == "Title"]
    assert title == ["議事録（多可町 保健福祉DXヒアリング）"]
    text = _docx_text(data)
    assert "令和6年10月15日（火）　14:00～16:00" in text
    assert "多可町役場 第1会議室" in text
    assert "予防接種アプリの導入スケジュール" in text
    assert "【課題】記録業務が紙中心" in text
    assert "冒頭のあいさつ。" in text
    attendees = document.tables[0]
    rows = [[c.text for c in row.cells] for row in attendees.rows]
    assert rows == [
        ["区分", "名称"],
        ["団体", "多可町"],
        ["団体", "(株)ジオグリフ"],
        ["人数", "6名"],
    ]
    actions = document.tables[1]
    assert [c.text for c in actions.rows[0].cells] == ["対応内容", "期限", "状況"]
    # The demo's 多可町 actions (as of 10-31) were set out after this hearing too; ours is last.
    assert [c.text for c in actions.rows[-1].cells] == [
        "仕様書の素案を作成する",
        "令和6年11月29日",
        "予定",
    ]
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    with zipfile.ZipFile(_bytes_io(data)) as archive:
        styles = archive.read("word/styles.xml").decode()
        body = archive.read("word/document.xml").decode()
        fonts = archive.read("word/fontTable.xml").decode()
        core = archive.read("docProps/core.xml").decode()
    assert 'w:eastAsia="游明朝"' in styles and 'w:eastAsia="游ゴシック"' in styles
    assert re.search(r'<w:pgSz w:w="11906" w:h="16838"', body)  # A4 in twentieths of a point
    assert '<w:font w:name="游明朝"><w:altName w:val="ＭＳ 明朝"/>' in fonts
    assert "python-docx" not in core


def test_docx_drops_what_xml_cannot_hold(demo_store: Store) -> None:
    activity_id = _hearing(demo_store)
    minutes = build_minutes(demo_store, [activity_id])
    entry = minutes.entries[0]
    hostile = type(entry)(**{**entry.__dict__, "title": "会議\x00\x07\x1b<x>&\ud800"})
    data = render(Minutes([hostile], False, minutes.written_on), "docx")
    assert "会議<x>&" in _docx_text(data)
    assert xml_text("a\tb\nc\x0bd\ufffe") == "a\tb\ncd"


# -- HTML and Markdown --------------------------------------------------------------------------


def test_html_prints_on_a4_and_escapes_a_hostile_title_and_note(demo_store: Store) -> None:
    activity_id = _hearing(
        demo_store,
        title="<script>alert(1)</script>会議",
        notes="## 議題\n\n<img src=x onerror=alert(1)>",
    )
    html = render(build_minutes(demo_store, [activity_id]), "html").decode()
    assert "@page { size: A4;" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;会議" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '"Noto Serif CJK JP"' in html and '"Noto Sans CJK JP"' in html
    assert "http" not in html.replace('name="viewport"', "")  # nothing from outside the file


def test_markdown_lets_no_raw_html_or_marks_through(demo_store: Store) -> None:
    activity_id = _hearing(
        demo_store, title="# <b>会議</b> | *x*", notes="<script>x</script>\n- 項目", location=""
    )
    text = render(build_minutes(demo_store, [activity_id]), "md").decode()
    assert "<b>" not in text and "<script>" not in text
    assert r"\# \<b\>会議\</b\> \| \*x\*" in text
    assert "\\- 項目" in text
    assert "## 場所\n\n（記載なし）" in text


# -- personal information -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_no_names_unless_asked(demo_store: Store, hearing: str, fmt: str) -> None:
    def text(personal: bool) -> str:
        data = render(build_minutes(demo_store, [hearing], include_personal=personal), fmt)
        return _docx_text(data) if fmt == "docx" else data.decode()

    without, with_names = text(False), text(True)
    for name in ("山田太郎", "佐藤花子", "鈴木一郎", "健康福祉課 山田課長"):
        assert name not in without
        assert name in with_names
    assert "多可町" in without and "6名" in without  # organizations and the head count stay


# -- several activities -------------------------------------------------------------------------


def test_several_activities_in_date_order_each_action_once(demo_store: Store) -> None:
    later = _hearing(demo_store, title="第2回", date="2024-11-20", notes="")
    earlier = _hearing(demo_store, title="第1回", date="2024-10-01", notes="")
    add_action(demo_store, text="十月の宿題", initiative=_taka(demo_store), as_of="2024-10-02")
    add_action(demo_store, text="十一月の宿題", initiative=_taka(demo_store), as_of="2024-11-21")
    minutes = build_minutes(demo_store, [later, earlier, later])  # each once
    assert [e.title for e in minutes.entries] == ["第1回", "第2回"]
    first, second = ([a.text for a in e.actions] for e in minutes.entries)
    assert "十月の宿題" in first and "十一月の宿題" not in first
    assert "十一月の宿題" in second and "十月の宿題" not in second
    document = Document(_bytes_io(render(minutes, "docx")))
    tops = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert tops == ["第1回", "第2回"]
    # Alone, the first meeting's minutes do not take the actions of the second.
    alone = [a.text for a in build_minutes(demo_store, [earlier]).entries[0].actions]
    assert "十月の宿題" in alone and "十一月の宿題" not in alone


def test_a_municipality_and_a_month(demo_store: Store) -> None:
    october = _hearing(demo_store, title="十月の会", date="2024-10-15")
    _hearing(demo_store, title="十一月の会", date="2024-11-15")
    ids, scope = select_activities(demo_store, "多可町", "2024-10")
    assert ids == [october] and scope == "多可町　令和6年10月"
    ids, _scope = select_activities(demo_store, "多可町", "令和6年10月")
    assert ids == [october]
    year, scope = select_activities(demo_store, "多可町", "令和6年度")
    assert len(year) > 2 and scope == "多可町　令和6年度"
    assert demo_id("activity", "taka-workshop") in year  # known only by its 年度
    with pytest.raises(LocalizedError) as caught:
        select_activities(demo_store, "多可町", "2024-12")
    assert caught.value.code == "minutes.nothing_matched"


def test_an_existing_file_is_kept_without_force(demo_store: Store, tmp_path: Path) -> None:
    activity_id = _hearing(demo_store)
    minutes = build_minutes(demo_store, [activity_id])
    out = tmp_path / "m.md"
    out.write_text("mine")
    with pytest.raises(LocalizedError) as caught:
        write_minutes(demo_store, minutes, out, "md")
    assert caught.value.code == "minutes.exists" and out.read_text() == "mine"
    write_minutes(demo_store, minutes, out, "md", force=True)
    assert out.read_text().startswith("# 議事録")


# -- the CLI --------------------------------------------------------------------------------------


def _store_dir(store: Store) -> str:
    return str(store.data_dir)


def test_cli_writes_into_the_documents_folder_by_default(
    demo_store: Store, hearing: str, cli: Cli
) -> None:
    folder = Path(os.environ["DXFIELD_DOCUMENTS_DIR"])
    result = cli("--data-dir", _store_dir(demo_store), "minutes", hearing[:12])
    assert result.code == 0, result.err
    (written,) = folder.glob("*.docx")
    assert written.name == "議事録-2024-10-15-多可町-保健福祉DXヒアリング.docx"
    assert str(written) in result.out
    again = cli("--data-dir", _store_dir(demo_store), "minutes", hearing[:12])
    assert again.code != 0
    assert "already exists" in again.err and len(again.err.strip().splitlines()) == 1
    forced = cli("--data-dir", _store_dir(demo_store), "minutes", hearing[:12], "--force")
    assert forced.code == 0


def test_cli_month_html_and_markdown_to_stdout(demo_store: Store, hearing: str, cli: Cli) -> None:
    out = Path(os.environ["DXFIELD_DOCUMENTS_DIR"]) / "oct.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ("--data-dir", _store_dir(demo_store), "minutes")
    result = cli(*args, "--municipality", "多可町", "--month", "2024-10", "--format", "html",
                 "--out", str(out))  # fmt: skip
    assert result.code == 0, result.err
    assert "多可町 保健福祉DXヒアリング" in out.read_text()
    shown = cli(*args, hearing, "--format", "md", "--out", "-")
    assert shown.out.startswith("# 議事録（多可町 保健福祉DXヒアリング）")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("zzzz",), "no activity with id"),
        ((), "give activity ids"),
        (("--municipality", "多可町"), "go together"),
        (("ID", "--municipality", "多可町", "--month", "2024-10"), "not both"),
        (("--municipality", "多可町", "--month", "2024-12"), "no activity of"),
        (("--municipality", "どこでもない町", "--month", "2024-10"), "どこでもない町"),
        (("HEARING", "--format", "pdf"), "format must be one of"),
        (("HEARING", "--out", "/nonexistent-folder/m.docx"), "does not exist"),
    ],
)
def test_cli_errors_are_one_line(
    demo_store: Store, hearing: str, cli: Cli, args: tuple[str, ...], words: str
) -> None:
    given = [hearing if a == "HEARING" else a for a in args]
    result = cli("--data-dir", _store_dir(demo_store), "minutes", *given)
    assert result.code != 0
    assert words in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err


def test_cli_errors_in_japanese(demo_store: Store, cli: Cli) -> None:
    args = ("--lang", "ja", "--data-dir", _store_dir(demo_store), "minutes")
    result = cli(*args, "--municipality", "多可町", "--month", "2024-12")
    assert "令和6年12月の'多可町'の活動はありません" in result.err


# -- printed: HTML through Chromium, Word through LibreOffice -----------------------------------


def _chromium() -> str | None:
    for candidate in (os.environ.get("DXFIELD_CHROMIUM", ""), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def _pdf_fonts(pdf: Path) -> str:
    return subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True, timeout=60
    ).stdout


@pytest.mark.slow
def test_html_prints_to_an_a4_pdf_with_a_cjk_font(
    demo_store: Store, hearing: str, tmp_path: Path
) -> None:
    browser = _chromium()
    if browser is None or shutil.which("pdffonts") is None:
        if os.environ.get("DXFIELD_REQUIRE_BROWSER"):
            pytest.fail("no Chromium or pdffonts on this machine")
        pytest.skip("needs Chromium and pdffonts")
    html = tmp_path / "m.html"
    html.write_bytes(render(build_minutes(demo_store, [hearing]), "html"))
    pdf = tmp_path / "m.pdf"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", html.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    fonts = _pdf_fonts(pdf)
    assert re.search(r"CJK|Gothic|Mincho|IPA|Han|JP", fonts), fonts
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60)
    assert "(A4)" in info.stdout


@pytest.mark.dated
def test_written_on_is_today_in_wareki(
    demo_store: Store, hearing: str, moved_clock: dt.date
) -> None:
    from dxfield.domain.dates import to_wareki

    assert build_minutes(demo_store, [hearing]).written_on == to_wareki(moved_clock)
