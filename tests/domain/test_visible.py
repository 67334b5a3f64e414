"""`visible`: every control character shown as an escape, everything else left exactly as it is."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dxfield.domain.visible import json_visible, visible

BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def escaped_characters() -> list[str]:
    """Every character `visible` must show: C0, DEL, C1, the bidi controls and marks, the line
    and paragraph separators, lone surrogates."""
    codes = [*range(0x20), 0x7F, *range(0x80, 0xA0), *BIDI_CONTROLS]
    codes += [0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0xD800, 0xDBFF, 0xDC00, 0xDFFF]
    return [chr(code) for code in codes]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;pwned\x07", "<ESC>]0;pwned<BEL>"),  # sets the window title
        ("\x1b[2J", "<ESC>[2J"),  # clears the screen
        ("\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\", None),  # a hidden link
        ("\x1b]52;c;cHduZWQ=\x07", "<ESC>]52;c;cHduZWQ=<BEL>"),  # writes the clipboard
        ("承認済み\r却下", "承認済み<CR>却下"),  # a carriage return writes over
        ("abc\b\b\bxyz", "abc<BS><BS><BS>xyz"),
        ("\x00\x7f", "<NUL><DEL>"),
        ("\x9b2J", "<U+009B>2J"),  # C1 CSI
        ("\u202eabc\u202c", "<U+202E>abc<U+202C>"),  # right-to-left override, pop
        ("\u2067x\u2069", "<U+2067>x<U+2069>"),  # isolates
        ("a\u2028b", "a<U+2028>b"),
        ("one\ntwo\tthree", "one<LF>two<TAB>three"),
    ],
)
def test_each_kind_of_control_is_shown_as_an_escape(text: str, shown: str | None) -> None:
    result = visible(text)
    if shown is not None:
        assert result == shown
    assert not any(c in result for c in escaped_characters())


@pytest.mark.parametrize("char", escaped_characters())
def test_no_escaped_character_survives_on_one_line_or_as_lines(char: str) -> None:
    for multiline in (False, True):
        result = visible(f"前{char}後", multiline=multiline)
        assert result.startswith("前") and result.endswith("後")
        if multiline and char == "\n":
            assert result == "前\n後"  # notes keep their lines
        else:
            assert char not in result
            assert result.isprintable()


def test_escapes_are_distinct_so_the_text_can_be_read_back() -> None:
    shown = [visible(c) for c in escaped_characters()]
    assert len(set(shown)) == len(shown)
    assert visible("\r\n") == "<CR><LF>"  # not one "line break"


def test_multiline_keeps_newlines_only_and_shows_tabs_as_spaces() -> None:
    notes = "一行目\n\t二行目\x1b[31m\r\n三行目"
    assert visible(notes, multiline=True) == "一行目\n    二行目<ESC>[31m<CR>\n三行目"


@pytest.mark.parametrize(
    "text",
    [
        "豊岡市 奥矢根区 ワークショップ(第2回)",
        "令和6年7月17日「配送DX」説明会、参加者12名。",
        "ｶﾀｶﾅ ＡＢＣ　全角スペース ㈱ ①",
        "👨‍👩‍👧 family, ❤️ heart, 🇯🇵 flag, 1️⃣ keycap",  # ZWJ, variation selectors
        "C:\\Users\\tanaka\\new <b>[bold]</b> `code` *em* | # ~ & ' \"",
        "مرحبا שלום",  # right-to-left scripts without controls
        "",
    ],
)
def test_japanese_text_emoji_and_punctuation_are_the_very_same_string(text: str) -> None:
    assert visible(text) is text
    assert visible(text, multiline=True) is text
    assert visible(text, markdown=True) is text


@given(st.text())
def test_printable_text_is_left_alone_and_controls_never_pass(text: str) -> None:
    result = visible(text)
    assert not any(c in result for c in escaped_characters())
    assert not any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in result)
    if not any(c in text for c in escaped_characters()):
        assert result is text
    assert visible(result) == result  # the escapes hold nothing to escape again


def test_markdown_form_puts_a_backslash_before_each_escape() -> None:
    assert visible("a\x1bb\u202e", markdown=True) == "a\\<ESC>b\\<U+202E>"
    assert visible("x\n\ty", multiline=True, markdown=True) == "x\n    y"


def test_json_keeps_its_meaning_and_loses_its_raw_controls() -> None:
    value = {"title": "会議\x1b[2J\x7f\x85\u202e\u2066\ud800 終", "名前": "豊岡市"}
    dumped = json.dumps(value, ensure_ascii=False)
    assert "\u202e" in dumped and "\x85" in dumped  # what json.dumps alone lets through
    safe = json_visible(dumped)
    assert json.loads(safe) == value
    assert not any(c in safe for c in escaped_characters())
    assert "豊岡市" in safe  # Japanese stays readable
    plain = json.dumps({"a": "豊岡市"}, ensure_ascii=False)
    assert json_visible(plain) is plain
