"""Textual's key panel (the focused widget's keys and the screen's), in the user's language.

Textual's `KeyPanel` shows each binding's description and its group's title as written in the
widget's `BINDINGS` (English, Textual's own or ours marked with `N_`). These subclasses of the
public `HelpPanel` and `KeyPanel` compose a table of their own that looks each one up in the
catalogue; the app mounts them from `action_show_help_panel`.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text
from textual.widgets import HelpPanel, KeyPanel, Markdown, Static

from dxfield.i18n import _
from dxfield.tui.text import describe

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.binding import Binding


class KeysTable(Static):
    """The active bindings as Textual's key panel lists them, their words looked up."""

    COMPONENT_CLASSES = {
        "bindings-table--key",
        "bindings-table--description",
        "bindings-table--divider",
        "bindings-table--header",
    }

    DEFAULT_CSS = """
    KeysTable { width: auto; height: auto; }
    KeysTable > .bindings-table--key { color: $text-accent; text-style: bold; padding: 0 1; }
    KeysTable > .bindings-table--description { color: $foreground; }
    KeysTable > .bindings-table--divider { color: transparent; }
    KeysTable > .bindings-table--header { color: $text-primary; text-style: underline; }
    """

    def _description(self, binding: Binding) -> Text:
        text = Text(describe(binding), end="")
        text.stylize(self.get_component_rich_style("bindings-table--description"))
        if binding.tooltip:
            if binding.description:
                text.append(" ")
            text.append(_(binding.tooltip), "dim")
        return text

    def render(self) -> Table:
        table = Table(padding=(0, 0), show_header=False, box=box.SIMPLE)
        table.add_column("", justify="right")
        key_style = self.get_component_rich_style("bindings-table--key")
        header_style = self.get_component_rich_style("bindings-table--header")
        active = self.screen.active_bindings.values()
        for namespace, group in groupby(active, key=itemgetter(0)):
            by_action: defaultdict[str, list[Binding]] = defaultdict(list)
            for _node, binding, _enabled, _tooltip in group:
                if not binding.system:
                    by_action[binding.action].append(binding)
            if not by_action:
                continue
            title = getattr(namespace, "BINDING_GROUP_TITLE", None)
            if title:
                table.add_row("", Text(_(title), style=header_style, end=""))
            for bindings in by_action.values():
                keys = " ".join(dict.fromkeys(self.app.get_key_display(b) for b in bindings))
                table.add_row(Text(keys, style=key_style), self._description(bindings[0]))
            table.add_section()
        return table


class TranslatedKeyPanel(KeyPanel):
    """Textual's key panel with the keys' words in the user's language."""

    def compose(self) -> ComposeResult:
        yield KeysTable(shrink=True, expand=False)


class TranslatedHelpPanel(HelpPanel):
    """Textual's help panel (the focused widget's help and its keys), its words looked up."""

    def compose(self) -> ComposeResult:
        yield Markdown(id="widget-help")
        yield TranslatedKeyPanel(id="keys-help")
