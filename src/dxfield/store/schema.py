"""The tables: one per synced entity (materialized winners), the revision log, and local state.

Synced tables share `SyncMeta`. Local-only tables (device, local_state) never travel in a dump
or a bundle. The FTS5 index is SQLite-only and lives in `store.sqlite_features`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, String, Table
from sqlmodel import Field, SQLModel

from dxfield.domain.records import (
    ActionBase,
    ActivityBase,
    AttachmentBase,
    EngagementTrackBase,
    FindingBase,
    InitiativeBase,
    NoteTemplateBase,
    OrganizationBase,
    PurgeBase,
    StageModelBase,
    StageMoveBase,
    SyncMeta,
)


class Organization(OrganizationBase, SyncMeta, table=True):
    """Materialized organizations."""


class Initiative(InitiativeBase, SyncMeta, table=True):
    """Materialized initiatives."""


class Activity(ActivityBase, SyncMeta, table=True):
    """Materialized activities; (date, id) is the Log's keyset order."""

    __table_args__ = (Index("ix_activity_date_id", "date", "id"),)


class Finding(FindingBase, SyncMeta, table=True):
    """Materialized findings."""


class Action(ActionBase, SyncMeta, table=True):
    """Materialized action items."""


class StageModel(StageModelBase, SyncMeta, table=True):
    """Materialized stage models."""

    __tablename__ = "stage_model"


class EngagementTrack(EngagementTrackBase, SyncMeta, table=True):
    """Materialized engagement tracks."""

    __tablename__ = "engagement_track"


class StageMove(StageMoveBase, SyncMeta, table=True):
    """Materialized stage moves."""

    __tablename__ = "stage_move"


class Attachment(AttachmentBase, SyncMeta, table=True):
    """Materialized attachment metadata."""


class NoteTemplate(NoteTemplateBase, SyncMeta, table=True):
    """Materialized note templates: at most one per activity kind (its id follows from it)."""

    __tablename__ = "note_template"


class Purge(PurgeBase, SyncMeta, table=True):
    """Materialized purges: at most one per attachment (its id follows from the attachment's)."""


class Revision(SQLModel, table=True):
    """An immutable version of one record: the unit of history and of sync.

    `rev_id` is `<generation>-<hash of the content>`, so the same change made once has the same id
    everywhere. `leaf` is true while no other revision names this one as a parent. `signature` is
    its author's signature over its digest, `attestation` the hub's for a revision from before
    format 2 that its author never signed (`store/authorship.py`); both base64, both travel with
    it unchanged, and neither is part of its content (its id, a dump).
    """

    rev_id: str = Field(primary_key=True)
    entity: str = Field(sa_type=String)
    entity_id: str = Field(index=True)
    generation: int
    parents: list[str] = Field(default_factory=list, sa_type=JSON)
    hlc: str = Field(index=True)
    device_id: str
    deleted: bool = False
    data: str
    leaf: bool = True
    clock_skew: bool = False
    signature: str | None = None
    attestation: str | None = None


class Device(SQLModel, table=True):
    """This store's own device identity (one row). Local only."""

    id: str = Field(primary_key=True)
    name: str
    role: str = "field"
    created_at: dt.datetime


class LocalState(SQLModel, table=True):
    """Small local-only settings and counters (the HLC, UI settings). Never synced."""

    __tablename__ = "local_state"

    key: str = Field(primary_key=True)
    value: str


class SearchText(SQLModel, table=True):
    """NFKC-normalized, lower-cased searchable text of one record, and its date (ISO text: an
    activity's or finding's date, an action's due date) for the order results come in. SQLite's
    FTS5 index follows it by triggers; PostgreSQL's trigram index is on `body`."""

    __tablename__ = "search_text"

    rowid: int | None = Field(default=None, primary_key=True)
    entity: str = Field(sa_type=String)
    entity_id: str = Field(unique=True)
    body: str
    sort_date: str | None = Field(default=None, sa_type=String)


SYNCED_TABLES: dict[str, type[SyncMeta]] = {
    "organization": Organization,
    "initiative": Initiative,
    "activity": Activity,
    "finding": Finding,
    "action": Action,
    "stage_model": StageModel,
    "engagement_track": EngagementTrack,
    "stage_move": StageMove,
    "attachment": Attachment,
    "note_template": NoteTemplate,
    "purge": Purge,
}


# Made by hand in the migrations, not in the models: SQLite's FTS5 index and its shadow tables
# (0001); on PostgreSQL the arrival columns (SQLite's rowid) and the trigram index (0002).
_HAND_MADE = {("column", "arrival"), ("index", "ix_search_text_body_trgm")}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """For Alembic: what it compares with the models (neither engine's hand-made objects)."""
    if (type_, name) in _HAND_MADE:
        return False
    return not (name and name.startswith("search_fts"))


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy table behind a table model (SQLModel sets `__table__` without a type)."""
    table = getattr(model, "__table__")  # noqa: B009 - the attribute is not declared
    if not isinstance(table, Table):  # pragma: no cover - every table model has one
        raise TypeError(f"{model.__name__} is not a table model")
    return table


REVISIONS = table_of(Revision)
DEVICES = table_of(Device)
LOCAL_STATE = table_of(LocalState)
SEARCH_TEXT = table_of(SearchText)


class Blob(SQLModel, table=True):
    """The content of an attached file kept in the database (a hub on PostgreSQL: store/blobs.py
    `TableBlobs`): one row per SHA-256, its size and when it was first kept (ISO text); its bytes
    are its `blob_chunk` rows. Local: never synced as a row (bundles carry blobs as members).
    A laptop's SQLite store has the table too, empty: its blobs are files in its data folder."""

    sha256: str = Field(primary_key=True)
    size: int = Field(sa_type=BigInteger)
    created_at: str


class BlobChunk(SQLModel, table=True):
    """One piece of a blob's bytes, `blobs.CHUNK_BYTES` (1 MiB) each but the last, in `seq`
    order from 0: a 50 MiB file is never one value held in memory."""

    __tablename__ = "blob_chunk"

    sha256: str = Field(primary_key=True, foreign_key="blob.sha256")
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=LargeBinary)


BLOB = table_of(Blob)
BLOB_CHUNK = table_of(BlobChunk)
