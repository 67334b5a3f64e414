"""What the command line says while a progress bar is on screen goes through the bar's own
console, which draws it above the bar: a line written to stderr beside Rich's live display ran
into the bar's line in a real terminal (seen in tmux, `import-table` waiting for an import)."""

from __future__ import annotations

import io
import re
import sys

import pytest

from dxfield.cli import common

NOTICE = "another dxfield is writing to this store; the import goes on once it is done"


class Terminal(io.StringIO):
    """stderr as a terminal would be (Rich draws its bar only there)."""

    def isatty(self) -> bool:
        return True


def _lines(drawn: str) -> list[str]:
    """The lines a terminal shows of `drawn`, its cursor moves and colours left out."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", drawn.replace("\r", "\n"))
    return [line.strip() for line in plain.split("\n") if line.strip()]


def test_the_waiting_notice_is_said_above_the_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(common, "_", lambda text: text)
    echoed: list[str] = []
    monkeypatch.setattr(common.typer, "echo", lambda text, **_kwargs: echoed.append(text))
    with common.progress_bar("checking the table", 10, percent=True) as advance:
        assert advance is not None
        advance(10)
        common.waiting_for_writer()
    assert NOTICE in _lines(terminal.getvalue()) and echoed == []
    assert common._SHOWN == []


def test_without_a_bar_the_notice_is_a_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(common, "_", lambda text: text)
    common.waiting_for_writer()
    assert capsys.readouterr().err == NOTICE + "\n"
