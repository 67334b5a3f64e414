"""One activity and its history: every revision, who, when, what changed. `e` edits, `d` deletes
(`u` brings it back while the notification shows), `v` makes an earlier version current again,
`f` records a finding from it, `M` writes its minutes (議事録)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from dxfield.domain.dates import format_date
from dxfield.domain.visible import visible
from dxfield.i18n import FIELD_LABELS, N_, _, current_language, ngettext
from dxfield.store.hlc import stamped_at
from dxfield.tui.screens.base import DxScreen

if TYPE_CHECKING:
    from dxfield.domain.records import AttachmentRead
    from dxfield.sync.authors import Authorship


@dataclass(frozen=True)
class ActivityPage:
    """What the view shows, read in one worker call."""

    activity: Any
    municipality: str
    initiative: str
    participants: list[str]
    history: list[dict[str, Any]]
    devices: dict[str, str] = field(default_factory=dict)
    """The names of the devices this store knows (its own, those it trusts, those of the hub's
    roster), by id."""
    authorship: dict[str, Authorship] = field(default_factory=dict)
    """Each version's author and whether this store can prove it wrote it, by version id."""
    findings: list[Any] = field(default_factory=list)
    """The live findings recorded from this activity (`f` adds one)."""
    attachments: list[AttachmentRead] = field(default_factory=list)
    """The files attached to it, oldest first (`A` attaches more)."""


_MARKDOWN_MARKS = re.compile(r"([\\`*_\[\]<>#|~&])")


def _escape(text: str) -> str:
    """Plain text inside the page's Markdown (the heading, a field, a history line): on one
    line, its controls shown (`<ESC>`, the `<` escaped with the rest), nothing read as Markdown."""
    return _MARKDOWN_MARKS.sub(r"\\\1", visible(text.replace("\n", " ")))


def _changed_field(name: str, data: dict[str, Any], lang: str) -> str:
    """A changed field's name; an action's status with what it became (x, then u, reads as
    "status (done)", then "status (planned)")."""
    from dxfield.domain.enums import ActionStatus

    label = FIELD_LABELS.get(name, (name, name))[0 if lang == "ja" else 1]
    value = data.get(name)
    if name == "status" and value in {s.value for s in ActionStatus}:
        return f"{label} ({ActionStatus(value).label(lang)})"
    return label


def history_lines(
    history: list[dict[str, Any]], devices: dict[str, str], authorship: dict[str, Authorship]
) -> list[str]:
    """A record's history as Markdown list items, newest first: when, who, what changed."""
    from dxfield.sync.authors import VERDICTS

    lang = current_language()
    lines = []
    for revision in reversed(history):
        at = stamped_at(revision["hlc"])
        when = _("reference data") if at is None else f"{at:%Y-%m-%d %H:%M}"
        # Who: a device by its name (a version is a time and who, never an id or a hash), and
        # whether this store can prove it wrote it.
        who = _escape(devices.get(revision["device_id"]) or _("another device"))
        proof = authorship.get(revision["rev_id"])
        if proof is not None and proof.verdict in VERDICTS:
            who += " · " + _(VERDICTS[proof.verdict])
        if revision["deleted"]:
            what = _("deleted")
        elif revision.get("restored"):
            what = _("restored")
        elif revision["generation"] == 1:
            what = _("created")
        else:
            what = _("changed: ") + _escape(
                ", ".join(
                    _changed_field(c, revision["data"], lang)
                    for c in revision["changed"]
                    if c != "created_at"
                )
            )
        lines.append(f"- {when} · {who} · {what}")
    return lines


def page_markdown(page: ActivityPage, device_id: str, device_name: str) -> str:
    """The activity, its findings and its history as Markdown (notes are Markdown already)."""
    return record_markdown(page) + history_markdown(page, device_id, device_name)


def history_markdown(page: ActivityPage, device_id: str, device_name: str) -> str:
    """The activity's history as Markdown, under its heading."""
    known = {**page.devices, device_id: device_name}
    history = history_lines(page.history, known, page.authorship)
    return "## " + _("History") + "\n\n" + "\n".join(history) + "\n"


def record_markdown(page: ActivityPage) -> str:
    """The activity and its findings as Markdown (its attachments and history follow)."""
    lang = current_language()
    a = page.activity
    people = [*page.participants]
    if a.participants.text:
        people.append(a.participants.text)
    if a.participants.head_count is not None:
        people.append(
            ngettext(
                "{head_count} person", "{head_count} people", a.participants.head_count
            ).format(head_count=a.participants.head_count)
        )
    rows = [
        (_("Date"), format_date(a.date, a.date_precision, lang)),
        (_("Kind"), a.kind.label(lang)),
        (_("Municipality"), page.municipality),
        (_("Initiative"), page.initiative),
        (_("Location"), a.location),
        (_("Participants"), "、".join(people)),
        (_("Support areas"), "、".join(x.label(lang) for x in a.areas)),
        (_("Tags"), ", ".join(a.tags)),
        (_("Record ID"), a.id),
    ]
    # A list, not a table: on 80 columns a table squeezed the names of the fields to "日…".
    fields = "\n".join(f"- **{k}**: {_escape(str(v))}" for k, v in rows if v)
    if a.deleted:
        fields = "**" + _("Deleted (r brings it back; its history is below)") + "**\n\n" + fields
    # Notes are Markdown: kept as such, their controls shown in a form Markdown shows.
    notes = visible(a.notes, multiline=True, markdown=True) or _("_(no notes)_")
    # The findings recorded from it, each on one line (Findings, Enter, reads one whole).
    found = ""
    if page.findings:
        found = (
            "## "
            + _("Findings")
            + "\n\n"
            + "\n".join(
                f"- **{_escape(f.kind.label(lang))}**: {_escape(f.text)}" for f in page.findings
            )
            + "\n\n"
        )
    return f"# {_escape(a.title)}\n\n{fields}\n\n" + "## " + _("Notes") + f"\n\n{notes}\n\n" + found


class ActivityViewScreen(DxScreen):
    """The record and its history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", N_("Edit"), id="edit-activity"),
        Binding("d", "delete", N_("Delete"), id="delete-activity"),
        Binding("v", "revert", N_("Earlier version"), id="revert-activity"),
        Binding("f", "add_finding", N_("Add finding"), id="activity-add-finding"),
        Binding("r", "restore", N_("Restore"), id="restore-activity"),
        Binding("c", "duplicate", N_("Duplicate"), id="duplicate-activity"),
        Binding("M", "minutes", N_("Minutes"), id="activity-minutes", show=False),
        Binding(
            "A",
            "attach",
            N_("Attach"),
            id="activity-attach",
            tooltip=N_("Attach files: a path, or several of a folder's (activity, finding)"),
        ),
        Binding(
            "o",
            "open_attachment",
            N_("Open file"),
            id="activity-open-attachment",
            tooltip=N_("Open the highlighted attachment with the system's viewer"),
        ),
        Binding(
            "x",
            "detach",
            N_("Detach"),
            id="activity-detach",
            show=False,
            tooltip=N_("Detach the highlighted attachment (asks first; u attaches it again)"),
        ),
        Binding("escape", "back", N_("Back"), id="back"),
    ]

    def __init__(self, activity_id: str) -> None:
        super().__init__()
        self.activity_id = activity_id
        self.page: ActivityPage | None = None

    def compose_body(self) -> ComposeResult:
        from dxfield.tui.widgets.attachments import AttachmentsPanel

        with VerticalScroll():
            yield Markdown(_("Loading…"), id="activity")
            yield AttachmentsPanel(id="attachments")
            yield Markdown("", id="history")

    def on_mount(self) -> None:
        self.sub_title = _("Activity")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="activity-view", exit_on_error=False)
    def load(self) -> None:
        """Read the activity, its names and its history (in a thread)."""
        from dxfield.store.activities import activity_names
        from dxfield.store.attachments import with_attachments
        from dxfield.store.maintenance import record_history
        from dxfield.store.records import ACTIVITIES

        # A deleted activity too (opened from the deleted records): its history, and `r`.
        activity, attachments = with_attachments(self.store, ACTIVITIES, self.activity_id)
        names = activity_names(self.store, activity)
        from dxfield.store.followups import list_findings
        from dxfield.sync.authors import authorship_here, names_here

        _entity, history = record_history(self.store, activity.id)
        devices = names_here(self.store)
        findings = [f for f in list_findings(self.store) if f.activity_id == activity.id]
        page = ActivityPage(
            activity,
            names.municipality,
            names.initiative,
            names.participants,
            history,
            devices,
            authorship_here(self.store, history),
            findings,
            attachments,
        )
        self.app.call_from_thread(self._show, page)

    def _show(self, page: ActivityPage) -> None:
        from dxfield.tui.widgets.attachments import AttachmentsPanel

        self.page = page
        self.query_one("#activity", Markdown).update(record_markdown(page))
        self.query_one(AttachmentsPanel).show(page.attachments)
        self.query_one("#history", Markdown).update(
            history_markdown(page, self.store.device.id, self.store.device.name)
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A deleted activity is only read, and brought back (`r`); a live one is not restored."""
        deleted = bool(self.page is not None and self.page.activity.deleted)
        if action == "restore":
            return deleted
        if action in ("edit", "delete", "revert", "add_finding", "attach"):
            return not deleted
        if action in ("open_attachment", "detach"):
            return self.page is not None and bool(self.page.attachments)
        return True

    def action_attach(self) -> None:
        """Attach files to this activity: a path with completion, or several from a folder."""
        from dxfield.tui.screens.attach import AttachScreen

        if self.page is not None and not self.page.activity.deleted:

            def done(attached: bool | None) -> None:
                self.load()

            self.app.push_screen(
                AttachScreen(self.page.activity.id, self.page.activity.title), done
            )

    def action_open_attachment(self) -> None:
        """Open the highlighted attachment with the system's viewer."""
        from dxfield.tui.widgets.attachments import AttachmentsPanel

        self.query_one(AttachmentsPanel).open_highlighted()

    def action_detach(self) -> None:
        """Detach the highlighted attachment (asked first; `u` attaches it again)."""
        from dxfield.tui.widgets.attachments import AttachmentsPanel

        self.query_one(AttachmentsPanel).detach_highlighted()

    def action_restore(self) -> None:
        """Bring this deleted activity back (`u` deletes it again while the notice shows)."""
        from dxfield.tui.undo import restore_with_undo

        if self.page is not None and self.page.activity.deleted:
            restore_with_undo(self, self.activity_id)

    def action_duplicate(self) -> None:
        """A new activity in the form, starting from this one (not its date)."""
        self.dx.duplicate_activity(self.activity_id)

    def action_minutes(self) -> None:
        """Write this activity's minutes (議事録) as a Word file into the documents folder."""
        from dxfield.tui.minutes import write_minutes_of

        if self.page is not None and not self.page.activity.deleted:
            write_minutes_of(self, self.page.activity.id)

    def action_back(self) -> None:
        """Back to where the activity was opened from."""
        self.app.pop_screen()

    def action_edit(self) -> None:
        """Edit this activity."""
        if self.page is not None:
            self.dx.open_form(activity_id=self.page.activity.id)

    def action_delete(self) -> None:
        """Delete this activity after confirmation (a tombstone: history stays)."""
        from dxfield.tui.screens.confirm import ConfirmScreen

        if self.page is None:
            return
        title = self.page.activity.title

        def answer(yes: bool | None) -> None:
            if yes:
                self._delete()

        self.app.push_screen(
            ConfirmScreen(_("Delete “{title}”? Its history stays.").format(title=title)),
            answer,
        )

    def action_revert(self) -> None:
        """Make an earlier version current again: choose it, then confirm."""
        from dxfield.tui.screens.version_picker import ask_for_version

        if self.page is None:
            return
        devices = {**self.page.devices, self.store.device.id: self.store.device.name}
        ask_for_version(self.app, self.page.history, self.page.activity.rev, devices, self._revert)

    def action_add_finding(self) -> None:
        """Record a finding from this activity (its initiative too)."""
        from dxfield.tui.screens.finding_view import FindingFormScreen

        if self.page is not None:
            activity = self.page.activity
            self.app.push_screen(
                FindingFormScreen(activity_id=activity.id, initiative_id=activity.initiative_id)
            )

    @work(thread=True, group="activity-revert", exit_on_error=False)
    def _revert(self, rev_id: str) -> None:
        from dxfield.store.versions import revert

        revert(self.store, self.activity_id, rev_id)
        self.app.call_from_thread(self._reverted)

    def _reverted(self) -> None:
        self.notify(_("Made the earlier version current"))
        self.dx.refresh_status()
        self.load()

    @work(thread=True, group="activity-delete", exit_on_error=False)
    def _delete(self) -> None:
        from dxfield.store.activities import delete_activity

        delete_activity(self.store, self.activity_id)
        self.app.call_from_thread(self._deleted)

    def _deleted(self) -> None:
        from dxfield.tui.undo import Undo, restore_deleted, said

        title = said(self.page.activity.title) if self.page is not None else ""
        self.app.pop_screen()
        self.dx.undoer.offer(
            _("Deleted “{title}”").format(title=title),
            Undo(
                restore_deleted(self.activity_id),
                _("Restored “{title}”").format(title=title),
                after=self.dx.reload_screen,
            ),
        )
        self.dx.refresh_status()
