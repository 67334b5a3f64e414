"""The command line in Japanese: every verb's help fits 80 columns and leaves no English sentence,
click's own words and usage errors are Japanese, and the language can be saved (`config`)."""

from __future__ import annotations

import gettext
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from dxfield.cli.localized import _NO_BREAK_AFTER, _NO_BREAK_BEFORE, wrap_cells
from dxfield.i18n import catalogue, forced_catalogue
from tests.conftest import Cli


def _paths() -> list[tuple[str, ...]]:
    """Every command path of the CLI, the root included."""
    import typer

    from dxfield.cli import app

    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


PATHS = _paths()
# What may stay in Latin letters in a Japanese help page: the program's and verbs' names,
# option names, metavars, codes (enum values, file formats), and the proper nouns below.
ALLOWED_WORDS = {"dxfield", "Markdown", "JSON", "CSV", "XLSX", "Excel", "TOML", "BOM", "UTF", "DX"}
CODE = re.compile(r"^[a-z][a-z0-9_-]*$")  # meeting, site_visit, in_progress, ja, en, csv …


def _english_sentences(text: str, path: tuple[str, ...]) -> list[str]:
    """Runs of three or more English words that are not names, metavars or codes."""
    cleaned = re.sub(r"--?[a-z][\w-]*", " ", text)  # option names
    cleaned = re.sub(r"<[^>]*>|\[[A-Z_.]+\]|\b[A-Z][A-Z_]+\b(\.\.\.)?", " ", cleaned)  # metavars
    cleaned = cleaned.replace(" ".join(("dxfield", *path)), " ")
    sentences = []
    for run in re.findall(r"[A-Za-z][A-Za-z']*(?:[ ,]+[A-Za-z][A-Za-z']*){2,}", cleaned):
        words = [w for w in re.split(r"[ ,]+", run) if w]
        prose = [w for w in words if w not in ALLOWED_WORDS and not CODE.match(w)]
        if prose:
            sentences.append(run)
    return sentences


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "dxfield")
def test_every_help_page_is_japanese_and_fits_80_columns(cli: Cli, path: tuple[str, ...]) -> None:
    result = cli("--lang", "ja", *path, "--help")
    assert result.code == 0, result.err
    text = result.out
    assert text.startswith("使い方: dxfield"), text
    assert "オプション:" in text and "この説明を表示して終了します。" in text
    too_wide = [line for line in text.splitlines() if cell_len(line) > 80]
    assert not too_wide, too_wide
    # 禁則: no line begins with a closing mark or a small kana, none ends on an opening bracket.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert not [line for line in lines if _NO_BREAK_BEFORE.match(line)], text
    assert not [line for line in lines if _NO_BREAK_AFTER.match(line[-1])], text
    assert not _english_sentences(text, path), _english_sentences(text, path)
    for word in ("Usage", "Options", "Commands", "Arguments", "Show this message", "required"):
        assert word not in text


def test_the_japanese_locale_alone_gives_japanese_help(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DXFIELD_LANG")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert cli("--help").out.startswith("使い方: dxfield")
    assert cli("org", "add", "--help").out.count("[必須]") == 2  # --kind and --name
    monkeypatch.setenv("LANG", "C.UTF-8")
    english = cli("--help").out
    assert english.startswith("Usage: dxfield") and "Show this message and exit." in english


def test_help_outside_the_wrappers_is_only_names_and_codes(cli: Cli) -> None:
    """A pseudo-locale wraps every translated message in ⟦…⟧: what is left outside on a help
    page is option names, metavars, the program's name and click's punctuation."""

    english = catalogue("en")

    class Wrapped(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return f"⟦{english.gettext(message)}⟧"

    with forced_catalogue(Wrapped()):
        for path in PATHS:
            text = cli(*path, "--help").out
            outside = re.sub(r"⟦[^⟧]*⟧", " ", text, flags=re.DOTALL)
            assert not _english_sentences(outside, path), (path, outside)
            assert "Options" not in outside and "Usage" not in outside, outside


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("frobnicate",), "コマンド 'frobnicate' はありません"),
        (("activty", "list"), "もしかして: activity"),
        (("activity", "add", "--bogus"), "オプション --bogus はありません"),
        (("org", "add", "--name", "x"), "オプション '--kind' は必須です"),
        (("activity", "show"), "引数 'ID' がありません"),
        (("activity", "list", "--limit", "0"), "'--limit' の値が正しくありません(1 以上の整数)"),
        # click's parser raises this one without its command: no pointer to the help then
        (("activity", "add", "--title"), "オプション --title には値が必要です"),
        (("activity", "list", "extra"), "余分な引数があります: extra"),
        (("--lang", "fr", "check"), "表示言語は ja か en です"),
    ],
)
def test_usage_errors_are_japanese(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    result = cli("--lang", "ja", *args) if args[0] != "--lang" else cli(*args)
    assert result.code != 0
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    if args[0] != "--lang":
        assert lines[0].startswith("エラー: ") and expected in lines[0], lines[0]
        if "--title" not in args:
            assert "' で使い方を表示" in lines[0] or "もしかして" in lines[0]
    else:  # the language asked for is not there: the error is in the locale's (English)
        assert "the language is ja or en, not 'fr'" in lines[0], lines[0]


def test_a_group_without_a_verb_shows_its_help_in_japanese(cli: Cli) -> None:
    result = cli("--lang", "ja", "activity")
    assert result.code == 2
    assert result.err.startswith("使い方: dxfield activity") and "コマンド:" in result.err


def test_the_saved_language_comes_after_lang_and_the_environment(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DXFIELD_LANG")
    saved = cli("config", "set", "lang", "ja")
    assert saved.code == 0, saved.err
    settings_file = tmp_path / "home" / ".config" / "dxfield" / "settings.json"
    assert json.loads(settings_file.read_text(encoding="utf-8")) == {"lang": "ja"}
    assert cli("--help").out.startswith("使い方:")  # the saved language, over the locale
    shown = cli("config", "show")
    assert "lang = ja" in shown.out and "今の表示言語: ja" in shown.out
    assert cli("--lang", "en", "--help").out.startswith("Usage:")  # --lang beats it
    monkeypatch.setenv("DXFIELD_LANG", "en")
    assert cli("--help").out.startswith("Usage:")  # and so does DXFIELD_LANG
    monkeypatch.delenv("DXFIELD_LANG")
    assert cli("config", "unset", "lang").code == 0
    assert json.loads(settings_file.read_text(encoding="utf-8")) == {}
    shown = json.loads(cli("config", "show", "--json").out)
    assert shown["settings"] == {} and shown["language"] == "en"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("config", "set", "colour", "red"), "there is no setting 'colour' (there is: lang)"),
        (("config", "set", "lang", "fr"), "lang is one of: ja, en, not 'fr'"),
        (("config", "unset", "theme"), "there is no setting 'theme'"),
    ],
)
def test_a_bad_setting_is_one_error_line(
    cli: Cli, args: tuple[str, ...], fragment: str, tmp_path: Path
) -> None:
    result = cli(*args)
    assert result.code == 1 and result.err.count("\n") == 1
    assert fragment in result.err, result.err
    assert not (tmp_path / "home" / ".config" / "dxfield" / "settings.json").exists()


def test_a_damaged_settings_file_is_ignored(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "home" / ".config" / "dxfield"
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text("{not json", encoding="utf-8")
    assert cli("--help").out.startswith("Usage:")
    (folder / "settings.json").write_text('{"lang": "fr"}', encoding="utf-8")
    assert cli("--help").out.startswith("Usage:")


def test_wrapping_counts_full_width_characters_twice() -> None:
    text = "記録とこの端末の鍵を、本人だけが読める1つのファイルに正しく写します。" * 3
    lines = wrap_cells(text, 40)
    assert all(cell_len(line) <= 40 for line in lines[:-1])
    assert "".join(lines) == text
    assert not any(line.startswith(("、", "。")) for line in lines)
    assert wrap_cells("Show this message and exit.", 12) == ["Show this", "message and", "exit."]


def test_no_line_begins_with_a_closing_mark_even_after_another() -> None:
    """「します）。」 at a line's end: neither ） nor 。 begins the next line, nor is a word of
    Latin letters cut to keep them company, nor is an opening bracket left at the end."""
    assert wrap_cells("あ" * 18 + "し）。", 40) == ["あ" * 18, "し）。"]
    assert wrap_cells("あいう HTML。", 9) == ["あいう", "HTML。"]
    assert wrap_cells("写真（HTML）。", 10) == ["写真", "（HTML）。"]
    assert wrap_cells("あ" * 18 + "フォルダー", 38) == ["あ" * 18, "フォルダー"]


def test_a_revision_is_shown_as_a_time_and_a_device(cli: Cli, data_dir: Path) -> None:
    from tests.conftest import add_activity_args

    home = ("--lang", "ja", "--data-dir", str(data_dir))
    cli(*home, "init", "--device-name", "kami-liaison")
    activity_id = cli(*home, *add_activity_args()).out.strip()
    cli(*home, "activity", "edit", activity_id, "--title", "y")
    record = json.loads(cli(*home, "activity", "show", activity_id, "--json").out)
    shown = cli(*home, "activity", "show", activity_id).out
    line = next(line for line in shown.splitlines() if line.startswith("変更履歴: "))
    assert re.fullmatch(r"変更履歴: \d{4}-\d\d-\d\d \d\d:\d\d JST kami-liaison", line), line
    assert record["rev"] not in shown  # the hash stays in --json
    history = cli(*home, "history", activity_id).out.splitlines()
    # Who, and that this device verified the signature; the version's id last.
    assert re.match(
        r"\d{4}-\d\d-\d\d \d\d:\d\d JST kami-liaison・署名を確認済み  \(版 2-", history[-2]
    ), history
    assert record["rev"] in history[-2]  # for `revert --to`


def test_a_file_the_system_refuses_is_worded_in_japanese() -> None:
    import errno

    from dxfield.cli import _os_problem
    from dxfield.i18n import set_language

    set_language("ja")
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", "/no/such")
    assert _os_problem(missing) == "ファイルかフォルダがありません: /no/such"
    assert _os_problem(PermissionError(errno.EACCES, "Permission denied", "/x")) == (
        "/x を使う権限がありません"
    )
    odd = OSError(errno.EIO, "Input/output error", "/x")  # rare: the system's words
    assert _os_problem(odd) == "Input/output error: /x"


@pytest.mark.parametrize(
    "args",
    [
        ("frobnicate",),
        ("activity", "add", "--bogus"),
        ("org", "add", "--name", "x"),
        ("activity", "show"),
        ("activity", "list", "--limit", "0"),
        ("activity", "list", "extra"),
        ("config", "set", "colour", "red"),
        ("search", " "),
    ],
)
def test_errors_outside_the_wrappers_are_empty(cli: Cli, args: tuple[str, ...]) -> None:
    """Under a pseudo-locale wrapping every message in ⟦…⟧, an error line is all wrapped:
    nothing of it is worded outside the catalogue."""
    english = catalogue("en")

    class Wrapped(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return f"⟦{english.gettext(message)}⟧"

    with forced_catalogue(Wrapped()):
        result = cli(*args)
    assert result.code != 0 and result.err.count("\n") == 1, result.err
    outside = result.err
    while True:
        stripped = re.sub(r"⟦[^⟦⟧]*⟧", "", outside)
        if stripped == outside:
            break
        outside = stripped
    assert outside.strip() == "", result.err


def _brackets_close(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char in "(（"
        depth -= char in ")）"
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_verbs_line_in_its_groups_list_is_a_whole_sentence(language: str) -> None:
    """A translation may end a sentence inside brackets (「(写真、PDF、テキスト。1つ 50 MB
    まで)」): the line a group's list gives a verb goes on to the sentence's end, not to that
    full stop."""
    import typer

    from dxfield import cli
    from dxfield.i18n import set_language

    set_language(language)
    try:
        root = cli.localize(typer.main.get_command(cli.app))
        lines: dict[str, str] = {}

        def walk(command: Any, path: str) -> None:
            for name, sub in getattr(command, "commands", {}).items():
                lines[f"{path} {name}".strip()] = " ".join(sub.get_short_help_str(10_000).split())
                walk(sub, f"{path} {name}")

        walk(root, "")
    finally:
        set_language(None)
    assert lines["attach"].endswith(("を添付します。", "to an activity or a finding."))
    assert lines["detach"].endswith(("残ります)。", "finds nothing uses it)."))
    unclosed = {path: line for path, line in lines.items() if not _brackets_close(line)}
    assert not unclosed, unclosed
    assert all(line.endswith(("。", ".", ")", ")")) for line in lines.values()), lines
