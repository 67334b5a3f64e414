"""Snapshots of attachments in the app (issue 19), at 80x24 and 120x40: the activity view with
three photos and a handout (the first photo drawn in half-blocks from its thumbnail), and the
Attach dialog on a folder whose files are listed to tick.

The records are written directly (fixed names, sizes and bytes), not through the attachments
service: what the service strips from a photo may change its size, never these pictures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from textual.pilot import Pilot
from textual.widgets import Input

from dxfield.demo.service import prepare_demo
from dxfield.i18n import set_language
from dxfield.store import blobs
from dxfield.store.activities import list_activities
from dxfield.store.engine import Store
from dxfield.store.records import ATTACHMENTS
from dxfield.tui.app import DxfieldApp
from tests.tui.test_snapshots import steady


def whiteboard(path: Path) -> bytes:
    """A photo-like picture of a whiteboard with sticky notes (made the same every time)."""
    image = Image.new("RGB", (1200, 800), (236, 238, 232))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 1160, 760), outline=(60, 60, 60), width=12)
    colours = [(250, 220, 80), (250, 150, 170), (140, 200, 250), (160, 230, 150)]
    for i in range(12):
        x, y = 120 + (i % 4) * 250, 130 + (i // 4) * 200
        draw.rectangle((x, y, x + 180, y + 140), fill=colours[i % 4])
    image.save(path, "PNG")
    return path.read_bytes()


def put(data_dir: Path, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    target = blobs.blob_path(data_dir, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return sha


@pytest.fixture
def with_files(tmp_path: Path) -> Path:
    """The demo under the (hermetic) home as the other snapshots have it, its second activity
    in the Log carrying three photos and a handout."""
    demo = Path.home() / "demo"
    prepare_demo(demo)
    picture = whiteboard(tmp_path / "board.png")
    handout = ("配布資料\n" * 300).encode()
    with Store.open(demo, device_name="snapshot") as store:
        activity = list_activities(store, limit=2)[1]
        with store.unit(write=True) as unit:
            for name, media_type, content, caption, taken in [
                ("whiteboard.png", "image/png", picture, "ホワイトボード", "2024-07-17T14:05:00"),
                ("sticky-notes.png", "image/png", picture, "付箋の整理", "2024-07-17T15:30:00"),
                ("group-photo.png", "image/png", picture, "", None),
                ("handout.txt", "text/plain", handout, "配布資料", None),
            ]:
                ATTACHMENTS.create(
                    unit,
                    {
                        "owner_type": "activity",
                        "owner_id": activity.id,
                        "file_name": name,
                        "media_type": media_type,
                        "size": len(content),
                        "sha256": put(demo, content),
                        "caption": caption,
                        "taken_at": taken,
                    },
                )
    return demo


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_activity_view_with_attachments(
    snap_compare, with_files: Path, size: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    set_language("ja")
    app = DxfieldApp(with_files)

    async def run_before(pilot: Pilot[None]) -> None:
        await steady("l", "down", "enter")(pilot)
        # The attachments under the fields and notes: scrolled to, as a person would.
        pilot.app.screen.query_one("#attachments").scroll_visible(animate=False, top=True)
        await steady()(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_attach_dialog_on_a_folder(  # type: ignore[no-untyped-def]
    snap_compare, with_files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size
) -> None:
    folder = tmp_path / "workshop"
    folder.mkdir()
    for name in ("IMG_0001.jpg", "IMG_0002.jpg", "handout.pdf", "notes.txt"):
        (folder / name).write_bytes(b"x")
    (folder / "setup.exe").write_bytes(b"MZ")
    monkeypatch.chdir(tmp_path)  # a relative path: the same picture wherever the test runs
    set_language("ja")
    app = DxfieldApp(with_files)

    async def run_before(pilot: Pilot[None]) -> None:
        await steady("l", "down", "enter", "A")(pilot)
        pilot.app.screen.query_one("#attach-path", Input).value = "workshop/"
        await steady()(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
