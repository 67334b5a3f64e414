"""The installed command, run as a process: help, errors without tracebacks, startup imports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import add_activity_args


def _dxfield(
    *args: str, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "dxfield", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_help_lists_the_verbs() -> None:
    result = _dxfield("--help")
    assert result.returncode == 0
    for verb in (
        "demo",
        "init",
        "activity",
        "org",
        "initiative",
        "finding",
        "action",
        "history",
        "search",
        "dump",
        "backup",
        "check",
    ):
        assert verb in result.stdout


def test_help_does_not_import_the_store() -> None:
    code = (
        "import sys; from dxfield import cli; "
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'pydantic', 'textual', 'alembic') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]"


def test_a_real_process_fails_with_one_line(data_dir: Path) -> None:
    result = _dxfield("--data-dir", str(data_dir), *add_activity_args(date="2024-02-30"))
    assert result.returncode == 1
    assert result.stderr == "error: date: '2024-02-30' is not a real date\n"
    assert result.stdout == ""


def test_a_real_process_speaks_japanese_under_a_japanese_locale(tmp_path: Path) -> None:
    japanese = {"LANG": "ja_JP.UTF-8", "DXFIELD_CONFIG_DIR": str(tmp_path / "config")}
    env = {k: v for k, v in os.environ.items() if k != "DXFIELD_LANG"}
    result = subprocess.run(
        [sys.executable, "-m", "dxfield", "--help"],
        capture_output=True,
        text=True,
        env={**env, **japanese},
        timeout=120,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("使い方: dxfield") and "コマンド:" in result.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "dxfield", "frobnicate"],
        capture_output=True,
        text=True,
        env={**env, **japanese},
        timeout=120,
    )
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("エラー: コマンド 'frobnicate' はありません")
