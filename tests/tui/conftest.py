"""Fixtures of the app's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxfield.demo.service import prepare_demo


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A demo store of the test's own."""
    folder = tmp_path / "demo"
    prepare_demo(folder)
    return folder
