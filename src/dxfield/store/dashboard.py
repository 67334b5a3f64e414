"""The dashboard: one card per initiative with its activity, action and stage figures, over a
年度 (April to March), as Japanese public bodies count.

The window follows the data: today's 年度, or when it has no activity yet, the 年度 of the latest
activity before it (a store of last year's records shows last year, not twelve empty months).
"This month" is today's month in today's 年度, or the window's last month with an activity; days
in a stage count to the as-of date, today or the end of a past 年度.

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

from dxfield.domain.dates import fiscal_year_of
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
    """In the dashboard's month (`Dashboard.month`): today's, or the window's last with data."""
    activities_this_year: int
    """In the dashboard's fiscal year."""
    per_month: list[tuple[str, int]]  # ("2024-04", n) for the 年度's twelve months, April first
    open_actions: int
    overdue_actions: int
    tracks: list[TrackStage]


@dataclass(frozen=True)
class Dashboard:
    """The dashboard's window (a 年度) and its cards."""

    fiscal_year: int
    """The fiscal year shown, by the calendar year its April is in (2024 is Reiwa 6)."""
    current: bool
    """True when it is today's fiscal year."""
    as_of: dt.date
    """Today, or the last day of a past fiscal year: what days in a stage count to."""
    month: dt.date
    """The first day of the month the cards' `activities_this_month` count."""
    cards: list[InitiativeCard]

    @property
    def month_index(self) -> int:
        """Where `month` is in each card's `per_month` (0 is April)."""
        return (self.month.month - 4) % MONTHS


def _month_starts(fiscal_year: int) -> list[dt.date]:
    """The first days of the 年度's twelve months, April first, plus the next April 1 (the end
    of the last one)."""
    index = fiscal_year * 12 + 3  # April of `fiscal_year`, counted in months
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index, index + MONTHS + 1)]


def _window(conn: Connection, today: dt.date) -> int:
    """The 年度 to show: today's, unless it has no live activity and an earlier one has; then
    the 年度 of the latest activity before today's 年度 ends (planned ones after it aside)."""
    current = fiscal_year_of(today)
    latest: dt.date | None = conn.execute(
        select(func.max(_activities.c.date)).where(
            _activities.c.deleted.is_(False), _activities.c.date < dt.date(current + 1, 4, 1)
        )
    ).scalar()
    return fiscal_year_of(latest) if latest is not None else current


def as_of_date(conn: Connection, today: dt.date) -> dt.date:
    """What days in a stage count to: today, or the last day of the 年度 the dashboard shows
    when that is a past one (a store of older records: not the days since, as of the clock)."""
    return _as_of(_window(conn, today), today)


def _as_of(fiscal_year: int, today: dt.date) -> dt.date:
    return today if fiscal_year == fiscal_year_of(today) else dt.date(fiscal_year + 1, 3, 31)


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
    conn: Connection, today: dt.date, as_of: dt.date, names: dict[str, tuple[str, str]]
) -> dict[str, list[TrackStage]]:
    """The live tracks of each initiative, in the kana order of their communities; days in a
    stage count to `as_of` (to today for a move after it)."""
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
            days_in_stage=None
            if moved is None
            else ((as_of if moved <= as_of else today) - moved).days,
        )
        found.setdefault(row.initiative_id, []).append((kana, row.id, track))
    return {key: [t for _, _, t in sorted(items)] for key, items in found.items()}


def dashboard(work: Work, today: dt.date) -> Dashboard:
    """One card per live initiative, plus one per municipality with live activities outside any
    initiative (`initiative_id` None, empty theme and title); in the kana order of their
    municipalities, then by title. Only live records count. The window is a 年度 (see the
    module's docstring); open and overdue actions are counted as of today.
    """
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        fiscal_year = _window(conn, today)
        current = fiscal_year == fiscal_year_of(today)
        as_of = _as_of(fiscal_year, today)
        starts = _month_starts(fiscal_year)
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
        tracks = _track_stages(conn, today, as_of, names)

    labels = [f"{s.year:04d}-{s.month:02d}" for s in starts[:MONTHS]]
    if current:
        month_index = starts.index(today.replace(day=1))
    else:  # the past 年度's last month with an activity (its March when none is on a card)
        busy = [i for i in range(MONTHS) if any(t.per_month[i] for t in tallies.values())]
        month_index = busy[-1] if busy else MONTHS - 1

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
            activities_this_month=tally.per_month[month_index],
            activities_this_year=sum(tally.per_month),
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
    return Dashboard(fiscal_year, current, as_of, starts[month_index], cards)
