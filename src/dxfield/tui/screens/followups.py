"""Findings and Actions (今後の取組方針): the follow-through, with filters.

Actions due within 14 days and overdue ones stand out; `x` marks the action under the cursor
done (`u` undoes it while the notification shows); `c` creates one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select

from dxfield.domain.dates import read_day
from dxfield.domain.enums import ActionStatus, FindingKind, SupportArea
from dxfield.domain.visible import visible
from dxfield.i18n import N_, LocalizedError, _, about, current_language, ngettext, pgettext
from dxfield.tui.screens.base import DxScreen, FormModal
from dxfield.tui.text import plain_options
from dxfield.tui.undo import Undo, edit_back, said
from dxfield.tui.widgets.table import FittedTable

if TYPE_CHECKING:
    from dxfield.domain.records import ActionRead, FindingRead
    from dxfield.store.followups import ActionItem
    from dxfield.store.unit import Work

DUE_SOON_DAYS = 14
OPEN = "open"


def initiative_labels(store: Work) -> list[tuple[str, str]]:
    """(label, id) of every initiative, for the filters and the form."""
    from dxfield.store.followups import list_initiatives

    return [
        (f"{s.municipality} {s.initiative.theme}".strip(), s.initiative.id)
        for s in list_initiatives(store)
    ]


def complete_with_undo(screen: DxScreen, action_id: str) -> None:
    """Mark an action done in a thread worker, then say so with `u` to put its status back
    (an edit through the one write path: the history keeps both versions)."""
    dx = screen.dx

    def write() -> None:
        from dxfield.store import records
        from dxfield.store.followups import complete_action

        before = records.get(dx.store, "action", action_id)
        status = getattr(before, "status", ActionStatus.planned)
        action, changed = complete_action(dx.store, action_id)
        dx.call_from_thread(completed, action, status, changed)

    def completed(action: ActionRead, before: ActionStatus, changed: bool) -> None:
        if changed:
            text = said(action.text)
            dx.undoer.offer(
                _("Done: {text}").format(text=text),
                Undo(
                    edit_back("action", action.id, {"status": before.value}),
                    _("Undone: {text} is {status} again").format(
                        text=text, status=before.label(current_language())
                    ),
                    after=dx.reload_screen,
                ),
            )
        else:
            dx.notify(_("Already done"), markup=False)
        dx.reload_screen()
        dx.refresh_status()

    screen.run_worker(write, thread=True, group="action-done", exit_on_error=False)


class FollowUpTable(FittedTable):
    """A table whose rows can stand out: overdue, or due soon."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "follow-up-table--overdue",
        "follow-up-table--soon",
        "follow-up-table--muted",
    }

    DEFAULT_CSS = """
    FollowUpTable { height: 1fr; }
    FollowUpTable > .follow-up-table--overdue { color: $error; text-style: bold; }
    FollowUpTable > .follow-up-table--soon { color: $warning; text-style: bold; }
    FollowUpTable > .follow-up-table--muted { color: $text-muted; }
    """


def _value(screen: DxScreen, widget_id: str, default: str | None = None) -> str | None:
    """The value chosen in the screen's Select `widget_id`, None for none; `default` while the
    Select is not mounted yet."""
    found = screen.query(f"#{widget_id}")
    if not found:
        return default
    value = found.first(Select).value
    return value if isinstance(value, str) else None


class ActionsScreen(DxScreen):
    """Every action, due soonest first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "done", N_("Done"), id="action-done"),
        Binding("c", "create", N_("New action"), id="action-create"),
        Binding("e", "edit", N_("Edit"), id="action-edit"),
        Binding("d", "delete", N_("Delete"), id="action-delete"),
        Binding("f", "focus_filters", N_("Filters"), id="action-filters"),
        Binding("r", "reload", N_("Reload"), id="reload-actions"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ActionItem] = []
        self._initiatives: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        lang = current_language()
        with Horizontal(classes="filter-bar"):
            yield Select[str](
                [(pgettext("status", "Open"), OPEN)]
                + [(s.label(lang), s.value) for s in ActionStatus],
                value=OPEN,
                prompt=_("Every status"),
                id="status",
                compact=True,
            )
            yield Select[str]([], prompt=_("Every initiative"), id="initiative", compact=True)
        yield Label("", id="actions-summary", classes="summary")
        yield FollowUpTable(id="actions", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.sub_title = _("Actions")
        table = self.query_one(FollowUpTable)
        table.add_columns(
            _("Status"),
            _("Due"),
            _("Initiative"),
            _("Owner"),
            _("Action"),
        )
        table.focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    def _filters(self) -> tuple[str | None, bool, str | None]:
        status = _value(self, "status", OPEN)
        initiative = _value(self, "initiative")
        chosen_status = status if isinstance(status, str) and status != OPEN else None
        return chosen_status, status == OPEN, initiative if isinstance(initiative, str) else None

    def load(self) -> None:
        """Read the actions the filters let through (the filters read here, on the event loop:
        a worker thread must not walk the DOM while the screen may still be mounting it)."""
        self._load(*self._filters())

    @work(thread=True, exclusive=True, group="actions", exit_on_error=False)
    def _load(self, status: str | None, open_only: bool, initiative: str | None) -> None:
        from dxfield.store.followups import list_actions

        initiatives = initiative_labels(self.store)
        items = list_actions(
            self.store,
            status=status,
            open_only=open_only,
            initiative=initiative,
            today=self.dx.today,
        )
        self.app.call_from_thread(self._show, initiatives, items)

    def _show(self, initiatives: list[tuple[str, str]], items: list[ActionItem]) -> None:
        select = self.query_one("#initiative", Select)
        if not self._initiatives:
            with self.prevent(Select.Changed):
                select.set_options(plain_options(initiatives))
        self._initiatives = {value: label for label, value in initiatives}
        self.items = items
        table = self.query_one(FollowUpTable)
        row = table.cursor_row
        table.clear()
        lang = current_language()
        overdue_style = table.get_component_rich_style("follow-up-table--overdue")
        soon_style = table.get_component_rich_style("follow-up-table--soon")
        muted = table.get_component_rich_style("follow-up-table--muted")
        today = self.dx.today
        overdue = soon = 0
        for item in items:
            action = item.action
            is_open = action.status in (ActionStatus.planned, ActionStatus.in_progress)
            due_soon = bool(
                is_open
                and action.due
                and not item.overdue
                and action.due <= today + dt.timedelta(days=DUE_SOON_DAYS)
            )
            style = overdue_style if item.overdue else soon_style if due_soon else None
            overdue += item.overdue
            soon += due_soon
            status = action.status.label(lang)
            if item.overdue:
                status += _(" overdue")
            elif due_soon:
                status += _(" due soon")
            cells = [
                status,
                action.due.isoformat() if action.due else "",
                self._initiatives.get(action.initiative_id or "", ""),
                action.owner,
                action.text.split("\n")[0],
            ]
            cells = [visible(cell) for cell in cells]
            cell_style = style or (None if is_open else muted)
            table.add_row(
                *(Text(c, style=cell_style) if cell_style else Text(c) for c in cells),
                key=action.id,
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        self.query_one("#actions-summary", Label).update(
            ngettext(
                "{count} action  ·  {overdue} overdue  ·  {soon} due within 14 days  ·  x done  c new",
                "{count} actions  ·  {overdue} overdue  ·  {soon} due within 14 days  ·  x done  c new",
                len(items),
            ).format(count=len(items), overdue=overdue, soon=soon)
        )

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.load()

    def _current(self) -> ActionItem | None:
        table = self.query_one(FollowUpTable)
        if not self.items or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    def action_done(self) -> None:
        """Mark the action under the cursor done (`u` puts its status back)."""
        item = self._current()
        if item is not None:
            complete_with_undo(self, item.action.id)

    @on(FollowUpTable.RowSelected, "#actions")
    def _row_selected(self, event: FollowUpTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the action under the cursor in full, with its history."""
        from dxfield.tui.screens.action_view import ActionViewScreen

        item = self._current()
        if item is not None:
            self.app.push_screen(ActionViewScreen(item.action.id))

    def action_edit(self) -> None:
        """Edit the action under the cursor."""
        item = self._current()
        if item is not None:
            self.app.push_screen(
                ActionFormScreen(list(self._initiatives.items()), None, item.action)
            )

    def action_delete(self) -> None:
        """Delete the action under the cursor, after asking; `u` brings it back."""
        from dxfield.tui.screens.action_view import delete_action

        item = self._current()
        if item is not None:
            delete_action(self, item.action)

    def action_create(self) -> None:
        """Add an action."""
        initiative = self.query_one("#initiative", Select).value

        def done(saved: bool | None) -> None:
            if saved:
                self.load()

        self.app.push_screen(
            ActionFormScreen(
                list(self._initiatives.items()),
                initiative if isinstance(initiative, str) else None,
            ),
            done,
        )

    def action_focus_filters(self) -> None:
        """Move to the filters."""
        self.query_one("#status", Select).focus()

    def action_reload(self) -> None:
        """Read the actions again."""
        self.load()


@dataclass(frozen=True)
class ActionInput:
    """A checked action, ready to write."""

    text: str
    initiative: str | None
    owner: str
    due: str | None
    status: str | None = None


class ActionFormScreen(FormModal):
    """A new action, or changes to one: what, for which initiative, who, by when (and, for one
    that exists, how far it has come)."""

    def __init__(
        self,
        initiatives: list[tuple[str, str]],
        initiative: str | None,
        action: ActionRead | None = None,
    ) -> None:
        super().__init__()
        self.action = action
        self.initiative = action.initiative_id if action else initiative
        self.initiatives = list(initiatives)
        if self.initiative and self.initiative not in dict(self.initiatives):
            # Not among those listed (not read yet): kept, by its id, rather than cleared.
            self.initiatives.append((self.initiative, self.initiative))

    def compose(self) -> ComposeResult:
        action = self.action
        with VerticalScroll():
            yield Label(_("Edit the action") if action else _("New action"), classes="field-label")
            yield Label(_("Action"), classes="field-label")
            yield Input(action.text if action else "", id="action-text", select_on_focus=False)
            yield Label(_("Initiative"), classes="field-label")
            yield Select[str](
                plain_options([(label, value) for value, label in self.initiatives]),
                prompt=_("(none)"),
                value=self.initiative or Select.NULL,
                id="action-initiative",
            )
            yield Label(_("Owner"), classes="field-label")
            yield Input(action.owner if action else "", id="action-owner", select_on_focus=False)
            yield Label(_("Due (optional; 7/17 works)"), classes="field-label")
            yield Input(
                action.due.isoformat() if action and action.due else "",
                id="action-due",
                select_on_focus=False,
            )
            if action is not None:
                lang = current_language()
                yield Label(_("Status"), classes="field-label")
                yield Select[str](
                    [(s.label(lang), s.value) for s in ActionStatus],
                    value=action.status.value,
                    allow_blank=False,
                    id="action-status",
                )
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#action-text", Input).focus()

    def check(self) -> ActionInput | None:
        """The due date must read (the rest is the store's to check)."""
        due_text = self.query_one("#action-due", Input).value.strip()
        try:
            with about("due"):
                due = read_day(due_text, self.dx.today).isoformat() if due_text else None
        except LocalizedError as exc:
            self.show_error(exc.message())
            return None
        initiative = self.query_one("#action-initiative", Select).value
        status = self.query("#action-status").first(Select).value if self.action else None
        return ActionInput(
            text=self.query_one("#action-text", Input).value,
            initiative=initiative if isinstance(initiative, str) else None,
            owner=self.query_one("#action-owner", Input).value,
            due=due,
            status=status if isinstance(status, str) else None,
        )

    def write(self, payload: object) -> None:
        """Save a new action as of today, or the changes to this one (an empty value clears)."""
        from dxfield.store.followups import add_action, edit_action

        assert isinstance(payload, ActionInput)
        if self.action is None:
            add_action(
                self.store,
                text=payload.text,
                initiative=payload.initiative,
                owner=payload.owner,
                due=payload.due,
                as_of=self.dx.today.isoformat(),
            )
            return
        edit_action(
            self.store,
            self.action.id,
            text=payload.text,
            initiative=payload.initiative or "",
            owner=payload.owner,
            due=payload.due or "",
            status=payload.status,
        )


class FindingsScreen(DxScreen):
    """Every finding: outcomes, insights, factors and issues. Enter opens one in full, `c` adds
    one, `e` edits, `d` deletes (`u` brings it back while the notification shows)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "create", N_("New finding"), id="finding-create"),
        Binding("e", "edit", N_("Edit"), id="finding-edit"),
        Binding("d", "delete", N_("Delete"), id="finding-delete"),
        Binding("f", "focus_filters", N_("Filters"), id="finding-filters"),
        Binding("r", "reload", N_("Reload"), id="reload-findings"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._initiatives: dict[str, str] = {}
        self.items: list[FindingRead] = []
        self._show_id: str | None = None  # a finding to put the cursor on once it is read

    def compose_body(self) -> ComposeResult:
        lang = current_language()
        with Horizontal(classes="filter-bar"):
            yield Select[str](
                [(k.label(lang), k.value) for k in FindingKind],
                prompt=_("Every kind"),
                id="kind",
                compact=True,
            )
            yield Select[str](
                [(a.label(lang), a.value) for a in SupportArea],
                prompt=_("Every support area"),
                id="area",
                compact=True,
            )
            yield Select[str]([], prompt=_("Every initiative"), id="initiative", compact=True)
        yield Label("", id="findings-summary", classes="summary")
        yield FollowUpTable(id="findings", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.sub_title = _("Findings")
        table = self.query_one(FollowUpTable)
        table.add_columns(_("Kind"), _("Area"), _("Initiative"), _("Finding"))
        table.focus()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    def load(self) -> None:
        """Read the findings the filters let through (the filters read here, on the event loop:
        a worker thread must not walk the DOM while the screen may still be mounting it)."""
        self._load(_value(self, "kind"), _value(self, "area"), _value(self, "initiative"))

    @work(thread=True, exclusive=True, group="findings", exit_on_error=False)
    def _load(self, kind: str | None, area: str | None, initiative: str | None) -> None:
        from dxfield.store.followups import list_findings

        initiatives = initiative_labels(self.store)
        items = list_findings(self.store, kind=kind, area=area, initiative=initiative)
        self.app.call_from_thread(self._show, initiatives, items)

    def _show(self, initiatives: list[tuple[str, str]], items: list[FindingRead]) -> None:
        if not self._initiatives:
            with self.prevent(Select.Changed):
                self.query_one("#initiative", Select).set_options(plain_options(initiatives))
        self._initiatives = {value: label for label, value in initiatives}
        self.items = items
        lang = current_language()
        table = self.query_one(FollowUpTable)
        row = table.cursor_row
        table.clear()
        muted = table.get_component_rich_style("follow-up-table--muted")
        for finding in items:
            text = visible(finding.text.replace("\n", " "))
            if finding.not_applicable:
                text = _("Not applicable {text}").format(text=text)
            style = muted if finding.not_applicable else None
            table.add_row(
                Text(finding.kind.label(lang), style=style or ""),
                Text(finding.area.label(lang) if finding.area else "", style=style or ""),
                Text(
                    visible(self._initiatives.get(finding.initiative_id or "", "")),
                    style=style or "",
                ),
                Text(text, style=style or ""),
                key=finding.id,
            )
        ids = [f.id for f in items]
        if self._show_id in ids:
            row = ids.index(self._show_id)
            self._show_id = None
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        self.query_one("#findings-summary", Label).update(
            ngettext(
                "{count} finding  ·  Enter opens  c new  e edit  d delete",
                "{count} findings  ·  Enter opens  c new  e edit  d delete",
                len(items),
            ).format(count=len(items))
        )

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.load()

    def _current_finding(self) -> FindingRead | None:
        table = self.query_one(FollowUpTable)
        if not self.items or not 0 <= table.cursor_row < len(self.items):
            return None
        return self.items[table.cursor_row]

    @on(FollowUpTable.RowSelected, "#findings")
    def _row_selected(self, event: FollowUpTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        """Open the finding under the cursor in full, with its history."""
        from dxfield.tui.screens.finding_view import FindingViewScreen

        finding = self._current_finding()
        if finding is not None:
            self.app.push_screen(FindingViewScreen(finding.id))

    def action_create(self) -> None:
        """Add a finding (of the kind, area and initiative the filters show, if any)."""
        from dxfield.tui.screens.finding_view import FindingFormScreen

        form = FindingFormScreen(
            initiative_id=_value(self, "initiative"),
            kind=_value(self, "kind"),
            area=_value(self, "area"),
        )

        def done(saved: bool | None) -> None:
            if saved and form.saved_id:
                self._show_id = form.saved_id  # the cursor goes to the new finding
                self.load()

        self.app.push_screen(form, done)

    def action_edit(self) -> None:
        """Edit the finding under the cursor."""
        from dxfield.tui.screens.finding_view import FindingFormScreen

        finding = self._current_finding()
        if finding is not None:
            self.app.push_screen(FindingFormScreen(finding))

    def action_delete(self) -> None:
        """Delete the finding under the cursor, after asking; `u` brings it back."""
        from dxfield.tui.screens.finding_view import delete_finding

        finding = self._current_finding()
        if finding is not None:
            delete_finding(self, finding)

    def action_focus_filters(self) -> None:
        """Move to the filters."""
        self.query_one("#kind", Select).focus()

    def action_reload(self) -> None:
        """Read the findings again."""
        self.load()
