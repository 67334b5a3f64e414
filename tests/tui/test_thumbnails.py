"""Thumbnails of attached photos (tui/thumbnails.py): made once, at most 640 px on the long side,
turned as the camera said, without the original's metadata; a file that is no picture is one
line; a thumbnail whose blob has gone goes too."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from dxfield.store import blobs
from dxfield.tui.thumbnails import LONG_SIDE, thumbnail_of, thumbnail_path


def keep(data_dir: Path, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    target = blobs.blob_path(data_dir, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return sha


def sideways_photo(path: Path) -> bytes:
    """A 2000x1000 JPEG whose EXIF says to turn it a quarter (orientation 6), with a GPS tag."""
    image = Image.new("RGB", (2000, 1000), "orange")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x8825] = {1: "N", 2: (35.0, 0.0, 0.0)}  # GPS
    image.save(path, "JPEG", exif=exif)
    return path.read_bytes()


def test_made_once_small_turned_and_without_metadata(tmp_path: Path) -> None:
    sha = keep(tmp_path, sideways_photo(tmp_path / "p.jpg"))
    made = thumbnail_of(tmp_path, sha)
    assert made.path == thumbnail_path(tmp_path, sha) and made.problem == ""
    with Image.open(made.path) as thumb:
        assert thumb.size == (LONG_SIDE // 2, LONG_SIDE)  # turned upright: portrait
        assert not thumb.getexif()
    stamp = made.path.stat().st_mtime_ns
    assert thumbnail_of(tmp_path, sha).path == made.path
    assert made.path.stat().st_mtime_ns == stamp  # reused, not made again


def test_a_file_that_is_no_picture_is_one_line(tmp_path: Path) -> None:
    sha = keep(tmp_path, b"\xff\xd8\xff\xe0 truncated")
    made = thumbnail_of(tmp_path, sha)
    assert made.path is None and made.problem.startswith("No picture can be made of this file")
    assert "\n" not in made.problem
    assert not thumbnail_path(tmp_path, sha).exists()


def test_a_thumbnail_goes_when_its_blob_has_gone(tmp_path: Path) -> None:
    sha = keep(tmp_path, sideways_photo(tmp_path / "p.jpg"))
    made = thumbnail_of(tmp_path, sha)
    assert made.path is not None and made.path.exists()
    blobs.blob_path(tmp_path, sha).unlink()  # purged, pruned
    gone = thumbnail_of(tmp_path, sha)
    assert gone.path is None and gone.problem == "The file is not on this device."
    assert not made.path.exists()


def test_a_small_file_that_says_it_is_huge_is_not_decoded(tmp_path: Path) -> None:
    import io

    # 12000 x 12000 pixels in a few kilobytes: decoded in colour it would take 432 MB.
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")
    assert len(out.getvalue()) < 1_000_000
    sha = keep(tmp_path, out.getvalue())
    made = thumbnail_of(tmp_path, sha)
    assert made.path is None and made.problem.startswith("No picture can be made of this file")
    assert not thumbnail_path(tmp_path, sha).exists()


def test_transparency_is_on_white(tmp_path: Path) -> None:
    import io

    out = io.BytesIO()
    Image.new("RGBA", (100, 50), (0, 0, 0, 0)).save(out, "PNG")
    made = thumbnail_of(tmp_path, keep(tmp_path, out.getvalue()))
    assert made.path is not None
    with Image.open(made.path) as thumb:
        assert min(thumb.convert("L").getextrema()) > 240  # white, not black


def test_a_damaged_blob_makes_no_thumbnail(tmp_path: Path) -> None:
    sha = keep(tmp_path, sideways_photo(tmp_path / "p.jpg"))
    blob = blobs.blob_path(tmp_path, sha)
    blob.write_bytes(sideways_photo(tmp_path / "p.jpg")[:-10] + b"0123456789")
    made = thumbnail_of(tmp_path, sha)
    assert made.path is None and "SHA-256" in made.problem
