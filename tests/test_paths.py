"""Where the data lives: --data-dir, then DXFIELD_DATA_DIR, then the platform's directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxfield.paths import demo_data_dir, resolve_data_dir, user_data_dir


def test_option_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXFIELD_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "opt") == tmp_path / "opt"
    assert resolve_data_dir() == tmp_path / "env"


def test_platform_default_without_either(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DXFIELD_DATA_DIR")
    assert resolve_data_dir() == user_data_dir()
    assert user_data_dir().name == "dxfield"
    assert str(user_data_dir()).startswith(str(tmp_path))  # the hermetic home


def test_demo_has_its_own_folder(tmp_path: Path) -> None:
    assert demo_data_dir() == tmp_path / "data" / "demo"
    assert demo_data_dir(tmp_path / "x") == tmp_path / "x"
