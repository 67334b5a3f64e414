"""Photos for the documents dxfield writes (the minutes, the report): which attachments are
photos, and a small JPEG copy of each, made from the blob the store keeps.

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

import base64
import hashlib
import io
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from dxfield.domain.records import MAX_ATTACHMENT_BYTES, AttachmentRead
from dxfield.store import blobs
from dxfield.store.records import ATTACHMENTS
from dxfield.store.unit import Work, unit_of

if TYPE_CHECKING:
    from PIL import Image

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
"""The attachments shown as photos; every other type is listed by its name. (`attach` makes a
HEIC photo a JPEG; a HEIC record from elsewhere is still read, through pillow-heif.)"""
MINUTES_SIDE = 1600
"""The long side of a photo in the minutes: about 250 dpi across the text width of A4."""
REPORT_SIDE = 1200
"""The long side of a photo in the report, where two share the width of a page."""
JPEG_QUALITY = 82
MAX_PIXELS = 100_000_000
"""A larger image is not decoded (a 48-megapixel phone photo is well within it)."""

Problem = Literal["missing", "damaged", "unreadable"]


def is_photo(attachment: AttachmentRead) -> bool:
    """Whether the attachment is shown as a photo (JPEG, PNG, WebP or HEIC)."""
    return attachment.media_type in PHOTO_TYPES


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


@dataclass(frozen=True)
class SmallCopy:
    """A photo's copy for a document, or why there is none."""

    jpeg: bytes | None
    width: int = 0
    height: int = 0
    problem: Problem | None = None

    @property
    def data_uri(self) -> str:
        """The copy as a `data:` URI (for an `img` in a self-contained HTML file)."""
        if self.jpeg is None:
            return ""
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")


def small_copy(data_dir: Path, sha256: str, max_side: int) -> SmallCopy:
    """A JPEG of the blob `sha256` at most `max_side` pixels on its long side (never enlarged),
    upright and without metadata; or the problem (missing, damaged, unreadable)."""
    try:
        with blobs.open_blob(data_dir, sha256) as source:
            data = source.read(MAX_ATTACHMENT_BYTES + 1)  # at most 50 MiB: read whole, hashed
    except ValueError:  # a record from another device with a hash that is not one
        return SmallCopy(None, problem="missing")
    except OSError:
        return SmallCopy(None, problem="missing")
    if hashlib.sha256(data).hexdigest() != sha256:
        return SmallCopy(None, problem="damaged")
    return _shrink(io.BytesIO(data), max_side)


def _shrink(source: io.BytesIO, max_side: int) -> SmallCopy:
    from PIL import Image  # Pillow loads only when a document has photos

    _heif_opener()
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89 million pixels; MAX_PIXELS is the limit here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return SmallCopy(None, problem="unreadable")
                scale = min(1.0, max_side / max(width, height, 1))
                if image.format == "JPEG":  # decoded at 1/2, 1/4 or 1/8 of its size: faster
                    image.draft("RGB", (round(width * scale), round(height * scale)))
                # An RGB profile stays right for the RGB copy (a CMYK or grey one would not).
                icc = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None
                orientation = image.getexif().get(_ORIENTATION, 1)
                picture = _on_white(image)
                # Shrunk before it is turned: the turn then copies a small picture, not a
                # 12-megapixel one (a square bound is the same either way round).
                picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                if (turn := _turn(orientation)) is not None:
                    picture = picture.transpose(turn)
                out = io.BytesIO()
                extra = {"icc_profile": icc} if icc else {}
                picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, **extra)
                return SmallCopy(out.getvalue(), picture.width, picture.height)
    # Whatever a broken or hostile file makes Pillow raise (OSError for a truncated JPEG,
    # SyntaxError, ValueError, struct.error, DecompressionBombError...), the photo is unreadable
    # and the document still comes out, saying so in its place.
    except Exception:
        return SmallCopy(None, problem="unreadable")


_ORIENTATION = 0x0112


def _turn(orientation: object) -> Image.Transpose | None:
    """The turn (or mirror) that makes a picture of this EXIF orientation upright, as Pillow's
    `ImageOps.exif_transpose` does it."""
    from PIL import Image

    turns = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
    return turns.get(orientation) if isinstance(orientation, int) else None


_heif = {"registered": False}


def _heif_opener() -> None:
    """Let Pillow read HEIC (once)."""
    if _heif["registered"]:
        return
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # a dependency; without it a HEIC photo is unreadable
        return
    register_heif_opener()
    _heif["registered"] = True


def _on_white(image: Image.Image) -> Image.Image:
    """The image in RGB, its transparent parts (a PNG's, a WebP's) on white."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")
