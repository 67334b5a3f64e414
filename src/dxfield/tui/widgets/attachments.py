"""The files attached to an activity or a finding, as its view shows them: one line each (name,
type, size, caption, when a photo was taken), and under the list the highlighted photo, drawn as
the terminal can (tui/images.py) from a thumbnail made once (tui/thumbnails.py) in a worker.

`o` (or Enter) opens the highlighted file with the system's viewer (a copy with its own name:
tui/opener.py), `x` detaches it (asked first; `u` attaches it again while the notice shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from dxfield.domain.records import PURGED_FILE_NAME
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, pgettext
from dxfield.store.attachments import size_text
from dxfield.store.pictures import is_photo
from dxfield.tui.thumbnails import Thumbnail, thumbnail_of

if TYPE_CHECKING:
    from dxfield.domain.records import AttachmentRead
    from dxfield.tui.app import DxfieldApp

_TYPE_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
}


def type_name(media_type: str) -> str:
    """A file's type as a person names it (JPEG, PDF, Word, text)."""
    if media_type == "text/plain":
        return pgettext("file type", "text")
    return _TYPE_NAMES.get(media_type, media_type)


def is_purged(attachment: Any) -> bool:
    """Whether the hub purged the file (its content and personal fields removed everywhere)."""
    return bool(getattr(attachment, "purged", False)) or attachment.file_name == PURGED_FILE_NAME


def attachment_line(attachment: AttachmentRead) -> Text:
    """One attachment on one line: name · type · size · caption · taken at."""
    if is_purged(attachment):
        return Text.assemble((_("Erased"), "italic"), " · ", type_name(attachment.media_type))
    parts = [
        visible(attachment.file_name),
        type_name(attachment.media_type),
        size_text(attachment.size),
    ]
    if attachment.caption:
        parts.append(visible(attachment.caption.replace("\n", " ")))
    if attachment.taken_at:
        parts.append(_("taken {moment}").format(moment=attachment.taken_at.replace("T", " ")[:16]))
    return Text(" · ".join(parts), no_wrap=True, overflow="ellipsis")


@dataclass(frozen=True)
class Shown:
    """The highlighted photo's thumbnail (or why there is none), for attachment `sha256`."""

    sha256: str
    thumbnail: Thumbnail
    picture: Any = None
    """The thumbnail decoded (a Pillow image), ready to draw."""


class AttachmentList(OptionList):
    """The attachments, one per line; `o` or Enter opens one, `x` detaches it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "o",
            "open",
            N_("Open file"),
            id="attachment-open",
            tooltip=N_("Open the highlighted attachment with the system's viewer"),
        ),
        Binding(
            "x",
            "detach",
            N_("Detach"),
            id="attachment-detach",
            tooltip=N_("Detach the highlighted attachment (asks first; u attaches it again)"),
        ),
    ]

    class OpenAsked(Message):
        """A person asked to open the highlighted attachment."""

    class DetachAsked(Message):
        """A person asked to detach the highlighted attachment."""

    def action_open(self) -> None:
        """Open the highlighted file with the system's viewer."""
        self.post_message(self.OpenAsked())

    def action_detach(self) -> None:
        """Detach the highlighted file (asked first)."""
        self.post_message(self.DetachAsked())


class AttachmentsPanel(Vertical):
    """A record's attachments and the highlighted photo (hidden while there are none)."""

    DEFAULT_CSS = """
    AttachmentsPanel { height: auto; display: none; margin-bottom: 1; padding: 0 2; }
    AttachmentsPanel.shown { display: block; }
    AttachmentsPanel #attachments-heading { text-style: bold; color: $primary; margin: 1 0; }
    AttachmentsPanel AttachmentList { height: auto; max-height: 8; border: none; padding: 0; }
    AttachmentsPanel #attachment-note { color: $text-muted; height: auto; }
    AttachmentsPanel #attachment-picture { height: auto; }
    AttachmentsPanel #attachment-picture > * { width: auto; height: 12; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.attachments: list[AttachmentRead] = []
        self._shown_sha: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(_("Attachments"), id="attachments-heading")
        yield AttachmentList(id="attachment-list")
        yield Label("", id="attachment-note")
        yield Vertical(id="attachment-picture")

    @property
    def data_dir(self) -> Path:
        """The data folder whose blobs (and thumbnails) are shown."""
        return _app(self).data_dir

    @property
    def highlighted(self) -> AttachmentRead | None:
        """The attachment under the list's cursor (None once the panel is taken down: the
        picture asked for after a refresh may come after the view was closed)."""
        if self._taken_down():
            return None
        index = self.query_one(AttachmentList).highlighted
        if index is None or not 0 <= index < len(self.attachments):
            return None
        return self.attachments[index]

    def show(self, attachments: list[AttachmentRead]) -> None:
        """Show `attachments` (the cursor stays on the one it was on, if it is still there)."""
        before = self.highlighted
        self.attachments = list(attachments)
        self.set_class(bool(attachments), "shown")
        heading = _("Attachments ({count})").format(count=len(attachments))
        self.query_one("#attachments-heading", Label).update(heading)
        listing = self.query_one(AttachmentList)
        with listing.prevent(OptionList.OptionHighlighted):
            listing.set_options(Option(attachment_line(a), id=a.id) for a in attachments)
        ids = [a.id for a in attachments]
        if attachments:
            listing.highlighted = ids.index(before.id) if before and before.id in ids else 0
        # The list is painted first; the picture follows (issue 19: a view with photos opens as
        # quickly as one without).
        self.call_after_refresh(lambda: self._picture_for(self.highlighted))

    @on(OptionList.OptionHighlighted, "#attachment-list")
    def _moved(self) -> None:
        self._picture_for(self.highlighted)

    @on(OptionList.OptionSelected, "#attachment-list")
    @on(AttachmentList.OpenAsked)
    def open_highlighted(self) -> None:
        """Open the highlighted file with the system's viewer."""
        if self.highlighted is not None:
            open_attachment(self, self.highlighted)

    @on(AttachmentList.DetachAsked)
    def detach_highlighted(self) -> None:
        """Detach the highlighted file (asked first; `u` attaches it again)."""
        if self.highlighted is not None:
            detach_attachment(self, self.highlighted)

    def _taken_down(self) -> bool:
        """Whether the panel's parts are gone: the picture asked for after a refresh, or a
        thumbnail made in a worker, may arrive after the view was closed or its record deleted,
        while its parts are being removed one by one."""
        parts = ("#attachment-list", "#attachment-note", "#attachment-picture")
        return not self.is_attached or not all(self.query(part) for part in parts)

    def _picture_for(self, attachment: AttachmentRead | None) -> None:
        """The highlighted photo's picture (made in a worker), or nothing for another file."""
        if self._taken_down():
            return
        if attachment is None or is_purged(attachment) or not is_photo(attachment.media_type):
            self._shown_sha = None
            self._clear_picture()
            self._note("")
            return
        if attachment.sha256 == self._shown_sha:
            return
        self._shown_sha = attachment.sha256
        self._make_thumbnail(attachment.sha256)

    @work(thread=True, exclusive=True, group="attachment-thumbnail", exit_on_error=False)
    def _make_thumbnail(self, sha256: str) -> None:
        thumbnail = thumbnail_of(self.data_dir, sha256, _app(self).store.blobs)
        shown = Shown(sha256, thumbnail)
        if thumbnail.path is not None:
            # Decoded here, off the event loop (and the drawing widgets' imports with it).
            from dxfield.tui.images import image_class

            image_class()
            try:
                from PIL import Image

                with Image.open(thumbnail.path) as image:
                    image.load()
                    shown = Shown(sha256, thumbnail, image.copy())
            except Exception as exc:  # a damaged thumbnail: one line, and made again next time
                thumbnail.path.unlink(missing_ok=True)
                problem = _("No picture can be made of this file ({detail}).")
                shown = Shown(sha256, Thumbnail(None, problem.format(detail=type(exc).__name__)))
        self.app.call_from_thread(self._thumbnail_made, shown)

    def _thumbnail_made(self, shown: Shown) -> None:
        if shown.sha256 != self._shown_sha or self._taken_down():  # moved on, or closed
            return
        self._clear_picture()
        if shown.picture is None:
            self._note(shown.thumbnail.problem)
            return
        self._note("")
        from dxfield.tui.images import image_class

        try:
            picture = image_class()(shown.picture)
        except Exception as exc:  # a thumbnail that cannot be drawn: one line, not a crash
            self._note(
                _("No picture can be made of this file ({detail}).").format(
                    detail=type(exc).__name__
                )
            )
            return
        self.query_one("#attachment-picture").mount(picture)

    def _clear_picture(self) -> None:
        self.query_one("#attachment-picture").remove_children()

    def _note(self, text: str) -> None:
        from dxfield.tui.text import plain

        self.query_one("#attachment-note", Label).update(plain(text))


# -- opening and detaching -----------------------------------------------------------------------


def _app(node: Any) -> DxfieldApp:
    from dxfield.tui.app import DxfieldApp

    return cast(DxfieldApp, node.app)


def open_attachment(node: Any, attachment: AttachmentRead) -> None:
    """Open a copy of `attachment` (with its own name) with the system's viewer, in a worker;
    one line when it cannot be (the file is not here, no viewer)."""
    app = _app(node)
    if is_purged(attachment):
        app.notify(_("This file was erased at the hub."), markup=False)
        return

    def run() -> None:
        from dxfield.i18n import LocalizedError
        from dxfield.tui import opener
        from dxfield.tui.text import error_text

        try:
            copy = opener.copy_out(
                app.store, attachment.id, attachment.file_name, attachment.media_type
            )
        except (LocalizedError, OSError) as exc:  # not here, damaged: one line
            app.call_from_thread(
                app.notify, error_text(exc), severity="warning", timeout=10, markup=False
            )
            return
        try:
            opener.OPENER(copy)
        except opener.NoViewer as exc:
            said = _("No program to open files with was found ({command}).")
            app.call_from_thread(
                app.notify, said.format(command=exc.command), severity="warning", markup=False
            )
            return
        app.call_from_thread(
            app.notify, _("Opened {name}").format(name=visible(attachment.file_name)), markup=False
        )

    app.run_worker(run, thread=True, group="attachment-open", exit_on_error=False)


def detach_attachment(node: Any, attachment: AttachmentRead) -> None:
    """Ask, then detach `attachment` (a deletion: its history stays) and offer `u` to attach it
    again while the notice shows."""
    from dxfield.tui.screens.confirm import ConfirmScreen
    from dxfield.tui.undo import Undo, restore_deleted, said

    app = _app(node)
    name = said(attachment.file_name)

    def write() -> None:
        from dxfield.store.attachments import detach

        detach(app.store, attachment.id)
        app.call_from_thread(detached)

    def detached() -> None:
        app.undoer.offer(
            _("Detached “{name}”").format(name=name),
            Undo(
                restore_deleted(attachment.id),
                _("Attached “{name}” again").format(name=name),
                after=app.reload_screen,
            ),
        )
        app.reload_screen()
        app.refresh_status()

    def answer(yes: bool | None) -> None:
        if yes:
            app.run_worker(write, thread=True, group="attachment-detach", exit_on_error=False)

    app.push_screen(
        ConfirmScreen(_("Detach “{name}”? Its history stays.").format(name=name)), answer
    )
