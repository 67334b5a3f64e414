"""Attachments: the service (store/attachments.py) and its blobs (store/blobs.py), on both engines.

Files are made here: photos by Pillow (EXIF with GPS, a maker note, an orientation and a time),
a PDF by pikepdf, a Word file by python-docx; what attach keeps is read back with the same
libraries."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.store import blobs, maintenance, records
from dxfield.store.activities import ActivityInput, add_activity, delete_activity
from dxfield.store.attachments import (
    attach,
    attachments_of,
    detach,
    get_attachment,
    save_copy,
    with_attachments,
)
from dxfield.store.engine import Store
from dxfield.store.followups import add_finding
from dxfield.store.revisions import history
from tests.kept import damage, holds, kept_bytes, listed, lose

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
MAKER_NOTE = 0x927C
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110
DATE_TIME_ORIGINAL = 0x9003


def _activity(store: Store, title: str = "ワークショップ") -> str:
    given = ActivityInput(municipality="豊岡市", kind="workshop", date="2024-08-01", title=title)
    return add_activity(store, given).id


def photo_bytes(
    *, orientation: int = 6, size: tuple[int, int] = (64, 32), fmt: str = "JPEG"
) -> bytes:
    """A photo 64x32 (wider than tall), left half red, right half blue, as a phone would write
    it: EXIF with GPS, a maker, model and maker note, an orientation (6: turn 90° clockwise
    to view) and the time it was taken."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Phone 15"
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (35.0, 32.0, 40.0)
    gps[3] = "E"
    gps[4] = (134.0, 49.0, 10.0)
    details = exif.get_ifd(EXIF_IFD)
    details[DATE_TIME_ORIGINAL] = "2024:08:01 14:03:27"
    details[MAKER_NOTE] = b"Apple iOS\x00serial 1234567890"
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "files" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def _blob_files(store: Store) -> list[str]:
    return listed(store)


def _nothing_kept(store: Store, activity: str) -> None:
    assert attachments_of(store, activity) == []
    assert _blob_files(store) == []


def test_a_photo_loses_gps_and_camera_is_turned_upright_and_keeps_its_time(
    store: Store, tmp_path: Path
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "IMG_0001.JPG", photo_bytes())
    attached = attach(store, activity, path, caption="ホワイトボード")
    record = attached.record
    assert (record.file_name, record.media_type, record.caption) == (
        "IMG_0001.JPG",
        "image/jpeg",
        "ホワイトボード",
    )
    assert record.taken_at == "2024-08-01T14:03:27"
    assert record.owner_type == "activity" and record.owner_id == activity
    kept = kept_bytes(store, record.sha256)
    assert hashlib.sha256(kept).hexdigest() == record.sha256 and len(kept) == record.size
    image = Image.open(io.BytesIO(kept))
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD) and GPS_IFD not in exif
    assert MAKE not in exif and MODEL not in exif
    assert not exif.get_ifd(EXIF_IFD).get(MAKER_NOTE)
    assert b"PhoneMaker" not in kept and b"serial" not in kept
    # Orientation 6 applied: the 64x32 picture is now 32x64, red on top.
    assert image.size == (32, 64)
    rgb = image.convert("RGB")
    assert _reddish(rgb.getpixel((16, 8))) and _bluish(rgb.getpixel((16, 56)))
    assert exif.get(ORIENTATION, 1) == 1
    assert any("location" in note for note in attached.notes)
    assert any("upright" in note for note in attached.notes)


def _reddish(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    return bool(pixel[0] > 200 and pixel[2] < 60)


def _bluish(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    return bool(pixel[2] > 200 and pixel[0] < 60)


def test_keep_metadata_keeps_the_photo_as_it_came(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    original = photo_bytes()
    path = _write(tmp_path, "IMG_0002.jpg", original)
    record = attach(store, activity, path, keep_metadata=True).record
    kept = kept_bytes(store, record.sha256)
    assert kept == original
    exif = Image.open(io.BytesIO(kept)).getexif()
    assert exif.get_ifd(GPS_IFD)[1] == "N" and exif[MAKE] == "PhoneMaker"
    assert exif.get_ifd(EXIF_IFD)[MAKER_NOTE]
    assert record.taken_at == "2024-08-01T14:03:27"


@pytest.mark.parametrize("fmt, name", [("PNG", "board.png"), ("WEBP", "board.webp")])
def test_png_and_webp_lose_their_exif_too(
    store: Store, tmp_path: Path, fmt: str, name: str
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, name, photo_bytes(fmt=fmt, orientation=1))
    record = attach(store, activity, path).record
    kept = kept_bytes(store, record.sha256)
    image = Image.open(io.BytesIO(kept))
    assert image.format == fmt and image.size == (64, 32)
    assert not image.getexif().get_ifd(GPS_IFD) and b"PhoneMaker" not in kept
    if fmt == "PNG":  # lossless: every pixel as it was
        source = Image.open(io.BytesIO(photo_bytes(fmt=fmt, orientation=1))).convert("RGB")
        assert image.convert("RGB").tobytes() == source.tobytes()


def test_a_heic_photo_becomes_a_jpeg_without_its_location(store: Store, tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    image = Image.open(io.BytesIO(photo_bytes(orientation=1)))
    exif = image.getexif()
    out = io.BytesIO()
    try:
        image.save(out, "HEIF", exif=exif.tobytes(), quality=90)
    except (KeyError, OSError, ValueError) as exc:  # no HEVC encoder in this build
        pytest.skip(f"pillow-heif cannot write HEIC here: {exc}")
    activity = _activity(store)
    path = _write(tmp_path, "IMG_0003.HEIC", out.getvalue())
    attached = attach(store, activity, path)
    record = attached.record
    assert (record.file_name, record.media_type) == ("IMG_0003.jpg", "image/jpeg")
    kept = kept_bytes(store, record.sha256)
    back = Image.open(io.BytesIO(kept))
    assert back.format == "JPEG" and not back.getexif().get_ifd(GPS_IFD)
    assert record.taken_at == "2024-08-01T14:03:27"
    assert any("HEIC" in note for note in attached.notes)


def pdf_bytes(author: str = "山田太郎") -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.docinfo["/Author"] = author
    pdf.docinfo["/Creator"] = "Word for Office 365"
    pdf.docinfo["/Producer"] = "Acrobat"
    pdf.docinfo["/Title"] = "資料"
    pdf.docinfo["/CreationDate"] = "D:20240801120000+09'00'"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [author]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_a_pdf_loses_its_author_and_xmp(store: Store, tmp_path: Path) -> None:
    import pikepdf

    activity = _activity(store)
    original = pdf_bytes()
    assert "山田太郎".encode("utf-16-be") in original or b"Author" in original
    path = _write(tmp_path, "handout.pdf", original)
    attached = attach(store, activity, path)
    kept = kept_bytes(store, attached.record.sha256)
    with pikepdf.open(io.BytesIO(kept)) as pdf:
        info = pdf.docinfo
        for key in ("/Author", "/Creator", "/Producer", "/Title", "/CreationDate", "/ModDate"):
            assert key not in info
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
    assert any("author" in note for note in attached.notes)


def test_an_encrypted_pdf_is_attached_as_it_is_and_says_so(store: Store, tmp_path: Path) -> None:
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(pdf_bytes()))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="u"))
    activity = _activity(store)
    path = _write(tmp_path, "locked.pdf", out.getvalue())
    attached = attach(store, activity, path)
    assert kept_bytes(store, attached.record.sha256) == out.getvalue()
    assert any("password" in note or "encrypted" in note for note in attached.notes)


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("議事録")
    core = document.core_properties
    core.author = "山田太郎"
    core.last_modified_by = "佐藤花子"
    core.revision = 7
    core.title = "議事録"
    import datetime as dt

    core.created = dt.datetime(2024, 8, 1, 9, 0)
    core.modified = dt.datetime(2024, 8, 2, 9, 0)
    out = io.BytesIO()
    document.save(out)
    data = out.getvalue()
    # app.xml as Word writes it, with a company and a manager.
    rewritten = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != "docProps/app.xml":
                target.writestr(info, source.read(info))
        target.writestr(
            "docProps/app.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
            '2006/docPropsVTypes"><Application>Microsoft Office Word</Application>'
            "<Company>豊岡市役所</Company><Manager>課長</Manager><Pages>1</Pages></Properties>",
        )
    return rewritten.getvalue()


def test_a_word_file_loses_its_authors_dates_and_company(store: Store, tmp_path: Path) -> None:
    import docx

    activity = _activity(store)
    path = _write(tmp_path, "議事録.docx", docx_bytes())
    attached = attach(store, activity, path)
    assert attached.record.media_type.endswith("wordprocessingml.document")
    kept = kept_bytes(store, attached.record.sha256)
    document = docx.Document(io.BytesIO(kept))
    core = document.core_properties
    assert core.author == "" and core.last_modified_by == ""
    assert core.created is None and core.modified is None
    assert core.revision in (0, 1)  # python-docx reads a missing revision as 0
    assert core.title == "議事録"  # what the document is about stays
    assert [p.text for p in document.paragraphs] == ["議事録"]
    with zipfile.ZipFile(io.BytesIO(kept)) as archive:
        app = archive.read("docProps/app.xml").decode()
    assert "豊岡市役所" not in app and "課長" not in app and "<Pages>1</Pages>" in app


def test_an_excel_workbook_loses_its_authors_and_keeps_its_cells(
    store: Store, tmp_path: Path
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "参加者数"
    workbook.active["B1"] = 14
    workbook.properties.creator = "山田太郎"
    workbook.properties.lastModifiedBy = "佐藤花子"
    source = io.BytesIO()
    workbook.save(source)
    activity = _activity(store)
    record = attach(store, activity, _write(tmp_path, "集計.xlsx", source.getvalue())).record
    assert record.media_type.endswith("spreadsheetml.sheet")
    kept = kept_bytes(store, record.sha256)
    with zipfile.ZipFile(io.BytesIO(kept)) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert archive.namelist() == zipfile.ZipFile(source).namelist()
    assert "山田太郎" not in core and "佐藤花子" not in core and "dcterms:created" not in core
    back = openpyxl.load_workbook(io.BytesIO(kept))
    assert (back.active["A1"].value, back.active["B1"].value) == ("参加者数", 14)


def test_a_powerpoint_file_is_known_by_its_main_part(store: Store, tmp_path: Path) -> None:
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>説明会</dc:title>'
        "<dc:creator>山田太郎</dc:creator><cp:lastModifiedBy>佐藤花子</cp:lastModifiedBy>"
        "<cp:revision>3</cp:revision>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2024-08-01T00:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )
    source = io.BytesIO()
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p:presentation/>")
        archive.writestr("docProps/core.xml", core)
    activity = _activity(store)
    attached = attach(store, activity, _write(tmp_path, "説明会.pptx", source.getvalue()))
    assert attached.record.media_type.endswith("presentationml.presentation")
    kept = kept_bytes(store, attached.record.sha256)
    with zipfile.ZipFile(io.BytesIO(kept)) as archive:
        part = archive.read("docProps/core.xml").decode()
    assert "<dc:title>説明会</dc:title>" in part  # the prefixes as they were
    for gone in ("山田太郎", "佐藤花子", "cp:revision", "dcterms:created"):
        assert gone not in part
    # A PowerPoint file named .docx is refused, saying what it is.
    with pytest.raises(LocalizedError, match="is a PowerPoint presentation"):
        attach(store, activity, _write(tmp_path, "説明会.docx", source.getvalue()))


def test_a_damaged_pdf_or_office_file_is_refused(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    _refused(store, activity, _write(tmp_path, "a.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 10),
             "cannot be read as a PDF")  # fmt: skip
    broken = docx_bytes()[:400]
    _refused(store, activity, _write(tmp_path, "b.docx", broken), "cannot be read as")


def test_plain_text_is_kept_as_it_is(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    text = "付箋のメモ\n- 窓口\n".encode()
    record = attach(store, activity, _write(tmp_path, "memo.txt", text)).record
    assert record.media_type == "text/plain"
    assert kept_bytes(store, record.sha256) == text


def test_a_name_without_its_types_extension_gets_it(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    attached = attach(store, activity, _write(tmp_path, "notes.html", b"<p>hello</p>\n"))
    assert attached.record.file_name == "notes.html.txt"
    assert any("notes.html.txt" in note for note in attached.notes)


def test_a_name_windows_takes_for_a_device_is_attached_under_a_safe_one(
    store: Store, tmp_path: Path
) -> None:
    activity = _activity(store)
    for name, kept in [("CON.txt", "_CON.txt"), ("aux", "_aux.txt"), ("purged", "purged.txt")]:
        attached = attach(store, activity, _write(tmp_path, name, b"memo\n"))
        assert attached.record.file_name == kept


# -- refusals: one line each, no record, no blob ------------------------------------------------


def _refused(store: Store, activity: str, path: Path, *words: str) -> str:
    with pytest.raises(LocalizedError) as caught:
        attach(store, activity, path)
    line = caught.value.message("en")
    assert "\n" not in line
    for word in words:
        assert word in line, line
    _nothing_kept(store, activity)
    return line


def test_a_truncated_jpeg_is_refused(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    data = photo_bytes()
    path = _write(tmp_path, "cut.jpg", data[: len(data) * 2 // 3])
    _refused(store, activity, path, "cut.jpg", "cannot be read as an image")


def test_a_pdf_named_jpg_is_refused_saying_what_it_is(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "photo.jpg", pdf_bytes())
    _refused(store, activity, path, "is a PDF", ".jpg", ".pdf")


def test_a_photo_that_is_not_an_image_is_refused(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "photo.jpg", b"\xff\xd8\xff" + os.urandom(2000))
    _refused(store, activity, path, "cannot be read as an image")


def test_a_type_not_on_the_list_is_refused(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    image = io.BytesIO()
    Image.new("RGB", (4, 4)).save(image, "GIF")
    _refused(store, activity, _write(tmp_path, "a.gif", image.getvalue()), "a GIF image")
    _refused(store, activity, _write(tmp_path, "a.bin", b"\x00\x01\x02\xff" * 10), "not a type")


def test_a_symlink_is_refused(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    target = _write(tmp_path, "real.txt", b"hello\n")
    link = tmp_path / "files" / "link.txt"
    link.symlink_to(target)
    _refused(store, activity, link, "symbolic link")


def test_a_folder_is_refused(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    folder = tmp_path / "files" / "folder.txt"
    folder.mkdir(parents=True)
    _refused(store, activity, folder, "not a regular file")


def test_a_file_over_50_mib_is_refused_before_it_is_read(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    path = tmp_path / "files" / "big.txt"
    path.parent.mkdir()
    with open(path, "wb") as sparse:
        sparse.truncate(50 * 1024 * 1024 + 1)
    _refused(store, activity, path, "too large", "52,428,801", "50 MB")


def test_a_file_growing_past_50_mib_while_read_is_refused(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "grows.txt", b"x" * 10)
    real_fdopen = os.fdopen

    def fdopen_then_grow(fd: int, *args: object, **kwargs: object) -> object:
        handle = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        with open(path, "ab") as grow:  # sparse: it costs no disk
            grow.truncate(50 * 1024 * 1024 + 10)
        return handle

    monkeypatch.setattr(os, "fdopen", fdopen_then_grow)
    _refused(store, activity, path, "too large")


def test_a_file_that_vanishes_while_read_is_refused(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "gone.txt", b"hello\n")
    real_fdopen = os.fdopen

    def fdopen_then_remove(fd: int, *args: object, **kwargs: object) -> object:
        handle = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        path.unlink()  # the file goes while it is read
        return handle

    monkeypatch.setattr(os, "fdopen", fdopen_then_remove)
    _refused(store, activity, path, "gone.txt", "disappeared")


def test_a_file_that_changes_while_read_is_refused(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "log.txt", b"hello\n")
    real_fdopen = os.fdopen

    def fdopen_then_append(fd: int, *args: object, **kwargs: object) -> object:
        handle = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        with open(path, "ab") as more:
            more.write(b"more lines\n")
        return handle

    monkeypatch.setattr(os, "fdopen", fdopen_then_append)
    _refused(store, activity, path, "changed while")


@pytest.mark.sqlite_only  # a file in the data folder (a hub's blob is rows of its transaction)
def test_a_full_disk_while_the_blob_is_written_leaves_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "memo.txt", b"hello\n" * 1000)
    real_fdopen = os.fdopen

    class FullDisk(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.inner = real_fdopen(fd, "wb")

        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def fileno(self) -> int:
            return self.inner.fileno()

        def close(self) -> None:
            self.inner.close()
            super().close()

    def fdopen(fd: int, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode:
            return FullDisk(fd)
        return real_fdopen(fd, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "fdopen", fdopen)
    line = _refused(store, activity, path, "memo.txt", "No space left on device")
    assert "nothing was attached" in line
    assert blobs.temp_files(store.data_dir) == []


def test_an_owner_that_is_not_a_live_activity_or_finding_is_refused(
    store: Store, tmp_path: Path
) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "memo.txt", b"hello\n")
    with pytest.raises(NotFound, match="no activity or finding"):
        attach(store, "0123456789abcdef", path)
    gone = _activity(store, "消える")
    delete_activity(store, gone)
    with pytest.raises(NotFound) as caught:
        attach(store, gone, path)
    assert "deleted" in caught.value.message("en")
    _nothing_kept(store, activity)


def test_a_finding_takes_attachments(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    finding = add_finding(store, kind="issue", text="窓口が混む", activity=activity)
    record = attach(store, finding.id[-8:], _write(tmp_path, "memo.txt", b"x\n")).record
    assert (record.owner_type, record.owner_id) == ("finding", finding.id)
    assert [a.id for a in attachments_of(store, finding.id)] == [record.id]
    assert attachments_of(store, activity) == []


@pytest.mark.parametrize("kind", ["activity", "finding"])
def test_a_record_and_its_attachments_are_read_as_of_one_moment(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """`with_attachments` reads a record and its attachments in one unit: a delete landing
    between the two reads (a view read again as `d`, `y` closes its question) gives the record
    as it was, with its files, rather than refusing them for a record it just read live. Read
    again, the record is deleted and lists none."""
    from dxfield.store import attachments as stored

    activity = _activity(store)
    owner = (
        activity
        if kind == "activity"
        else add_finding(store, kind="issue", text="窓口が混む", activity=activity).id
    )
    attach(store, owner, _write(tmp_path, "memo.txt", b"x\n"))
    repository = records.ACTIVITIES if kind == "activity" else records.FINDINGS
    read = stored.attachments_of

    def deleted_meanwhile(work: object, owner_id: str) -> object:
        with Store.open(store.data_dir) as other:  # another writer, another connection
            records.delete(other, kind, owner_id)
        return read(work, owner_id)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(stored, "attachments_of", deleted_meanwhile)
        record, files = with_attachments(store, repository, owner)
    assert not record.deleted and [f.file_name for f in files] == ["memo.txt"]
    record, files = with_attachments(store, repository, owner)
    assert record.deleted and files == []


# -- reading, saving and detaching -------------------------------------------------------------


def test_save_copy_is_byte_identical_and_refuses_to_overwrite(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    record = attach(store, activity, _write(tmp_path, "a.jpg", photo_bytes())).record
    kept = kept_bytes(store, record.sha256)
    out = tmp_path / "out" / "copy.jpg"
    out.parent.mkdir()
    assert save_copy(store, record.id[-8:], out) == out
    assert out.read_bytes() == kept
    with pytest.raises(LocalizedError, match="already exists"):
        save_copy(store, record.id, out)
    out.write_bytes(b"old")
    save_copy(store, record.id, out, force=True)
    assert out.read_bytes() == kept


def test_save_copy_refuses_a_missing_or_damaged_blob(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    record = attach(store, activity, _write(tmp_path, "memo.txt", b"hello\n")).record
    damage(store, record.sha256, b"tampered\n")
    out = tmp_path / "copy.txt"
    with pytest.raises(LocalizedError, match="does not match"):
        save_copy(store, record.id, out)
    assert not out.exists() and not list(tmp_path.glob(".copy.txt*"))
    lose(store, record.sha256)
    with pytest.raises(NotFound, match=r"not in this data folder|not in the hub"):
        save_copy(store, record.id, out)


def test_the_same_bytes_are_kept_once(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    path = _write(tmp_path, "memo.txt", b"hello\n")
    first = attach(store, activity, path).record
    second = attach(store, activity, path, caption="again").record
    assert first.id != second.id and first.sha256 == second.sha256
    assert len(_blob_files(store)) == 1
    assert [a.id for a in attachments_of(store, activity)] == [first.id, second.id]


def test_detach_keeps_history(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    record = attach(store, activity, _write(tmp_path, "memo.txt", b"hello\n")).record
    assert get_attachment(store, record.id[:-4]).id == record.id
    gone = detach(store, record.id)
    assert gone.id == record.id
    assert attachments_of(store, activity) == []
    with pytest.raises(NotFound):
        get_attachment(store, record.id)
    assert records.ATTACHMENTS.get(store, record.id, include_deleted=True).deleted
    with store.read() as conn:
        revisions = history(conn, "attachment", record.id)
    assert [bool(r["deleted"]) for r in revisions] == [False, True]
    assert holds(store, record.sha256)  # until prune


# -- blobs -------------------------------------------------------------------------------------


def test_put_is_atomic_and_open_blob_reads_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    sha, size = blobs.put(data_dir, [b"ab", b"cd"])
    assert (sha, size) == (hashlib.sha256(b"abcd").hexdigest(), 4)
    with blobs.open_blob(data_dir, sha) as handle:
        assert handle.read() == b"abcd"
    assert blobs.put(data_dir, [b"abcd"]) == (sha, 4)
    assert blobs.temp_files(data_dir) == []
    assert [s for s, _ in blobs.kept_blobs(data_dir)] == [sha]

    def failing() -> object:
        yield b"half"
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        blobs.put(data_dir, failing())  # type: ignore[arg-type]
    assert blobs.temp_files(data_dir) == []
    with pytest.raises(FileNotFoundError):
        blobs.open_blob(data_dir, "0" * 64)


def test_a_unit_of_work_can_attach_with_other_writes(store: Store, tmp_path: Path) -> None:
    activity = _activity(store)
    with store.unit(write=True) as unit:
        record = attach(unit, activity, _write(tmp_path, "memo.txt", b"x\n")).record
    assert get_attachment(store, record.id).file_name == "memo.txt"


def test_exif_transpose_is_what_pillow_does(tmp_path: Path) -> None:
    # The orientation the tests rely on: Pillow's own reading of tag 6.
    image = Image.open(io.BytesIO(photo_bytes()))
    assert ImageOps.exif_transpose(image).size == (32, 64)


# -- check, prune, backup ------------------------------------------------------------------------


def _age(path: Path, seconds: float = 2 * 3600) -> None:
    old = path.stat().st_mtime - seconds
    os.utime(path, (old, old))


def test_check_finds_a_damaged_a_missing_and_an_orphan_blob_and_left_over_files(
    store: Store, tmp_path: Path
) -> None:
    activity = _activity(store)
    tampered = attach(store, activity, _write(tmp_path, "a.txt", b"a\n")).record
    missing = attach(store, activity, _write(tmp_path, "b.txt", b"b\n")).record
    orphan = attach(store, activity, _write(tmp_path, "c.txt", b"c\n")).record
    fine = attach(store, activity, _write(tmp_path, "d.txt", b"d\n")).record
    report = maintenance.check(store)
    assert report.ok and report.blobs.kept == 4
    assert report.blobs.damaged == report.blobs.missing == report.blobs.orphans == []

    damage(store, tampered.sha256, b"A\n")
    lose(store, missing.sha256)
    detach(store, orphan.id)
    left = store.data_dir / "blobs" / ".put.abc.tmp"
    left.parent.mkdir(exist_ok=True)  # a hub's blobs are in its database; its folder may be bare
    left.write_bytes(b"half")
    fresh = store.data_dir / "blobs" / ".put.def.tmp"
    fresh.write_bytes(b"being written now")
    _age(left)
    report = maintenance.check(store)
    assert not report.ok
    assert report.blobs.damaged == [tampered.sha256]
    assert report.blobs.missing == [missing.sha256]
    assert report.blobs.orphans == [orphan.sha256]
    assert report.blobs.temp_files == [str(Path("blobs") / ".put.abc.tmp")]
    assert fine.sha256 not in report.blobs.damaged + report.blobs.orphans


def test_prune_removes_orphans_and_left_over_files_and_a_dry_run_nothing(
    store: Store, tmp_path: Path
) -> None:
    activity = _activity(store)
    kept = attach(store, activity, _write(tmp_path, "a.txt", b"kept\n")).record
    twice = attach(store, activity, _write(tmp_path, "b.txt", b"shared\n")).record
    again = attach(store, activity, _write(tmp_path, "c.txt", b"shared\n")).record
    gone = attach(store, activity, _write(tmp_path, "d.txt", b"gone!\n")).record
    detach(store, gone.id)
    detach(store, twice.id)  # its content is still used by `again`
    left = store.data_dir / "blobs" / kept.sha256[:2] / f".{kept.sha256[:16]}.x.tmp"
    left.parent.mkdir(parents=True, exist_ok=True)  # on a hub, left from before (or by hand)
    left.write_bytes(b"a killed import's")
    _age(left)

    dry = maintenance.prune(store, dry_run=True)
    assert dry.orphans == [gone.sha256] and dry.temp_files == [
        str(left.relative_to(store.data_dir))
    ]
    assert dry.freed == len(b"gone!\n") + len(b"a killed import's")
    assert holds(store, gone.sha256) and left.exists()

    done = maintenance.prune(store)
    assert (done.orphans, done.freed) == (dry.orphans, dry.freed)
    assert not holds(store, gone.sha256) and not left.exists()
    assert holds(store, kept.sha256)
    assert holds(store, again.sha256)
    assert maintenance.check(store).ok
    assert maintenance.prune(store).freed == 0


def test_a_thumbnail_goes_with_its_blob_and_check_names_one_left_without(
    store: Store, tmp_path: Path
) -> None:
    activity = _activity(store)
    gone = attach(store, activity, _write(tmp_path, "a.txt", b"gone\n")).record
    kept = attach(store, activity, _write(tmp_path, "b.txt", b"kept\n")).record
    lost = "f" * 64  # a thumbnail whose blob went without it (removed by hand, or long ago)
    thumbs = {
        sha: blobs.thumbnail_path(store.data_dir, sha) for sha in (gone.sha256, kept.sha256, lost)
    }
    for thumb in thumbs.values():  # as the app makes them
        thumb.parent.mkdir(parents=True, exist_ok=True)
        thumb.write_bytes(b"small copy")
    detach(store, gone.id)
    found = maintenance.check(store).blobs
    assert found.thumbnails == [str(thumbs[lost].relative_to(store.data_dir))]
    dry = maintenance.prune(store, dry_run=True)
    assert len(dry.thumbnails) == 2 and all(t.exists() for t in thumbs.values())
    done = maintenance.prune(store)
    assert done.thumbnails == dry.thumbnails
    assert not thumbs[gone.sha256].exists() and not thumbs[lost].exists()
    assert thumbs[kept.sha256].exists()
    assert maintenance.check(store).blobs.thumbnails == []


@pytest.mark.sqlite_only  # a hub is backed up by PostgreSQL's own tools
def test_backup_and_restore_bring_the_blobs_back(
    store: Store, tmp_path: Path, data_dir: Path
) -> None:
    from dxfield.store.backups import backup, restore_backup

    activity = _activity(store)
    photo = attach(store, activity, _write(tmp_path, "a.jpg", photo_bytes())).record
    memo = attach(store, activity, _write(tmp_path, "m.txt", b"memo\n")).record
    detached = attach(store, activity, _write(tmp_path, "x.txt", b"detached\n")).record
    detach(store, detached.id)
    contents = {
        r.sha256: blobs.blob_path(data_dir, r.sha256).read_bytes() for r in (photo, memo, detached)
    }
    out = tmp_path / "backup.sqlite3"
    result = backup(store, out)
    assert result.blobs == 3 and result.blobs_left_out == []
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    store.close()

    elsewhere = tmp_path / "elsewhere"
    restored = restore_backup(elsewhere, out)
    assert restored.blobs == 3
    for sha256, content in contents.items():
        assert blobs.blob_path(elsewhere, sha256).read_bytes() == content
    assert blobs.temp_files(elsewhere) == []
    with Store.open(elsewhere) as back:
        assert [a.id for a in attachments_of(back, activity)] == [photo.id, memo.id]
        report = maintenance.check(back)
        assert report.ok and report.blobs.orphans == [detached.sha256]
        with back.read() as conn:
            tables = conn.exec_driver_sql("SELECT name FROM sqlite_master").scalars().all()
        assert "backup_blob" not in tables


@pytest.mark.sqlite_only
def test_a_backup_with_a_damaged_blob_is_refused_whole(store: Store, tmp_path: Path) -> None:
    import sqlite3

    from dxfield.store.backups import backup, restore_backup

    activity = _activity(store)
    attach(store, activity, _write(tmp_path, "m.txt", b"memo\n"))
    out = tmp_path / "backup.sqlite3"
    backup(store, out)
    store.close()
    raw = sqlite3.connect(out)
    with raw:
        raw.execute("UPDATE backup_blob SET content = ?", (b"MEMO\n",))
    raw.close()
    elsewhere = tmp_path / "elsewhere"
    with pytest.raises(LocalizedError, match="damaged"):
        restore_backup(elsewhere, out)
    assert not [p for p in (elsewhere / "blobs").rglob("*") if p.is_file()]
    assert not (elsewhere / "dxfield.sqlite3").exists()


def test_prune_removes_what_a_killed_import_left_in_a_hubs_staging_folder(store: Store) -> None:
    """A hub's import stages a bundle's blobs in a folder of its own in the data folder: a
    killed one leaves it behind, which check reports and prune removes, as any left-over."""
    staging = store.data_dir / f"{blobs.STAGING_PREFIX}x1" / "blobs" / "ab"
    staging.mkdir(parents=True)
    left = staging / f".{'ab' * 8}.y.tmp"
    left.write_bytes(half := b"a photo of a resident, half written")
    _age(left)
    assert maintenance.check(store).blobs.temp_files == [str(left.relative_to(store.data_dir))]
    assert maintenance.prune(store).freed == len(half)
    assert not left.exists() and maintenance.check(store).ok
