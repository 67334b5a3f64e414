"""The content of each synced record, validated.

These SQLModel (pydantic) base classes hold the fields a user writes; `store.schema` adds the sync
columns and makes tables of them, and `XRead` models add the same columns for readers. Validators
here turn what people type (和暦 dates, full-width digits, spaces) into canonical values and raise
`LocalizedError`s that name the field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from contextvars import ContextVar
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from dxfield.domain.codes import validate_code
from dxfield.domain.dates import parse_date
from dxfield.domain.enums import (
    ActionStatus,
    ActivityKind,
    DatePrecision,
    FindingKind,
    InitiativeStatus,
    OrgKind,
    ProviderRole,
    SupportArea,
)
from dxfield.domain.errors import LocalizedError  # (and registers the value.* codes)
from dxfield.domain.file_names import WINDOWS_DEVICE_NAMES, is_device_name  # noqa: F401
from dxfield.i18n import N_, about, problems, quote

PROBLEMS = problems(
    {
        "text.too_long": N_("is too long ({count:,}; at most {limit:,})"),
        "text.control_character": N_("holds a control character ({character})"),
        "text.empty": N_("must not be empty"),
        "time.unreadable": N_("cannot read {value} as a time (e.g. {example})"),
        "number.negative": N_("must be 0 or more"),
        "key.invalid": N_(
            "{value} is not a valid key (a-z, 0-9, - and _, up to {limit} characters)"
        ),
        "activity.no_place": N_("needs a municipality or an initiative"),
        "stage_model.no_stages": N_("needs at least one stage, with unique keys"),
        "attachment.bad_owner": N_(
            "{value}: a file can be attached only to an activity or a finding"
        ),
        "attachment.bad_file_name": N_("{value} is not a file name (no folders in it)"),
        "attachment.unsafe_file_name": N_(
            "{value} is not a name every computer opens safely (not a name Windows reserves, no "
            "':', no dot or space at its end, not the name an erased file keeps)"
        ),
        "attachment.name_not_type": N_(
            "{value} does not end as a file of its type does ({expected})"
        ),
        "attachment.bad_type": N_(
            "{value} is not a type of file that can be attached (photos, PDF, Word, Excel, "
            "PowerPoint, text)"
        ),
        "attachment.too_large": N_("is too large ({size:,} bytes; at most {limit} MB)"),
        "attachment.bad_hash": N_("{value} is not a SHA-256 (64 hexadecimal digits)"),
        "attachment.bad_taken_at": N_("cannot read {value} as a date and time"),
        "purge.bad_attachment_id": N_("{value} is not an attachment's id"),
    }
)

KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
"""Keys of stage models and stages."""

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What no text may hold: C0 and C1 controls, DEL, and the bidi embeddings, overrides and
isolates (they make text read otherwise than it is)."""
_CONTROLS_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""The same, less the newline and the tab that a multi-line text keeps."""

_FROM_STORE: ContextVar[bool] = ContextVar("from_store", default=False)
"""True while a read model is built from a stored row: what is stored was checked when it was
written, under the rules of its day, and must stay readable when the rules grow stricter (a
title with a character refused today is shown escaped, not made unreadable)."""


MAX_LINE_CHARS = 1_000
"""The longest a one-line text (a title, a name, a place) may be."""
MAX_TEXT_CHARS = 100_000
"""The longest a multi-line text (notes, a finding) may be: some fifty pages."""
_AREA_ORDER = {area: n for n, area in enumerate(SupportArea)}
"""The areas' order, as the enum lists them (a record keeps its areas in it)."""
MAX_ITEMS = 1_000
"""The most ids or tags a list in a record may hold."""


def _too_long(count: int, limit: int, field: str) -> LocalizedError:
    return LocalizedError("text.too_long", field=field, count=count, limit=limit)


def at_most(values: list[Any], field: str, limit: int = MAX_ITEMS) -> list[Any]:
    """`values`, or an error naming `field` when there are more than `limit` of them."""
    if len(values) > limit and not _FROM_STORE.get():
        raise _too_long(len(values), limit, field)
    return values


def clean_text(
    value: Any,
    field: str,
    *,
    required: bool = False,
    multiline: bool = False,
    strip: bool = True,
) -> str:
    """Text as stored: stripped, line ends unified, no control characters (terminal escapes, and
    the bidi overrides that make text read otherwise than it is), and not longer than MAX_LINE_CHARS (MAX_TEXT_CHARS for multi-line fields).

    Newlines and tabs are allowed only in multi-line fields (notes, background, text).
    `strip=False` keeps the spaces and blank lines around the text (a note template: where
    the note's cursor lands after its last heading is part of it).
    """
    text = "" if value is None else str(value)
    if _FROM_STORE.get():
        return text
    limit = MAX_TEXT_CHARS if multiline else MAX_LINE_CHARS
    if len(text) > 2 * limit:  # before any work on it: a bundle may carry megabytes
        raise _too_long(len(text), limit, field)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if strip:
        text = text.strip()
    if len(text) > limit:
        raise _too_long(len(text), limit, field)
    found = (_CONTROLS_MULTILINE if multiline else _CONTROLS).search(text)
    if found is not None:
        code = ord(found.group())
        raise LocalizedError("text.control_character", field=field, character=f"U+{code:04X}")
    if required and not text:
        raise LocalizedError("text.empty", field=field)
    return text


def _optional_text(value: Any, field: str) -> str | None:
    return clean_text(value, field) or None


def _optional_date(value: Any, field: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    with about(field):
        return parse_date(value)


def _time(value: Any, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        return dt.time.fromisoformat(text if len(text) > 4 else text.zfill(5)).strftime("%H:%M")
    except ValueError:
        raise LocalizedError(
            "time.unreadable", field=field, value=quote(value), example="13:30"
        ) from None


class ProviderLink(BaseModel):
    """A support provider and its role in an initiative."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    role: ProviderRole


class Participants(BaseModel):
    """Who took part: organizations, a head count, free text (names stay in the text)."""

    # A factory, not `[]`: pydantic deep-copies a mutable default for every model it makes (in a
    # table import's profile, for every activity given without participants).
    organization_ids: list[str] = Field(default_factory=list)
    head_count: int | None = None
    text: str = ""

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return clean_text(value, "participants", multiline=True)

    @field_validator("organization_ids")
    @classmethod
    def _organizations(cls, value: list[str]) -> list[str]:
        return at_most(value, "participants")

    @field_validator("head_count")
    @classmethod
    def _non_negative(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise LocalizedError("number.negative", field="head_count")
        return value


def _key(value: Any, field: str) -> str:
    """A key people type on the command line: lower-case ASCII letters, digits, - and _."""
    text = clean_text(value, field, required=True)
    if not KEY_PATTERN.fullmatch(text) and not _FROM_STORE.get():
        raise LocalizedError("key.invalid", field=field, value=quote(text), limit=40)
    return text


class Stage(BaseModel):
    """One stage of a stage model, in both languages."""

    key: str
    label: str
    label_en: str = ""
    description: str = ""
    description_en: str = ""
    exit_criteria: str = ""
    exit_criteria_en: str = ""

    @field_validator("key", mode="before")
    @classmethod
    def _stage_key(cls, value: Any) -> str:
        return _key(value, "stages")

    @field_validator("label", mode="before")
    @classmethod
    def _label(cls, value: Any) -> str:
        return clean_text(value, "stages", required=True)

    @field_validator(
        "label_en",
        "description",
        "description_en",
        "exit_criteria",
        "exit_criteria_en",
        mode="before",
    )
    @classmethod
    def _texts(cls, value: Any) -> str:
        return clean_text(value, "stages", multiline=True)


class SyncMeta(SQLModel):
    """What every synced record carries besides its content: identity, revision, clock, author."""

    id: str = Field(primary_key=True)
    rev: str
    hlc: str
    device_id: str
    deleted: bool = Field(default=False, index=True)
    created_at: dt.datetime


class OrganizationBase(SQLModel):
    """A prefecture, municipality, provider, community, school or other body."""

    kind: OrgKind = Field(sa_type=String)
    name: str = Field(index=True)
    kana: str | None = None
    code: str | None = Field(default=None, index=True)
    parent_id: str | None = Field(default=None, index=True)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        return clean_text(value, "name", required=True)

    @field_validator("kana", mode="before")
    @classmethod
    def _kana(cls, value: Any) -> str | None:
        text = _optional_text(value, "kana")
        return unicodedata.normalize("NFKC", text) if text else None

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> str | None:
        text = _optional_text(value, "code")
        if text is None:
            return None
        with about("code"):
            return validate_code(text)


class InitiativeBase(SQLModel):
    """A municipality's DX initiative for a fiscal year, with its providers."""

    municipality_id: str = Field(index=True)
    theme: str
    title: str
    background: str = ""
    fiscal_year: int | None = None
    providers: list[ProviderLink] = Field(default_factory=list, sa_type=JSON)
    status: InitiativeStatus = Field(default=InitiativeStatus.active, sa_type=String)

    @field_validator("theme", "title", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str:
        return clean_text(value, info.field_name or "", required=True)

    @field_validator("background", mode="before")
    @classmethod
    def _background(cls, value: Any) -> str:
        return clean_text(value, "background", multiline=True)

    @field_validator("providers")
    @classmethod
    def _providers(cls, value: list[ProviderLink]) -> list[ProviderLink]:
        return at_most(value, "providers", 100)


class ActivityBase(SQLModel):
    """One entry of the field log: a meeting, workshop, hearing, visit, training..."""

    initiative_id: str | None = Field(default=None, index=True)
    municipality_id: str | None = Field(default=None, index=True)
    kind: ActivityKind = Field(sa_type=String)
    title: str
    date: dt.date
    date_precision: DatePrecision = Field(default=DatePrecision.day, sa_type=String)
    start_time: str | None = None
    end_time: str | None = None
    location: str = ""
    participants: Participants = Field(default_factory=Participants, sa_type=JSON)
    notes: str = ""
    areas: list[SupportArea] = Field(default_factory=list, sa_type=JSON)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    follow_up: bool = False

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> str:
        return clean_text(value, "title", required=True)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date:
        with about("date"):
            return parse_date(value)

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _times(cls, value: Any, info: ValidationInfo) -> str | None:
        return _time(value, info.field_name or "")

    @field_validator("location", mode="before")
    @classmethod
    def _location(cls, value: Any) -> str:
        return clean_text(value, "location")

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: Any) -> str:
        return clean_text(value, "notes", multiline=True)

    @field_validator("areas", mode="after")
    @classmethod
    def _unique_areas(cls, value: list[SupportArea]) -> list[SupportArea]:
        return sorted(set(value), key=_AREA_ORDER.__getitem__)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        if value is not None and not isinstance(value, list | tuple):
            raise LocalizedError("value.not_list", field="tags")
        if _FROM_STORE.get():
            return list(value or [])
        values = at_most(list(value or []), "tags", 100)
        tags = [clean_text(unicodedata.normalize("NFKC", str(t)), "tags") for t in values]
        return sorted({t for t in tags if t})

    @model_validator(mode="after")
    def _where(self) -> ActivityBase:
        if not self.initiative_id and not self.municipality_id:
            raise LocalizedError("activity.no_place", field="municipality")
        return self


class FindingBase(SQLModel):
    """What was learned: an outcome, insight, success or failure factor, or an issue."""

    initiative_id: str | None = Field(default=None, index=True)
    activity_id: str | None = Field(default=None, index=True)
    area: SupportArea | None = Field(default=None, sa_type=String)
    kind: FindingKind = Field(sa_type=String)
    text: str
    date: dt.date | None = None
    not_applicable: bool = False

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return clean_text(value, "text", required=True, multiline=True)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date | None:
        return _optional_date(value, "date")


class ActionBase(SQLModel):
    """A next step (今後の取組方針): who, by when, how far, as of when."""

    initiative_id: str | None = Field(default=None, index=True)
    text: str
    owner: str = ""
    due: dt.date | None = None
    status: ActionStatus = Field(default=ActionStatus.planned, sa_type=String)
    as_of: dt.date | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return clean_text(value, "text", required=True, multiline=True)

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, value: Any) -> str:
        return clean_text(value, "owner")

    @field_validator("due", "as_of", mode="before")
    @classmethod
    def _dates(cls, value: Any, info: ValidationInfo) -> dt.date | None:
        return _optional_date(value, info.field_name or "")


class StageModelBase(SQLModel):
    """An ordered set of stages that an engagement track moves through."""

    key: str = Field(index=True)
    name: str
    name_en: str = ""
    stages: list[Stage] = Field(default_factory=list, sa_type=JSON)
    builtin: bool = False

    @field_validator("key", mode="before")
    @classmethod
    def _model_key(cls, value: Any) -> str:
        return _key(value, "key")

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        return clean_text(value, "name", required=True)

    @field_validator("name_en", mode="before")
    @classmethod
    def _name_en(cls, value: Any) -> str:
        return clean_text(value, "name")

    @model_validator(mode="after")
    def _stages(self) -> StageModelBase:
        at_most(self.stages, "stages", 100)
        keys = [s.key for s in self.stages]
        if not keys or len(set(keys)) != len(keys):
            raise LocalizedError("stage_model.no_stages", field="stages")
        return self


class EngagementTrackBase(SQLModel):
    """One community followed through a stage model."""

    model_id: str = Field(index=True)
    community_id: str = Field(index=True)
    initiative_id: str | None = Field(default=None, index=True)
    current_stage: str | None = None


class StageMoveBase(SQLModel):
    """A track moving from one stage to another (forward or back), with its evidence."""

    track_id: str = Field(index=True)
    from_stage: str | None = None
    to_stage: str
    date: dt.date
    evidence_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    note: str = ""

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date:
        with about("date"):
            return parse_date(value)

    @field_validator("note", mode="before")
    @classmethod
    def _note(cls, value: Any) -> str:
        return clean_text(value, "note", multiline=True)

    @field_validator("evidence_ids")
    @classmethod
    def _evidence(cls, value: list[str]) -> list[str]:
        return at_most(value, "evidence")


ATTACHMENT_OWNERS = ("activity", "finding")
"""The kinds of record a file can be attached to."""
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
"""The largest file that can be attached (50 MiB)."""
MEDIA_TYPES = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "text/plain": (".txt", ".md", ".csv"),
}
"""The types of file that can be attached, each with the extensions it goes by (the first is the
one a saved copy is given). A photo from a phone in HEIC is kept as it came (`image/heic`)."""
MAX_FILE_NAME_CHARS = 255
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _sha256_hex(value: Any) -> str:
    """A file's SHA-256 as 64 lower-case hex digits (an attachment's, a purge's)."""
    text = "" if value is None else str(value)
    if not _FROM_STORE.get() and not _SHA256_HEX.fullmatch(text):
        raise LocalizedError("attachment.bad_hash", value=quote(text, 70))
    return text


class AttachmentBase(SQLModel):
    """A file attached to an activity or a finding: its name, type, size and caption, and its
    bytes' SHA-256, under which the blob store keeps them (store/blobs.py). The bytes travel as
    blob members of a bundle beside the record (docs/bundle-format.md)."""

    owner_type: str
    owner_id: str = Field(index=True)
    file_name: str
    media_type: str = "application/octet-stream"
    size: int
    sha256: str
    caption: str = ""
    taken_at: str | None = None
    """When a photo was taken, as its camera said (local time, `YYYY-MM-DDTHH:MM:SS`), if known."""

    @field_validator("owner_type", mode="before")
    @classmethod
    def _owner_type(cls, value: Any) -> str:
        text = clean_text(value, "owner_type")
        if not _FROM_STORE.get() and text not in ATTACHMENT_OWNERS:
            raise LocalizedError("attachment.bad_owner", value=quote(text, 40))
        return text

    @field_validator("file_name", mode="before")
    @classmethod
    def _file_name(cls, value: Any) -> str:
        text = clean_text(value, "file_name", required=True)
        if _FROM_STORE.get():
            return text
        if len(text) > MAX_FILE_NAME_CHARS:
            raise _too_long(len(text), MAX_FILE_NAME_CHARS, "file_name")
        if "/" in text or "\\" in text or text in {".", ".."}:
            raise LocalizedError("attachment.bad_file_name", value=quote(text, 60))
        # The app opens a copy under this name (tui/opener.py): it must name no device, hold no
        # NTFS stream (`a.pdf:evil`), not lose a trailing dot or space to Windows (`x.exe.`),
        # and not be the name a purge leaves (the app would show a live file as erased).
        if ":" in text or text[-1] in ". " or is_device_name(text) or text == PURGED_FILE_NAME:
            raise LocalizedError("attachment.unsafe_file_name", value=quote(text, 60))
        return text

    @field_validator("media_type", mode="before")
    @classmethod
    def _media_type(cls, value: Any) -> str:
        text = clean_text(value, "media_type")
        if not _FROM_STORE.get() and text not in MEDIA_TYPES:
            raise LocalizedError("attachment.bad_type", value=quote(text, 60))
        return text

    @field_validator("size", mode="after")
    @classmethod
    def _size(cls, value: int) -> int:
        if not _FROM_STORE.get() and not 0 <= value <= MAX_ATTACHMENT_BYTES:
            raise LocalizedError(
                "attachment.too_large", size=value, limit=MAX_ATTACHMENT_BYTES // (1024 * 1024)
            )
        return value

    @field_validator("sha256", mode="before")
    @classmethod
    def _sha256(cls, value: Any) -> str:
        return _sha256_hex(value)

    @field_validator("caption", mode="before")
    @classmethod
    def _caption(cls, value: Any) -> str:
        return clean_text(value, "caption")

    @field_validator("taken_at", mode="before")
    @classmethod
    def _taken_at(cls, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip()
        if _FROM_STORE.get():
            return text
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise LocalizedError("attachment.bad_taken_at", value=quote(text, 40)) from None
        return moment.replace(tzinfo=None, microsecond=0).isoformat()

    @model_validator(mode="after")
    def _name_of_type(self) -> AttachmentBase:
        """The name ends in one of its type's extensions (`MEDIA_TYPES`): a viewer opening it by
        name shows what it is, and `議事録.pdf.exe` sent as a PDF is no program to run."""
        if _FROM_STORE.get():
            return self
        expected = MEDIA_TYPES.get(self.media_type, ())
        if not self.file_name.lower().endswith(expected):
            raise LocalizedError(
                "attachment.name_not_type",
                field="file_name",
                value=quote(self.file_name, 60),
                expected=" / ".join(expected),
            )
        return self


PURGED_FILE_NAME = "purged"
"""The name a purged attachment's record keeps in place of its file's (store/purges.py writes
it in place, never through validation, which refuses it: no live file can take it)."""
_RECORD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class PurgeBase(SQLModel):
    """The erasure of an attachment's content on request (a resident asking for a photo of them
    to be removed): written only by the hub, one per attachment (its id follows from the
    attachment's, `store.ids.purge_id`). Every store that takes it deletes the blob `sha256` and
    the personal fields of the attachment's every version, keeping only this record: what was
    purged, by whom (its author) and when (its stamp and `created_at`), and why."""

    attachment_id: str = Field(index=True)
    sha256: str
    reason: str

    @field_validator("attachment_id", mode="before")
    @classmethod
    def _attachment_id(cls, value: Any) -> str:
        text = "" if value is None else str(value)
        if not _FROM_STORE.get() and not _RECORD_ID.fullmatch(text):
            raise LocalizedError("purge.bad_attachment_id", value=quote(text, 60))
        return text

    @field_validator("sha256", mode="before")
    @classmethod
    def _sha256(cls, value: Any) -> str:
        return _sha256_hex(value)

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return clean_text(value, "reason", required=True)


class NoteTemplateBase(SQLModel):
    """The note a new activity of one kind starts with (the 議事録's headings for a meeting).

    Its record id is fixed by its kind (`store.ids.note_template_id`): one record per kind,
    everywhere, so two devices editing a kind's template edit one record."""

    kind: ActivityKind = Field(sa_type=String)
    text: str = ""

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return clean_text(value, "text", multiline=True, strip=False)


class FromStore:
    """Read models are built from stored rows: their text validators check nothing (see
    `_FROM_STORE`), so a record stored under older rules still reads."""

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        token = _FROM_STORE.set(True)
        try:
            # mypy cannot follow super() from a mixin to the model it is mixed into.
            return super().model_validate(obj, **options)  # type: ignore[misc, no-any-return]
        finally:
            _FROM_STORE.reset(token)


class OrganizationRead(FromStore, OrganizationBase, SyncMeta):
    """An organization as readers get it."""


class InitiativeRead(FromStore, InitiativeBase, SyncMeta):
    """An initiative as readers get it."""


class ActivityRead(FromStore, ActivityBase, SyncMeta):
    """An activity as readers get it."""


class FindingRead(FromStore, FindingBase, SyncMeta):
    """A finding as readers get it."""


class ActionRead(FromStore, ActionBase, SyncMeta):
    """An action item as readers get it."""


class StageModelRead(FromStore, StageModelBase, SyncMeta):
    """A stage model as readers get it."""


class EngagementTrackRead(FromStore, EngagementTrackBase, SyncMeta):
    """An engagement track as readers get it."""


class StageMoveRead(FromStore, StageMoveBase, SyncMeta):
    """A stage move as readers get it."""


class NoteTemplateRead(FromStore, NoteTemplateBase, SyncMeta):
    """A note template as readers get it."""


class AttachmentRead(FromStore, AttachmentBase, SyncMeta):
    """Attachment metadata as readers get it."""


class PurgeRead(FromStore, PurgeBase, SyncMeta):
    """A purge as readers get it."""
