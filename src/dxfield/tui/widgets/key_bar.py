"""The key bar: the keys that work here, on one line at the bottom of every screen.

Textual's `Footer` builds a widget per key and rebuilds them all whenever the bindings change
(every focus move). Measured on the Log, that was 100-150 ms of each screen's first paint, and
the largest part of the app's start after the store's imports. This bar is one widget drawn
from `Screen.active_bindings`: a change of focus only repaints one line.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from dxfield.tui.text import describe


class KeyBar(Widget, can_focus=False):
    """The active bindings that are shown (`show=True`), then the command palette's key; each
    described in the user's language (descriptions are English in BINDINGS, Textual's own
    widgets' included, and looked up here)."""

    ALLOW_SELECT = False

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
    }

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .key-bar--disabled {
        text-style: dim;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, Binding, bool]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    def _entries(self) -> tuple[list[tuple[Binding, bool]], tuple[Binding, bool] | None]:
        """The keys to show (one per action, in binding order), and the command palette's."""
        shown: dict[str, tuple[Binding, bool]] = {}
        palette: tuple[Binding, bool] | None = None
        for key, (_, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if key == self.app.COMMAND_PALETTE_BINDING and self.app.ENABLE_COMMAND_PALETTE:
                palette = (binding, enabled)
            elif binding.show:
                shown.setdefault(binding.action, (binding, enabled))
        return list(shown.values()), palette

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        disabled = self.get_component_rich_style("key-bar--disabled")
        shown, palette = self._entries()
        spans: list[tuple[int, int, Binding, bool]] = []

        def key_text(binding: Binding, enabled: bool) -> Text:
            text = Text.assemble(
                (f" {self.app.get_key_display(binding)} ", key_style),
                (f"{describe(binding)} " if binding.description else "", description_style),
            )
            if not enabled:
                text.stylize(disabled)
            return text

        line = Text(no_wrap=True, overflow="crop", end="")
        for binding, enabled in shown:
            text = key_text(binding, enabled)
            spans.append((line.cell_len, line.cell_len + text.cell_len, binding, enabled))
            line.append_text(text)
        if palette is not None:
            # The palette's key keeps its place at the right; on a narrow screen the others
            # give way to it (the palette lists every action anyway).
            text = key_text(*palette)
            start = max(self.size.width - text.cell_len, 0)
            if line.cell_len > start:  # drop whole keys, and say that some were dropped
                spans = [span for span in spans if span[1] < start]
                line.truncate(spans[-1][1] if spans else 0)
                line.append("…")
            line.pad_right(start - line.cell_len)
            spans.append((start, start + text.cell_len, *palette))
            line.append_text(text)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it (a disabled one rings the bell)."""
        for start, end, binding, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(binding.key.split(",")[0].strip())
                else:
                    self.app.bell()
                return
