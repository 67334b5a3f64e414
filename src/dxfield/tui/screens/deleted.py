"""Deleted records, newest deletion first: `r` brings the highlighted one back (a new version
that syncs like any change; `u` deletes it again while the notification shows). Nothing deleted
is gone."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Label

from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, current_language, ngettext, pgettext
from dxfield.store.hlc import stamped_at
from dxfield.store.versions import DeletedRecord
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.screens.followups import FollowUpTable


class DeletedScreen(DxScreen):
    """Every deleted record, with the device that deleted it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "restore", N_("Restore"), id="restore-deleted"),
        Binding("escape", "back", N_("Back"), id="deleted-close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[DeletedRecord] = []

    def compose_body(self) -> ComposeResult:
        yield Label("", id="deleted-summary", classes="summary")
        yield FollowUpTable(id="deleted", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.sub_title = _("Deleted records")
        table = self.query_one(FollowUpTable)
        table.add_columns(_("Kind"), pgettext("column", "Deleted"), _("By"), _("Record"))
        table.focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="deleted", exit_on_error=False)
    def load(self) -> None:
        """Read the deleted records."""
        from dxfield.store.versions import list_deleted

        items = list_deleted(self.store)
        self.app.call_from_thread(self._show, items)

    def _show(self, items: list[DeletedRecord]) -> None:
        from dxfield.store.records import label

        self.items = items
        lang = current_language()
        table = self.query_one(FollowUpTable)
        row = table.cursor_row
        table.clear()
        for item in items:
            at = stamped_at(item.deleted_hlc)
            by = (
                self.store.device.name
                if item.deleted_by == self.store.device.id
                else item.deleted_by
            )
            table.add_row(
                Text(label(item.entity, lang)),
                Text(f"{at:%Y-%m-%d %H:%M}" if at else ""),
                Text(visible(by[:20])),
                Text(visible(item.label)),
                key=f"{item.entity}:{item.entity_id}",
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        self.query_one("#deleted-summary", Label).update(
            ngettext(
                "{count} deleted record (r restores it)",
                "{count} deleted records (r restores one)",
                len(items),
            ).format(count=len(items))
            if items
            else _("No deleted records")
        )

    def _current(self) -> DeletedRecord | None:
        table = self.query_one(FollowUpTable)
        if not self.items or not 0 <= table.cursor_row < len(self.items):
            return None
        return self.items[table.cursor_row]

    def action_restore(self) -> None:
        """Bring the highlighted record back, after asking."""
        from dxfield.tui.screens.confirm import ConfirmScreen
        from dxfield.tui.undo import restore_with_undo

        item = self._current()
        if item is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                restore_with_undo(self, item.entity_id)

        self.app.push_screen(
            ConfirmScreen(_("Restore “{label}”?").format(label=item.label), default=True),
            answer,
        )

    @on(FollowUpTable.RowSelected, "#deleted")
    def _row_selected(self, event: FollowUpTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the highlighted record's history (an activity or a finding), to read it before
        bringing it back."""
        from dxfield.tui.screens.activity_view import ActivityViewScreen
        from dxfield.tui.screens.finding_view import FindingViewScreen

        item = self._current()
        if item is None:
            return
        if item.entity == "activity":
            self.app.push_screen(ActivityViewScreen(item.entity_id))
        elif item.entity == "finding":
            self.app.push_screen(FindingViewScreen(item.entity_id))

    def action_back(self) -> None:
        """Back to where this was opened from."""
        self.app.pop_screen()
