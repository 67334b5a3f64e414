"""The dashboard's and the engagement funnel's results, and how they are made from rows, with
neither SQLAlchemy, SQLModel nor pydantic: the `Store` reads the rows (store/dashboard.py,
store/tracks.py), so does the light store at start (store/light.py, through the driver alone),
and both make them into the same cards here (tests/store/test_light.py holds them equal).

The rows come typed as the `Store` reads them: dates as dates, JSON columns parsed. The JSON of
stage models (`stages`) and of initiatives (`providers`) is read as it is stored: it was
validated when it was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dxfield.domain.dates import fiscal_year_of
from dxfield.domain.enums import ActionStatus, ProviderRole

MONTHS = 12
OPEN_STATUSES = (ActionStatus.planned.value, ActionStatus.in_progress.value)
"""The statuses of an action still to be done (store/followups.py's)."""


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


@dataclass(frozen=True)
class FunnelModel:
    """The stage model a funnel counts through: what the funnel shows of it."""

    id: str
    key: str
    name: str
    name_en: str
    builtin: bool


@dataclass(frozen=True)
class FunnelStage:
    """How many communities stand at one stage of a model."""

    key: str
    label: str
    label_en: str
    count: int


@dataclass(frozen=True)
class Funnel:
    """Communities per stage of one model, over all its live tracks."""

    model: FunnelModel
    not_started: int
    stages: list[FunnelStage]


# -- the window ------------------------------------------------------------------------------------


def window(latest: dt.date | None, today: dt.date) -> int:
    """The 年度 to show: today's, unless it has no live activity; then the 年度 of `latest`, the
    latest live activity before today's 年度 ends (None: there is none)."""
    return fiscal_year_of(latest) if latest is not None else fiscal_year_of(today)


def window_end(today: dt.date) -> dt.date:
    """The day after today's 年度: activities from then on (planned ones) choose no window."""
    return dt.date(fiscal_year_of(today) + 1, 4, 1)


def as_of(fiscal_year: int, today: dt.date) -> dt.date:
    """What days in a stage count to: today, or the last day of `fiscal_year` when that is a
    past one (a store of older records: not the days since, as of the clock)."""
    return today if fiscal_year == fiscal_year_of(today) else dt.date(fiscal_year + 1, 3, 31)


def month_starts(fiscal_year: int) -> list[dt.date]:
    """The first days of the 年度's twelve months, April first, plus the next April 1 (the end
    of the last one)."""
    index = fiscal_year * 12 + 3  # April of `fiscal_year`, counted in months
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index, index + MONTHS + 1)]


# -- the rows made into cards ----------------------------------------------------------------------


@dataclass
class Tally:
    """A card's live activities: in all, and in each month of the 年度."""

    total: int = 0
    per_month: list[int] = field(default_factory=lambda: [0] * MONTHS)


TallyKey = tuple[str | None, str | None]
"""A card's key: (initiative id, None), or (None, municipality id) outside any initiative."""


def tallies(rows: Iterable[Sequence[Any]], live_initiatives: set[str]) -> dict[TallyKey, Tally]:
    """Live activity counts per card key, from rows of (initiative id, municipality id, count,
    and the count in each of the 年度's months).

    An activity whose initiative is not a live initiative here (deleted, or not yet arrived by
    sync) counts on its municipality's card, so no activity drops out of the dashboard.
    """
    found: dict[TallyKey, Tally] = {}
    for initiative_id, municipality_id, total, *per_month in rows:
        key = (
            (initiative_id, None) if initiative_id in live_initiatives else (None, municipality_id)
        )
        if key == (None, None):
            continue  # neither a live initiative nor a municipality: no card to put it on
        tally = found.setdefault(key, Tally())
        tally.total += int(total)
        for index, n in enumerate(per_month):
            tally.per_month[index] += int(n or 0)
    return found


def action_counts(rows: Iterable[Sequence[Any]]) -> dict[str, tuple[int, int]]:
    """(open, overdue) live actions per initiative id, from rows of (initiative id, open,
    overdue)."""
    return {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}


def track_stages(
    rows: Iterable[Sequence[Any]],
    today: dt.date,
    as_of_date: dt.date,
    names: dict[str, tuple[str, str]],
) -> dict[str, list[TrackStage]]:
    """The live tracks of each initiative, in the kana order of their communities, from rows of
    (track id, initiative id, community id, current stage, the model's stages, the date of the
    track's latest live move); days in a stage count to `as_of_date` (to today for a move after
    it)."""
    found: dict[str, list[tuple[str, str, TrackStage]]] = {}
    for track_id, initiative_id, community_id, current, stages, moved in rows:
        stage = next((s for s in stages or [] if s["key"] == current), None) if current else None
        # A stage the model does not know (edited model, sync order) still shows its key.
        label = stage["label"] if stage else (current or "")
        label_en = (stage.get("label_en") or stage["label"]) if stage else (current or "")
        community, kana = names.get(community_id, (community_id, community_id))
        track = TrackStage(
            community=community,
            stage_key=current,
            stage_label=label,
            stage_label_en=label_en,
            days_in_stage=None
            if moved is None
            else ((as_of_date if moved <= as_of_date else today) - moved).days,
        )
        found.setdefault(initiative_id, []).append((kana, track_id, track))
    return {key: [t for _, _, t in sorted(items)] for key, items in found.items()}


def dashboard(
    fiscal_year: int,
    today: dt.date,
    names: dict[str, tuple[str, str]],
    initiatives: Sequence[Sequence[Any]],
    card_tallies: dict[TallyKey, Tally],
    actions: dict[str, tuple[int, int]],
    tracks: dict[str, list[TrackStage]],
) -> Dashboard:
    """The dashboard of `fiscal_year`: a card per live initiative (rows of id, municipality id,
    theme, title, providers), plus one per municipality with live activities outside any, in
    the kana order of their municipalities, then by title. `names`: every organization's (name,
    kana or name) by id."""
    current = fiscal_year == fiscal_year_of(today)
    starts = month_starts(fiscal_year)
    labels = [f"{s.year:04d}-{s.month:02d}" for s in starts[:MONTHS]]
    if current:
        month_index = starts.index(today.replace(day=1))
    else:  # the past 年度's last month with an activity (its March when none is on a card)
        busy = [i for i in range(MONTHS) if any(t.per_month[i] for t in card_tallies.values())]
        month_index = busy[-1] if busy else MONTHS - 1

    def card(
        initiative_id: str | None,
        municipality_id: str,
        theme: str,
        title: str,
        providers: list[tuple[str, str]],
    ) -> InitiativeCard:
        key = (initiative_id, None) if initiative_id else (None, municipality_id)
        tally = card_tallies.get(key, Tally())
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
    for initiative_id, municipality_id, theme, title, links in initiatives:
        providers = [
            (names.get(p["org_id"], (p["org_id"], ""))[0], ProviderRole(p["role"]).value)
            for p in links or []
        ]
        cards.append(card(initiative_id, municipality_id, theme, title, providers))
    for initiative_id, municipality_id in card_tallies:
        if initiative_id is None and municipality_id is not None:
            cards.append(card(None, municipality_id, "", "", []))
    cards.sort(key=lambda c: (c.municipality_kana, c.title, c.initiative_id or ""))
    return Dashboard(fiscal_year, current, as_of(fiscal_year, today), starts[month_index], cards)


def funnels(counts: Iterable[Sequence[Any]], models: Iterable[Sequence[Any]]) -> list[Funnel]:
    """Communities per stage, for each live model that has live tracks, the built-in ones first,
    then by name: from rows of (model id, current stage, tracks) and of the live models (id,
    key, name, name_en, builtin, stages)."""
    per_model: dict[str, dict[str | None, int]] = {}
    for model_id, stage, count in counts:
        per_model.setdefault(model_id, {})[stage] = int(count)
    result = []
    for model_id, key, name, name_en, builtin, stages in sorted(
        models, key=lambda m: (not m[4], m[2], m[1])
    ):
        stage_counts = per_model.get(model_id)
        if not stage_counts:
            continue
        known = {s["key"] for s in stages or []}
        result.append(
            Funnel(
                model=FunnelModel(model_id, key, name, name_en or "", bool(builtin)),
                not_started=sum(c for k, c in stage_counts.items() if k not in known),
                stages=[
                    FunnelStage(
                        s["key"],
                        s["label"],
                        s.get("label_en") or s["label"],
                        stage_counts.get(s["key"], 0),
                    )
                    for s in stages or []
                ],
            )
        )
    return result
