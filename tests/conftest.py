"""Shared fixtures. Every test is hermetic: its own home, data dir and language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dxfield.i18n import set_language
from dxfield.store.engine import Store


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point home, XDG dirs and the dxfield data dir into the test's own folder; English UI."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DXFIELD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DXFIELD_LANG", "en")
    monkeypatch.delenv("DXFIELD_DEBUG", raising=False)
    set_language(None)
    yield tmp_path
    set_language(None)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data dir the `hermetic` fixture points DXFIELD_DATA_DIR at."""
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """A fresh store (reference data only)."""
    with Store.open(data_dir) as opened:
        yield opened


@pytest.fixture
def demo_store(data_dir: Path) -> Iterator[Store]:
    """A store holding the Hyogo demo dataset."""
    from dxfield.demo.loader import load_demo

    with Store.open(data_dir) as opened:
        load_demo(opened)
        yield opened


@dataclass
class CliResult:
    """What one in-process `dxfield` invocation did."""

    code: int
    out: str
    err: str


Cli = Callable[..., CliResult]


def add_activity_args(**options: str) -> tuple[str, ...]:
    """`activity add` with valid defaults, any option overridden (`date="2024-02-30"`)."""
    fields = {
        "municipality": "豊岡市",
        "kind": "workshop",
        "date": "2024-07-17",
        "title": "x",
        **options,
    }
    args = ["activity", "add"]
    for name, value in fields.items():
        args += [f"--{name}", value]
    return tuple(args)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `dxfield ARGS...` in-process; returns a CliResult."""
    from dxfield.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
