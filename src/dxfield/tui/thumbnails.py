"""Thumbnails of attached photos, made once and kept in the data folder (a hub's are each
person's own, in their folder, made from the blobs in the hub's database).

A thumbnail is kept at `<data>/thumbs/<sha256>.jpg`: the small copy the documents use too
(`store.pictures.small_copy`: at most `LONG_SIDE` pixels on its long side, orientation applied,
transparency on white, no metadata; the blob checked against its SHA-256 and an image of too many
pixels not decoded, so a small file that says it is huge cannot take the laptop's memory). Where
it is, is the store's to say (`blobs.thumbnail_path`). In the data folder rather than the user's
cache folder: it is derived from a blob of that folder and goes where the blob goes: the store
deletes it with its blob (a purge's deletion, `prune`: `blobs.remove_blob`), `check` names one
whose blob has gone and `prune` removes it, and a test's data folder holds everything the test
made. So a photo erased at a resident's request leaves no small copy in this data folder (a backup
made before the purge still holds both, docs/user-guide.md). Made in a worker thread, never on the
event loop; a thumbnail whose blob has gone is also removed when it is next looked for.

No textual here: thumbnails are plain files (the view shows them).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dxfield.store import blobs
from dxfield.store.pictures import small_copy

FOLDER = blobs.THUMBS
LONG_SIDE = 640
"""The longest side of a thumbnail, in pixels."""


@dataclass(frozen=True)
class Thumbnail:
    """A photo's thumbnail, or why there is none (`problem`: one line, localized)."""

    path: Path | None
    problem: str = ""


def thumbnail_path(data_dir: Path, sha256: str) -> Path:
    """Where the thumbnail of the blob `sha256` is kept (the store's `blobs.thumbnail_path`)."""
    return blobs.thumbnail_path(data_dir, sha256)


def thumbnail_of(data_dir: Path, sha256: str, kept: blobs.Kept | None = None) -> Thumbnail:
    """The thumbnail of the photo kept as blob `sha256` (in the data folder, or by `kept`: the
    store's blobs, a hub's database): made now if it was not yet (call from a worker thread).
    The thumbnail is this person's either way, in their data folder."""
    from dxfield.i18n import _

    kept = blobs.of_folder(data_dir) if kept is None else kept
    blobs.blob_path(data_dir, sha256)  # checks the hash's form, as before
    target = thumbnail_path(data_dir, sha256)
    if not kept.has(sha256):
        # Gone (purged, pruned, or not yet received): no copy of it may stay here either.
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return Thumbnail(None, _("The file is not on this device."))
    if target.is_file():
        return Thumbnail(target)
    copy = small_copy(kept, sha256, LONG_SIDE)
    if copy.jpeg is None:  # a truncated, damaged or outsized image: said, never a crash
        if copy.problem == "missing":  # gone meanwhile
            return Thumbnail(None, _("The file is not on this device."))
        detail = (
            _("it does not match its SHA-256")
            if copy.problem == "damaged"
            else _("not a picture that can be read")
        )
        return Thumbnail(
            None, _("No picture can be made of this file ({detail}).").format(detail=detail)
        )
    _write(copy.jpeg, target)
    return Thumbnail(target)


def _write(jpeg: bytes, target: Path) -> None:
    """Write the thumbnail `jpeg` to `target`, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".thumb-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as sink:
            sink.write(jpeg)
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
