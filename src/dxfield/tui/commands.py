"""Every action of the app in the command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from dxfield.i18n import _


def palette_entries() -> list[tuple[str, str, str]]:
    """(label, help, action name on the app) for every command."""
    return [
        (
            _("Log an activity"),
            _("New activity form (n)"),
            "new_activity",
        ),
        (
            _("Dashboard"),
            _("Municipalities and initiatives (h)"),
            "dashboard",
        ),
        (
            _("Activity log"),
            _("Every activity, newest first (l)"),
            "log",
        ),
        (
            _("Tracks"),
            _("Each community's consensus stage (t)"),
            "tracks",
        ),
        (
            _("Actions"),
            _("Next steps, due soonest first (a)"),
            "actions",
        ),
        (
            _("Findings"),
            _("Outcomes, insights, factors, issues (i)"),
            "findings",
        ),
        (
            _("Sync"),
            _("Export and import bundles (s)"),
            "sync",
        ),
        (
            _("Report"),
            _("Preview and write the report (p)"),
            "report",
        ),
        (
            _("Conflicts"),
            _("Records changed on two devices at once"),
            "conflicts",
        ),
        (
            _("Deleted records"),
            _("Bring a deleted record back (D in the log)"),
            "deleted",
        ),
        (_("Help"), _("Every key (?)"), "help"),
        (_("Quit"), _("Close the app (ctrl+q)"), "quit"),
    ]


class DxfieldCommands(Provider):
    """The app's own commands, next to Textual's (theme, keys, screenshot...): the global ones,
    and every key of the screen the palette was opened on (save, edit, delete, search...)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (label, help_text, partial(self.app.run_action, action))
            for label, help_text, action in palette_entries()
        ]
        seen = {action for _label, _help, action in palette_entries()}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            # Only the app's own keys (they have ids), not widget internals like "Scroll Up".
            if binding.id is None or not binding.description or binding.action in seen:
                continue
            if not active.enabled:
                continue
            seen.add(binding.action)
            help_text = f"{binding.tooltip or binding.description} ({key})"
            commands.append(
                (
                    binding.description,
                    help_text,
                    partial(self.app.run_action, binding.action, active.node),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for label, help_text, run in self._commands():
            yield DiscoveryHit(label, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, run in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), run, help=help_text)
