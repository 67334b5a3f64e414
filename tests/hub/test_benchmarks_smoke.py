"""The performance suite's hub section (benchmarks/hub.py) runs end to end at a tiny size, and
removes its throwaway cluster whether it succeeds or fails. Nothing here asserts a time: the
figures are ratios for `benchmarks/run.py` to judge, on a quiet machine."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.bench_suite import suite_module
from tests.postgres import Cluster, require_postgres


@pytest.fixture
def bench_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """benchmarks/hub.py, imported as the suite imports it."""
    require_postgres()
    with suite_module("hub", monkeypatch) as module:
        yield module


@pytest.fixture
def made_clusters(bench_hub: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[Cluster]:
    """Every cluster the section makes, for the test to look at after it has run."""
    made: list[Cluster] = []

    class Recorded(Cluster):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(bench_hub, "Cluster", Recorded)
    return made


def test_the_hub_section_gives_its_four_figures(
    bench_hub: ModuleType, made_clusters: list[Cluster], tmp_path: Path
) -> None:
    figures = bench_hub.measure_hub(tmp_path, 200, repeats=1)
    assert [f.name for f in figures] == [
        "hub_import",
        "hub_search_long",
        "hub_search_short",
        "hub_report",
    ]
    for f in figures:
        assert f.value > 0 and f.baseline > 0, f
        assert math.isfinite(f.ratio) and f.ratio > 0 and f.target > 0, f
    assert len(made_clusters) == 1
    assert not made_clusters[0].base.exists()  # stopped and removed


def test_the_hub_section_removes_its_cluster_when_it_fails(
    bench_hub: ModuleType,
    made_clusters: list[Cluster],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a failure halfway")

    monkeypatch.setattr(bench_hub, "bulk_load", broken)
    with pytest.raises(RuntimeError, match="halfway"):
        bench_hub.measure_hub(tmp_path, 10, repeats=1)
    assert len(made_clusters) == 1
    assert not made_clusters[0].base.exists()
    assert not made_clusters[0].running


def test_the_hub_tables_section_gives_its_figures(
    made_clusters: list[Cluster], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """benchmarks/hub_tables.py: import-table, export-table and the verbs on a hub, as
    processes, against COPY, psycopg + csv.writer and the hello-world Typer app."""
    with suite_module("hub_tables", monkeypatch) as section:
        figures = section.measure_hub_tables(tmp_path, 30, repeats=1)
    assert [f.name for f in figures] == [
        "hub_import_table",
        "hub_export_table_csv",
        "hub_verb_activity_list",
        "hub_verb_search_json",
    ]
    for f in figures:
        assert f.value > 0 and f.baseline > 0, f
        assert math.isfinite(f.ratio) and f.ratio > 0 and f.target > 0, f
    assert len(made_clusters) == 1
    assert not made_clusters[0].base.exists()  # stopped and removed
