"""Each run builds only the part of the command tree its arguments call (`cli.command_for`):
Typer reads every command's signature at each start, a quarter of `dxfield --help`. What is
built must say exactly what the whole tree says."""

from __future__ import annotations

import pytest
import typer

from dxfield import cli
from dxfield.i18n import set_language


def _whole() -> typer.core.TyperGroup:
    return cli.localize(typer.main.get_command(cli.app))


def test_the_roots_value_options_are_those_it_takes() -> None:
    root = _whole()
    takes_value = {
        name
        for param in root.params
        if param.param_type_name == "option" and not getattr(param, "is_flag", False)
        for name in param.opts
    }
    assert takes_value == cli._ROOT_VALUES


@pytest.mark.parametrize(
    ("args", "verb"),
    [
        (["--help"], ""),
        ([], ""),
        (["--lang", "ja", "--help"], ""),
        (["--help", "activity"], ""),  # click shows the root's help before any verb
        (["--data-dir", "/x", "activity", "list"], "activity"),
        (["--data-dir=/x", "--lang=ja", "import-table", "--help"], "import-table"),
        (["--database", "activity", "keys"], "keys"),  # a value that looks like a verb
        (["--bogus", "activity"], None),
        (["--", "activity"], None),
    ],
)
def test_the_verb_named_is_read_as_click_reads_it(args: list[str], verb: str | None) -> None:
    assert cli._named_verb(args) == verb


def test_a_verb_builds_itself_alone() -> None:
    assert list(cli.command_for(["activity", "list"]).commands) == ["activity"]
    assert list(cli.command_for(["--lang", "en", "import"]).commands) == ["import"]


def test_the_roots_help_lists_every_verb_and_group_without_building_them() -> None:
    root, whole = cli.command_for(["--help"]), _whole()
    assert list(root.commands) == list(whole.commands)
    for name, command in root.commands.items():
        assert command.get_short_help_str(80) == whole.commands[name].get_short_help_str(80)
        assert command.hidden == whole.commands[name].hidden
    assert root.commands["activity"].commands == {}  # a group's verbs are not built
    assert root.commands["import"].params == []  # nor a verb's parameters
    assert whole.commands["import"].params


def test_an_unknown_verb_is_told_among_all_of_them() -> None:
    assert list(cli.command_for(["activty"]).commands) == list(_whole().commands)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[str, str, object]:
    """What `dxfield ARGS` says (through `main`, as a person runs it) and its exit code."""
    code: object = 0
    try:
        cli.main(args)
    except SystemExit as exc:
        code = exc.code
    finally:
        set_language(None)
    out, err = capsys.readouterr()
    return out, err, code


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--help", "activity"],
        ["activity", "--help"],
        ["activity", "list", "--help"],
        ["import-table", "--help"],
        ["keys"],
        ["activty", "list"],
        ["activity", "lst"],
        ["import", "--bogus"],
        ["import"],
        ["--data-dir"],
    ],
)
def test_the_part_built_says_what_the_whole_tree_says(
    language: str,
    args: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Help, usage errors and suggestions, through `main` in the person's language."""
    given = ["--lang", language, *args]
    part = _run(given, capsys)
    monkeypatch.setattr(cli, "command_for", lambda _args: _whole())
    whole = _run(given, capsys)
    assert part == whole
    assert part[0] or part[1]  # something was said
    if language == "ja":
        assert "Usage:" not in part[0] + part[1]  # said in Japanese, not click's English
