"""`dxfield template`: list, show, set from a file, reset; what it refuses, in one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli


def test_a_template_is_set_from_a_file_shown_listed_and_reset(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    def run(*args: str) -> str:
        result = cli("--lang", "ja", "--data-dir", str(data_dir), *args)
        assert result.code == 0, result.err
        return result.out

    built_in = run("template", "show", "meeting")
    assert built_in.startswith("## 日時\n\n## 場所\n")
    assert run("template", "show", "site_visit") == ""
    # As Windows Notepad writes it: a BOM, CRLF line ends. Kept as written, ends unified.
    source = tmp_path / "meeting.md"
    source.write_bytes("\ufeff## 日時\r\n\r\n## 決定事項\r\n".encode())
    assert run("template", "set", "会議", "--file", str(source)) == "会議 のひな形を保存しました\n"
    assert run("template", "show", "meeting") == "## 日時\n\n## 決定事項\n"
    assert "会議" in run("template", "set", "meeting", "--file", str(source))  # unchanged
    listed = run("template", "list")
    assert "会議" in listed and "## 決定事項" not in listed
    rows = {t["kind"]: t for t in json.loads(run("template", "list", "--json"))}
    assert rows["meeting"]["saved"] is True and rows["hearing"]["saved"] is False
    assert rows["meeting"]["text"] == "## 日時\n\n## 決定事項\n"
    run("template", "reset", "meeting")
    assert run("template", "show", "meeting") == built_in
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    run("template", "set", "meeting", "--file", str(empty))  # no template for meetings
    assert run("template", "show", "meeting") == ""


def test_the_template_verbs_refuse_in_one_line(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    too_long = tmp_path / "long.md"
    too_long.write_text("x" * 100_001, encoding="utf-8")
    for args, words in (
        (("template", "show", "party"), "unknown value 'party'"),
        (("template", "set", "party", "--file", str(too_long)), "unknown value 'party'"),
        (("template", "set", "meeting", "--file", str(tmp_path / "none.md")), "no file"),
        (("template", "set", "meeting", "--file", str(too_long)), "too long"),
    ):
        result = cli("--lang", "en", "--data-dir", str(data_dir), *args)
        assert result.code == 1 and result.err.count("\n") == 1, result.err
        assert result.err.startswith("error:") and words in result.err, result.err
