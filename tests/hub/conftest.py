"""The hub's tests: compiled modules kept for the CLI processes they run (the `slow` mark they
use is registered in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.hub import fleet


@pytest.fixture(scope="session", autouse=True)
def compiled_once(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every `dxfield` process a test starts imports the same modules: compiled once per session
    into a folder of the session's own (never beside the sources), not again by each process."""
    fleet.PYCACHE = tmp_path_factory.mktemp("pycache")
