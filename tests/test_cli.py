"""The command line, as scripts and people use it: verbs, --json, and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from dxfield import clock
from tests.conftest import Cli, CliResult, DemoLoader, add_activity_args


def _dump(cli, data_dir: Path) -> str:
    result = cli("--data-dir", str(data_dir), "dump")
    assert result.code == 0, result.err
    return str(result.out)


def _add(cli, data_dir: Path, *extra: str) -> CliResult:
    return cli(
        "--data-dir",
        str(data_dir),
        "activity",
        "add",
        "--municipality",
        "豊岡市",
        "--kind",
        "workshop",
        "--date",
        "2024-07-17",
        "--title",
        "奥矢根区 意見交換会",
        *extra,
    )


def test_add_prints_the_id_and_the_record_with_json(cli: Cli, data_dir: Path) -> None:
    result = _add(
        cli,
        data_dir,
        "--notes",
        "農業と配送",
        "--area",
        "vision",
        "--area",
        "talent",
        "--location",
        "但東町",
        "--tag",
        "ドローン",
    )
    assert result.code == 0 and result.err == ""
    activity_id = result.out.strip()
    shown = cli("--data-dir", str(data_dir), "activity", "show", activity_id, "--json")
    record = json.loads(shown.out)
    assert record["title"] == "奥矢根区 意見交換会"
    assert record["date"] == "2024-07-17"
    assert record["areas"] == ["vision", "talent"]
    assert record["tags"] == ["ドローン"]
    as_json = _add(cli, data_dir, "--json")
    assert json.loads(as_json.out)["kind"] == "workshop"


def test_dates_in_wareki_and_codes_for_municipalities(cli: Cli, data_dir: Path) -> None:
    result = cli(
        "--data-dir",
        str(data_dir),
        "activity",
        "add",
        "--municipality",
        "282090",
        "--kind",
        "視察",
        "--date",
        "R6.7.17",
        "--title",
        "西米良村",
        "--json",
    )
    record = json.loads(result.out)
    assert record["date"] == "2024-07-17" and record["kind"] == "site_visit"


def test_edit_and_delete_keep_history(cli: Cli, data_dir: Path) -> None:
    activity_id = _add(cli, data_dir).out.strip()
    edited = cli(
        "--data-dir",
        str(data_dir),
        "activity",
        "edit",
        activity_id,
        "--title",
        "資母地区 説明会",
        "--date",
        "令和6年8月1日",
        "--json",
    )
    assert json.loads(edited.out)["date"] == "2024-08-01"
    unchanged = cli(
        "--data-dir", str(data_dir), "activity", "edit", activity_id, "--title", "資母地区 説明会"
    )
    assert "nothing changed" in unchanged.out
    deleted = cli("--data-dir", str(data_dir), "activity", "delete", activity_id)
    assert deleted.code == 0
    history = json.loads(cli("--data-dir", str(data_dir), "history", activity_id, "--json").out)
    assert history["entity"] == "activity"
    assert [r["deleted"] for r in history["revisions"]] == [False, False, True]
    assert "title" in history["revisions"][1]["changed"]
    text = cli("--data-dir", str(data_dir), "history", activity_id[:12])
    assert text.code == 0 and text.out.count("\n") >= 6
    gone = cli("--data-dir", str(data_dir), "activity", "show", activity_id)
    assert gone.code == 1 and gone.err.startswith("error:")
    dump = json.loads(_dump(cli, data_dir))
    tombstone = next(r for r in dump["records"] if r["id"] == activity_id)
    assert tombstone["deleted"] is True


def test_list_filters_and_orders_newest_first(
    cli: Cli, with_demo: DemoLoader, data_dir: Path
) -> None:
    with_demo(data_dir)
    demo = data_dir
    rows = json.loads(cli("--data-dir", str(demo), "activity", "list", "--json").out)
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True) and dates[0] == "2024-10-21"
    toyooka = json.loads(
        cli("--data-dir", str(demo), "activity", "list", "--municipality", "豊岡市", "--json").out
    )
    assert toyooka and {r["municipality"] for r in toyooka} == {"豊岡市"}
    visits = json.loads(
        cli("--data-dir", str(demo), "activity", "list", "--kind", "site_visit", "--json").out
    )
    assert [r["title"] for r in visits] == ["西米良村への訪問"]
    summer = json.loads(
        cli(
            "--data-dir",
            str(demo),
            "activity",
            "list",
            "--from",
            "2024/6/1",
            "--to",
            "令和6年7月31日",
            "--json",
        ).out
    )
    assert [r["date"] for r in summer] == ["2024-07-17", "2024-06-25"]
    text = cli("--data-dir", str(demo), "activity", "list")
    assert "令和6年度" in text.out or "FY2024" in text.out


def test_org_add_with_parent_and_kana_order(cli: Cli, data_dir: Path) -> None:
    added = cli(
        "--data-dir",
        str(data_dir),
        "org",
        "add",
        "--kind",
        "community",
        "--name",
        "奥矢根区",
        "--kana",
        "おくやねく",
        "--parent",
        "豊岡市",
        "--json",
    )
    assert added.code == 0, added.err
    record = json.loads(added.out)
    orgs = json.loads(cli("--data-dir", str(data_dir), "org", "list", "--json").out)
    toyooka = next(o for o in orgs if o["name"] == "豊岡市")
    assert record["parent_id"] == toyooka["id"]
    kana = [o["kana"] or o["name"] for o in orgs]
    assert kana == sorted(kana)
    dup = cli(
        "--data-dir",
        str(data_dir),
        "org",
        "add",
        "--kind",
        "municipality",
        "--name",
        "偽豊岡市",
        "--code",
        "282090",
    )
    assert dup.code == 1 and "already belongs to 豊岡市" in dup.err


def test_org_edit_sets_a_reading_where_the_guess_is_wrong(cli: Cli, data_dir: Path) -> None:
    base = ("--data-dir", str(data_dir), "org")
    assert cli(*base, "add", "--kind", "other", "--name", "多可観光協会").code == 0
    listed = cli(*base, "list", "--kind", "other").out
    assert "たかかんこうきょうかい (guessed)" in listed  # the reading pick lists find it by
    edited = cli(*base, "edit", "多可観光協会", "--kana", "タカカンコウキョウカイ", "--json")
    assert edited.code == 0, edited.err
    assert json.loads(edited.out)["kana"] == "タカカンコウキョウカイ"
    assert (
        "nothing changed"
        in cli(*base, "edit", "多可観光協会", "--kana", "タカカンコウキョウカイ").out
    )
    assert "(guessed)" not in cli(*base, "list", "--kind", "other").out
    cleared = cli(*base, "edit", "多可観光協会", "--kana", "", "--json")
    assert json.loads(cleared.out)["kana"] is None
    # A municipality of the reference list too: its reading is an edit, synced like any.
    shiso = cli(*base, "edit", "282278", "--kana", "しそうし", "--json")
    assert shiso.code == 0 and json.loads(shiso.out)["name"] == "宍粟市"
    missing = cli(*base, "edit", "どこにもない町", "--kana", "どこ")
    assert missing.code == 1 and "no organization" in missing.err


def test_initiatives_findings_and_actions(cli: Cli, with_demo: DemoLoader, data_dir: Path) -> None:
    with_demo(data_dir)
    initiatives = json.loads(cli("--data-dir", str(data_dir), "initiative", "list", "--json").out)
    toyooka = next(i for i in initiatives if i["municipality"] == "豊岡市")
    assert toyooka["theme"] == "配送DX"
    finding = cli(
        "--data-dir",
        str(data_dir),
        "finding",
        "add",
        "--kind",
        "insight",
        "--text",
        "出口側から始める",
        "--initiative",
        toyooka["id"],
        "--area",
        "vision",
    )
    assert finding.code == 0, finding.err
    findings = json.loads(
        cli(
            "--data-dir",
            str(data_dir),
            "finding",
            "list",
            "--initiative",
            toyooka["id"],
            "--kind",
            "insight",
            "--json",
        ).out
    )
    assert "出口側から始める" in [f["text"] for f in findings]
    action_id = cli(
        "--data-dir",
        str(data_dir),
        "action",
        "add",
        "--text",
        "実証実験の振り返り",
        "--initiative",
        toyooka["id"],
        "--due",
        "2024-01-10",
    ).out.strip()
    listed = json.loads(cli("--data-dir", str(data_dir), "action", "list", "--open", "--json").out)
    mine = next(a for a in listed if a["id"] == action_id)
    assert mine["overdue"] is True and mine["status"] == "planned"
    assert cli("--data-dir", str(data_dir), "action", "done", action_id).code == 0
    again = cli("--data-dir", str(data_dir), "action", "done", action_id)
    assert "already done" in again.out
    done = json.loads(
        cli("--data-dir", str(data_dir), "action", "list", "--status", "done", "--json").out
    )
    assert [a["id"] for a in done] == [action_id] and done[0]["overdue"] is False


def test_search_finds_across_records(cli: Cli, with_demo: DemoLoader, data_dir: Path) -> None:
    with_demo(data_dir)
    result = json.loads(cli("--data-dir", str(data_dir), "search", "ドローン", "--json").out)
    assert result["total"] >= 2
    assert {h["title"] for h in result["hits"]} >= {"ドローン配送説明会"}
    both = json.loads(cli("--data-dir", str(data_dir), "search", "窓口", "体験", "--json").out)
    assert all(h["entity"] in {"activity", "finding", "action"} for h in both["hits"])
    assert "窓口体験調査" in {h["title"] for h in both["hits"]}


def test_demo_then_dump_shows_the_whole_document(cli: Cli, data_dir: Path) -> None:
    assert cli("--data-dir", str(data_dir), "demo", "--no-open").code == 0
    dump = json.loads(_dump(cli, data_dir))
    kinds = {r["type"] for r in dump["records"]}
    assert kinds >= {
        "organization",
        "initiative",
        "activity",
        "finding",
        "action",
        "stage_model",
        "engagement_track",
        "stage_move",
    }
    ids = [r["id"] for r in dump["records"]]
    assert ids == sorted(ids)
    again = cli("--data-dir", str(data_dir), "demo", "--no-open")
    assert again.code == 0 and json.loads(_dump(cli, data_dir)) == dump


def test_demo_lives_under_the_data_dir_and_resets(cli: Cli, data_dir: Path) -> None:
    assert cli("demo", "--no-open").code == 0  # DXFIELD_DATA_DIR points into the test's folder
    demo_dir = data_dir / "demo"
    assert (demo_dir / "dxfield.sqlite3").exists()
    activity = _add(cli, demo_dir).out.strip()
    assert cli("demo", "--no-open", "--reset").code == 0
    assert cli("--data-dir", str(demo_dir), "activity", "show", activity).code == 1


def test_demo_refuses_a_real_store(cli: Cli, data_dir: Path) -> None:
    _add(cli, data_dir)
    before = _dump(cli, data_dir)
    for args in (("demo", "--no-open"), ("demo", "--no-open", "--reset")):
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 1 and "not the demo's" in result.err
    assert _dump(cli, data_dir) == before


def test_backup_is_a_consistent_copy(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    cli("--data-dir", str(data_dir), "demo", "--no-open")
    (tmp_path / "backups").mkdir()
    out = tmp_path / "backups" / "field.sqlite3"
    result = cli("--data-dir", str(data_dir), "backup", "--out", str(out))
    assert result.code == 0, result.err
    raw = sqlite3.connect(out)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    assert not list(out.parent.glob("*.tmp"))
    restored = tmp_path / "restored"
    restored.mkdir()
    out.rename(restored / "dxfield.sqlite3")
    assert _dump(cli, restored) == _dump(cli, data_dir)


def test_check_reports_integrity_schema_and_counts(cli: Cli, data_dir: Path) -> None:
    cli("--data-dir", str(data_dir), "demo", "--no-open")
    report = json.loads(cli("--data-dir", str(data_dir), "check", "--json").out)
    assert report["ok"] is True and report["integrity"] == "ok"
    assert report["counts"]["activity"]["live"] >= 20
    assert report["schema_revision"] == report["schema_head"]
    text = cli("--data-dir", str(data_dir), "check")
    assert "integrity_check: ok" in text.out


def test_init_names_the_device(cli: Cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), "init", "--device-name", "豊岡リエゾン")
    assert result.code == 0 and "豊岡リエゾン" in result.out
    report = json.loads(cli("--data-dir", str(data_dir), "check", "--json").out)
    assert report["device_name"] == "豊岡リエゾン"


BAD_INPUTS = [
    pytest.param(add_activity_args(date="2024-02-30"), "date", id="impossible-date"),
    pytest.param(add_activity_args(date="令和6年13月1日"), "date", id="impossible-wareki"),
    pytest.param(add_activity_args(municipality="豊岡"), "municipality", id="unknown-municipality"),
    pytest.param(add_activity_args(municipality="282091"), "code", id="wrong-code"),
    pytest.param(add_activity_args(title="  "), "title", id="empty-title"),
    pytest.param(add_activity_args(kind="party"), "kind", id="unknown-kind"),
    pytest.param(add_activity_args(area="budget"), "area", id="unknown-area"),
    pytest.param(add_activity_args(initiative="deadbeef"), "initiative", id="unknown-initiative"),
    pytest.param(
        ("activity", "edit", "01234567", "--title", "x"), "no activity", id="edit-unknown"
    ),
    pytest.param(("activity", "add", "--bogus"), "no option --bogus", id="unknown-option"),
    pytest.param(
        ("org", "add", "--kind", "municipality", "--name", "x", "--code", "123456"),
        "code",
        id="org-wrong-code",
    ),
    pytest.param(("action", "add", "--text", "x", "--due", "2024-13-01"), "due", id="bad-due"),
    pytest.param(("finding", "add", "--kind", "insight", "--text", " "), "text", id="empty-text"),
    pytest.param(("org", "import", "/nonexistent/file.csv"), "no file", id="missing-csv"),
    pytest.param(("track", "move", "奥矢根区", "--to", "group"), "evidence", id="no-evidence"),
    pytest.param(("track", "move", "奥矢根区", "--to", "ended"), "stage", id="unknown-stage"),
    pytest.param(("track", "move", "大阪城", "--to", "group"), "track", id="unknown-track"),
    pytest.param(("track", "add", "--community", "奥矢根区"), "already", id="second-track"),
    pytest.param(
        ("track", "add", "--community", "奥矢根区", "--model", "nope"), "nope", id="unknown-model"
    ),
    pytest.param(
        ("stage-model", "add", "--from-file", "/nonexistent/m.toml"), "no file", id="missing-toml"
    ),
    pytest.param(("finding", "edit", "0123456789", "--text", "x"), "finding", id="edit-finding"),
    pytest.param(("action", "delete", "0123456789"), "action", id="delete-action"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_INPUTS)
def test_bad_input_is_one_error_line_and_changes_nothing(
    cli: Cli, with_demo: DemoLoader, data_dir: Path, args: tuple[str, ...], fragment: str
) -> None:
    with_demo(data_dir)
    before = _dump(cli, data_dir)
    result = cli("--data-dir", str(data_dir), *args)
    assert result.code != 0
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.err
    assert fragment in lines[0]
    assert "Traceback" not in result.err
    assert _dump(cli, data_dir) == before


def test_errors_speak_japanese_under_a_japanese_locale(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DXFIELD_LANG")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    result = cli("--data-dir", str(data_dir), *add_activity_args(date="2024-02-30"))
    assert result.err.strip() == "エラー: 日付: '2024-02-30' は存在しない日付です"
    english = cli(
        "--lang", "en", "--data-dir", str(data_dir), *add_activity_args(date="2024-02-30")
    )
    assert english.err.strip() == "error: date: '2024-02-30' is not a real date"


def test_a_newer_store_is_refused_with_one_line(cli: Cli, data_dir: Path) -> None:
    _add(cli, data_dir)
    raw = sqlite3.connect(data_dir / "dxfield.sqlite3")
    raw.execute("UPDATE alembic_version SET version_num = 'zzzz'")
    raw.commit()
    raw.close()
    result = cli("--data-dir", str(data_dir), "activity", "list")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "newer dxfield" in result.err


def test_outputs_never_overwrite_the_store(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    _add(cli, data_dir)
    before = _dump(cli, data_dir)
    for verb in ("dump", "backup"):
        for name in ("dxfield.sqlite3", "dxfield.sqlite3-wal"):
            result = cli("--data-dir", str(data_dir), verb, "--out", str(data_dir / name))
            assert result.code == 1 and "dxfield's data folder" in result.err, result.err
    missing = cli("--data-dir", str(data_dir), "backup", "--out", str(tmp_path / "no" / "b.db"))
    assert missing.code == 1 and "does not exist" in missing.err
    assert _dump(cli, data_dir) == before
    check = json.loads(cli("--data-dir", str(data_dir), "check", "--json").out)
    assert check["ok"] is True


def test_a_data_dir_with_url_characters_is_a_plain_path(cli: Cli, tmp_path: Path) -> None:
    odd = tmp_path / "we?ird #1 100%"
    assert _add(cli, odd).code == 0
    assert (odd / "dxfield.sqlite3").stat().st_size > 0
    assert not (tmp_path / "we").exists()


def test_demo_reset_keeps_any_real_work(cli: Cli, data_dir: Path) -> None:
    finding = cli("--data-dir", str(data_dir), "finding", "add", "--kind", "issue", "--text", "x")
    assert finding.code == 0
    before = _dump(cli, data_dir)
    result = cli("--data-dir", str(data_dir), "demo", "--no-open", "--reset")
    assert result.code == 1 and "not the demo's" in result.err
    assert _dump(cli, data_dir) == before


def test_an_activity_stays_in_its_initiatives_municipality(
    cli: Cli, with_demo: DemoLoader, data_dir: Path
) -> None:
    with_demo(data_dir)
    initiatives = json.loads(cli("--data-dir", str(data_dir), "initiative", "list", "--json").out)
    toyooka = next(i["id"] for i in initiatives if i["municipality"] == "豊岡市")
    before = _dump(cli, data_dir)
    wrong = cli(
        "--data-dir", str(data_dir), *add_activity_args(municipality="尼崎市", initiative=toyooka)
    )
    assert wrong.code == 1 and "belongs to 豊岡市, not 尼崎市" in wrong.err
    assert _dump(cli, data_dir) == before
    added = json.loads(
        cli(
            "--data-dir",
            str(data_dir),
            "activity",
            "add",
            "--initiative",
            toyooka,
            "--kind",
            "meeting",
            "--date",
            "2024-11-01",
            "--title",
            "実証の準備",
            "--json",
        ).out
    )
    assert added["municipality_id"] == next(
        i["municipality_id"] for i in initiatives if i["id"] == toyooka
    )
    moved = cli(
        "--data-dir", str(data_dir), "activity", "edit", added["id"], "--municipality", "尼崎市"
    )
    assert moved.code == 1 and "belongs to 豊岡市" in moved.err
    nothing = cli("--data-dir", str(data_dir), "activity", "edit", added["id"])
    assert nothing.code == 1 and "nothing to change" in nothing.err


def test_control_characters_are_refused(cli: Cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), *add_activity_args(title="会議\x1b[31m"))
    assert result.code == 1 and "control character (U+001B)" in result.err
    newline = cli("--data-dir", str(data_dir), *add_activity_args(title="一行目\n二行目"))
    assert newline.code == 1 and "title" in newline.err
    notes = cli("--data-dir", str(data_dir), *add_activity_args(notes="一行目\r\n二行目"), "--json")
    assert json.loads(notes.out)["notes"] == "一行目\n二行目"


def test_long_input_gives_a_short_error(cli: Cli, data_dir: Path) -> None:
    result = cli("--data-dir", str(data_dir), *add_activity_args(date="9" * 20_000))
    assert result.code == 1 and len(result.err) < 300


def test_a_municipality_added_by_code_is_the_same_on_every_store(cli: Cli, tmp_path: Path) -> None:
    dumps = []
    for name in ("laptop-a", "laptop-b"):
        store = tmp_path / name
        added = cli(
            "--data-dir",
            str(store),
            "org",
            "add",
            "--kind",
            "municipality",
            "--name",
            "大阪市",
            "--kana",
            "おおさかし",
            "--code",
            "271004",
        )
        assert added.code == 0, added.err
        dumps.append(_dump(cli, store))
    assert dumps[0] == dumps[1]


def test_show_names_the_municipality_initiative_and_participants(
    cli: Cli, with_demo: DemoLoader, data_dir: Path
) -> None:
    with_demo(data_dir)
    visits = json.loads(
        cli("--data-dir", str(data_dir), "activity", "list", "--kind", "site_visit", "--json").out
    )
    shown = cli("--data-dir", str(data_dir), "activity", "show", visits[0]["id"][-10:]).out
    assert "municipality: 豊岡市" in shown
    assert "initiative: 配送DX" in shown
    assert "西米良村" in shown and "2024-07-17" in shown


def test_show_gives_the_head_count_and_the_organizations_taking_part(
    cli: Cli, with_demo: DemoLoader, data_dir: Path
) -> None:
    """人数 and 参加, in text and in JSON (issue 18)."""
    with_demo(data_dir)
    added = _add(
        cli,
        data_dir,
        "--participant",
        "多可町",
        "--participant",
        "豊岡市",
        "--head-count",
        "12",
        "--participants-text",
        "町職員",
    )
    activity_id = added.out.strip()
    shown = cli("--data-dir", str(data_dir), "activity", "show", activity_id).out
    assert "taking part: 多可町, 豊岡市" in shown
    assert "head count: 12" in shown
    assert "participants: 町職員" in shown
    record = json.loads(
        cli("--data-dir", str(data_dir), "activity", "show", activity_id, "--json").out
    )
    assert record["participants"]["head_count"] == 12
    assert [o["name"] for o in record["taking_part"]] == ["多可町", "豊岡市"]
    assert [o["id"] for o in record["taking_part"]] == record["participants"]["organization_ids"]
    japanese = cli("--lang", "ja", "--data-dir", str(data_dir), "activity", "show", activity_id)
    assert "参加: 多可町、豊岡市" in japanese.out and "人数: 12" in japanese.out


# --- dates as documents write them (issue 18) ----------------------------------------------------


@pytest.mark.parametrize(
    ("date", "stored", "precision", "shown"),
    [
        ("令和6年度", "2024-04-01", "fiscal_year", "令和6年度"),
        ("R6年度", "2024-04-01", "fiscal_year", "令和6年度"),
        ("2024年10月下旬", "2024-10-21", "late_month", "2024年10月下旬"),
        ("R6.10", "2024-10-01", "month", "2024年10月"),
        ("2024-10-25", "2024-10-25", "day", "2024-10-25"),
    ],
)
def test_add_and_edit_keep_the_dates_precision(
    cli: Cli, data_dir: Path, date: str, stored: str, precision: str, shown: str
) -> None:
    with clock.frozen(dt.date(2025, 3, 31)):
        added = json.loads(_add(cli, data_dir, "--json").out)
        assert (added["date"], added["date_precision"]) == ("2024-07-17", "day")
        base = ("--lang", "ja", "--data-dir", str(data_dir), "activity")
        edited = cli(*base, "edit", added["id"], "--date", date, "--json")
        record = json.loads(edited.out)
        assert (record["date"], record["date_precision"]) == (stored, precision)
        assert f"日付: {shown}" in cli(*base, "show", added["id"]).out
        # A day given again makes it a day again.
        again = json.loads(cli(*base, "edit", added["id"], "--date", "3/30", "--json").out)
        assert (again["date"], again["date_precision"]) == ("2025-03-30", "day")  # this year


@pytest.mark.parametrize(
    ("at", "last"),
    [
        pytest.param(dt.date(2025, 3, 31), "2027-03-31", id="31-march"),
        pytest.param(dt.date(2025, 4, 1), "2027-04-01", id="1-april"),
    ],
)
@pytest.mark.parametrize("date", ["令和99年1月1日", "9999-12-31", "1999-12-31", "2027-04-02"])
def test_an_implausible_date_is_refused_with_the_range(
    cli: Cli, data_dir: Path, at: dt.date, last: str, date: str
) -> None:
    with clock.frozen(at):
        assert _add(cli, data_dir).code == 0
        before = _dump(cli, data_dir)
        result = cli("--data-dir", str(data_dir), *add_activity_args(date=date))
        assert result.code != 0 and result.out == ""
        assert result.err.strip() == (
            f"error: date: '{date}' is outside the dates dxfield takes (2000-01-01 to {last})"
        )
        japanese = cli("--lang", "ja", "--data-dir", str(data_dir), *add_activity_args(date=date))
        assert japanese.err.strip() == (
            f"エラー: 日付: '{date}' は受け付けられる日付の範囲外です(2000-01-01 から {last} まで)"
        )
        assert _dump(cli, data_dir) == before
        # The last day taken is taken.
        assert cli("--data-dir", str(data_dir), *add_activity_args(date=last)).code == 0
