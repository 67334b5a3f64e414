"""Every action of the app in the command palette (ctrl+p), searchable in the user's words.

One provider lists the app's commands, the keys of the screen the palette was opened on and
Textual's system commands (theme, keys, screenshot..., worded by `DxfieldApp.system_entries`),
so that it knows when nothing matched and says so in the user's language (Textual's own
"No matches found" is written inline in `CommandPalette`, with no hook to word it).

A command is found by its label, by its help line (so `書き出` finds the sync screen, whose help
says 書き出し) and by its English name (`sync`, `report`) under either language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.theme import ThemeProvider

from dxfield.i18n import N_, _
from dxfield.tui.text import describe, key_help

if TYPE_CHECKING:
    from dxfield.tui.app import DxfieldApp

# (label, help, action name on the app), in English: looked up when the palette opens.
PALETTE: tuple[tuple[str, str, str], ...] = (
    (N_("Log an activity"), N_("New activity form (n)"), "new_activity"),
    (
        N_("Quick capture"),
        N_("Title, municipality, kind and a note, saved with ctrl+s (N)"),
        "quick_capture",
    ),
    (
        N_("Note templates"),
        N_("The note a new activity of each kind starts with"),
        "note_templates",
    ),
    (N_("Dashboard"), N_("Municipalities and initiatives (h)"), "dashboard"),
    (N_("Activity log"), N_("Every activity, newest first (l)"), "log"),
    (N_("Tracks"), N_("Each community's consensus stage (t)"), "tracks"),
    (N_("Actions"), N_("Next steps, due soonest first (a)"), "actions"),
    (N_("Findings"), N_("Outcomes, insights, factors, issues (i)"), "findings"),
    (N_("Sync"), N_("Export and import bundles (s)"), "sync"),
    (N_("Report"), N_("Preview and write the report (p)"), "report"),
    (N_("Conflicts"), N_("Records changed on two devices at once"), "conflicts"),
    (N_("Deleted records"), N_("Bring a deleted record back (D in the log)"), "deleted"),
    (N_("Help"), N_("Every key (?)"), "help"),
    (N_("Quit"), N_("Close the app (ctrl+q)"), "quit"),
)


def palette_entries() -> list[tuple[str, str, str]]:
    """(label, help, action name on the app) for every command, in the user's language."""
    return [(_(label), _(help_text), action) for label, help_text, action in PALETTE]


@dataclass(frozen=True)
class Command:
    """One line of the palette: what it shows, the words it is found by, what it runs."""

    label: str
    help: str
    run: Callable[[], object]
    names: tuple[str, ...] = ()  # more words it is found by (its English name)


class DxfieldCommands(Provider):
    """The app's own commands, the keys of the screen the palette was opened on (save, edit,
    delete, search...), and Textual's system commands, in the user's language."""

    def commands(self) -> Iterator[Command]:
        seen: set[str] = set()
        for label, help_text, action in PALETTE:
            seen.add(action)
            yield Command(_(label), _(help_text), partial(self.app.run_action, action), (label,))
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            # Only the app's own keys (they have ids), not widget internals like "Scroll Up".
            if binding.id is None or not binding.description or binding.action in seen:
                continue
            if not active.enabled:
                continue
            seen.add(binding.action)
            yield Command(
                describe(binding),
                f"{key_help(binding)} ({key})",
                partial(self.app.run_action, binding.action, active.node),
                (binding.description,),
            )
        app: DxfieldApp = self.app  # type: ignore[assignment]
        for label, help_text, run in app.system_entries(self.screen):
            yield Command(_(label), _(help_text), run, (label,))

    async def discover(self) -> Hits:
        for command in self.commands():
            yield DiscoveryHit(command.label, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        found = False
        for command in self.commands():
            on_label = matcher.match(command.label)
            # The help line and the English name count a little less than the label.
            others = [matcher.match(text) * 0.8 for text in (command.help, *command.names)]
            score = max([on_label, *others])
            if score > 0:
                found = True
                shown = matcher.highlight(command.label) if on_label > 0 else Text(command.label)
                yield Hit(score, shown, command.run, text=command.label, help=command.help)
        if not found and query.strip():
            yield no_match(_("No command matches"))


def no_match(words: str) -> Hit:
    """The one line a search that found nothing shows (choosing it does nothing)."""
    return Hit(0.01, Text(words, style="not bold"), lambda: None, text=words)


class DxfieldThemes(ThemeProvider):
    """Textual's theme picker (theme names are names), saying in the user's language when
    nothing matches."""

    async def search(self, query: str) -> Hits:
        found = False
        async for hit in super().search(query):
            found = True
            yield hit
        if not found and query.strip():
            yield no_match(_("No theme matches"))
