"""The dxfield app: Dashboard, Log, activity form and view, help; all keys in the palette.

The store is opened once, in a thread worker, and every database call after that runs in a
worker too: the event loop never waits on the disk. Failures become notifications.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, Provider
from textual.screen import ModalScreen, Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from dxfield import clock
from dxfield.i18n import N_, _
from dxfield.tui.commands import DxfieldCommands, DxfieldThemes
from dxfield.tui.text import (
    display_path,
    error_text,
    notify_failure,
    plain,
)
from dxfield.tui.undo import Undoer
from dxfield.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from dxfield.store.engine import Store
    from dxfield.store.local_state import Draft


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
        self._conflicts = 0  # counted after each sync, not on every screen change
        self.undoer = Undoer(self)  # the one undo on offer (`u`), see tui/undo.py
        self._asking_drafts = False  # the draft question is open: the app's keys are off

    @property
    def today(self) -> dt.date:
        """Today in Japan, from the one clock (tests inject theirs there)."""
        return clock.today()

    @property
    def store(self) -> Store:
        """The open store."""
        if self._store is None:
            raise RuntimeError("the store is not open yet")
        return self._store

    def compose(self) -> ComposeResult:
        yield Static(_("Opening the store…"), id="opening")
        yield StatusBar()

    def on_mount(self) -> None:
        self.open_store()

    @work(thread=True, exclusive=True, group="store-open", exit_on_error=False)
    def open_store(self) -> list[Draft]:
        """Open (create, migrate) the store and read any drafts left by a crash."""
        from dxfield.store.engine import Store
        from dxfield.store.local_state import list_drafts

        self._store = Store.open(self.data_dir, database=self.database)
        return list_drafts(self._store)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            notify_failure(self, event.worker.error, timeout=15)
            if self._store is None:
                self.query_one("#opening", Static).update(plain(error_text(event.worker.error)))
        elif event.state is WorkerState.SUCCESS and event.worker.group == "store-open":
            self._store_opened(event.worker.result or [])

    def _store_opened(self, drafts: list[Draft]) -> None:
        # Everything imported so far lives as long as the app: keep it out of the collector's
        # full passes, which otherwise stall the event loop for ~90 ms now and then.
        gc.freeze()
        # Conflicts left from an earlier sync: counted once the first screen has settled.
        self.set_timer(2.0, partial(self.refresh_status, conflicts=True))
        if drafts:
            # The draft question comes first, before the dashboard: nothing else takes keys
            # until it is answered (`check_action`).
            self._asking_drafts = True
            self.query_one("#opening", Static).update("")
            for bar in self.screen.query(StatusBar):  # the store is open: say which, under it
                bar.store_path = display_path(self.store.location)
                bar.device_name = self.store.device.name
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
        for bar in self.screen.query(StatusBar):
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

    def _show_base(self, screen_class: type[Screen[None]]) -> None:
        """Switch to one of the base screens (dashboard, tracks, actions, findings)."""
        if self._store is None:
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

        if self._store is not None:
            self.push_screen(ConflictsScreen())

    def action_deleted(self) -> None:
        """Show the deleted records, to bring one back."""
        from dxfield.tui.screens.deleted import DeletedScreen

        if self._store is not None:
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

        if self._store is None:
            return
        self._to_base()
        if isinstance(scope, LogScope) or not isinstance(self.screen, LogScreen):
            self.switch_screen(LogScreen(scope if isinstance(scope, LogScope) else None))

    def action_new_activity(self) -> None:
        """Open the form for a new activity."""
        self.open_form()

    def open_form(self, activity_id: str | None = None, draft: Draft | None = None) -> None:
        """Open the activity form: new, editing `activity_id`, or restoring `draft`."""
        from dxfield.tui.screens.activity_form import ActivityFormScreen

        if self._store is None:
            return
        self.push_screen(ActivityFormScreen(activity_id=activity_id, draft=draft))

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
        if action == "undo":
            return (
                self.undoer.pending is not None
                and not isinstance(self.screen, ModalScreen)
                and not getattr(self.screen, "holds_unsaved_input", False)
            )
        leaves_screen = action in (
            "new_activity",
            "dashboard",
            "log",
            "tracks",
            "actions",
            "findings",
        )
        return not (leaves_screen and getattr(self.screen, "holds_unsaved_input", False))

    async def action_quit(self) -> None:
        """Quit; an open form first writes its draft, so the next start can restore it."""
        from dxfield.tui.screens.activity_form import ActivityFormScreen

        for screen in self.screen_stack:
            if isinstance(screen, ActivityFormScreen):
                worker = screen.flush_draft()
                if worker is not None:
                    await worker.wait()
        self.exit()

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
        if self._store is not None:
            self._store.close()


def run_app(data_dir: Path, database: str | None = None) -> None:
    """Open the app on the store of `data_dir` (or on the hub database `database`)."""
    DxfieldApp(data_dir, database).run()
