"""One activity and its history: every revision, who, when, what changed. `e` edits, `d` deletes,
`v` makes an earlier version current again."""

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


_MARKDOWN_MARKS = re.compile(r"([\\`*_\[\]<>#|~&])")


def _escape(text: str) -> str:
    """Plain text inside the page's Markdown (the heading, a field, a history line): on one
    line, its controls shown (`<ESC>`, the `<` escaped with the rest), nothing read as Markdown."""
    return _MARKDOWN_MARKS.sub(r"\\\1", visible(text.replace("\n", " ")))


def page_markdown(page: ActivityPage, device_id: str, device_name: str) -> str:
    """The activity and its history as Markdown (notes are Markdown already)."""
    from dxfield.sync.authors import VERDICTS

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
    history = []
    for revision in reversed(page.history):
        at = stamped_at(revision["hlc"])
        when = _("reference data") if at is None else f"{at:%Y-%m-%d %H:%M}"
        # Who: a device by its name (a version is a time and who, never an id or a hash), and
        # whether this store can prove it wrote it.
        known = {**page.devices, device_id: device_name}
        who = _escape(known.get(revision["device_id"]) or _("another device"))
        proof = page.authorship.get(revision["rev_id"])
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
                    FIELD_LABELS.get(c, (c, c))[0 if lang == "ja" else 1]
                    for c in revision["changed"]
                    if c != "created_at"
                )
            )
        history.append(f"- {when} · {who} · {what}")
    # Notes are Markdown: kept as such, their controls shown in a form Markdown shows.
    notes = visible(a.notes, multiline=True, markdown=True) or _("_(no notes)_")
    return (
        f"# {_escape(a.title)}\n\n{fields}\n\n"
        + "## "
        + _("Notes")
        + f"\n\n{notes}\n\n"
        + "## "
        + _("History")
        + "\n\n"
        + "\n".join(history)
        + "\n"
    )


class ActivityViewScreen(DxScreen):
    """The record and its history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", N_("Edit"), id="edit-activity"),
        Binding("d", "delete", N_("Delete"), id="delete-activity"),
        Binding("v", "revert", N_("Earlier version"), id="revert-activity"),
        Binding("c", "duplicate", N_("Duplicate"), id="duplicate-activity"),
        Binding("escape", "back", N_("Back"), id="back"),
    ]

    def __init__(self, activity_id: str) -> None:
        super().__init__()
        self.activity_id = activity_id
        self.page: ActivityPage | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(_("Loading…"), id="activity")

    def on_mount(self) -> None:
        self.sub_title = _("Activity")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="activity-view", exit_on_error=False)
    def load(self) -> None:
        """Read the activity, its names and its history (in a thread)."""
        from dxfield.store.activities import activity_names, get_activity
        from dxfield.store.maintenance import record_history

        activity = get_activity(self.store, self.activity_id)
        names = activity_names(self.store, activity)
        from dxfield.sync.authors import authorship_here, names_here

        _entity, history = record_history(self.store, activity.id)
        devices = names_here(self.store)
        page = ActivityPage(
            activity,
            names.municipality,
            names.initiative,
            names.participants,
            history,
            devices,
            authorship_here(self.store, history),
        )
        self.app.call_from_thread(self._show, page)

    def _show(self, page: ActivityPage) -> None:
        self.page = page
        self.query_one("#activity", Markdown).update(
            page_markdown(page, self.store.device.id, self.store.device.name)
        )

    def action_duplicate(self) -> None:
        """A new activity in the form, starting from this one (not its date)."""
        self.dx.duplicate_activity(self.activity_id)

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
        from dxfield.tui.screens.confirm import ConfirmScreen
        from dxfield.tui.screens.version_picker import VersionPickerScreen, version_choices

        if self.page is None:
            return
        devices = {**self.page.devices, self.store.device.id: self.store.device.name}
        choices = version_choices(self.page.history, self.page.activity.rev, devices)
        labels = dict((rev, text) for text, rev in choices)

        def chosen(rev_id: str | None) -> None:
            if rev_id is None:
                return

            def answer(yes: bool | None) -> None:
                if yes:
                    self._revert(rev_id)

            self.app.push_screen(
                ConfirmScreen(
                    _(
                        "Make this version current?\n{get}\n(the present one stays in the history)"
                    ).format(get=labels.get(rev_id, rev_id)),
                    default=True,
                ),
                answer,
            )

        self.app.push_screen(VersionPickerScreen(choices), chosen)

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
        self.notify(_("Deleted"))
        self.app.pop_screen()
        self.dx.refresh_status()
