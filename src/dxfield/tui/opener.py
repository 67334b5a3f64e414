"""Opening an attachment with the system's viewer.

The blob itself is never opened: it has no extension (a viewer would not know what it is) and
must not be edited (its name is its hash). A copy goes into a temporary folder of its own (in
this user's `dxfield-open-UID` folder, private to them: one that is not theirs, not a folder or
readable by others is not used, another is made; copies older than a day are removed at the next
open), and that copy is opened by `open_file`, the one function that starts a viewer: tests
replace `OPENER` and no real viewer is ever started by them.

The copy's name is made here from the attachment's (`copy_name`): its stem made safe and its
type's own extension, whatever the record's name ends in. The name came from another device,
and the system's viewer chooses the program by the extension: a record however named never has
a program run (`x.pdf.exe`), and plain text opens as `.txt` (a `.csv` would open in Excel, where
a cell can run a formula).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
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
    """This user's folder of copies opened, inside the system's temporary folder: a folder of
    theirs that only they can read (a shared temporary folder lets anyone make the name first,
    or a link of that name); when the one by that name is not, another is made."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"dxfield-open-{uid}"
    with contextlib.suppress(OSError):
        folder.mkdir(mode=0o700, exist_ok=True)
    if _private(folder):
        return folder
    return Path(tempfile.mkdtemp(prefix=f"dxfield-open-{uid}-"))


def _private(folder: Path) -> bool:
    """Whether `folder` is a folder (not a link), this user's and only theirs (mode 0700)."""
    try:
        found = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(found.st_mode):
        return False
    if not hasattr(os, "getuid"):  # Windows: the temporary folder is the user's own
        return True
    return found.st_uid == os.getuid() and stat.S_IMODE(found.st_mode) == 0o700


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


def copy_name(file_name: str, media_type: str) -> str:
    """The name a copy opened is given: the attachment's name without its extension, made safe
    (`store.files.safe_name_part`), and its type's first extension (`.txt` for any text)."""
    from dxfield.domain.records import MEDIA_TYPES
    from dxfield.store.files import safe_name_part

    name = Path(file_name.replace("\\", "/")).name
    suffix = Path(name).suffix
    stem = name[: -len(suffix)] if suffix else name
    extension = MEDIA_TYPES.get(media_type, (".bin",))[0]
    return safe_name_part(stem, fallback="file", limit=120) + extension


def copy_out(store: Store, attachment_id: str, file_name: str, media_type: str) -> Path:
    """A copy of the attachment's bytes (checked against its SHA-256 as they are copied), named
    after `file_name` as `copy_name` says, in a temporary folder of its own (call from a worker
    thread)."""
    from dxfield.store.attachments import save_copy

    copies = _copies_folder()
    _remove_old(copies)
    folder = Path(tempfile.mkdtemp(dir=copies))
    try:
        return save_copy(store, attachment_id, folder / copy_name(file_name, media_type))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
