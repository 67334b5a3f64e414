"""Note templates (from the command palette): the note a new activity of each kind starts with.

Choose a kind, edit its template, `ctrl+s` saves it (empty: no template for that kind);
"Built-in" puts back the 議事録 headings dxfield starts with (the saved one is deleted, and can be
restored from the history). A saved template is a synced record (store/note_templates.py): it
reaches every device through bundles, and two devices' edits of one kind's template show in
Conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, Select, TextArea

from dxfield.domain.enums import ActivityKind
from dxfield.i18n import _, current_language
from dxfield.tui.screens.base import FormModal


@dataclass(frozen=True)
class TemplateEdit:
    """A kind's template as saved (None: back to the built-in one)."""

    kind: str
    text: str | None


class NoteTemplatesScreen(FormModal):
    """Edit one kind's note template at a time."""

    DEFAULT_CSS = """
    NoteTemplatesScreen #template-text { height: 1fr; min-height: 5; max-height: 16; }
    NoteTemplatesScreen > VerticalScroll { height: 90%; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._templates: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        lang = current_language()
        with VerticalScroll():
            yield Label(_("Note templates: the note a new activity of this kind starts with"))
            yield Label(_("Kind"), classes="field-label")
            yield Select[str](
                [(k.label(lang), k.value) for k in ActivityKind],
                allow_blank=False,
                value=ActivityKind.meeting.value,
                id="template-kind",
                compact=True,
            )
            yield Label(_("Template (Markdown; empty: none)"), classes="field-label")
            yield TextArea(id="template-text", soft_wrap=True, compact=True)
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Built-in"), id="built-in", compact=True)
                yield Button(_("Close (esc)"), id="cancel", compact=True)
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="note-templates", exit_on_error=False)
    def _load(self) -> None:
        from dxfield.store.note_templates import note_templates

        templates = note_templates(self.store)
        self.app.call_from_thread(self._fill, templates)

    def _fill(self, templates: dict[str, str]) -> None:
        self._templates = templates
        self._show_kind()
        self.query_one("#template-text", TextArea).focus()

    def _kind(self) -> str:
        value = self.query_one("#template-kind", Select).value
        return value if isinstance(value, str) else ActivityKind.meeting.value

    @on(Select.Changed, "#template-kind")
    def _show_kind(self) -> None:
        self.query_one("#template-text", TextArea).text = self._templates.get(self._kind(), "")
        self.query_one("#form-error", Label).update("")

    def check(self) -> TemplateEdit:
        """Any text will do (empty: no template)."""
        return TemplateEdit(self._kind(), self.query_one("#template-text", TextArea).text)

    def write(self, payload: object) -> None:
        """Save the template, or go back to the built-in one."""
        from dxfield.store.note_templates import reset_note_template, set_note_template

        assert isinstance(payload, TemplateEdit)
        if payload.text is None:
            reset_note_template(self.store, payload.kind)
        else:
            set_note_template(self.store, payload.kind, payload.text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        # Save and Close are FormModal's (its handler runs after this one).
        if event.button.id == "built-in":
            event.prevent_default()
            self.submit(TemplateEdit(self._kind(), None))
