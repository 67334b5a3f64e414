"""One action in full, with its history: `x` marks it done, `e` edits, `d` deletes (`u` undoes
either while the notification shows), `v` makes an earlier version current, `r` brings a
deleted one back. Written through store/followups.py and store/records.py, as the CLI's
`action` verbs write."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from dxfield.domain.enums import ActionStatus
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, current_language, pgettext
from dxfield.tui.screens.base import DxScreen

if TYPE_CHECKING:
    from dxfield.domain.records import ActionRead
    from dxfield.store.engine import Store
    from dxfield.sync.authors import Authorship

_MARKDOWN_MARKS = re.compile(r"([\\`*_\[\]<>#|~&])")


def _escape(text: str) -> str:
    """One line of plain text inside Markdown: controls shown, nothing read as Markdown."""
    return _MARKDOWN_MARKS.sub(r"\\\1", visible(text))


def delete_action(screen: DxScreen, action: ActionRead, after: Any = None) -> None:
    """Ask, then delete `action` (its history stays) and offer `u` to bring it back."""
    from dxfield.tui.undo import delete_with_undo, said

    label = said(action.text)
    delete_with_undo(
        screen,
        "action",
        action.id,
        question=_("Delete “{title}”? Its history stays.").format(title=label),
        done=_("Deleted “{title}”").format(title=label),
        restored=_("Restored “{title}”").format(title=label),
        after=after,
    )


@dataclass(frozen=True)
class ActionPage:
    """What the view shows, read in one worker call."""

    action: ActionRead
    initiatives: list[tuple[str, str]]
    """(label, id) of every initiative: the one named here, and the form's list."""
    history: list[dict[str, Any]]
    devices: dict[str, str] = field(default_factory=dict)
    authorship: dict[str, Authorship] = field(default_factory=dict)


def action_markdown(page: ActionPage) -> str:
    """The action whole, and its history, as Markdown."""
    from dxfield.tui.screens.activity_view import history_lines

    lang = current_language()
    a = page.action
    initiative = dict((value, label) for label, value in page.initiatives).get(
        a.initiative_id or "", a.initiative_id or ""
    )
    rows = [
        (_("Status"), a.status.label(lang)),
        (_("Due"), a.due.isoformat() if a.due else ""),
        (_("Owner"), a.owner),
        (_("Initiative"), initiative),
        (_("As of"), a.as_of.isoformat() if a.as_of else ""),
        (_("Record ID"), a.id),
    ]
    fields = "\n".join(f"- **{k}**: {_escape(v.replace(chr(10), ' '))}" for k, v in rows if v)
    if a.deleted:
        fields = "**" + _("Deleted (r brings it back; its history is below)") + "**\n\n" + fields
    text = "  \n".join(_escape(line) for line in a.text.splitlines()) or _("(no text)")
    history = history_lines(page.history, page.devices, page.authorship)
    return (
        "# "
        + pgettext("one action", "Action")
        + f"\n\n{text}\n\n{fields}\n\n## "
        + _("History")
        + "\n\n"
        + "\n".join(history)
        + "\n"
    )


def read_action_page(store: Store, action_id: str) -> ActionPage:
    """The action (deleted or not), the initiatives and its history (in a worker)."""
    from dxfield.domain.records import ActionRead
    from dxfield.store import records
    from dxfield.store.maintenance import record_history
    from dxfield.sync.authors import authorship_here, names_here
    from dxfield.tui.screens.followups import initiative_labels

    action = records.get(store, "action", action_id, include_deleted=True)
    assert isinstance(action, ActionRead)
    _entity, history = record_history(store, action.id)
    devices = {**names_here(store), store.device.id: store.device.name}
    return ActionPage(
        action, initiative_labels(store), history, devices, authorship_here(store, history)
    )


class ActionViewScreen(DxScreen):
    """One action in full, and its history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "done", N_("Done"), id="action-view-done"),
        Binding("e", "edit", N_("Edit"), id="edit-action"),
        Binding("d", "delete", N_("Delete"), id="delete-action"),
        Binding("v", "revert", N_("Earlier version"), id="revert-action"),
        Binding("r", "restore", N_("Restore"), id="restore-action"),
        Binding("escape", "back", N_("Back"), id="action-back"),
    ]

    def __init__(self, action_id: str) -> None:
        super().__init__()
        self.action_id = action_id
        self.page: ActionPage | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(_("Loading…"), id="action")

    def on_mount(self) -> None:
        self.sub_title = pgettext("one action", "Action")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="action-view", exit_on_error=False)
    def load(self) -> None:
        """Read the action and its history (in a thread)."""
        page = read_action_page(self.store, self.action_id)
        self.app.call_from_thread(self._show, page)

    def _show(self, page: ActionPage) -> None:
        self.page = page
        self.query_one("#action", Markdown).update(action_markdown(page))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A deleted action is only read, and brought back (`r`); `x` only for an open one."""
        page = self.page
        deleted = bool(page is not None and page.action.deleted)
        if action == "restore":
            return deleted
        if action == "done":
            return (
                page is not None
                and not deleted
                and page.action.status in (ActionStatus.planned, ActionStatus.in_progress)
            )
        if action in ("edit", "delete", "revert"):
            return not deleted
        return True

    def action_back(self) -> None:
        """Back to where the action was opened from."""
        self.app.pop_screen()

    def action_done(self) -> None:
        """Mark this action done (`u` puts its status back)."""
        from dxfield.tui.screens.followups import complete_with_undo

        if self.page is not None:
            complete_with_undo(self, self.action_id)

    def action_edit(self) -> None:
        """Edit this action."""
        from dxfield.tui.screens.followups import ActionFormScreen

        if self.page is not None:
            initiatives = [(value, label) for label, value in self.page.initiatives]
            self.app.push_screen(ActionFormScreen(initiatives, None, self.page.action))

    def action_delete(self) -> None:
        """Delete this action after asking; `u` brings it back."""
        if self.page is not None:
            delete_action(self, self.page.action, after=self.app.pop_screen)

    def action_restore(self) -> None:
        """Bring this deleted action back (`u` deletes it again while the notice shows)."""
        from dxfield.tui.undo import restore_with_undo

        if self.page is not None and self.page.action.deleted:
            restore_with_undo(self, self.action_id)

    def action_revert(self) -> None:
        """Make an earlier version current again: choose it, then confirm."""
        from dxfield.tui.screens.version_picker import ask_for_version

        if self.page is not None:
            page = self.page
            ask_for_version(self.app, page.history, page.action.rev, page.devices, self._revert)

    @work(thread=True, group="action-revert", exit_on_error=False)
    def _revert(self, rev_id: str) -> None:
        from dxfield.store.versions import revert

        revert(self.store, self.action_id, rev_id)
        self.app.call_from_thread(self._reverted)

    def _reverted(self) -> None:
        self.notify(_("Made the earlier version current"))
        self.dx.refresh_status()
        self.load()
