"""Sync and Conflicts: bundles out to a folder (a USB stick) and in from it, and the records that
two devices changed at once.

The Sync screen exports one bundle for a chosen trusted device into a chosen folder, imports
every bundle of a folder (or one file) with a progress bar, and shows what is not yet exported
per device and the history of bundles in and out. The Conflicts screen shows each record's
versions side by side, the fields that differ marked; `1`, `2`... keep that version, and `m`
keeps the shown one and opens it in the form to merge by hand.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, get_args, get_origin

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, ProgressBar, Select
from textual.widgets.option_list import Option

from dxfield import clock
from dxfield.domain.enums import LabelledEnum
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, field_label, ngettext
from dxfield.store.waits import GivingUp
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.screens.followups import FollowUpTable
from dxfield.tui.text import display_path, error_text, plain, plain_options
from dxfield.tui.widgets.table import FittedTable

if TYPE_CHECKING:
    from dxfield.store.conflicts import Conflict
    from dxfield.store.soundness import FarAhead
    from dxfield.sync.bundle import ImportResult
    from dxfield.tui.app import DxfieldApp

LAST_FOLDER = "sync.last_folder"


class SyncScreen(DxScreen):
    """Bundles out and in."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", N_("Export"), id="sync-export"),
        Binding("ctrl+o", "import", N_("Import"), id="sync-import"),
        Binding("k", "conflicts", N_("Conflicts"), id="sync-conflicts"),
        Binding("r", "reload", N_("Reload"), id="reload-sync"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="sync"):
            yield Label(_("Export"), classes="sync-heading")
            with Horizontal(classes="sync-row"):
                yield Select[str]([], prompt=_("Recipient"), id="recipient")
                yield Input(placeholder=_("Folder (a USB stick)"),
                            id="export-folder")  # fmt: skip
                yield Button(_("Export (e)"), id="export", variant="primary")
            yield Label(_("Import"), classes="sync-heading")
            with Horizontal(classes="sync-row"):
                yield Input(
                    placeholder=_("A bundle (.dxb) or its folder"),
                    id="import-path",
                )
                yield Button(_("Import (ctrl+o)"), id="import")
            yield ProgressBar(id="import-progress", show_eta=False)
            yield Label("", id="sync-message")
            yield Label("", id="unexported", classes="summary")
            yield Label("", id="far-ahead", classes="warning")
            yield FollowUpTable(id="bundle-log", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.sub_title = _("Sync")
        self.dx.refresh_status(conflicts=True)
        self.query_one("#import-progress", ProgressBar).display = False
        self.query_one("#far-ahead", Label).display = False
        self.query_one(FollowUpTable).add_columns(
            _("When"),
            _("Way"),
            _("Device"),
            _("Revisions"),
            _("New/updated/conflicting"),
            _("File"),
        )

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="sync-load", exit_on_error=False)
    def load(self) -> None:
        """Read the trusted devices, what each has not been sent, and the history."""
        from dxfield.store.local_state import get_setting
        from dxfield.store.soundness import far_ahead
        from dxfield.sync.bundle import bundle_log, recipients, unexported_counts

        devices = [(d.name, d.card.id) for d in recipients(self.store)]
        counts = unexported_counts(self.store)
        log = bundle_log(self.store)
        folder = get_setting(self.store, LAST_FOLDER, None) or str(Path.home())
        self.app.call_from_thread(self._show, devices, counts, log, folder)
        self.app.call_from_thread(self._show_far_ahead, far_ahead(self.store))

    def _show_far_ahead(self, found: list[FarAhead]) -> None:
        """Revisions taken though stamped over a day ahead, with the devices that sent them."""
        label = self.query_one("#far-ahead", Label)
        label.display = bool(found)
        if not found:
            return
        senders = sorted({f.sender for f in found})
        shown = _(", ").join(visible(s) for s in senders)
        label.update(
            plain(
                ngettext(
                    "{count} version stamped over a day ahead (sent by {devices});"
                    " dxfield check lists them",
                    "{count} versions stamped over a day ahead (sent by {devices});"
                    " dxfield check lists them",
                    len(found),
                ).format(count=len(found), devices=shown)
            )
        )

    def _show(
        self,
        devices: list[tuple[str, str]],
        counts: dict[str, int],
        log: list[dict[str, Any]],
        folder: str,
    ) -> None:
        recipient = self.query_one("#recipient", Select)
        chosen = recipient.value
        recipient.set_options(plain_options(devices))
        if chosen in {v for _, v in devices}:
            recipient.value = chosen
        elif len(devices) == 1:
            recipient.value = devices[0][1]
        for widget_id in ("#export-folder", "#import-path"):
            field = self.query_one(widget_id, Input)
            if not field.value:
                field.value = display_path(folder)  # "~/..." reads better, and expands back
        pending = "  ".join(
            ngettext("{name}: {count} change", "{name}: {count} changes", n).format(
                name=name, count=n
            )
            for name, n in counts.items()
        )
        self.query_one("#unexported", Label).update(
            plain(
                _("Not yet exported: ") + (pending or _("(no trusted devices: dxfield keys trust)"))
            )
        )
        table = self.query_one(FollowUpTable)
        table.clear()
        for entry in log:
            inbound = entry.get("direction") == "in"
            at = clock.parse_instant(str(entry.get("at", "")))
            cells = [
                f"{clock.in_japan(at):%Y-%m-%d %H:%M:%S}" if at else "",
                _("in") if inbound else _("out"),
                str(entry.get("peer", "")),
                str(entry.get("revisions", "")),
                f"{entry.get('new', 0)}/{entry.get('updated', 0)}/{entry.get('conflicting', 0)}"
                if inbound
                else "",
                str(entry.get("file", "")),
            ]
            table.add_row(*(plain(cell) for cell in cells))

    def _say(self, message: str, *, error: bool = False) -> None:
        label = self.query_one("#sync-message", Label)
        label.update(Text(visible(message), style="bold red" if error else ""))

    # -- export ----------------------------------------------------------------------------------

    def action_export(self) -> None:
        """Write a bundle for the chosen device into the chosen folder."""
        recipient = self.query_one("#recipient", Select).value
        folder = Path(self.query_one("#export-folder", Input).value.strip()).expanduser()
        if not isinstance(recipient, str):
            self._say(_("Choose the recipient"), error=True)
            return
        self._export(recipient, folder)

    @work(thread=True, exclusive=True, group="sync-export", exit_on_error=False)
    def _export(self, recipient: str, folder: Path) -> None:
        from dxfield.store.files import safe_name_part
        from dxfield.store.local_state import set_setting
        from dxfield.sync.bundle import export_bundle, recipients

        if not folder.is_dir():  # a stick pulled out: said in one line, in the worker
            message = _("There is no folder {folder}").format(folder=display_path(str(folder)))
            self.app.call_from_thread(self._say, message, error=True)
            return
        try:
            name = next(
                (d.name for d in recipients(self.store) if d.card.id == recipient), recipient
            )
            stamp = clock.file_stamp()
            # Names are the devices' own (and another's may be anything): made safe, so a "/"
            # or ".." in one cannot steer the file out of the folder.
            device = safe_name_part(self.store.device.name, "device")
            peer = safe_name_part(name, "peer")
            out = folder / f"dxfield-{device}-{peer}-{stamp}.dxb"
            result = export_bundle(self.store, out, recipient)
            set_setting(self.store, LAST_FOLDER, str(folder))
        except Exception as exc:
            self.app.call_from_thread(self._say, error_text(exc), error=True)
            return
        shown = {"path": display_path(str(result.path)), "recipient": visible(name)}
        if result.nothing_new:  # purges it has, carried again, are not news
            message = _("Wrote {path} for {recipient} (nothing new)").format(**shown)
        else:
            message = ngettext(
                "Wrote {path} for {recipient} ({count} change)",
                "Wrote {path} for {recipient} ({count} changes)",
                result.new,
            ).format(**shown, count=result.new)
        if result.unsent:
            message += "  " + ngettext(
                "({count} change not sent: no proof of who wrote it; its author sends it)",
                "({count} changes not sent: no proof of who wrote them; their authors send them)",
                result.unsent,
            ).format(count=result.unsent)
        self.app.call_from_thread(self._say, message)
        self.app.call_from_thread(self.load)
        self.app.call_from_thread(self.dx.refresh_status)

    # -- import ----------------------------------------------------------------------------------

    def action_import(self) -> None:
        """Import the bundle, or every bundle of the folder, each all or nothing."""
        path = Path(self.query_one("#import-path", Input).value.strip()).expanduser()
        self._import(path)

    def _start_progress(self, total: int) -> None:
        progress = self.query_one("#import-progress", ProgressBar)
        progress.display = True
        progress.update(total=total, progress=0)

    @work(thread=True, exclusive=True, group="sync-import", exit_on_error=False)
    def _import(self, path: Path) -> None:
        from dxfield.sync.bundle import import_bundle

        # The app and its store, held: should the person leave this screen, the import goes
        # on, and `self.app` would find no app from this thread (the screen is in none).
        app, store = self.dx, self.store
        # The folder is listed here, in the worker: the event loop never waits on the disk.
        files = sorted(path.glob("*.dxb")) if path.is_dir() else [path]
        if not files or not files[0].exists():
            message = _("No sync files in {path}").format(path=display_path(str(path)))
            app.call_from_thread(self._say, message, error=True)
            return
        app.call_from_thread(self._start_progress, len(files))
        # Should the person quit (ctrl+q, even while the app waits for a form's draft), the
        # import stops before it writes (store/waits.py): the app closes at once rather than
        # once it is done, or once another writer is.
        waiting = GivingUp(partial(_say_waiting, app), lambda: app.is_running and not app.quitting)
        results: list[ImportResult] = []
        failures: list[str] = []
        for path in files:
            try:
                results.append(import_bundle(store, path, waiting=waiting))
            except Exception as exc:
                failures.append(f"{path.name}: {error_text(exc)}")
            if not app.is_running:  # the app is closing: no one to tell
                return
            app.call_from_thread(self._advanced)
        app.call_from_thread(self._imported, app, results, failures)

    def _advanced(self) -> None:
        if self.is_attached:
            self.query_one("#import-progress", ProgressBar).advance(1)

    def _imported(self, app: DxfieldApp, results: list[ImportResult], failures: list[str]) -> None:
        new = sum(r.new for r in results)
        updated = sum(r.updated for r in results)
        conflicting = sum(r.conflicting for r in results)
        message = ngettext(
            "Imported {count} file: new {new}, updated {updated}, in conflict {conflicting}",
            "Imported {count} files: new {new}, updated {updated}, in conflict {conflicting}",
            len(results),
        ).format(count=len(results), new=new, updated=updated, conflicting=conflicting)
        if failures:
            message += "  " + "  ".join(failures)
        app.refresh_status(conflicts=True)
        if not self.is_attached:  # the person went on to another screen: told there
            app.notify(
                visible(message),
                severity="error" if failures else "information",
                timeout=15,
                markup=False,
            )
            return
        self.query_one("#import-progress", ProgressBar).display = False
        self.query_one("#far-ahead", Label).display = False
        self._say(message, error=bool(failures))
        self.load()

    # -- other -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#export")
    def _export_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#import")
    def _import_pressed(self) -> None:
        self.action_import()

    def action_conflicts(self) -> None:
        """The records two devices changed at once."""
        self.app.push_screen(ConflictsScreen())

    def action_reload(self) -> None:
        """Read again."""
        self.load()


def _say_waiting(app: App[Any]) -> None:
    """Another dxfield holds the store (another import writing): an import waits for it, and
    says so wherever the person is in the app (called from the import's thread)."""
    app.call_from_thread(
        app.notify,
        _("Another dxfield is writing to the log; this import goes on once it is done"),
        title=_("Waiting to import"),
        severity="warning",
        timeout=15,
        markup=False,
    )


def _choices(entity: str, name: str) -> type[LabelledEnum] | None:
    """The enumeration a field of `entity` holds (one member or a list of them), if any."""
    from dxfield.store.records import ENTITIES

    repository = ENTITIES.get(entity)
    found = repository.base.model_fields.get(name) if repository else None
    pending = [found.annotation] if found else []
    while pending:
        kind = pending.pop()
        if get_origin(kind) is None and isinstance(kind, type) and issubclass(kind, LabelledEnum):
            return kind
        pending.extend(get_args(kind))
    return None


def shown_value(entity: str, name: str, value: object) -> str:
    """A field's value in a version, as a person reads it: a choice (or a list of choices) by
    its label in the user's language, text as it is, anything else as JSON (data)."""
    import json

    choices = _choices(entity, name)
    keys = value if isinstance(value, list) else [value]
    members = {m.value: m for m in choices} if choices is not None else {}
    if keys and all(isinstance(k, str) and k in members for k in keys):
        return _(", ").join(members[str(k)].label(None) for k in keys)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class ConflictsScreen(DxScreen):
    """Each record in conflict; its versions side by side."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "keep(0)", N_("Keep 1"), id="keep-1"),
        Binding("2", "keep(1)", N_("Keep 2"), id="keep-2"),
        Binding("3", "keep(2)", N_("Keep 3"), show=False),
        Binding("m", "merge", N_("Merge by hand"), id="merge-by-hand"),
        Binding("escape", "back", N_("Back"), id="conflicts-back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.conflicts: list[Conflict] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="conflicts"):
            yield OptionList(id="conflict-list")
            yield FittedTable(id="versions", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.sub_title = _("Conflicts")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="conflicts", exit_on_error=False)
    def load(self) -> None:
        """Read every conflict."""
        from dxfield.store.conflicts import list_conflicts

        found = list_conflicts(self.store)
        self.app.call_from_thread(self._show, found)

    def _show(self, found: list[Conflict]) -> None:
        self.conflicts = found
        listing = self.query_one("#conflict-list", OptionList)
        listing.clear_options()
        from dxfield.store.records import label

        listing.add_options(
            [Option(plain(f"{label(c.entity)}: {c.label}"), id=c.entity_id) for c in found]
            or [Option(_("No conflicts"), disabled=True)]
        )
        if found:
            listing.highlighted = 0
        self._show_versions(found[0] if found else None)
        listing.focus()

    def _current(self) -> Conflict | None:
        index = self.query_one("#conflict-list", OptionList).highlighted
        return self.conflicts[index] if index is not None and index < len(self.conflicts) else None

    @on(OptionList.OptionHighlighted, "#conflict-list")
    def _highlighted(self) -> None:
        self._show_versions(self._current())

    def _show_versions(self, conflict: Conflict | None) -> None:
        table = self.query_one("#versions", FittedTable)
        table.clear(columns=True)
        if conflict is None:
            return
        table.add_column(_("Field"))
        for number, version in enumerate(conflict.versions, 1):
            shown = _("shown") if version.winner else _("other")
            table.add_column(plain(f"{number}. {shown} {version.rev_id[-8:]}"))
        differs = set(conflict.differing_fields)
        names = sorted({k for v in conflict.versions for k in v.data} - {"created_at"})
        for name in sorted(names, key=lambda n: (n not in differs, n)):
            style = "bold reverse" if name in differs else ""
            cells = []
            for version in conflict.versions:
                text = shown_value(conflict.entity, name, version.data.get(name))
                cells.append(Text(visible(text.replace("\n", " ")[:200]), style=style))
            mark = "* " if name in differs else "  "
            table.add_row(Text(mark + field_label(name), style=style), *cells)

    def action_keep(self, index: int) -> None:
        """Keep version `index + 1` of the highlighted record (`u` puts back the one shown
        before, while the notification shows)."""
        conflict = self._current()
        if conflict is None or index >= len(conflict.versions):
            return
        shown = next((v.rev_id for v in conflict.versions if v.winner), None)
        self._resolve(conflict.entity_id, conflict.versions[index].rev_id, False, shown)

    def action_merge(self) -> None:
        """Keep the shown version and edit it (an activity opens in the form)."""
        conflict = self._current()
        if conflict is not None:
            self._resolve(conflict.entity_id, conflict.versions[0].rev_id, True, None)

    @work(thread=True, exclusive=True, group="resolve", exit_on_error=False)
    def _resolve(self, entity_id: str, rev_id: str, then_edit: bool, shown: str | None) -> None:
        from dxfield.store.conflicts import get_conflict, resolve_conflict

        conflict = get_conflict(self.store, entity_id)
        resolve_conflict(self.store, entity_id, keep=rev_id)
        self.app.call_from_thread(
            self._resolved, conflict, then_edit, shown if shown != rev_id else None
        )

    def _resolved(self, conflict: Conflict, then_edit: bool, shown: str | None) -> None:
        from dxfield.tui.undo import Undo, revert_to

        if shown is not None:
            # The kept version replaced the one shown before: `u` makes that current again
            # (a new version; the kept one stays in the history).
            self.dx.undoer.offer(
                _("Conflict resolved"),
                Undo(
                    revert_to(conflict.entity_id, shown),
                    _("The version shown before is current again"),
                    after=self.dx.reload_screen,
                ),
            )
        else:
            self.notify(_("Conflict resolved"))
        self.dx.refresh_status(conflicts=True)
        if then_edit and conflict.entity == "activity":
            self.dx.open_form(activity_id=conflict.entity_id)
        else:
            self.load()

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
