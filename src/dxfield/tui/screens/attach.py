"""Attach files to an activity or a finding: a path typed with completion (`~` works), an
optional caption, and when the path is a folder, its files listed to tick several.

Each file goes through the attachments service (store/attachments.py) in a thread worker: what
it stripped from a file (its notes) or why it refused one is said under the fields, one line
each. Files attached are not offered again; when one was refused the dialog stays open with
everything typed, so the path can be put right.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, SelectionList, Static

from dxfield.domain.records import MEDIA_TYPES
from dxfield.i18n import N_, _, ngettext
from dxfield.tui.screens.base import FormModal
from dxfield.tui.text import error_text, plain

if TYPE_CHECKING:
    from dxfield.store.engine import Store

ATTACHABLE = frozenset(suffix for suffixes in MEDIA_TYPES.values() for suffix in suffixes)
"""The file name endings a folder's list offers (the service decides by content too)."""
FOLDER_FILES = 500
"""How many of a folder's files the list offers (a camera's folder can hold thousands)."""


def expand(text: str) -> Path:
    """A typed path as the file system reads it (`~` is the home folder)."""
    return Path(os.path.expanduser(text.strip()))


def complete_path(value: str) -> str | None:
    """`value` completed by the first name in its folder that starts with what was typed after
    its last `/` (a folder gets a `/`); None when nothing does. Hidden names only when a `.`
    was typed. Reads the file system: call from a thread."""
    if not value:
        return None
    typed_folder, _slash, start = value.rpartition("/")
    folder = expand(typed_folder + "/") if _slash else Path(".")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    for name in names:
        hidden = name.startswith(".") and not start.startswith(".")
        if name.startswith(start) and name != start and not hidden:
            completed = value + name[len(start) :]
            return completed + "/" if (folder / name).is_dir() else completed
    return None


class PathSuggester(Suggester):
    """Completes file system paths as they are typed (the folder is read in a thread)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        """The path completed (Textual shows it greyed; → takes it)."""
        return await asyncio.to_thread(complete_path, value)


def folder_files(folder: Path) -> list[Path]:
    """The files of `folder` that can be attached, by name (call from a thread)."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    found = [
        p
        for p in entries
        if p.suffix.lower() in ATTACHABLE and not p.name.startswith(".") and p.is_file()
    ]
    return found[:FOLDER_FILES]


@dataclass(frozen=True)
class AttachInput:
    """What to attach: the files and their caption."""

    paths: list[Path]
    caption: str


@dataclass
class AttachResults:
    """What each file became: the lines to show, the files attached, those refused."""

    lines: list[str] = field(default_factory=list)
    attached: list[Path] = field(default_factory=list)
    refused: list[Path] = field(default_factory=list)


def attach_all(store: Store, owner_id: str, given: AttachInput) -> AttachResults:
    """Attach each of `given`'s files to `owner_id` in turn (in a worker thread): a refusal is
    one line and the others still go."""
    from dxfield.store.attachments import attach

    results = AttachResults()
    for path in given.paths:
        try:
            attached = attach(store, owner_id, path, caption=given.caption)
        except Exception as exc:
            results.refused.append(path)
            results.lines.append(
                _("{name}: not attached: {reason}").format(name=path.name, reason=error_text(exc))
            )
            continue
        results.attached.append(path)
        line = _("Attached {name}").format(name=attached.record.file_name)
        if attached.notes:
            line += " (" + "; ".join(attached.notes) + ")"
        results.lines.append(line)
    return results


class AttachScreen(FormModal):
    """Attach files to the activity or finding `owner_id` (`ctrl+s` attaches)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Attach"), id="attach-save"),
        Binding("escape", "cancel", N_("Close"), id="attach-cancel"),
    ]

    DEFAULT_CSS = """
    AttachScreen #attach-heading { text-style: bold; }
    AttachScreen #attach-files { height: auto; max-height: 10; display: none; }
    AttachScreen #attach-files.shown { display: block; }
    AttachScreen #attach-results { height: auto; color: $text-muted; display: none; }
    AttachScreen #attach-results.shown { display: block; }
    /* At 80x24 a folder's list and the buttons fit together. */
    AttachScreen Horizontal { margin-top: 0; }
    """

    def __init__(self, owner_id: str | None, title: str) -> None:
        """Attach to `owner_id`; with None (a new activity not saved yet), the files chosen are
        handed back in `queued`, to be attached once it is saved."""
        super().__init__()
        self.owner_id = owner_id
        self.title_shown = title
        self.results = AttachResults()
        self.queued: AttachInput | None = None
        self._folder: Path | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(
                plain(_("Attach files to “{title}”").format(title=self.title_shown)),
                id="attach-heading",
            )
            yield Label(
                _("File or folder (→ completes; ~ is your home folder)"), classes="field-label"
            )
            yield Input(id="attach-path", suggester=PathSuggester(), select_on_focus=False)
            yield SelectionList[str](id="attach-files")
            yield Label(_("Caption (optional)"), classes="field-label")
            yield Input(id="attach-caption", select_on_focus=False)
            yield Label("", id="form-error")
            yield Static("", id="attach-results")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Attach (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#attach-path", Input).focus()

    @on(Input.Changed, "#attach-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self._look(event.value)

    @work(thread=True, exclusive=True, group="attach-folder", exit_on_error=False)
    def _look(self, typed: str) -> None:
        """A folder's attachable files, listed to tick (read in a thread)."""
        path = expand(typed) if typed.strip() else None
        if path is not None and path.is_dir():
            self.app.call_from_thread(self._list_folder, path, folder_files(path))
        else:
            self.app.call_from_thread(self._list_folder, None, [])

    def _list_folder(self, folder: Path | None, files: list[Path]) -> None:
        listing: SelectionList[str] = self.query_one("#attach-files", SelectionList)
        if folder == self._folder and folder is not None:
            return
        self._folder = folder
        listing.clear_options()
        listing.add_options([(plain(p.name), str(p)) for p in files])
        listing.set_class(folder is not None, "shown")
        if folder is not None and not files:
            self.show_error(_("No file in this folder can be attached."))
        else:
            self.show_error("")

    def check(self) -> AttachInput | None:
        """A file, or the files ticked in a folder (the service checks the rest)."""
        typed = self.query_one("#attach-path", Input).value
        caption = self.query_one("#attach-caption", Input).value
        if not typed.strip():
            self.show_error(_("Type the path of a file or a folder."))
            return None
        if self._folder is not None and self._folder == expand(typed):
            ticked = self.query_one("#attach-files", SelectionList).selected
            if not ticked:
                self.show_error(_("Tick the files to attach (space ticks one)."))
                return None
            return AttachInput([Path(p) for p in ticked], caption)
        return AttachInput([expand(typed)], caption)

    def submit(self, payload: object) -> None:
        """Attach now, or (no owner yet) hand the files back to be attached on saving."""
        if self.owner_id is None and isinstance(payload, AttachInput):
            self.queued = payload
            self.dismiss(True)
            return
        super().submit(payload)

    def write(self, payload: object) -> None:
        """Attach each file in turn; a refusal is one line and the others still go."""
        assert isinstance(payload, AttachInput) and self.owner_id is not None
        results = attach_all(self.store, self.owner_id, payload)
        self.results = results
        if results.refused:
            raise _Refused(results)

    def _failed(self, error: BaseException) -> None:
        self._saving = False
        if not isinstance(error, _Refused):
            self.show_error(error_text(error))
            return
        results = error.results
        count = len(results.refused)
        self.show_error(
            ngettext(
                "{count} file was not attached; everything typed is kept.",
                "{count} files were not attached; everything typed is kept.",
                count,
            ).format(count=count)
        )
        shown = self.query_one("#attach-results", Static)
        shown.update(plain("\n".join(results.lines), multiline=True))
        shown.add_class("shown")
        listing: SelectionList[str] = self.query_one("#attach-files", SelectionList)
        for path in results.attached:  # attached once: not offered again
            listing.deselect(str(path))
        if results.attached:
            self.dx.refresh_status()

    def _saved(self) -> None:
        for line in self.results.lines:
            self.notify(line, markup=False)
        self.dx.refresh_status()
        self.dismiss(True)


class _Refused(Exception):
    """Some files were not attached (the dialog stays open and says which)."""

    def __init__(self, results: AttachResults) -> None:
        super().__init__("not attached")
        self.results = results
