"""The prefecture's report: its content against the demo dataset item by item, the scope (as-of
date, municipalities, fiscal year), personal information, escaping, and the CLI."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from dxfield import clock
from dxfield.demo.loader import demo_id, load_dataset
from dxfield.domain.enums import FindingKind, SupportArea
from dxfield.i18n import LocalizedError
from dxfield.report.content import build_report, make_scope, not_applicable, undated
from dxfield.report.render import cell, md, render_html, render_markdown
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.followups import add_action, add_finding, list_initiatives
from dxfield.store.organizations import add_organization
from dxfield.store.programme import get_programme, set_programme
from dxfield.store.tracks import add_track, builtin_model_id, move_track
from tests.conftest import Cli, DemoLoader

AS_OF = dt.date(2024, 10, 31)


def _markdown(store: Store, **scope: object) -> str:
    return render_markdown(build_report(store, make_scope(store, **scope)))  # type: ignore[arg-type]


def _sections(text: str) -> dict[str, str]:
    """Each municipality's part of the Markdown (from its ### heading to the next one)."""
    body = text.split("## 県及び各市町の取組概要", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (.+)$", body, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _under(section: str, heading: str) -> str:
    """The part of a section under a #### or ##### heading, up to the next heading of any level."""
    start = section.index(heading)
    rest = section[start + len(heading) :]
    following = re.search(r"^#{2,5} ", rest, flags=re.MULTILINE)
    return rest[: following.start()] if following else rest


def test_the_demo_report_holds_every_part_of_the_source_document(demo_store: Store) -> None:
    dataset = load_dataset()
    text = _markdown(demo_store, as_of=AS_OF)
    programme = dataset["programme"]

    assert text.startswith(f"# {programme['title']}\n")
    for line in programme["overview"].splitlines():
        assert f"\n{line}\n" in text
    for heading in ("## 概要", "## 支援地域及び伴走支援事業者", "## 県及び各市町の取組概要"):
        assert f"\n{heading}\n" in text

    names = {s.initiative.id: s.municipality for s in list_initiatives(demo_store)}
    orgs = {o["key"]: o["name"] for o in dataset["organizations"]}
    sections = _sections(text)
    provider_table = text.split("## 支援地域及び伴走支援事業者", 1)[1].split("\n## ", 1)[0]
    assert len(sections) == len(dataset["initiatives"])
    for initiative in dataset["initiatives"]:
        name = names[demo_id("initiative", initiative["key"])]
        section = sections[name]
        assert initiative["background"] in section
        assert initiative["theme"] in section and initiative["title"] in section
        roles: dict[str, list[str]] = {"representative": [], "resident": []}
        for link in initiative["providers"]:
            roles[link["role"]].append(orgs[link["org"]])
        if initiative["providers"]:
            row = f"| {md(name)} | {cell(initiative['title'])} | {'、'.join(roles['representative'])} | {'、'.join(roles['resident'])} |"
            assert row in provider_table
            for provider in roles["representative"] + roles["resident"]:
                assert provider in section
        else:
            assert f"| {name} |" not in provider_table

        for area in SupportArea:
            under = _under(section, f"##### {area.ja}\n")
            expected = [
                f["text"]
                for f in dataset["findings"]
                if f["initiative"] == initiative["key"]
                and f.get("area") == area.value
                and f["kind"] == "outcome"
            ]
            assert [line[2:] for line in under.strip().splitlines()] == (
                expected or [not_applicable()]
            )

        for finding in dataset["findings"]:
            if finding["initiative"] == initiative["key"] and finding["kind"] != "outcome":
                group = _under(section, f"**{FindingKind(finding['kind']).ja}**\n")
                assert f"- {finding['text']}\n" in group

        heading = "#### 地域DX推進に向けた今後の取組方針(令和6年10月時点)\n"
        items = [a["text"] for a in dataset["actions"] if a["initiative"] == initiative["key"]]
        listed = [line[2:] for line in _under(section, heading).strip().splitlines()]
        assert [re.sub(r"\((予定|進行中|完了|中止)[^)]*\)$", "", line) for line in listed] == items


def test_the_tallies_count_each_activity_once_by_kind_and_month(demo_store: Store) -> None:
    report = build_report(demo_store, make_scope(demo_store, as_of=AS_OF))
    assert report.by_kind.columns == [f"{m}月" for m in range(4, 11)] + [undated()]
    assert sum(report.by_kind.totals) == sum(report.by_municipality.totals) == 27
    months = dict(zip(report.by_municipality.columns, report.by_municipality.totals, strict=True))
    # The document's three dated activities: 6月25日 (多可町), 7月17日 (豊岡市), 10月下旬 (西宮市).
    assert (months["6月"], months["7月"], months["10月"], months[undated()]) == (1, 1, 1, 24)
    by_place = dict(report.by_municipality.rows)
    assert by_place["多可町"][2] == 1 and by_place["豊岡市"][3] == 1 and by_place["西宮市"][6] == 1


def test_the_report_is_as_of_its_date(store: Store) -> None:
    initiative = _initiative(store)
    community = add_organization(store, kind="community", name="奥矢根区", parent="豊岡市")
    add_activity(store, _activity("夏の説明会", "2024-07-10"))
    add_activity(store, _activity("秋のワークショップ", "2024-11-20"))
    add_finding(store, kind="outcome", text="夏の成果", initiative=initiative, area="vision",
                date="2024-07-31")  # fmt: skip
    add_finding(store, kind="outcome", text="冬の成果", initiative=initiative, area="vision",
                date="2024-12-15")  # fmt: skip
    add_action(store, text="秋の方針", initiative=initiative, as_of="2024-09-30")
    add_action(store, text="冬の方針", initiative=initiative, as_of="2024-12-15")
    add_track(store, community=community.id, model=builtin_model_id(), initiative=initiative)
    move_track(store, community.id, to="survey", date="2024-07-10", no_evidence=True)
    move_track(store, community.id, to="dialogue", date="2024-11-20", no_evidence=True)

    autumn = _markdown(store, as_of="2024-09-30")
    assert "夏の説明会" in autumn and "秋のワークショップ" not in autumn
    assert "夏の成果" in autumn and "冬の成果" not in autumn
    assert "秋の方針" in autumn and "冬の方針" not in autumn
    assert "今後の取組方針(令和6年9月時点)" in autumn
    assert "| 奥矢根区 | 豊岡市型 住民合意形成4段階 | 1/4 初期調査 | 2024年7月10日 |" in autumn

    winter = _markdown(store, as_of="2024-12-31")
    assert "秋のワークショップ" in winter and "冬の成果" in winter and "冬の方針" in winter
    assert "今後の取組方針(令和6年12月時点)" in winter
    assert "2/4 文脈の伝達と対話による信頼関係の構築 | 2024年11月20日 |" in winter


@pytest.mark.dated
def test_overdue_actions_are_listed_as_of_the_date(store: Store) -> None:
    initiative = _initiative(store)
    add_action(store, text="年内の実証実験", initiative=initiative, due="2024-12-27",
               as_of="2024-10-31")  # fmt: skip
    add_action(store, text="済んだ準備", initiative=initiative, due="2024-08-01",
               as_of="2024-10-31", status="done")  # fmt: skip
    before = build_report(store, make_scope(store, as_of="2024-12-27"))
    after = build_report(store, make_scope(store, as_of="2024-12-28"))
    assert before.overdue == []
    assert [(a.text, a.municipality) for a in after.overdue] == [("年内の実証実験", "豊岡市")]
    text = render_markdown(after)
    assert (
        "| 豊岡市 | 年内の実証実験 | 2024年12月27日 | 予定 |"
        in text.split("## 期限を過ぎた今後の取組")[1]
    )
    assert "- 年内の実証実験(予定、期限 2024年12月27日、**期限超過**)" in text
    assert "期限を過ぎた今後の取組はありません。" in render_markdown(before)


def test_municipalities_and_fiscal_year_narrow_the_report(demo_store: Store) -> None:
    text = _markdown(demo_store, as_of=AS_OF, municipalities=["豊岡市", "282022"])
    assert list(_sections(text)) == ["尼崎市", "豊岡市"]
    assert "対象: 尼崎市、豊岡市" in text
    assert "西宮市" not in text
    other_year = build_report(demo_store, make_scope(demo_store, fiscal_year=2025))
    assert other_year.sections == [] and other_year.activity_count == 0


def test_personal_information_stays_out_unless_asked(store: Store) -> None:
    initiative = _initiative(store)
    given = _activity("区長との意見交換", "2024-07-10")
    given.participants_text = "区長 山田太郎"
    given.notes = "山田さんの自宅前で実施"
    given.location = "山田さん宅"
    add_activity(store, given)
    add_action(
        store, text="次の説明会", initiative=initiative, owner="鈴木花子", as_of="2024-10-31"
    )
    for render in (render_markdown, render_html):
        plain = render(build_report(store, make_scope(store, as_of=AS_OF)))
        assert "区長との意見交換" in plain
        assert "山田" not in plain and "鈴木" not in plain
        full = render(build_report(store, make_scope(store, as_of=AS_OF, include_personal=True)))
        assert "区長 山田太郎" in full and "山田さんの自宅前" in full and "鈴木花子" in full
        assert "山田さん宅" in full


def test_text_is_escaped_for_markdown_and_html(store: Store) -> None:
    _initiative(store, title="A|B *強調* <script>alert(1)</script>")
    markdown = _markdown(store, as_of=AS_OF)
    row = next(line for line in markdown.splitlines() if line.startswith("| 豊岡市 |"))
    assert row.count(" | ") == 3  # four cells: the | in the title is escaped
    assert r"A\|B \*強調\* \<script\>" in row
    html = render_html(build_report(store, make_scope(store, as_of=AS_OF)))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_html_is_self_contained(demo_store: Store) -> None:
    html = render_html(build_report(demo_store, make_scope(demo_store, as_of=AS_OF)))
    assert not re.search(r"""(src|href)\s*=|@import|url\(|<script""", html)
    assert html.count("<svg") == 2  # activities per month, and one funnel
    assert "@page { size: A4" in html and "Hiragino" in html and "Noto Sans CJK JP" in html


@pytest.mark.dated
def test_the_programme_setting_has_defaults_and_can_be_changed(store: Store) -> None:
    assert get_programme(store).overview == ""
    set_programme(store, title="地域DX 令和7年度", overview="一行目\n二行目", fiscal_year="2025")
    programme = get_programme(store)
    assert (programme.title, programme.fiscal_year) == ("地域DX 令和7年度", 2025)
    assert make_scope(store, today=dt.date(2026, 11, 27)).as_of == dt.date(2026, 3, 31)
    assert make_scope(store, today=dt.date(2025, 6, 1)).as_of == dt.date(2025, 6, 1)


# -- the command line ----------------------------------------------------------------------------


def _run(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, result.err
    return result.out


def test_report_writes_markdown_and_html_by_the_file_name(
    cli: Cli, with_demo: DemoLoader, tmp_path: Path
) -> None:
    demo = ("--data-dir", str(tmp_path / "demo"))
    with_demo(tmp_path / "demo")
    md_file, html_file = tmp_path / "report.md", tmp_path / "report.html"
    out = _run(cli, *demo, "report", "--out", str(md_file), "--as-of", "R6.10.31")
    assert "7 municipalities, 27 activities" in out
    assert md_file.read_text(encoding="utf-8").startswith(
        "# 総務省の支援事業を活用した地域DXの取組"
    )
    _run(cli, *demo, "report", "--out", str(html_file), "--municipality", "豊岡市")
    html = html_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'data-municipality="豊岡市"' in html
    assert _run(cli, *demo, "report", "--as-of", "2024-10-31").startswith("# 総務省")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2024-13-01"], "as-of date"),
        (["--municipality", "東京都千代田区"], "municipality"),
        (["--fiscal-year", "24"], "fiscal year"),
        (["--format", "pdf"], "format must be one of: md, html"),
        (["--out", "report.txt"], "cannot tell the format from 'report.txt'"),
    ],
)
def test_report_refuses_bad_input_in_one_line(
    cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    out = ["--out", str(tmp_path / "r.md")] if "--out" not in args else []
    result = cli("report", *out, *args)
    assert result.code == 1
    assert message in result.err and result.err.count("\n") == 1
    assert not (tmp_path / "r.md").exists()


def test_a_report_that_cannot_be_written_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("report", "--out", str(tmp_path / "missing" / "r.md"))
    assert result.code == 1 and result.err.startswith("error: ")
    assert not (tmp_path / "missing").exists()


def test_programme_set_and_show(cli: Cli, tmp_path: Path) -> None:
    overview = tmp_path / "overview.txt"
    overview.write_text("\ufeff一段落目。\n二段落目。\n", encoding="utf-8")
    _run(cli, "programme", "set", "--title", "地域DXの取組", "--overview-file", str(overview),
         "--fiscal-year", "2024")  # fmt: skip
    shown = _run(cli, "programme", "show")
    assert shown.splitlines()[:2] == ["地域DXの取組", "fiscal_year: 2024"]
    assert "一段落目。\n二段落目。" in shown
    bad = tmp_path / "bad.txt"
    bad.write_bytes("概要".encode("shift_jis"))
    result = cli("programme", "set", "--overview-file", str(bad))
    assert result.code == 1 and "not UTF-8" in result.err
    assert "一段落目。" in _run(cli, "programme", "show")


# -- helpers --------------------------------------------------------------------------------------


def _initiative(store: Store, *, title: str = "「配送DX」を中心に地域DXを推進") -> str:
    from dxfield.store import records
    from dxfield.store.organizations import resolve_municipality

    provider = add_organization(store, kind="provider", name="(一社)コード・フォー・ジャパン")
    created = records.create(
        store,
        "initiative",
        {
            "municipality_id": resolve_municipality(store, "豊岡市"),
            "theme": "配送DX",
            "title": title,
            "fiscal_year": 2024,
            "providers": [{"org_id": provider.id, "role": "resident"}],
        },
    )
    return str(created.id)


def _activity(title: str, date: str) -> ActivityInput:
    return ActivityInput(title=title, kind="briefing", date=date, municipality="豊岡市")


def test_the_preview_lists_a_few_activities_of_each_kind_and_says_how_many_more(
    store: Store,
) -> None:
    _initiative(store)
    for day in range(1, 16):
        add_activity(store, _activity(f"説明会{day:02d}", f"2024-07-{day:02d}"))
    report = build_report(store, make_scope(store, as_of=AS_OF))
    preview = render_markdown(report, preview_limit=10)
    assert re.findall(r"説明会\d\d", preview) == [f"説明会{day:02d}" for day in range(1, 11)]
    assert "ほか 5件" in preview
    whole = render_markdown(report)
    assert all(f"説明会{day:02d}" in whole for day in range(1, 16)) and "ほか" not in whole


@pytest.mark.dated
def test_the_fiscal_year_runs_from_april_to_march(store: Store) -> None:
    _initiative(store)
    add_activity(store, _activity("年度末の会議", "2025-03-31"))
    add_activity(store, _activity("新年度の会議", "2025-04-01"))
    fy2024 = _markdown(store, fiscal_year=2024, as_of="2025-04-30")
    assert "年度末の会議" in fy2024 and "新年度の会議" not in fy2024
    assert "| 計 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 1 | 0 | 1 |" in fy2024
    fy2025 = _markdown(store, as_of="2025-04-30")  # the as-of date's year
    assert "新年度の会議" in fy2025 and "年度末の会議" not in fy2025


def test_an_as_of_date_before_the_fiscal_year_is_refused(store: Store) -> None:
    with pytest.raises(LocalizedError) as caught:
        make_scope(store, fiscal_year=2025, as_of="2024-10-31")
    assert caught.value.field == "as_of" and "before fiscal year 2025" in caught.value.message("en")
    set_programme(store, fiscal_year=2024)
    assert make_scope(store, as_of="2025-06-01").fiscal_year == 2025  # the date says which year


def test_a_municipality_asked_for_has_a_section_even_without_records(store: Store) -> None:
    text = _markdown(store, as_of=AS_OF, municipalities=["神戸市"])
    section = _sections(text)["神戸市"]
    assert "(この期間の活動は記録されていません)" in section
    assert section.count(f"- {not_applicable()}\n") == 3
    assert "対象: 神戸市" in text


@pytest.mark.dated
def test_records_outside_the_year_or_recorded_later_stay_out(store: Store) -> None:
    from dxfield.store import records
    from dxfield.store.organizations import resolve_municipality

    current = _initiative(store)
    earlier = records.create(
        store,
        "initiative",
        {"municipality_id": resolve_municipality(store, "豊岡市"), "theme": "旧DX",
         "title": "令和4年度の取組", "fiscal_year": 2022},
    ).id  # fmt: skip
    community = add_organization(store, kind="community", name="竹野地区", parent="豊岡市")
    add_track(store, community=community.id, model=builtin_model_id(), initiative=earlier)
    move_track(store, community.id, to="survey", date="2022-06-01", no_evidence=True)
    add_finding(store, kind="insight", text="日付のない知見", initiative=current)
    records.create(
        store,
        "initiative",
        {"municipality_id": resolve_municipality(store, "明石市"), "theme": "継続DX",
         "title": "年度のない取組"},
    )  # fmt: skip
    past = build_report(store, make_scope(store, as_of=AS_OF))
    text = render_markdown(past)
    assert "令和4年度の取組" not in text and "竹野地区" not in text and past.funnels == []
    assert "日付のない知見" not in text  # recorded today, after the as-of date
    # An initiative without a year is in the years since it was recorded (today).
    assert "明石市" not in text
    today = clock.today().isoformat()
    assert "日付のない知見" in _markdown(store, fiscal_year=2024, as_of=today)
    assert "### 明石市" in _markdown(store, as_of=today)


def test_markdown_line_starts_and_marks_show_as_typed(store: Store) -> None:
    from dxfield.store import records
    from dxfield.store.organizations import resolve_municipality

    records.create(
        store,
        "initiative",
        {"municipality_id": resolve_municipality(store, "豊岡市"), "theme": "配送DX",
         "title": "配送", "fiscal_year": 2024,
         "background": "---\n\t字下げ\n1. 番号\n- 箇条\n# 見出し\n~~取消~~ &copy;"},
    )  # fmt: skip
    from markdown_it import MarkdownIt

    html = MarkdownIt("gfm-like").render(_markdown(store, as_of=AS_OF))
    assert "<hr" not in html and "<pre" not in html and "<ol" not in html and "<s>" not in html
    assert "<h1>地域DXの取組</h1>" in html and html.count("<h1>") == 1
    for line in ("---", "字下げ", "1. 番号", "- 箇条", "# 見出し", "~~取消~~ &amp;copy;"):
        assert f"{line}\n" in html or f"{line}</p>" in html


def test_file_names_say_the_date_and_the_municipalities(demo_store: Store) -> None:
    from dxfield.report.render import report_file_stem

    def stem(*places: str) -> str:
        scope = make_scope(demo_store, as_of=AS_OF, municipalities=places)
        return report_file_stem(build_report(demo_store, scope))

    assert stem() == "dxfield-report-2024-10-31"
    assert stem("豊岡市", "尼崎市") == "dxfield-report-2024-10-31-尼崎市-豊岡市"
    four = stem("豊岡市", "尼崎市", "西宮市", "加西市")
    assert four.startswith("dxfield-report-2024-10-31-尼崎市-ほか3-")
    assert four != stem("豊岡市", "尼崎市", "西宮市", "多可町")


def test_every_word_of_the_report_comes_from_the_catalogue(demo_store: Store) -> None:
    """Under a pseudo-locale that wraps every translated string, the report's headings, table
    heads and fixed words are all wrapped: none is written in the template or the code."""
    import gettext

    from dxfield.i18n import forced_catalogue

    class Wrapped(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return f"⟦{message}⟧"

        def ngettext(self, singular: str, plural: str, n: int) -> str:
            return f"⟦{singular if n == 1 else plural}⟧"

        def pgettext(self, context: str, message: str) -> str:
            return f"⟦{message}⟧"

    with forced_catalogue(Wrapped()):
        report = build_report(demo_store, make_scope(demo_store, as_of=AS_OF))
        text = render_markdown(report)
        html = render_html(report)
    headings = [line for line in text.splitlines() if line.startswith("##")]
    # "###" name the municipalities and stage models, "#####" the support areas (the domain's
    # labels); the others are the report's own.
    fixed = [h for h in headings if h.split(" ")[0] in ("##", "####")]
    assert fixed and all("⟦" in h for h in fixed), fixed
    assert "| ⟦Area⟧ | ⟦Field of work⟧ |" in text and "⟦, ⟧" in text
    assert "⟦month unknown⟧" in text and "⟦month {month}⟧" not in text  # filled in
    for fixed_word in (
        "## 概要",
        "| 計 |",
        "時点)",
        "**期限超過**",
        "- 該当なし\n",
        "月不明",
        "参加: ",
    ):
        assert fixed_word not in text, fixed_word
    assert "<h2>⟦Overview⟧</h2>" in html and '<th class="n">⟦Total⟧</th>' in html


def test_each_error_code_of_sync_report_and_demo_reads_in_both_languages() -> None:
    """Every code these areas raise has its message in both catalogues, with its values put in:
    Japanese words under Japanese, none under English, and no command or flag named."""
    import string

    import dxfield.demo.service
    import dxfield.report.render
    import dxfield.report.tables
    import dxfield.sync.bundle  # noqa: F401  (registers their codes)
    from dxfield.i18n import registered_problems

    areas = ("bundle.", "card.", "device.", "report.", "table.", "demo.")
    codes = {c: m for c, m in registered_problems().items() if c.startswith(areas)}
    assert len(codes) > 50
    for code, message in codes.items():
        names = {name for _, name, _, _ in string.Formatter().parse(message) if name}
        error = LocalizedError(code, **{name: "X" for name in names})
        ja, en = error.message("ja"), error.message("en")
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja), code
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", en), code
        assert "--" not in ja + en and "keys trust" not in ja + en, code
