"""Fixtures of the app's tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import textual.constants
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions import DEFAULT_EXTENSION
from syrupy.location import PyTestLocation

from dxfield.demo.service import prepare_demo
from tests.conftest import without_clock


@pytest.fixture(autouse=True)
def _without_animation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app under test moves at once (`TEXTUAL_ANIMATIONS=none`): a loaded machine caught
    snapshots mid-scroll to a focused card, and a pilot's next key must not race a slide."""
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A demo store of the test's own."""
    folder = tmp_path / "demo"
    prepare_demo(folder)
    return folder


class _Location(PyTestLocation):
    """Where syrupy keeps a test's snapshot, the same whichever clock a `dated` test ran at."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.nodename:
            object.__setattr__(self, "nodename", without_clock(self.nodename))
            object.__setattr__(self, "testname", self.nodename)


@pytest.fixture
def snapshot(request: pytest.FixtureRequest) -> SnapshotAssertion:
    """syrupy's `snapshot`, with one stored picture for every clock a `dated` test runs at."""
    config = request.config
    return SnapshotAssertion(
        update_snapshots=config.option.update_snapshots,
        update_new_snapshots_only=config.option.update_new_snapshots_only,
        extension_class=DEFAULT_EXTENSION,
        test_location=_Location(request.node),
        session=config._syrupy,  # type: ignore[attr-defined]
    )
