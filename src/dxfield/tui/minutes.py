"""`M` (on an activity, and on the Log's row under the cursor): write its minutes (議事録) as a
Word file into the documents folder, in a thread worker, and say where in a notification.

A name already taken there is never written over: the next free one (…-2.docx) is used. A
failure becomes a notification (`DxScreen.on_worker_state_changed`). Photos the minutes could not
show (not on this device yet, damaged, not an image) are counted in the notification: the
minutes say which in their place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dxfield.i18n import _, ngettext

if TYPE_CHECKING:
    from dxfield.tui.screens.base import DxScreen

FORMAT = "docx"


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or the first of name-2, name-3… that is not taken."""
    candidate = folder / name
    stem, suffix = candidate.stem, candidate.suffix
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate


def write_minutes_of(screen: DxScreen, activity_id: str) -> None:
    """Write the minutes of `activity_id` in a worker of `screen`; notify where."""

    def write() -> None:
        from dxfield.paths import documents_dir
        from dxfield.report.minutes import build_minutes, file_name, write_minutes
        from dxfield.tui.text import display_path

        store = screen.store
        minutes = build_minutes(store, [activity_id])
        folder = documents_dir()
        folder.mkdir(parents=True, exist_ok=True)
        out = write_minutes(store, minutes, free_path(folder, file_name(minutes, FORMAT)), FORMAT)
        message = _("Wrote the minutes to {path}").format(path=display_path(str(out)))
        if count := len(minutes.problems):
            message += ngettext(
                " ({count} photo could not be shown: the minutes say which)",
                " ({count} photos could not be shown: the minutes say which)",
                count,
            ).format(count=count)
        severity = "warning" if minutes.problems else "information"
        screen.app.call_from_thread(screen.notify, message, markup=False, severity=severity)

    screen.run_worker(write, thread=True, group="minutes", exit_on_error=False)
