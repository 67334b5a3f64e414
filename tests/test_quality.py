"""The house rules, checked as tests: lint, format, types, and the import-linter contracts."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed in the test environment (dev dependency group)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint() -> None:
    result = _run(_tool("ruff"), "check", "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = _run(_tool("ruff"), "format", "--check", "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_src() -> None:
    result = _run(_tool("mypy"), "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    # Nothing outside tui/ imports textual; tui/ and cli.py write no SQL; the core has no UI.
    result = _run(_tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


# -- one clock -------------------------------------------------------------------------------------

# Calls that read the wall clock, by the last two parts of their dotted name. `dxfield/clock.py`
# is the one module allowed them; the HLC (`store/hlc.py`) keeps its own real-time source.
_WALL_CLOCK_CALLS = {
    ("date", "today"),
    ("datetime", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "ctime"),
    ("time", "asctime"),
    ("time", "strftime"),
}
_ALLOWED_CLOCK_READERS = {"src/dxfield/clock.py", "src/dxfield/store/hlc.py"}


def _dotted(node: ast.expr) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*_dotted(node.value), node.attr)
    return ()


def wall_clock_reads(source: str) -> list[int]:
    """Lines of `source` that read the wall clock (or import a function that does)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)[-2:] or ("",)
            # localtime(secs), gmtime(secs), strftime(fmt, t) convert; without them they read now
            converts = (name[-1] in ("localtime", "gmtime", "ctime", "asctime") and node.args) or (
                name[-1] == "strftime" and len(node.args) > 1
            )
            if name in _WALL_CLOCK_CALLS and not converts:
                found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            names = {(node.module, alias.name) for alias in node.names}
            if names & {("time", "time"), ("time", "time_ns"), ("time", "localtime")}:
                found.append(node.lineno)
    return sorted(found)


def test_the_wall_clock_check_finds_every_form() -> None:
    source = """
import datetime as dt, time
from datetime import date, datetime
from time import time_ns
a = dt.date.today()
b = date.today()
c = datetime.now(dt.UTC)
d = dt.datetime.utcnow()
e = time.time()
f = time.localtime()
g = time.strftime("%Y")
h = time.localtime(0)           # converts a given instant: fine
i = time.strftime("%Y", h)      # the same
j = dt.datetime.fromtimestamp(0, dt.UTC)
k = time.monotonic()            # not the wall clock
"""
    assert wall_clock_reads(source) == [4, 5, 6, 7, 8, 9, 10, 11]


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        if str(path.relative_to(ROOT).as_posix()) not in _ALLOWED_CLOCK_READERS
        for line in wall_clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "read today and now from dxfield.clock instead: " + ", ".join(offenders)
