"""Opening an attachment with the system's viewer.

The blob itself is never opened: it has no extension (a viewer would not know what it is) and
must not be edited (its name is its hash). A copy with the attachment's own name goes into a
temporary folder of its own (in this user's `dxfield-open-UID` folder, private to them; copies
older than a day are removed at the next open), and that copy is opened by `open_file`, the one function that starts
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dxfield.store.engine import Store


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


KEPT_SECONDS = 24 * 3600
"""How long a copy opened stays in the temporary folder (the viewer may read it again while it
is open); older ones are removed at the next open."""


def _copies_folder() -> Path:
    """This user's folder of copies opened, inside the system's temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"dxfield-open-{uid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _remove_old(folder: Path) -> None:
    """Remove the copies opened more than KEPT_SECONDS ago (photos of people included)."""
    from dxfield import clock

    limit = clock.now().timestamp() - KEPT_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < limit:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue  # gone meanwhile


def copy_out(store: Store, attachment_id: str, file_name: str) -> Path:
    """A copy of the attachment's bytes (checked against its SHA-256 as they are copied), named
    `file_name`, in a temporary folder of its own (call from a worker thread)."""
    from dxfield.store.attachments import save_copy

    copies = _copies_folder()
    _remove_old(copies)
    folder = Path(tempfile.mkdtemp(dir=copies))
    try:
        return save_copy(store, attachment_id, folder / Path(file_name).name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
