"""Settings a person keeps on this computer (not synced, not in the store): for now the language
of the interface, `dxfield config set lang ja|en`.

They live in one small JSON file, `settings.json`, in the platform's per-user config directory
as Typer finds it (`typer.get_app_dir`: `~/.config/dxfield` or `$XDG_CONFIG_HOME/dxfield`,
`~/Library/Application Support/dxfield`, `%APPDATA%\\dxfield`), or in `$DXFIELD_CONFIG_DIR` when
that is set (the tests point it into their own folder). Not platformdirs: the CLI reads this file
at every start, and importing platformdirs would cost `dxfield --help` a tenth of its time, when
Typer (imported anyway) knows the same folders. Nothing here touches the disk at import time, and nothing here knows a front end: the
CLI reads the saved language at start and hands it to `dxfield.i18n.set_saved_language`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dxfield.i18n import N_, SUPPORTED, LocalizedError, problems, quote

ENV_CONFIG_DIR = "DXFIELD_CONFIG_DIR"
SETTINGS_FILE = "settings.json"
# Each setting and the values it takes.
CHOICES: dict[str, tuple[str, ...]] = {"lang": SUPPORTED}

PROBLEMS = problems(
    {
        "settings.unknown": N_("there is no setting {name} (there is: {names})"),
        "settings.bad_value": N_("{name} is one of: {choices}, not {value}"),
    }
)


def config_dir() -> Path:
    """Where the settings file is: `$DXFIELD_CONFIG_DIR`, else the platform's config dir."""
    explicit = os.environ.get(ENV_CONFIG_DIR)
    if explicit:
        return Path(explicit).expanduser()
    # Where Typer's `get_app_dir("dxfield")` puts it, without importing Typer (the app opens
    # without it: dxfield/launch.py).
    if sys.platform.startswith("win"):
        folder = os.environ.get("APPDATA")
        return Path(folder if folder is not None else os.path.expanduser("~"), "dxfield")
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~/Library/Application Support"), "dxfield")
    return Path(os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config")), "dxfield")


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load() -> dict[str, str]:
    """The saved settings; none when the file is missing or cannot be read (a setting is a
    convenience: a damaged file must not stop the program)."""
    import json

    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        key: value
        for key, value in data.items()
        if key in CHOICES and isinstance(value, str) and value in CHOICES[key]
    }


def _write(values: dict[str, str]) -> Path:
    import json

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def _check_name(name: str) -> None:
    if name not in CHOICES:
        raise LocalizedError("settings.unknown", name=quote(name), names=", ".join(CHOICES))


def set_value(name: str, value: str) -> Path:
    """Save a setting; returns the file written."""
    _check_name(name)
    if value not in CHOICES[name]:
        raise LocalizedError(
            "settings.bad_value", name=name, choices=", ".join(CHOICES[name]), value=quote(value)
        )
    return _write({**load(), name: value})


def unset_value(name: str) -> Path:
    """Forget a setting (its default applies again); returns the file written."""
    _check_name(name)
    values = load()
    values.pop(name, None)
    return _write(values)


def saved_language() -> str | None:
    """The language saved with `dxfield config set lang`, if any."""
    return load().get("lang")
