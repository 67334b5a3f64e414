"""Photos: which attachments are photos, Pillow as dxfield uses it (with HEIC), and the one
function that makes a small copy of a photo for a document or the app's thumbnail.

A copy (`small_copy`) is at most the side asked for on its long side (never enlarged), turned
upright (a photo kept with its metadata may still say its orientation only in EXIF), flattened
onto white (a PNG's transparency), and written as a JPEG without any metadata but its colour
profile: whatever the blob keeps (a photo attached with --keep-metadata keeps its GPS position),
the copy holds none of it, and a phone's Display P3 photo keeps its colours.

The blob is read whole (at most 50 MiB) and checked against its SHA-256 first; an image of more
than `MAX_PIXELS` is not decoded (a 450 KB PNG can say 12000x12000 pixels, which Pillow would
decode into a gigabyte): it is `unreadable`, as is whatever Pillow cannot read. A blob this
device does not hold is `missing`; one whose bytes no longer match is `damaged`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dxfield.domain.records import MAX_ATTACHMENT_BYTES
from dxfield.store import blobs

if TYPE_CHECKING:
    from PIL import Image

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
"""The attachments shown as photos; every other type is listed by its name. (`attach` makes a
HEIC photo a JPEG; a HEIC record from elsewhere is still read, through pillow-heif.)"""
JPEG_QUALITY = 82
MAX_PIXELS = 100_000_000
"""A larger image is not decoded (a 48-megapixel phone photo is well within it)."""

Problem = Literal["missing", "damaged", "unreadable"]


def is_photo(media_type: str) -> bool:
    """Whether a file of `media_type` is a photo (JPEG, PNG, WebP or HEIC)."""
    return media_type in PHOTO_TYPES


@functools.cache
def pil() -> Any:
    """Pillow's Image module, with pillow-heif's opener registered (once, here only)."""
    from PIL import Image

    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - a dependency; without it HEIC cannot be read
        pass
    else:
        register_heif_opener()
    return Image


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


def small_copy(kept: Path | blobs.Kept, sha256: str, max_side: int) -> SmallCopy:
    """A JPEG of the blob `sha256` (kept in the data folder `kept`, or by the store's blobs
    `kept`: a hub's database) at most `max_side` pixels on its long side (never enlarged),
    upright and without metadata; or the problem (missing, damaged, unreadable)."""
    try:
        with blobs.of_folder(kept).open(sha256) as source:
            data = source.read(MAX_ATTACHMENT_BYTES + 1)  # at most 50 MiB: read whole, hashed
    except ValueError:  # a record from another device with a hash that is not one
        return SmallCopy(None, problem="missing")
    except OSError:
        return SmallCopy(None, problem="missing")
    if hashlib.sha256(data).hexdigest() != sha256:
        return SmallCopy(None, problem="damaged")
    return _shrink(io.BytesIO(data), max_side)


def _shrink(source: io.BytesIO, max_side: int) -> SmallCopy:
    pil()  # HEIC too; Pillow loads only when photos are shown
    from PIL import Image

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


def _on_white(image: Image.Image) -> Image.Image:
    """The image in RGB, its transparent parts (a PNG's, a WebP's) on white."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")
