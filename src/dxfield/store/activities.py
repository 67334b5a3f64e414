"""Activities: the field log's entries. Add, edit, delete, show, and list newest first by keyset.

The Log's order is (date, id) descending, backed by the index `ix_activity_date_id`. Pages are
fetched by keyset (`before`/`after` a row's key), counted with the same filters, and the End key
reads the oldest page directly; `offset` is only for jumps to a position.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, Text, cast, func, select, tuple_

from dxfield.domain.enums import ActivityKind, DatePrecision, SupportArea
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import ActivityBase, ActivityRead, Participants
from dxfield.i18n import N_, about, problems
from dxfield.store import organizations, records, revisions
from dxfield.store.backend import Backend
from dxfield.store.light import ActivityFilter as ActivityFilter  # re-exported, as are the next
from dxfield.store.light import ActivityKey as ActivityKey
from dxfield.store.light import ActivityRow as ActivityRow  # the Log's row
from dxfield.store.reading import streamed
from dxfield.store.records import ACTIVITIES, INITIATIVES
from dxfield.store.search import matching_ids, query_terms
from dxfield.store.unit import Unit, Work, unit_of

PROBLEMS = problems(
    {
        "activity.wrong_municipality": N_("the initiative belongs to {expected}, not {given}"),
        "activity.nothing_to_change": N_("nothing to change: give at least one field"),
    }
)

_table = revisions.table_for("activity")
_orgs = revisions.table_for("organization")
_initiatives = revisions.table_for("initiative")


@dataclass
class ActivityInput:
    """What a user gives to create or edit an activity; None means "not given"."""

    title: str | None = None
    kind: str | None = None
    date: str | dt.date | None = None
    municipality: str | None = None
    initiative: str | None = None
    notes: str | None = None
    location: str | None = None
    areas: list[str] | None = None
    tags: list[str] | None = None
    date_precision: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    follow_up: bool | None = None
    participants: list[str] | None = None
    """Participating organizations by name, local government code or id."""
    head_count: int | None = None
    participants_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Lookups:
    """Organizations and initiatives read once, so that many rows (an import) are resolved from
    dictionaries instead of a query per name; what is not found there is asked of the store."""

    def __init__(self, unit: Unit) -> None:
        self.organizations = organizations.OrganizationIndex(unit)
        self.initiative_places: dict[str, str | None] = {
            row.id: row.municipality_id
            for row in unit.conn.execute(select(_initiatives.c.id, _initiatives.c.municipality_id))
        }


def _organization(unit: Unit, lookups: Lookups | None, text: str, *, kinds: Any = None) -> str:
    if lookups is not None:
        return lookups.organizations.find(text, kinds=kinds)
    return organizations.resolve_organization(unit, text, kinds=kinds)


def activity_changes(
    unit: Unit, given: ActivityInput, lookups: Lookups | None = None
) -> dict[str, Any]:
    """Turn user input into record fields: names resolved to ids, labels to keys."""
    changes: dict[str, Any] = dict(given.extra)
    for name in ("title", "notes", "location", "start_time", "end_time", "follow_up", "tags"):
        value = getattr(given, name)
        if value is not None:
            changes[name] = value
    if given.kind is not None:
        changes["kind"] = ActivityKind.parse_field(given.kind, "kind")
    if given.date is not None:
        changes["date"] = given.date  # parsed (和暦 and all) by the record's validator
    if given.date_precision is not None:
        changes["date_precision"] = given.date_precision
    if given.areas is not None:
        changes["areas"] = [SupportArea.parse_field(a, "area") for a in given.areas]
    if given.initiative is not None:
        initiative_id = given.initiative.strip().lower()
        if lookups is None or initiative_id not in lookups.initiative_places:
            with about("initiative"):
                initiative_id = INITIATIVES.resolve(unit, given.initiative)
        changes["initiative_id"] = initiative_id
        # The municipality follows the initiative unless one is given (then they must agree).
        changes["municipality_id"] = _initiative_municipality(unit, initiative_id, lookups)
    if given.municipality is not None:
        with about("municipality"):
            changes["municipality_id"] = _organization(
                unit, lookups, given.municipality, kinds=organizations.LOCAL_GOVERNMENT
            )
    if given.participants is not None:
        with about("participants"):
            ids = [_organization(unit, lookups, p) for p in given.participants]
        changes["participants"] = {"organization_ids": list(dict.fromkeys(ids))}
    if given.head_count is not None:
        changes.setdefault("participants", {})["head_count"] = given.head_count
    if given.participants_text is not None:
        changes.setdefault("participants", {})["text"] = given.participants_text
    return changes


def _initiative_municipality(
    unit: Unit, initiative_id: str, lookups: Lookups | None = None
) -> str | None:
    if lookups is not None and initiative_id in lookups.initiative_places:
        return lookups.initiative_places[initiative_id]
    found: str | None = unit.conn.execute(
        select(_initiatives.c.municipality_id).where(_initiatives.c.id == initiative_id)
    ).scalar()
    return found


def _check_place(
    unit: Unit,
    initiative_id: str | None,
    municipality_id: str | None,
    lookups: Lookups | None = None,
) -> None:
    """An activity's municipality must be its initiative's."""
    if not initiative_id or not municipality_id:
        return
    expected = _initiative_municipality(unit, initiative_id, lookups)
    if expected is not None and expected != municipality_id:
        names: dict[str, str] = dict(
            unit.conn.execute(
                select(_orgs.c.id, _orgs.c.name).where(_orgs.c.id.in_([expected, municipality_id]))
            ).all()
        )
        raise LocalizedError(
            "activity.wrong_municipality",
            field="municipality",
            expected=names.get(expected, expected),
            given=names.get(municipality_id, municipality_id),
        )


def new_activity_content(
    unit: Unit, given: ActivityInput, lookups: Lookups | None = None
) -> dict[str, Any]:
    """A new activity from user input, validated and checked in the unit, ready to be written."""
    changes = activity_changes(unit, given, lookups)
    if "title" not in changes:
        changes["title"] = ""
    for required in ("kind", "date"):
        if required not in changes:
            raise LocalizedError("value.required", field=required)
    _check_place(unit, changes.get("initiative_id"), changes.get("municipality_id"), lookups)
    return records.validate("activity", changes)


def add_activity(work: Work, given: ActivityInput) -> ActivityRead:
    """Create an activity from user input: checked and written in one unit of work."""
    with unit_of(work, write=True) as unit:
        return ACTIVITIES.create(unit, new_activity_content(unit, given))


# What an emptied field of ActivityInput becomes on the record (see `_edited`): a participants'
# part, or a record field, back to the default of a new activity ("" for the title).
_PARTICIPANT_PARTS = {
    "participants": "organization_ids",
    "head_count": "head_count",
    "participants_text": "text",
}
_CLEARED_FIELDS = {"municipality": "municipality_id", "initiative": "initiative_id"}
_PARTICIPANT_DEFAULTS = Participants().model_dump(mode="json")
_FIELD_DEFAULTS = {
    name: "" if info.is_required() else info.get_default(call_default_factory=True)
    for name, info in ActivityBase.model_fields.items()
}


def edited_changes(
    unit: Unit,
    current: dict[str, Any],
    given: ActivityInput,
    changes: dict[str, Any],
    cleared: Collection[str] = (),
    lookups: Lookups | None = None,
) -> dict[str, Any]:
    """`changes` (from `given`) completed for an edit of `current` (the record's content, as
    `records.content_of` gives it): only the parts of the participants given change, the fields
    of ActivityInput named in `cleared` return to what a new activity has (unless given), and
    the place is checked."""
    changes = dict(changes)
    parts: dict[str, Any] = {}
    for name in cleared:
        if name in ("kind", "date"):
            raise LocalizedError("value.required", field=name)
        if name in _PARTICIPANT_PARTS:
            part = _PARTICIPANT_PARTS[name]
            parts[part] = copy.copy(_PARTICIPANT_DEFAULTS[part])
        else:
            field_name = _CLEARED_FIELDS.get(name, name)
            changes.setdefault(field_name, copy.copy(_FIELD_DEFAULTS[field_name]))
    if ("participants" in changes or parts) and "participants" not in given.extra:
        changes["participants"] = {
            **current["participants"],
            **parts,
            **changes.get("participants", {}),
        }
    _check_place(
        unit,
        changes.get("initiative_id", current["initiative_id"]),
        changes.get("municipality_id", current["municipality_id"]),
        lookups,
    )
    return changes


def edit_activity(work: Work, activity_id: str, given: ActivityInput) -> tuple[ActivityRead, bool]:
    """Change the given fields of an activity; (record, whether anything changed)."""
    with unit_of(work, write=True) as unit:
        return ACTIVITIES.edit(unit, *_edit(unit, activity_id, given))


def _edit(unit: Unit, activity_id: str, given: ActivityInput) -> tuple[str, dict[str, Any]]:
    """The activity's full id and the changes `given` makes of it."""
    changes = activity_changes(unit, given)
    if not changes:
        raise LocalizedError("activity.nothing_to_change")
    current = ACTIVITIES.get(unit, activity_id)
    return current.id, edited_changes(unit, current.model_dump(mode="json"), given, changes)


def check_activity(work: Work, given: ActivityInput, activity_id: str | None = None) -> None:
    """Refuse, without writing (in a reading unit), what `add_activity`, or `edit_activity` of
    `activity_id`, would refuse of `given`."""
    with unit_of(work, write=False) as unit:
        if activity_id is None:
            new_activity_content(unit, given)
        else:
            ACTIVITIES.check_edit(unit, *_edit(unit, activity_id, given))


def get_activity(work: Work, activity_id: str) -> ActivityRead:
    """One live activity by id or unique prefix."""
    return ACTIVITIES.get(work, activity_id)


@dataclass(frozen=True)
class ActivityNames:
    """The names behind an activity's ids, for showing it."""

    municipality: str
    initiative: str
    participants: list[str]


def activity_names(work: Work, activity: ActivityRead) -> ActivityNames:
    """Municipality, initiative and participating organizations of an activity, by name."""
    org_ids = [i for i in [activity.municipality_id, *activity.participants.organization_ids] if i]
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        names: dict[str, str] = dict(
            conn.execute(select(_orgs.c.id, _orgs.c.name).where(_orgs.c.id.in_(org_ids))).all()
        )
        initiative = ""
        if activity.initiative_id:
            row = conn.execute(
                select(_initiatives.c.theme, _initiatives.c.title).where(
                    _initiatives.c.id == activity.initiative_id
                )
            ).first()
            initiative = f"{row.theme}: {row.title}" if row else activity.initiative_id
    return ActivityNames(
        municipality=names.get(activity.municipality_id or "", ""),
        initiative=initiative,
        participants=[names.get(i, i) for i in activity.participants.organization_ids],
    )


ACTIVITY_PAGE = 1000
"""Rows `all_activities` reads at a time (a server-side cursor on the hub)."""


def all_activities(
    work: Work, *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> Iterator[ActivityRead]:
    """Every live activity (within the dates, when given) as its full record, oldest first
    (for reports), one at a time: a page of rows is read at a time and nothing is kept, so a
    caller that keeps only what it needs of each holds only that."""
    conditions = _conditions(ActivityFilter(date_from=date_from, date_to=date_to), work.backend)
    query = (
        select(_table)
        .where(_table.c.deleted.is_(False), *conditions)
        .order_by(_table.c.date, _table.c.id)
    )
    with unit_of(work, write=False) as unit:
        rows = unit.conn.execution_options(yield_per=ACTIVITY_PAGE).execute(query).mappings()
        for row in rows:
            yield activity_from_row(row)


def activity_columns(
    work: Work,
    names: Sequence[str],
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The columns `names` of every live activity (within the dates, when given), oldest first,
    as plain tuples read a page at a time, for a caller that needs a few fields of a year of
    activities (the report) and no model of each. The JSON columns (areas, tags, participants)
    come as their text, for `reading.json_reader` to decode."""
    c = _table.c
    fields = [
        cast(c[name], Text).label(name) if name in _JSON_COLUMNS else c[name] for name in names
    ]
    conditions = _conditions(ActivityFilter(date_from=date_from, date_to=date_to), work.backend)
    query = select(*fields).where(c.deleted.is_(False), *conditions).order_by(c.date, c.id)
    with unit_of(work, write=False) as unit:
        for row in streamed(unit, query):
            yield tuple(row)


_JSON_COLUMNS = frozenset(("areas", "tags", "participants"))

_READ_FIELDS = tuple(ActivityRead.model_fields)


def activity_from_row(row: Mapping[Any, Any]) -> ActivityRead:
    """An activity as its stored row gives it, without validating it again: what the store
    holds was checked when it was written (by this device's forms and imports, or by the merge
    of a bundle), so a report of 100,000 activities does not pay pydantic for each once more.
    Only the enums and the participants are made what the model holds; a row that does not
    fit them (written under older rules) goes through the model's validation after all."""
    try:
        values = {name: row[name] for name in _READ_FIELDS}
        values["kind"] = ActivityKind(values["kind"])
        values["date_precision"] = DatePrecision(values["date_precision"])
        values["areas"] = [SupportArea(area) for area in values["areas"] or ()]
        values["tags"] = list(values["tags"] or ())
        values["participants"] = Participants.model_construct(**(values["participants"] or {}))
        if not isinstance(values["date"], dt.date) or not isinstance(
            values["created_at"], dt.datetime
        ):
            raise TypeError("not as stored")
    except (KeyError, ValueError, TypeError):
        return ACTIVITIES.to_read(row)
    return ActivityRead.model_construct(**values)


def delete_activity(work: Work, activity_id: str) -> str:
    """Tombstone an activity; its history stays."""
    return ACTIVITIES.delete(work, activity_id)


def _conditions(filters: ActivityFilter | None, backend: Backend) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a filter (live or not is the caller's)."""
    filters = filters or ActivityFilter()
    conditions: list[ColumnElement[bool]] = []
    if filters.municipality_id:
        conditions.append(_table.c.municipality_id == filters.municipality_id)
    if filters.initiative_id:
        conditions.append(_table.c.initiative_id == filters.initiative_id)
    if filters.kind:
        conditions.append(_table.c.kind == filters.kind.value)
    if filters.area:
        areas = cast(_table.c.areas, String)  # JSON text: a value is found with its quotes
        conditions.append(backend.contains(areas, f'"{filters.area.value}"'))
    if filters.tag:
        tag = records.validate_tag(filters.tag)
        conditions.append(backend.contains(cast(_table.c.tags, String), f'"{tag}"'))
    if filters.participant_id:
        participants = cast(_table.c.participants, String)
        conditions.append(backend.contains(participants, f'"{filters.participant_id}"'))
    if filters.date_from:
        conditions.append(_table.c.date >= filters.date_from)
    if filters.date_to:
        conditions.append(_table.c.date <= filters.date_to)
    if filters.query and query_terms(filters.query):
        matching = matching_ids(filters.query, backend, entities=["activity"])
        conditions.append(_table.c.id.in_(matching))
    return conditions


# Row values, not `date < d OR (date = d AND id < i)`: with bound parameters SQLite turns only
# the row value into a range of the (date, id) index; the OR form walks the index from its end.
def _older_than(key: ActivityKey) -> ColumnElement[bool]:
    return tuple_(_table.c.date, _table.c.id) < key


def _newer_than(key: ActivityKey) -> ColumnElement[bool]:
    return tuple_(_table.c.date, _table.c.id) > key


def _rows(
    work: Work,
    conditions: list[ColumnElement[bool]],
    *,
    ascending: bool,
    limit: int,
    offset: int = 0,
) -> list[ActivityRow]:
    """Run the Log's SELECT; rows come back newest first whichever way the query walked."""
    if limit <= 0:  # SQLite reads a negative LIMIT as "no limit"
        return []
    order = (
        (_table.c.date.asc(), _table.c.id.asc())
        if ascending
        else (_table.c.date.desc(), _table.c.id.desc())
    )
    query = (
        select(
            _table.c.id,
            _table.c.date,
            _table.c.date_precision,
            _table.c.kind,
            _table.c.title,
            _table.c.location,
            _table.c.areas,
            _table.c.initiative_id,
            _table.c.tags,
            func.coalesce(_orgs.c.name, "").label("municipality"),
        )
        .select_from(_table.outerjoin(_orgs, _orgs.c.id == _table.c.municipality_id))
        # Live rows are most rows: the planner is told so, and walks (date, id) instead of `deleted`.
        .where(work.backend.mostly_true(_table.c.deleted.is_(False)), *conditions)
        .order_by(*order)
        .limit(limit)
    )
    if offset > 0:
        query = query.offset(offset)
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        rows = conn.execute(query).mappings().all()
    result = [
        ActivityRow(
            id=row["id"],
            date=row["date"],
            date_precision=row["date_precision"],
            kind=ActivityKind(row["kind"]),
            title=row["title"],
            municipality=row["municipality"],
            location=row["location"],
            areas=list(row["areas"] or []),
            initiative_id=row["initiative_id"],
            tags=list(row["tags"] or []),
        )
        for row in rows
    ]
    if ascending:
        result.reverse()
    return result


def list_activities(
    work: Work,
    filters: ActivityFilter | None = None,
    *,
    limit: int = 50,
    before: ActivityKey | None = None,
    after: ActivityKey | None = None,
    offset: int = 0,
) -> list[ActivityRow]:
    """A page of live activities, newest first by (date, id).

    - `before=(date, id)`: the `limit` rows just older than that key (the page below a row);
    - `after=(date, id)`: the `limit` rows just newer than that key (the page above a row), still
      returned newest first;
    - neither: the newest rows, skipping `offset` of them (for jumps; a negative offset is 0).
      `offset` is ignored when a key is given: keyset pages stay fast however deep they are.

    Giving both keys is an error.
    """
    if before is not None and after is not None:
        raise ValueError("give before or after, not both")
    conditions = _conditions(filters, work.backend)
    if before is not None:
        return _rows(work, [*conditions, _older_than(before)], ascending=False, limit=limit)
    if after is not None:
        return _rows(work, [*conditions, _newer_than(after)], ascending=True, limit=limit)
    return _rows(work, conditions, ascending=False, limit=limit, offset=max(0, offset))


def rows_by_ids(work: Work, ids: Sequence[str]) -> list[ActivityRow]:
    """The Log's rows of the live activities among `ids`, newest first."""
    if not ids:
        return []
    return _rows(work, [_table.c.id.in_(list(ids))], ascending=False, limit=len(ids))


def count_activities(work: Work, filters: ActivityFilter | None = None) -> int:
    """How many live activities `filters` lets through (what `list_activities` pages over)."""
    query = (
        select(func.count())
        .select_from(_table)
        .where(_table.c.deleted.is_(False), *_conditions(filters, work.backend))
    )
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        return int(conn.execute(query).scalar_one())


def oldest_activities(
    work: Work, filters: ActivityFilter | None = None, *, limit: int, offset: int = 0
) -> list[ActivityRow]:
    """The last `limit` rows of the Log's order (the oldest activities), newest first: the End key.

    `offset` skips that many of the oldest rows first: a jump into the back half of the Log counts
    from the end, so no position costs more than half the list (a negative offset is 0).
    """
    conditions = _conditions(filters, work.backend)
    return _rows(work, conditions, ascending=True, limit=limit, offset=max(0, offset))
