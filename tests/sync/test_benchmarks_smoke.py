"""The performance suite's sync section (benchmarks/sync.py) runs end to end at a tiny size: the
CLI's export and import as processes, and their baselines. Nothing here asserts a time: the
figures are ratios for `benchmarks/run.py` to judge, on a quiet machine."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench_suite import suite_module

# The section makes its own SQLite stores and runs the CLI on them.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def bench_sync(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """benchmarks/sync.py, imported as the suite imports it."""
    with suite_module("sync", monkeypatch) as module:
        yield module


def test_the_sync_section_gives_its_four_figures(bench_sync: ModuleType, tmp_path: Path) -> None:
    figures = bench_sync.measure_sync(tmp_path, 40)
    assert [f.name for f in figures] == ["sync_import", "sync_reimport", "sync_export", "sync_size"]
    for f in figures:
        assert f.value > 0 and f.baseline > 0, f
        assert math.isfinite(f.ratio) and f.ratio > 0 and f.target > 0, f


def test_the_attachments_figures_come_at_a_tiny_size(
    bench_sync: ModuleType, tmp_path: Path
) -> None:
    figures = bench_sync.measure_blob_sync(tmp_path, photos=3, size=20_000, runs=1)
    assert [f.name for f in figures] == [
        "sync_blobs_export",
        "sync_blobs_import",
        "sync_blobs_export_rss",
        "sync_blobs_import_rss",
    ]
    for f in figures:
        assert f.value > 0 and f.baseline > 0, f
        assert math.isfinite(f.ratio) and f.ratio > 0 and f.target > 0, f
