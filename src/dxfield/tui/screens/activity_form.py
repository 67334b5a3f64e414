"""The activity form (`n` from anywhere): log a visit in seconds, never lose a note.

Focus starts in the title; the fields a visit needs follow in the order they are logged (市町村,
取組, date, 種別, 参加団体, notes), each pick list filtering as you type by name, reading or romaji
(`widgets/pick_list.py`): the 多可町 hearing takes about ten keys besides its text. The date
defaults to today and takes every form the CLI takes (和暦, short forms such as 7/17, a month,
上旬/中旬/下旬, a 年度: `read_date`), keeping its precision. 取組 follows 市町村 (only the chosen
municipality's initiatives are offered) and 市町村 follows a chosen 取組; municipality,
initiative and kind default to the last used, and choosing a municipality brings back the kind,
initiative and participating organizations last used there. Every change is saved as a local
draft (debounced), so a crash or a closed terminal loses nothing; ctrl+s saves, escape asks
before it discards. Files chosen with ctrl+t for a new activity (attached once it is saved) are
kept in the draft too, by path and caption, as soon as they are chosen: a restored draft brings
them back, and a file that has since gone is said in one line and left out. Validation errors show beside their field, wrapped whole, and nothing typed
is lost.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Label, Select, TextArea
from textual.worker import Worker

from dxfield.domain.dates import FORM_EXAMPLES, date_text
from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.domain.readings import Pickable, pickable, reading_of, romaji_of
from dxfield.domain.visible import visible
from dxfield.i18n import N_, LocalizedError, _, current_language
from dxfield.tui.screens.base import DxScreen, given_up_to_quit, still_saving, waiting_to_save
from dxfield.tui.text import display_path, error_text, plain, plain_options
from dxfield.tui.widgets.pick_list import PickList

if TYPE_CHECKING:
    from dxfield.store.activities import ActivityInput
    from dxfield.store.engine import Store
    from dxfield.store.local_state import Draft
    from dxfield.tui.app import DxfieldApp
    from dxfield.tui.screens.attach import AttachInput

DRAFT_DELAY = 0.4

# Which widget shows the error of which record field.
ERROR_SLOTS = {
    "title": "title",
    "date": "date",
    "municipality": "municipality",
    "municipality_id": "municipality",
    "initiative": "initiative",
    "initiative_id": "initiative",
    "kind": "kind",
    "area": "areas",
    "areas": "areas",
    "location": "location",
    "notes": "notes",
    "tags": "tags",
    "head_count": "head-count",
    "participants": "participants",
    "stage": "advances",
    "track": "advances",
    "evidence": "advances",
}


@dataclass(frozen=True)
class FormOptions:
    """Choices and starting values, read in one worker call."""

    municipalities: list[Pickable]
    initiatives: list[Pickable]
    towns: dict[str, str]
    """Each initiative's municipality."""
    kinds: list[Pickable]
    organizations: list[Pickable]
    advances: list[tuple[str, str]]
    """(label, "TRACK_ID STAGE_KEY") for each track that has a next stage."""
    values: dict[str, Any]
    by_municipality: dict[str, dict[str, Any]]
    """What was last used with each municipality (kind, initiative, participants)."""
    names: dict[str, tuple[str, str]]
    """Each organization's name and reading (given or guessed), by id."""
    templates: dict[str, str]
    """Each kind's note template (store/note_templates.py), for a new activity's note."""
    queued: tuple[AttachInput, ...] = ()
    """A restored draft's files still there, to attach once the activity is saved."""
    vanished: tuple[str, ...] = ()
    """A restored draft's files no longer there (as the draft named them)."""
    foreign: bool = False
    """Whether the restored draft's files were chosen on another device (not attached)."""


def record_to_values(activity: Any) -> dict[str, Any]:
    """An activity's fields as the form's raw values."""
    return {
        "activity_id": activity.id,
        "title": activity.title,
        "date": date_text(activity.date, activity.date_precision),
        "municipality_id": activity.municipality_id,
        "initiative_id": activity.initiative_id,
        "kind": activity.kind.value,
        "areas": [a.value for a in activity.areas],
        "location": activity.location,
        "participants": list(activity.participants.organization_ids),
        "head_count": ""
        if activity.participants.head_count is None
        else str(activity.participants.head_count),
        "participants_text": activity.participants.text,
        "tags": " ".join(activity.tags),
        "notes": activity.notes,
    }


class ActivityFormScreen(DxScreen):
    """Create or edit an activity."""

    holds_unsaved_input: ClassVar[bool] = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="save"),
        Binding(
            "ctrl+t",
            "attach",
            N_("Attach"),
            id="form-attach",
            tooltip=N_("Attach files (to a new activity once it is saved)"),
        ),
        Binding("escape", "cancel", N_("Close"), id="cancel"),
    ]

    def __init__(self, *, activity_id: str | None = None, draft: Draft | None = None) -> None:
        super().__init__()
        self.draft = draft
        self.activity_id = activity_id or (
            str(draft.data.get("activity_id")) if draft and draft.data.get("activity_id") else None
        )
        # Each form writes (and discards) only its own draft: two forms never share one.
        self.draft_name = (
            draft.name
            if draft is not None
            else f"activity-{self.activity_id}"
            if self.activity_id
            else f"activity-new-{uuid.uuid4().hex[:12]}"
        )
        self._ready = False
        self._initial: dict[str, Any] = {}
        self._draft_timer: Timer | None = None
        self._draft_lock = threading.Lock()
        self._draft_next: tuple[dict[str, Any] | None] | None = None
        """What the draft writer writes next (a draft, or None to discard it); None: nothing."""
        self._draft_writing = False
        self._draft_worker: Worker[None] | None = None
        self._quitting = False
        self._saving = False
        self._save_worker: Worker[None] | None = None
        self._choices: dict[str, set[str]] = {}
        self._known_participants: list[str] = []
        self._created = False
        self._initiatives: list[Pickable] = []
        self._towns: dict[str, str] = {}
        self._by_municipality: dict[str, dict[str, Any]] = {}
        self._names: dict[str, tuple[str, str]] = {}
        self._touched: set[str] = set()
        self._templates: dict[str, str] = {}
        self._template_put: str | None = None  # the template the note holds untouched, if any
        self._refined = False
        self._queued: list[AttachInput] = []
        """Files chosen for a new activity, attached once it is saved (`ctrl+t`)."""
        """Whether the choices are findable by guessed readings and romaji yet (`_refine`)."""
        """The picks a person changed in this form (last-used values leave them be)."""

    # -- layout ----------------------------------------------------------------------------------

    def _field(self, label: str, widget: Any, slot: str) -> Vertical:
        return Vertical(
            Label(label, classes="field-label"),
            widget,
            Label("", id=f"error-{slot}", classes="error"),
            classes="field",
        )

    def compose_body(self) -> ComposeResult:
        # What a visit needs first comes first (title, place, initiative, date, kind, who took
        # part, notes), so that a hearing is logged with few keys; the rest follows.
        find = _("type to find: name, reading or romaji")
        with VerticalScroll():
            yield self._field(_("Title"), Input(id="title", select_on_focus=False), "title")
            with Horizontal(classes="row"):
                yield self._field(
                    _("Municipality"),
                    PickList(id="municipality", placeholder=find, readings=True),
                    "municipality",
                )
                yield self._field(
                    _("Initiative"),
                    PickList(id="initiative", blank=_("(none)"), placeholder=_("(none)")),
                    "initiative",
                )
            with Horizontal(classes="row"):
                yield self._field(
                    _("Date (e.g. {examples})").format(examples=FORM_EXAMPLES),
                    Input(id="date"),
                    "date",
                )
                yield self._field(_("Kind"), PickList(id="kind", placeholder=find), "kind")
            yield self._field(
                _("Participating organizations"),
                PickList(id="participants", multiple=True, placeholder=find, readings=True),
                "participants",
            )
            yield self._field(
                _("Notes (Markdown)"),
                TextArea(id="notes", soft_wrap=True),
                "notes",
            )
            yield self._field(
                _("Support areas"),
                # One per line: the labels are long, and must fit at 80 columns.
                Vertical(
                    *(
                        Checkbox(a.label(current_language()), id=f"area-{a.value}")
                        for a in SupportArea
                    ),
                    id="areas",
                    classes="row",
                ),
                "areas",
            )
            with Horizontal(classes="row"):
                yield self._field(
                    _("Location"), Input(id="location", select_on_focus=False), "location"
                )
                yield self._field(
                    _("Tags (space-separated)"),
                    Input(id="tags", select_on_focus=False),
                    "tags",
                )
            with Horizontal(classes="row"):
                yield self._field(
                    _("Head count"),
                    Input(id="head-count", type="integer", select_on_focus=False),
                    "head-count",
                )
                yield self._field(
                    _("Participants (free text)"),
                    Input(id="participants-text", select_on_focus=False),
                    "participants-text",
                )
            yield self._field(
                _("This activity advances track"),
                Select[str]([], id="advances", prompt=_("(none)")),
                "advances",
            )
            yield Label("", id="queued-files")

    def on_mount(self) -> None:
        self.sub_title = _("Edit activity") if self.activity_id else _("New activity")
        self.query_one("#title", Input).focus()
        self._load()

    # -- loading ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="form-load", exit_on_error=False)
    def _load(self) -> None:
        from dxfield.store.activities import get_activity
        from dxfield.store.activity_entry import form_defaults, last_used_by_municipality
        from dxfield.store.draft_rows import queued_by_other
        from dxfield.store.followups import list_initiatives
        from dxfield.store.organizations import LOCAL_GOVERNMENT, list_organizations

        lang = current_language()
        from dxfield.store.note_templates import note_templates

        queued, vanished = restored_queue(
            self.draft.data if self.draft is not None else {}, self.store.device.id
        )

        with self.store.unit(write=False) as store:  # what the form shows: one snapshot
            templates = note_templates(store) if self.activity_id is None else {}
            local = list_organizations(store, kinds=LOCAL_GOVERNMENT)
            summaries = list_initiatives(store)
            # Every organization, local governments too: an edit must keep every participant.
            everyone = list_organizations(store)
            advances = advance_choices(store, self.dx.today)
            by_municipality = last_used_by_municipality(store)
            if self.draft is not None:
                values = dict(self.draft.data)
            elif self.activity_id is not None:
                values = record_to_values(get_activity(store, self.activity_id))
            else:
                last = form_defaults(store)
                kind = last.get("kind") or ActivityKind.meeting.value
                values = {
                    "date": self.dx.today.isoformat(),
                    "municipality_id": last.get("municipality_id"),
                    "initiative_id": last.get("initiative_id"),
                    "kind": kind,
                    "notes": templates.get(kind, ""),  # the kind's 議事録 headings
                }
        # The choices come at once with their names and given readings; then, once pykakasi
        # (about a second to load, the first time) has guessed the readings nobody gave and
        # spelled them all in romaji, again with those (`_refine`). What is typed meanwhile
        # stays and applies to them.
        for guess in (False, True):
            municipalities = [pickable(o.name, o.id, o.kana, guess=guess) for o in local]
            initiatives = []
            for s in summaries:
                label = f"{s.municipality} {s.initiative.theme}: {s.initiative.title}"
                if guess:
                    reading = reading_of(s.municipality, s.municipality_kana)
                    place: tuple[str, ...] = (reading, *romaji_of(reading))
                else:
                    place = (s.municipality_kana,)
                initiatives.append(pickable(label, s.initiative.id, None, *place, guess=guess))
            kinds = [
                pickable(k.label(lang), k.value, None, k.value, k.label("en"), guess=guess)
                for k in ActivityKind
            ]
            organizations = [pickable(o.name, o.id, o.kana, guess=guess) for o in everyone]
            names = {
                o.id: (o.name, reading_of(o.name, o.kana) if guess else (o.kana or ""))
                for o in everyone
            }
            options = FormOptions(
                municipalities,
                initiatives,
                {s.initiative.id: s.initiative.municipality_id for s in summaries},
                kinds,
                organizations,
                advances,
                values,
                by_municipality,
                names,
                templates,
                queued,
                vanished,
                queued_by_other(self.draft.data, self.store.device.id)
                if self.draft is not None
                else False,
            )
            self.app.call_from_thread(self._refine if guess else self._fill, options)

    def _refine(self, options: FormOptions) -> None:
        """The same choices, now also found by guessed readings and romaji."""
        if not self._ready:  # saved or closed meanwhile
            return
        self._initiatives = options.initiatives
        self._names = options.names
        self._refined = True
        self._pick("municipality").set_choices(options.municipalities)
        self._pick("kind").set_choices(options.kinds)
        self._pick("participants").set_choices(options.organizations)
        self._narrow_initiatives()

    def _fill(self, options: FormOptions) -> None:
        self._initiatives = options.initiatives
        self._towns = options.towns
        self._by_municipality = options.by_municipality
        self._names = options.names
        self._pick("municipality").set_choices(options.municipalities, complete=False)
        self._pick("initiative").set_choices(options.initiatives, complete=False)
        self._pick("kind").set_choices(options.kinds, complete=False)
        self._pick("participants").set_choices(options.organizations, complete=False)
        self.query_one("#advances", Select).set_options(plain_options(options.advances))
        self._choices = {
            "municipality": {c.value for c in options.municipalities},
            "initiative": {c.value for c in options.initiatives},
            "advances": {v for _, v in options.advances},
            "kind": {k.value for k in ActivityKind},
        }
        self._known_participants = list(options.values.get("participants") or [])
        self._templates = options.templates
        # A new activity's note starts as its kind's template, and follows the kind while it is
        # left as it was put there (a restored draft's note is the person's own).
        self._template_put = str(options.values.get("notes") or "") if self.draft is None else None
        self._set_values(options.values)
        if self._template_put:
            under_first_heading(self.query_one("#notes", TextArea))
        if self.draft is None and self.activity_id is None:
            # A new activity at the last municipality starts with what was used there last.
            self._prefill(self._pick("municipality").value)
        self._initial = self.values() if self.draft is None else record_like_empty()
        self._queued = list(options.queued)
        self._show_queued()
        if options.foreign:
            self.notify(
                _(
                    "The files this draft was to attach were chosen on another device: "
                    "attach them again from here"
                ),
                severity="warning",
                timeout=15,
                markup=False,
            )
        for path in () if options.foreign else options.vanished:
            self.notify(
                visible(
                    _("{path} is no longer there: it will not be attached").format(
                        path=display_path(path)
                    )
                ),
                severity="warning",
                timeout=15,
                markup=False,
            )
        self._ready = True

    def _pick(self, widget_id: str) -> PickList:
        return self.query_one(f"#{widget_id}", PickList)

    def _set_values(self, values: dict[str, Any]) -> None:
        def text(widget_id: str, key: str) -> None:
            value = values.get(key)
            if value is not None:
                self.query_one(f"#{widget_id}", Input).value = str(value)

        text("title", "title")
        text("date", "date")
        text("location", "location")
        text("tags", "tags")
        text("head-count", "head_count")
        text("participants-text", "participants_text")
        for widget_id, key in (
            ("municipality", "municipality_id"),
            ("initiative", "initiative_id"),
            ("kind", "kind"),
        ):
            value = values.get(key)
            if value and value in self._choices.get(widget_id, set()):
                self._pick(widget_id).set_value(value)
        # An initiative belongs to one municipality: the two agree from the start.
        initiative = self._pick("initiative").value
        if initiative is not None and self._towns.get(initiative):
            self._pick("municipality").set_value(self._towns[initiative])
        self._narrow_initiatives()
        self._pick("participants").set_values(values.get("participants") or [])
        advances = values.get("advances")
        if advances and advances in self._choices.get("advances", set()):
            self.query_one("#advances", Select).value = advances
        for area in SupportArea:
            self.query_one(f"#area-{area.value}", Checkbox).value = area.value in (
                values.get("areas") or []
            )
        if values.get("notes"):
            self.query_one("#notes", TextArea).text = str(values["notes"])

    # -- 取組 follows 市町村, and the last used with each -----------------------------------------

    def _narrow_initiatives(self) -> None:
        """Offer the chosen municipality's initiatives only (every one when none is chosen)."""
        town = self._pick("municipality").value
        pick = self._pick("initiative")
        offered = [c for c in self._initiatives if town is None or self._towns.get(c.value) == town]
        pick.set_choices(offered, complete=self._refined)
        if pick.value is not None and town is not None and self._towns.get(pick.value) != town:
            pick.set_value(None)

    @on(PickList.Changed, "#municipality")
    def _municipality_chosen(self, event: PickList.Changed) -> None:
        self._narrow_initiatives()
        self._prefill(event.value)

    @on(PickList.Changed, "#initiative")
    def _initiative_chosen(self, event: PickList.Changed) -> None:
        self._touched.add("initiative")
        town = self._towns.get(event.value) if event.value else None
        if town is not None and town != self._pick("municipality").value:
            self._pick("municipality").set_value(town)
            self._narrow_initiatives()
            self._prefill(town)

    @on(PickList.Changed, "#kind")
    def _kind_chosen(self) -> None:
        self._touched.add("kind")
        self._follow_template()

    def _follow_template(self) -> None:
        """A new activity's note becomes the chosen kind's template, unless something was
        written in it (anything but the template it was given)."""
        if self._template_put is None or self.activity_id is not None:
            return
        notes = self.query_one("#notes", TextArea)
        if notes.text != self._template_put:
            self._template_put = None  # written in: left alone from now on
            return
        kind = self._pick("kind").value
        template = self._templates.get(kind, "") if kind else ""
        if template != notes.text:
            notes.text = template
            under_first_heading(notes)
        self._template_put = template

    @on(PickList.Changed, "#participants")
    def _participants_chosen(self) -> None:
        self._touched.add("participants")

    @on(PickList.ReadingAsked)
    def _reading_asked(self, event: PickList.ReadingAsked) -> None:
        """Set an organization's reading where the guess is wrong (ctrl+r)."""
        from dxfield.tui.screens.reading import ReadingScreen

        name, reading = self._names.get(event.value, (event.value, ""))
        modal = ReadingScreen(event.value, name, reading)
        back = event.pick

        def saved(done: bool | None) -> None:
            if done and modal.saved is not None:
                choice = modal.saved
                self._names[choice.value] = (choice.label, modal.saved_reading)
                for pick in (self._pick("municipality"), self._pick("participants")):
                    if choice.value in {c.value for c in pick.choices}:
                        pick.replace_choice(choice)
            back.focus()

        self.app.push_screen(modal, saved)

    def _prefill(self, town: str | None) -> None:
        """A new activity takes what was last used with its municipality, in the fields not
        chosen yet in this form."""
        if self.activity_id is not None or town is None:
            return
        last = self._by_municipality.get(town) or {}
        initiative = last.get("initiative_id")
        if (
            "initiative" not in self._touched
            and self._pick("initiative").value is None
            and initiative
            and self._towns.get(initiative) == town
        ):
            self._pick("initiative").set_value(initiative)
        kind = last.get("kind")
        if "kind" not in self._touched and kind in self._choices.get("kind", set()):
            self._pick("kind").set_value(kind)
            self._follow_template()
        participants = last.get("participants") or []
        if "participants" not in self._touched and not self._pick("participants").values:
            self._pick("participants").set_values(participants)

    # -- state -----------------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """Everything in the form, raw, as typed (what a draft keeps)."""

        def chosen(widget_id: str) -> str | None:
            if widget_id != "advances":
                return self._pick(widget_id).value
            value = self.query_one(f"#{widget_id}", Select).value
            return value if isinstance(value, str) else None

        return {
            "activity_id": self.activity_id,
            "title": self.query_one("#title", Input).value,
            "date": self.query_one("#date", Input).value,
            "municipality_id": chosen("municipality"),
            "initiative_id": chosen("initiative"),
            "kind": chosen("kind"),
            "advances": chosen("advances"),
            "areas": [
                a.value for a in SupportArea if self.query_one(f"#area-{a.value}", Checkbox).value
            ],
            "location": self.query_one("#location", Input).value,
            "participants": self._participants(),
            "head_count": self.query_one("#head-count", Input).value,
            "participants_text": self.query_one("#participants-text", Input).value,
            "tags": self.query_one("#tags", Input).value,
            "notes": self.query_one("#notes", TextArea).text,
        }

    def _participants(self) -> list[str]:
        """Ticked organizations: those the record had first, in its order, then new ones."""
        ticked = self._pick("participants").values
        kept = [i for i in self._known_participants if i in ticked]
        return kept + [i for i in ticked if i not in kept]

    @property
    def dirty(self) -> bool:
        """True when the form holds something not saved."""
        return self._ready and (self.values() != self._initial or bool(self._queued))

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    @on(PickList.Changed)
    def _changed(self) -> None:
        if not self._ready:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        if self._quitting:  # the quit waits for the drafts queued: this one too, at once
            self._save_draft()
            return
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._save_draft)

    def draft_values(self) -> dict[str, Any]:
        """What the draft keeps: the form's values and the files chosen to attach on saving."""
        from dxfield.store.draft_rows import QUEUED_BY, QUEUED_FILES

        # Absolute: a draft restored by a dxfield started in another folder finds them too.
        queued = [
            {"paths": [os.path.abspath(p) for p in q.paths], "caption": q.caption}
            for q in self._queued
        ]
        return {**self.values(), QUEUED_FILES: queued, QUEUED_BY: self.store.device.id}

    def _save_draft(self) -> None:
        if self.dirty and not self._saving:
            self._queue_draft(self.draft_values())

    def before_quitting(self) -> None:
        """The app is quitting: the last draft queued now (not when typing pauses), unless
        the save under way clears it. The app waits for the draft writer and the save
        (`DxfieldApp._writes_under_way`); either waits for another writer (a long import)
        until it lands, or until the app is told to quit anyway (`quit_anyway`)."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._quitting = True
        self._save_draft()

    def _queue_draft(self, values: dict[str, Any] | None) -> Worker[None] | None:
        """Have the one draft writer write `values` (None: discard the draft). What was queued
        and not written is replaced, so that an older draft never lands after a newer one,
        however long a write waits for another writer (a long import). The writer is the app's
        worker, given the store and the draft's name here: it outlives the form (a discard on
        Escape is written after the form is gone) and never asks the form for the app."""
        with self._draft_lock:
            self._draft_next = (values,)
            if self._draft_writing:
                return self._draft_worker
            self._draft_writing = True
        app = self.dx
        worker: Worker[None] = app.run_worker(
            functools.partial(self._write_drafts, self.store, self.draft_name, app),
            thread=True,
            group="form-draft",
            exit_on_error=False,
        )
        self._draft_worker = worker
        return worker

    def _draft_wanted(self, values: dict[str, Any] | None, app: DxfieldApp) -> bool:
        """Whether writing `values` (None: the discard) is still wanted: not once a newer one is
        queued, nor once the app is told to quit without waiting (`quit_anyway`) or is gone;
        a draft not once the activity is being saved or is saved (the save clears it)."""
        if self._draft_next is not None or app.quit_anyway or not app.is_running:
            return False
        return values is None or (self._ready and not self._saving)

    def _write_drafts(self, store: Store, name: str, app: DxfieldApp) -> None:
        """Write what is queued, the newest each time, until nothing is (in a thread). Another
        dxfield writing (a long import): each write waits for it, quietly (typing during an
        import made a "busy" error at each pause), until it is no longer wanted."""
        from dxfield.store.local_state import discard_draft, save_draft
        from dxfield.store.waits import GivingUp

        try:
            while True:
                with self._draft_lock:
                    queued, self._draft_next = self._draft_next, None
                    if queued is None:
                        self._draft_writing = False
                        return
                (values,) = queued

                def wanted(values: dict[str, Any] | None = values) -> bool:
                    return self._draft_wanted(values, app)

                try:
                    with store.unit(write=True, waiting=GivingUp(lambda: None, wanted)) as unit:
                        if values is None:
                            discard_draft(unit, name)
                        elif wanted():  # under the lock: still wanted
                            save_draft(unit, name, values)
                except LocalizedError as exc:
                    if exc.code != "store.given_up":
                        raise
        except BaseException:
            # Only here: once the loop found nothing queued it said so under the lock, and a
            # writer begun since then is the one writing.
            with self._draft_lock:
                self._draft_writing = False
            raise

    # -- saving ----------------------------------------------------------------------------------

    def _clear_errors(self) -> None:
        for label in self.query(".error").results(Label):
            label.update("")
            label.remove_class("shown")

    def _show_error(self, error: BaseException) -> None:
        if isinstance(error, LocalizedError) and error.field in ERROR_SLOTS:
            slot = ERROR_SLOTS[error.field]
            label = self.query_one(f"#error-{slot}", Label)
            label.update(plain(error.message()))
            label.add_class("shown")
            widget_id = slot if slot not in ("areas", "participants") else None
            if widget_id:
                self.query_one(f"#{widget_id}").focus()
        else:
            self.notify(
                error_text(error),
                title=_("Not saved"),
                severity="error",
                timeout=10,
                markup=False,
            )

    def action_save(self) -> None:
        """Validate and save; errors show beside their fields and nothing typed is lost."""
        from dxfield.store.activity_entry import activity_input

        if not self._ready or self._saving:
            return
        self._clear_errors()
        values = self.values()
        # An unchanged date keeps its precision (令和6年度, 10月下旬) and is not checked again.
        unchanged = self.activity_id is not None and values["date"] == self._initial.get("date")
        try:
            given = activity_input(
                title=values["title"],
                kind=values["kind"],
                date=None if unchanged else values["date"],
                municipality=values["municipality_id"],
                initiative=values["initiative_id"],
                notes=values["notes"],
                location=values["location"],
                areas=values["areas"],
                tags=values["tags"],
                participants=values["participants"],
                head_count=values["head_count"],
                participants_text=values["participants_text"],
                today=self.dx.today,
                complete=True,
            )
        except LocalizedError as exc:
            self._show_error(exc)
            return
        advances = values.get("advances")
        track, stage = advances.split() if advances else (None, None)
        self._saving = True
        self._created = self.activity_id is None
        self._save_worker = self._save(given, (track, stage) if track and stage else None, self.dx)

    @work(thread=True, exclusive=True, group="form-save", exit_on_error=False)
    def _save(self, given: ActivityInput, advance: tuple[str, str] | None, app: DxfieldApp) -> None:
        from dxfield.store.activity_entry import save_activity
        from dxfield.store.waits import GivingUp

        try:
            saved = save_activity(
                self.store,
                given,
                activity_id=self.activity_id,
                advance=advance,
                draft=self.draft_name,
                waiting=GivingUp(self._waiting, lambda: not app.quit_anyway),
            )
        except Exception as exc:
            if app.is_running:
                app.call_from_thread(self._failed, exc)
            return
        if saved.move_failed is not None:  # an edited activity is saved; its track did not move
            app.call_from_thread(
                self.notify,
                error_text(saved.move_failed),
                title=_("Saved; the track did not move"),
                severity="warning",
                timeout=15,
                markup=False,
            )
        # The activity is saved: from here on a failure must not make a retry save it twice.
        self.activity_id = self.activity_id or saved.activity.id
        self._attach_queued(saved.activity.id)
        app.call_from_thread(self._saved, saved.activity.id)

    def _attach_queued(self, activity_id: str) -> None:
        """Attach the files chosen before the activity was saved (in the save's worker); each
        said in one line, a refusal too (the activity stays saved)."""
        from dxfield.tui.screens.attach import attach_all

        queued, self._queued = self._queued, []
        for given in queued:
            results = attach_all(self.store, activity_id, given)
            for line, refused in zip(
                results.lines, [p in results.refused for p in given.paths], strict=False
            ):
                self.app.call_from_thread(
                    self.notify,
                    line,
                    severity="warning" if refused else "information",
                    timeout=10,
                    markup=False,
                )

    def _waiting(self) -> None:
        """Another dxfield holds the store (a long import writing): the save waits for it."""
        waiting_to_save(self)

    def _failed(self, error: BaseException) -> None:
        self._saving = False
        if given_up_to_quit(self.dx, error):
            return
        self._quitting = False  # any quit that waited for the save is called off
        self._show_error(error)
        self._save_draft()  # a draft that gave way to the save is written after all

    def _saved(self, activity_id: str) -> None:
        self._saving = False
        self._ready = False
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self.notify(_("Saved"))
        self.dx.activity_saved(activity_id, created=self._created)

    # -- attaching -------------------------------------------------------------------------------

    def action_attach(self) -> None:
        """Attach files: at once to an activity already saved; to a new one, once it is."""
        from dxfield.tui.screens.attach import AttachScreen

        title = self.query_one("#title", Input).value or _("(no title)")
        modal = AttachScreen(self.activity_id, title)

        def done(chosen: bool | None) -> None:
            if chosen and modal.queued is not None:
                self._queued.append(modal.queued)
                self._show_queued()
                if self._draft_timer is not None:
                    self._draft_timer.stop()
                self._save_draft()  # at once: a crash now must not lose the choice

        self.app.push_screen(modal, done)

    def _show_queued(self) -> None:
        names = [p.name for given in self._queued for p in given.paths]
        label = self.query_one("#queued-files", Label)
        label.update(
            plain(_("Attached on saving: {names}").format(names=", ".join(names))) if names else ""
        )
        label.set_class(bool(names), "shown")

    # -- leaving ---------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        """Close; ask first when something would be discarded."""
        from dxfield.tui.screens.confirm import ConfirmScreen

        if still_saving(self, self._saving):
            return
        if not self.dirty:
            self._leave()
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self._leave()

        self.app.push_screen(
            ConfirmScreen(_("Discard your changes and close?")),
            answer,
        )

    def _leave(self) -> None:
        self._ready = False
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._queue_draft(None)  # after any draft still to be written
        self.app.pop_screen()


def under_first_heading(area: TextArea) -> None:
    """Put the cursor on the line under a template's first heading: what is typed goes into that
    section, and the heading stays a heading (typed at the very start, it would not)."""
    lines = area.text.split("\n")
    if len(lines) > 1 and lines[0].startswith("#") and not lines[1].strip():
        area.cursor_location = (1, 0)


def advance_choices(store: Any, today: dt.date) -> list[tuple[str, str]]:
    """The tracks an activity can advance: each to its next stage."""
    from dxfield.store.tracks import list_tracks

    lang = current_language()
    choices = []
    for summary in list_tracks(store, today=today):
        following = summary.stage_index + 1
        if following >= len(summary.model.stages):
            continue
        stage = summary.model.stages[following]
        label = stage.label if lang == "ja" or not stage.label_en else stage.label_en
        place = f"{summary.municipality} " if summary.municipality else ""
        choices.append((f"{place}{summary.community} → {label}", f"{summary.track.id} {stage.key}"))
    return choices


def restored_queue(
    data: dict[str, Any], device_id: str
) -> tuple[tuple[AttachInput, ...], tuple[str, ...]]:
    """A draft's files to attach (in a worker: it looks at the file system): those still there
    as they were chosen, and the paths of those that have gone since (or are no longer files).
    Another device's choice (a colleague's draft on a hub) gives none: all of them as gone."""
    from pathlib import Path

    from dxfield.store.draft_rows import queued_by_other, queued_files
    from dxfield.tui.screens.attach import AttachInput

    kept: list[AttachInput] = []
    vanished: list[str] = []
    if queued_by_other(data, device_id):
        return (), tuple(p for paths, _caption in queued_files(data) for p in paths)
    for paths, caption in queued_files(data):
        there = []
        for text in paths:
            try:
                is_file = Path(text).is_file()
            except (OSError, ValueError):  # a name the system cannot look up (a NUL in it)
                is_file = False
            if is_file:
                there.append(Path(text))
            else:
                vanished.append(text)
        if there:
            kept.append(AttachInput(there, caption))
    return tuple(kept), tuple(vanished)


def record_like_empty() -> dict[str, Any]:
    """A restored draft always counts as unsaved: compare it with nothing."""
    return {}
