"""Files attached to activities and findings (issue 19): the service the app and the CLI call.

PROVISIONAL: the attach branch builds this module whole (stripping metadata, HEIC, the CLI's
verbs). Until it lands, this is the same API, enough for the app's views: on a merge, the attach
branch's module replaces this one.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from dxfield.domain.records import MEDIA_TYPES, AttachmentRead
from dxfield.store import blobs, records
from dxfield.store.records import ATTACHMENTS
from dxfield.store.unit import Work, unit_of


@dataclass(frozen=True)
class Attached:
    """An attachment just made, and what was stripped from it (localized lines)."""

    record: AttachmentRead
    notes: list[str] = field(default_factory=list)


def _media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    for media_type, suffixes in MEDIA_TYPES.items():
        if suffix in suffixes:
            return media_type
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def attach(
    work: Work, owner_id: str, path: Path, *, caption: str = "", keep_metadata: bool = False
) -> Attached:
    """Attach the file `path` to the activity or finding `owner_id`."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with unit_of(work, write=True) as unit:
        try:
            owner = records.get(unit, "activity", owner_id)
            owner_type = "activity"
        except Exception:
            owner = records.get(unit, "finding", owner_id)
            owner_type = "finding"
        record = ATTACHMENTS.create(
            unit,
            {
                "owner_type": owner_type,
                "owner_id": owner.id,  # type: ignore[attr-defined]
                "file_name": path.name,
                "media_type": _media_type(path),
                "size": len(data),
                "sha256": sha,
                "caption": caption,
            },
        )
        target = blobs.blob_path(unit.store.data_dir, sha)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as sink:
                sink.write(data)
            os.replace(name, target)
    return Attached(record)


def attachments_of(work: Work, owner_id: str) -> list[AttachmentRead]:
    """The live attachments of an activity or a finding, oldest first."""
    table = ATTACHMENTS.table
    query = (
        select(table)
        .where(table.c.owner_id == owner_id, table.c.deleted.is_(False))
        .order_by(table.c.hlc, table.c.id)
    )
    with unit_of(work, write=False) as unit:
        rows = unit.conn.execute(query).mappings().all()
    return [ATTACHMENTS.to_read(row) for row in rows]


def get_attachment(work: Work, attachment_id: str) -> AttachmentRead:
    """One attachment by id or prefix."""
    return ATTACHMENTS.get(work, attachment_id)


def save_copy(work: Work, attachment_id: str, out: Path, *, force: bool = False) -> Path:
    """Copy an attachment's bytes to `out`."""
    with unit_of(work, write=False) as unit:
        record = ATTACHMENTS.get(unit, attachment_id)
        source = blobs.blob_path(unit.store.data_dir, record.sha256)
    if out.exists() and not force:
        raise FileExistsError(out)
    shutil.copyfile(source, out)
    return out


def detach(work: Work, attachment_id: str) -> AttachmentRead:
    """Delete an attachment (its history stays)."""
    with unit_of(work, write=True) as unit:
        record = ATTACHMENTS.get(unit, attachment_id)
        ATTACHMENTS.delete(unit, record.id)
    return record
