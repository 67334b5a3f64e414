"""The record layer: a typed repository per kind of synced record.

Each repository validates with its kind's base model (a bad value is refused naming its field
before anything is written), writes through `revisions.write_record` inside the caller's unit of
work, and reads back its kind's read model: `ACTIVITIES.get(work, id)` is an `ActivityRead`.
The functions taking a kind by name (`get(work, "activity", id)`) are for code that handles
every kind alike (merge, conflicts, restore); they return the read model as a `BaseModel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator
from sqlalchemy import Table, or_, select
from sqlalchemy.engine import Connection

from dxfield.domain import records as r
from dxfield.domain.errors import LocalizedError, NotFound, from_validation_error
from dxfield.i18n import N_, Words, problems, quote
from dxfield.store import revisions
from dxfield.store.ids import fixed_id, new_id
from dxfield.store.kinds import label as label  # re-exported
from dxfield.store.unit import Unit, Work, unit_of

ReadModel = TypeVar("ReadModel", bound=BaseModel, covariant=True)

PROBLEMS = problems(
    {
        "record.already_deleted": N_("{kind} {id} is already deleted"),
        "record.deleted": N_("{kind} {id} has been deleted"),
        "record.ambiguous_id": N_("{kind} id {value} is ambiguous; give more of it"),
        "record.not_found": N_("no {kind} with id {value}"),
    }
)


def kind_words(entity: str) -> Words:
    """What a record of `entity` is called, as an error's value (rendered when it is read)."""
    return Words(lambda lang: label(entity, lang))


@dataclass(frozen=True)
class Repository(Generic[ReadModel]):
    """The records of one kind: validated with `base`, read as `read`."""

    name: str
    base: type[BaseModel]
    read: type[ReadModel]

    @property
    def label_ja(self) -> str:
        """What a record of this kind is called in Japanese."""
        return label(self.name, "ja")

    @property
    def label_en(self) -> str:
        """What a record of this kind is called in English."""
        return label(self.name, "en")

    @property
    def table(self) -> Table:
        """The kind's table of materialized winners."""
        return revisions.table_for(self.name)

    def to_read(self, row: Mapping[Any, Any]) -> ReadModel:
        """A materialized row as the read model."""
        return self.read.model_validate(dict(row))

    def resolve(self, unit: Unit, text: str) -> str:
        """The full id of a record of this kind given its id or a unique beginning or end."""
        return match_id(unit.conn, self.table.c.id, text, self.name)

    def _deleted(self, shown: str, already: bool = False) -> NotFound:
        code = "record.already_deleted" if already else "record.deleted"
        return NotFound(code, kind=kind_words(self.name), id=shown)

    def get(self, work: Work, record_id: str, *, include_deleted: bool = False) -> ReadModel:
        """One record by id (or a unique part of it)."""
        with unit_of(work, write=False) as unit:
            full = self.resolve(unit, record_id)
            row = unit.conn.execute(select(self.table).where(self.table.c.id == full))
            found = row.mappings().one()
        if found["deleted"] and not include_deleted:
            raise self._deleted(record_id)
        return self.to_read(found)

    def create(
        self, work: Work, data: dict[str, Any], *, record_id: str | None = None
    ) -> ReadModel:
        """Validate and create one record; return it as read back."""
        content = validate(self.name, data)
        new = record_id or fixed_id(self.name, content) or new_id()
        with unit_of(work, write=True) as unit:
            revisions.write_record(unit, self.name, new, content)
            return self.get(unit, new)

    def edit(self, work: Work, record_id: str, changes: dict[str, Any]) -> tuple[ReadModel, bool]:
        """Apply `changes` to a record; return (record, changed). No revision when nothing
        changes. `record_id` may be a unique part of the id."""
        with unit_of(work, write=True) as unit:
            full, content, changed = self._edited(unit, record_id, changes)
            if changed:
                revisions.write_record(unit, self.name, full, content)
            return self.get(unit, full), changed

    def check_edit(self, work: Work, record_id: str, changes: dict[str, Any]) -> None:
        """Refuse, without writing, what `edit` would refuse of these changes."""
        with unit_of(work, write=False) as unit:
            self._edited(unit, record_id, changes)

    def _edited(
        self, unit: Unit, record_id: str, changes: dict[str, Any]
    ) -> tuple[str, dict[str, Any], bool]:
        """The record's full id, its content with `changes` (validated), whether that differs."""
        unknown = set(changes) - content_fields(self.name)
        if unknown:
            raise ValueError(f"not fields of {self.name}: {sorted(unknown)}")
        full = self.resolve(unit, record_id)
        row = unit.conn.execute(select(self.table).where(self.table.c.id == full))
        current = row.mappings().one()
        if current["deleted"]:
            raise self._deleted(record_id)
        content, changed = applied(self.name, content_of(self.name, current), changes)
        return full, content, changed

    def delete(self, work: Work, record_id: str) -> str:
        """Tombstone a record (its history stays); return its full id."""
        with unit_of(work, write=True) as unit:
            full = self.resolve(unit, record_id)
            deleted = unit.conn.execute(
                select(self.table.c.deleted).where(self.table.c.id == full)
            ).scalar()
            if deleted:
                raise self._deleted(record_id, already=True)
            revisions.write_record(unit, self.name, full, None, deleted=True)
        return full


ORGANIZATIONS = Repository("organization", r.OrganizationBase, r.OrganizationRead)
INITIATIVES = Repository("initiative", r.InitiativeBase, r.InitiativeRead)
ACTIVITIES = Repository("activity", r.ActivityBase, r.ActivityRead)
FINDINGS = Repository("finding", r.FindingBase, r.FindingRead)
ACTIONS = Repository("action", r.ActionBase, r.ActionRead)
STAGE_MODELS = Repository("stage_model", r.StageModelBase, r.StageModelRead)
TRACKS = Repository("engagement_track", r.EngagementTrackBase, r.EngagementTrackRead)
STAGE_MOVES = Repository("stage_move", r.StageMoveBase, r.StageMoveRead)
ATTACHMENTS = Repository("attachment", r.AttachmentBase, r.AttachmentRead)
NOTE_TEMPLATES = Repository("note_template", r.NoteTemplateBase, r.NoteTemplateRead)
PURGES = Repository("purge", r.PurgeBase, r.PurgeRead)

ENTITIES: dict[str, Repository[BaseModel]] = {
    repository.name: repository
    for repository in (
        ORGANIZATIONS,
        INITIATIVES,
        ACTIVITIES,
        FINDINGS,
        ACTIONS,
        STAGE_MODELS,
        TRACKS,
        STAGE_MOVES,
        ATTACHMENTS,
        NOTE_TEMPLATES,
        PURGES,
    )
}
"""Every kind's repository, by its name."""

MIN_PREFIX = 6


def validate(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate content for `entity`; return it JSON-ready or raise a LocalizedError."""
    base = ENTITIES[entity].base
    try:
        model = _validator(base).validate_python(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return base.__pydantic_serializer__.to_python(model, mode="json")  # type: ignore[no-any-return]


_VALIDATORS: dict[type[BaseModel], SchemaValidator] = {}


def _validator(base: type[BaseModel]) -> SchemaValidator:
    """pydantic's validator of `base`'s schema, the fields and validators all the same, but
    for the model's own `__init__`: SQLModel gives its models one, so pydantic's validator calls
    it, and it calls the validator again, for the instance (every field validated once, the
    model's own validators twice, and a third of the validation's time). Content is validated
    to be written, never kept as a model: that `__init__` adds nothing to it."""
    found = _VALIDATORS.get(base)
    if found is not None:
        return found
    schema: dict[str, Any] = dict(base.__pydantic_core_schema__)
    node = schema
    while node.get("type") != "model" and isinstance(node.get("schema"), dict):
        node["schema"] = dict(node["schema"])
        node = node["schema"]
    if node.get("type") == "model" and node.get("cls") is base:
        node["custom_init"] = False
        made = SchemaValidator(schema)
    else:  # a schema of another shape (another pydantic): the model's own validator
        made = base.__pydantic_validator__  # type: ignore[assignment]
    _VALIDATORS[base] = made
    return made


def validate_tag(tag: str) -> str:
    """A tag as stored: NFKC, stripped (the JSON text the filter looks for)."""
    import json
    import unicodedata

    return json.dumps(unicodedata.normalize("NFKC", tag).strip(), ensure_ascii=False)[1:-1]


def content_fields(entity: str) -> set[str]:
    """The fields a person writes in a record of `entity` (no sync columns)."""
    return set(ENTITIES[entity].base.model_fields)


def label_of(data: dict[str, Any], entity: str | None = None) -> str:
    """What a person calls a record: the first line of its title, name or text; a note
    template (`entity`), by the activity kind it is the template of."""
    if entity == "note_template" and isinstance(data.get("kind"), str):
        from dxfield.domain.enums import ActivityKind

        try:
            return ActivityKind(data["kind"]).label(None)
        except ValueError:  # only from a store written before kinds were checked
            pass
    for field in ("title", "name", "text", "note", "file_name", "reason"):
        value = data.get(field)
        if isinstance(value, str) and value:
            return value.splitlines()[0]
    return ""


def match_id(conn: Connection, column: Any, text: str, entity: str) -> str:
    """The one id in `column` equal to `text`, or starting or ending with it (6+ characters).

    UUIDv7 ids begin with their creation time, so records made the same minute share a prefix:
    the random tail is the part people can shorten to, as with git's short hashes.
    """
    wanted = text.strip().lower()
    if len(wanted) >= MIN_PREFIX:
        if conn.execute(select(column).where(column == wanted).limit(1)).first():
            return wanted
        matches = list(
            conn.execute(
                select(column)
                .where(
                    or_(
                        column.startswith(wanted, autoescape=True),
                        column.endswith(wanted, autoescape=True),
                    )
                )
                .distinct()
                .limit(2)
            ).scalars()
        )
        if len(matches) == 1:
            return str(matches[0])
        if len(matches) > 1:
            raise LocalizedError("record.ambiguous_id", kind=kind_words(entity), value=quote(text))
    raise NotFound("record.not_found", kind=kind_words(entity), value=quote(text))


def content_of(entity: str, row: Mapping[Any, Any]) -> dict[str, Any]:
    """The content of a record (its materialized row), JSON-ready, as `validate` gives it."""
    fields = content_fields(entity)
    return (
        ENTITIES[entity]
        .base.model_validate({k: v for k, v in dict(row).items() if k in fields})
        .model_dump(mode="json")
    )


def applied(
    entity: str, current: dict[str, Any], changes: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The content `changes` make of a record's `current` content (`content_of`), validated (a
    bad value is refused naming its field), and whether it differs from `current`."""
    content = validate(entity, {**current, **changes})
    return content, content != current


def to_read(entity: str, row: Mapping[Any, Any]) -> BaseModel:
    """A materialized row of `entity` as its read model."""
    return ENTITIES[entity].to_read(row)


def resolve_id(conn: Connection, entity: str, text: str) -> str:
    """The full id of a record of `entity` given its id or a unique beginning or end of it."""
    spec = ENTITIES[entity]
    return match_id(conn, spec.table.c.id, text, spec.name)


def get(work: Work, entity: str, record_id: str, *, include_deleted: bool = False) -> BaseModel:
    """One record of the kind `entity`, by id (or a unique part of it)."""
    return ENTITIES[entity].get(work, record_id, include_deleted=include_deleted)


def create(
    work: Work, entity: str, data: dict[str, Any], *, record_id: str | None = None
) -> BaseModel:
    """Validate and create one record of the kind `entity`."""
    return ENTITIES[entity].create(work, data, record_id=record_id)


def edit(
    work: Work, entity: str, record_id: str, changes: dict[str, Any]
) -> tuple[BaseModel, bool]:
    """Apply `changes` to a record of the kind `entity`; (record, changed)."""
    return ENTITIES[entity].edit(work, record_id, changes)


def delete(work: Work, entity: str, record_id: str) -> str:
    """Tombstone a record of the kind `entity`; its full id."""
    return ENTITIES[entity].delete(work, record_id)
