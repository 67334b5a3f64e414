"""Light read verbs (issue 17): `activity list` and `search` import only what they need, and
print exactly what they printed when every verb opened the whole Store and built Rich's table.

What a verb costs is measured by benchmarks/; this guards it without timing, by the modules a
real process has imported when it ends.
"""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dxfield.cli import common
from dxfield.store.engine import Store
from tests.conftest import Cli, add_activity_args

# What a short list or a search has no use for (some of it costs more than the verb's own work).
HEAVY = (
    "alembic",
    "sqlalchemy",
    "sqlmodel",
    "nacl",
    "psycopg",
    "openpyxl",
    "jinja2",
    "textual",
    "dxfield.tui",
    "dxfield.report",
    "dxfield.sync",
    "dxfield.demo",
    "dxfield.store.records",
    "rich.table",
    "rich.console",
)
RUN_AND_LIST_MODULES = """
import sys
from dxfield.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    assert not exc.code, exc.code
print(repr(sorted(m for m in sys.modules if m in {heavy!r})), file=sys.stderr)
"""

ON_A_HUB = (
    *(name for name in HEAVY if name != "psycopg"),
    "dxfield.store.hub",
    "dxfield.store.postgres",
)
"""On a hub the light path reads through psycopg, and nothing else of the above."""

READS = (
    ("activity", "list", "--limit", "10"),
    ("activity", "list", "--limit", "10", "--json"),
    ("activity", "list", "--kind", "workshop", "--from", "R6.4.1", "--json"),
    ("search", "農業", "--json"),
    ("search", "農業"),
    ("search", "奥矢根区 意見交換会"),
)


@pytest.fixture
def logged(cli: Cli, data_dir: Path) -> Path:
    """A store with a few activities, made by the verbs."""
    for title, date in (("奥矢根区 意見交換会", "2024-07-17"), ("農業DX 研修", "R6.8.1")):
        added = cli("--data-dir", str(data_dir), *add_activity_args(title=title, date=date))
        assert added.code == 0, added.err
    return data_dir


@pytest.fixture
def hub(cli: Cli, pg_database: str, tmp_path: Path) -> tuple[str, ...]:
    """A hub set up by `init`, with a few activities added by the verbs: the global options
    that reach it."""
    where = ("--data-dir", str(tmp_path / "hub"), "--database", pg_database)
    made = cli(*where, "init", "--role", "hub", "--device-name", "兵庫県")
    assert made.code == 0, made.err
    for title, date in (("奥矢根区 意見交換会", "2024-07-17"), ("農業DX 研修", "R6.8.1")):
        added = cli(*where, *add_activity_args(title=title, date=date))
        assert added.code == 0, added.err
    return where


def _modules_of(args: tuple[str, ...], heavy: tuple[str, ...]) -> list[str]:
    """The modules of `heavy` a `dxfield ARGS...` process had imported when it ended."""
    env = {k: v for k, v in os.environ.items() if k != "DXFIELD_DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES.format(heavy=set(heavy)), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    found = ast.literal_eval(result.stderr.strip().splitlines()[-1])
    assert isinstance(found, list)
    return found


@pytest.mark.sqlite_only
@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_verb_imports_only_what_it_needs(logged: Path, args: tuple[str, ...]) -> None:
    assert _modules_of(("--data-dir", str(logged), *args), HEAVY) == []


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_read_verb_on_a_hub_imports_only_psycopg(
    hub: tuple[str, ...], args: tuple[str, ...]
) -> None:
    assert _modules_of((*hub, *args), ON_A_HUB) == []


@pytest.mark.sqlite_only
def test_light_and_whole_store_print_the_same(
    cli: Cli, demo_store: Store, logged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = [
        *READS,
        ("activity", "list"),
        ("activity", "list", "--area", "vision", "--to", "2024-12-31"),
        ("activity", "list", "--kind", "nonsense"),
        ("search", "町", "--limit", "2"),
        ("search", "ｄｘ 研修", "--json"),
    ]
    light = {args: cli("--data-dir", str(logged), *args) for args in reads}
    import dxfield.store.light

    monkeypatch.setattr(dxfield.store.light, "open_light", lambda *_args: None)
    for args, result in light.items():
        assert cli("--data-dir", str(logged), *args) == result, args
    assert json.loads(light[READS[3]].out)["total"] > 1  # the demo's and one of ours


def test_light_and_whole_store_print_the_same_on_a_hub(
    cli: Cli, hub: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = [
        *READS,
        ("activity", "list", "--area", "vision", "--to", "2024-12-31"),
        ("search", "ｄｘ 研修", "--json"),
        ("search", "町", "--limit", "1"),
    ]
    light = {args: cli(*hub, *args) for args in reads}
    import dxfield.store.light

    monkeypatch.setattr(dxfield.store.light, "open_light", lambda *_args: None)
    for args, result in light.items():
        assert cli(*hub, *args) == result, args
    assert json.loads(light[READS[3]].out)["total"] == 1


CELLS = [
    "",
    "x",
    "豊岡市",
    "奥矢根区 意見交換会",
    "ＤＸ推進　窓口",
    "[bold]not markup[/bold]",
    "<ESC>[31m shown, not obeyed",
    "ｶﾞｲﾄﾞ ①②",
    "émoji 👍 wide",
    "a\u0301 combining",
    "family 👨\u200d👩\u200d👧",
    "trailing space ",
    " leading",
    "tab\there",
    "line\nbreak",
    "zero\u200bwidth",
]


def _rich_table(headers: list[str], rows: list[list[str]]) -> str:
    """What `table` printed on a pipe when it always built Rich's table."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from dxfield.domain.visible import visible

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(Text(visible(header)), overflow="fold")
    for row in rows:
        table.add_row(*(Text(visible(cell)) for cell in row))
    out = io.StringIO()
    Console(file=out, width=common.PIPED_WIDTH, soft_wrap=False, highlight=False).print(table)
    return out.getvalue()


def _table(headers: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    real, sys.stdout = sys.stdout, out
    try:
        common.table(headers, rows)
    finally:
        sys.stdout = real
    return out.getvalue()


def test_a_piped_table_is_laid_out_as_rich_lays_it_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    plain = 0
    for n, first in enumerate(CELLS):
        for second in CELLS[n % 3 :: 3]:
            headers = ["date", "タイトル", "ID"]
            rows = [[first, second, "0190-abc"], [second, "", first], ["", "", "x"]]
            assert _table(headers, rows) == _rich_table(headers, rows), (first, second)
            plain += common._plain_table(headers, rows)  # prints too: counted only
    assert _table(["a", "b"], []) == _rich_table(["a", "b"], [])
    assert _table([""], []) == _rich_table([""], [])
    assert plain > 20  # most tables took the plain path
