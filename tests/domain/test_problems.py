"""The error codes of the core: each registered once, each rendering in Japanese and in English
with its values, the Japanese in Japanese words, and `docs/errors.md` listing them all.

`DXFIELD_WRITE_DOCS=1 uv run pytest tests/domain/test_problems.py` rewrites docs/errors.md.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import string
from pathlib import Path

import pytest

import dxfield
from dxfield.i18n import LocalizedError, gettext, registered_problems

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"

# Words a Japanese message may hold in Latin letters: names of formats and programs, not words.
PROPER_NOUNS = {"dxfield", "SQLite", "UTF", "TOML", "CSV", "JSON", "ID", "base64", "chmod", "Excel"}
# Names of file formats and the programs they belong to, as the office says them.
PROPER_NOUNS |= {"M", "G"}  # a size as it is typed: 50M, 1G
PROPER_NOUNS |= {"PDF", "Word", "PowerPoint", "MB", "JPEG", "PNG", "WebP", "HEIC"}
# Values a person types or a file holds, quoted as they are: a language code, a table name,
# file endings, a card's field.
PROPER_NOUNS |= {"ja", "en", "activities", "md", "html", "id"}
# The hub's server and what its keeper types as it is: SQL's words, the names of settings.
PROPER_NOUNS |= {
    "PostgreSQL",
    "UTF8",
    "C",
    "CREATE",
    "EXTENSION",
    "ENCODING",
    "CONNECT",
    "createdb",
}
PROPER_NOUNS |= {"PGSERVICEFILE", "PGPASSFILE"}  # the environment variables libpq reads
# Commands, options, paths and settings quoted as typed (pg_dump --format=custom, ~/.pgpass,
# LC_CTYPE 'C.UTF-8', postgresql://): not words to translate.
TYPED = re.compile(r"[!-~]*[_=/~.-][!-~]*")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def every_problem() -> dict[str, str]:
    """Every code the program registers (every module imported first), with its message."""
    for module in pkgutil.walk_packages(dxfield.__path__, "dxfield."):
        if ".migrations" in module.name or module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
    return registered_problems()


def sample_values(message: str) -> dict[str, object]:
    """A value for each placeholder of `message`: a number where it is formatted as one."""
    values: dict[str, object] = {}
    for _text, name, spec, _conversion in string.Formatter().parse(message):
        if name:
            values[name] = 1234 if spec and spec[-1] in ",d" else f"<{name}>"
    return values


def without_placeholders(text: str) -> str:
    return re.sub(r"\{[^{}]*\}", "", text)


@pytest.fixture(scope="module")
def problems() -> dict[str, str]:
    return every_problem()


def test_codes_are_named_area_dot_what(problems: dict[str, str]) -> None:
    assert problems
    odd = [code for code in problems if not re.fullmatch(r"[a-z][a-z0-9_]*\.[a-z0-9_]+", code)]
    assert not odd, odd


def test_every_code_renders_in_both_languages_with_its_values(problems: dict[str, str]) -> None:
    for code, message in problems.items():
        values = sample_values(message)
        error = LocalizedError(code, **values)
        ja, en = error.message("ja"), error.message("en")
        assert en == message.format(**values), code
        for name in values:
            assert f"<{name}>" in ja or "1,234" in ja, (code, ja)
        words = without_placeholders(gettext(message, "ja"))
        if re.search(r"[A-Za-z]{3,}", without_placeholders(message)):
            assert JAPANESE.search(words), f"{code}: not translated: {ja}"


def test_japanese_messages_hold_no_english_words(problems: dict[str, str]) -> None:
    found = {}
    for code, message in problems.items():
        typed = TYPED.sub(" ", without_placeholders(gettext(message, "ja")))
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9]*", typed))
        if words - PROPER_NOUNS:
            found[code] = sorted(words - PROPER_NOUNS)
    assert not found, found


def test_an_error_names_its_field_in_the_readers_language_only() -> None:
    error = LocalizedError("date.empty", field="date")
    assert error.message("ja") == "日付: 日付が空です"
    assert error.message("en") == "date: the date is empty"


def test_a_value_that_is_an_error_or_words_renders_in_the_readers_language() -> None:
    from dxfield.store import records

    inner = LocalizedError("value.required", field="title")
    outer = LocalizedError("table.row", number=3, problem=inner)
    assert outer.message("ja") == "3行目: タイトル: 必須です"
    assert outer.message("en") == "row 3: title: is required"
    gone = LocalizedError("record.deleted", kind=records.kind_words("activity"), id="01ab")
    assert gone.message("ja") == "活動 01ab は削除されています"
    assert gone.message("en") == "activity 01ab has been deleted"


def test_an_unregistered_code_is_refused() -> None:
    with pytest.raises(KeyError, match="unregistered"):
        LocalizedError("nowhere.never_registered", value="x")


def test_a_code_is_registered_once() -> None:
    from dxfield.i18n import N_
    from dxfield.i18n import problems as register

    with pytest.raises(ValueError, match="twice"):
        register({"date.empty": N_("something else entirely")})


def errors_markdown(problems: dict[str, str]) -> str:
    """docs/errors.md: every code with its message in English and in Japanese."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Error codes",
        "",
        "Every error the core (domain, store, sync, report) raises carries one of these codes, the",
        "field it concerns and its values (`{placeholders}`); the CLI and the app render it from the",
        "message catalogue in the reader's language, prefixed by the field's name. Generated by",
        "`tests/domain/test_problems.py` (`DXFIELD_WRITE_DOCS=1` rewrites it; a test checks it is",
        "current).",
        "",
        "| code | English | 日本語 |",
        "| --- | --- | --- |",
    ]
    for code in sorted(problems):
        message = problems[code]
        lines.append(f"| `{code}` | {cell(message)} | {cell(gettext(message, 'ja'))} |")
    return "\n".join(lines) + "\n"


def test_the_table_of_error_codes_is_current(problems: dict[str, str]) -> None:
    expected = errors_markdown(problems)
    if os.environ.get("DXFIELD_WRITE_DOCS") == "1":
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.exists() and DOC.read_text(encoding="utf-8") == expected, (
        "run `DXFIELD_WRITE_DOCS=1 uv run pytest tests/domain/test_problems.py`"
    )
