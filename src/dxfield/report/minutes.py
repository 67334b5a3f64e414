"""Minutes (議事録) of one activity or several, in the shape Japanese offices use; no UI here.

件名, 日時 (the date as precisely as it is known, in 和暦, with the start and end times when
given), 場所, 出席者 (the organizations taking part; the free-text participants only with
`include_personal`, since they hold people's names), 議題, 内容, 決定事項 and 今後の対応 (the
findings recorded from the activity, and the actions of its initiative set out at it, with due
dates; their owners only with `include_personal`). The place and the note are always in: they
are what minutes record (the report, a year for the prefecture, leaves them out).

After 今後の対応 come the activity's photos (写真: JPEG, PNG and WebP attachments, in the order
they were attached, each with its caption, or its file name when it has none, and when it was
taken) and its other files by name (添付資料: PDF, Office files, text). The photos and files
attached to the findings listed under 今後の対応 follow the activity's own, numbered on, each
caption naming its finding (知見：[課題] …, cut short); the finding's line there refers to them
(写真3・4). They sit in 写真 rather than between the findings: a picture as wide as the text in
the middle of a list breaks it over pages, and one 写真 section reads as one on an A4 page. Photos are the meeting's
record, as the note is: `include_personal` does not gate them (`photos=False` leaves them out).
Word and HTML embed a small copy of each (`report/photos.py`: upright, without metadata, at most
1600 pixels on its long side); Markdown lists them with their attachment ids. A photo whose file
this device does not hold, or that cannot be read as an image, is still listed, with a line
saying it cannot be shown (`Minutes.problems`): the minutes come out all the same.

A note written under the 議事録 headings of `store/note_templates.py` (in Japanese or English)
is split by them: each section goes under its own heading here, text before the first heading
and sections under other headings under 内容. Without any of those headings the whole note is
内容. A note's own 出席者 section names people: it is shown only with `include_personal`.

Three formats: Word (python-docx; A4, 游明朝 for East Asian text with MS 明朝 as its
alternative name in the font table), one self-contained HTML file that prints to A4, and
Markdown. What an activity holds is input from anyone who could write it (a bundle from
another device): HTML escapes it (Jinja2's autoescape), Markdown escapes its marks
(`render.md`), Word drops the characters XML 1.0 cannot hold instead of failing on them.

The words are Japanese whatever the user's language (context "minutes" of the catalogue), as
the report's are: the minutes are a document for a municipal office.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dxfield import clock
from dxfield.domain.dates import (
    fiscal_year_label,
    fiscal_year_of,
    format_date,
    parse_dated,
    period_end,
    to_wareki,
)
from dxfield.domain.enums import ActionStatus, DatePrecision
from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import ActivityRead
from dxfield.i18n import N_, about, gettext, pgettext, problems, quote
from dxfield.report.content import wareki_month
from dxfield.report.photos import (
    MINUTES_SIDE,
    SmallCopy,
    small_copy,
)
from dxfield.store.activities import activity_names, all_activities, get_activity
from dxfield.store.engine import Store
from dxfield.store.followups import list_actions, list_findings, list_initiatives
from dxfield.store.note_templates import HEADINGS
from dxfield.store.organizations import resolve_municipality
from dxfield.store.pictures import is_photo
from dxfield.store.unit import Work, unit_of

MINUTES_LANGUAGE = "ja"
"""The minutes are handed to a municipal office: Japanese, whatever the interface says."""
FORMATS = ("docx", "html", "md")
SUFFIXES = {"docx": ".docx", "html": ".html", "md": ".md"}

PROBLEMS = problems(
    {
        "minutes.unknown_format": N_("format must be one of: {choices}"),
        "minutes.nothing_asked": N_(
            "give activity ids, or --municipality with --month; nothing was written"
        ),
        "minutes.ids_and_month": N_(
            "give activity ids or --municipality with --month, not both; nothing was written"
        ),
        "minutes.month_needs_municipality": N_(
            "--month and --municipality go together; nothing was written"
        ),
        "minutes.nothing_matched": N_(
            "no activity of {municipality} in {period}; nothing was written"
        ),
        "minutes.exists": N_("{path} already exists; nothing was written (--force writes over it)"),
    }
)

PAGE_MM = (210, 297)
MARGINS_MM = {"top": 30, "bottom": 25, "left": 25, "right": 25}


def _words() -> dict[str, str]:
    """Every word the minutes say, by a short key (the templates and the Word writer share it)."""
    return {
        "minutes": pgettext("minutes", "Minutes", MINUTES_LANGUAGE),
        "subject": pgettext("minutes", "Subject", MINUTES_LANGUAGE),
        "when": pgettext("minutes", "Date and time", MINUTES_LANGUAGE),
        "place": pgettext("minutes", "Place", MINUTES_LANGUAGE),
        "attendees": pgettext("minutes", "Attendees", MINUTES_LANGUAGE),
        "agenda": pgettext("minutes", "Agenda", MINUTES_LANGUAGE),
        "content": pgettext("minutes", "Discussion", MINUTES_LANGUAGE),
        "decisions": pgettext("minutes", "Decisions", MINUTES_LANGUAGE),
        "next_steps": pgettext("minutes", "Next steps", MINUTES_LANGUAGE),
        "category": pgettext("minutes", "Category", MINUTES_LANGUAGE),
        "name": pgettext("minutes", "Name", MINUTES_LANGUAGE),
        "organization": pgettext("minutes", "Organization", MINUTES_LANGUAGE),
        "participants": pgettext("minutes", "Participants", MINUTES_LANGUAGE),
        "head_count": pgettext("minutes", "Head count", MINUTES_LANGUAGE),
        "people": pgettext("minutes", "{count} people", MINUTES_LANGUAGE),
        "none": pgettext("minutes", "(none recorded)", MINUTES_LANGUAGE),
        "action": pgettext("minutes", "Action", MINUTES_LANGUAGE),
        "owner": pgettext("minutes", "Owner", MINUTES_LANGUAGE),
        "due": pgettext("minutes", "Due", MINUTES_LANGUAGE),
        "status": pgettext("minutes", "Status", MINUTES_LANGUAGE),
        "in_brackets": pgettext("minutes", "{text} ({details})", MINUTES_LANGUAGE),
        "finding": pgettext("minutes", "[{kind}] {text}", MINUTES_LANGUAGE),
        "weekday": pgettext("minutes", "{date} ({weekday})", MINUTES_LANGUAGE),
        "date_times": pgettext("minutes", "{date} {times}", MINUTES_LANGUAGE),
        "from_to": pgettext("minutes", "{start}-{end}", MINUTES_LANGUAGE),
        "from": pgettext("minutes", "from {start}", MINUTES_LANGUAGE),
        "until": pgettext("minutes", "until {end}", MINUTES_LANGUAGE),
        "scope": pgettext("minutes", "{municipality} {period}", MINUTES_LANGUAGE),
        "written_on": pgettext("minutes", "Written on {date}", MINUTES_LANGUAGE),
        "separator": pgettext("minutes", ", ", MINUTES_LANGUAGE),
        "photos": pgettext("minutes", "Photos", MINUTES_LANGUAGE),
        "files": pgettext("minutes", "Attached documents", MINUTES_LANGUAGE),
        "photo": pgettext("minutes", "Photo {number}: {caption}", MINUTES_LANGUAGE),
        "taken": pgettext("minutes", "taken {when}", MINUTES_LANGUAGE),
        "photo_missing": pgettext(
            "minutes",
            "(this device does not hold the file: the photo cannot be shown)",
            MINUTES_LANGUAGE,
        ),
        "photo_damaged": pgettext(
            "minutes",
            "(the file kept on this device is damaged: the photo cannot be shown)",
            MINUTES_LANGUAGE,
        ),
        "photo_unreadable": pgettext(
            "minutes",
            "(the file cannot be read as an image: the photo cannot be shown)",
            MINUTES_LANGUAGE,
        ),
        "attachment_id": pgettext("minutes", "attachment {id}", MINUTES_LANGUAGE),
        "of_finding": pgettext("minutes", "finding: {finding}", MINUTES_LANGUAGE),
        "photo_refs": pgettext("minutes", "photo {numbers}", MINUTES_LANGUAGE),
        "number_separator": pgettext("minutes", "/", MINUTES_LANGUAGE),
    }


# -- what the minutes hold --------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesAction:
    """A next step of the activity's initiative."""

    text: str
    due: str
    """In the Japanese era (wareki), or "" for none."""
    status: str
    owner: str
    """Only with include_personal."""


@dataclass(frozen=True)
class MinutesPhoto:
    """A photo attached to the activity, or to one of its findings."""

    attachment_id: str
    file_name: str
    label: str
    """Its number and caption (or file name), its finding, and when it was taken (the words:
    `_words`)."""
    image: bytes | None = None
    """A small JPEG copy (`report/photos.py`); None for Markdown, and when there is a problem."""
    width: int = 0
    height: int = 0
    """The copy's size in pixels."""
    problem: str = ""
    """Why it cannot be shown ("missing", "damaged", "unreadable"), or empty."""
    problem_text: str = ""
    """The line the minutes say in its place, or empty."""
    finding_id: str = ""
    """The finding it is attached to, or empty for the activity's own."""

    @property
    def data_uri(self) -> str:
        """The copy as a `data:` URI, for HTML."""
        return SmallCopy(self.image).data_uri


@dataclass(frozen=True)
class MinutesFile:
    """Another file attached to the activity or one of its findings (a PDF, an Office file, a
    text), listed by name."""

    attachment_id: str
    label: str
    """Its name, and its caption (and its finding) in brackets when it has one."""


@dataclass(frozen=True)
class MinutesFinding:
    """A finding recorded from the activity."""

    kind: str
    text: str
    id: str = ""
    photos: str = ""
    """The numbers of its photos in the minutes (the words `photo_refs`), or empty."""


@dataclass
class NoteSections:
    """An activity's note, split by the 議事録 headings (each a list of blocks of text)."""

    when: list[str] = field(default_factory=list)
    place: list[str] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MinutesEntry:
    """One activity's minutes."""

    activity_id: str
    date: dt.date
    start_time: str
    title: str
    kind: str
    municipality: str
    when: str
    """The date in the Japanese era as precisely as it is known, and the times when given."""
    location: str
    organizations: list[str]
    head_count: int | None
    participants_text: str
    """Only with include_personal."""
    notes: NoteSections
    findings: list[MinutesFinding]
    actions: list[MinutesAction]
    photos: list[MinutesPhoto] = field(default_factory=list)
    files: list[MinutesFile] = field(default_factory=list)


@dataclass(frozen=True)
class Minutes:
    """The minutes of one or more activities, ready to be written."""

    entries: list[MinutesEntry]
    include_personal: bool
    written_on: str
    """The day they were made, in the Japanese era."""
    scope: str = ""
    """What a selection covered (a municipality and a month), empty for activities given by
    id."""

    @property
    def title(self) -> str:
        """The document's title: 議事録, and the one activity's title or the selection."""
        words = _words()
        if len(self.entries) == 1:
            return words["in_brackets"].format(text=words["minutes"], details=self.entries[0].title)
        if self.scope:
            return words["in_brackets"].format(text=words["minutes"], details=self.scope)
        return words["minutes"]

    @property
    def problems(self) -> list[tuple[MinutesEntry, MinutesPhoto]]:
        """The photos that cannot be shown, with their activities (for a warning)."""
        return [(e, p) for e in self.entries for p in e.photos if p.problem]


# -- the note's sections --------------------------------------------------------------------------

_HEADING_LINE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SECTION_KEYS = ("when", "place", "attendees", "agenda", "content", "decisions", "next_steps")


def _heading_keys() -> dict[str, str]:
    """Each 議事録 heading, in English and in Japanese, to the section it starts."""
    keys = {}
    for key, heading in zip(_SECTION_KEYS, HEADINGS, strict=True):
        for lang in ("en", "ja"):
            keys[_fold(gettext(heading, lang))] = key
    return keys


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().strip(":").strip().casefold()


def split_note(notes: str) -> NoteSections:
    """The note's sections under the 議事録 headings; without any of them, all of it is 内容.

    Text before the first heading, and under other headings (kept as their first line), goes
    to 内容; a section left empty (the template's heading, not filled in) is dropped."""
    keys = _heading_keys()
    sections = NoteSections()
    blocks: list[tuple[str, list[str]]] = [("content", [])]
    found = False
    for line in notes.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        match = _HEADING_LINE.match(line)
        if match:
            key = keys.get(_fold(match[2]))
            if key is not None:
                found = True
                blocks.append((key, []))
                continue
            blocks.append(("content", [match[2]]))
            continue
        blocks[-1][1].append(line)
    if not found:
        text = notes.strip("\n")
        if text.strip():
            sections.content.append(text)
        return sections
    for key, lines in blocks:
        text = "\n".join(lines).strip("\n")
        if text.strip():
            getattr(sections, key).append(text)
    return sections


_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_SUBHEADING = re.compile(r"^\s{0,3}#{1,6}\s+")


def plain_note(text: str) -> str:
    """A note's text for Word and HTML, which show it as text: a Markdown list item starts with
    ・ (as Japanese documents mark one), **strong** and __strong__ lose their marks, and a
    heading inside a section its #. Nothing else changes (the Markdown output escapes the
    note as typed instead)."""
    item = pgettext("minutes", "• {text}", MINUTES_LANGUAGE)
    lines = []
    for line in text.split("\n"):
        line = _SUBHEADING.sub("", line)
        if bullet := _BULLET.match(line):
            line = bullet[1] + item.format(text=line[bullet.end() :])
        lines.append(_EMPHASIS.sub(lambda m: m[2], line))
    return "\n".join(lines)


# -- gathering --------------------------------------------------------------------------------


def _weekday(value: dt.date) -> str:
    """The day of the week, as the minutes abbreviate it (月 for Monday)."""
    names = (
        pgettext("minutes", "Mon", MINUTES_LANGUAGE),
        pgettext("minutes", "Tue", MINUTES_LANGUAGE),
        pgettext("minutes", "Wed", MINUTES_LANGUAGE),
        pgettext("minutes", "Thu", MINUTES_LANGUAGE),
        pgettext("minutes", "Fri", MINUTES_LANGUAGE),
        pgettext("minutes", "Sat", MINUTES_LANGUAGE),
        pgettext("minutes", "Sun", MINUTES_LANGUAGE),
    )
    return names[value.weekday()]


def when_text(activity: ActivityRead) -> str:
    """日時 as the minutes write it: 令和6年10月3日（木） 14:00～16:00, 令和6年10月, 令和6年度..."""
    words = _words()
    precision = activity.date_precision
    if precision is DatePrecision.day:
        text = to_wareki(activity.date)
        if text != activity.date.isoformat():
            text = words["weekday"].format(date=text, weekday=_weekday(activity.date))
    elif precision is DatePrecision.fiscal_year:
        text = fiscal_year_label(fiscal_year_of(activity.date))
    elif precision is DatePrecision.month:
        text = wareki_month(activity.date)
    else:  # early, mid or late in a month: 令和6年10月上旬
        whole = format_date(activity.date, precision.value, MINUTES_LANGUAGE)
        month = format_date(activity.date, "month", MINUTES_LANGUAGE)
        text = wareki_month(activity.date) + whole.removeprefix(month)
    start, end = activity.start_time, activity.end_time
    times = ""
    if start and end:
        times = words["from_to"].format(start=start, end=end)
    elif start:
        times = words["from"].format(start=start)
    elif end:
        times = words["until"].format(end=end)
    return words["date_times"].format(date=text, times=times) if times else text


def _day(value: dt.date | None) -> str:
    return to_wareki(value) if value else ""


def taken_text(taken_at: str | None) -> str:
    """When a photo was taken, as the minutes write it (令和6年10月15日　14:32), or "" when
    unknown (or not a date and time: a record from another device is not trusted to be one)."""
    if not taken_at:
        return ""
    try:
        moment = dt.datetime.fromisoformat(taken_at)
    except ValueError:
        return ""
    date = to_wareki(moment.date())
    return _words()["date_times"].format(date=date, times=moment.strftime("%H:%M"))


FINDING_NAME_LIMIT = 30
"""A photo's caption names its finding by at most this many characters of its text."""


def finding_name(finding: MinutesFinding) -> str:
    """A finding as a photo's caption names it: its kind and the start of its text, on one
    line ([課題] 紙の申請書が多く…)."""
    text = " ".join(finding.text.split())
    if len(text) > FINDING_NAME_LIMIT:
        text = text[:FINDING_NAME_LIMIT] + "…"
    return _words()["finding"].format(kind=finding.kind, text=text)


def _attachments(
    work: Work,
    activity_ids: Sequence[str],
    findings: dict[str, list[MinutesFinding]],
    *,
    photos: bool,
    images: bool,
) -> dict[str, tuple[list[MinutesPhoto], list[MinutesFile], list[MinutesFinding]]]:
    """Each activity's photos (with a small copy of each when `images`, else only whether
    this device holds its file) and other files, then those of its `findings`, numbered on;
    photos left out unless `photos`. With them, the activity's findings, each saying the
    numbers of its photos."""
    from dxfield.store.attachments import attachments_of

    words = _words()
    found: dict[str, tuple[list[MinutesPhoto], list[MinutesFile], list[MinutesFinding]]] = {}
    with unit_of(work, write=False) as unit:
        kept = unit.store.blobs
        for activity_id in activity_ids:
            shown: list[MinutesPhoto] = []
            files: list[MinutesFile] = []
            named: list[MinutesFinding] = []
            owners: list[MinutesFinding | None] = [None, *findings.get(activity_id, [])]
            for finding in owners:
                first = len(shown)
                details = (
                    [words["of_finding"].format(finding=finding_name(finding))] if finding else []
                )
                for attachment in attachments_of(unit, finding.id if finding else activity_id):
                    caption = attachment.caption or attachment.file_name
                    if not is_photo(attachment.media_type):
                        label = attachment.file_name
                        extra = ([caption] if attachment.caption else []) + details
                        if extra:
                            label = words["in_brackets"].format(
                                text=label, details=words["separator"].join(extra)
                            )
                        files.append(MinutesFile(attachment.id, label))
                        continue
                    if not photos:
                        continue
                    label = words["photo"].format(number=len(shown) + 1, caption=caption)
                    extra = list(details)
                    if taken := taken_text(attachment.taken_at):
                        extra.append(words["taken"].format(when=taken))
                    if extra:
                        label = words["in_brackets"].format(
                            text=label, details=words["separator"].join(extra)
                        )
                    if images:
                        copy = small_copy(kept, attachment.sha256, MINUTES_SIDE)
                    else:
                        # Not a hash (from another device) is not held either.
                        held = kept.has(attachment.sha256, unit.conn)
                        copy = SmallCopy(None, problem=None if held else "missing")
                    problem = copy.problem or ""
                    shown.append(
                        MinutesPhoto(
                            attachment_id=attachment.id,
                            file_name=attachment.file_name,
                            label=label,
                            image=copy.jpeg,
                            width=copy.width,
                            height=copy.height,
                            problem=problem,
                            problem_text=words[f"photo_{problem}"] if problem else "",
                            finding_id=finding.id if finding else "",
                        )
                    )
                if finding is None:
                    continue
                numbers = words["number_separator"].join(
                    str(n) for n in range(first + 1, len(shown) + 1)
                )
                refs = words["photo_refs"].format(numbers=numbers) if numbers else ""
                named.append(replace(finding, photos=refs))
            found[activity_id] = (shown, files, named)
    return found


def _entry(
    work: Work, activity: ActivityRead, findings: list[MinutesFinding],
    actions: list[MinutesAction], include_personal: bool,
    attachments: tuple[list[MinutesPhoto], list[MinutesFile]] = ([], []),
) -> MinutesEntry:  # fmt: skip
    names = activity_names(work, activity)
    notes = split_note(activity.notes)
    if not include_personal:
        notes.attendees = []  # a note's 出席者 names people
    return MinutesEntry(
        activity_id=activity.id,
        date=activity.date,
        start_time=activity.start_time or "",
        title=activity.title,
        kind=activity.kind.label(MINUTES_LANGUAGE),
        municipality=names.municipality,
        when=when_text(activity),
        location=activity.location,
        organizations=list(dict.fromkeys(n for n in names.participants if n)),
        head_count=activity.participants.head_count,
        participants_text=activity.participants.text if include_personal else "",
        notes=notes,
        findings=findings,
        actions=actions,
        photos=attachments[0],
        files=attachments[1],
    )


def _set_out_on(as_of: dt.date, activities: list[ActivityRead]) -> ActivityRead | None:
    """The activity an action was set out at: the last of its initiative's `activities` (in
    date order) held on or before the action's as-of date."""
    chosen = None
    for activity in activities:
        if activity.date <= as_of:
            chosen = activity
    return chosen


def build_minutes(
    work: Work,
    activity_ids: Sequence[str],
    *,
    include_personal: bool = False,
    scope: str = "",
    photos: bool = True,
    images: bool = True,
) -> Minutes:
    """The minutes of the activities (ids or unique prefixes), in date order, from one state of
    the store. An action of an activity's initiative is listed under the activity it was set out
    at: the initiative's last activity (of the whole store) held on or before the action's
    as-of date (or the day it was recorded); it is left out when that activity is not one of
    these, and when it was dropped.

    Photos are in unless `photos` is False; `images=False` (for Markdown, which lists them)
    makes no copy of them, and only looks whether this device holds their files."""
    with unit_of(work, write=False) as unit:
        activities: dict[str, ActivityRead] = {}
        for given in activity_ids:
            activity = get_activity(unit, given)
            activities.setdefault(activity.id, activity)
        ordered = sorted(
            activities.values(), key=lambda a: (a.date, a.start_time or "", a.title, a.id)
        )
        wanted = set(activities)
        findings: dict[str, list[MinutesFinding]] = {}
        for finding in list_findings(unit, recorded_order=True):
            if finding.activity_id in wanted:
                findings.setdefault(finding.activity_id, []).append(
                    MinutesFinding(finding.kind.label(MINUTES_LANGUAGE), finding.text, finding.id)
                )
        by_initiative: dict[str, list[ActivityRead]] = {}
        initiatives = {a.initiative_id for a in ordered if a.initiative_id}
        if initiatives:
            # The initiatives' activities since the first of these: an action's own meeting
            # may be one of them that the minutes do not cover.
            for activity in all_activities(unit, date_from=ordered[0].date):
                if activity.initiative_id in initiatives:
                    by_initiative.setdefault(activity.initiative_id, []).append(activity)
        actions: dict[str, list[MinutesAction]] = {}
        for item in list_actions(unit, recorded_order=True):
            action = item.action
            if action.initiative_id not in by_initiative or action.status is ActionStatus.dropped:
                continue
            as_of = action.as_of or clock.japan_date(action.created_at)
            target = _set_out_on(as_of, by_initiative[action.initiative_id])
            if target is None or target.id not in wanted:
                continue
            actions.setdefault(target.id, []).append(
                MinutesAction(
                    text=action.text,
                    due=_day(action.due),
                    status=action.status.label(MINUTES_LANGUAGE),
                    owner=action.owner if include_personal else "",
                )
            )
        attached = _attachments(
            unit, [a.id for a in ordered], findings, photos=photos, images=images
        )
        entries = [
            _entry(unit, a, attached[a.id][2], actions.get(a.id, []), include_personal,
                   attached[a.id][:2])
            for a in ordered
        ]  # fmt: skip
    return Minutes(entries, include_personal, to_wareki(clock.today()), scope)


def select_activities(
    work: Work, municipality: str, period: str, *, today: dt.date | None = None
) -> tuple[list[str], str]:
    """The ids of the live activities of `municipality` (by their own municipality or their
    initiative's) held within `period` (a month, 2024-10 or 令和6年10月; a 年度; a day), in
    date order, and the scope's words (多可町 令和6年10月). An activity known only by a wider
    period than the one asked for (its 年度, asked a month) is left out."""
    with about("municipality"):
        municipality_id = resolve_municipality(work, municipality)
    with about("date"):
        dated = parse_dated(period, today=today or clock.today())
    first = dated.date
    last = period_end(first, dated.precision)
    precision = str(dated.precision)
    if precision == "fiscal_year":
        label = fiscal_year_label(first.year)
    elif precision == "day":
        label = to_wareki(first)
    else:
        label = wareki_month(first)
    with unit_of(work, write=False) as unit:
        places = {s.initiative.id: s.initiative.municipality_id for s in list_initiatives(unit)}
        from dxfield.store.organizations import list_organizations

        name = next(
            (o.name for o in list_organizations(unit) if o.id == municipality_id), municipality
        )
        ids = [
            a.id
            for a in all_activities(unit, date_from=first, date_to=last)
            if municipality_id in (a.municipality_id, places.get(a.initiative_id or ""))
            and period_end(a.date, a.date_precision.value) <= last
        ]
    if not ids:
        raise LocalizedError("minutes.nothing_matched", municipality=quote(name), period=label)
    return ids, _words()["scope"].format(municipality=name, period=label)


# -- writing ------------------------------------------------------------------------------------


def check_format(fmt: str) -> str:
    """`fmt` lower-cased, if it is one of FORMATS."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise LocalizedError("minutes.unknown_format", field="format", choices=", ".join(FORMATS))
    return fmt


def file_name(minutes: Minutes, fmt: str) -> str:
    """A file name from the first activity's date and title (or the selection), e.g.
    議事録-2024-10-03-多可町保健福祉DXヒアリング.docx; made safe for any file system."""
    from dxfield.store.files import safe_name_part

    first = minutes.entries[0]
    what = minutes.scope if minutes.scope and len(minutes.entries) > 1 else first.title
    if len(minutes.entries) > 1 and not minutes.scope:
        what = f"{first.title}-{len(minutes.entries)}"
    what = safe_name_part(re.sub(r"\s+", "-", what))
    stem = f"{_words()['minutes']}-{first.date.isoformat()}-{what}"
    return stem + SUFFIXES[fmt]


def render(minutes: Minutes, fmt: str) -> bytes:
    """The minutes in `fmt` (docx, html or md), as the bytes of the file."""
    fmt = check_format(fmt)
    if fmt == "docx":
        from dxfield.report.minutes_docx import render_docx

        return render_docx(minutes, _words())
    from dxfield.report.render import template_environment

    env = template_environment(autoescape=fmt == "html")
    template = env.get_template(f"minutes.{fmt}.j2")
    text = template.render(m=minutes, w=_words(), plain=plain_note)
    if fmt == "md":
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text.encode("utf-8")


def write_minutes(
    store: Store, minutes: Minutes, out: Path, fmt: str, *, force: bool = False
) -> Path:
    """Write the minutes to `out` atomically (a failed write leaves no half file), never over
    what the data folder holds, and over an existing file only with `force`."""
    from dxfield.store import maintenance

    data = render(minutes, fmt)
    if not force and os.path.lexists(out):
        raise LocalizedError("minutes.exists", field="out", path=quote(str(out), 160))
    maintenance.write_atomically(store, out, data)
    return out
