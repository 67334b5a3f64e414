"""The performance suite's modules (benchmarks/), imported as the suite imports them: by name,
with benchmarks/ on the path, and forgotten afterwards so that their top-level names (hub, run,
sync...) shadow nothing in later tests."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# benchmarks/ imports them by name
_SUITE_MODULES = ("hub", "run", "tui", "sync", "report", "tables", "verbs", "hub_tables")


@contextmanager
def suite_module(name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """benchmarks/`name`.py, for the time of the block."""
    before = {module: sys.modules.get(module) for module in _SUITE_MODULES}
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    try:
        yield importlib.import_module(name)
    finally:
        for module, found in before.items():
            if found is None:
                sys.modules.pop(module, None)
            else:
                sys.modules[module] = found
