"""Initiatives, findings and actions (今後の取組方針): the follow-through of the field log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from dxfield import clock
from dxfield.domain.enums import ActionStatus, FindingKind, SupportArea
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import ActionRead, FindingRead, InitiativeRead
from dxfield.i18n import N_, about, problems
from dxfield.store import organizations, revisions
from dxfield.store.board import OPEN_STATUSES as OPEN_STATUSES  # the dashboard's too
from dxfield.store.records import ACTIONS, ACTIVITIES, FINDINGS, INITIATIVES
from dxfield.store.unit import Unit, Work, unit_of

PROBLEMS = problems({"action.dropped_not_done": N_("a dropped action cannot be marked done")})

_initiatives = revisions.table_for("initiative")
_findings = revisions.table_for("finding")
_actions = revisions.table_for("action")
_orgs = revisions.table_for("organization")


@dataclass(frozen=True)
class InitiativeSummary:
    """An initiative with its municipality's and providers' names, for lists."""

    initiative: InitiativeRead
    municipality: str
    municipality_kana: str
    providers: list[tuple[str, str]]


def list_initiatives(work: Work, *, municipality: str | None = None) -> list[InitiativeSummary]:
    """Live initiatives, in the kana order of their municipality."""
    query = select(_initiatives).where(_initiatives.c.deleted.is_(False))
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        if municipality:
            muni_id = organizations.find_organization_id(
                conn, municipality, kinds=organizations.LOCAL_GOVERNMENT
            )
            query = query.where(_initiatives.c.municipality_id == muni_id)
        rows = conn.execute(query).mappings().all()
        names = {
            row.id: (row.name, row.kana or row.name)
            for row in conn.execute(select(_orgs.c.id, _orgs.c.name, _orgs.c.kana))
        }
    result = []
    for row in rows:
        initiative = INITIATIVES.to_read(row)
        name, kana = names.get(initiative.municipality_id, ("", ""))
        providers = [
            (names.get(link.org_id, (link.org_id, ""))[0], link.role.value)
            for link in initiative.providers
        ]
        result.append(InitiativeSummary(initiative, name, kana, providers))
    result.sort(key=lambda s: (s.municipality_kana, s.initiative.title, s.initiative.id))
    return result


def _initiative_id(unit: Unit, text: str | None) -> str | None:
    if text is None:
        return None
    with about("initiative"):
        return INITIATIVES.resolve(unit, text)


def add_finding(
    work: Work,
    *,
    kind: str,
    text: str,
    initiative: str | None = None,
    activity: str | None = None,
    area: str | None = None,
    date: str | None = None,
) -> FindingRead:
    """Record a finding, optionally tied to an initiative, an activity and a support area."""
    with unit_of(work, write=True) as unit:
        data: dict[str, Any] = {
            "kind": FindingKind.parse_field(kind, "kind"),
            "text": text,
            "initiative_id": _initiative_id(unit, initiative),
            "area": SupportArea.parse_field(area, "area") if area else None,
            "date": date,
        }
        if activity:
            source = ACTIVITIES.get(unit, activity)
            data["activity_id"] = source.id
            data["initiative_id"] = data["initiative_id"] or source.initiative_id
        return FINDINGS.create(unit, data)


def edit_finding(
    work: Work,
    finding_id: str,
    *,
    kind: str | None = None,
    text: str | None = None,
    initiative: str | None = None,
    activity: str | None = None,
    area: str | None = None,
    date: str | None = None,
) -> tuple[FindingRead, bool]:
    """Change the given fields of a finding; an empty string clears an optional one.

    Returns (finding, whether anything changed).
    """
    changes: dict[str, Any] = {}
    with unit_of(work, write=True) as unit:
        if kind is not None:
            changes["kind"] = FindingKind.parse_field(kind, "kind")
        if text is not None:
            changes["text"] = text
        if initiative is not None:
            changes["initiative_id"] = _initiative_id(unit, initiative) if initiative else None
        if activity is not None:
            changes["activity_id"] = ACTIVITIES.get(unit, activity).id if activity else None
        if area is not None:
            changes["area"] = SupportArea.parse_field(area, "area") if area else None
        if date is not None:
            changes["date"] = date or None
        return FINDINGS.edit(unit, finding_id, changes)


def list_findings(
    work: Work,
    *,
    initiative: str | None = None,
    kind: str | None = None,
    area: str | None = None,
    recorded_order: bool = False,
) -> list[FindingRead]:
    """Live findings, newest first (or in the order they were recorded)."""
    query = select(_findings).where(_findings.c.deleted.is_(False))
    if kind:
        query = query.where(_findings.c.kind == FindingKind.parse_field(kind, "kind").value)
    if area:
        query = query.where(_findings.c.area == SupportArea.parse_field(area, "area").value)
    if recorded_order:
        query = query.order_by(_findings.c.hlc, work.backend.arrival_order(_findings))
    else:
        query = query.order_by(_findings.c.date.desc(), _findings.c.id)
    with unit_of(work, write=False) as unit:
        if initiative:
            query = query.where(_findings.c.initiative_id == _initiative_id(unit, initiative))
        rows = unit.conn.execute(query).mappings().all()
    return [FINDINGS.to_read(row) for row in rows]


def add_action(
    work: Work,
    *,
    text: str,
    initiative: str | None = None,
    owner: str | None = None,
    due: str | None = None,
    as_of: str | None = None,
    status: str | None = None,
) -> ActionRead:
    """Record a next step; as-of defaults to today."""
    with unit_of(work, write=True) as unit:
        data: dict[str, Any] = {
            "text": text,
            "initiative_id": _initiative_id(unit, initiative),
            "owner": owner,
            "due": due,
            "as_of": as_of or unit.today(),
            "status": ActionStatus.parse_field(status, "status")
            if status
            else ActionStatus.planned,
        }
        return ACTIONS.create(unit, data)


def edit_action(
    work: Work,
    action_id: str,
    *,
    text: str | None = None,
    initiative: str | None = None,
    owner: str | None = None,
    due: str | None = None,
    as_of: str | None = None,
    status: str | None = None,
) -> tuple[ActionRead, bool]:
    """Change the given fields of an action; an empty string clears an optional one.

    Returns (action, whether anything changed).
    """
    changes: dict[str, Any] = {}
    with unit_of(work, write=True) as unit:
        if text is not None:
            changes["text"] = text
        if initiative is not None:
            changes["initiative_id"] = _initiative_id(unit, initiative) if initiative else None
        if owner is not None:
            changes["owner"] = owner
        if due is not None:
            changes["due"] = due or None
        if as_of is not None:
            changes["as_of"] = as_of or None
        if status is not None:
            changes["status"] = ActionStatus.parse_field(status, "status")
        return ACTIONS.edit(unit, action_id, changes)


@dataclass(frozen=True)
class ActionItem:
    """An action with whether it is overdue as of a day."""

    action: ActionRead
    overdue: bool


def list_actions(
    work: Work,
    *,
    initiative: str | None = None,
    status: str | None = None,
    open_only: bool = False,
    today: dt.date | None = None,
    recorded_order: bool = False,
) -> list[ActionItem]:
    """Live actions, due soonest first (undated last) or in the order they were recorded, each
    marked overdue when it is."""
    today = today or clock.today()
    query = select(_actions).where(_actions.c.deleted.is_(False))
    if status:
        query = query.where(_actions.c.status == ActionStatus.parse_field(status, "status").value)
    if open_only:
        query = query.where(_actions.c.status.in_(OPEN_STATUSES))
    if recorded_order:
        query = query.order_by(_actions.c.hlc, work.backend.arrival_order(_actions))
    else:
        query = query.order_by(_actions.c.due.is_(None), _actions.c.due, _actions.c.id)
    with unit_of(work, write=False) as unit:
        if initiative:
            query = query.where(_actions.c.initiative_id == _initiative_id(unit, initiative))
        rows = unit.conn.execute(query).mappings().all()
    items = []
    for row in rows:
        action = ACTIONS.to_read(row)
        is_open = action.status in (ActionStatus.planned, ActionStatus.in_progress)
        items.append(ActionItem(action, bool(is_open and action.due and action.due < today)))
    return items


def complete_action(work: Work, action_id: str) -> tuple[ActionRead, bool]:
    """Mark an action done; (record, whether it changed)."""
    with unit_of(work, write=True) as unit:
        current = ACTIONS.get(unit, action_id)
        if current.status is ActionStatus.done:
            return current, False
        if current.status is ActionStatus.dropped:
            raise LocalizedError("action.dropped_not_done", field="status")
        return ACTIONS.edit(unit, current.id, {"status": ActionStatus.done})
