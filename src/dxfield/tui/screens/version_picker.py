"""Choose an earlier version of a record to make current again (`v` in a record's view)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from dxfield.i18n import FIELD_LABELS, N_, _, current_language
from dxfield.store.hlc import stamped_at
from dxfield.tui.text import plain

if TYPE_CHECKING:
    from textual.app import App


def version_choices(
    history: list[dict[str, Any]], current_rev: str, devices: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(what a person reads, revision id) for each version one can go back to: newest first,
    neither a deletion nor the version shown now. A version reads as a time and who (the
    device's name from `devices`, by id), never as an id."""
    lang = current_language()
    choices = []
    for revision in reversed(history):
        if revision["deleted"] or revision["rev_id"] == current_rev:
            continue
        at = stamped_at(revision["hlc"])
        when = f"{at:%Y-%m-%d %H:%M}" if at else _("reference data")
        data = revision["data"]
        title = str(data.get("title") or data.get("name") or data.get("text") or "")
        changed = (
            _("created")
            if revision["generation"] == 1
            else _("restored")
            if revision.get("restored")
            else ", ".join(
                FIELD_LABELS.get(c, (c, c))[0 if lang == "ja" else 1]
                for c in revision.get("changed", [])
                if c != "created_at"
            )
        )
        who = (devices or {}).get(revision["device_id"]) or _("another device")
        first = title.splitlines()[0] if title else ""
        choices.append((f"{when} · {who}  {first}  ({changed})", revision["rev_id"]))
    return choices


class VersionPickerScreen(ModalScreen[str | None]):
    """A list of earlier versions; Enter chooses one, escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", N_("Close"))]

    DEFAULT_CSS = """
    VersionPickerScreen { align: center middle; }
    VersionPickerScreen > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    VersionPickerScreen OptionList { height: auto; max-height: 20; }
    """

    def __init__(self, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(_("Which version should be current again? (Enter chooses, escape closes)"))
            yield OptionList(
                *[Option(plain(text), id=rev_id) for text, rev_id in self.choices]
                or [Option(_("No earlier version"), disabled=True)],
                id="versions",
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        """Close without choosing."""
        self.dismiss(None)


def ask_for_version(
    app: App[Any],
    history: list[dict[str, Any]],
    current_rev: str,
    devices: dict[str, str],
    revert: Callable[[str], object],
) -> None:
    """Let a person choose an earlier version of a record, confirm, then `revert(rev_id)` (which
    writes it as a new version: the present one stays in the history)."""
    from dxfield.tui.screens.confirm import ConfirmScreen

    choices = version_choices(history, current_rev, devices)
    labels = {rev: text for text, rev in choices}

    def chosen(rev_id: str | None) -> None:
        if rev_id is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                revert(rev_id)

        app.push_screen(
            ConfirmScreen(
                _(
                    "Make this version current?\n{get}\n(the present one stays in the history)"
                ).format(get=labels.get(rev_id, rev_id)),
                default=True,
            ),
            answer,
        )

    app.push_screen(VersionPickerScreen(choices), chosen)
