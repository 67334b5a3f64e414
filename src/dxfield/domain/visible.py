"""Text as a person may safely read it on a terminal: every control character shown, not obeyed.

A record's text can come from any enrolled laptop's bundle, a CSV row or a typed field, and a
terminal obeys what it is sent: ESC sequences clear the screen, set the window title, write the
clipboard (OSC 52) or hide a link (OSC 8); a bell rings; a backspace or carriage return writes
over what was shown; a bidi override (U+202E) makes text read in another order than it is
stored. `visible` turns each such character into a short, visible escape, so what reaches the
screen is exactly what is stored, character for character:

- the C0 controls and DEL by their ASCII names: `<ESC>`, `<BEL>`, `<BS>`, `<CR>`, `<LF>`,
  `<TAB>`, `<NUL>`, `<DEL>`...;
- the C1 controls (U+0080-U+009F), the bidi embeddings, overrides, isolates and marks, the line
  and paragraph separators and lone surrogates by their code point: `<U+202E>`.

Japanese text, emoji (joiners and variation selectors included) and punctuation are left as they
are, and a string with nothing to show is returned itself, not a copy. Multi-line text (notes)
keeps its newlines as lines and shows a tab as four spaces; everything else is one line.

The escapes are plain ASCII, one cell per character in every terminal font, and hold no
character `visible` would escape again. Rich and Textual markup do not read them (`[` is their
mark), but Markdown reads `<ESC>` as an HTML tag and drops it: text bound for Markdown asks for
`markdown=True`, which writes `\\<ESC>`, shown as `<ESC>`.

`json_visible` does the same for JSON text: `json.dumps(..., ensure_ascii=False)` escapes the C0
controls but leaves DEL, C1, bidi controls and lone surrogates raw; it writes them as `\\uXXXX`,
which any JSON reader decodes back to the same character.
"""

from __future__ import annotations

import functools
import re

__all__ = ["json_visible", "visible"]

_C0_NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "TAB",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]

# Format characters that change the order or the lines text is shown in.
_BIDI_AND_BREAKS = [
    *(0x061C, 0x200E, 0x200F),  # Arabic letter mark, left-to-right and right-to-left marks
    *(0x2028, 0x2029),  # line and paragraph separators
    *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
    *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
]


@functools.cache
def _one_line() -> dict[int, str]:
    """Each character `visible` shows, by its code point, as one line shows it."""
    table: dict[int, str] = {code: f"<{name}>" for code, name in enumerate(_C0_NAMES)}
    table[0x7F] = "<DEL>"
    table.update({code: f"<U+{code:04X}>" for code in range(0x80, 0xA0)})
    table.update({code: f"<U+{code:04X}>" for code in _BIDI_AND_BREAKS})
    # Lone surrogates (JSON's "\ud800" decodes to one) cannot even be encoded for the terminal.
    table.update({code: f"<U+{code:04X}>" for code in range(0xD800, 0xE000)})
    return table


def _pattern(table: dict[int, str]) -> re.Pattern[str]:
    codes = sorted(table)
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    body = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return re.compile(f"[{body}]")


# The tables are made when first used, not at import: the thousands of entries (the surrogates)
# cost the command line's start a twentieth of `dxfield --help`, which shows no record's text.
@functools.cache
def _tables(multiline: bool, markdown: bool) -> tuple[re.Pattern[str], dict[int, str]]:
    """What to look for, and the translation table, for `visible`'s options."""
    table = dict(_one_line())
    if multiline:
        table[0x09] = "    "
        del table[0x0A]
    found = _pattern(table)
    if markdown:
        table = {
            code: "\\" + text if text.startswith("<") else text for code, text in table.items()
        }
    return found, str.maketrans(table)


@functools.cache
def _json_table() -> tuple[re.Pattern[str], dict[int, str]]:
    table = {code: f"\\u{code:04x}" for code in _one_line() if code >= 0x7F}
    return _pattern(table), str.maketrans(table)


def visible(text: str, *, multiline: bool = False, markdown: bool = False) -> str:
    """`text` with every control and bidi character shown as an escape (`<ESC>`, `<U+202E>`).

    `multiline` keeps newlines (a tab becomes four spaces): for notes shown as lines. Anything
    else, a table cell or a title, stays on one line, a newline shown as `<LF>`. `markdown`
    writes each escape as `\\<ESC>`, so that Markdown shows it instead of taking it for HTML.
    """
    found, table = _tables(multiline, markdown)
    if found.search(text) is None:
        return text
    return text.translate(table)


def json_visible(dumped: str) -> str:
    """JSON text (from `json.dumps`) with the characters `visible` shows written as `\\uXXXX`.

    Outside its strings JSON text is ASCII, so every such character is inside a string, where
    the escape means the same character: the data read back is unchanged.
    """
    found, table = _json_table()
    if found.search(dumped) is None:
        return dumped
    return dumped.translate(table)
