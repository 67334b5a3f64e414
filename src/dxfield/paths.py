"""Where dxfield keeps its files.

The data directory is, in order: the `--data-dir` option, the `DXFIELD_DATA_DIR` environment
variable, or platformdirs' user data directory. Nothing here touches the disk at import time.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

APP_NAME = "dxfield"
ENV_DATA_DIR = "DXFIELD_DATA_DIR"
ENV_DOCUMENTS_DIR = "DXFIELD_DOCUMENTS_DIR"
"""Where reports and tables are written by default (the tests point it into their own folder)."""
ENV_DATABASE = "DXFIELD_DATABASE_URL"
"""A hub's PostgreSQL database (`--database` wins over it); without either, the SQLite file."""
STORE_FILE = "dxfield.sqlite3"
KEY_FILE = "device-keys.json"
"""The device's private keys, beside the store (owner-only)."""


def user_data_dir() -> Path:
    """The platform's per-user data directory for dxfield (not created here)."""
    from platformdirs import user_data_dir as _user_data_dir

    return Path(_user_data_dir(APP_NAME, appauthor=False))


def documents_dir() -> Path:
    """Where files for people (reports, tables) go by default: `$DXFIELD_DOCUMENTS_DIR`, else
    the platform's documents folder (`~/Documents`, the XDG documents dir, Windows' Documents)."""
    env = os.environ.get(ENV_DOCUMENTS_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_documents_dir

    return Path(user_documents_dir())


def resolve_data_dir(option: str | Path | None = None) -> Path:
    """The data directory chosen by option, then environment, then platform default."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return user_data_dir()


def demo_data_dir(option: str | Path | None = None) -> Path:
    """The demo store's own directory: `--data-dir` when given, else `demo/` under the data dir.

    The demo never shares a directory with the user's real log unless asked to.
    """
    if option:
        return Path(option).expanduser()
    return resolve_data_dir() / "demo"


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by its owner only.

    A folder that already exists is left as it is: `--data-dir ~/Documents` must not lock the
    user out of their own folder; the store file itself is made owner-only.
    """
    if path.is_dir():
        return path
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A filesystem without POSIX modes (FAT on a USB stick, Windows) refuses; the folder still works.
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    return path
