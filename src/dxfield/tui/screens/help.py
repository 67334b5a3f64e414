"""Help: every key of the app."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from dxfield.domain.dates import PERIOD_EXAMPLES
from dxfield.i18n import N_, _


def help_markdown() -> str:
    """The help text, in the user's language."""
    rows = [
        ("n", _("Log an activity (from anywhere)")),
        ("N", _("Quick capture: title, municipality, kind, a note")),
        ("h", _("Dashboard (home)")),
        ("l", _("Activity log")),
        ("t", _("Tracks (each community's stage)")),
        ("a", _("Actions (due soonest first)")),
        ("i", _("Findings")),
        (
            "[ ]",
            _("Move a track back / forward (board, timeline)"),
        ),
        ("← → ↑ ↓", _("Board: go from card to card")),
        ("m", _("Board: choose the stage model")),
        ("+", _("Board: define a stage model")),
        ("c", _("Board: follow another community")),
        ("x", _("Actions: mark done")),
        ("c", _("Actions: add one")),
        ("c e d", _("Findings: add / edit / delete")),
        ("Enter", _("Findings: read one whole, with its history")),
        ("u", _("Undo the last one-key change (while its notice shows)")),
        ("v", _("Make an earlier version current (activity, finding)")),
        ("D", _("Log: deleted records (r brings one back)")),
        ("s", _("Sync (export and import bundles)")),
        ("e / ctrl+o", _("Sync: export / import")),
        ("k", _("Sync: go to the conflicts")),
        ("p", _("Report (preview and write)")),
        ("ctrl+s", _("Report: write Markdown and HTML")),
        (
            "1 2 / m",
            _("Conflicts: keep that version / merge by hand"),
        ),
        ("/", _("Search the log (all terms must match)")),
        ("f", _("Go to the filters (log, actions, findings)")),
        ("r", _("Reload")),
        ("↑ ↓ PgUp PgDn Home End", _("Move in the log")),
        ("Enter", _("Open (activity, initiative)")),
        ("e", _("Edit the activity (activity view)")),
        ("d", _("Delete the activity (asks first)")),
        ("c", _("Duplicate the activity (log, activity view)")),
        ("M", _("Write the activity's minutes as a Word file (log, activity view)")),
        ("A", _("Attach files: a path, or several of a folder's (activity, finding)")),
        ("o", _("Open the highlighted attachment with the system's viewer")),
        ("x", _("Detach the highlighted attachment (asks first; u attaches it again)")),
        ("ctrl+s", _("Save the form")),
        ("escape", _("Close / back (asks if there are changes)")),
        ("tab / shift+tab", _("Next / previous field")),
        ("ctrl+p", _("Command palette (every action)")),
        ("?", _("This help")),
        ("q / ctrl+q", _("Quit (q outside text fields)")),
    ]
    # The table's syntax stays out of the messages: each cell is its own lookup.
    key_heading, action_heading = _("Key"), _("What it does")
    header = f"| {key_heading} | {action_heading} |\n|---|---|"
    body = "\n".join(f"| `{key}` | {cell(action)} |" for key, action in rows)
    notes = _(
        "Dates may be typed 2024-07-17, 2024/7/17, 7/17 or in the Japanese era, R6.7.17 (Reiwa 6), or as precisely as they are known: {periods}. A form being typed is saved as a draft as you type and offered back at the next start."
    ).format(periods=PERIOD_EXAMPLES)
    return "# " + _("Keys") + f"\n\n{header}\n{body}\n\n{notes}\n"


def cell(text: str) -> str:
    """A message as one cell of a Markdown table (a `|` in it would end the cell)."""
    return text.replace("|", "\\|")


class HelpScreen(ModalScreen[None]):
    """Every key, in a table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", N_("Close")),
        Binding("question_mark", "dismiss", N_("Close"), show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(help_markdown())
