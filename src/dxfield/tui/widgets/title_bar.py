"""The title bar: the app's name and where you are, on one line at the top of every screen.

Textual's `Header` updates a child widget from watchers of the titles, and a watcher that fires
while a screen is being replaced (h, l, h pressed quickly) can find that child already gone and
stop the app with `NoMatches`. This bar has no children: it draws the titles when it renders.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from dxfield.domain.visible import visible


class TitleBar(Widget, can_focus=False):
    """`dxfield — <screen's sub-title>`, centred."""

    ALLOW_SELECT = False

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
    }
    """

    def on_mount(self) -> None:
        for owner in (self.app, self.screen):
            self.watch(owner, "title", self._titles_changed, init=False)
            self.watch(owner, "sub_title", self._titles_changed, init=False)

    def _titles_changed(self) -> None:
        self.refresh()

    def render(self) -> Content:
        screen = self.screen
        title = screen.title if screen.title is not None else self.app.title
        sub_title = screen.sub_title if screen.sub_title is not None else self.app.sub_title
        # A sub-title may name data (the Log of one municipality): its controls are shown.
        return self.app.format_title(visible(title), visible(sub_title))
