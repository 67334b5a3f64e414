"""Attachments in the app (issue 19): the activity view lists them with their sizes, shows the
highlighted photo from a thumbnail made once, `o` opens a copy with the system's viewer (here a
recorder: no viewer is ever started), `A` attaches a file or several of a folder's, and `x`
detaches one, with `u` to attach it again."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from textual.widgets import Input, SelectionList

from dxfield.store import blobs
from dxfield.store.activities import list_activities
from dxfield.store.attachments import attach, attachments_of
from dxfield.store.engine import Store
from dxfield.tui import opener
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.activity_view import ActivityViewScreen
from dxfield.tui.screens.attach import AttachScreen, complete_path
from dxfield.tui.thumbnails import LONG_SIDE, Thumbnail, thumbnail_path
from dxfield.tui.widgets.attachments import (
    AttachmentList,
    AttachmentsPanel,
    Shown,
    attachment_line,
)
from tests.tui.test_app import SIZE, new_form, settle


def photo(path: Path, size: tuple[int, int] = (1600, 1200), colour: str = "teal") -> Path:
    """A photo made here (JPEG or PNG, as its name says)."""
    Image.new("RGB", size, colour).save(path, "PNG" if path.suffix == ".png" else "JPEG")
    return path


def first_activity(folder: Path) -> str:
    with Store.open(folder) as store:
        return list_activities(store, limit=1)[0].id


def with_a_photo(folder: Path, tmp_path: Path) -> str:
    """The store's first activity, given one photo (one.jpg); its id."""
    activity = first_activity(folder)
    with Store.open(folder) as store:
        attach(store, activity, photo(tmp_path / "one.jpg"))
    return activity


def attached_names(folder: Path, owner: str) -> list[str]:
    with Store.open(folder) as store:
        return [a.file_name for a in attachments_of(store, owner)]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """What the app asked the system's viewer to open (nothing is started)."""
    calls: list[Path] = []
    monkeypatch.setattr(opener, "OPENER", calls.append)
    return calls


async def open_view(app: DxfieldApp, pilot, activity_id: str) -> None:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    app.open_activity(activity_id)
    await settle(app, pilot)
    assert isinstance(app.screen, ActivityViewScreen)


@pytest.mark.usefixtures("frozen_today")
async def test_the_view_lists_attachments_and_o_opens_a_copy(
    demo: Path, tmp_path: Path, opened: list[Path]
) -> None:
    activity = first_activity(demo)
    with Store.open(demo) as store:
        picture = attach(store, activity, photo(tmp_path / "whiteboard.jpg"), caption="板書")
        note = tmp_path / "handout.txt"
        note.write_text("配布資料\n" * 2000, encoding="utf-8")
        attach(store, activity, note)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        panel = app.screen.query_one(AttachmentsPanel)
        listing = panel.query_one(AttachmentList)
        lines = [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert lines[0].startswith("whiteboard.jpg · JPEG · ") and "板書" in lines[0]
        assert lines[1].startswith("handout.txt · text · 25.4 KB"), lines
        # The photo is drawn from its thumbnail, made once, at most LONG_SIDE on its long side.
        thumb = thumbnail_path(demo, picture.record.sha256)
        with Image.open(thumb) as made:
            assert max(made.size) == LONG_SIDE
        assert panel.query_one("#attachment-picture").children

        await pilot.press("o")
        await settle(app, pilot)
        (copy,) = opened
        blob = blobs.blob_path(demo, picture.record.sha256)
        assert copy.name == "whiteboard.jpg" and copy != blob
        assert copy.read_bytes() == blob.read_bytes()

        # The second one, from the list itself (Enter).
        listing.focus()
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert opened[1].name == "handout.txt"
        assert opened[1].read_bytes() == note.read_bytes()


@pytest.mark.usefixtures("frozen_today")
async def test_a_missing_file_is_one_line_not_a_crash(demo: Path, tmp_path: Path) -> None:
    activity = first_activity(demo)
    with Store.open(demo) as store:
        picture = attach(store, activity, photo(tmp_path / "gone.jpg"))
    blobs.blob_path(demo, picture.record.sha256).unlink()
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        note = str(app.screen.query_one("#attachment-note").render())
        assert note == "The file is not on this device."
        await pilot.press("o")
        await settle(app, pilot)
        said = [str(n.message) for n in app._notifications]
        assert said == [
            "the content of 'gone.jpg' is not in this data folder (not received yet, or removed)"
        ]


@pytest.mark.usefixtures("frozen_today")
async def test_attach_a_file_then_two_of_a_folders_three(demo: Path, tmp_path: Path) -> None:
    activity = first_activity(demo)
    one = photo(tmp_path / "one.jpg")
    folder = tmp_path / "workshop"
    folder.mkdir()
    for name in ("a.jpg", "b.png", "c.jpg"):
        photo(folder / name)
    (folder / "setup.exe").write_bytes(b"MZ")  # not offered
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        await pilot.press("A")
        await settle(app, pilot)
        assert isinstance(app.screen, AttachScreen)
        app.screen.query_one("#attach-path", Input).value = str(one)
        app.screen.query_one("#attach-caption", Input).value = "付箋"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        assert attached_names(demo, activity) == ["one.jpg"]

        await pilot.press("A")
        await settle(app, pilot)
        app.screen.query_one("#attach-path", Input).value = str(folder) + "/"
        await settle(app, pilot)
        files = app.screen.query_one("#attach-files", SelectionList)
        offered = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        assert offered == ["a.jpg", "b.png", "c.jpg"]
        files.select(str(folder / "a.jpg"))
        files.select(str(folder / "c.jpg"))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ActivityViewScreen)
        assert attached_names(demo, activity) == ["one.jpg", "a.jpg", "c.jpg"]
        panel = app.screen.query_one(AttachmentsPanel)
        assert [a.file_name for a in panel.attachments] == ["one.jpg", "a.jpg", "c.jpg"]


@pytest.mark.usefixtures("frozen_today")
async def test_a_refused_file_is_one_line_and_keeps_what_was_typed(
    demo: Path, tmp_path: Path
) -> None:
    activity = first_activity(demo)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a photo after all")  # a JPEG's start, then nothing
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        await pilot.press("A")
        await settle(app, pilot)
        app.screen.query_one("#attach-path", Input).value = str(bad)
        app.screen.query_one("#attach-caption", Input).value = "説明"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AttachScreen)
        assert app.screen.query_one("#attach-path", Input).value == str(bad)
        assert app.screen.query_one("#attach-caption", Input).value == "説明"
        results = str(app.screen.query_one("#attach-results").render())
        assert results.startswith("broken.jpg: not attached: ") and "\n" not in results
        assert attached_names(demo, activity) == []


@pytest.mark.usefixtures("frozen_today")
async def test_x_detaches_and_u_attaches_again(demo: Path, tmp_path: Path) -> None:
    activity = with_a_photo(demo, tmp_path)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        await pilot.press("x")
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
        assert attached_names(demo, activity) == []
        assert not app.screen.query_one(AttachmentsPanel).attachments
        await pilot.press("u")
        await settle(app, pilot)
        assert attached_names(demo, activity) == ["one.jpg"]
        assert len(app.screen.query_one(AttachmentsPanel).attachments) == 1


async def test_a_picture_asked_for_after_the_panel_is_taken_down_is_no_crash(
    demo: Path, tmp_path: Path
) -> None:
    """The picture follows the list after a refresh, and a thumbnail comes from a worker; either
    may arrive after the view was closed (a record deleted with d, y at once): nothing is drawn
    and nothing fails (the CI's crash: NoMatches for #attachment-picture)."""
    activity = with_a_photo(demo, tmp_path)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        panel = app.screen.query_one(AttachmentsPanel)
        shown = list(panel.attachments)
        panel._shown_sha = None  # as if the cursor had just come to it
        panel.show(shown)  # asks for the picture after the next refresh
        await panel.remove_children()  # the view taken down before that refresh
        await settle(app, pilot)
        panel._shown_sha = shown[0].sha256  # a worker's thumbnail of the photo still shown
        panel._thumbnail_made(Shown(shown[0].sha256, Thumbnail(None, "late")))
        await settle(app, pilot)
        assert app.return_code is None and not panel.children


def test_paths_complete_from_the_file_system(tmp_path: Path) -> None:
    (tmp_path / "Pictures").mkdir()
    (tmp_path / "photo.jpg").write_bytes(b"")
    (tmp_path / ".hidden").write_bytes(b"")
    assert complete_path(f"{tmp_path}/Pic") == f"{tmp_path}/Pictures/"
    assert complete_path(f"{tmp_path}/ph") == f"{tmp_path}/photo.jpg"
    assert complete_path(f"{tmp_path}/.h") == f"{tmp_path}/.hidden"
    assert complete_path(f"{tmp_path}/zz") is None
    assert complete_path("~/") is None or complete_path("~/").startswith("~/")


def test_a_purged_attachment_reads_as_erased() -> None:
    from types import SimpleNamespace

    # As the purge branch leaves a record: its name replaced, caption and time taken cleared.
    purged = SimpleNamespace(media_type="image/jpeg", file_name="purged", size=0, caption="")
    assert str(attachment_line(purged)) == "Erased · JPEG"  # type: ignore[arg-type]


@pytest.mark.usefixtures("frozen_today")
async def test_files_chosen_in_a_new_activitys_form_are_attached_once_it_is_saved(
    demo: Path, tmp_path: Path
) -> None:
    one = photo(tmp_path / "board.jpg")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_form(app, pilot)
        await pilot.press(*"写真の会")
        await pilot.press("ctrl+t")
        await settle(app, pilot)
        assert isinstance(app.screen, AttachScreen)
        app.screen.query_one("#attach-path", Input).value = str(one)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "board.jpg" in str(form.query_one("#queued-files").render())
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    with Store.open(demo) as store:
        (saved,) = [r for r in list_activities(store, limit=50) if r.title == "写真の会"]
        assert [a.file_name for a in attachments_of(store, saved.id)] == ["board.jpg"]


@pytest.mark.usefixtures("frozen_today")
async def test_a_findings_view_attaches_and_lists_its_files(demo: Path, tmp_path: Path) -> None:
    from dxfield.store.followups import list_findings
    from dxfield.tui.screens.finding_view import FindingViewScreen

    with Store.open(demo) as store:
        finding = list_findings(store)[0]
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(FindingViewScreen(finding.id))
        await settle(app, pilot)
        await pilot.press("A")
        await settle(app, pilot)
        app.screen.query_one("#attach-path", Input).value = str(photo(tmp_path / "memo.png"))
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingViewScreen)
        panel = app.screen.query_one(AttachmentsPanel)
        assert [a.file_name for a in panel.attachments] == ["memo.png"]


@pytest.mark.usefixtures("frozen_today")
async def test_no_viewer_is_one_line(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_viewer(path: Path) -> None:
        raise opener.NoViewer("xdg-open")

    monkeypatch.setattr(opener, "OPENER", no_viewer)
    activity = with_a_photo(demo, tmp_path)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        await pilot.press("o")
        await settle(app, pilot)
        said = [str(n.message) for n in app._notifications]
        assert said == ["No program to open files with was found (xdg-open)."]


def test_copies_opened_are_private_and_old_ones_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = opener._copies_folder()
    assert folder.parent == tmp_path and (folder.stat().st_mode & 0o777) == 0o700
    old, new = folder / "old", folder / "new"
    old.mkdir()
    new.mkdir()
    os.utime(old, (0, 0))
    opener._remove_old(folder)
    assert not old.exists() and new.exists()


@pytest.mark.parametrize(
    ("name", "media_type", "copy"),
    [
        ("議事録.pdf.exe", "application/pdf", "議事録.pdf.pdf"),
        ("a.pdf:evil", "application/pdf", "a.pdf"),
        ("run.bat", "text/plain", "run.txt"),
        ("table.csv", "text/plain", "table.txt"),
        ("CON", "text/plain", "_CON.txt"),
        ("x.exe.", "image/jpeg", "x.exe.jpg"),
        ("..\\..\\x.hta", "image/png", "x.png"),
        ("IMG_0001.JPG", "image/jpeg", "IMG_0001.jpg"),
    ],
)
def test_a_copy_opened_is_named_by_its_type_whatever_its_record_says(
    name: str, media_type: str, copy: str
) -> None:
    assert opener.copy_name(name, media_type) == copy


def test_a_text_file_opens_as_txt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo: Path
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    activity = first_activity(demo)
    table = tmp_path / "table.csv"
    table.write_text("=HYPERLINK(1),2\n")
    with Store.open(demo) as store:
        record = attach(store, activity, table).record
        assert record.file_name == "table.csv"
        copy = opener.copy_out(store, record.id, record.file_name, record.media_type)
    assert copy.name == "table.txt" and copy.read_text() == "=HYPERLINK(1),2\n"


@pytest.mark.skipif(not hasattr(__import__("os"), "getuid"), reason="owners and modes: POSIX")
@pytest.mark.parametrize("made", ["open to others", "a link", "a file"])
def test_a_copies_folder_that_is_not_private_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: str
) -> None:
    import os
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    named = tmp_path / f"dxfield-open-{os.getuid()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    if made == "open to others":
        named.mkdir()
        named.chmod(0o777)
    elif made == "a link":
        named.symlink_to(elsewhere)
    else:
        named.write_text("")
    folder = opener._copies_folder()
    assert folder != named and folder.parent == tmp_path
    assert folder.is_dir() and not folder.is_symlink()
    assert (folder.stat().st_mode & 0o777) == 0o700 and folder.stat().st_uid == os.getuid()


async def _queue(app: DxfieldApp, pilot, path: Path, caption: str = "") -> None:  # type: ignore[no-untyped-def]
    """Choose `path` in a new activity's form (ctrl+t), to be attached once it is saved."""
    form = app.screen
    await pilot.press("ctrl+t")
    await settle(app, pilot)
    assert isinstance(app.screen, AttachScreen)
    app.screen.query_one("#attach-path", Input).value = str(path)
    app.screen.query_one("#attach-caption", Input).value = caption
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    assert app.screen is form


@pytest.mark.usefixtures("frozen_today")
async def test_files_queued_in_a_new_form_survive_a_crash_in_its_draft(
    demo: Path, tmp_path: Path
) -> None:
    """The files chosen (ctrl+t) for a new activity are in its draft as soon as they are
    chosen; restored, the queue comes back and saving attaches them; a file gone meanwhile is
    said in one line and left out (issue 19)."""
    from dxfield.store.local_state import list_drafts
    from dxfield.tui.screens.activity_form import ActivityFormScreen
    from dxfield.tui.screens.draft_question import draft_summary

    kept = photo(tmp_path / "board.jpg")
    gone = photo(tmp_path / "gone.png", colour="red")
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await new_form(app, pilot)
        await pilot.press(*"写真の会")
        await _queue(app, pilot, kept, caption="板書")
        await _queue(app, pilot, gone)
        # The app stops here, as a crash would: no ctrl+q (which writes the draft), no pause for
        # the draft's debounce.
    with Store.open(demo) as store:
        (draft,) = list_drafts(store)
    assert draft.data["title"] == "写真の会"
    assert draft.data["attachments"] == [
        {"paths": [str(kept)], "caption": "板書"},
        {"paths": [str(gone)], "caption": ""},
    ]
    assert "Files to attach: board.jpg, gone.png" in draft_summary(draft)  # the question says so

    gone.unlink()
    again = DxfieldApp(demo)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        await pilot.press("y")  # restore the draft
        await settle(again, pilot)
        form = again.screen
        assert isinstance(form, ActivityFormScreen)
        assert form.query_one("#title", Input).value == "写真の会"
        shown = str(form.query_one("#queued-files").render())
        assert "board.jpg" in shown and "gone.png" not in shown
        said = [str(n.message) for n in again._notifications]
        (line,) = [s for s in said if "gone.png" in s]
        assert line == f"{gone} is no longer there: it will not be attached"
        await pilot.press("ctrl+s")
        await settle(again, pilot)
    with Store.open(demo) as store:
        (saved,) = [r for r in list_activities(store, limit=50) if r.title == "写真の会"]
        attached = attachments_of(store, saved.id)
        assert [(a.file_name, a.caption) for a in attached] == [("board.jpg", "板書")]
        assert list_drafts(store) == []  # saved: the draft is gone with its queue


async def test_a_draft_whose_files_another_device_chose_attaches_none_of_them(
    demo: Path, tmp_path: Path
) -> None:
    """On a hub the team's drafts share one database: a colleague's draft restored here must
    not attach whatever this person's disk holds at the paths the colleague chose."""
    from dxfield.store.draft_rows import QUEUED_BY
    from dxfield.store.local_state import list_drafts, save_draft
    from dxfield.tui.screens.activity_form import ActivityFormScreen

    secret = tmp_path / "id_ed25519.png"
    photo(secret)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await new_form(app, pilot)
        await pilot.press(*"写真の会")
        await _queue(app, pilot, secret)
    with Store.open(demo) as store:
        (draft,) = list_drafts(store)
        assert draft.data[QUEUED_BY] == store.device.id
        save_draft(store, draft.name, {**draft.data, QUEUED_BY: "another-device"})

    again = DxfieldApp(demo)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        await pilot.press("y")  # restore the draft
        await settle(again, pilot)
        form = again.screen
        assert isinstance(form, ActivityFormScreen)
        assert "id_ed25519" not in str(form.query_one("#queued-files").render())
        said = [str(n.message) for n in again._notifications]
        assert any("chosen on another device" in line for line in said), said
        await pilot.press("ctrl+s")
        await settle(again, pilot)
    with Store.open(demo) as store:
        (saved,) = [r for r in list_activities(store, limit=50) if r.title == "写真の会"]
        assert attachments_of(store, saved.id) == []


def test_a_drafts_queue_of_another_shape_is_skipped() -> None:
    from dxfield.store.draft_rows import queued_files

    assert queued_files({}) == []
    assert queued_files({"attachments": "x.jpg"}) == []
    assert queued_files(
        {
            "attachments": [
                {"paths": ["/a.jpg", 3, "", None], "caption": 5},
                {"paths": "not a list"},
                "x",
                {"paths": []},
                {"paths": ["/b.pdf"], "caption": "資料"},
            ]
        }
    ) == [(["/a.jpg"], ""), (["/b.pdf"], "資料")]


async def test_a_delete_landing_while_the_view_reads_is_no_error(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view reads the activity, then its attachments; a delete landing in between (d, y:
    the view reads again as the question closes, while the delete is written) refused the
    attachments of an activity just read live, an error toast over the log. Both are read in
    one unit now, a snapshot: the view shows the activity as it was read."""
    from dxfield.store import attachments as stored
    from dxfield.store.activities import delete_activity

    activity = with_a_photo(demo, tmp_path)
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(app, pilot, activity)
        read = stored.attachments_of

        def deleted_meanwhile(work: object, owner_id: str) -> object:
            with Store.open(demo) as other:
                delete_activity(other, owner_id)
            return read(work, owner_id)  # type: ignore[arg-type]

        monkeypatch.setattr(stored, "attachments_of", deleted_meanwhile)
        screen = app.screen
        assert isinstance(screen, ActivityViewScreen)
        errors: list[str] = []
        monkeypatch.setattr(app, "notify", lambda message, **kw: errors.append(message))
        screen.load()
        await settle(app, pilot)
        assert errors == [] and app.screen is screen
        assert [a.file_name for a in screen.query_one(AttachmentsPanel).attachments] == ["one.jpg"]
