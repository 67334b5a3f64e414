"""Quick capture (`N` from the main screens): title, municipality, kind and a note on one screen.

For the moment right after a visit: `ctrl+s` saves an ordinary activity dated today (its
municipality and kind remembered for the next form, as the full form does), and everything else
is filled in later in the full form (`e` on the activity). The municipality is typed, not
picked: a name, its beginning or its reading (`豊岡`, `とよおか`), completed as it is typed;
it starts as the last one used. The note starts from the kind's note template, if there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, TextArea

from dxfield.domain.enums import ActivityKind
from dxfield.i18n import N_, _, current_language
from dxfield.tui.screens.base import FormModal, still_saving
from dxfield.tui.text import plain


@dataclass(frozen=True)
class Place:
    """A municipality the capture can name: its name, its reading and its id."""

    name: str
    kana: str
    id: str


@dataclass(frozen=True)
class Capture:
    """What the capture saves."""

    title: str
    municipality_id: str
    kind: str
    notes: str


def match_places(places: list[Place], text: str) -> list[Place]:
    """The municipalities `text` names: the one of that name, else those whose name or
    reading begins with it, else those whose name holds it."""
    text = text.strip()
    if not text:
        return []
    exact = [p for p in places if text in (p.name, p.kana)]
    if exact:
        return exact
    starts = [p for p in places if p.name.startswith(text) or p.kana.startswith(text)]
    return starts or [p for p in places if text in p.name]


class CaptureScreen(FormModal):
    """One screen, four fields; `ctrl+s` saves, escape closes (asking when something was
    typed)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="save-capture"),
        Binding("escape", "cancel", N_("Close"), id="cancel-capture"),
    ]

    DEFAULT_CSS = """
    CaptureScreen #capture-notes { height: 5; }
    CaptureScreen #form-error { margin-bottom: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._places: list[Place] = []
        self._templates: dict[str, str] = {}
        self._template_shown = ""

    def compose(self) -> ComposeResult:
        # Compact fields, the error under the heading: all of it, and what is wrong, at 80x24.
        lang = current_language()
        with VerticalScroll():
            yield Label(_("Quick capture (dated today; the rest later in the full form)"))
            yield Label("", id="form-error")
            yield Label(_("Title"), classes="field-label")
            yield Input(id="capture-title", select_on_focus=False, compact=True)
            yield Label(_("Municipality (a name, its beginning or reading)"), classes="field-label")
            yield Input(id="capture-municipality", compact=True)
            yield Label(_("Kind"), classes="field-label")
            yield Select[str](
                [(k.label(lang), k.value) for k in ActivityKind],
                allow_blank=False,
                value=ActivityKind.meeting.value,
                id="capture-kind",
                compact=True,
            )
            yield Label(_("Note"), classes="field-label")
            yield TextArea(id="capture-notes", soft_wrap=True, compact=True)
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel", compact=True)
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.sub_title = _("Quick capture")
        self.query_one("#capture-title", Input).focus()
        self._load()

    @work(thread=True, exclusive=True, group="capture-load", exit_on_error=False)
    def _load(self) -> None:
        from dxfield.store.activity_entry import form_defaults
        from dxfield.store.note_templates import note_templates
        from dxfield.store.organizations import LOCAL_GOVERNMENT, list_organizations

        with self.store.unit(write=False) as store:
            places = [
                Place(o.name, o.kana or "", o.id)
                for o in list_organizations(store, kinds=LOCAL_GOVERNMENT)
            ]
            last = form_defaults(store)
            templates = note_templates(store)
        self.app.call_from_thread(self._fill, places, last, templates)

    def _fill(
        self, places: list[Place], last: dict[str, object], templates: dict[str, str]
    ) -> None:
        self._places = places
        self._templates = templates
        field = self.query_one("#capture-municipality", Input)
        field.suggester = SuggestFromList([p.name for p in places], case_sensitive=False)
        named = next((p for p in places if p.id == last.get("municipality_id")), None)
        if named is not None and not field.value:
            field.value = named.name
        kind = last.get("kind")
        if isinstance(kind, str) and kind in {k.value for k in ActivityKind}:
            self.query_one("#capture-kind", Select).value = kind
        self._offer_template()

    @on(Select.Changed, "#capture-kind")
    def _kind_changed(self) -> None:
        self._offer_template()

    def _offer_template(self) -> None:
        """The kind's note template in the note, while the note holds nothing typed."""
        notes = self.query_one("#capture-notes", TextArea)
        if notes.text.strip() and notes.text != self._template_shown:
            return
        kind = self.query_one("#capture-kind", Select).value
        template = self._templates.get(kind, "") if isinstance(kind, str) else ""
        notes.text = template
        self._template_shown = template
        if template:
            notes.move_cursor((1, 0))  # under the first heading (日時)

    def _typed(self) -> bool:
        """Whether anything was typed (a template or the last municipality is not typing)."""
        notes = self.query_one("#capture-notes", TextArea).text
        return bool(
            self.query_one("#capture-title", Input).value.strip()
            or (notes.strip() and notes != self._template_shown)
        )

    def check(self) -> Capture | None:
        """A title and one municipality are needed; the rest is filled in later."""
        title = self.query_one("#capture-title", Input).value.strip()
        if not title:
            self.show_error(_("The title is needed"))
            self.query_one("#capture-title", Input).focus()
            return None
        text = self.query_one("#capture-municipality", Input).value.strip()
        found = match_places(self._places, text)
        if len(found) != 1:
            if not text:
                self.show_error(_("The municipality is needed"))
            elif not found:
                self.show_error(_("No municipality is called “{text}”").format(text=text))
            else:
                names = "、".join(p.name for p in found[:5]) + ("…" if len(found) > 5 else "")
                self.show_error(_("“{text}” could be: {names}").format(text=text, names=names))
            field = self.query_one("#capture-municipality", Input)
            field.focus()
            field.select_all()  # typing replaces it
            return None
        kind = self.query_one("#capture-kind", Select).value
        notes = self.query_one("#capture-notes", TextArea).text
        return Capture(
            title,
            found[0].id,
            kind if isinstance(kind, str) else ActivityKind.meeting.value,
            notes,
        )

    def write(self, payload: object) -> None:
        """Save it as an ordinary activity, dated today."""
        from dxfield.store.activity_entry import activity_input, save_activity

        assert isinstance(payload, Capture)
        today = self.dx.today
        save_activity(
            self.store,
            activity_input(
                title=payload.title,
                kind=payload.kind,
                date=today.isoformat(),
                municipality=payload.municipality_id,
                notes=payload.notes,
                today=today,
            ),
        )

    def action_cancel(self) -> None:
        """Close; when something was typed, ask first."""
        from dxfield.tui.screens.confirm import ConfirmScreen

        if still_saving(self, self._saving):
            return
        if not self._typed():
            self.dismiss(False)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(False)

        self.app.push_screen(ConfirmScreen(_("Discard your changes and close?")), answer)

    def show_error(self, message: str) -> None:
        """Say what is wrong, under the fields."""
        self.query_one("#form-error", Label).update(plain(message))
