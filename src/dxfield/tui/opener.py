"""Opening an attachment with the system's viewer.

The blob itself is never opened: it has no extension (a viewer would not know what it is) and
must not be edited (its name is its hash). A copy with the attachment's own name goes into a
temporary folder of its own, and that copy is opened by `open_file`, the one function that starts
a viewer: tests replace `OPENER` and no real viewer is ever started by them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


class NoViewer(Exception):
    """No program to open files with (`command` is the one looked for)."""

    def __init__(self, command: str) -> None:
        super().__init__(command)
        self.command = command


def open_file(path: Path) -> None:
    """Open `path` with the system's viewer (returns once the viewer has been started)."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]  # Windows only
        return
    command = "open" if sys.platform == "darwin" else "xdg-open"
    found = shutil.which(command)
    if found is None:
        raise NoViewer(command)
    subprocess.Popen(
        [found, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the viewer outlives the app, and its output stays off screen
    )


OPENER: Callable[[Path], None] = open_file
"""What opens a file (tests put theirs here)."""


def copy_out(data_dir: Path, sha256: str, file_name: str) -> Path:
    """A copy of the blob `sha256`, named `file_name`, in a temporary folder of its own."""
    from dxfield.store import blobs

    source = blobs.blob_path(data_dir, sha256)
    folder = Path(tempfile.mkdtemp(prefix="dxfield-open-"))
    target = folder / Path(file_name).name
    shutil.copyfile(source, target)
    return target
