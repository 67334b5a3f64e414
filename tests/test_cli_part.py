"""Each run builds only the part of the command tree its arguments call (`cli.command_for`):
Typer reads every command's signature at each start, a quarter of `dxfield --help`. What is
built must say exactly what the whole tree says."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
import typer

from dxfield import cli
from dxfield.i18n import set_language


def _whole() -> typer.core.TyperGroup:
    return cli.localize(typer.main.get_command(cli.app))


def _said(command: typer.core.TyperGroup, args: list[str]) -> tuple[str, int]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        try:
            code = command.main(args=args, prog_name="dxfield", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
        except Exception as exc:  # a usage error, said the same by both
            out.write(f"{type(exc).__name__}: {exc}")
            code = -1
    return out.getvalue(), code if isinstance(code, int) else 0


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
    ],
)
def test_the_part_built_says_what_the_whole_tree_says(language: str, args: list[str]) -> None:
    said = []
    try:
        for build in (lambda: cli.command_for(args), _whole):
            set_language(language)  # as `main` does; the root's callback sets it anew
            said.append(_said(build(), args))
    finally:
        set_language(None)
    part, whole = said
    assert part == whole
    assert part[0]  # something was said
