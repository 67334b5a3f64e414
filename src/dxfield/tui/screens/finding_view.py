"""One finding in full, with its history, and the form that adds or edits one.

The view (Enter on the Findings) shows the whole text, however long, its kind, support area,
initiative and source activity, and every version: `e` edits, `d` deletes (`u` brings it back
while the notification shows), `v` makes an earlier version current, `o` opens its activity.
Everything is written through the services the CLI's `finding` verbs use (store/followups.py,
store/records.py, store/versions.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Markdown, Select, TextArea

from dxfield.domain.dates import format_date, parse_date
from dxfield.domain.enums import FindingKind, SupportArea
from dxfield.domain.visible import visible
from dxfield.i18n import N_, LocalizedError, _, about, current_language
from dxfield.tui.screens.base import DxScreen, FormModal
from dxfield.tui.text import plain_options

if TYPE_CHECKING:
    from dxfield.domain.records import AttachmentRead, FindingRead
    from dxfield.store.activities import ActivityRow
    from dxfield.store.engine import Store
    from dxfield.sync.authors import Authorship

ACTIVITY_CHOICES = 200
"""How many activities the form offers to link (an initiative's, or the newest)."""

_MARKDOWN_MARKS = re.compile(r"([\\`*_\[\]<>#|~&])")


def _escape(text: str) -> str:
    """One line of plain text inside Markdown: controls shown, nothing read as Markdown."""
    return _MARKDOWN_MARKS.sub(r"\\\1", visible(text))


def activity_label(row: ActivityRow) -> str:
    """An activity as a person finds it in a list: its date and title."""
    return f"{format_date(row.date, row.date_precision, current_language())}  {row.title}"


# -- deleting, with undo ------------------------------------------------------------------------


def delete_finding(screen: DxScreen, finding: FindingRead, after: Any = None) -> None:
    """Ask, then delete `finding` (a new version: its history stays) and offer `u` to bring it
    back; `after` runs on the event loop once it is deleted."""
    from dxfield.tui.undo import delete_with_undo, said

    label = said(finding.text)
    delete_with_undo(
        screen,
        "finding",
        finding.id,
        question=_("Delete the finding “{label}”? Its history stays.").format(label=label),
        done=_("Deleted the finding “{label}”").format(label=label),
        restored=_("Restored “{title}”").format(title=label),
        after=after,
    )


# -- the form -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingInput:
    """A checked finding, ready to write."""

    kind: str
    text: str
    area: str | None
    initiative: str | None
    activity: str | None
    date: str | None


@dataclass(frozen=True)
class FindingChoices:
    """What the form's lists offer, read in one worker call."""

    initiatives: list[tuple[str, str]]
    activities: list[ActivityRow]


class FindingFormScreen(FormModal):
    """A new finding, or changes to one: kind, text, support area, initiative, activity, date."""

    DEFAULT_CSS = """
    FindingFormScreen #finding-text { height: 6; }
    FindingFormScreen #finding-heading { text-style: bold; }
    """

    def __init__(
        self,
        finding: FindingRead | None = None,
        *,
        activity_id: str | None = None,
        initiative_id: str | None = None,
        kind: str | None = None,
        area: str | None = None,
    ) -> None:
        super().__init__()
        self.finding = finding
        self.activity_id = finding.activity_id if finding else activity_id
        self.initiative_id = finding.initiative_id if finding else initiative_id
        self.kind = finding.kind.value if finding else kind or FindingKind.insight.value
        self.area = (finding.area.value if finding.area else None) if finding else area
        self.saved_id: str | None = None
        self._activities: dict[str, ActivityRow] = {}

    def compose(self) -> ComposeResult:
        lang = current_language()
        finding = self.finding
        with VerticalScroll():
            yield Label(
                _("Edit the finding") if finding else _("New finding"), id="finding-heading"
            )
            yield Label(_("Kind"), classes="field-label")
            yield Select[str](
                [(k.label(lang), k.value) for k in FindingKind],
                value=self.kind,
                allow_blank=False,
                id="finding-kind",
            )
            yield Label(_("Finding"), classes="field-label")
            yield TextArea(finding.text if finding else "", id="finding-text", soft_wrap=True)
            yield Label(_("Support area"), classes="field-label")
            yield Select[str](
                [(a.label(lang), a.value) for a in SupportArea],
                prompt=_("(none)"),
                value=self.area or Select.NULL,
                id="finding-area",
            )
            yield Label(_("Initiative"), classes="field-label")
            yield Select[str]([], prompt=_("(none)"), id="finding-initiative")
            yield Label(_("Activity"), classes="field-label")
            yield Select[str]([], prompt=_("(none)"), id="finding-activity")
            yield Label(_("Date (optional; 7/17 works)"), classes="field-label")
            # A new finding is dated today (as an action is), so that it sorts among the newest.
            yield Input(
                (finding.date.isoformat() if finding.date else "")
                if finding
                else self.dx.today.isoformat(),
                id="finding-date",
                select_on_focus=False,
            )
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        text = self.query_one("#finding-text", TextArea)
        text.move_cursor(text.document.end)  # typing goes on from the end of what is there
        text.focus()
        self._load_choices(self.initiative_id, self.activity_id)

    @work(thread=True, exclusive=True, group="finding-choices", exit_on_error=False)
    def _load_choices(self, initiative: str | None, activity: str | None) -> None:
        from dxfield.store.activities import ActivityFilter, list_activities, rows_by_ids
        from dxfield.tui.screens.followups import initiative_labels

        with self.store.unit(write=False) as store:
            initiatives = initiative_labels(store)
            rows = list_activities(
                store, ActivityFilter(initiative_id=initiative), limit=ACTIVITY_CHOICES
            )
            if activity and activity not in {r.id for r in rows}:
                rows = rows_by_ids(store, [activity]) + rows
        self.app.call_from_thread(self._fill, FindingChoices(initiatives, rows), initiative)

    def _fill(self, choices: FindingChoices, initiative: str | None) -> None:
        self._activities = {r.id: r for r in choices.activities}
        with self.prevent(Select.Changed):
            initiatives = self.query_one("#finding-initiative", Select)
            initiatives.set_options(plain_options(choices.initiatives))
            if initiative in {value for _label, value in choices.initiatives}:
                initiatives.value = initiative
            activities = self.query_one("#finding-activity", Select)
            activities.set_options(
                plain_options([(activity_label(r), r.id) for r in choices.activities])
            )
            if self.activity_id in self._activities:
                activities.value = self.activity_id

    @on(Select.Changed, "#finding-initiative")
    def _initiative_changed(self, event: Select.Changed) -> None:
        """The activities offered follow the initiative (the one chosen stays offered)."""
        value = event.value if isinstance(event.value, str) else None
        self._load_choices(value, self.activity_id)

    @on(Select.Changed, "#finding-activity")
    def _activity_changed(self, event: Select.Changed) -> None:
        """An activity brings its initiative when none is chosen."""
        self.activity_id = event.value if isinstance(event.value, str) else None
        row = self._activities.get(self.activity_id or "")
        initiatives = self.query_one("#finding-initiative", Select)
        if row is not None and row.initiative_id and not isinstance(initiatives.value, str):
            with self.prevent(Select.Changed):
                initiatives.value = row.initiative_id

    def check(self) -> FindingInput | None:
        """The date must read (the rest is the store's to check)."""
        due_text = self.query_one("#finding-date", Input).value.strip()
        try:
            with about("date"):
                date = parse_date(due_text, today=self.dx.today).isoformat() if due_text else None
        except LocalizedError as exc:
            self.show_error(exc.message())
            return None

        def chosen(widget_id: str) -> str | None:
            value = self.query_one(f"#{widget_id}", Select).value
            return value if isinstance(value, str) else None

        return FindingInput(
            kind=chosen("finding-kind") or FindingKind.insight.value,
            text=self.query_one("#finding-text", TextArea).text,
            area=chosen("finding-area"),
            initiative=chosen("finding-initiative"),
            activity=chosen("finding-activity"),
            date=date,
        )

    def write(self, payload: object) -> None:
        """Add the finding, or change the one edited (an empty value clears a field)."""
        from dxfield.store.followups import add_finding, edit_finding

        assert isinstance(payload, FindingInput)
        if self.finding is None:
            saved = add_finding(
                self.store,
                kind=payload.kind,
                text=payload.text,
                initiative=payload.initiative,
                activity=payload.activity,
                area=payload.area,
                date=payload.date,
            )
        else:
            saved, _changed = edit_finding(
                self.store,
                self.finding.id,
                kind=payload.kind,
                text=payload.text,
                initiative=payload.initiative or "",
                activity=payload.activity or "",
                area=payload.area or "",
                date=payload.date or "",
            )
        self.saved_id = saved.id


# -- the view -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingPage:
    """What the view shows, read in one worker call."""

    finding: FindingRead
    initiative: str
    activity: ActivityRow | None
    history: list[dict[str, Any]]
    devices: dict[str, str] = field(default_factory=dict)
    authorship: dict[str, Authorship] = field(default_factory=dict)
    attachments: list[AttachmentRead] = field(default_factory=list)
    """The files attached to it, oldest first (`A` attaches more)."""


def finding_markdown(page: FindingPage) -> str:
    """The finding whole, its links and its history, as Markdown."""
    from dxfield.tui.screens.activity_view import history_lines

    lang = current_language()
    f = page.finding
    rows = [
        (_("Support area"), f.area.label(lang) if f.area else ""),
        (_("Initiative"), page.initiative),
        (
            _("Activity"),
            activity_label(page.activity)
            if page.activity
            else _("(deleted)")
            if f.activity_id
            else "",
        ),
        (_("Date"), f.date.isoformat() if f.date else ""),
        (_("Record ID"), f.id),
    ]
    fields = "\n".join(f"- **{k}**: {_escape(v.replace(chr(10), ' '))}" for k, v in rows if v)
    if f.deleted:
        fields = "**" + _("Deleted (r brings it back; its history is below)") + "**\n\n" + fields
    # The text whole, its line breaks kept (a hard break at the end of each line).
    text = "  \n".join(_escape(line) for line in f.text.splitlines()) or _("(no text)")
    if f.not_applicable:
        text = _("Not applicable {text}").format(text=text)
    history = history_lines(page.history, page.devices, page.authorship)
    return (
        f"# {_escape(f.kind.label(lang))}\n\n{fields}\n\n## "
        + _("Finding")
        + f"\n\n{text}\n\n## "
        + _("History")
        + "\n\n"
        + "\n".join(history)
        + "\n"
    )


def read_page(store: Store, finding_id: str) -> FindingPage:
    """The finding, the names of what it is linked to, and its history (in a worker)."""
    from dxfield.store.activities import rows_by_ids
    from dxfield.store.attachments import with_attachments
    from dxfield.store.maintenance import record_history
    from dxfield.store.records import FINDINGS
    from dxfield.sync.authors import authorship_here, names_here
    from dxfield.tui.screens.followups import initiative_labels

    finding, attachments = with_attachments(store, FINDINGS, finding_id)
    initiatives = dict((value, label) for label, value in initiative_labels(store))
    rows = rows_by_ids(store, [finding.activity_id]) if finding.activity_id else []
    _entity, history = record_history(store, finding.id)
    devices = {**names_here(store), store.device.id: store.device.name}
    return FindingPage(
        finding,
        initiatives.get(finding.initiative_id or "", finding.initiative_id or ""),
        rows[0] if rows else None,
        history,
        devices,
        authorship_here(store, history),
        attachments,
    )


class FindingViewScreen(DxScreen):
    """One finding in full, and its history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", N_("Edit"), id="edit-finding"),
        Binding("d", "delete", N_("Delete"), id="delete-finding"),
        Binding("v", "revert", N_("Earlier version"), id="revert-finding"),
        Binding("o", "open_activity", N_("Its activity"), id="finding-activity"),
        Binding("r", "restore", N_("Restore"), id="restore-finding"),
        Binding(
            "A",
            "attach",
            N_("Attach"),
            id="finding-attach",
            tooltip=N_("Attach files: a path, or several of a folder's (activity, finding)"),
        ),
        Binding("escape", "back", N_("Back"), id="finding-back"),
    ]

    def __init__(self, finding_id: str) -> None:
        super().__init__()
        self.finding_id = finding_id
        self.page: FindingPage | None = None

    def compose_body(self) -> ComposeResult:
        from dxfield.tui.widgets.attachments import AttachmentsPanel

        with VerticalScroll():
            yield Markdown(_("Loading…"), id="finding")
            # Its files: `o` and `x` on the list (tab to it); `o` elsewhere opens its activity.
            yield AttachmentsPanel(id="attachments")

    def on_mount(self) -> None:
        self.sub_title = _("Finding")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="finding-view", exit_on_error=False)
    def load(self) -> None:
        """Read the finding and its history (in a thread)."""
        page = read_page(self.store, self.finding_id)
        self.app.call_from_thread(self._show, page)

    def _show(self, page: FindingPage) -> None:
        self.page = page
        from dxfield.tui.widgets.attachments import AttachmentsPanel

        self.query_one("#finding", Markdown).update(finding_markdown(page))
        self.query_one(AttachmentsPanel).show(page.attachments)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A deleted finding is only read, and brought back (`r`)."""
        deleted = bool(self.page is not None and self.page.finding.deleted)
        if action == "open_activity":
            return self.page is not None and self.page.activity is not None
        if action == "restore":
            return deleted
        if action in ("edit", "delete", "revert", "attach"):
            return not deleted
        return True

    def action_attach(self) -> None:
        """Attach files to this finding: a path with completion, or several from a folder."""
        from dxfield.tui.screens.attach import AttachScreen
        from dxfield.tui.undo import said

        if self.page is not None and not self.page.finding.deleted:
            finding = self.page.finding

            def done(attached: bool | None) -> None:
                self.load()

            self.app.push_screen(AttachScreen(finding.id, said(finding.text)), done)

    def action_restore(self) -> None:
        """Bring this deleted finding back (`u` deletes it again while the notice shows)."""
        from dxfield.tui.undo import restore_with_undo

        if self.page is not None and self.page.finding.deleted:
            restore_with_undo(self, self.finding_id)

    def action_back(self) -> None:
        """Back to where the finding was opened from."""
        self.app.pop_screen()

    def action_edit(self) -> None:
        """Edit this finding."""
        if self.page is not None:
            self.app.push_screen(FindingFormScreen(self.page.finding))

    def action_delete(self) -> None:
        """Delete this finding after asking; `u` brings it back."""
        if self.page is not None:
            delete_finding(self, self.page.finding, after=self.app.pop_screen)

    def action_open_activity(self) -> None:
        """Open the activity the finding came from."""
        if self.page is not None and self.page.activity is not None:
            self.dx.open_activity(self.page.activity.id)

    def action_revert(self) -> None:
        """Make an earlier version current again: choose it, then confirm."""
        from dxfield.tui.screens.version_picker import ask_for_version

        if self.page is not None:
            page = self.page
            ask_for_version(self.app, page.history, page.finding.rev, page.devices, self._revert)

    @work(thread=True, group="finding-revert", exit_on_error=False)
    def _revert(self, rev_id: str) -> None:
        from dxfield.store.versions import revert

        revert(self.store, self.finding_id, rev_id)
        self.app.call_from_thread(self._reverted)

    def _reverted(self) -> None:
        self.notify(_("Made the earlier version current"))
        self.dx.refresh_status()
        self.load()
