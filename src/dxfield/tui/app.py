"""The dxfield app: Dashboard, Log, activity form and view, help; all keys in the palette.

The store is opened once, in a thread worker, and every database call after that runs in a
worker too: the event loop never waits on the disk. Failures become notifications.

Start: the Dashboard is the first screen, there at the first paint and taking keys at once. The
store opens behind it in two steps: first read through sqlite3 alone (store/light.py: enough for
the whole Log, a few milliseconds), then as the `Store` (SQLAlchemy, the schema's models: most
of a start's time), once the first screen has painted. A worker that needs the `Store` waits for
it (`store`); a key that opens a screen needing it on the event loop is kept until it is open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import sys
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, Provider
from textual.screen import ModalScreen, Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from dxfield import clock
from dxfield.i18n import N_, _
from dxfield.tui.commands import DxfieldCommands, DxfieldThemes
from dxfield.tui.text import (
    StoreNotOpen,
    display_path,
    error_text,
    notify_failure,
    plain,
)
from dxfield.tui.undo import Undoer
from dxfield.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from dxfield.store.engine import Store
    from dxfield.store.light import LightStore
    from dxfield.store.local_state import Draft


OPEN_AFTER = 0.2
"""Seconds after the first paint the `Store` starts opening, unless something needs it sooner."""
OPEN_AFTER_CARDS = 2.0
"""The same when the first screen is the Dashboard read through the light store: it starts the
open itself once its cards are painted (`first_screen_filled`), and this is the latest."""
OPEN_LATEST = 1.0
"""A worker that needs the `Store` starts its open itself when, after this many seconds, the
open timed from the first paint has not begun (a refresh that never came)."""

SWITCH_INTERVAL = 0.001
"""How long a thread holds the interpreter before another may take it (Python's default: 5 ms).
While a worker runs Python (a query being composed, rows made), the event loop waits up to that
long at each turn; 1 ms keeps the screen answering keys and timers, and lets the first screen's
readers run while it is laid out (issue 18: tui_loop_gap and tui_start)."""


QUIT_SAYS_AFTER = 0.5
"""Seconds a quit waits for the forms' writes before it says it waits (another writer)."""
_FORM_WRITES = frozenset({"form-draft", "form-save", "form-modal"})
"""The groups of the workers that write what a person typed (a quit waits for them)."""
_UNDER_WAY = frozenset({WorkerState.PENDING, WorkerState.RUNNING})


class DxfieldApp(App[None]):
    """The field log app."""

    TITLE = "dxfield"
    CSS_PATH = "app.tcss"
    # One provider for the app's commands and Textual's system commands (see tui/commands.py).
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {DxfieldCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n",
            "new_activity",
            N_("New"),
            id="new-activity",
            tooltip=N_("Log an activity"),
        ),
        Binding(
            "N",
            "quick_capture",
            N_("Quick"),
            id="quick-capture",
            show=False,  # in the help and the palette: the key bar is full at 80 columns
            tooltip=N_("Quick capture: title, municipality, kind, a note"),
        ),
        Binding(
            "h",
            "dashboard",
            N_("Home"),
            id="dashboard",
            tooltip=N_("Dashboard"),
        ),
        Binding("l", "log", N_("Log"), id="log", tooltip=N_("Activity log")),
        Binding("t", "tracks", N_("Tracks"), id="tracks", tooltip=N_("Engagement tracks")),
        Binding("a", "actions", N_("Actions"), id="actions", tooltip=N_("Next steps (actions)")),
        Binding("i", "findings", N_("Findings"), id="findings", tooltip=N_("Findings")),
        Binding(
            "s", "sync", N_("Sync"), id="sync", tooltip=N_("Bundles to and from other devices")
        ),
        Binding("p", "report", N_("Report"), id="report", tooltip=N_("The prefecture's report")),
        Binding(
            "question_mark",
            "help",
            N_("Help"),
            id="help",
            tooltip=N_("Every key"),
        ),
        Binding("u", "undo", N_("Undo"), id="undo", tooltip=N_("Put back the last one-key change")),
        Binding("q", "quit", N_("Quit"), id="quit"),
        Binding("ctrl+q", "quit", N_("Quit"), show=False, id="quit-ctrl", priority=True),
    ]

    def __init__(self, data_dir: Path, database: str | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.database = database
        self._store: Store | None = None
        self._light: LightStore | None = None
        self._light_tried = threading.Event()  # set once the light open was tried
        self._store_tried = threading.Event()  # set once the `Store` is open (or failed to)
        self._when_open: Callable[[], object] | None = None  # a key pressed before it was
        self._pending_kept = False  # `_when_open` is a restored draft's form: no key replaces it
        self._opening = False
        self._closed = False
        self._switch_interval = sys.getswitchinterval()
        self._conflicts = 0  # counted after each sync, not on every screen change
        self.undoer = Undoer(self)  # the one undo on offer (`u`), see tui/undo.py
        self._asking_drafts = False  # the draft question is open: the app's keys are off
        self._drafts_known = False  # the drafts were read (by the light read or the `Store`)
        self._begun = False  # the first screen was shown (until then no key opens another)
        self.quitting = False
        """ctrl+q was pressed: the app quits once what its forms write has landed."""
        self.quit_anyway = False
        """ctrl+q pressed again while the quit waited: what still waits is given up."""

    @property
    def today(self) -> dt.date:
        """Today in Japan, from the one clock (tests inject theirs there)."""
        return clock.today()

    @property
    def store(self) -> Store:
        """The open store. In a worker, waits for it to open (see the module's text)."""
        if self._store is None and threading.get_ident() != self._thread_id:
            # The open is timed to start once the first screen has painted (`_begin`): a
            # worker waits for it rather than have the `Store`'s imports slow that paint down,
            # and starts it itself if it has not begun a while later.
            if not self._store_tried.wait(OPEN_LATEST) and not self._opening:
                self.call_from_thread(self._start_open)
            self._store_tried.wait()
        if self._store is None:
            raise StoreNotOpen("the store is not open")
        return self._store

    def log_light(self) -> LightStore | None:
        """The store read through sqlite3 alone, for the whole Log, while the `Store` opens;
        None when there is none (a hub, a store the open changes) or once the `Store` is open.
        In a worker, waits for the light open to have been tried."""
        if threading.get_ident() != self._thread_id:
            self._light_tried.wait()
        return self._light

    def compose(self) -> ComposeResult:
        yield Static(_("Opening the store…"), id="opening")  # shown only if the open fails
        yield StatusBar()

    def on_mount(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)

        # Then the draft question or the dashboard (`_light_opened`). A laptop's file is read
        # here, before the first paint (a few milliseconds), so that the first screen is the first
        # thing painted and no key lands before it; a hub's database, across a network, is
        # reached from a thread, and until then the keys that open a screen are off.
        from dxfield.store.engine import database_for

        if database_for(self.data_dir, self.database):
            self._open_light()
        else:
            drafts = None
            with contextlib.suppress(Exception):  # the `Store`'s open then says what is wrong
                drafts = self._read_light()
            self._light_opened(drafts)

    def first_screen_filled(self) -> None:
        """The first screen has painted what it shows (the Dashboard its cards): the `Store`'s
        imports, which share the interpreter with the screen, may start now."""
        self.call_after_refresh(self._start_open)

    def _start_open(self) -> None:
        """Open the `Store` (once)."""
        if not self._opening:
            self._opening = True
            self.open_store()

    def _read_light(self) -> list[Draft] | None:
        """Open the light read (store/light.py) and read the drafts left; None when it cannot
        tell (no light read: a store the open will change). Tried once, in any thread."""
        try:
            from dxfield.store.light import open_light

            self._light = open_light(self.data_dir, self.database, shared=True)
            return self._light.drafts() if self._light is not None else None
        finally:
            self._light_tried.set()

    @work(thread=True, exclusive=True, group="store-light", exit_on_error=False)
    def _open_light(self) -> None:
        drafts = None
        try:
            drafts = self._read_light()
        finally:
            self.call_from_thread(self._light_opened, drafts)

    @work(thread=True, exclusive=True, group="store-open", exit_on_error=False)
    def open_store(self) -> list[Draft]:
        """Open (create, migrate) the store and read any drafts left by a crash."""
        try:
            from dxfield.store.engine import Store
            from dxfield.store.local_state import list_drafts

            self._light_tried.wait()  # a new store is made by this open, not raced by that one
            store = Store.open(self.data_dir, database=self.database)
            if self._closed:  # the app quit while it opened
                store.close()
                return []
            self._store = store
        finally:
            self._store_tried.set()
        light, self._light = self._light, None
        if light is not None:
            # From here on the `Store` reads: a Dashboard scan in flight is stopped (its screen
            # then reads through the `Store`) rather than waited for; a Log read finishes.
            light.stop_dashboard()
            light.close()
        return list_drafts(self._store)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_failure(self, event.worker.error, timeout=15)
            if event.worker.group == "store-open" and self._store is None:
                self._when_open, self._pending_kept = None, False
                while len(self.screen_stack) > 1:  # the first screen can show nothing
                    self.pop_screen()
                self.query_one("#opening", Static).update(plain(error_text(event.worker.error)))
        elif event.state is WorkerState.SUCCESS and event.worker.group == "store-open":
            self._store_opened(event.worker.result or [])

    def _store_opened(self, drafts: list[Draft]) -> None:
        # Everything imported so far lives as long as the app: keep it out of the collector's
        # full passes, which otherwise stall the event loop for ~90 ms now and then.
        gc.freeze()
        if not self._drafts_known:  # the light read could not tell: asked now, first
            self._begin(drafts)
        pending, self._when_open = self._when_open, None
        self._pending_kept = False
        if pending is not None and not self._asking_drafts:
            pending()  # a key kept for the Store (a question about drafts drops it)
        # Conflicts left from an earlier sync: counted once the first screen has settled.
        self.set_timer(2.0, partial(self.refresh_status, conflicts=True))
        self.refresh_status()

    def _light_opened(self, drafts: list[Draft] | None) -> None:
        """The light read is open (or not): with the drafts known, the first thing shown is the
        question about them, or the dashboard; unknown (None: a store the open will change, a
        hub...), nothing is shown until the `Store` has opened and read them."""
        if drafts is None:
            self._start_open()
            return
        self._drafts_known = True
        self._begin(drafts)

    def _begin(self, drafts: list[Draft]) -> None:
        """The first screen: the draft question when drafts were left, else the dashboard."""
        self._begun = True
        self.refresh_bindings()
        # The `Store`'s imports would share the interpreter with the first screen: they start
        # once it has painted and taken any first key, or at once when something needs them.
        after = OPEN_AFTER if drafts or self._light is None else OPEN_AFTER_CARDS
        self.call_after_refresh(self.set_timer, after, self._start_open)
        if drafts:
            # The draft question comes first, before the dashboard: nothing else takes keys
            # until it is answered (`check_action`).
            self._asking_drafts = True
            self._offer_drafts(list(drafts), len(drafts))
        else:
            self._show_first_screen()

    def _show_first_screen(self, draft: Draft | None = None) -> None:
        """The dashboard, and over it the form of the restored `draft` if any."""
        from dxfield.tui.screens.dashboard import DashboardScreen

        self._asking_drafts = False
        self.push_screen(DashboardScreen())
        if draft is not None:
            self.open_form(draft=draft)  # the other drafts are offered at the next start

    def _offer_drafts(self, drafts: list[Draft], total: int) -> None:
        """Ask about each left-over draft in turn: restore it (Enter), keep it for the next start
        (escape), or discard it (a second question, whose default keeps it)."""
        from dxfield.tui.screens.confirm import ConfirmScreen
        from dxfield.tui.screens.draft_question import DraftAnswer, DraftQuestionScreen

        if not drafts:
            self._show_first_screen()
            return
        draft = drafts[0]
        rest = drafts[1:]

        def discard(yes: bool | None) -> None:
            if yes:
                self._discard_draft(draft.name)
                self.notify(_("The draft was discarded."), markup=False)
                self._offer_drafts(rest, total)
            else:
                self._offer_drafts(drafts, total)  # asked again: nothing was lost

        def answer(choice: DraftAnswer | None) -> None:
            if choice == "restore":
                self._show_first_screen(draft)
            elif choice == "discard":
                title = str(draft.data.get("title") or "").strip() or _("(no title)")
                self.push_screen(
                    ConfirmScreen(
                        _(
                            "Discard the draft “{title}”? What it holds cannot be brought back."
                        ).format(title=title),
                        yes=_("Discard (y)"),
                        no=_("Keep (n)"),
                        default=False,
                        escape=False,
                    ),
                    discard,
                )
            else:  # later: kept for the next start
                self._offer_drafts(rest, total)

        self.push_screen(
            DraftQuestionScreen(draft, index=total - len(drafts) + 1, total=total), answer
        )

    @work(thread=True, group="drafts", exit_on_error=False)
    def _discard_draft(self, name: str) -> None:
        from dxfield.store.local_state import discard_draft

        discard_draft(self.store, name)

    # -- status ----------------------------------------------------------------------------------

    def refresh_status(self, *, conflicts: bool = False) -> None:
        """Update the status bar (store, device, unexported changes); `conflicts` counts the
        records in conflict again too (a full scan of the revisions: only after a sync)."""
        if self._store is not None:
            self._count_unexported(conflicts)

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def _count_unexported(self, recount_conflicts: bool) -> None:
        from dxfield.store.conflicts import count_conflicts
        from dxfield.store.local_state import unexported_changes

        count = unexported_changes(self.store)
        if recount_conflicts:
            self._conflicts = count_conflicts(self.store)
        self.call_from_thread(self._show_status, count)

    def _show_status(self, unexported: int) -> None:
        # Every screen's bar: the first one's too, when a dialog is open over it.
        for bar in (bar for screen in self.screen_stack for bar in screen.query(StatusBar)):
            bar.store_path = display_path(self.store.location)
            bar.device_name = self.store.device.name
            bar.unexported = unexported
            bar.conflicts = self._conflicts

    # -- navigation ------------------------------------------------------------------------------

    def _base_screens(self) -> tuple[type, ...]:
        from dxfield.tui.screens.dashboard import DashboardScreen
        from dxfield.tui.screens.followups import ActionsScreen, FindingsScreen
        from dxfield.tui.screens.log import LogScreen
        from dxfield.tui.screens.report import ReportScreen
        from dxfield.tui.screens.sync import SyncScreen
        from dxfield.tui.screens.tracks import TracksScreen

        return (
            DashboardScreen,
            LogScreen,
            TracksScreen,
            ActionsScreen,
            FindingsScreen,
            SyncScreen,
            ReportScreen,
        )

    def _to_base(self) -> None:
        """Close views and dialogs above the dashboard or log."""
        while len(self.screen_stack) > 2 and not isinstance(self.screen, self._base_screens()):
            self.pop_screen()

    def _once_open(self, callback: Callable[[], object], *, kept: bool = False) -> bool:
        """True when the store is open; else keeps `callback` (the last key pressed) for when
        it is, and False. A `kept` one (a restored draft's form) is not replaced by a later key."""
        if self._store is not None:
            return True
        if not self._pending_kept:
            self._when_open = callback
            self._pending_kept = kept
        self._start_open()
        return False

    def _show_base(self, screen_class: type[Screen[None]]) -> None:
        """Switch to one of the base screens (dashboard, tracks, actions, findings)."""
        from dxfield.tui.screens.dashboard import DashboardScreen

        # The Dashboard is shown before the store is open (its cards come when it is).
        if screen_class is not DashboardScreen and not self._once_open(
            partial(self._show_base, screen_class)
        ):
            return
        self._to_base()
        if not isinstance(self.screen, screen_class):
            self.switch_screen(screen_class())

    def action_dashboard(self) -> None:
        """Show the dashboard."""
        from dxfield.tui.screens.dashboard import DashboardScreen

        self._show_base(DashboardScreen)

    def action_tracks(self) -> None:
        """Show the Tracks board."""
        from dxfield.tui.screens.tracks import TracksScreen

        self._show_base(TracksScreen)

    def action_actions(self) -> None:
        """Show the actions (the next steps)."""
        from dxfield.tui.screens.followups import ActionsScreen

        self._show_base(ActionsScreen)

    def action_sync(self) -> None:
        """Show the Sync screen."""
        from dxfield.tui.screens.sync import SyncScreen

        self._show_base(SyncScreen)

    def action_report(self) -> None:
        """Show the Report screen."""
        from dxfield.tui.screens.report import ReportScreen

        self._show_base(ReportScreen)

    def action_conflicts(self) -> None:
        """Show the records two devices changed at once."""
        from dxfield.tui.screens.sync import ConflictsScreen

        if self._once_open(self.action_conflicts):
            self.push_screen(ConflictsScreen())

    def action_deleted(self) -> None:
        """Show the deleted records, to bring one back."""
        from dxfield.tui.screens.deleted import DeletedScreen

        if self._once_open(self.action_deleted):
            self.push_screen(DeletedScreen())

    def action_findings(self) -> None:
        """Show the findings."""
        from dxfield.tui.screens.followups import FindingsScreen

        self._show_base(FindingsScreen)

    def action_log(self) -> None:
        """Show the log of every activity."""
        self.show_log()

    def show_log(self, scope: object | None = None) -> None:
        """Show the log, optionally scoped to an initiative or municipality."""
        from dxfield.tui.screens.log import LogScope, LogScreen

        # The Log reads in workers (the whole Log through the light store while the `Store`
        # opens): it is shown at once.
        self._to_base()
        if isinstance(scope, LogScope) or not isinstance(self.screen, LogScreen):
            self.switch_screen(LogScreen(scope if isinstance(scope, LogScope) else None))

    def action_new_activity(self) -> None:
        """Open the form for a new activity."""
        self.open_form()

    def open_form(self, activity_id: str | None = None, draft: Draft | None = None) -> None:
        """Open the activity form: new, editing `activity_id`, or restoring `draft`."""
        from dxfield.tui.screens.activity_form import ActivityFormScreen

        if not self._once_open(partial(self.open_form, activity_id, draft), kept=draft is not None):
            return
        self.push_screen(ActivityFormScreen(activity_id=activity_id, draft=draft))

    def action_quick_capture(self) -> None:
        """Open the quick capture (one screen: title, municipality, kind, a note)."""
        from dxfield.tui.screens.capture import CaptureScreen
        from dxfield.tui.screens.log import LogScreen

        if not self._once_open(self.action_quick_capture):
            return

        def saved(done: bool | None) -> None:
            if done and isinstance(self.screen, LogScreen):
                self.screen.action_reload()

        self.push_screen(CaptureScreen(), saved)

    def duplicate_activity(self, activity_id: str) -> None:
        """Open the form on a copy of `activity_id` (not its date or id): saved as a new one."""
        if self._once_open(partial(self.duplicate_activity, activity_id)):
            self._read_duplicate(activity_id)

    @work(thread=True, group="duplicate", exit_on_error=False)
    def _read_duplicate(self, activity_id: str) -> None:
        import uuid

        from dxfield.store.activities import get_activity
        from dxfield.store.local_state import Draft
        from dxfield.tui.screens.activity_form import record_to_values

        values = record_to_values(get_activity(self.store, activity_id))
        values.update(activity_id=None, date=self.today.isoformat())
        # A new activity's form, started from these values (as a restored draft is: escape
        # asks before it drops them).
        draft = Draft(f"activity-new-{uuid.uuid4().hex[:12]}", values, clock.now())
        self.call_from_thread(self.open_form, None, draft)

    def action_note_templates(self) -> None:
        """Edit the note each kind of activity starts with."""
        from dxfield.tui.screens.note_templates import NoteTemplatesScreen

        if self._once_open(self.action_note_templates):
            self.push_screen(NoteTemplatesScreen())

    def open_activity(self, activity_id: str) -> None:
        """Show one activity and its history."""
        from dxfield.tui.screens.activity_view import ActivityViewScreen

        self.push_screen(ActivityViewScreen(activity_id))

    def activity_saved(self, activity_id: str, *, created: bool) -> None:
        """After the form saved: a new activity is shown at the top of the Log."""
        from dxfield.tui.screens.log import LogScreen

        self.pop_screen()
        if created and not isinstance(self.screen, LogScreen):
            self._to_base()
            self.switch_screen(LogScreen())
        elif created and isinstance(self.screen, LogScreen):
            self.screen.show_newest()
        self.refresh_status()

    def reload_screen(self) -> None:
        """Read what the screen on top shows again (an undo changed it)."""
        for name in ("action_reload", "load"):
            method = getattr(self.screen, name, None)
            if callable(method):
                method()
                return

    def action_undo(self) -> None:
        """Put back the last one-key change, while its notification shows."""
        if self._store is not None:
            self.undoer.run(self._store)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a form is open, the keys that would leave it are off (escape asks first);
        `u` is on only while an undo is on offer, and not over a form or a question."""
        if self._asking_drafts:
            # Only moving between the answers, and ctrl+q (the drafts stay for the next start).
            return action in ("quit", "focus_next", "focus_previous")
        if not self._begun:
            return action == "quit"  # the first screen (perhaps the draft question) comes first
        if action == "undo":
            return (
                self.undoer.pending is not None
                and not isinstance(self.screen, ModalScreen)
                and not getattr(self.screen, "holds_unsaved_input", False)
            )
        leaves_screen = action in (
            "new_activity",
            "quick_capture",
            "dashboard",
            "log",
            "tracks",
            "actions",
            "findings",
        )
        return not (leaves_screen and getattr(self.screen, "holds_unsaved_input", False))

    async def action_quit(self) -> None:
        """Quit; an open form first writes its draft (or its save, under way, lands), so the
        next start can restore it. Should another dxfield be writing (a long import), they
        wait for it, said so, and the app quits once they land; ctrl+q again quits without
        them (what the store held before stays)."""
        from dxfield.tui.screens.activity_form import ActivityFormScreen

        if self.quitting:
            if any(w.group == "quit" and w.state in _UNDER_WAY for w in self.workers):
                self.quit_anyway = True
            else:  # the quit's worker is gone (it failed): nothing waits any more
                self.exit()
            return
        for screen in self.screen_stack:
            if isinstance(screen, ActivityFormScreen):
                screen.before_quitting()  # its last draft queued, or its save under way
        workers = self._writes_under_way()
        if not workers:
            self.exit()
            return
        self.quitting = True
        self.run_worker(self._quit_after(workers), group="quit", exit_on_error=False)

    def _writes_under_way(self) -> list[Worker[Any]]:
        """The forms' writes not done yet: drafts (of a form closed too: a discard), saves."""
        return [w for w in self.workers if w.group in _FORM_WRITES and w.state in _UNDER_WAY]

    async def _quit_after(self, workers: list[Worker[Any]]) -> None:
        """Quit once the forms' writes are done (a failed one too: what it wrote before
        stays), and those begun meanwhile (typing goes on being kept); say so when they wait
        for another writer. A save that fails calls the quit off (`stop_quitting`)."""
        import asyncio

        async def ended(worker: Worker[Any]) -> None:
            with contextlib.suppress(WorkerFailed, WorkerCancelled):
                await worker.wait()

        told = False
        while workers:
            waits = [asyncio.ensure_future(ended(worker)) for worker in workers]
            if not told:
                _done, pending = await asyncio.wait(waits, timeout=QUIT_SAYS_AFTER)
                if pending:
                    told = True
                    self._say_quit_waits()
            await asyncio.wait(waits)
            if not self.quitting:
                return
            workers = self._writes_under_way()
        self.exit()

    def _say_quit_waits(self) -> None:
        key = self.get_key_display(Binding("ctrl+q", "quit"))
        self.notify(
            _(
                "Another dxfield is writing to the log (an import?): the app quits once "
                "what you typed is saved. {key} again quits without it."
            ).format(key=key),
            title=_("Waiting to save"),
            severity="warning",
            timeout=3600,
            markup=False,
        )

    def stop_quitting(self) -> None:
        """A save the quit waited for failed: the app stays, so that its error is seen and
        what was typed can be mended."""
        self.quitting = self.quit_anyway = False
        self.clear_notifications()

    # -- Textual's own commands, in the user's language -----------------------------------------

    def system_entries(self, screen: Screen[object]) -> list[tuple[str, str, Callable[[], object]]]:
        """Textual's system commands as (label, help, callback), in English (looked up where
        shown). "Keys" opens the app's help: Textual's key panel shows key descriptions as
        written in BINDINGS, with no hook to translate them."""
        entries: list[tuple[str, str, Callable[[], object]]] = [
            (N_("Theme"), N_("Change the colours of the app"), self.action_change_theme),
            (N_("Keys"), N_("Every key of the app"), self.action_help),
        ]
        if screen.maximized is not None:
            entries.append(
                (N_("Minimize"), N_("Show the widget at its usual size"), screen.action_minimize)
            )
        elif screen.focused is not None and screen.focused.allow_maximize:
            entries.append(
                (
                    N_("Maximize"),
                    N_("Show the focused widget on the whole screen"),
                    screen.action_maximize,
                )
            )
        entries.append(
            (N_("Screenshot"), N_("Save a picture (SVG) of the screen"), self.action_screenshot_svg)
        )
        return entries

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's system commands in the user's language (the palette lists them through
        `DxfieldCommands`; this keeps Textual's hook worded the same for anything else)."""
        for label, help_text, callback in self.system_entries(screen):
            yield SystemCommand(_(label), _(help_text), callback)

    def action_command_palette(self) -> None:
        """The command palette, its prompt in the user's language."""
        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            self.push_screen(
                CommandPalette(placeholder=_("Search for a command…"), id="--command-palette")
            )

    def search_themes(self) -> None:
        """The theme picker, its prompt in the user's language (theme names are names)."""
        self.push_screen(
            CommandPalette(providers=[DxfieldThemes], placeholder=_("Search for a theme…"))
        )

    def action_screenshot_svg(self) -> None:
        """Save the screen as an SVG in the downloads folder, and say where."""
        self._save_screenshot(self.export_screenshot())

    @work(thread=True, group="screenshot", exit_on_error=False)
    def _save_screenshot(self, svg: str) -> None:
        import platformdirs

        folder = Path(platformdirs.user_downloads_dir())
        folder.mkdir(parents=True, exist_ok=True)
        name = "dxfield-" + clock.file_stamp() + ".svg"
        (folder / name).write_text(svg, encoding="utf-8")
        shown = display_path(str(folder / name))
        self.call_from_thread(
            self.notify, _("Saved a picture of the screen: {path}").format(path=shown), markup=False
        )

    def action_show_help_panel(self) -> None:
        """Textual's key panel (the focused widget's keys too), its words looked up."""
        from textual.widgets import HelpPanel

        from dxfield.tui.widgets.key_panel import TranslatedHelpPanel

        if not self.screen.query(HelpPanel):
            self.screen.mount(TranslatedHelpPanel())

    def action_help_quit(self) -> None:
        """ctrl+c (which copies in a text field) says how to quit, in the user's language."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(
                    _("Press {key} to quit the app").format(key=key),
                    title=_("Do you want to quit?"),
                    markup=False,
                )
                return

    def action_help(self) -> None:
        """Show every key."""
        from dxfield.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        # Workers still waiting for a store that will not open now give up (the process
        # would wait for their threads at exit).
        self._closed = True
        sys.setswitchinterval(self._switch_interval)
        self._light_tried.set()
        self._store_tried.set()
        if self._light is not None:
            self._light.close()
        if self._store is not None:
            self._store.close()


def run_app(data_dir: Path, database: str | None = None) -> None:
    """Open the app on the store of `data_dir` (or on the hub database `database`)."""
    from dxfield.tui.images import finish_detection

    finish_detection()  # before Textual takes the terminal's input
    DxfieldApp(data_dir, database).run()
