"""The status bar: where the store is, which device this is, what has not been exported yet."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from dxfield.domain.visible import visible
from dxfield.i18n import ngettext


class StatusBar(Static):
    """One line at the bottom of every screen."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    store_path: reactive[str] = reactive("")
    """The store file."""
    device_name: reactive[str] = reactive("")
    """This device's name."""
    unexported: reactive[int | None] = reactive(None)
    """Changes made here that have not been exported in a bundle yet."""
    conflicts: reactive[int] = reactive(0)
    """Records two devices changed at once, waiting for a decision (Sync, then k)."""

    def render(self) -> Text:
        if not self.store_path:
            # Not known yet (the store opens behind the first screen, issue 18): nothing rather
            # than "opening…" under a screen that works already.
            return Text("")
        pending = (
            ""
            if self.unexported is None
            else ngettext(
                "  ·  {unexported} change not exported",
                "  ·  {unexported} changes not exported",
                self.unexported,
            ).format(unexported=self.unexported)
        )
        waiting = (
            ngettext(
                "  ·  {conflicts} conflict (s, k)",
                "  ·  {conflicts} conflicts (s, k)",
                self.conflicts,
            ).format(conflicts=self.conflicts)
            if self.conflicts
            else ""
        )
        # The path and the device's name are data: controls shown, brackets not markup.
        where = f"{visible(self.store_path)}  ·  {visible(self.device_name)}"
        return Text(f"{where}{pending}{waiting}")
