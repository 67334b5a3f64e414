"""Generic services over synced records: create, edit, delete, get, resolve an id.

Each validates with the entity's base model, so a bad value is refused with a message naming its
field before anything is written, and writes through `revisions.write_record`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from dxfield.domain import records as r
from dxfield.domain.errors import LocalizedError, NotFound, from_validation_error
from dxfield.i18n import quote
from dxfield.store import revisions
from dxfield.store.engine import Store
from dxfield.store.ids import new_id

ReadModel = TypeVar("ReadModel", bound=BaseModel)


@dataclass(frozen=True)
class EntitySpec:
    """How one entity is validated and read."""

    name: str
    base: type[BaseModel]
    read: type[BaseModel]
    label_ja: str
    label_en: str


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("organization", r.OrganizationBase, r.OrganizationRead, "団体", "organization"),
        EntitySpec("initiative", r.InitiativeBase, r.InitiativeRead, "取組", "initiative"),
        EntitySpec("activity", r.ActivityBase, r.ActivityRead, "活動", "activity"),
        EntitySpec("finding", r.FindingBase, r.FindingRead, "知見", "finding"),
        EntitySpec("action", r.ActionBase, r.ActionRead, "取組方針", "action"),
        EntitySpec("stage_model", r.StageModelBase, r.StageModelRead, "段階モデル", "stage model"),
        EntitySpec(
            "engagement_track", r.EngagementTrackBase, r.EngagementTrackRead, "トラック", "track"
        ),
        EntitySpec("stage_move", r.StageMoveBase, r.StageMoveRead, "段階の移動", "stage move"),
        EntitySpec("attachment", r.AttachmentBase, r.AttachmentRead, "添付", "attachment"),
    )
}

MIN_PREFIX = 6


def validate(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validate content for `entity`; return it JSON-ready or raise a LocalizedError."""
    try:
        model = ENTITIES[entity].base.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return model.model_dump(mode="json")


def validate_tag(tag: str) -> str:
    """A tag as stored: NFKC, stripped (the JSON text the filter looks for)."""
    import json
    import unicodedata

    return json.dumps(unicodedata.normalize("NFKC", tag).strip(), ensure_ascii=False)[1:-1]


def content_fields(entity: str) -> set[str]:
    """The fields a person writes in a record of `entity` (no sync columns)."""
    return set(ENTITIES[entity].base.model_fields)


def label_of(data: dict[str, Any]) -> str:
    """What a person calls a record: the first line of its title, name or text."""
    for field in ("title", "name", "text", "note", "file_name"):
        value = data.get(field)
        if isinstance(value, str) and value:
            return value.splitlines()[0]
    return ""


def label(entity: str, lang: str) -> str:
    """What a record of `entity` is called in `lang` (the kind itself when it is not one)."""
    spec = ENTITIES.get(entity)
    if spec is None:
        return entity
    return spec.label_ja if lang == "ja" else spec.label_en


def to_read(entity: str, row: Any) -> Any:
    """A materialized row as the entity's read model."""
    return ENTITIES[entity].read.model_validate(dict(row))


def match_id(conn: Connection, column: Any, text: str, label_ja: str, label_en: str) -> str:
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
            raise LocalizedError(
                f"{label_ja}ID {quote(text)} に一致するものが複数あります。もっと長く指定してください",
                f"{label_en} id {quote(text)} is ambiguous; give more of it",
            )
    raise NotFound(
        f"{label_ja} {quote(text)} は見つかりません",
        f"no {label_en} with id {quote(text)}",
    )


def resolve_id(conn: Connection, entity: str, text: str) -> str:
    """The full id of a record of `entity` given its id or a unique beginning or end of it."""
    spec = ENTITIES[entity]
    return match_id(conn, revisions.table_for(entity).c.id, text, spec.label_ja, spec.label_en)


def get(store: Store, entity: str, record_id: str, *, include_deleted: bool = False) -> Any:
    """One record by id (or unique prefix) as its read model."""
    table = revisions.table_for(entity)
    with store.read() as conn:
        full = resolve_id(conn, entity, record_id)
        row = conn.execute(select(table).where(table.c.id == full)).mappings().one()
    if row["deleted"] and not include_deleted:
        spec = ENTITIES[entity]
        raise NotFound(
            f"{spec.label_ja} {record_id} は削除されています",
            f"{spec.label_en} {record_id} has been deleted",
        )
    return to_read(entity, row)


def create(store: Store, entity: str, data: dict[str, Any], *, record_id: str | None = None) -> Any:
    """Validate and create one record; return it as read back."""
    content = validate(entity, data)
    new = record_id or new_id()
    with store.write() as conn:
        revisions.write_record(conn, entity, new, content, device_id=store.device.id)
    return get(store, entity, new)


def edit(store: Store, entity: str, record_id: str, changes: dict[str, Any]) -> tuple[Any, bool]:
    """Apply `changes` to a record; return (record, changed). No revision when nothing changes."""
    with store.write() as conn:
        full = resolve_id(conn, entity, record_id)
        changed = edit_in(conn, entity, full, changes, device_id=store.device.id, shown=record_id)
    return get(store, entity, full), changed


def edit_in(
    conn: Connection,
    entity: str,
    record_id: str,
    changes: dict[str, Any],
    *,
    device_id: str,
    shown: str | None = None,
) -> bool:
    """`edit` on the caller's connection, inside the caller's transaction (an import that edits
    many records at once): apply `changes` to the record with the full id `record_id`; whether
    anything changed. `shown` is how a refusal names the record (the id the user typed)."""
    table = revisions.table_for(entity)
    fields = content_fields(entity)
    unknown = set(changes) - fields
    if unknown:
        raise ValueError(f"not fields of {entity}: {sorted(unknown)}")
    row = conn.execute(select(table).where(table.c.id == record_id)).mappings().one()
    if row["deleted"]:
        raise NotFound(
            f"{ENTITIES[entity].label_ja} {shown or record_id} は削除されています",
            f"{ENTITIES[entity].label_en} {shown or record_id} has been deleted",
        )
    content, changed = applied(entity, content_of(entity, row), changes)
    if changed:
        revisions.write_record(conn, entity, record_id, content, device_id=device_id)
    return changed


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


def delete(store: Store, entity: str, record_id: str) -> str:
    """Tombstone a record (its history stays); return its full id."""
    table = revisions.table_for(entity)
    with store.write() as conn:
        full = resolve_id(conn, entity, record_id)
        deleted = conn.execute(select(table.c.deleted).where(table.c.id == full)).scalar()
        if deleted:
            raise NotFound(
                f"{ENTITIES[entity].label_ja} {record_id} はすでに削除されています",
                f"{ENTITIES[entity].label_en} {record_id} is already deleted",
            )
        revisions.write_record(conn, entity, full, None, device_id=store.device.id, deleted=True)
    return full
