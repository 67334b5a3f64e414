"""Logging an activity as a person does it: one way to read what they typed, and the rules of
a save.

`activity_input` turns what a person gives (the CLI's options, the app's form, a row of a table)
into an `ActivityInput`: texts as typed, a date in any form `read_date` reads (a day, a month,
上旬/中旬/下旬, a 年度; short ones against today; its precision kept), a head count as digits, tags and areas separated by spaces, participants as a list or
separated by `;`. `save_activity` is what saving the form does, so the CLI can do the same: a new
activity that advances a track is written with its move in one unit of work; the draft it came
from is cleared and its municipality, initiative and kind are remembered as the next form's
defaults in that same unit, with its kind, initiative and participating organizations as what a
new activity at that municipality starts with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dxfield.domain.dates import read_date
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import ActivityRead, StageMoveRead
from dxfield.i18n import N_, about, pgettext, problems
from dxfield.store.activities import (
    ActivityInput,
    add_activity,
    check_activity,
    edit_activity,
    get_activity,
    list_activities,
)
from dxfield.store.local_state import discard_draft, get_setting, set_setting
from dxfield.store.tracks import add_activity_advancing, move_track
from dxfield.store.unit import Unit, Work, unit_of
from dxfield.store.waits import GivingUp, waiting_for

LAST_USED = "activity_form.last_used"
"""The setting that remembers the last saved activity's municipality, initiative and kind."""
LAST_USED_BY_MUNICIPALITY = "activity_form.last_used_by_municipality"
"""The setting that remembers, for each municipality, the kind, initiative and participating
organizations of the last activity saved there (local: settings are never synced)."""
TRUE_WORDS = ("yes", "true", "1")
"""What a person may type for "yes" (besides "yes" in their language, from the catalogue)."""

PROBLEMS = problems({"number.not_whole": N_("must be a whole number")})


def _words(value: Sequence[str] | str | None, separator: str | None = None) -> list[str] | None:
    if value is None:
        return None
    parts = value.split(separator) if isinstance(value, str) else list(value)
    return [p.strip() for p in parts if p.strip()]


def head_count_of(value: int | str | None) -> int | None:
    """A head count as typed: digits (Excel's `12.0` too); empty is none."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text:
        return None
    if not text.isdigit():
        raise LocalizedError("number.not_whole", field="head_count")
    return int(text)


def activity_input(
    *,
    title: str | None = None,
    kind: str | None = None,
    date: str | dt.date | None = None,
    date_precision: str | None = None,
    municipality: str | None = None,
    initiative: str | None = None,
    notes: str | None = None,
    location: str | None = None,
    areas: Sequence[str] | str | None = None,
    tags: Sequence[str] | str | None = None,
    follow_up: bool | str | None = None,
    participants: Sequence[str] | str | None = None,
    head_count: int | str | None = None,
    participants_text: str | None = None,
    today: dt.date | None = None,
    complete: bool = False,
) -> ActivityInput:
    """What a person gave, as the store's services take it. None is "not given".

    `today` says a person typed the date (the CLI, the form): it may then be written short (7/17
    is that day this year) or as a period (令和6年度, 2024年10月下旬), whose precision it gives
    unless `date_precision` is given, and it must be plausible (from 2000 to two years after
    today). A table's dates are read by the record as they are. `complete` says every
    field was given (the app's form): then an emptied initiative is cleared and the participants
    are replaced as a whole, not part by part as the CLI's options change them."""
    if isinstance(date, str) and date.strip() and today is not None:
        with about("date"):
            dated = read_date(date, today)
        date = dated.date.isoformat()
        date_precision = date_precision or dated.precision
    if isinstance(follow_up, str):
        follow_up = follow_up.strip().lower() in (*TRUE_WORDS, pgettext("answer", "yes", "ja"))
    given = ActivityInput(
        title=title,
        kind=kind or None,
        date=date or None,
        date_precision=date_precision or None,
        municipality=municipality or None,
        initiative=initiative or None,
        notes=notes,
        location=location,
        areas=_words(areas),
        tags=_words(tags),
        follow_up=follow_up,
        participants=_words(participants, ";"),
        head_count=head_count_of(head_count),
        participants_text=participants_text,
    )
    if complete:
        if not initiative:
            given.extra["initiative_id"] = None
        given.extra["participants"] = {
            "organization_ids": list(given.participants or []),
            "head_count": given.head_count,
            "text": participants_text or "",
        }
        given.participants = given.head_count = given.participants_text = None
    return given


@dataclass(frozen=True)
class Saved:
    """What `save_activity` did."""

    activity: ActivityRead
    move: StageMoveRead | None = None
    move_failed: Exception | None = None
    """An edited activity is saved even when the track then cannot move (this says why)."""


def save_activity(
    work: Work,
    given: ActivityInput,
    *,
    activity_id: str | None = None,
    advance: tuple[str, str] | None = None,
    draft: str | None = None,
    remember: bool = True,
    waiting: Callable[[], object] | None = None,
) -> Saved:
    """Save an activity as the form does: new, or an edit of `activity_id`; `advance` (track,
    stage) moves a track with the activity as its evidence; `draft` names the draft to clear;
    `remember` keeps its municipality, initiative and kind for the next form; `waiting`, when
    given, is called should the save have to wait for another writer (a long import), and the
    save then waits as long as it takes rather than failing (the draft stays until it lands).

    A new activity and its move are one unit of work: both or neither. An edited activity is
    saved first, in its own unit, and the track moved after it: should the move be refused, the
    edit stays saved and `move_failed` says why."""
    with unit_of(
        work, write=True, waiting=_checking_first(work, given, activity_id, waiting)
    ) as unit:
        move = None
        if activity_id is None and advance is not None:
            record, move = add_activity_advancing(unit, given, track=advance[0], to=advance[1])
        elif activity_id is None:
            record = add_activity(unit, given)
        else:
            record, _changed = edit_activity(unit, activity_id, given)
        if draft is not None:
            discard_draft(unit, draft)
        if remember:
            set_setting(unit, LAST_USED, defaults_of(record))
            if record.municipality_id:
                by_place = dict(last_used_by_municipality(unit))
                by_place[record.municipality_id] = {
                    "kind": record.kind.value,
                    "initiative_id": record.initiative_id,
                    "participants": list(record.participants.organization_ids),
                }
                set_setting(unit, LAST_USED_BY_MUNICIPALITY, by_place)
    if activity_id is not None and advance is not None:
        try:
            move = move_track(
                work, advance[0], to=advance[1], evidence=[record.id], date=record.date
            )
        except Exception as exc:  # the edit is saved; the form says the move was not
            return Saved(record, None, exc)
    return Saved(record, move)


def _checking_first(
    work: Work,
    given: ActivityInput,
    activity_id: str | None,
    waiting: Callable[[], object] | None,
) -> Callable[[], object] | None:
    """`waiting`, which first checks the save (`check_activity`, reading beside the writer): a
    save that has to wait for another writer (a long import) is refused at once, not after the
    wait, for what it would be refused for then (no municipality, a date out of range), and
    what was typed stays in the form to be mended."""
    waiting = waiting_for(waiting)  # a quick capture's, from its form
    if waiting is None or isinstance(work, Unit):  # within a unit: never waits
        return waiting

    def told() -> object:
        check_activity(work, given, activity_id)
        return waiting()

    return replace(waiting, say=told) if isinstance(waiting, GivingUp) else told


def defaults_of(activity: ActivityRead) -> dict[str, Any]:
    """What a new activity takes from the last one saved."""
    return {
        "municipality_id": activity.municipality_id,
        "initiative_id": activity.initiative_id,
        "kind": activity.kind.value,
    }


def last_used_by_municipality(work: Work) -> dict[str, dict[str, Any]]:
    """For each municipality (by id), the kind, initiative and participating organizations of
    the last activity the form saved there: a new activity there starts with them."""
    with unit_of(work, write=False) as unit:
        remembered = get_setting(unit, LAST_USED_BY_MUNICIPALITY, None)
    if not isinstance(remembered, dict):
        return {}
    return {str(k): v for k, v in remembered.items() if isinstance(v, dict)}


def form_defaults(work: Work) -> dict[str, Any]:
    """The municipality, initiative and kind a new activity starts with: the last saved in
    the form, or before any, the newest activity in the log."""
    with unit_of(work, write=False) as unit:
        remembered = get_setting(unit, LAST_USED, None)
        if isinstance(remembered, dict):
            return remembered
        newest = list_activities(unit, limit=1)
        return defaults_of(get_activity(unit, newest[0].id)) if newest else {}
