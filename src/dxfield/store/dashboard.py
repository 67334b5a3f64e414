"""The dashboard: one card per initiative with its activity, action and stage figures, over a
年度 (April to March), as Japanese public bodies count.

The window follows the data: today's 年度, or when it has no activity yet, the 年度 of the latest
activity before it (a store of last year's records shows last year, not twelve empty months).
"This month" is today's month in today's 年度, or the window's last month with an activity; days
in a stage count to the as-of date, today or the end of a past 年度.

Built from a fixed handful of GROUP BY queries whatever the number of cards or activities
(one per table), so it stays fast with 100,000 activities: the monthly counts are conditional
sums over the activity table in one pass, not a query per card per month. The rows are made
into cards by store/board.py, which the light store (store/light.py) shares at start.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.engine import Connection

from dxfield.store import board, revisions
from dxfield.store.board import OPEN_STATUSES
from dxfield.store.board import Dashboard as Dashboard  # re-exported, as are the next two
from dxfield.store.board import InitiativeCard as InitiativeCard
from dxfield.store.board import TrackStage as TrackStage
from dxfield.store.unit import Work, unit_of

MONTHS = board.MONTHS
_orgs = revisions.table_for("organization")
_initiatives = revisions.table_for("initiative")
_activities = revisions.table_for("activity")
_actions = revisions.table_for("action")
_models = revisions.table_for("stage_model")
_tracks = revisions.table_for("engagement_track")
_moves = revisions.table_for("stage_move")


def _window(conn: Connection, today: dt.date) -> int:
    """The 年度 to show: today's, unless it has no live activity and an earlier one has; then
    the 年度 of the latest activity before today's 年度 ends (planned ones after it aside)."""
    latest: dt.date | None = conn.execute(
        select(func.max(_activities.c.date)).where(
            _activities.c.deleted.is_(False), _activities.c.date < board.window_end(today)
        )
    ).scalar()
    return board.window(latest, today)


def as_of_date(conn: Connection, today: dt.date) -> dt.date:
    """What days in a stage count to: today, or the last day of the 年度 the dashboard shows
    when that is a past one (a store of older records: not the days since, as of the clock)."""
    return board.as_of(_window(conn, today), today)


def _activity_rows(conn: Connection, starts: Sequence[dt.date]) -> Sequence[Any]:
    """Live activities per (initiative id, municipality id): how many, and how many in each
    month of the 年度 (`board.tallies` puts them on cards)."""
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
    return conn.execute(query).all()


def _action_rows(conn: Connection, today: dt.date) -> Sequence[Any]:
    """(initiative id, open, overdue) live actions."""
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
    return conn.execute(query).all()


def _track_rows(conn: Connection) -> Sequence[Any]:
    """The live tracks of initiatives: (id, initiative id, community id, current stage, the
    model's stages, the date of the latest live move)."""
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
            latest.c.moved,  # max() keeps the column's DATE type
        )
        .select_from(
            _tracks.outerjoin(_models, _models.c.id == _tracks.c.model_id).outerjoin(
                latest, latest.c.track_id == _tracks.c.id
            )
        )
        .where(_tracks.c.deleted.is_(False), _tracks.c.initiative_id.is_not(None))
    )
    return conn.execute(query).all()


def dashboard(work: Work, today: dt.date) -> Dashboard:
    """One card per live initiative, plus one per municipality with live activities outside any
    initiative (`initiative_id` None, empty theme and title); in the kana order of their
    municipalities, then by title. Only live records count. The window is a 年度 (see the
    module's docstring); open and overdue actions are counted as of today.
    """
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        fiscal_year = _window(conn, today)
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
        tallies = board.tallies(_activity_rows(conn, board.month_starts(fiscal_year)), live)
        actions = board.action_counts(_action_rows(conn, today))
        as_of = board.as_of(fiscal_year, today)
        tracks = board.track_stages(_track_rows(conn), today, as_of, names)
    return board.dashboard(fiscal_year, today, names, initiatives, tallies, actions, tracks)
