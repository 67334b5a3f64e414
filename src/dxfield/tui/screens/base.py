"""What every screen of the app shares: title bar, key bar, status bar, and visible failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label
from textual.worker import Worker, WorkerState

from dxfield.i18n import N_, LocalizedError, _
from dxfield.tui.text import error_text, notify_failure, plain
from dxfield.tui.widgets.key_bar import KeyBar
from dxfield.tui.widgets.status_bar import StatusBar
from dxfield.tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from dxfield.store.engine import Store
    from dxfield.tui.app import DxfieldApp


def waiting_to_save(screen: Screen[Any]) -> None:
    """Say, from a save's worker, that it waits for another dxfield (a long import) to finish
    writing, and lands then."""
    screen.app.call_from_thread(
        screen.notify,
        _(
            "Another dxfield is writing to the log (an import?); this entry is saved as "
            "soon as it is done"
        ),
        title=_("Waiting to save"),
        severity="warning",
        timeout=15,
        markup=False,
    )


def still_saving(screen: Screen[Any], saving: bool) -> bool:
    """Whether a save is under way (it may wait for a long import): said when it is, for a
    form that is asked to close meanwhile stays until the save lands, rather than close and
    have what it was told to drop land after all."""
    if saving:
        screen.notify(_("Saving: this closes once it is saved"), markup=False)
    return saving


def given_up_to_quit(app: DxfieldApp, error: BaseException) -> bool:
    """Whether a save failed because the person quits without waiting for it (ctrl+q twice:
    nothing to say). A save refused otherwise calls off a quit that waited for it: the app
    stays, so that the error is seen and what was typed can be mended."""
    if isinstance(error, LocalizedError) and error.code == "store.given_up":
        return True
    if app.quitting:
        app.stop_quitting()
    return False


class DxScreen(Screen[None]):
    """A screen with the app's frame. Subclasses yield their content from `compose_body`."""

    holds_unsaved_input: ClassVar[bool] = False
    """While this screen is on top, the keys that would leave it are off (a form asks first)."""

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


class FormModal(ModalScreen[bool]):
    """A small form over the screen (a stage move, an action): `ctrl+s` saves, `escape` closes.

    A subclass checks its fields in `check` (on the event loop; None when something is wrong,
    after saying what in `#form-error`), and writes in `write` (in a thread worker). A failure
    shows in `#form-error` and the form stays open with everything typed; success dismisses
    the form with True.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="save-form"),
        Binding("escape", "cancel", N_("Close"), id="cancel-form"),
    ]

    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal > VerticalScroll {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormModal .field-label { color: $text-muted; }
    FormModal #form-error { color: $error; width: 100%; height: auto; }
    FormModal Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    FormModal Button { margin-left: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._saving = False

    @property
    def dx(self) -> DxfieldApp:
        """The app, typed."""
        from dxfield.tui.app import DxfieldApp

        return cast(DxfieldApp, self.app)

    @property
    def store(self) -> Store:
        """The open store."""
        return self.dx.store

    def show_error(self, message: str) -> None:
        """Say what is wrong, under the fields."""
        self.query_one("#form-error", Label).update(plain(message))

    def check(self) -> object | None:
        """The checked input to write, or None (after `show_error`)."""
        raise NotImplementedError

    def write(self, payload: object) -> None:
        """Write `payload` to the store (runs in a thread worker)."""
        raise NotImplementedError

    def action_save(self) -> None:
        """Check, then write in a worker."""
        if self._saving:
            return
        payload = self.check()
        if payload is not None:
            self.submit(payload)

    def submit(self, payload: object) -> None:
        """Write `payload` (already checked) in a worker."""
        if self._saving:
            return
        self._saving = True
        app = self.dx
        self.run_worker(
            lambda: self._write(payload, app), thread=True, group="form-modal", exit_on_error=False
        )

    def _write(self, payload: object, app: DxfieldApp) -> None:
        from dxfield.store.waits import GivingUp, saving_waits

        # Another dxfield writing (a long import): the save waits for it, and says so; until
        # the person quits without waiting for it (ctrl+q twice).
        waiting = GivingUp(lambda: waiting_to_save(self), lambda: not app.quit_anyway)
        try:
            with saving_waits(waiting):
                self.write(payload)
        except Exception as exc:
            if app.is_running:
                app.call_from_thread(self._failed, exc)
            return
        app.call_from_thread(self._saved)

    def _failed(self, error: BaseException) -> None:
        self._saving = False
        if not given_up_to_quit(self.dx, error):
            self.show_error(error_text(error))

    def _saved(self) -> None:
        self.notify(_("Saved"))
        self.dx.refresh_status()
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Close without saving (not while saving)."""
        if not still_saving(self, self._saving):
            self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "cancel":
            self.action_cancel()
