"""Photos for the documents dxfield writes (the minutes, the report): a small JPEG copy of
each, made from the blob the store keeps by `store.pictures.small_copy` (the one image shrinker:
the app's thumbnails are made by it too), which photos are is `store.pictures.is_photo`.

A copy is at most `MINUTES_SIDE` (or `REPORT_SIDE`) pixels on its long side, turned upright (a
photo kept with its metadata may still say its orientation only in EXIF), flattened onto white
(a PNG's transparency), and written without any metadata but its colour profile: whatever the
blob keeps (a photo attached with --keep-metadata keeps its GPS position), the document holds
none of it, and a phone's Display P3 photo keeps its colours. A dozen photos in one HTML file
then stay a few megabytes, and a Word file too.

A photo whose blob this device does not hold (its bundle has not come yet) is `missing` (a
purged one is not listed at all: the purge deletes its record too); one whose bytes no longer
match the record's SHA-256 is `damaged` (as `attachment save` refuses it); one Pillow cannot
read (truncated, not an image at all, or so large that decoding it would take more memory than
a document is worth) is `unreadable`. None of them stops a document: it says, in the photo's
place, that the photo could not be shown.

The minutes read an activity's attachments through the service (`store/attachments.py`); the
report reads those of a year's activities at once here (`activity_attachments`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from dxfield.domain.records import AttachmentRead
from dxfield.store.pictures import SmallCopy, small_copy
from dxfield.store.records import ATTACHMENTS
from dxfield.store.unit import Work, unit_of

__all__ = ["MINUTES_SIDE", "REPORT_SIDE", "SmallCopy", "activity_attachments", "small_copy"]

MINUTES_SIDE = 1600
"""The long side of a photo in the minutes: about 250 dpi across the text width of A4."""
REPORT_SIDE = 1200
"""The long side of a photo in the report, where two share the width of a page."""


def activity_attachments(
    work: Work, activity_ids: Collection[str] | None = None
) -> dict[str, list[AttachmentRead]]:
    """The live attachments of activities, by activity id, each activity's oldest first; of
    every activity when `activity_ids` is None.

    One query for them all (the report asks for a year's activities at once; a query per
    activity would be a hundred thousand on a hub; the service's `attachments_of` answers for
    one owner), in the service's order."""
    table = ATTACHMENTS.table
    query = select(table).where(table.c.deleted.is_(False), table.c.owner_type == "activity")
    wanted = None if activity_ids is None else set(activity_ids)
    if wanted is not None and len(wanted) <= 500:
        query = query.where(table.c.owner_id.in_(sorted(wanted)))
    query = query.order_by(table.c.created_at, table.c.id)
    with unit_of(work, write=False) as unit:
        rows = unit.conn.execute(query).mappings().all()
    found: dict[str, list[AttachmentRead]] = {}
    for row in rows:
        if wanted is None or row["owner_id"] in wanted:
            found.setdefault(row["owner_id"], []).append(ATTACHMENTS.to_read(row))
    return found
