"""The app's attachments figure (benchmarks/tui.py, `tui_attachments_view`) runs end to end at a
tiny size: photos attached through the service, the view of their activity and of one without
opened in a child process driving the app headless. Nothing here asserts a time: the figure is a
ratio for `benchmarks/run.py` to judge, on a quiet machine."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.bench_suite import suite_module

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]


def test_the_attachments_view_figure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with suite_module("tui", monkeypatch) as tui:
        monkeypatch.setattr(tui, "PHOTOS", 3)
        monkeypatch.setattr(tui, "PHOTO_PIXELS", (800, 600))
        store = tui.build_store(tmp_path / "tui-small", 20)
        figure = tui.measure_attachments_view(tmp_path, store, 1)
    assert figure.name == "tui_attachments_view" and figure.target == 1.2
    assert figure.value > 0 and figure.baseline > 0 and math.isfinite(figure.ratio)
    assert "thumbnail made" in figure.note
