"""The dashboard: one card per initiative with its activity, action and stage figures.

Built from a fixed handful of GROUP BY queries whatever the number of cards or activities
(one per table), so it stays fast with 100,000 activities: the monthly counts are conditional
sums over the activity table in one pass, not a query per card per month.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.engine import Connection

from dxfield.domain.records import ProviderLink, Stage
from dxfield.store import revisions
from dxfield.store.followups import OPEN_STATUSES
from dxfield.store.unit import Work, unit_of

MONTHS = 12
_orgs = revisions.table_for("organization")
_initiatives = revisions.table_for("initiative")
_activities = revisions.table_for("activity")
_actions = revisions.table_for("action")
_models = revisions.table_for("stage_model")
_tracks = revisions.table_for("engagement_track")
_moves = revisions.table_for("stage_move")


@dataclass(frozen=True)
class TrackStage:
    """Where one community stands in its stage model."""

    community: str
    stage_key: str | None
    stage_label: str
    stage_label_en: str
    days_in_stage: int | None


@dataclass(frozen=True)
class InitiativeCard:
    """One initiative (or a municipality's activities outside any initiative) at a glance."""

    initiative_id: str | None  # None for a municipality's activities outside any initiative
    municipality_id: str
    municipality: str
    municipality_kana: str
    theme: str
    title: str
    providers: list[tuple[str, str]]  # (organization name, role key)
    activities_total: int
    activities_this_month: int
    per_month: list[tuple[str, int]]  # ("2024-07", n) for the 12 months to today's, oldest first
    open_actions: int
    overdue_actions: int
    tracks: list[TrackStage]


def _month_starts(today: dt.date, months: int = MONTHS) -> list[dt.date]:
    """The first days of the `months` months ending with today's month, oldest first, plus the
    first day of the month after (the end of the last one)."""
    index = today.year * 12 + today.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 2)]


@dataclass
class _Tally:
    total: int = 0
    per_month: list[int] = field(default_factory=lambda: [0] * MONTHS)


def _activity_tallies(
    conn: Connection, starts: Sequence[dt.date], live_initiatives: set[str]
) -> dict[tuple[str | None, str | None], _Tally]:
    """Live activity counts per card key: (initiative id, None) or (None, municipality id).

    An activity whose initiative is not a live initiative here (deleted, or not yet arrived by
    sync) counts on its municipality's card, so no activity drops out of the dashboard.
    """
    date = _activities.c.date
    months: list[ColumnElement[Any]] = [
        func.sum(case((and_(date >= start, date < end), 1), else_=0))
        for start, end in itertools.pairwise(starts)
    ]
    query = (
        select(
            _activities.c.initiative_id,
            _activities.c.municipality_id,
            func.count(),
            *months,
        )
        .where(_activities.c.deleted.is_(False))
        .group_by(_activities.c.initiative_id, _activities.c.municipality_id)
    )
    tallies: dict[tuple[str | None, str | None], _Tally] = {}
    for initiative_id, municipality_id, total, *per_month in conn.execute(query):
        key = (
            (initiative_id, None) if initiative_id in live_initiatives else (None, municipality_id)
        )
        if key == (None, None):
            continue  # neither a live initiative nor a municipality: no card to put it on
        tally = tallies.setdefault(key, _Tally())
        tally.total += int(total)
        for index, n in enumerate(per_month):
            tally.per_month[index] += int(n or 0)
    return tallies


def _action_counts(conn: Connection, today: dt.date) -> dict[str, tuple[int, int]]:
    """(open, overdue) live actions per initiative id."""
    is_open = _actions.c.status.in_(OPEN_STATUSES)
    query = (
        select(
            _actions.c.initiative_id,
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, _actions.c.due < today), 1), else_=0)),
        )
        .where(_actions.c.deleted.is_(False), _actions.c.initiative_id.is_not(None))
        .group_by(_actions.c.initiative_id)
    )
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in conn.execute(query)}


def _track_stages(
    conn: Connection, today: dt.date, names: dict[str, tuple[str, str]]
) -> dict[str, list[TrackStage]]:
    """The live tracks of each initiative, in the kana order of their communities."""
    latest = (
        select(_moves.c.track_id, func.max(_moves.c.date).label("moved"))
        .where(_moves.c.deleted.is_(False))
        .group_by(_moves.c.track_id)
        .subquery()
    )
    query = (
        select(
            _tracks.c.id,
            _tracks.c.initiative_id,
            _tracks.c.community_id,
            _tracks.c.current_stage,
            _models.c.stages,
            latest.c.moved,
        )
        .select_from(
            _tracks.outerjoin(_models, _models.c.id == _tracks.c.model_id).outerjoin(
                latest, latest.c.track_id == _tracks.c.id
            )
        )
        .where(_tracks.c.deleted.is_(False), _tracks.c.initiative_id.is_not(None))
    )
    found: dict[str, list[tuple[str, str, TrackStage]]] = {}
    for row in conn.execute(query):
        stages = {s.key: s for s in (Stage.model_validate(s) for s in row.stages or [])}
        stage = stages.get(row.current_stage) if row.current_stage else None
        # A stage the model does not know (edited model, sync order) still shows its key.
        label = stage.label if stage else (row.current_stage or "")
        label_en = (stage.label_en or stage.label) if stage else (row.current_stage or "")
        moved: dt.date | None = row.moved  # max() keeps the column's DATE type
        community, kana = names.get(row.community_id, (row.community_id, row.community_id))
        track = TrackStage(
            community=community,
            stage_key=row.current_stage,
            stage_label=label,
            stage_label_en=label_en,
            days_in_stage=(today - moved).days if moved is not None else None,
        )
        found.setdefault(row.initiative_id, []).append((kana, row.id, track))
    return {key: [t for _, _, t in sorted(items)] for key, items in found.items()}


def dashboard(work: Work, today: dt.date) -> list[InitiativeCard]:
    """One card per live initiative, plus one per municipality with live activities outside any
    initiative (`initiative_id` None, empty theme and title); in the kana order of their
    municipalities, then by title. Only live records count.
    """
    starts = _month_starts(today)
    labels = [f"{s.year:04d}-{s.month:02d}" for s in starts[:MONTHS]]
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        names: dict[str, tuple[str, str]] = {
            row.id: (row.name, row.kana or row.name)
            for row in conn.execute(select(_orgs.c.id, _orgs.c.name, _orgs.c.kana))
        }
        initiatives = conn.execute(
            select(
                _initiatives.c.id,
                _initiatives.c.municipality_id,
                _initiatives.c.theme,
                _initiatives.c.title,
                _initiatives.c.providers,
            ).where(_initiatives.c.deleted.is_(False))
        ).all()
        live = {row.id for row in initiatives}
        tallies = _activity_tallies(conn, starts, live)
        actions = _action_counts(conn, today)
        tracks = _track_stages(conn, today, names)

    def card(
        initiative_id: str | None,
        municipality_id: str,
        theme: str,
        title: str,
        providers: list[tuple[str, str]],
    ) -> InitiativeCard:
        key = (initiative_id, None) if initiative_id else (None, municipality_id)
        tally = tallies.get(key, _Tally())
        open_actions, overdue = actions.get(initiative_id or "", (0, 0))
        name, kana = names.get(municipality_id, ("", ""))
        return InitiativeCard(
            initiative_id=initiative_id,
            municipality_id=municipality_id,
            municipality=name,
            municipality_kana=kana,
            theme=theme,
            title=title,
            providers=providers,
            activities_total=tally.total,
            activities_this_month=tally.per_month[-1],
            per_month=list(zip(labels, tally.per_month, strict=True)),
            open_actions=open_actions,
            overdue_actions=overdue,
            tracks=tracks.get(initiative_id or "", []),
        )

    cards = []
    for row in initiatives:
        links = [ProviderLink.model_validate(p) for p in row.providers or []]
        providers = [(names.get(p.org_id, (p.org_id, ""))[0], p.role.value) for p in links]
        cards.append(card(row.id, row.municipality_id, row.theme, row.title, providers))
    for initiative_id, municipality_id in tallies:
        if initiative_id is None and municipality_id is not None:
            cards.append(card(None, municipality_id, "", "", []))
    cards.sort(key=lambda c: (c.municipality_kana, c.title, c.initiative_id or ""))
    return cards
