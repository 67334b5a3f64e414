"""The draft question, asked at start before anything else: a form was being typed when the app
last stopped; restore it?

Enter restores (the default, focused); escape keeps the draft for the next start; discarding is
a button of its own and asks a second time. No other key answers: `n` (a new activity
elsewhere), `x`, `d`... do nothing here, and the app's keys are off until the question is
answered (`DxfieldApp.check_action`), so a stray key never throws a draft away.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from dxfield import clock
from dxfield.i18n import N_, _
from dxfield.tui.text import plain

if TYPE_CHECKING:
    from dxfield.store.local_state import Draft

DraftAnswer = Literal["restore", "later", "discard"]


def draft_summary(draft: Draft) -> str:
    """What a person recognizes a draft by: when it was saved, its title, its date, the start of
    its notes (plain text, from the draft as typed)."""
    data = draft.data
    saved = clock.in_japan(draft.saved_at)
    title = str(data.get("title") or "").strip() or _("(no title)")
    lines = [
        _("Saved {saved:%Y-%m-%d %H:%M}").format(saved=saved),
        _("Title: {title}").format(title=title),
    ]
    if str(data.get("date") or "").strip():
        lines.append(_("Date: {date}").format(date=str(data["date"]).strip()))
    notes = [line for line in str(data.get("notes") or "").splitlines() if line.strip()]
    if notes:
        lines.append(_("Notes: {notes}").format(notes=notes[0].strip()[:60]))
    from dxfield.store.draft_rows import queued_files  # light: no SQLAlchemy

    names = [PurePath(p).name for paths, _caption in queued_files(data) for p in paths]
    if names:
        lines.append(_("Files to attach: {names}").format(names=_(", ").join(names)[:60]))
    return "\n".join(lines)


class DraftQuestionScreen(ModalScreen[DraftAnswer]):
    """Restore a left-over draft (Enter), keep it for later (escape), or discard it (asks)."""

    blocks_app_keys: ClassVar[bool] = True
    """The app's keys are off while this is on top (see `DxfieldApp.check_action`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "later", N_("Later"), id="draft-later"),
        Binding("y", "restore", N_("Restore"), show=False),
        # Keys that mean something elsewhere answer nothing here.
        Binding("q", "nothing", show=False),
        Binding("left", "previous", show=False),
        Binding("right", "next", show=False),
    ]

    DEFAULT_CSS = """
    DraftQuestionScreen { align: center middle; }
    DraftQuestionScreen > Vertical {
        width: 72; max-width: 95%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    DraftQuestionScreen #draft-heading { text-style: bold; }
    DraftQuestionScreen Label { width: 100%; margin-bottom: 1; }
    DraftQuestionScreen #draft-hint { color: $text-muted; }
    DraftQuestionScreen Horizontal { height: auto; align-horizontal: right; }
    DraftQuestionScreen Button { margin-left: 1; min-width: 10; }
    """

    def __init__(self, draft: Draft, *, index: int = 1, total: int = 1) -> None:
        super().__init__()
        self.draft = draft
        self.index = index
        self.total = total

    def compose(self) -> ComposeResult:
        heading = _("An unsaved draft was found. Restore it?")
        if self.total > 1:
            heading += " " + _("({index} of {total})").format(index=self.index, total=self.total)
        with Vertical():
            yield Label(heading, id="draft-heading")
            yield Label(plain(draft_summary(self.draft), multiline=True), id="draft-summary")
            yield Label(
                _(
                    "Enter restores  ·  escape keeps it for the next start  ·  discarding asks again"
                ),
                id="draft-hint",
            )
            with Horizontal():
                yield Button(_("Discard…"), id="discard", variant="error")
                yield Button(_("Later (esc)"), id="later")
                yield Button(_("Restore (Enter)"), id="restore", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#restore", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        answer: DraftAnswer = (
            "restore"
            if event.button.id == "restore"
            else "discard"
            if event.button.id == "discard"
            else "later"
        )
        self.dismiss(answer)

    def action_restore(self) -> None:
        """Restore the draft."""
        self.dismiss("restore")

    def action_later(self) -> None:
        """Keep the draft for the next start."""
        self.dismiss("later")

    def action_previous(self) -> None:
        """The answer to the left."""
        self.focus_previous()

    def action_next(self) -> None:
        """The answer to the right."""
        self.focus_next()

    def action_nothing(self) -> None:
        """A key that answers nothing here."""
