"""A pseudo-locale that wraps every message the catalogue gives as `⟦…⟧`, and the reader that
finds the words a person would see outside those wrappers: words that never went through the
catalogue (written inline in the code, or a library's own).

What may show outside the wrappers without being a leak: data (taken from the store the app or
the CLI shows), numbers, dates, ids and hashes, key names, punctuation and box drawing, and the
few proper nouns and codes of ALLOWED.
"""

from __future__ import annotations

import gettext
import html
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

OPEN, CLOSE = "⟦", "⟧"


class PseudoTranslations(gettext.NullTranslations):
    """Every message as its English, wrapped: `⟦Saved⟧`; placeholders are filled after the
    lookup, so a value sits inside the wrapper (`⟦Saved “会議”⟧`), which is fine. It keeps the
    messages it gave (`given`): a word cut short where a dialog covers a screen is judged by
    them."""

    def __init__(self) -> None:
        super().__init__()
        self.given: set[str] = set()

    def gettext(self, message: str) -> str:
        if not message:
            return message
        self.given.add(message)
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return self.ngettext(msgid1, msgid2, n)


# Proper nouns and codes a person may read as they are, in any language (at most 30, each
# with why). Compared case-sensitively, as whole words.
ALLOWED: dict[str, str] = {
    "dxfield": "the program's name (title bar, `Usage: dxfield`)",
    "DX": "the programme's own term (地域DX), also inside data",
    "CSV": "a file format's name",
    "XLSX": "a file format's name",
    "HTML": "a file format's name",
    "Markdown": "a file format's name",
    "JSON": "a file format's name (`--json`)",
    "UTF": "an encoding's name (UTF-8)",
    "BOM": "the byte order mark Excel needs, by its name",
    "Excel": "a product's name",
    "PostgreSQL": "a product's name",
    "SQLite": "a product's name",
    "null": "JSON's word, in a record's fields as stored (the conflicts view)",
    "true": "JSON's word, in a record's fields as stored (the conflicts view)",
    "false": "JSON's word, in a record's fields as stored (the conflicts view)",
}

# Key names as Textual's footer and the help show them, and as the CLI's help quotes them.
KEY_NAMES = {
    "ctrl", "shift", "alt", "esc", "escape", "enter", "tab", "space", "home", "end", "pgup",
    "pgdn", "up", "down", "left", "right", "del", "delete", "ins", "insert", "backspace",
    "question_mark", "slash", "plus", "minus", "super",
}  # fmt: skip

JAPANESE = r"\u3005\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uff9f"
WORD = re.compile(rf"[A-Za-z]+(?:['’][A-Za-z]+)*|[{JAPANESE}]+")
# Ids, hashes and codes: hex runs with a digit, UUIDs (whole or cut), `1-36ba…` revisions,
# words with a digit (FY2024, R6).
CODE = re.compile(
    r"\b(?=[0-9a-fA-F-]*\d)[0-9a-fA-F]+(?:-[0-9a-fA-F]+)*\b|\b\w*\d\w*\b"
    r"|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"  # and a field's name as stored (`end_time`)
)
IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# A wrapper whose end is not on the line (cut with "…", wrapped to the next line) ends where
# its column does: at an ellipsis, a box-drawing character or a wide gap of spaces.
COLUMN_END = re.compile(r"…|[\u2500-\u259f]|\s{3,}")
# What follows a word cut short: its column's end, maybe after a space (a region's edge).
CUT = re.compile(r"\s?(?:…|\ufffd|[\u2500-\u259f])|$")
BOX = re.compile(r"[\u2500-\u259f]")


def outside_wrappers(line: str, depth: int = 0) -> str:
    """The text of one screen line that no wrapper holds (wrappers may nest); `depth`: the
    wrappers left open by the lines before, that this one goes on (see `open_column`)."""
    kept: list[str] = []
    i = 0
    while i < len(line):
        char = line[i]
        if char == OPEN:
            depth += 1
        elif char == CLOSE:
            if depth:
                depth -= 1
            else:
                # The end of a message that began on an earlier line: the text of its column
                # before this point was inside it.
                start = _column_start("".join(kept))
                del kept[start:]
        elif depth:
            end = COLUMN_END.match(line, i)
            if end:  # a wrapper cut short: its column ends here
                depth = 0
                kept.append(char)
        else:
            kept.append(char)
        i += 1
    return "".join(kept)


def open_column(line: str, carried: int | None = None) -> int | None:
    """The column (in cells) where the message left open at the end of `line` began, if one
    was: the text it wraps goes on at the next line (`carried`: a message this line goes on)."""
    from rich.cells import cell_len

    opened: list[int] = [carried] if carried is not None else []
    start = len(line) - len(line.lstrip()) if carried is not None else 0
    i = start
    while i < len(line):
        char = line[i]
        if char == OPEN:
            opened.append(cell_len(line[:i]))
        elif char == CLOSE:
            if opened:
                opened.pop()
        elif opened and COLUMN_END.match(line, i):  # cut short: not wrapped on
            opened.clear()
        i += 1
    return opened[0] if opened else None


def _cells(line: str) -> list[int]:
    """The cell each character of `line` begins at (wide characters take two)."""
    from rich.cells import cell_len

    starts, cell = [], 0
    for char in line:
        starts.append(cell)
        cell += cell_len(char)
    return starts


def _left_open(line: str) -> list[int]:
    """The cells where the messages begin that `line` leaves open at a column's end (a box
    line, a wide gap or the line's end), not cut short with "…": they may go on below."""
    cells = _cells(line)
    found: list[int] = []
    opened: list[int] = []
    for i, char in enumerate(line):
        if char == OPEN:
            opened.append(i)
        elif char == CLOSE:
            if opened:
                opened.pop()
        elif opened and (end := COLUMN_END.match(line, i)):
            if end.group() != "…":
                found.append(cells[opened[0]])
            opened.clear()
    if opened:
        found.append(cells[opened[0]])
    return found


def _piece(line: str, cell: int) -> tuple[int, int] | None:
    """The text of `line` from `cell` to its column's end, as (start, end) indexes; None when
    no text begins there."""
    cells = _cells(line)
    if cell not in cells:
        return None
    start = cells.index(cell)
    if line[start].isspace() or COLUMN_END.match(line, start):
        return None
    end = COLUMN_END.search(line, start)
    return start, end.start() if end else len(line)


def continued(lines: list[str]) -> list[str]:
    """The lines, the middle lines of a message wrapped over three lines or more (they show
    neither bracket) wrapped again: a middle line's text, at the column where the message
    began, counts as the message's when a line below it, at that column, closes it."""
    out = list(lines)
    for number, line in enumerate(lines):
        for cell in _left_open(line):
            middles: list[tuple[int, int, int]] = []
            for below in range(number + 1, len(lines)):
                found = _piece(lines[below], cell)
                if found is None:
                    break
                text = lines[below][found[0] : found[1]]
                if CLOSE in text:
                    if OPEN not in text.split(CLOSE, 1)[0]:  # the message ends here
                        for row, start, end in reversed(middles):
                            out[row] = (
                                out[row][:start]
                                + OPEN
                                + out[row][start:end]
                                + CLOSE
                                + out[row][end:]
                            )
                    break
                if OPEN in text:
                    break
                middles.append((below, *found))
    return out


def _column_start(text: str) -> int:
    ends = list(COLUMN_END.finditer(text))
    return ends[-1].end() if ends else 0


SVG_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?clip-path="url\(#[^)]*-line-(\d+)\)"'
    r"[^>]*>(.*?)</text>",
    re.DOTALL,
)


def screen_lines(svg: str) -> list[str]:
    """The lines of a screenshot (`App.export_screenshot()`), each span at its column: the
    SVG leaves out the blank cells between spans, which would glue two columns' words."""
    from rich.cells import cell_len

    lines: dict[int, str] = {}
    for x, length, number, content in SVG_TEXT.findall(svg):
        text = html.unescape(content).replace("\xa0", " ").rstrip("\n")
        line = lines.get(int(number), "")
        if text:  # textLength is a character's width times len(text); x counts cells
            column = round(float(x) / (float(length) / len(text)))
            line += " " * (column - cell_len(line))
        lines[int(number)] = line + text
    return [lines[n] for n in sorted(lines)]


@dataclass
class Data:
    """What a store holds, as a person may see it (whole, cut short or wrapped)."""

    texts: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # shown as they are: devices, paths, input

    def add(self, *values: object) -> None:
        for value in values:
            self._add(value)

    def _add(self, value: object) -> None:
        if isinstance(value, str):
            if value.startswith(("{", "[")):
                try:
                    self._add(json.loads(value))
                    return
                except ValueError:
                    pass
            if value.strip():
                self.texts.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._add(key)
                self._add(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self._add(item)

    def add_store(self, path: Path) -> None:
        """Every text of every table of the SQLite store at `path` (read only)."""
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            tables = [
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%'"
                )
            ]
            for table in tables:
                for row in connection.execute(f'SELECT * FROM "{table}"'):
                    self.add(*row)
        finally:
            connection.close()

    def add_name(self, *names: str) -> None:
        """Names shown as they are, however they look: a device's, what a person typed."""
        self.names.update(names)

    def add_path(self, path: Path) -> None:
        """A path shown (a store, a folder): each of its parts is data."""
        self.add_name(str(path), *path.parts)

    def words(self) -> set[str]:
        """The words of the data. A lone code (`workshop`, `site_visit`, a JSON key) is not
        one: shown to a person, it is a leak (the label was not looked up)."""
        prose = {t for t in self.texts if not IDENTIFIER.fullmatch(t)}
        return {w for text in prose | self.names for w in WORD.findall(text)}

    def corpus(self) -> str:
        return "\n".join(sorted(self.texts | self.names))


@dataclass
class Leak:
    where: str  # the screen, verb or input
    word: str
    line: str  # the line it was seen on, as shown

    def __str__(self) -> str:
        return f"{self.where}: {self.word!r} in {self.line.strip()!r}"


class Reader:
    """Finds the words outside wrappers that are not data, keys, codes or ALLOWED."""

    def __init__(
        self, data: Data, *, extra: Iterable[str] = (), messages: Iterable[str] = ()
    ) -> None:
        self.corpus = data.corpus()
        self.data_words = data.words()
        self.extra = set(extra)
        # The words of the messages the catalogue gave (PseudoTranslations.given).
        self.message_words = {w for message in messages for w in WORD.findall(message)}

    def excused(self, word: str) -> bool:
        if word in ALLOWED or word in self.extra:
            return True
        if len(word) == 1 and word.isascii():  # a key (`n`, `D`), or a letter in a code
            return True
        if word.lower() in KEY_NAMES:
            return True
        if word in self.data_words:
            return True
        # Japanese data may be cut or wrapped anywhere: any piece of it is data.
        return not word.isascii() and word in self.corpus

    def cut_data(self, word: str) -> bool:
        """A word cut short where its column ends (`dial…`): data if some data word begins so."""
        return any(w.startswith(word) for w in self.data_words)

    def cut_message(self, word: str) -> bool:
        """A word cut off by a dialog's edge (`provid█`): the start of a message behind it
        whose brackets the dialog hides, if some message given begins a word so."""
        return any(w.startswith(word) and w != word for w in self.message_words)

    def leaks(
        self,
        where: str,
        text: str,
        clean: Callable[[str], str] | None = None,
        *,
        wrapped: bool = False,
    ) -> list[Leak]:
        """The leaks of `text`, line by line (`clean` first takes out of a line what is not
        words: the CLI's flags and verbs).

        `wrapped`: the text was wrapped at spaces to a width (click's help), so one message may
        span lines, and only its first carries the `⟦`: a message left open at the end of a
        line goes on at the next if that line is indented at least to where the message
        began (its paragraph, or its column of a list); a blank or less indented line (the
        next entry of a list) ends it."""
        from rich.cells import cell_len

        found: list[Leak] = []
        carried: int | None = None
        lines = text.splitlines()
        # Help wrapped at spaces (`wrapped`) goes on by indentation; a screen's messages
        # wrapped in a column go on at that column, closed further down (`continued`).
        for line, raw in zip(lines if wrapped else continued(lines), lines, strict=True):
            indent = cell_len(line) - cell_len(line.lstrip())
            if carried is not None and (not line.strip() or indent < carried):
                carried = None
            shown = clean(line) if clean else line
            if carried is not None:
                shown = outside_wrappers(shown.lstrip(), depth=1)
            else:
                shown = outside_wrappers(shown)
            carried = open_column(line, carried) if wrapped else None
            rest = CODE.sub(" ", shown)
            for match in WORD.finditer(rest):
                word = match.group()
                if self.excused(word):
                    continue
                if CUT.match(rest, match.end()) and self.cut_data(word):
                    continue
                if BOX.match(rest, match.end()) and self.cut_message(word):
                    continue
                found.append(Leak(where, word, raw))
        return found


def report(leaks: Iterable[Leak]) -> str:
    """One line per place and the words leaking there, each line it was seen on once."""
    by_place: dict[str, dict[str, list[str]]] = {}
    for leak in leaks:
        lines = by_place.setdefault(leak.where, {}).setdefault(leak.line.strip(), [])
        if leak.word not in lines:
            lines.append(leak.word)
    out = []
    for where, lines in by_place.items():
        out.append(f"== {where}")
        out.extend(f"   {' '.join(words)!s:<30} | {line}" for line, words in lines.items())
    return "\n".join(out)
