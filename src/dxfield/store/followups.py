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
from dxfield.i18n import about
from dxfield.store import organizations, records, revisions
from dxfield.store.engine import Store
from dxfield.store.sqlite_features import arrival_order

_initiatives = revisions.table_for("initiative")
_findings = revisions.table_for("finding")
_actions = revisions.table_for("action")
_orgs = revisions.table_for("organization")
OPEN_STATUSES = (ActionStatus.planned.value, ActionStatus.in_progress.value)


@dataclass(frozen=True)
class InitiativeSummary:
    """An initiative with its municipality's and providers' names, for lists."""

    initiative: InitiativeRead
    municipality: str
    municipality_kana: str
    providers: list[tuple[str, str]]


def list_initiatives(store: Store, *, municipality: str | None = None) -> list[InitiativeSummary]:
    """Live initiatives, in the kana order of their municipality."""
    query = select(_initiatives).where(_initiatives.c.deleted.is_(False))
    with store.read() as conn:
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
        initiative = InitiativeRead.model_validate(dict(row))
        name, kana = names.get(initiative.municipality_id, ("", ""))
        providers = [
            (names.get(link.org_id, (link.org_id, ""))[0], link.role.value)
            for link in initiative.providers
        ]
        result.append(InitiativeSummary(initiative, name, kana, providers))
    result.sort(key=lambda s: (s.municipality_kana, s.initiative.title, s.initiative.id))
    return result


def _initiative_id(store: Store, text: str | None) -> str | None:
    if text is None:
        return None
    with store.read() as conn, about("initiative"):
        return records.resolve_id(conn, "initiative", text)


def add_finding(
    store: Store,
    *,
    kind: str,
    text: str,
    initiative: str | None = None,
    activity: str | None = None,
    area: str | None = None,
    date: str | None = None,
) -> FindingRead:
    """Record a finding, optionally tied to an initiative, an activity and a support area."""
    data: dict[str, Any] = {
        "kind": FindingKind.parse_field(kind, "kind"),
        "text": text,
        "initiative_id": _initiative_id(store, initiative),
        "area": SupportArea.parse_field(area, "area") if area else None,
        "date": date,
    }
    if activity:
        source = records.get(store, "activity", activity)
        data["activity_id"] = source.id
        data["initiative_id"] = data["initiative_id"] or source.initiative_id
    return records.create(store, "finding", data)  # type: ignore[no-any-return]


def edit_finding(
    store: Store,
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
    if kind is not None:
        changes["kind"] = FindingKind.parse_field(kind, "kind")
    if text is not None:
        changes["text"] = text
    if initiative is not None:
        changes["initiative_id"] = _initiative_id(store, initiative) if initiative else None
    if activity is not None:
        changes["activity_id"] = records.get(store, "activity", activity).id if activity else None
    if area is not None:
        changes["area"] = SupportArea.parse_field(area, "area") if area else None
    if date is not None:
        changes["date"] = date or None
    return records.edit(store, "finding", finding_id, changes)


def list_findings(
    store: Store,
    *,
    initiative: str | None = None,
    kind: str | None = None,
    area: str | None = None,
    recorded_order: bool = False,
) -> list[FindingRead]:
    """Live findings, newest first (or in the order they were recorded)."""
    query = select(_findings).where(_findings.c.deleted.is_(False))
    if initiative:
        query = query.where(_findings.c.initiative_id == _initiative_id(store, initiative))
    if kind:
        query = query.where(_findings.c.kind == FindingKind.parse_field(kind, "kind").value)
    if area:
        query = query.where(_findings.c.area == SupportArea.parse_field(area, "area").value)
    if recorded_order:
        query = query.order_by(_findings.c.hlc, arrival_order(_findings))
    else:
        query = query.order_by(_findings.c.date.desc(), _findings.c.id)
    with store.read() as conn:
        rows = conn.execute(query).mappings().all()
    return [FindingRead.model_validate(dict(row)) for row in rows]


def add_action(
    store: Store,
    *,
    text: str,
    initiative: str | None = None,
    owner: str | None = None,
    due: str | None = None,
    as_of: str | None = None,
    status: str | None = None,
) -> ActionRead:
    """Record a next step; as-of defaults to today."""
    data: dict[str, Any] = {
        "text": text,
        "initiative_id": _initiative_id(store, initiative),
        "owner": owner,
        "due": due,
        "as_of": as_of or clock.today(),
        "status": ActionStatus.parse_field(status, "status") if status else ActionStatus.planned,
    }
    return records.create(store, "action", data)  # type: ignore[no-any-return]


def edit_action(
    store: Store,
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
    if text is not None:
        changes["text"] = text
    if initiative is not None:
        changes["initiative_id"] = _initiative_id(store, initiative) if initiative else None
    if owner is not None:
        changes["owner"] = owner
    if due is not None:
        changes["due"] = due or None
    if as_of is not None:
        changes["as_of"] = as_of or None
    if status is not None:
        changes["status"] = ActionStatus.parse_field(status, "status")
    return records.edit(store, "action", action_id, changes)


@dataclass(frozen=True)
class ActionItem:
    """An action with whether it is overdue as of a day."""

    action: ActionRead
    overdue: bool


def list_actions(
    store: Store,
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
    if initiative:
        query = query.where(_actions.c.initiative_id == _initiative_id(store, initiative))
    if status:
        query = query.where(_actions.c.status == ActionStatus.parse_field(status, "status").value)
    if open_only:
        query = query.where(_actions.c.status.in_(OPEN_STATUSES))
    if recorded_order:
        query = query.order_by(_actions.c.hlc, arrival_order(_actions))
    else:
        query = query.order_by(_actions.c.due.is_(None), _actions.c.due, _actions.c.id)
    with store.read() as conn:
        rows = conn.execute(query).mappings().all()
    items = []
    for row in rows:
        action = ActionRead.model_validate(dict(row))
        is_open = action.status in (ActionStatus.planned, ActionStatus.in_progress)
        items.append(ActionItem(action, bool(is_open and action.due and action.due < today)))
    return items


def complete_action(store: Store, action_id: str) -> tuple[ActionRead, bool]:
    """Mark an action done; (record, whether it changed)."""
    current = records.get(store, "action", action_id)
    if current.status is ActionStatus.done:
        return current, False
    if current.status is ActionStatus.dropped:
        raise LocalizedError(
            "中止した取組方針は完了にできません", "a dropped action cannot be marked done", "status"
        )
    return records.edit(store, "action", current.id, {"status": ActionStatus.done})
