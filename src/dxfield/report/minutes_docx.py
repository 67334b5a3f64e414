"""The minutes as a Word file (python-docx): A4 with the margins of minutes.py, 游明朝 for East
Asian text (MS 明朝 its alternative name in the font table, for a Word without 游明朝),
游ゴシック for headings, the attendees and the actions as tables, and the photos (small copies,
`report/photos.py`) as pictures as wide as the text, at most `PHOTO_HEIGHT_MM` high (two of a
4:3 landscape photo on a page), each with its caption under it on the same page.

Text from a record may hold characters XML 1.0 cannot (a control character from another
device's bundle): they are dropped here, the rest is written as it is. Of a note's Markdown only
list items (・) and strong emphasis (its marks dropped) are read (`minutes.plain_note`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from dxfield import clock
from dxfield.report.fonts import (
    BODY_FONT,
    BODY_FONT_ALT,
    HEADING_FONT,
    HEADING_FONT_ALT,
    HEADING_LATIN_FONT,
    LATIN_FONT,
)
from dxfield.report.minutes import (
    MARGINS_MM,
    PAGE_MM,
    Minutes,
    MinutesEntry,
    MinutesPhoto,
    plain_note,
)

_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What XML 1.0 cannot hold (tab, newline and carriage return it can)."""
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
PHOTO_HEIGHT_MM = 100
"""The tallest a photo is shown (a portrait photo would otherwise take most of a page)."""


def xml_text(value: Any) -> str:
    """`value` as text Word can hold: the characters XML 1.0 refuses are dropped."""
    return _NOT_IN_XML.sub("", str(value))


def _run_properties(element: Any) -> Any:
    """The `w:rPr` of a style or of the document's defaults, made when missing."""
    r_pr = element.find(qn("w:rPr"))
    if r_pr is None:
        r_pr = OxmlElement("w:rPr")
        element.append(r_pr)
    return r_pr


def _fonts(element: Any, latin: str, east_asian: str) -> None:
    """Name the fonts of a style's (or the defaults') run properties: Latin and East Asian, no
    theme fonts (a theme font would win over the names)."""
    r_pr = _run_properties(element)
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(theme)) is not None:
            del fonts.attrib[qn(theme)]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:cs"), latin)
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:eastAsia"), "ja-JP")


def _font_table(document: Any) -> None:
    """Declare 游明朝 and 游ゴシック in the font table with their older names as altName: where
    Word lacks them, it takes MS 明朝 and MS ゴシック."""
    for part in document.part.package.iter_parts():
        if str(part.partname) != "/word/fontTable.xml":
            continue
        entries = "".join(
            f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="80"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'
            for name, alt, family in (
                (BODY_FONT, BODY_FONT_ALT, "roman"),
                (HEADING_FONT, HEADING_FONT_ALT, "modern"),
            )
        )
        blob = part.blob.decode("utf-8")
        part._blob = blob.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


def _styles(document: Any) -> None:
    styles = document.styles
    normal = styles["Normal"]
    normal.font.size = Pt(10.5)
    _fonts(normal.element, LATIN_FONT, BODY_FONT)
    # Word's own defaults (docDefaults) too, so that nothing falls back to a theme font.
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        r_pr_default = defaults.find(qn("w:rPrDefault"))
        if r_pr_default is not None:
            _fonts(r_pr_default, LATIN_FONT, BODY_FONT)
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12), ("Heading 3", 11)):
        style = styles[name]
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = None
        _fonts(style.element, HEADING_LATIN_FONT, HEADING_FONT)
    caption = styles["Caption"]  # under a photo: the body's font, not the template's blue
    caption.font.size = Pt(9.5)
    caption.font.bold = False
    caption.font.italic = False
    caption.font.color.rgb = None
    _fonts(caption.element, LATIN_FONT, BODY_FONT)
    caption.paragraph_format.space_after = Pt(10)
    styles["Title"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _page(document: Any) -> None:
    for section in document.sections:
        section.page_width = Mm(PAGE_MM[0])
        section.page_height = Mm(PAGE_MM[1])
        section.top_margin = Mm(MARGINS_MM["top"])
        section.bottom_margin = Mm(MARGINS_MM["bottom"])
        section.left_margin = Mm(MARGINS_MM["left"])
        section.right_margin = Mm(MARGINS_MM["right"])


def _paragraphs(document: Any, blocks: list[str]) -> None:
    """Each line of each block a paragraph (empty lines between them dropped), list items
    marked ・ and emphasis marks dropped (`plain_note`)."""
    for block in blocks:
        for line in plain_note(block).splitlines():
            if line.strip():
                document.add_paragraph(xml_text(line))


def _table(document: Any, header: list[str], rows: list[list[str]], widths_mm: list[int]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = xml_text(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            lines = xml_text(text).splitlines() or [""]
            cell.text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)
    for row in table.rows:  # Word reads the cells' widths, LibreOffice the columns'
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    document.add_paragraph()


def _entry(
    document: Any, minutes: Minutes, e: MinutesEntry, words: dict[str, str], *, new_page: bool
) -> None:
    many = len(minutes.entries) > 1
    level = 2 if many else 1
    if many:  # each activity after the first on a page of its own
        title = document.add_heading(xml_text(e.title), level=1)
        title.paragraph_format.page_break_before = new_page
    none = words["none"]

    def heading(key: str) -> None:
        document.add_heading(words[key], level=level)

    heading("subject")
    details = e.kind + (words["separator"] + e.municipality if e.municipality else "")
    document.add_paragraph(xml_text(words["in_brackets"].format(text=e.title, details=details)))
    heading("when")
    document.add_paragraph(xml_text(e.when))
    _paragraphs(document, e.notes.when)
    heading("place")
    if e.location:
        document.add_paragraph(xml_text(e.location))
    elif not e.notes.place:
        document.add_paragraph(none)
    _paragraphs(document, e.notes.place)
    heading("attendees")
    rows = [[words["organization"], name] for name in e.organizations]
    if e.participants_text:
        rows.append([words["participants"], e.participants_text])
    if e.head_count is not None:
        rows.append([words["head_count"], words["people"].format(count=e.head_count)])
    if rows:
        _table(document, [words["category"], words["name"]], rows, [30, TEXT_WIDTH_MM - 30])
    elif not e.notes.attendees:
        document.add_paragraph(none)
    _paragraphs(document, e.notes.attendees)
    for key, blocks in (
        ("agenda", e.notes.agenda),
        ("content", e.notes.content),
        ("decisions", e.notes.decisions),
    ):
        heading(key)
        if blocks:
            _paragraphs(document, blocks)
        else:
            document.add_paragraph(none)
    heading("next_steps")
    _paragraphs(document, e.notes.next_steps)
    for finding in e.findings:
        line = words["finding"].format(kind=finding.kind, text=finding.text)
        if finding.photos:  # its photos are in 写真, below
            line = words["in_brackets"].format(text=line, details=finding.photos)
        document.add_paragraph(xml_text(line), style="List Bullet")
    if e.actions:
        header = [words["action"], words["due"], words["status"]]
        widths = [TEXT_WIDTH_MM - 60, 40, 20]
        if minutes.include_personal:
            header.insert(1, words["owner"])
            widths = [TEXT_WIDTH_MM - 95, 35, 40, 20]
        rows = []
        for a in e.actions:
            row = [a.text, a.due, a.status]
            if minutes.include_personal:
                row.insert(1, a.owner)
            rows.append(row)
        _table(document, header, rows, widths)
    if not (e.notes.next_steps or e.findings or e.actions):
        document.add_paragraph(none)
    if e.photos:
        heading("photos")
        for photo in e.photos:
            _photo(document, photo)
    if e.files:
        heading("files")
        for item in e.files:
            document.add_paragraph(xml_text(item.label), style="List Bullet")


def photo_size_mm(width: int, height: int) -> tuple[float, float]:
    """A photo of `width` x `height` pixels as shown: as wide as the text, or less so that it is
    at most PHOTO_HEIGHT_MM high."""
    if width <= 0 or height <= 0:
        return (TEXT_WIDTH_MM, PHOTO_HEIGHT_MM)
    shown_width = float(TEXT_WIDTH_MM)
    shown_height = shown_width * height / width
    if shown_height > PHOTO_HEIGHT_MM:
        shown_height = float(PHOTO_HEIGHT_MM)
        shown_width = shown_height * width / height
    return (shown_width, shown_height)


def _photo(document: Any, photo: MinutesPhoto) -> None:
    """The photo, centred, with its caption under it (kept on the same page); in its place, the
    line saying why it cannot be shown."""
    if photo.image is not None:
        width, height = photo_size_mm(photo.width, photo.height)
        picture = document.add_paragraph()
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.keep_with_next = True
        picture.paragraph_format.space_after = Pt(2)
        picture.add_run().add_picture(io.BytesIO(photo.image), width=Mm(width), height=Mm(height))
    caption = document.add_paragraph(xml_text(photo.label), style="Caption")
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if photo.problem_text:
        caption.add_run(xml_text(photo.problem_text))


def render_docx(minutes: Minutes, words: dict[str, str]) -> bytes:
    """The minutes as the bytes of a .docx file."""
    document = Document()
    _page(document)
    _styles(document)
    _font_table(document)
    properties = document.core_properties
    properties.title = xml_text(minutes.title)
    properties.author = ""  # python-docx's default names itself; a person's name stays out too
    properties.last_modified_by = ""
    properties.comments = ""
    now = clock.now().astimezone(dt.UTC).replace(tzinfo=None)
    properties.created = now
    properties.modified = now
    properties.revision = 1
    document.add_heading(xml_text(minutes.title), level=0)
    written = document.add_paragraph(words["written_on"].format(date=minutes.written_on))
    written.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for index, entry in enumerate(minutes.entries):
        _entry(document, minutes, entry, words, new_page=index > 0)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
