"""Files attached to activities and findings: photos, handouts, documents (issue 19).

`attach` reads a file a person names with care (no symlink, a regular file, at most 50 MiB,
the same file before and after it is read), decides its type from its content (never from its
name alone), strips what it says about the person and the place (a photo's GPS and camera, a
PDF's author, an Office file's authors and company) unless asked to keep it, writes its bytes as
a blob (store/blobs.py: a file in the data folder, or on a hub rows of its database), and only
then its record, in one unit: no record ever points at bytes
that were not kept. Every refusal is one line, and leaves neither a record nor a blob.

What is stripped, and why libraries or a careful rewrite: docs/architecture.md.
UI-free: the command line and the app both call these functions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from xml.parsers.expat import ExpatError

from sqlalchemy import select

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.domain.records import (
    MAX_ATTACHMENT_BYTES,
    MAX_FILE_NAME_CHARS,
    MEDIA_TYPES,
    ActivityRead,
    AttachmentRead,
    FindingRead,
)
from dxfield.i18n import N_, _, gettext, ngettext, problems, quote, words
from dxfield.store import revisions
from dxfield.store.files import safe_name_part
from dxfield.store.pictures import is_photo, pil
from dxfield.store.records import ACTIVITIES, ATTACHMENTS, FINDINGS, Repository, kind_words
from dxfield.store.unit import Unit, Work, unit_of

if TYPE_CHECKING:
    from PIL import Image as PILImage

PROBLEMS = problems(
    {
        "attach.symlink": N_(
            "{path} is a symbolic link; nothing was attached (attach the file it points to)"
        ),
        "attach.too_large": N_(
            "{path} is too large to attach ({size:,} bytes; at most {limit} MB)"
        ),
        "attach.vanished": N_("{path} disappeared while it was being read; nothing was attached"),
        "attach.changed": N_(
            "{path} changed while it was being read; nothing was attached (try again once it "
            "is complete)"
        ),
        "attach.unknown_type": N_(
            "{path} is not a type of file that can be attached (photos in JPEG, PNG, WebP or "
            "HEIC, PDF, Word, Excel, PowerPoint, plain text)"
        ),
        "attach.other_type": N_(
            "{path} is {what}, which cannot be attached (photos in JPEG, PNG, WebP or HEIC, "
            "PDF, Word, Excel, PowerPoint, plain text)"
        ),
        "attach.wrong_extension": N_(
            "{path} is {what}, not what its name says ({extension}); nothing was attached "
            "(rename it to end in {expected})"
        ),
        "attach.purged": N_(
            "{path} holds the same content as an attachment the hub purged (erased at a "
            "person's request); nothing was attached"
        ),
        "attach.bad_image": N_(
            "{path} cannot be read as an image: it is damaged or cut short; nothing was attached"
        ),
        "attach.bad_pdf": N_("{path} cannot be read as a PDF: it is damaged; nothing was attached"),
        "attach.bad_office": N_(
            "{path} cannot be read as {what}: it is damaged; nothing was attached"
        ),
        "attach.no_owner": N_("no activity or finding with id {value}"),
        "attach.ambiguous_owner": N_(
            "{value} is the beginning of both an activity's and a finding's id; give more of it"
        ),
        "attach.cannot_keep": N_(
            "cannot keep {path} in the data folder ({reason}); nothing was attached"
        ),
        "attachment.not_here": N_(
            "the content of {name} is not in this data folder (not received yet, or removed)"
        ),
        "attachment.not_in_hub": N_(
            "the content of {name} is not in the hub's database (not received yet, or removed)"
        ),
        "attachment.damaged": N_(
            "the content of {name} kept here does not match its SHA-256 (it is damaged); "
            "nothing was written"
        ),
        "attachment.out_exists": N_(
            "{path} already exists; nothing was written (--force writes over it)"
        ),
    }
)

# What a file's content is, in words, for the lines that refuse it.
_WHAT = {
    "image/jpeg": N_("a JPEG image"),
    "image/png": N_("a PNG image"),
    "image/webp": N_("a WebP image"),
    "image/heic": N_("a HEIC photo"),
    "application/pdf": N_("a PDF"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": N_(
        "a Word document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": N_("an Excel workbook"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": N_(
        "a PowerPoint presentation"
    ),
    "text/plain": N_("plain text"),
}
_DOCX, _XLSX, _PPTX = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
_OFFICE_MAIN = {"word/document.xml": _DOCX, "xl/workbook.xml": _XLSX, "ppt/presentation.xml": _PPTX}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

_READ_PIECE = 1 << 20


@dataclass(frozen=True)
class Attached:
    """A file as attached: its record, and what was done to it on the way in."""

    record: AttachmentRead
    notes: list[str]
    """Localized lines: what was stripped or converted, or what could not be (shown to the
    person who attached it)."""


# -- reading the file ---------------------------------------------------------------------------


def _shown(path: Path) -> str:
    return quote(str(path), 160)


def _cannot_read(path: Path, exc: OSError) -> LocalizedError:
    return LocalizedError("file.unreadable", path=_shown(path), reason=exc.strerror or str(exc))


def _too_large(path: Path, size: int) -> LocalizedError:
    return LocalizedError(
        "attach.too_large",
        path=_shown(path),
        size=size,
        limit=MAX_ATTACHMENT_BYTES // (1024 * 1024),
    )


def read_source(path: Path) -> bytes:
    """The bytes of the file `path` a person asked to attach, read with care.

    A symbolic link is refused (looked at with `lstat`, then opened with `O_NOFOLLOW`, so one
    swapped in between is refused too), and anything but a regular file; so is a file over
    `MAX_ATTACHMENT_BYTES`, checked before reading and while reading. The file must be the same
    before and after (same file, size and modification time; as many bytes read as it holds):
    one that vanishes or changes meanwhile is refused.
    """
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise NotFound("file.missing", path=_shown(path)) from None
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    if stat.S_ISLNK(before.st_mode):
        raise LocalizedError("attach.symlink", path=_shown(path))
    if not stat.S_ISREG(before.st_mode):
        raise LocalizedError("file.not_regular", path=_shown(path))
    if before.st_size > MAX_ATTACHMENT_BYTES:
        raise _too_large(path, before.st_size)
    flags = (
        os.O_RDONLY
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_NOFOLLOW", 0)
    )
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise LocalizedError("attach.vanished", path=_shown(path)) from None
    except OSError as exc:
        if os.path.islink(path):  # O_NOFOLLOW's ELOOP: a link was swapped in
            raise LocalizedError("attach.symlink", path=_shown(path)) from None
        raise _cannot_read(path, exc) from None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):
            raise LocalizedError("file.not_regular", path=_shown(path))
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise LocalizedError("attach.changed", path=_shown(path))
        pieces = []
        size = 0
        try:
            while piece := handle.read(_READ_PIECE):
                size += len(piece)
                if size > MAX_ATTACHMENT_BYTES:
                    raise _too_large(path, size)
                pieces.append(piece)
        except OSError as exc:
            raise _cannot_read(path, exc) from None
        after_open = os.fstat(handle.fileno())
    try:
        after = os.lstat(path)
    except FileNotFoundError:
        raise LocalizedError("attach.vanished", path=_shown(path)) from None
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    same = all(
        (a.st_dev, a.st_ino, a.st_size, a.st_mtime_ns)
        == (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)
        for a in (after, after_open)
    )
    if not same or size != before.st_size:
        raise LocalizedError("attach.changed", path=_shown(path))
    return b"".join(pieces)


# -- what the content is ------------------------------------------------------------------------


def _heif(data: bytes) -> bool:
    if data[4:8] != b"ftyp":
        return False
    box = int.from_bytes(data[:4], "big")
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, min(box, 64), 4)]
    return bool(_HEIF_BRANDS.intersection(brands)) and b"avif" not in brands


def _office_type(data: bytes) -> str | None:
    """The Office type of a ZIP by its main part; None when it is no Office file."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
    if "[Content_Types].xml" not in names:
        return None
    for part, media_type in _OFFICE_MAIN.items():
        if part in names:
            return media_type
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


_OTHER_KINDS: list[tuple[Callable[[bytes], bool], str]] = [
    (lambda d: d.startswith((b"GIF87a", b"GIF89a")), N_("a GIF image")),
    (lambda d: d.startswith(b"BM"), N_("a BMP image")),
    (lambda d: d.startswith((b"II*\x00", b"MM\x00*")), N_("a TIFF image")),
    (
        lambda d: d.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        N_("an old-style or password-protected Office file"),
    ),
    (lambda d: d[4:12] in (b"ftypavif", b"ftypavis"), N_("an AVIF image")),
    (lambda d: d.startswith(b"PK\x03\x04"), N_("a ZIP archive")),
]


def sniff(data: bytes, path: Path) -> str:
    """The media type of `data` (one of `MEDIA_TYPES`) by its content; a file of another type
    is refused in one line, naming what it is when that is known."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _heif(data):
        return "image/heic"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            office = _office_type(data)
        except (zipfile.BadZipFile, OSError, ValueError):
            raise LocalizedError(
                "attach.bad_office", path=_shown(path), what=words(N_("a ZIP archive"))
            ) from None
        if office is not None:
            return office
    elif _is_text(data):
        return "text/plain"
    for test, what in _OTHER_KINDS:
        if test(data):
            raise LocalizedError("attach.other_type", path=_shown(path), what=words(what))
    raise LocalizedError("attach.unknown_type", path=_shown(path))


def _named(path: Path, media_type: str) -> tuple[str, str | None]:
    """The name the file is attached under, and a note when it was changed: a name that ends
    in another listed type's extension is refused (a PDF named .jpg); one that ends in no listed
    extension gets its type's (so that a viewer opening it by name shows what it is)."""
    name = safe_name_part(path.name, fallback="file", limit=MAX_FILE_NAME_CHARS - 8)
    extension = Path(name).suffix.lower()
    own = MEDIA_TYPES[media_type]
    if extension in own:
        if name != path.name:
            return name, _("named {name} (a name that is safe on every computer)").format(name=name)
        return name, None
    for other, extensions in MEDIA_TYPES.items():
        if extension in extensions and other != media_type:
            raise LocalizedError(
                "attach.wrong_extension",
                path=_shown(path),
                what=words(_WHAT[media_type]),
                extension=extension,
                expected=" / ".join(own),
            )
    renamed = name + own[0]
    return renamed, _("named {name}, as its content is {what}").format(
        name=renamed, what=_(_WHAT[media_type])
    )


# -- stripping ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    data: bytes
    media_type: str
    name: str
    taken_at: str | None
    notes: list[str]


_PIL_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
}
_EXIF_IFD = 0x8769
_DATE_TIME_ORIGINAL = 0x9003


def _taken_at(image: PILImage.Image) -> str | None:
    """When the photo was taken, as its camera wrote it (EXIF DateTimeOriginal), ISO-shaped."""
    try:
        value = image.getexif().get_ifd(_EXIF_IFD).get(_DATE_TIME_ORIGINAL)
    except Exception:  # a damaged EXIF block: the photo stays, the time is unknown
        return None
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _webp_lossless(data: bytes) -> bool:
    """Whether a WebP holds its picture losslessly (a VP8L chunk)."""
    at = 12
    while at + 8 <= len(data):
        kind, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        if kind == b"VP8L":
            return True
        if kind == b"VP8 ":
            return False
        at += 8 + size + (size & 1)
    return False


def _photo(data: bytes, media_type: str, name: str, path: Path, keep: bool) -> _Prepared:
    image_module = pil()
    from PIL import ImageOps

    notes: list[str] = []
    try:
        image = image_module.open(io.BytesIO(data))
        if image.format != _PIL_FORMATS[media_type]:
            raise OSError("not the format its signature says")
        image.load()
        taken_at = _taken_at(image)
    except (OSError, SyntaxError, ValueError, image_module.DecompressionBombError):
        raise LocalizedError("attach.bad_image", path=_shown(path)) from None
    heic = media_type == "image/heic"
    if keep and not heic:
        notes.append(_("kept its metadata as it came (location and camera included)"))
        return _Prepared(data, media_type, name, taken_at, notes)
    exif = image.getexif()
    icc = image.info.get("icc_profile")
    # A PNG or WebP animation keeps its frames (and its orientation tag is not applied); a
    # HEIC's other images (bursts, depth) are not kept: its primary image is the photo.
    animated = media_type != "image/heic" and getattr(image, "n_frames", 1) > 1
    if not keep and not animated:
        try:
            upright = ImageOps.exif_transpose(image)
        except Exception:  # a damaged orientation tag: the photo stays as it is drawn
            upright = image
        if upright is not image and exif.get(0x0112, 1) != 1:
            notes.append(_("turned upright as the camera recorded it"))
        image = upright
    out = io.BytesIO()
    params: dict[str, Any] = {}
    if icc:
        params["icc_profile"] = icc
    if keep:
        params["exif"] = exif.tobytes()
    if heic:
        media_type = "image/jpeg"
        name = Path(name).stem + ".jpg"
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=95, **params)
        notes.append(_("converted from HEIC to JPEG, named {name}").format(name=name))
    elif media_type == "image/jpeg":
        image.save(out, "JPEG", quality=95, **params)
    elif media_type == "image/png":
        if "transparency" in image.info:
            params["transparency"] = image.info["transparency"]
        image.save(out, "PNG", optimize=False, save_all=animated, **params)
    else:
        lossless = _webp_lossless(data)
        image.save(out, "WEBP", lossless=lossless, quality=100 if lossless else 95,
                   save_all=animated, **params)  # fmt: skip
    if keep:
        notes.append(_("kept its metadata as it came (location and camera included)"))
    else:
        notes.append(
            _("removed the location, camera and other metadata; kept the time it was taken")
            if taken_at
            else _("removed the location, camera and other metadata")
        )
    return _Prepared(out.getvalue(), media_type, name, taken_at, notes)


def _pdf(data: bytes, name: str, path: Path, keep: bool) -> _Prepared:
    import pikepdf

    if keep:
        return _Prepared(data, "application/pdf", name, None, [_("kept its metadata as it came")])
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return _Prepared(
            data,
            "application/pdf",
            name,
            None,
            [
                _(
                    "could not remove its author and dates: the PDF is locked by a password; attached as it is"
                )
            ],
        )
    except (pikepdf.PdfError, OSError, ValueError):
        raise LocalizedError("attach.bad_pdf", path=_shown(path)) from None
    with pdf:
        if pdf.is_encrypted:
            return _Prepared(
                data,
                "application/pdf",
                name,
                None,
                [
                    _(
                        "could not remove its author and dates: the PDF is encrypted; attached as it is"
                    )
                ],
            )
        try:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            if "/Metadata" in pdf.Root:
                del pdf.Root["/Metadata"]
            out = io.BytesIO()
            pdf.save(out, deterministic_id=True)
        except (pikepdf.PdfError, OSError, ValueError, RuntimeError):
            raise LocalizedError("attach.bad_pdf", path=_shown(path)) from None
    return _Prepared(
        out.getvalue(),
        "application/pdf",
        name,
        None,
        [_("removed its author, title, dates, producing program and XMP metadata")],
    )


_CORE = "docProps/core.xml"
_APP = "docProps/app.xml"
_CORE_DROPPED = {
    ("http://purl.org/dc/elements/1.1/", "creator"),
    ("http://schemas.openxmlformats.org/package/2006/metadata/core-properties", "lastModifiedBy"),
    ("http://schemas.openxmlformats.org/package/2006/metadata/core-properties", "revision"),
    ("http://schemas.openxmlformats.org/package/2006/metadata/core-properties", "lastPrinted"),
    ("http://purl.org/dc/terms/", "created"),
    ("http://purl.org/dc/terms/", "modified"),
}
_APP_DROPPED = {
    ("http://schemas.openxmlformats.org/officeDocument/2006/extended-properties", "Company"),
    ("http://schemas.openxmlformats.org/officeDocument/2006/extended-properties", "Manager"),
}
_MAX_PROPERTIES_PART = 1 << 20
_MAX_UNPACKED = 1 << 30


def _without(xml: bytes, dropped: set[tuple[str, str]]) -> bytes:
    """A properties part without the elements named in `dropped` (namespace, local name); the
    rest, prefixes included, as it was."""
    from xml.dom import minidom

    document = minidom.parseString(xml)
    root = document.documentElement
    if root is None:
        raise ValueError("no root element")
    for child in list(root.childNodes):
        if (child.namespaceURI, child.localName) in dropped:
            root.removeChild(child)
    return document.toxml(encoding="UTF-8")


def _office(data: bytes, media_type: str, name: str, path: Path, keep: bool) -> _Prepared:
    """An Office file without its authors, dates, revision, company and manager: a careful
    rewrite of the ZIP, each other part copied as it was (docs/architecture.md says why)."""
    if keep:
        return _Prepared(data, media_type, name, None, [_("kept its metadata as it came")])
    out = io.BytesIO()
    unpacked = 0
    try:
        with (
            zipfile.ZipFile(io.BytesIO(data)) as source,
            zipfile.ZipFile(out, "w") as target,
        ):
            for info in source.infolist():
                unpacked += info.file_size
                if unpacked > _MAX_UNPACKED:
                    raise zipfile.LargeZipFile("unpacks to too much")
                if info.filename in (_CORE, _APP):
                    if info.file_size > _MAX_PROPERTIES_PART:
                        raise zipfile.LargeZipFile("a properties part too large to edit")
                    part = source.read(info)
                    dropped = _CORE_DROPPED if info.filename == _CORE else _APP_DROPPED
                    part = _without(part, dropped)
                    target.writestr(info, part, compress_type=info.compress_type)
                    continue
                with source.open(info) as member, target.open(info, "w") as copy:
                    while piece := member.read(_READ_PIECE):
                        copy.write(piece)
    except zipfile.LargeZipFile:
        return _Prepared(
            data,
            media_type,
            name,
            None,
            [
                _(
                    "could not remove its authors and dates: it unpacks to too much; attached as it is"
                )
            ],
        )
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
        RuntimeError,  # a member locked by a password: no Office file does that
        ExpatError,  # a properties part that is not XML
    ):
        raise LocalizedError(
            "attach.bad_office", path=_shown(path), what=words(_WHAT[media_type])
        ) from None
    return _Prepared(
        out.getvalue(),
        media_type,
        name,
        None,
        [_("removed its authors, dates, count of saves, company and manager")],
    )


def prepare(data: bytes, path: Path, *, keep_metadata: bool = False) -> _Prepared:
    """The bytes to keep of a file read from `path`: its type decided from its content, its name
    checked against the type, its metadata stripped (unless `keep_metadata`)."""
    media_type = sniff(data, path)
    name, renamed = _named(path, media_type)
    if is_photo(media_type):
        prepared = _photo(data, media_type, name, path, keep_metadata)
    elif media_type == "application/pdf":
        prepared = _pdf(data, name, path, keep_metadata)
    elif media_type in (_DOCX, _XLSX, _PPTX):
        prepared = _office(data, media_type, name, path, keep_metadata)
    else:
        prepared = _Prepared(data, media_type, name, None, [])
    if renamed and prepared.name == name:
        prepared.notes.insert(0, renamed)
    return prepared


# -- the service --------------------------------------------------------------------------------


def _owner(unit: Unit, text: str) -> tuple[str, str]:
    """(kind, full id) of the live activity or finding `text` names (its id or a unique part)."""
    found: list[tuple[str, str]] = []
    for repository in (ACTIVITIES, FINDINGS):
        with contextlib.suppress(NotFound):
            found.append((repository.name, repository.resolve(unit, text)))
    if not found:
        raise NotFound("attach.no_owner", value=quote(text))
    if len(found) > 1:
        raise LocalizedError("attach.ambiguous_owner", value=quote(text))
    kind, full = found[0]
    table = revisions.table_for(kind)
    deleted = unit.conn.execute(select(table.c.deleted).where(table.c.id == full)).scalar()
    if deleted:
        raise NotFound("record.deleted", kind=kind_words(kind), id=quote(text))
    return kind, full


def _pieces(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), _READ_PIECE):
        yield bytes(view[start : start + _READ_PIECE])


def attach(
    work: Work, owner_id: str, path: Path, *, caption: str = "", keep_metadata: bool = False
) -> Attached:
    """Attach the file `path` to the activity or finding `owner_id` (an id or a unique part).

    The file is read with care (`read_source`), its type taken from its content (`sniff`), its
    metadata stripped unless `keep_metadata` (`prepare`), its bytes kept as a blob and then its
    record written, in one unit. Refusals are one line each (LocalizedError) and leave nothing.
    """
    path = Path(path)
    with unit_of(work, write=False) as unit:
        _owner(unit, owner_id)  # before any reading: a wrong id costs nothing
    data = read_source(path)
    prepared = prepare(data, path, keep_metadata=keep_metadata)
    content = {
        "file_name": prepared.name,
        "media_type": prepared.media_type,
        "size": len(prepared.data),
        "sha256": hashlib.sha256(prepared.data).hexdigest(),
        "caption": caption,
        "taken_at": prepared.taken_at,
    }
    # The record is checked before the blob is written: a caption too long leaves no blob.
    from dxfield.store.records import validate

    validate("attachment", {**content, "owner_type": "activity", "owner_id": "x"})
    # The blob is written inside the writing unit, before the record: `prune` (a writing unit
    # too) cannot take it for an orphan between the two.
    with unit_of(work, write=True) as unit:
        kind, owner = _owner(unit, owner_id)
        from dxfield.store.purges import purged_contents

        if purged_contents(unit.conn, [str(content["sha256"])]):
            # Erased content never comes back as a live record (store/purges.py).
            raise LocalizedError("attach.purged", path=_shown(path))
        try:
            # A hub's database keeps it in this very transaction (store/blobs.py).
            size = unit.store.blobs.put(unit.conn, str(content["sha256"]), _pieces(prepared.data))
        except OSError as exc:
            raise LocalizedError(
                "attach.cannot_keep", path=_shown(path), reason=exc.strerror or str(exc)
            ) from None
        assert size == content["size"]
        record = ATTACHMENTS.create(unit, {**content, "owner_type": kind, "owner_id": owner})
    return Attached(record, prepared.notes)


def attachments_of(work: Work, owner_id: str) -> list[AttachmentRead]:
    """The live attachments of an activity or a finding, oldest first."""
    table = ATTACHMENTS.table
    with unit_of(work, write=False) as unit:
        _kind, owner = _owner(unit, owner_id)
        rows = unit.conn.execute(
            select(table)
            .where(table.c.owner_id == owner, table.c.deleted.is_(False))
            .order_by(table.c.created_at, table.c.id)
        ).mappings()
        return [ATTACHMENTS.to_read(row) for row in rows]


Owner = TypeVar("Owner", ActivityRead, FindingRead)


def with_attachments(
    work: Work, repository: Repository[Owner], record_id: str
) -> tuple[Owner, list[AttachmentRead]]:
    """An activity or a finding (`repository`'s; a deleted one too) and its live attachments
    (none for a deleted one), read in one unit: a snapshot, so that a delete landing between
    the two reads (`d`, `y` in a view, which reads again as the question closes) cannot refuse
    the attachments of a record just read live."""
    with unit_of(work, write=False) as unit:
        record = repository.get(unit, record_id, include_deleted=True)
        return record, [] if record.deleted else attachments_of(unit, record.id)


def get_attachment(work: Work, attachment_id: str) -> AttachmentRead:
    """One live attachment by its id or a unique part of it."""
    return ATTACHMENTS.get(work, attachment_id)


def open_content(work: Work, attachment: AttachmentRead) -> io.BufferedReader:
    """The kept bytes of an attachment, open for reading (a hub's, a chunk at a time from its
    database); refused in one line when this store does not hold them."""
    with unit_of(work, write=False) as unit:
        kept = unit.store.blobs
    try:
        return kept.open(attachment.sha256)  # type: ignore[return-value]
    except FileNotFoundError:
        code = "attachment.not_in_hub" if kept.in_database else "attachment.not_here"
        raise NotFound(code, name=quote(attachment.file_name, 80)) from None


def save_copy(work: Work, attachment_id: str, out: Path, *, force: bool = False) -> Path:
    """Write a copy of an attachment's bytes to `out` (not over an existing file without
    `force`, never over what the data folder holds); the bytes are checked against the record's
    SHA-256 as they are copied, and nothing is left at `out` when they do not match."""
    from dxfield.store.maintenance import writing_atomically

    with unit_of(work, write=False) as unit:
        attachment = ATTACHMENTS.get(unit, attachment_id)
        store = unit.store
    out = Path(out).expanduser()
    if not force and os.path.lexists(out):
        raise LocalizedError("attachment.out_exists", path=_shown(out))
    digest = hashlib.sha256()

    class _Damaged(Exception):
        pass

    try:
        with open_content(store, attachment) as source, writing_atomically(store, out) as sink:
            while piece := source.read(_READ_PIECE):
                digest.update(piece)
                sink.write(piece)
            if digest.hexdigest() != attachment.sha256:
                raise _Damaged
    except _Damaged:
        raise LocalizedError("attachment.damaged", name=quote(attachment.file_name, 80)) from None
    return out


def detach(work: Work, attachment_id: str) -> AttachmentRead:
    """Delete an attachment (its history stays, and its bytes until `prune` finds no live
    record needs them); the attachment as it was."""
    with unit_of(work, write=True) as unit:
        attachment = ATTACHMENTS.get(unit, attachment_id)
        ATTACHMENTS.delete(unit, attachment.id)
    return attachment


def size_text(size: int) -> str:
    """A size as a person reads it: `812 bytes`, `34.5 KB`, `2.3 MB`, `50 MB` (KB and MB of
    1,024, as the file managers count them; a tenth below 100, none when it is 0). The one
    formatter of sizes: attachments, check, prune and the bundles' lines and limits."""
    if size < 1024:
        return ngettext("{count} byte", "{count} bytes", size).format(count=size)
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            text = f"{value:.1f}" if value < 100 else f"{value:,.0f}"
            return f"{text.removesuffix('.0')} {unit}"
    raise AssertionError("unreachable")


def what_is(media_type: str) -> str:
    """A media type in words, in the user's language ("a PDF")."""
    message = _WHAT.get(media_type)
    return gettext(message) if message else media_type
