"""What every screen of the app shares: title bar, key bar, status bar, and visible failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from dxfield.tui.text import localize_bindings, notify_failure
from dxfield.tui.widgets.key_bar import KeyBar
from dxfield.tui.widgets.status_bar import StatusBar
from dxfield.tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from dxfield.store.engine import Store
    from dxfield.tui.app import DxfieldApp


class DxScreen(Screen[None]):
    """A screen with the app's frame. Subclasses yield their content from `compose_body`."""

    holds_unsaved_input: ClassVar[bool] = False
    """While this screen is on top, the keys that would leave it are off (a form asks first)."""

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self)

    @property
    def dx(self) -> DxfieldApp:
        """The app, typed."""
        from dxfield.tui.app import DxfieldApp

        return cast(DxfieldApp, self.app)

    @property
    def store(self) -> Store:
        """The open store (screens are only pushed once it is open)."""
        return self.dx.store

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield from self.compose_body()
        yield StatusBar()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_screen_resume(self) -> None:
        self.dx.refresh_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker becomes a notification, never a traceback or a silent drop."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_failure(self, event.worker.error)
