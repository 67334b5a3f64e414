"""Photos in the minutes (議事録): Word read back with python-docx (pictures, image parts,
captions, still A4 and 游明朝), HTML with its photos inside as data: URIs and captions escaped,
Markdown listing them with their attachment ids, other files under 添付資料, a photo whose file
is missing or unreadable (the minutes still come out, saying so), and the CLI's warnings."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from PIL import ExifTags, Image, ImageDraw

from dxfield.domain.records import AttachmentRead
from dxfield.report.minutes import build_minutes, render, taken_text
from dxfield.report.minutes_docx import PHOTO_HEIGHT_MM, TEXT_WIDTH_MM, photo_size_mm
from dxfield.report.photos import MINUTES_SIDE, small_copy
from dxfield.store import attachments, blobs
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.records import ATTACHMENTS
from tests.conftest import Cli
from tests.kept import damage, keep


def picture(
    size: tuple[int, int] = (3000, 2000),
    fmt: str = "JPEG",
    colour: str = "#3a7",
    taken: str = "",
    **save: object,
) -> bytes:
    """An image with a few shapes on it (so that a copy of it can be looked at); `taken`, the
    camera's time in EXIF (2024:10:15 14:32:05)."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    image = Image.new(mode, size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((width // 10, height // 10, width // 2, height // 2), fill="#fff")
    draw.ellipse((width // 2, height // 2, width * 9 // 10, height * 9 // 10), fill="#c33")
    if taken:
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
        save["exif"] = exif
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def handout() -> bytes:
    """A small PDF."""
    out = io.BytesIO()
    pikepdf.new().save(out)
    return out.getvalue()


def attach(
    store: Store, activity_id: str, name: str, data: bytes, caption: str = ""
) -> AttachmentRead:
    """The file `name` holding `data`, attached to the activity through the service (as a
    person attaches it)."""
    source = store.data_dir.parent / "sources" / hashlib.sha256(data).hexdigest()[:12] / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(data)
    return attachments.attach(store, activity_id, source, caption=caption).record


def record_only(
    store: Store,
    activity_id: str,
    name: str,
    data: bytes,
    *,
    media_type: str = "image/jpeg",
    caption: str = "",
    keep_blob: bool = True,
) -> AttachmentRead:
    """An attachment record as another device's bundle may bring it: its blob not (yet) here
    (`keep_blob=False`), or bytes the service would have refused."""
    sha = hashlib.sha256(data).hexdigest()
    if keep_blob:
        assert keep(store, data) == sha
    return ATTACHMENTS.create(
        store,
        {
            "owner_type": "activity",
            "owner_id": activity_id,
            "file_name": name,
            "media_type": media_type,
            "size": len(data),
            "sha256": sha,
            "caption": caption,
        },
    )


def workshop(store: Store, **given: object) -> str:
    fields: dict[str, object] = {
        "title": "多可町 ワークショップ",
        "kind": "workshop",
        "date": "2024-10-15",
        "municipality": "多可町",
        "start_time": "14:00",
        "end_time": "16:00",
        "location": "多可町役場",
        "notes": "## 内容\n\n付箋で意見を出し合った。\n\n## 決定事項\n\n次回までに案をまとめる。",
        **given,
    }
    return add_activity(store, ActivityInput(**fields)).id  # type: ignore[arg-type]


@pytest.fixture
def with_photos(demo_store: Store) -> str:
    """A workshop with three photos (a landscape JPEG, a portrait one, a PNG with transparency)
    and a PDF handout."""
    activity_id = workshop(demo_store)
    attach(demo_store, activity_id, "IMG_0001.jpg", picture(taken="2024:10:15 14:32:05"),
           caption="ホワイトボード")  # fmt: skip
    attach(demo_store, activity_id, "IMG_0002.jpg", picture((1500, 4000), colour="#37a"))
    attach(demo_store, activity_id, "付箋.png", picture((800, 600), "PNG"), caption="付箋の整理")
    attach(demo_store, activity_id, "配布資料.pdf", handout(), caption="当日の資料")
    return activity_id


def _document(data: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(data))


# -- the copies -----------------------------------------------------------------------------------


def test_a_copy_is_upright_small_and_without_metadata(data_dir: Path) -> None:
    from PIL import ExifTags

    image = Image.new("RGB", (4000, 3000), "#888")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # to be turned 90° clockwise to stand upright
    exif[ExifTags.Base.Make] = "Camera"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (35.0, 0.0, 0.0)
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    sha = hashlib.sha256(raw.getvalue()).hexdigest()
    path = blobs.blob_path(data_dir, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(raw.getvalue())

    copy = small_copy(data_dir, sha, MINUTES_SIDE)
    assert copy.problem is None and copy.jpeg is not None
    assert (copy.width, copy.height) == (1200, 1600)  # upright: portrait, 1600 on its long side
    with Image.open(io.BytesIO(copy.jpeg)) as shown:
        assert shown.format == "JPEG" and shown.size == (1200, 1600)
        assert not shown.getexif()  # no orientation, camera or GPS left
    assert copy.data_uri.startswith("data:image/jpeg;base64,")


def test_a_small_photo_is_not_enlarged_and_transparency_goes_white(data_dir: Path) -> None:
    image = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    raw = io.BytesIO()
    image.save(raw, "PNG")
    sha = hashlib.sha256(raw.getvalue()).hexdigest()
    path = blobs.blob_path(data_dir, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(raw.getvalue())
    copy = small_copy(data_dir, sha, MINUTES_SIDE)
    assert (copy.width, copy.height) == (40, 30)
    assert copy.jpeg is not None
    with Image.open(io.BytesIO(copy.jpeg)) as shown:
        assert shown.convert("L").getextrema()[0] > 240  # white, not black


def test_missing_and_unreadable_files(data_dir: Path) -> None:
    assert small_copy(data_dir, "0" * 64, 100).problem == "missing"
    assert small_copy(data_dir, "not a hash", 100).problem == "missing"
    truncated = picture()[:5000]
    for data in (truncated, b"not an image at all", b""):
        sha = hashlib.sha256(data).hexdigest()
        path = blobs.blob_path(data_dir, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        assert small_copy(data_dir, sha, 100).problem == "unreadable"


def test_taken_at_in_wareki() -> None:
    assert taken_text("2024-10-15T14:32:05") == "令和6年10月15日　14:32"
    assert taken_text(None) == "" and taken_text("yesterday") == ""


def test_photo_sizes_fit_the_text_width_and_the_height() -> None:
    assert photo_size_mm(1600, 900) == (TEXT_WIDTH_MM, TEXT_WIDTH_MM * 900 / 1600)
    width, height = photo_size_mm(1200, 1600)
    assert height == PHOTO_HEIGHT_MM and width == pytest.approx(75)
    assert photo_size_mm(0, 0) == (TEXT_WIDTH_MM, PHOTO_HEIGHT_MM)


# -- Word -----------------------------------------------------------------------------------------


def test_docx_holds_the_photos_with_captions_on_a4_in_japanese_fonts(
    demo_store: Store, with_photos: str
) -> None:
    data = render(build_minutes(demo_store, [with_photos]), "docx")
    document = _document(data)
    assert len(document.inline_shapes) == 3
    for shape in document.inline_shapes:
        assert shape.width.mm <= TEXT_WIDTH_MM + 0.01
        assert shape.height.mm <= PHOTO_HEIGHT_MM + 0.01
    images = [
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/image")
    ]
    assert len(images) == 3
    for part in images:
        assert part.content_type == "image/jpeg"
        with Image.open(io.BytesIO(part.blob)) as image:
            assert max(image.size) <= MINUTES_SIDE
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-2:] == ["写真", "添付資料"]
    assert headings.index("写真") > headings.index("今後の対応")
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "写真1　ホワイトボード（撮影：令和6年10月15日　14:32）",
        "写真2　IMG_0002.jpg",
        "写真3　付箋の整理",
    ]
    files = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert "配布資料.pdf（当日の資料）" in files
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = archive.read("word/styles.xml").decode()
        body = archive.read("word/document.xml").decode()
        media = [n for n in archive.namelist() if n.startswith("word/media/")]
    assert 'w:eastAsia="游明朝"' in styles
    assert re.search(r'<w:pgSz w:w="11906" w:h="16838"', body)
    assert len(media) == 3
    assert len(data) < 3 * 1024 * 1024  # small copies, not the 3000-pixel originals


def test_docx_says_a_missing_photo_cannot_be_shown(demo_store: Store) -> None:
    activity_id = workshop(demo_store)
    attach(demo_store, activity_id, "IMG_0001.jpg", picture(), caption="黒板")
    record_only(demo_store, activity_id, "IMG_0009.jpg", picture((640, 480)), caption="会場",
                keep_blob=False)  # fmt: skip
    record_only(demo_store, activity_id, "壊れた.jpg", picture()[:3000], caption="途中まで")
    minutes = build_minutes(demo_store, [activity_id])
    assert [(p.file_name, p.problem) for _e, p in minutes.problems] == [
        ("IMG_0009.jpg", "missing"),
        ("壊れた.jpg", "unreadable"),
    ]
    document = _document(render(minutes, "docx"))
    assert len(document.inline_shapes) == 1
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[0] == "写真1　黒板"
    assert captions[1].startswith("写真2　会場（この端末にファイルがない")
    assert captions[2].startswith("写真3　途中まで（画像として読み取れない")


def test_no_photos_leaves_them_out_but_lists_the_other_files(
    demo_store: Store, with_photos: str
) -> None:
    minutes = build_minutes(demo_store, [with_photos], photos=False)
    document = _document(render(minutes, "docx"))
    assert len(document.inline_shapes) == 0
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "写真" not in headings and headings[-1] == "添付資料"


def test_an_activity_without_attachments_has_no_photo_headings(demo_store: Store) -> None:
    activity_id = workshop(demo_store)
    document = _document(render(build_minutes(demo_store, [activity_id]), "docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-1] == "今後の対応"


def test_a_detached_photo_is_not_shown(demo_store: Store) -> None:
    activity_id = workshop(demo_store)
    kept = attach(demo_store, activity_id, "a.jpg", picture((300, 200)), caption="残す")
    gone = attach(demo_store, activity_id, "b.jpg", picture((200, 300)), caption="外した")
    attachments.detach(demo_store, gone.id)
    (entry,) = build_minutes(demo_store, [activity_id]).entries
    assert [p.attachment_id for p in entry.photos] == [kept.id]


# -- HTML and Markdown ----------------------------------------------------------------------------


def test_html_holds_its_photos_and_escapes_their_captions(demo_store: Store) -> None:
    activity_id = workshop(demo_store)
    attach(demo_store, activity_id, "x.jpg", picture(), caption="<script>alert(1)</script>板書")
    attach(demo_store, activity_id, "y.webp", picture((900, 900), "WEBP"),
           caption='"><img src=x onerror=alert(2)>')  # fmt: skip
    record_only(demo_store, activity_id, "gone.jpg", picture((10, 10)), keep_blob=False)
    html = render(build_minutes(demo_store, [activity_id]), "html").decode()
    assert html.count('src="data:image/jpeg;base64,') == 2
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;板書" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "この端末にファイルがないため" in html
    assert "http" not in html.replace('name="viewport"', "")  # nothing from outside the file
    assert re.search(r"<h3>写真</h3>", html)
    assert "max-height: 100mm" in html  # a photo never takes the whole printed page


def test_a_dozen_photos_make_a_reasonable_html_file(demo_store: Store) -> None:
    activity_id = workshop(demo_store)
    for number in range(12):
        attach(demo_store, activity_id, f"IMG_{number:04}.jpg",
               picture(colour=f"#{number:x}{number:x}8", quality=95))  # fmt: skip
    html = render(build_minutes(demo_store, [activity_id]), "html")
    assert html.count(b"data:image/jpeg;base64,") == 12
    assert len(html) < 6 * 1024 * 1024


def test_markdown_lists_photos_with_their_ids(demo_store: Store, with_photos: str) -> None:
    minutes = build_minutes(demo_store, [with_photos], images=False)
    assert all(p.image is None and not p.problem for p in minutes.entries[0].photos)
    text = render(minutes, "md").decode()
    assert "data:" not in text
    photos = text.split("## 写真\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    ids = [p.attachment_id for p in minutes.entries[0].photos]
    assert (
        photos[0] == f"- 写真1　ホワイトボード（撮影：令和6年10月15日　14:32）（添付ID {ids[0]}）"
    )
    assert len(photos) == 3
    files = text.split("## 添付資料\n\n", 1)[1]
    assert files.startswith("- 配布資料.pdf（当日の資料）（添付ID ")


def test_markdown_escapes_a_caption_and_says_a_photo_is_missing(demo_store: Store) -> None:
    activity_id = workshop(demo_store)
    record_only(demo_store, activity_id, "x.jpg", picture((10, 10)),
                caption="# <b>見出し</b> *x*", keep_blob=False)  # fmt: skip
    minutes = build_minutes(demo_store, [activity_id], images=False)
    text = render(minutes, "md").decode()
    assert "<b>" not in text
    assert r"写真1　\# \<b\>見出し\</b\> \*x\*（この端末にファイルがない" in text


# -- the CLI --------------------------------------------------------------------------------------


def test_cli_writes_the_minutes_and_warns_of_a_missing_photo(
    demo_store: Store, cli: Cli, tmp_path: Path
) -> None:
    activity_id = workshop(demo_store)
    attach(demo_store, activity_id, "IMG_0001.jpg", picture((600, 400)), caption="板書")
    gone = record_only(demo_store, activity_id, "IMG_0002.jpg", picture((60, 40)),
                       keep_blob=False)  # fmt: skip
    out = tmp_path / "m.docx"
    args = ("--data-dir", str(demo_store.data_dir), "minutes", activity_id)
    result = cli(*args, "--out", str(out))
    assert result.code == 0, result.err
    assert out.exists() and len(_document(out.read_bytes()).inline_shapes) == 1
    (line,) = result.err.strip().splitlines()
    assert "'IMG_0002.jpg'" in line and gone.id in line and "not on this device" in line
    # Markdown to standard output: the document there, the warning on standard error.
    shown = cli(*args, "--format", "md", "--out", "-")
    assert shown.code == 0 and shown.out.startswith("# 議事録")
    assert "IMG_0002.jpg" in shown.err and "warning" not in shown.out
    no_photos = cli(*args, "--no-photos", "--out", str(tmp_path / "n.docx"))
    assert no_photos.code == 0 and no_photos.err == ""
    assert len(_document((tmp_path / "n.docx").read_bytes()).inline_shapes) == 0


def test_cli_warns_in_japanese(demo_store: Store, cli: Cli, tmp_path: Path) -> None:
    activity_id = workshop(demo_store)
    record_only(demo_store, activity_id, "壊.jpg", b"\xff\xd8\xff broken")
    args = ("--lang", "ja", "--data-dir", str(demo_store.data_dir), "minutes", activity_id)
    result = cli(*args, "--format", "html", "--out", str(tmp_path / "m.html"))
    assert result.code == 0
    assert "画像として読み取れません" in result.err


def test_a_damaged_file_and_a_colour_profile(data_dir: Path) -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = picture((400, 300), icc_profile=profile)
    sha = hashlib.sha256(data).hexdigest()
    path = blobs.blob_path(data_dir, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    copy = small_copy(data_dir, sha, MINUTES_SIDE)
    assert copy.jpeg is not None
    with Image.open(io.BytesIO(copy.jpeg)) as shown:
        assert shown.info.get("icc_profile") == profile  # the colours stay as the camera meant
    path.write_bytes(data[:-10] + b"0123456789")  # the bytes kept no longer match the record
    assert small_copy(data_dir, sha, MINUTES_SIDE).problem == "damaged"


def test_a_heic_photo_from_elsewhere_is_shown(data_dir: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    raw = io.BytesIO()
    Image.new("RGB", (64, 48), "#a33").save(raw, "HEIF")
    sha = hashlib.sha256(raw.getvalue()).hexdigest()
    path = blobs.blob_path(data_dir, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(raw.getvalue())
    copy = small_copy(data_dir, sha, MINUTES_SIDE)
    assert copy.problem is None and (copy.width, copy.height) == (64, 48)


def test_docx_says_a_damaged_photo_cannot_be_shown(demo_store: Store, cli: Cli) -> None:
    activity_id = workshop(demo_store)
    photo = attach(demo_store, activity_id, "IMG_0001.jpg", picture((300, 200)), caption="黒板")
    damage(demo_store, photo.sha256, b"rot")
    minutes = build_minutes(demo_store, [activity_id])
    document = _document(render(minutes, "docx"))
    assert len(document.inline_shapes) == 0
    (caption,) = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert caption == "写真1　黒板（この端末に保存したファイルが壊れているため掲載できません）"
    result = cli("--data-dir", str(demo_store.data_dir), "minutes", activity_id, "--out",
                 str(demo_store.data_dir.parent / "m.docx"))  # fmt: skip
    assert result.code == 0 and "is damaged" in result.err


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_turned_as_pillow_turns_it(
    data_dir: Path, orientation: int
) -> None:
    from PIL import ExifTags, ImageChops, ImageOps

    image = Image.new("RGB", (400, 300), "#fff")
    ImageDraw.Draw(image).rectangle((0, 0, 100, 60), fill="#f00")  # a corner to follow
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif, quality=95)
    sha = hashlib.sha256(raw.getvalue()).hexdigest()
    path = blobs.blob_path(data_dir, sha)
    path.parent.mkdir(parents=True)
    path.write_bytes(raw.getvalue())
    copy = small_copy(data_dir, sha, 200)
    assert copy.jpeg is not None
    with Image.open(io.BytesIO(raw.getvalue())) as original:
        expected = ImageOps.exif_transpose(original).resize((copy.width, copy.height))
    with Image.open(io.BytesIO(copy.jpeg)) as shown:
        difference = ImageChops.difference(shown.convert("RGB"), expected.convert("RGB"))
        assert max(difference.convert("L").getextrema()) < 100
        assert sum(difference.convert("L").histogram()[40:]) < copy.width * copy.height // 50


# -- a finding's photos ---------------------------------------------------------------------------


@pytest.fixture
def with_finding_photos(demo_store: Store) -> tuple[str, str]:
    """A workshop with a photo of its own, and a finding recorded from it with two photos and
    a PDF (the finding's text long enough to be cut short in a caption); and a second finding
    without any."""
    from dxfield.store.followups import add_finding

    activity_id = workshop(demo_store)
    attach(demo_store, activity_id, "IMG_0001.jpg", picture((600, 400)), caption="会場")
    finding = add_finding(demo_store, kind="issue", activity=activity_id,
                          text="申請書の多くが紙で届き、窓口で職員が手入力している。入力の誤りも多い")  # fmt: skip
    add_finding(demo_store, kind="insight", activity=activity_id, text="若手職員が乗り気")
    attach(demo_store, finding.id, "IMG_0100.jpg", picture((400, 600), colour="#a73"),
           caption="申請書の山")  # fmt: skip
    attach(demo_store, finding.id, "IMG_0101.jpg", picture((800, 600), taken="2024:10:15 15:01:00"))
    attach(demo_store, finding.id, "様式.pdf", handout())
    return activity_id, finding.id


FINDING_NAME = "知見：【課題】申請書の多くが紙で届き、窓口で職員が手入力している。入力の誤…"


def test_docx_shows_a_findings_photos_in_photos_naming_the_finding(
    demo_store: Store, with_finding_photos: tuple[str, str]
) -> None:
    activity_id, finding_id = with_finding_photos
    minutes = build_minutes(demo_store, [activity_id])
    (entry,) = minutes.entries
    assert [p.finding_id for p in entry.photos] == ["", finding_id, finding_id]
    document = _document(render(minutes, "docx"))
    assert len(document.inline_shapes) == 3
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "写真1　会場",
        f"写真2　申請書の山（{FINDING_NAME}）",
        f"写真3　IMG_0101.jpg（{FINDING_NAME}、撮影：令和6年10月15日　15:01）",
    ]
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert bullets[:2] == [
        "【課題】申請書の多くが紙で届き、窓口で職員が手入力している。入力の誤りも多い（写真2・3）",
        "【示唆】若手職員が乗り気",
    ]
    assert bullets[2] == f"様式.pdf（{FINDING_NAME}）"
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-3:] == ["今後の対応", "写真", "添付資料"]


def test_a_findings_photo_makes_the_photos_heading_alone(demo_store: Store) -> None:
    from dxfield.store.followups import add_finding

    activity_id = workshop(demo_store)
    finding = add_finding(demo_store, kind="outcome", activity=activity_id, text="試行で効果")
    attach(demo_store, finding.id, "a.png", picture((300, 200), "PNG"), caption="効果の表")
    document = _document(render(build_minutes(demo_store, [activity_id]), "docx"))
    assert len(document.inline_shapes) == 1
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-1] == "写真"
    (caption,) = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert caption.startswith("写真1　効果の表（知見：")


def test_no_photos_leaves_a_findings_photos_out(
    demo_store: Store, with_finding_photos: tuple[str, str]
) -> None:
    activity_id, _finding_id = with_finding_photos
    minutes = build_minutes(demo_store, [activity_id], photos=False)
    assert minutes.entries[0].photos == []
    document = _document(render(minutes, "docx"))
    assert len(document.inline_shapes) == 0
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert "（写真" not in "".join(bullets)  # no reference to photos that are not there
    for fmt in ("html", "md"):
        text = render(build_minutes(demo_store, [activity_id], photos=False, images=fmt != "md"),
                      fmt).decode()  # fmt: skip
        assert "申請書の山" not in text and "写真2" not in text
        assert "様式.pdf" in text  # the finding's other file stays, as the activity's do


def test_html_and_markdown_show_a_findings_photos(
    demo_store: Store, with_finding_photos: tuple[str, str]
) -> None:
    activity_id, _finding_id = with_finding_photos
    html = render(build_minutes(demo_store, [activity_id]), "html").decode()
    assert html.count('src="data:image/jpeg;base64,') == 3
    assert f"<figcaption>写真2　申請書の山（{FINDING_NAME}）</figcaption>" in html
    assert "入力の誤りも多い（写真2・3）</li>" in html
    minutes = build_minutes(demo_store, [activity_id], images=False)
    text = render(minutes, "md").decode()
    photos = text.split("## 写真\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    ids = [p.attachment_id for p in minutes.entries[0].photos]
    assert photos[1] == f"- 写真2　申請書の山（{FINDING_NAME}）（添付ID {ids[1]}）"
    assert len(photos) == 3
    assert (
        "- 【課題】申請書の多くが紙で届き、窓口で職員が手入力している。入力の誤りも多い（写真2・3）"
        in text
    )


def test_a_findings_caption_is_escaped(demo_store: Store) -> None:
    from dxfield.store.followups import add_finding

    activity_id = workshop(demo_store)
    finding = add_finding(demo_store, kind="issue", activity=activity_id,
                          text="<img src=x onerror=alert(1)> *強調*")  # fmt: skip
    attach(demo_store, finding.id, "a.jpg", picture((300, 200)), caption="<b>板</b>")
    html = render(build_minutes(demo_store, [activity_id]), "html").decode()
    assert "<img src=x" not in html and "<b>板" not in html
    assert "&lt;b&gt;板&lt;/b&gt;" in html
    text = render(build_minutes(demo_store, [activity_id], images=False), "md").decode()
    assert "<img" not in text.replace(r"\<img", "")  # only escaped
    assert r"\<img src=x onerror=alert(1)\> \*強調\*（写真1）" in text
    assert r"写真1　\<b\>板\</b\>（知見：【課題】\<img src=x" in text


def test_cli_no_photos_leaves_a_findings_photos_out(
    demo_store: Store, cli: Cli, tmp_path: Path, with_finding_photos: tuple[str, str]
) -> None:
    activity_id, _finding_id = with_finding_photos
    args = ("--data-dir", str(demo_store.data_dir), "minutes", activity_id)
    with_them = cli(*args, "--out", str(tmp_path / "a.docx"))
    without = cli(*args, "--no-photos", "--out", str(tmp_path / "b.docx"))
    assert with_them.code == 0 and without.code == 0
    assert len(_document((tmp_path / "a.docx").read_bytes()).inline_shapes) == 3
    assert len(_document((tmp_path / "b.docx").read_bytes()).inline_shapes) == 0
