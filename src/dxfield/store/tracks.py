"""Consensus-building as first-class records: stage models, engagement tracks and stage moves.

A track follows one community (an organization: a district, a school, a farmers' group) through
a stage model, 豊岡市's four stages by default. A move, forward or back, is a `stage_move`
record with its date, a note and the activities that are its evidence; the track's
`current_stage` changes in the same transaction, through the one revision write path, so a sync
carries both. A move forward needs evidence unless the caller says there is none on purpose.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from dxfield import clock
from dxfield.domain.enums import OrgKind
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.domain.records import (
    ActivityRead,
    EngagementTrackRead,
    Stage,
    StageModelRead,
    StageMoveRead,
)
from dxfield.i18n import N_, about, problems, quote
from dxfield.store import board, organizations, records, revisions
from dxfield.store.activities import (
    ActivityFilter,
    ActivityInput,
    ActivityRow,
    list_activities,
    new_activity_content,
    rows_by_ids,
)
from dxfield.store.board import Funnel as Funnel  # re-exported, as is the next
from dxfield.store.board import FunnelStage as FunnelStage
from dxfield.store.dashboard import as_of_date
from dxfield.store.files import read_text_file
from dxfield.store.ids import new_id, reference_id
from dxfield.store.records import ACTIVITIES, STAGE_MODELS, STAGE_MOVES, TRACKS
from dxfield.store.stage_models import TOYOOKA_MODEL
from dxfield.store.unit import Unit, Work, unit_of

PROBLEMS = problems(
    {
        "track.no_model": N_("no stage model {value} (give its key or id)"),
        "track.model_not_toml": N_("{path} is not valid TOML: {detail}"),
        "track.model_unknown_fields": N_("unknown fields in the stage model: {fields}"),
        "track.model_key_taken": N_("the stage model key {value} is taken"),
        "track.already_followed": N_(
            "{value} is already followed through this stage model ({track})"
        ),
        "track.not_found": N_("no engagement track {value} (give its id or its community's name)"),
        "track.none_for_community": N_("{value} has no engagement track"),
        "track.several_for_community": N_(
            "{value} has more than one engagement track; give the track's id"
        ),
        "track.deleted": N_("engagement track {value} has been deleted"),
        "track.no_such_stage": N_("no stage {value} in this model; choose one of: {choices}"),
        "track.already_at_stage": N_("the community is already at stage {value}"),
        "track.evidence_deleted": N_("evidence activity {value} has been deleted"),
        "track.no_evidence": N_("a move forward needs evidence activities"),
        "track.move_before_last": N_("the move is dated before the track's last move ({date})"),
        "track.no_move": N_("{value} has no move to take back"),
        "track.stage_changed": N_(
            "the track is no longer at the stage its last move reached ({stage}): it is at "
            "{current} (changed by a sync or a conflict's choice); move it instead"
        ),
        "track.not_last_move": N_(
            "only the track's last move can be taken back: it has moved since ({date}, to {stage})"
        ),
    }
)

_models = revisions.table_for("stage_model")
_tracks = revisions.table_for("engagement_track")
_moves = revisions.table_for("stage_move")
_activities = revisions.table_for("activity")
_orgs = revisions.table_for("organization")
_initiatives = revisions.table_for("initiative")

DEFAULT_MODEL_KEY: str = TOYOOKA_MODEL["key"]
COMMUNITY_KINDS = tuple(k for k in OrgKind if k not in organizations.LOCAL_GOVERNMENT)


# -- stage models --------------------------------------------------------------------------------


def list_stage_models(work: Work) -> list[StageModelRead]:
    """Live stage models: the built-in ones first, then by name."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        rows = conn.execute(select(_models).where(_models.c.deleted.is_(False))).mappings().all()
    models = [STAGE_MODELS.to_read(row) for row in rows]
    return sorted(models, key=lambda m: (not m.builtin, m.name, m.key))


def _model_id(conn: Connection, text: str) -> str:
    """A live stage model named by its key or its id."""
    found = conn.execute(
        select(_models.c.id).where(_models.c.key == text.strip(), _models.c.deleted.is_(False))
    ).scalar()
    if found:
        return str(found)
    try:
        return records.resolve_id(conn, "stage_model", text)
    except NotFound:
        raise NotFound("track.no_model", field="model", value=quote(text)) from None


def get_stage_model(work: Work, text: str) -> StageModelRead:
    """A live stage model by key or id."""
    with unit_of(work, write=False) as unit:
        return STAGE_MODELS.get(unit, _model_id(unit.conn, text))


def read_stage_model_file(path: Path) -> dict[str, Any]:
    """A stage model as written in a TOML file (see the user guide), not yet validated."""
    text = read_text_file(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LocalizedError(
            "track.model_not_toml", path=quote(str(path)), detail=str(exc)
        ) from None


def add_stage_model(work: Work, data: dict[str, Any]) -> StageModelRead:
    """Create a user-defined stage model; its key must be new among live models."""
    unknown = set(data) - {"key", "name", "name_en", "stages"}
    if unknown:
        raise LocalizedError("track.model_unknown_fields", fields=", ".join(sorted(unknown)))
    content = records.validate("stage_model", {**data, "builtin": False})
    with unit_of(work, write=True) as unit:
        taken = unit.conn.execute(
            select(_models.c.id).where(
                _models.c.key == content["key"], _models.c.deleted.is_(False)
            )
        ).scalar()
        if taken:
            raise LocalizedError("track.model_key_taken", field="key", value=quote(content["key"]))
        return STAGE_MODELS.create(unit, content)


# -- tracks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackSummary:
    """A track with what lists and boards show of it."""

    track: EngagementTrackRead
    model: StageModelRead
    community: str
    municipality: str
    initiative_title: str | None
    stage_index: int
    """Index of the current stage in the model; -1 before the first move."""
    since: dt.date | None
    """The date of the move that reached the current stage."""
    days_in_stage: int | None
    last_activity: ActivityRow | None

    @property
    def stage(self) -> Stage | None:
        """The current stage, None before the first move."""
        return self.model.stages[self.stage_index] if self.stage_index >= 0 else None


def _community_id(conn: Connection, text: str) -> str:
    with about("community"):
        return organizations.find_organization_id(conn, text, kinds=COMMUNITY_KINDS)


def add_track(
    work: Work,
    *,
    community: str,
    model: str | None = None,
    initiative: str | None = None,
) -> EngagementTrackRead:
    """Start following `community` (name, code or id) through `model` (key or id; 豊岡市's when
    None). One live track per community and model."""
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        community_id = _community_id(conn, community)
        with about("model"):
            model_id = _model_id(conn, model or DEFAULT_MODEL_KEY)
        initiative_id = None
        if initiative:
            with about("initiative"):
                initiative_id = records.resolve_id(conn, "initiative", initiative)
        existing = conn.execute(
            select(_tracks.c.id).where(
                _tracks.c.community_id == community_id,
                _tracks.c.model_id == model_id,
                _tracks.c.deleted.is_(False),
            )
        ).scalar()
        if existing:
            raise LocalizedError(
                "track.already_followed", field="community", value=quote(community), track=existing
            )
        data = {
            "model_id": model_id,
            "community_id": community_id,
            "initiative_id": initiative_id,
            "current_stage": None,
        }
        return TRACKS.create(unit, data)


def _track_id(conn: Connection, text: str) -> str:
    """A live track named by its id (or a unique part) or by its community's name."""
    try:
        return records.resolve_id(conn, "engagement_track", text)
    except NotFound:
        pass
    try:
        community_id = organizations.find_organization_id(conn, text, kinds=COMMUNITY_KINDS)
    except NotFound:
        raise NotFound("track.not_found", field="track", value=quote(text)) from None
    found = list(
        conn.execute(
            select(_tracks.c.id).where(
                _tracks.c.community_id == community_id, _tracks.c.deleted.is_(False)
            )
        ).scalars()
    )
    if len(found) == 1:
        return str(found[0])
    if not found:
        raise NotFound("track.none_for_community", field="track", value=quote(text))
    raise LocalizedError("track.several_for_community", field="track", value=quote(text))


def resolve_track(work: Work, text: str) -> str:
    """The full id of a live track named by id (or a unique part) or by its community."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        track_id = _track_id(conn, text)
        deleted = conn.execute(select(_tracks.c.deleted).where(_tracks.c.id == track_id)).scalar()
    if deleted:
        raise NotFound("track.deleted", field="track", value=quote(text))
    return track_id


def _last_moves(conn: Connection, track_ids: Sequence[str]) -> dict[str, StageMoveRead]:
    """The latest live move of each track: by date, then by when it was written."""
    rows = conn.execute(
        select(_moves)
        .where(_moves.c.track_id.in_(track_ids), _moves.c.deleted.is_(False))
        .order_by(_moves.c.track_id, _moves.c.date, _moves.c.hlc)
    ).mappings()
    return {row["track_id"]: STAGE_MOVES.to_read(row) for row in rows}


def list_tracks(
    work: Work,
    *,
    model: str | None = None,
    initiative: str | None = None,
    municipality: str | None = None,
    today: dt.date | None = None,
    track_ids: Sequence[str] | None = None,
) -> list[TrackSummary]:
    """Live tracks, by model, then furthest stage first, then community (kana order).

    Days in a stage count to the dashboard's as-of date (`dashboard.as_of_date`): today, or the
    end of the last 年度 with activities when this one has none yet; a move after that date
    counts to today."""
    today = today or clock.today()
    query = select(_tracks).where(_tracks.c.deleted.is_(False))
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        if model:
            with about("model"):
                query = query.where(_tracks.c.model_id == _model_id(conn, model))
        if initiative:
            with about("initiative"):
                initiative_id = records.resolve_id(conn, "initiative", initiative)
            query = query.where(_tracks.c.initiative_id == initiative_id)
        if track_ids is not None:
            query = query.where(_tracks.c.id.in_(track_ids))
        tracks = [TRACKS.to_read(row) for row in conn.execute(query).mappings()]
        as_of = as_of_date(conn, today)
        ids = [t.id for t in tracks]
        moves = _last_moves(conn, ids)
        models = {
            row["id"]: STAGE_MODELS.to_read(row)
            for row in conn.execute(
                select(_models).where(_models.c.id.in_({t.model_id for t in tracks}))
            ).mappings()
        }
        orgs = {
            row.id: row
            for row in conn.execute(
                select(_orgs.c.id, _orgs.c.name, _orgs.c.kana, _orgs.c.parent_id)
            )
        }
        initiatives = {
            row.id: row
            for row in conn.execute(
                select(_initiatives.c.id, _initiatives.c.title, _initiatives.c.municipality_id)
            )
        }
        last_activity = {
            community_id: next(iter(community_activities(unit, community_id, limit=1)), None)
            for community_id in {t.community_id for t in tracks}
        }
        municipality_id = (
            organizations.resolve_municipality(unit, municipality) if municipality else None
        )
    result = []
    for track in tracks:
        org = orgs.get(track.community_id)
        initiative_row = initiatives.get(track.initiative_id) if track.initiative_id else None
        place_id = initiative_row.municipality_id if initiative_row else (org and org.parent_id)
        if municipality_id and place_id != municipality_id:
            continue
        model_record = models[track.model_id]
        keys = [s.key for s in model_record.stages]
        index = keys.index(track.current_stage) if track.current_stage in keys else -1
        move = moves.get(track.id)
        since = move.date if move is not None else None
        result.append(
            TrackSummary(
                track=track,
                model=model_record,
                community=org.name if org else track.community_id,
                municipality=orgs[place_id].name if place_id in orgs else "",
                initiative_title=initiative_row.title if initiative_row else None,
                stage_index=index,
                since=since,
                days_in_stage=((as_of if since <= as_of else today) - since).days
                if since
                else None,
                last_activity=last_activity[track.community_id],
            )
        )
    kana = {key: (row.kana or row.name) for key, row in orgs.items()}
    result.sort(
        key=lambda s: (
            not s.model.builtin,
            s.model.name,
            -s.stage_index,
            kana.get(s.track.community_id, s.community),
        )
    )
    return result


def get_track(work: Work, text: str, *, today: dt.date | None = None) -> TrackSummary:
    """One live track, named by id or by its community."""
    with unit_of(work, write=False) as unit:
        track_id = resolve_track(unit, text)
        return list_tracks(unit, today=today, track_ids=[track_id])[0]


def stage_index(model: StageModelRead, key: str | None) -> int:
    """Where `key` stands in `model` (-1 for None); an unknown key is refused naming the keys."""
    if key is None:
        return -1
    keys = [s.key for s in model.stages]
    if key not in keys:
        raise LocalizedError(
            "track.no_such_stage", field="stage", value=quote(key), choices=", ".join(keys)
        )
    return keys.index(key)


def move_track(
    work: Work,
    track: str,
    *,
    to: str,
    evidence: Sequence[str] = (),
    date: str | dt.date | None = None,
    note: str = "",
    no_evidence: bool = False,
    today: dt.date | None = None,
) -> StageMoveRead:
    """Move a track to the stage `to`, forward or back, as of `date` (today by default).

    A move forward needs at least one evidence activity unless `no_evidence` says there is none
    on purpose; a move back needs none. The move and the track's new stage are written in one
    transaction.
    """
    with unit_of(work, write=True) as unit:
        return _write_move(
            unit,
            track,
            to=to,
            evidence=evidence,
            date=date if date is not None else (today or unit.today()),
            note=note,
            no_evidence=no_evidence,
        )


def add_activity_advancing(
    work: Work, given: ActivityInput, *, track: str, to: str, note: str = ""
) -> tuple[ActivityRead, StageMoveRead]:
    """Log an activity and, in the same unit of work, move `track` to `to` with the activity as
    its evidence, dated as the activity. Either both are saved or neither."""
    with unit_of(work, write=True) as unit:
        activity = ACTIVITIES.create(unit, new_activity_content(unit, given))
        move = _write_move(
            unit,
            track,
            to=to,
            evidence=[activity.id],
            date=activity.date,
            note=note,
            no_evidence=False,
        )
        return activity, move


def _live_track(conn: Connection, track: str) -> EngagementTrackRead:
    """The live track `track` names (its id or its community's name); refused when deleted."""
    track_id = _track_id(conn, track)
    row = conn.execute(select(_tracks).where(_tracks.c.id == track_id)).mappings().one()
    if row["deleted"]:
        raise NotFound("track.deleted", field="track", value=quote(track))
    return TRACKS.to_read(row)


def _write_move(
    unit: Unit,
    track: str,
    *,
    to: str,
    evidence: Sequence[str],
    date: str | dt.date,
    note: str,
    no_evidence: bool,
) -> StageMoveRead:
    """Check and write a stage move and the track's new stage in the unit; the move."""
    conn = unit.conn
    current = _live_track(conn, track)
    track_id = current.id
    model = STAGE_MODELS.to_read(
        conn.execute(select(_models).where(_models.c.id == current.model_id)).mappings().one()
    )
    target = stage_index(model, to.strip())
    here = stage_index(model, current.current_stage)
    if target == here:
        raise LocalizedError("track.already_at_stage", field="stage", value=quote(to))
    evidence_ids: list[str] = []
    for text in evidence:
        with about("evidence"):
            activity_id = records.resolve_id(conn, "activity", text)
        deleted = conn.execute(
            select(_activities.c.deleted).where(_activities.c.id == activity_id)
        ).scalar()
        if deleted:
            raise NotFound("track.evidence_deleted", field="evidence", value=quote(text))
        if activity_id not in evidence_ids:
            evidence_ids.append(activity_id)
    if target > here and not evidence_ids and not no_evidence:
        raise LocalizedError("track.no_evidence", field="evidence")
    content = records.validate(
        "stage_move",
        {
            "track_id": track_id,
            "from_stage": current.current_stage,
            "to_stage": model.stages[target].key,
            "date": date,
            "evidence_ids": evidence_ids,
            "note": note,
        },
    )
    last = _last_moves(conn, [track_id]).get(track_id)
    if last is not None and dt.date.fromisoformat(content["date"]) < last.date:
        raise LocalizedError("track.move_before_last", field="date", date=last.date.isoformat())
    move_id = new_id()
    revisions.write_record(unit, "stage_move", move_id, content)
    track_content = records.validate(
        "engagement_track",
        {**current.model_dump(mode="json"), "current_stage": content["to_stage"]},
    )
    revisions.write_record(unit, "engagement_track", track_id, track_content)
    return STAGE_MOVES.get(unit, move_id)


def take_back_move(work: Work, track: str, *, move_id: str | None = None) -> StageMoveRead:
    """Take back the track's last move: the move is deleted and the track goes back to the stage
    it left, in one transaction, both as new revisions (history keeps the move and its taking
    back, and both sync). `move_id`, when given, must be that last move (the app's undo names
    the move it offers to take back; another made since is not taken back in its place).
    Returns the move taken back."""
    with unit_of(work, write=True) as unit:
        conn = unit.conn
        current = _live_track(conn, track)
        track_id = current.id
        last = _last_moves(conn, [track_id]).get(track_id)
        if last is None:
            raise NotFound("track.no_move", field="track", value=quote(track))
        if move_id is not None and last.id != move_id:
            raise LocalizedError(
                "track.not_last_move",
                field="track",
                date=last.date.isoformat(),
                stage=last.to_stage,
            )
        if current.current_stage != last.to_stage:
            # Another device's version of the track won since: taking the move back would put
            # the track somewhere unrelated to where it stands.
            raise LocalizedError(
                "track.stage_changed",
                field="track",
                stage=last.to_stage,
                current=current.current_stage or "—",
            )
        revisions.write_record(unit, "stage_move", last.id, None, deleted=True)
        track_content = records.validate(
            "engagement_track",
            {**current.model_dump(mode="json"), "current_stage": last.from_stage},
        )
        revisions.write_record(unit, "engagement_track", track_id, track_content)
        return last


def track_moves(work: Work, track_id: str) -> list[StageMoveRead]:
    """A track's live moves, newest first."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        rows = conn.execute(
            select(_moves)
            .where(_moves.c.track_id == track_id, _moves.c.deleted.is_(False))
            .order_by(_moves.c.date.desc(), _moves.c.hlc.desc())
        ).mappings()
        return [STAGE_MOVES.to_read(row) for row in rows]


def community_activities(work: Work, community_id: str, *, limit: int = 200) -> list[ActivityRow]:
    """The newest live activities the community took part in (is among the participants)."""
    return list_activities(work, ActivityFilter(participant_id=community_id), limit=limit)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a track's timeline: a stage move or an activity."""

    date: dt.date
    kind: Literal["move", "activity"]
    move: StageMoveRead | None = None
    activity: ActivityRow | None = None
    evidence: bool = False
    """For an activity: it is the evidence of a move."""


def timeline(work: Work, track: str) -> tuple[TrackSummary, list[TimelineEntry]]:
    """A track and its moves and its community's activities together, newest first.

    Evidence activities are shown even when the community is not among their participants.
    On the same day a move comes before (above) the activities that led to it.
    """
    with unit_of(work, write=False) as unit:
        summary = get_track(unit, track)
        moves = track_moves(unit, summary.track.id)
        evidence_ids = {i for move in moves for i in move.evidence_ids}
        community = summary.track.community_id
        activities = {row.id: row for row in community_activities(unit, community)}
        missing = [i for i in evidence_ids if i not in activities]
        activities.update({row.id: row for row in rows_by_ids(unit, missing)})
    entries = [TimelineEntry(m.date, "move", move=m) for m in moves] + [
        TimelineEntry(a.date, "activity", activity=a, evidence=a.id in evidence_ids)
        for a in activities.values()
    ]
    entries.sort(key=lambda e: (e.date, e.kind == "move"), reverse=True)
    return summary, entries


def funnel(work: Work) -> list[Funnel]:
    """Communities per stage, for each live model that has live tracks (store/board.py makes
    them, for the light store too): the built-in models first, then by name."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        counts = conn.execute(
            select(_tracks.c.model_id, _tracks.c.current_stage, func.count())
            .where(_tracks.c.deleted.is_(False))
            .group_by(_tracks.c.model_id, _tracks.c.current_stage)
        ).all()
        models = conn.execute(
            select(
                _models.c.id,
                _models.c.key,
                _models.c.name,
                _models.c.name_en,
                _models.c.builtin,
                _models.c.stages,
            ).where(_models.c.deleted.is_(False))
        ).all()
    return board.funnels(counts, models)


def builtin_model_id() -> str:
    """The id of 豊岡市's built-in model (the same in every store)."""
    return reference_id("stage_model", DEFAULT_MODEL_KEY)
