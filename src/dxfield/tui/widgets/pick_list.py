"""A pick list that filters as you type: by name, by reading (kana) and by romaji.

`PickList` is a one-line filter (an `Input`) over the matching choices (an `OptionList` that
never takes focus). Typing narrows the choices (`たか`, `taka` and `多可` all find 多可町, see
`domain.readings`); up and down move through them; enter takes the highlighted one.

- One choice (`multiple=False`): the field shows the chosen label; typing replaces it with a
  filter, and the choices show while the field has focus. Enter takes the highlighted choice
  and moves to the next field; so does tab after typing (what was typed is not dropped).
  Leaving without typing, or when nothing matches, keeps the choice made before. A list that
  may be left empty (`blank=...`) offers that as its first choice.
- Several choices (`multiple=True`): the field is only a filter, the choices show with a mark
  while it has focus, enter ticks or unticks the highlighted one and empties the filter for the next search,
  and a line under the list names those chosen, in the order they were chosen.

Where a list offers organizations (`readings=True`), ctrl+r asks to set the highlighted one's
reading (`PickList.ReadingAsked`), for a name the library reads wrong.

Choices may come in two steps (`set_choices(..., complete=False)`, then the same choices
findable by more keys): what is typed meanwhile stays, and a filter left by tab with no match
yet is taken when the rest come.

Changes post `PickList.Changed` (the inner `Input`'s own messages do not leave the widget).
Values a list does not offer (yet) are kept: a record's participant whose organization is not
listed stays chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.input import Selection
from textual.widgets.option_list import Option

from dxfield.domain.readings import Pickable, matching
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _

SHOWN = 200
"""At most this many matches are listed (a filter narrows the rest)."""


class PickMatches(OptionList, can_focus=False):
    """The choices that match; the filter field keeps the focus."""


class PickList(Vertical, can_focus=False):
    """Choose one or several of a list by typing part of a name, a reading or romaji."""

    DEFAULT_CSS = """
    PickList { height: auto; }
    PickList > Input { width: 1fr; }
    PickList > PickMatches { height: auto; max-height: 6; border: none; padding: 0; display: none; }
    PickList.-open > PickMatches { display: block; }
    PickList > .pick-chosen { color: $text-muted; width: 100%; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", N_("Next choice"), show=False),
        Binding("up", "move(-1)", N_("Previous choice"), show=False),
        Binding("pagedown", "move(5)", N_("Next choice"), show=False),
        Binding("pageup", "move(-5)", N_("Previous choice"), show=False),
        Binding("ctrl+r", "reading", N_("Reading"), id="pick-reading"),
    ]

    class Changed(Message):
        """The choice changed: `value` (one choice) or `values` (several)."""

        def __init__(self, pick: PickList) -> None:
            super().__init__()
            self.pick = pick

        @property
        def control(self) -> PickList:
            """The pick list that changed."""
            return self.pick

        @property
        def value(self) -> str | None:
            """The one value chosen (None for none)."""
            return self.pick.value

        @property
        def values(self) -> list[str]:
            """The values chosen."""
            return self.pick.values

    class ReadingAsked(Message):
        """A person asked to set the reading of the highlighted choice (`value`)."""

        def __init__(self, pick: PickList, value: str) -> None:
            super().__init__()
            self.pick = pick
            self.value = value

        @property
        def control(self) -> PickList:
            """The pick list asked."""
            return self.pick

    def __init__(
        self,
        choices: Sequence[Pickable] = (),
        *,
        multiple: bool = False,
        blank: str | None = None,
        readings: bool = False,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.multiple = multiple
        self.blank = blank
        """The label of "none" when a list may be left empty (one choice only)."""
        self.placeholder = placeholder
        self.readings = readings
        """Whether a person may set a choice's reading here (ctrl+r): organizations."""
        self._choices: list[Pickable] = []
        self._by_value: dict[str, Pickable] = {}
        self._chosen: list[str] = []
        self._shown: list[Pickable] = []
        self._filter = ""
        self._complete = True
        self._pending: str | None = None
        """A filter left with no match before the choices were complete (see set_choices)."""
        self.set_class(multiple, "-multiple")
        self._first_choices = list(choices)

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, select_on_focus=not self.multiple)
        yield PickMatches(markup=False)
        if self.multiple:
            yield Label("", classes="pick-chosen", markup=False)

    def on_mount(self) -> None:
        self.set_choices(self._first_choices)

    # -- what it holds ---------------------------------------------------------------------------

    @property
    def field(self) -> Input:
        """The filter field (where the keys go)."""
        return self.query_one(Input)

    @property
    def choices(self) -> list[Pickable]:
        """The choices offered."""
        return list(self._choices)

    @property
    def value(self) -> str | None:
        """The one value chosen, or None."""
        return self._chosen[0] if self._chosen else None

    @property
    def values(self) -> list[str]:
        """Every value chosen, in the order chosen."""
        return list(self._chosen)

    def label_of(self, value: str) -> str:
        """What a value shows as (the value itself when it is not offered)."""
        found = self._by_value.get(value)
        return found.label if found is not None else value

    def set_choices(self, choices: Iterable[Pickable], *, complete: bool = True) -> None:
        """Offer `choices`; what was chosen stays chosen. `complete=False` says the same
        choices will come again, findable by more keys (romaji once readings are guessed): a
        filter left (tab) with no match meanwhile waits for them, and is taken then."""
        self._choices = list(choices)
        self._by_value = {c.value: c for c in self._choices}
        self._complete = complete
        if not self.is_mounted:
            return
        pending, self._pending = self._pending, None
        if pending and complete and not self.field.has_focus:
            found = matching(pending, self._offered())
            if found:
                self.set_value(found[0].value or None, announce=True)
        elif pending and not complete:
            self._pending = pending
            return
        self._show_choice()
        self._refilter(self._filter)

    def set_value(self, value: str | None, *, announce: bool = False) -> None:
        """Choose `value` (None for none); `announce` posts `Changed` when it changed."""
        self.set_values([value] if value else [], announce=announce)

    def set_values(self, values: Iterable[str], *, announce: bool = False) -> None:
        """Choose `values` (several), or the first of them (one choice)."""
        chosen = list(dict.fromkeys(v for v in values if v))
        if not self.multiple:
            chosen = chosen[:1]
        changed = chosen != self._chosen
        self._chosen = chosen
        if self.is_mounted:
            self._show_choice()
            self._refilter(self._filter)
        if changed and announce:
            self.post_message(self.Changed(self))

    # -- showing ---------------------------------------------------------------------------------

    def _show_choice(self) -> None:
        if self.multiple:
            names = _(", ").join(visible(self.label_of(v)) for v in self._chosen)
            label = self.query_one(".pick-chosen", Label)
            label.update(_("Chosen: {names}").format(names=names) if names else "")
            label.display = bool(names)
            return
        field = self.field
        if self._filter and field.has_focus:
            return  # a person is typing (before the choices came, say): their text stays
        shown = visible(self.label_of(self.value)) if self.value else ""
        if field.value != shown:
            with field.prevent(Input.Changed):
                field.value = shown
            field.cursor_position = 0  # a long label shows from its start
        self._filter = ""

    def _offered(self) -> list[Pickable]:
        if self.blank is not None and not self.multiple:
            return [Pickable(self.blank, "", ()), *self._choices]
        return self._choices

    def _refilter(self, text: str) -> None:
        self._filter = text
        offered = self._offered()
        self._shown = matching(text, offered)[:SHOWN] if text else offered[:SHOWN]
        matches = self.query_one(PickMatches)
        chosen = set(self._chosen)

        def prompt(choice: Pickable) -> Text:
            label = visible(choice.label)
            if self.multiple:
                return Text(("☑ " if choice.value in chosen else "☐ ") + label)
            return Text(label)

        matches.set_options([Option(prompt(c)) for c in self._shown])
        if not self._shown:
            return
        if text or self.multiple:
            matches.highlighted = 0
        else:  # the whole list, at the choice made
            at = next((i for i, c in enumerate(self._shown) if c.value == (self.value or "")), 0)
            matches.highlighted = at
        matches.scroll_to_highlight()

    # -- keys ------------------------------------------------------------------------------------

    def focus(self, scroll_visible: bool = True) -> PickList:
        """Focus the filter field."""
        if self.is_mounted:
            self.field.focus(scroll_visible)
        return self

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        text = event.value
        if not self.multiple and self.value and text == visible(self.label_of(self.value)):
            text = ""
        self._refilter(text)

    @on(Input.Submitted)
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        matches = self.query_one(PickMatches)
        if matches.highlighted is None or not self._shown:
            return
        self._take(self._shown[matches.highlighted])

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._shown):
            self.field.focus()
            self._take(self._shown[event.option_index])

    def _take(self, choice: Pickable) -> None:
        if self.multiple:
            chosen = [v for v in self._chosen if v != choice.value]
            if len(chosen) == len(self._chosen):
                chosen.append(choice.value)
            self._chosen = chosen
            with self.field.prevent(Input.Changed):
                self.field.value = ""
            self._show_choice()
            self._refilter("")
            self.post_message(self.Changed(self))
            return
        self._filter = ""
        self.set_value(choice.value or None, announce=True)
        self.screen.focus_next()

    def action_move(self, step: int) -> None:
        """Highlight another choice."""
        matches = self.query_one(PickMatches)
        if not self._shown:
            return
        at = matches.highlighted if matches.highlighted is not None else -step
        matches.highlighted = max(0, min(len(self._shown) - 1, at + step))
        matches.scroll_to_highlight()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ctrl+r only where readings can be set."""
        if action == "reading":
            return self.readings
        return True

    def action_reading(self) -> None:
        """Ask to set the reading of the highlighted choice."""
        highlighted = self.query_one(PickMatches).highlighted
        if highlighted is not None and highlighted < len(self._shown):
            value = self._shown[highlighted].value
            if value:
                self.post_message(self.ReadingAsked(self, value))

    def replace_choice(self, choice: Pickable) -> None:
        """Offer `choice` in place of the one with its value (a new reading)."""
        self._choices = [choice if c.value == choice.value else c for c in self._choices]
        self._by_value[choice.value] = choice
        if self.is_mounted:
            self._refilter(self._filter)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The choices show while the field has focus."""
        if event.widget is self.field:
            self.add_class("-open")
            if not self.multiple and self._filter == "" and self.field.value:
                # All selected (typing replaces it), the cursor at the start: a long label
                # shows from its beginning, not scrolled to its end.
                self.field.selection = Selection(len(self.field.value), 0)
            if self._pending is not None:  # back to typing it
                self._filter, self._pending = self._pending, None
                self._refilter(self._filter)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        """Leaving a one-choice list (tab) after typing takes the highlighted match, as enter
        does; without a match, or without typing, the choice made before stays."""
        if event.widget is not self.field:
            return
        if self.app.screen is not self.screen:  # a modal over the form: nothing is left
            return
        self.remove_class("-open")
        if self.multiple:
            return
        matches = self.query_one(PickMatches)
        at = matches.highlighted
        if self._filter and not self._shown and not self._complete:
            self._pending = self._filter  # taken when the rest of the keys come; shown as typed
            return
        if self._filter and self._shown and at is not None and at < len(self._shown):
            self._filter = ""
            self.set_value(self._shown[at].value or None, announce=True)
        self._filter = ""
        self._show_choice()
        self._refilter("")
