"""Thumbnails of attached photos, made once with Pillow and kept beside the blobs.

A thumbnail is kept at `<data>/thumbs/<sha256>.jpg` (JPEG, at most `LONG_SIDE` pixels on its long
side, orientation applied, no metadata); where it is, is the store's to say
(`blobs.thumbnail_path`). In the data folder rather than the user's cache folder: it is derived
from a blob of that folder and goes where the blob goes: the store deletes it with its blob (a
purge's deletion, `prune`: `blobs.remove_blob`), `check` names one whose blob has gone and
`prune` removes it, and a test's data folder holds everything the test made. So a photo erased at
a resident's request leaves no small copy in this data folder (a backup made before the purge
still holds both, docs/user-guide.md). Made in a worker thread, never on the event loop; a
thumbnail whose blob has gone is also removed when it is next looked for.

No textual here: thumbnails are plain files (the view shows them).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dxfield.store import blobs

FOLDER = blobs.THUMBS
LONG_SIDE = 640
"""The longest side of a thumbnail, in pixels."""
QUALITY = 80
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
"""The types shown inline (HEIC is converted on the way in; an old record may still say it)."""


@dataclass(frozen=True)
class Thumbnail:
    """A photo's thumbnail, or why there is none (`problem`: one line, localized)."""

    path: Path | None
    problem: str = ""


def thumbnail_path(data_dir: Path, sha256: str) -> Path:
    """Where the thumbnail of the blob `sha256` is kept (the store's `blobs.thumbnail_path`)."""
    return blobs.thumbnail_path(data_dir, sha256)


def is_photo(media_type: str) -> bool:
    """Whether a file of `media_type` is shown inline."""
    return media_type in PHOTO_TYPES


def thumbnail_of(data_dir: Path, sha256: str) -> Thumbnail:
    """The thumbnail of the photo kept as blob `sha256`: made now if it was not yet (call from
    a worker thread)."""
    from dxfield.i18n import _

    source = blobs.blob_path(data_dir, sha256)
    target = thumbnail_path(data_dir, sha256)
    if not source.is_file():
        # Gone (purged, pruned, or not yet received): no copy of it may stay here either.
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return Thumbnail(None, _("The file is not on this device."))
    if target.is_file():
        return Thumbnail(target)
    try:
        _make(source, target)
    except Exception as exc:  # a truncated or unreadable image: said, never a crash
        detail = type(exc).__name__
        return Thumbnail(
            None, _("No picture can be made of this file ({detail}).").format(detail=detail)
        )
    return Thumbnail(target)


def _make(source: Path, target: Path) -> None:
    """Write the thumbnail of `source` to `target`, atomically."""
    from PIL import Image, ImageOps

    with source.open("rb") as head:
        brand = head.read(12)[4:12]
    if brand in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypheim"):
        # An old record's HEIC (attach makes them JPEG now): Pillow reads it with pillow-heif.
        from pillow_heif import register_heif_opener

        register_heif_opener()
    with Image.open(source) as image:
        image.draft("RGB", (LONG_SIDE, LONG_SIDE))  # JPEG: decode at a reduced scale
        picture = ImageOps.exif_transpose(image)
        picture = picture.convert("RGB")
        picture.thumbnail((LONG_SIDE, LONG_SIDE))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".thumb-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as sink:
            picture.save(sink, "JPEG", quality=QUALITY)  # no EXIF: nothing of the original
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
