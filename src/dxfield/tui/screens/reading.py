"""Set an organization's reading (ctrl+r in a pick list), where the guess from its name is
wrong: the reading is what `たか` and `taka` find it by."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label

from dxfield.domain.readings import Pickable, pickable, reading_of
from dxfield.domain.visible import visible
from dxfield.i18n import _
from dxfield.tui.screens.base import FormModal


class ReadingScreen(FormModal):
    """The reading (kana) of one organization; empty goes back to the guess."""

    def __init__(self, org_id: str, name: str, reading: str) -> None:
        super().__init__()
        self.org_id = org_id
        self.name_shown = name
        self.reading = reading
        self.saved: Pickable | None = None
        """The organization as a choice with its new reading, once saved."""
        self.saved_reading = reading

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(
                _("Reading of {name}").format(name=visible(self.name_shown)),
                classes="field-label",
                markup=False,
            )
            yield Input(self.reading, id="reading-kana")
            yield Label(
                _("In kana, as the name is said (empty: as guessed from the name)"),
                classes="field-label",
            )
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#reading-kana", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_save()

    def check(self) -> str | None:
        """Any text: the record checks it."""
        return self.query_one("#reading-kana", Input).value

    def write(self, payload: object) -> None:
        from dxfield.store.organizations import set_reading

        found, _changed = set_reading(self.store, self.org_id, str(payload))
        self.saved = pickable(found.name, found.id, found.kana)
        self.saved_reading = reading_of(found.name, found.kana)
