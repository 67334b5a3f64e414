"""`dxfield stage-model`, `track`, and the editing verbs of `finding` and `action`."""

from __future__ import annotations

import json
from pathlib import Path

from dxfield.demo.loader import demo_id
from tests.conftest import Cli, DemoLoader

WORKSHOP = demo_id("activity", "toyooka-workshop")


def test_a_track_from_dialogue_to_a_formed_group_and_back(
    cli: Cli, with_demo: DemoLoader, data_dir: Path
) -> None:
    def run(*args: str) -> str:
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 0, result.err
        return result.out

    with_demo(data_dir)
    listed = json.loads(run("track", "list", "--json"))
    assert [(t["community"], t["current_stage"]) for t in listed] == [
        ("奥矢根区", "dialogue"),
        ("資母地区コミュニティ", "dialogue"),
    ]
    out = run(
        "track",
        "move",
        "奥矢根区",
        "--to",
        "collaborators",
        "--evidence",
        WORKSHOP[-10:],
        "--date",
        "R6.11.20",
        "--note",
        "協力者3名が参加を表明",
    )
    assert "奥矢根区" in out and "Positive collaborators identified" in out
    run("track", "move", "奥矢根区", "--to", "group", "--no-evidence", "--date", "2024-11-25")
    run("track", "move", "奥矢根区", "--to", "collaborators", "--date", "2024-11-26")  # back
    shown = json.loads(run("track", "show", "奥矢根区", "--json"))
    moves = [e["move"] for e in shown["timeline"] if e["kind"] == "move"]
    assert [(m["from_stage"], m["to_stage"]) for m in moves] == [
        ("group", "collaborators"),
        ("collaborators", "group"),
        ("dialogue", "collaborators"),
        (None, "dialogue"),
    ]
    assert moves[2]["evidence_ids"] == [WORKSHOP] and moves[2]["date"] == "2024-11-20"
    text = run("track", "show", "奥矢根区")
    assert "Stage: 3/4 Positive collaborators identified" in text
    assert "▶ Smallest group formed → Positive collaborators identified" in text
    table = run("track", "list")
    assert "3/4" in table and "2/4" in table

    # The last move (back to collaborators) taken back: the track is at group again.
    out = run("track", "undo-move", "奥矢根区")
    assert "奥矢根区" in out and "Smallest group formed again" in out
    taken = json.loads(run("track", "undo-move", "奥矢根区", "--json"))
    assert (taken["from_stage"], taken["to_stage"]) == ("collaborators", "group")
    shown = json.loads(run("track", "show", "奥矢根区", "--json"))
    assert shown["current_stage"] == "collaborators"
    assert len([e for e in shown["timeline"] if e["kind"] == "move"]) == 2


def test_a_user_defined_stage_model_and_a_track_in_it(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "madoguchi.toml"
    model.write_text(
        'key = "madoguchi-dx"\nname = "窓口DX導入"\n\n'
        '[[stages]]\nkey = "current"\nlabel = "現状把握"\nexit_criteria = "業務フローが図になっている"\n\n'
        '[[stages]]\nkey = "rollout"\nlabel = "本格導入"\n',
        encoding="utf-8",
    )
    base = ("--data-dir", str(data_dir))
    added = cli(*base, "stage-model", "add", "--from-file", str(model))
    assert added.code == 0 and "madoguchi-dx (2 stages)" in added.out
    models = json.loads(cli(*base, "stage-model", "list", "--json").out)
    assert [m["key"] for m in models] == ["toyooka-4stage", "madoguchi-dx"]
    shown = cli(*base, "stage-model", "show", "madoguchi-dx").out
    assert "Exit criteria: 業務フローが図になっている" in shown
    cli(*base, "org", "add", "--kind", "agency", "--name", "市民課", "--parent", "豊岡市")
    track = cli(*base, "track", "add", "--community", "市民課", "--model", "madoguchi-dx")
    assert track.code == 0, track.err
    moved = cli(*base, "track", "move", track.out.strip(), "--to", "current", "--no-evidence")
    assert moved.code == 0 and "市民課: — → 現状把握" in moved.out


def test_findings_and_actions_are_edited_and_deleted(cli: Cli, data_dir: Path) -> None:
    base = ("--data-dir", str(data_dir))
    cli(*base, "demo", "--no-open")
    finding = cli(*base, "finding", "add", "--kind", "issue", "--text", "担い手不足").out.strip()
    edited = json.loads(cli(*base, "finding", "edit", finding, "--area", "talent", "--json").out)
    assert edited["area"] == "talent" and edited["text"] == "担い手不足"
    assert "nothing changed" in cli(*base, "finding", "edit", finding, "--area", "talent").out
    cleared = json.loads(cli(*base, "finding", "edit", finding, "--area", "", "--json").out)
    assert cleared["area"] is None
    assert cli(*base, "finding", "delete", finding).code == 0
    texts = [f["text"] for f in json.loads(cli(*base, "finding", "list", "--json").out)]
    assert "担い手不足" not in texts

    action = cli(*base, "action", "add", "--text", "振り返り会", "--due", "2024-12-20").out.strip()
    changed = json.loads(
        cli(
            *base,
            "action",
            "edit",
            action,
            "--owner",
            "豊岡市",
            "--status",
            "in_progress",
            "--json",
        ).out
    )
    assert changed["owner"] == "豊岡市" and changed["status"] == "in_progress"
    assert cli(*base, "action", "delete", action).code == 0
    gone = cli(*base, "action", "done", action)
    assert gone.code != 0 and "deleted" in gone.err
    history = json.loads(cli(*base, "history", action, "--json").out)
    assert [r["deleted"] for r in history["revisions"]] == [False, False, True]


def test_the_guides_walk_from_first_survey_to_a_formed_group(cli: Cli, data_dir: Path) -> None:
    """The walk-through of docs/user-guide.md, step by step."""

    def run(*args: str) -> str:
        result = cli("--data-dir", str(data_dir), *args)
        assert result.code == 0, result.err
        return result.out.strip()

    run("init", "--device-name", "豊岡リエゾン")
    run("org", "add", "--kind", "community", "--name", "竹野地区自治会", "--parent", "豊岡市")
    run("track", "add", "--community", "竹野地区自治会")
    steps = [
        ("hearing", "R6.5.10", "竹野地区 住民ヒアリング", "survey"),
        ("briefing", "R6.7.17", "ドローン配送 説明会(竹野)", "dialogue"),
        ("workshop", "R6.9.2", "協力者ワークショップ", "collaborators"),
        ("trial", "R6.10.20", "試験配送(竹野 5世帯)", "group"),
    ]
    for kind, date, title, stage in steps:
        activity = run(
            "activity", "add", "--municipality", "豊岡市", "--kind", kind, "--date", date,
            "--title", title, "--participant", "竹野地区自治会", "--head-count", "12",
        )  # fmt: skip
        run(
            "track", "move", "竹野地区自治会", "--to", stage, "--evidence", activity, "--date", date
        )
    shown = json.loads(run("track", "show", "竹野地区自治会", "--json"))
    assert shown["current_stage"] == "group" and shown["since"] == "2024-10-20"
    activities = [e["title"] for e in shown["timeline"] if e["kind"] == "activity"]
    assert activities == [title for *_, title, _ in reversed(steps)]
    assert all(e["evidence"] for e in shown["timeline"] if e["kind"] == "activity")
    listed = run("activity", "list", "--json")
    assert {a["title"] for a in json.loads(listed)} == {title for *_, title, _ in steps}
    edited = json.loads(
        run("activity", "edit", activity, "--participants-text", "5世帯の住民", "--json")
    )
    assert edited["participants"]["head_count"] == 12  # kept: only the text was given
    assert edited["participants"]["text"] == "5世帯の住民"


def test_a_due_date_and_a_moves_date_are_refused_out_of_range(
    cli: Cli, with_demo: DemoLoader, data_dir: Path
) -> None:
    """The same rule as an activity's date (issue 18): from 2000 to two years after today."""
    import datetime as dt

    from dxfield import clock

    with_demo(data_dir)
    base = ("--data-dir", str(data_dir))
    with clock.frozen(dt.date(2024, 11, 26)):
        for date in ("9999-12-31", "令和99年1月1日", "1999-12-31"):
            refused = cli(*base, "action", "add", "--text", "遠い", "--due", date)
            assert refused.code != 0
            assert refused.err.strip() == (
                f"error: due date: '{date}' is outside the dates dxfield takes "
                "(2000-01-01 to 2026-11-26)"
            )
            moved = cli(*base, "track", "move", "奥矢根区", "--to", "group", "--no-evidence")
            assert moved.code == 0, moved.err  # today
            back = cli(*base, "track", "move", "奥矢根区", "--to", "dialogue", "--date", date)
            assert back.code != 0
            assert back.err.strip() == (
                f"error: date: '{date}' is outside the dates dxfield takes "
                "(2000-01-01 to 2026-11-26)"
            )
            cli(*base, "track", "move", "奥矢根区", "--to", "dialogue")
        added = cli(*base, "action", "add", "--text", "近い", "--due", "12/20", "--json")
        assert added.code == 0 and json.loads(added.out)["due"] == "2024-12-20"
        action_id = json.loads(added.out)["id"]
        edited = cli(*base, "--lang", "ja", "action", "edit", action_id, "--due", "2030-01-01")
        assert edited.err.strip() == (
            "エラー: 期限: '2030-01-01' は受け付けられる日付の範囲外です"
            "(2000-01-01 から 2026-11-26 まで)"
        )
        cleared = cli(*base, "action", "edit", action_id, "--due", "", "--json")
        assert cleared.code == 0 and json.loads(cleared.out)["due"] is None
