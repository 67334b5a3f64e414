"""The hub's tests: the `slow` mark, and compiled modules kept for the CLI processes they run."""

from __future__ import annotations

import pytest

from tests.hub import fleet


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slow: runs many real processes against a real server (tens of seconds); runs by "
        "default, `-m 'not slow'` leaves it out",
    )


@pytest.fixture(scope="session", autouse=True)
def compiled_once(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every `dxfield` process a test starts imports the same modules: compiled once per session
    into a folder of the session's own (never beside the sources), not again by each process."""
    fleet.PYCACHE = tmp_path_factory.mktemp("pycache")
