"""What the prefecture's report says, gathered from the store for a scope; no formatting here.

The report follows the shape of the prefecture's own document (令和6年度 地域DX): the programme
overview, a table of municipalities with their themes and providers, then per municipality its
background, what was done, outcomes under the three support areas (該当なし where there are
none), findings, and 今後の取組方針 as of a date. Beyond the document it counts activities per
kind and month, shows each engagement track's stage and lists the overdue actions.

Everything is read as of `Scope.as_of`: activities up to that day, findings and actions dated
(or, undated, first recorded) by then, and each track at the stage its moves had reached. An
action's status is the one recorded last, even if that was after the as-of date. Personal
information (the free-text participants, activity notes and places, an action's owner) stays
out unless `include_personal`.

With `Scope.with_photos`, each municipality shows one or two photos attached to its latest
activities of the period (`_photos`: the first photo of the latest activity that has one, then
of the one before it; a second of the same activity only when no other has any), as small
copies (`report/photos.py`). Without it, none: photos of people are personal information, and
the report goes further than the minutes do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dxfield import clock
from dxfield.collector import collector_eased
from dxfield.domain.dates import (
    fiscal_year_label,
    fiscal_year_of,
    format_date,
    long_date,
    parse_date,
    to_wareki,
)
from dxfield.domain.enums import (
    ActivityKind,
    DatePrecision,
    FindingKind,
    OrgKind,
    ProviderRole,
    SupportArea,
)
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import (
    ActivityRead,
    FindingRead,
    InitiativeRead,
    OrganizationRead,
)
from dxfield.i18n import N_, about, pgettext, problems
from dxfield.report.photos import REPORT_SIDE, SmallCopy, activity_attachments, small_copy
from dxfield.store.activities import activity_columns, get_activity
from dxfield.store.followups import list_actions, list_findings, list_initiatives
from dxfield.store.organizations import list_organizations, resolve_municipality
from dxfield.store.pictures import is_photo
from dxfield.store.programme import get_programme, validate_fiscal_year
from dxfield.store.reading import json_reader
from dxfield.store.tracks import list_tracks, track_moves
from dxfield.store.unit import Unit, Work, unit_of

REPORT_LANGUAGE = "ja"
"""The report is the prefecture's document: its words are Japanese whatever the user's language
(the data in it is as it was typed)."""

PROBLEMS = problems(
    {"report.before_fiscal_year": N_("{date} is before fiscal year {year} begins")},
)


def not_applicable() -> str:
    """What the report says under a support area with no outcome recorded."""
    return pgettext("report", "not applicable", REPORT_LANGUAGE)


def undated() -> str:
    """The month column for activities known only by their fiscal year."""
    return pgettext("report", "month unknown", REPORT_LANGUAGE)


@dataclass(frozen=True)
class Scope:
    """Which part of the log a report covers."""

    as_of: dt.date
    fiscal_year: int
    municipality_ids: tuple[str, ...] = ()
    include_personal: bool = False
    with_photos: bool = False

    @property
    def start(self) -> dt.date:
        """The first day of the fiscal year."""
        return dt.date(self.fiscal_year, 4, 1)

    @property
    def end(self) -> dt.date:
        """The last day covered: the as-of date or the fiscal year's end, whichever is first."""
        return min(self.as_of, dt.date(self.fiscal_year + 1, 3, 31))


def make_scope(
    work: Work,
    *,
    as_of: str | dt.date | None = None,
    fiscal_year: int | None = None,
    municipalities: Sequence[str] = (),
    include_personal: bool = False,
    with_photos: bool = False,
    today: dt.date | None = None,
) -> Scope:
    """A scope from what a person gives; the rest from the as-of date, the programme, today.

    The fiscal year is the one given, else the as-of date's, else the programme's, else
    today's. Without an as-of date: today, or the fiscal year's end when it is over. An as-of
    date before the fiscal year begins is refused.
    """
    today = today or clock.today()
    given_date = None
    if as_of is not None and str(as_of).strip():
        with about("as_of"):
            given_date = parse_date(as_of, today=today)
    year = fiscal_year
    if year is None:
        year = fiscal_year_of(given_date) if given_date else get_programme(work).fiscal_year
    year = validate_fiscal_year(year) or fiscal_year_of(today)
    start = dt.date(year, 4, 1)
    date = given_date or max(start, min(today, dt.date(year + 1, 3, 31)))
    if date < start:
        raise LocalizedError(
            "report.before_fiscal_year", field="as_of", date=date.isoformat(), year=year
        )
    ids: list[str] = []
    for name in municipalities:
        municipality_id = resolve_municipality(work, name)
        if municipality_id not in ids:
            ids.append(municipality_id)
    return Scope(date, year, tuple(ids), include_personal, with_photos)


# -- what a report holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityLine:
    """One activity as the report lists it."""

    date: dt.date
    when: str
    title: str
    kind: str
    location: str
    """Only with include_personal: a place may be someone's home."""
    organizations: list[str]
    head_count: int | None
    participants_text: str
    """Only with include_personal."""
    notes: str
    """Only with include_personal, and only the first time a text appears in a section."""


@dataclass(frozen=True)
class ActivityGroup:
    """A section's activities of one kind."""

    kind: str
    activities: list[ActivityLine]


@dataclass(frozen=True)
class AreaOutcomes:
    """The outcomes under one of the three support areas."""

    area: str
    items: list[str]
    """The outcomes' texts; [`not_applicable()`] when none are recorded."""


@dataclass(frozen=True)
class FindingGroup:
    """Findings of one kind (知見, 成功要因, 失敗要因, 課題) or outcomes outside the three areas."""

    kind: str
    items: list[str]


@dataclass(frozen=True)
class ActionLine:
    """One next step of 今後の取組方針."""

    text: str
    status: str
    due: dt.date | None
    owner: str
    """Only with include_personal."""
    overdue: bool
    municipality: str = ""


@dataclass(frozen=True)
class TrackLine:
    """A community's engagement track and the stage it had reached."""

    community: str
    model: str
    stage: str
    stage_number: int
    """1 for the first stage; 0 before the first move."""
    stage_count: int
    since: dt.date | None


@dataclass(frozen=True)
class ReportPhoto:
    """A photo of one of a municipality's latest activities."""

    attachment_id: str
    file_name: str
    caption: str
    """Its caption (or file name), and the activity's date and title."""
    image: bytes | None = None
    """A small JPEG copy; None in Markdown, which lists the photos."""
    width: int = 0
    height: int = 0

    @property
    def data_uri(self) -> str:
        """The copy as a `data:` URI, for HTML."""
        return SmallCopy(self.image).data_uri


@dataclass(frozen=True)
class PhotoProblem:
    """A photo the report left out: this device does not hold its file, the file is damaged,
    or it is no image."""

    municipality: str
    attachment_id: str
    file_name: str
    problem: str
    """"missing", "damaged" or "unreadable"."""


@dataclass(frozen=True)
class Section:
    """One municipality (or the prefecture) and its initiative."""

    municipality_id: str
    municipality: str
    is_prefecture: bool
    themes: list[str]
    titles: list[str]
    background: list[str]
    representatives: list[str]
    residents: list[str]
    activity_count: int
    activity_groups: list[ActivityGroup]
    outcomes: list[AreaOutcomes]
    findings: list[FindingGroup]
    actions: list[ActionLine]
    actions_as_of: dt.date
    tracks: list[TrackLine]
    initiative_count: int
    photos: list[ReportPhoto] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderRow:
    """A row of 支援地域及び伴走支援事業者."""

    municipality: str
    theme: str
    title: str
    representatives: list[str]
    residents: list[str]


@dataclass(frozen=True)
class MonthTable:
    """Activity counts per row (a kind or a municipality) and month of the fiscal year."""

    columns: list[str]
    """Month labels (April ... March, up to the as-of month), then `undated()`."""
    rows: list[tuple[str, list[int]]]

    @property
    def totals(self) -> list[int]:
        """The count per column over all rows."""
        return [sum(col) for col in zip(*(counts for _, counts in self.rows), strict=True)] or [
            0 for _ in self.columns
        ]

    @property
    def peak(self) -> int:
        """The largest single count (for scaling charts)."""
        return max((max(counts) for _, counts in self.rows if counts), default=0)


@dataclass(frozen=True)
class FunnelLine:
    """How many communities of one stage model had reached each stage."""

    model: str
    not_started: int
    stages: list[tuple[str, int]]

    @property
    def total(self) -> int:
        """Communities followed with this model."""
        return self.not_started + sum(count for _, count in self.stages)

    @property
    def rows(self) -> list[tuple[str, int, int]]:
        """Per stage: its label, the communities at it now, and those that reached it or beyond."""
        result = []
        reached = self.total - self.not_started
        for label, count in self.stages:
            result.append((label, count, reached))
            reached -= count
        return result


@dataclass(frozen=True)
class Report:
    """Everything a report says, ready for a template."""

    title: str
    overview: list[str]
    scope: Scope
    fiscal_year_label: str
    as_of_label: str
    provider_rows: list[ProviderRow]
    sections: list[Section]
    by_kind: MonthTable
    by_municipality: MonthTable
    funnels: list[FunnelLine]
    overdue: list[ActionLine]
    photo_problems: list[PhotoProblem] = field(default_factory=list)
    """The photos left out (for a warning); the report shows the next ones instead."""

    @property
    def activity_count(self) -> int:
        """Activities in the report."""
        return sum(s.activity_count for s in self.sections)


def wareki_month(value: dt.date) -> str:
    """The month of `value` in 和暦, e.g. 令和6年10月 (the 時点 of 今後の取組方針): the 和暦 of its
    first day, without the day ("1" and its counter)."""
    first = value.replace(day=1)
    text = to_wareki(first)
    return text if text == first.isoformat() else text[:-2]


def when(activity: ActivityRead | _Listed) -> str:
    """An activity's date as precisely as it is known, the way the document writes it."""
    if activity.date_precision is DatePrecision.day:
        return long_date(activity.date)
    return format_date(activity.date, activity.date_precision.value)


# -- gathering ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Listed:
    """What the report says of one activity, kept while the rest is gathered: a year of
    activities is read one at a time and only this much of each is held (not their notes when
    personal information is left out, which is most of a record's size)."""

    id: str
    kind: ActivityKind
    date: dt.date
    date_precision: DatePrecision
    title: str
    location: str
    organization_ids: tuple[str, ...]
    head_count: int | None
    participants_text: str
    notes: str


_LISTED_COLUMNS = (
    "id", "kind", "date", "date_precision", "title", "location", "participants", "notes",
    "initiative_id", "municipality_id",
)  # fmt: skip
"""What the report reads of each activity of its year, in the order `_ListedActivities`
unpacks it."""

_KINDS = {kind.value: kind for kind in ActivityKind}
_PRECISIONS = {precision.value: precision for precision in DatePrecision}


class _ListedActivities:
    """The year's activities oldest first, each as its initiative, its municipality and its
    stored columns, read straight from the store (checked when written), not through a model
    each; `listed` makes what the report keeps of one it lists."""

    def __init__(self, work: Work, scope: Scope) -> None:
        self._work = work
        self._scope = scope
        self._json = json_reader()

    def __iter__(self) -> Iterator[tuple[str | None, str | None, tuple[Any, ...]]]:
        scope = self._scope
        for row in activity_columns(
            self._work, _LISTED_COLUMNS, date_from=scope.start, date_to=scope.end
        ):
            yield row[-2], row[-1], row

    def listed(self, row: tuple[Any, ...]) -> _Listed:
        """What the report keeps of the activity of `row`. A row that does not read as the
        store writes rows now (written under older rules) is read whole through the model
        instead, which upgrades it or says what is wrong with it."""
        record_id, kind, date, precision, title, location, people, notes = row[:8]
        personal = self._scope.include_personal
        participants = self._json(people) or {}
        made_kind, made_precision = _KINDS.get(kind), _PRECISIONS.get(precision)
        if (
            made_kind is None
            or made_precision is None
            or not isinstance(date, dt.date)
            or not isinstance(participants, dict)
        ):
            return _listed(get_activity(self._work, record_id), personal)
        return _Listed(
            id=record_id,
            kind=made_kind,
            date=date,
            date_precision=made_precision,
            title=title,
            location=location if personal else "",
            organization_ids=tuple(participants.get("organization_ids") or ()),
            head_count=participants.get("head_count"),
            participants_text=participants.get("text", "") if personal else "",
            notes=notes if personal else "",
        )


def _listed(activity: ActivityRead, include_personal: bool) -> _Listed:
    participants = activity.participants
    return _Listed(
        id=activity.id,
        kind=activity.kind,
        date=activity.date,
        date_precision=activity.date_precision,
        title=activity.title,
        location=activity.location if include_personal else "",
        organization_ids=tuple(participants.organization_ids),
        head_count=participants.head_count,
        participants_text=participants.text if include_personal else "",
        notes=activity.notes if include_personal else "",
    )


@dataclass
class _Place:
    org: OrganizationRead
    initiatives: list[InitiativeRead] = field(default_factory=list)
    activities: list[_Listed] = field(default_factory=list)


def _recorded(created_at: dt.datetime) -> dt.date:
    """The day in Japan a record was first written (created_at is stored in UTC)."""
    return clock.japan_date(created_at)


def _order(org: OrganizationRead) -> tuple[int, str, str]:
    """The prefecture first, then by local government code (the order of official lists)."""
    return (0 if org.kind is OrgKind.prefecture else 1, org.code or "999999", org.kana or org.name)


def _months(scope: Scope) -> list[dt.date]:
    first = scope.start
    months = []
    for offset in range(12):
        year, month = divmod(first.month - 1 + offset, 12)
        start = dt.date(first.year + year, month + 1, 1)
        if start > scope.end:
            break
        months.append(start)
    return months


def _month_column(activity: _Listed, months: list[dt.date]) -> int:
    """The column an activity is counted in: its month, or the last (月不明)."""
    if activity.date_precision is DatePrecision.fiscal_year:
        return len(months)
    start = activity.date.replace(day=1)
    return months.index(start) if start in months else len(months)


def _month_table(
    keys: list[str], items: list[tuple[str, _Listed]], months: list[dt.date]
) -> MonthTable:
    counts = {key: [0] * (len(months) + 1) for key in keys}
    for key, activity in items:
        counts[key][_month_column(activity, months)] += 1
    label = pgettext("report", "month {month}", REPORT_LANGUAGE)
    columns = [label.format(month=m.month) for m in months]
    columns.append(undated())
    return MonthTable(columns, [(key, counts[key]) for key in keys])


def _activity_groups(activities: list[_Listed], names: dict[str, str]) -> list[ActivityGroup]:
    by_kind: dict[ActivityKind, list[_Listed]] = {}
    for activity in activities:
        by_kind.setdefault(activity.kind, []).append(activity)
    seen_notes: set[str] = set()
    groups = []
    for kind in ActivityKind:
        lines = []
        label = kind.label(REPORT_LANGUAGE)
        for activity in by_kind.get(kind, []):
            notes = activity.notes  # empty unless personal information is included
            if notes in seen_notes:
                notes = ""
            seen_notes.add(notes)
            lines.append(
                ActivityLine(
                    date=activity.date,
                    when=when(activity),
                    title=activity.title,
                    kind=label,
                    location=activity.location,
                    organizations=[  # a deleted organization is not named by its id
                        names[i] for i in activity.organization_ids if i in names
                    ],
                    head_count=activity.head_count,
                    participants_text=activity.participants_text,
                    notes=notes,
                )
            )
        if lines:
            groups.append(ActivityGroup(label, lines))
    return groups


def _section(
    place: _Place,
    names: dict[str, str],
    findings: list[FindingRead],
    actions: list[ActionLine],
    actions_as_of: dt.date,
    tracks: list[TrackLine],
    scope: Scope,
    photos: list[ReportPhoto],
) -> Section:
    providers = [link for i in place.initiatives for link in i.providers]

    def of_role(role: ProviderRole) -> list[str]:
        return list(
            dict.fromkeys(names.get(p.org_id, p.org_id) for p in providers if p.role is role)
        )

    outcomes = []
    for area in SupportArea:
        texts = [f.text for f in findings if f.area is area and f.kind is FindingKind.outcome] or [
            f.text for f in findings if f.area is area and f.not_applicable
        ]
        outcomes.append(
            AreaOutcomes(
                area.label(REPORT_LANGUAGE), list(dict.fromkeys(texts)) or [not_applicable()]
            )
        )
    groups = []
    for kind in FindingKind:
        texts = [
            f.text
            for f in findings
            if f.kind is kind
            and not f.not_applicable
            and not (kind is FindingKind.outcome and f.area is not None)
        ]
        if texts:
            label = (
                pgettext("report", "other outcomes", REPORT_LANGUAGE)
                if kind is FindingKind.outcome
                else kind.label(REPORT_LANGUAGE)
            )
            groups.append(FindingGroup(label, list(dict.fromkeys(texts))))
    return Section(
        municipality_id=place.org.id,
        municipality=place.org.name,
        is_prefecture=place.org.kind is OrgKind.prefecture,
        themes=list(dict.fromkeys(i.theme for i in place.initiatives)),
        titles=[i.title for i in place.initiatives],
        background=[
            line for i in place.initiatives for line in i.background.splitlines() if line.strip()
        ],
        representatives=of_role(ProviderRole.representative),
        residents=of_role(ProviderRole.resident),
        activity_count=len(place.activities),
        activity_groups=_activity_groups(place.activities, names),
        outcomes=outcomes,
        findings=groups,
        actions=actions,
        actions_as_of=actions_as_of,
        tracks=tracks,
        initiative_count=len(place.initiatives),
        photos=photos,
    )


def _tracks(
    work: Work,
    scope: Scope,
    initiative_place: dict[str, _Place],
    places: dict[str, _Place],
    orgs: dict[str, OrganizationRead],
) -> tuple[dict[str, list[TrackLine]], list[FunnelLine]]:
    """Each track in scope at the stage its moves had reached by the as-of date, per place, and
    the funnel of each stage model over them."""
    per_place: dict[str, list[TrackLine]] = {}
    reached: dict[str, Counter[int]] = {}
    models = {}
    for summary in list_tracks(work, today=scope.as_of):
        track = summary.track
        community = orgs.get(track.community_id)
        if track.initiative_id:  # an initiative of another year (or place) is not reported
            target = initiative_place.get(track.initiative_id)
        else:
            target = places.get(community.parent_id or "") if community else None
        if target is None:
            continue
        moves = [m for m in track_moves(work, track.id) if m.date <= scope.as_of]
        if not moves and _recorded(track.created_at) > scope.as_of:
            continue
        keys = [stage.key for stage in summary.model.stages]
        index = keys.index(moves[0].to_stage) if moves and moves[0].to_stage in keys else -1
        per_place.setdefault(target.org.id, []).append(
            TrackLine(
                community=summary.community,
                model=summary.model.name,
                stage=summary.model.stages[index].label
                if index >= 0
                else pgettext("report", "not started", REPORT_LANGUAGE),
                stage_number=index + 1,
                stage_count=len(keys),
                since=moves[0].date if moves else None,
            )
        )
        models[summary.model.id] = summary.model
        reached.setdefault(summary.model.id, Counter())[index] += 1
    funnels = [
        FunnelLine(
            model=model.name,
            not_started=reached[key][-1],
            stages=[(stage.label, reached[key][n]) for n, stage in enumerate(model.stages)],
        )
        for key, model in models.items()
    ]
    return per_place, funnels


def _provider_rows(sections: list[Section]) -> list[ProviderRow]:
    """The table of municipalities: each with an initiative, the prefecture only with providers."""
    return [
        ProviderRow(
            s.municipality,
            " / ".join(s.themes),
            " / ".join(s.titles),
            s.representatives,
            s.residents,
        )
        for s in sections
        if s.initiative_count and (s.representatives or s.residents or not s.is_prefecture)
    ]


PHOTOS_PER_MUNICIPALITY = 2


def _photos(
    work: Work, places: list[_Place], images: bool
) -> tuple[dict[str, list[ReportPhoto]], list[PhotoProblem]]:
    """Each place's photos (`PHOTOS_PER_MUNICIPALITY` at most) from its latest activities: the
    first photo of each activity, latest first, then the others; a photo whose file is missing
    or unreadable is passed over (and told of) for the next one. Without `images`, no copy is
    made: a photo counts if this device holds its file."""
    wanted = [a.id for p in places for a in p.activities]
    attached = activity_attachments(work, wanted) if wanted else {}
    kept = work.store.blobs if isinstance(work, Unit) else work.blobs
    line = pgettext("report", "{caption} ({date}, {activity})", REPORT_LANGUAGE)
    chosen: dict[str, list[ReportPhoto]] = {}
    problems: list[PhotoProblem] = []
    for place in places:
        # Latest first; of the same date, the one known to the day (a month's is on its 1st).
        latest = sorted(
            place.activities,
            key=lambda a: (a.date, a.date_precision is DatePrecision.day),
            reverse=True,
        )
        candidates = [
            (activity, [x for x in attached.get(activity.id, []) if is_photo(x.media_type)])
            for activity in latest
        ]
        queue = [(a, photos[0]) for a, photos in candidates if photos]
        queue += [(a, photo) for a, photos in candidates for photo in photos[1:]]
        shown: list[ReportPhoto] = []
        for activity, attachment in queue:
            if len(shown) == PHOTOS_PER_MUNICIPALITY:
                break
            if images:
                copy = small_copy(kept, attachment.sha256, REPORT_SIDE)
            else:
                held = kept.has(attachment.sha256)
                copy = SmallCopy(None, problem=None if held else "missing")
            if copy.problem:
                problems.append(
                    PhotoProblem(place.org.name, attachment.id, attachment.file_name, copy.problem)
                )
                continue
            caption = line.format(
                caption=attachment.caption or attachment.file_name,
                date=when(activity),
                activity=activity.title,
            )
            shown.append(
                ReportPhoto(attachment.id, attachment.file_name, caption, copy.jpeg,
                            copy.width, copy.height)
            )  # fmt: skip
        chosen[place.org.id] = shown
    return chosen, problems


def build_report(work: Work, scope: Scope, *, images: bool = True) -> Report:
    """Gather what the report says for `scope`, from one state of the store: one reading unit
    (on a hub, imports that commit meanwhile are in none of it rather than in half of it).
    With `scope.with_photos`, `images=False` (Markdown) chooses the photos without making a
    copy of them."""
    with collector_eased(), unit_of(work, write=False) as unit:
        return _build_report(unit, scope, images)


def _build_report(work: Work, scope: Scope, images: bool = True) -> Report:
    programme = get_programme(work)
    orgs = {o.id: o for o in list_organizations(work)}
    names = {key: o.name for key, o in orgs.items()}
    wanted = set(scope.municipality_ids)
    places: dict[str, _Place] = {}

    def place(org_id: str | None) -> _Place | None:
        if not org_id or org_id not in orgs or (wanted and org_id not in wanted):
            return None
        return places.setdefault(org_id, _Place(orgs[org_id]))

    for municipality_id in scope.municipality_ids:  # each one asked for has a section
        place(municipality_id)
    for summary in list_initiatives(work):
        initiative = summary.initiative
        # An initiative without a year runs on: it is in every year since it was recorded.
        in_year = initiative.fiscal_year == scope.fiscal_year or (
            initiative.fiscal_year is None and _recorded(initiative.created_at) <= scope.end
        )
        if in_year and (target := place(initiative.municipality_id)) is not None:
            target.initiatives.append(initiative)
    initiative_place = {i.id: p for p in places.values() for i in p.initiatives}
    year = _ListedActivities(work, scope)
    for initiative_id, place_id, row in year:
        # By its initiative when that is in the report, else by its municipality.
        target = initiative_place.get(initiative_id or "") or place(place_id)
        if target is not None:
            target.activities.append(year.listed(row))
    activity_place = {a.id: p for p in places.values() for a in p.activities}

    findings: dict[str, list[FindingRead]] = {}
    for finding in list_findings(work, recorded_order=True):
        if (finding.date or _recorded(finding.created_at)) > scope.as_of:
            continue
        owner = initiative_place.get(finding.initiative_id or "") or activity_place.get(
            finding.activity_id or ""
        )
        if owner is not None:
            findings.setdefault(owner.org.id, []).append(finding)

    actions: dict[str, list[ActionLine]] = {}
    actions_as_of: dict[str, dt.date] = {}
    overdue: list[ActionLine] = []
    for item in list_actions(work, today=scope.as_of, recorded_order=True):
        action = item.action
        owner = initiative_place.get(action.initiative_id or "")
        if owner is None or (action.as_of or _recorded(action.created_at)) > scope.as_of:
            continue
        line = ActionLine(
            text=action.text,
            status=action.status.label(REPORT_LANGUAGE),
            due=action.due,
            owner=action.owner if scope.include_personal else "",
            overdue=item.overdue,
            municipality=owner.org.name,
        )
        actions.setdefault(owner.org.id, []).append(line)
        if action.as_of is not None:
            actions_as_of[owner.org.id] = max(
                actions_as_of.get(owner.org.id, action.as_of), action.as_of
            )
        if line.overdue:
            overdue.append(line)

    tracks, funnels = _tracks(work, scope, initiative_place, places, orgs)
    ordered = sorted(places.values(), key=lambda p: _order(p.org))
    photos: dict[str, list[ReportPhoto]] = {}
    photo_problems: list[PhotoProblem] = []
    if scope.with_photos:
        photos, photo_problems = _photos(work, ordered, images)
    sections = [
        _section(p, names, findings.get(p.org.id, []), actions.get(p.org.id, []),
                 actions_as_of.get(p.org.id, scope.as_of), tracks.get(p.org.id, []), scope,
                 photos.get(p.org.id, []))
        for p in ordered
    ]  # fmt: skip
    months = _months(scope)
    every = [(p.org.name, a) for p in ordered for a in p.activities]
    labels = {k: k.label(REPORT_LANGUAGE) for k in ActivityKind}
    kinds = [labels[k] for k in ActivityKind if any(a.kind is k for _, a in every)]
    return Report(
        title=programme.title,
        overview=[line for line in programme.overview.splitlines() if line.strip()],
        scope=scope,
        fiscal_year_label=fiscal_year_label(scope.fiscal_year),
        as_of_label=to_wareki(scope.as_of),
        provider_rows=_provider_rows(sections),
        sections=sections,
        by_kind=_month_table(kinds, [(labels[a.kind], a) for _, a in every], months),
        by_municipality=_month_table([p.org.name for p in ordered], every, months),
        funnels=funnels,
        overdue=sorted(overdue, key=lambda a: (a.due or scope.as_of, a.municipality)),
        photo_problems=photo_problems,
    )
