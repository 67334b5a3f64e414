"""File names Windows keeps for itself: no pydantic or SQLAlchemy here, so that the light paths
(store/files.py, read by the app's first screen) can ask without loading the record layer."""

from __future__ import annotations

WINDOWS_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
"""Names Windows takes for a device, whatever extension follows (`NUL.txt` is the device too)."""


def is_device_name(name: str) -> bool:
    """Whether Windows takes the file name `name` for a device (`CON`, `com1.txt`, `Nul .pdf`)."""
    return name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICE_NAMES
