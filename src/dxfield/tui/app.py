"""The dxfield app: for now one screen, the Log of activities, newest first.

The store is opened and read in thread workers; the event loop never waits on the disk. A failure
becomes a notification on screen, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from dxfield.i18n import current_language

if TYPE_CHECKING:
    from dxfield.store.engine import Store

PAGE = 500


@dataclass(frozen=True)
class LogPage:
    """What the Log shows: rows as plain data, and where the store lives."""

    store_path: str
    device_name: str
    rows: list[tuple[str, str, str, str]]


def _t(ja: str, en: str) -> str:
    return ja if current_language() == "ja" else en


class DxfieldApp(App[None]):
    """The field log app."""

    TITLE = "dxfield"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("q", "quit", _t("終了", "Quit"), id="quit"),
        Binding("ctrl+q", "quit", _t("終了", "Quit"), show=False, id="quit-ctrl"),
        Binding("r", "reload", _t("再読込", "Reload"), id="reload"),
    ]

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir
        self._store: Store | None = None

    def _open_store(self) -> Store:
        """The store, opened once (in a worker thread) and kept for the app's life."""
        if self._store is None:
            from dxfield.store.engine import Store

            self._store = Store.open(self.data_dir)
        return self._store

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="log", cursor_type="row", zebra_stripes=True)
        yield Static(_t("読み込み中…", "Loading…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _t("活動ログ", "Activity log")
        table = self.query_one("#log", DataTable)
        table.add_columns(
            _t("日付", "Date"),
            _t("市町村", "Municipality"),
            _t("種別", "Kind"),
            _t("タイトル", "Title"),
        )
        self.load_log()

    def action_reload(self) -> None:
        """Read the log again."""
        self.load_log()

    @work(thread=True, exclusive=True, group="store", exit_on_error=False)
    def load_log(self) -> LogPage:
        """Open the store and read the newest activities (in a thread)."""
        from dxfield.domain.dates import format_date
        from dxfield.store.activities import list_activities

        lang = current_language()
        store = self._open_store()
        rows = [
            (
                format_date(r.date, r.date_precision, lang),
                r.municipality,
                r.kind.label(lang),
                r.title,
            )
            for r in list_activities(store, limit=PAGE)
        ]
        return LogPage(str(store.path), store.device.name, rows)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(str(error), title=_t("エラー", "Error"), severity="error", timeout=10)
            self.query_one("#status", Static).update(str(error))
        elif event.state is WorkerState.SUCCESS and isinstance(event.worker.result, LogPage):
            page = event.worker.result
            table = self.query_one("#log", DataTable)
            table.clear()
            table.add_rows(page.rows)
            self.query_one("#status", Static).update(
                f"{page.store_path}  ·  {page.device_name}  ·  "
                + _t(f"{len(page.rows)}件", f"{len(page.rows)} activities")
            )


def run_app(data_dir: Path) -> None:
    """Open the app on the store in `data_dir`."""
    DxfieldApp(data_dir).run()
