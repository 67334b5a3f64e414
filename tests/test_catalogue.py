"""The message catalogues: every message the code says is in both, translated, with the same
placeholders; the compiled catalogues are those of the .po files; and no Japanese is written
inline in the code any more (the words live in the catalogue, the code says them in English)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

catalog_tool = pytest.importorskip("catalog")  # scripts/catalog.py (needs Babel: dev group)

PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}:!]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.fixture(scope="module")
def source() -> dict[tuple[str | None, str], object]:
    return {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): m
        for m in catalog_tool.template()
        if m.id
    }


@pytest.mark.parametrize("lang", catalog_tool.LANGUAGES)
def test_every_message_the_code_says_is_in_the_catalogue(lang: str, source: dict) -> None:
    catalog = catalog_tool.read(lang)
    have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}
    lacking = sorted(str(k) for k in set(source) - have)
    assert not lacking, f"run `uv run python scripts/catalog.py update`: {lacking[:20]}"
    stale = sorted(str(k) for k in have - set(source))
    assert not stale, f"messages the code no longer says: {stale[:20]}"


@pytest.mark.parametrize("lang", catalog_tool.LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    problems = []
    for message in catalog_tool.read(lang):
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        wanted = placeholders(forms(message.id)[0])
        for form in forms(message.string):
            if not form:
                problems.append(f"untranslated: {message.id!r}")
            elif placeholders(form) != wanted:
                problems.append(f"placeholders {placeholders(form)} != {wanted}: {message.id!r}")
    assert not problems, "\n".join(problems[:30])


@pytest.mark.parametrize("lang", catalog_tool.LANGUAGES)
def test_the_compiled_catalogue_is_the_po(lang: str) -> None:
    expected = catalog_tool.compiled(catalog_tool.read(lang))
    assert catalog_tool.mo_path(lang).read_bytes() == expected, (
        "run `uv run python scripts/catalog.py compile`"
    )


def test_placeholders_are_found() -> None:
    assert placeholders("{count:,} of {name} {{literal}} {value!r}") == {"count", "name", "value"}


JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
# Files whose Japanese is data, not words of the interface: reference data, the demo, the
# date parser's era names, the report's document structure that the prefecture reads.
DATA_FILES: set[str] = {
    # The era names (令和, 平成...), the date words a person types (年, 月, 日, 元) and the 和暦
    # form of a date: data the parser reads and writes, not words of the interface.
    "dxfield/domain/dates.py",
    # The built-in stage model (豊岡市's four stages, in both languages): a synced record's content.
    "dxfield/store/stage_models.py",
    # The default title of the prefecture's report (a Japanese document, whatever the locale).
    "dxfield/store/programme.py",
    # The words a hub's database must sort by code point and see trigrams in (あ, ア, 日本語):
    # sent to the server to try it, never shown (by the Store's open and the light path's).
    "dxfield/store/hub_checks.py",
    # The Japanese fonts the minutes' Word file names (游明朝, ＭＳ 明朝...): fonts, not words.
    "dxfield/report/fonts.py",
}


def japanese_literals(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and JAPANESE.search(node.value)
    ]


AREAS = ["cli", "tui", "store", "domain", "sync", "report", "demo", "."]


@pytest.mark.parametrize("area", AREAS)
def test_no_japanese_is_written_inline_in_the_code(area: str) -> None:
    found = {}
    folder = ROOT / "src" / "dxfield" / area
    paths = folder.glob("*.py") if area == "." else folder.rglob("*.py")
    for path in sorted(paths):
        name = path.relative_to(ROOT / "src").as_posix()
        if name in DATA_FILES or "/migrations/" in name:
            continue
        lines = japanese_literals(path)
        if lines:
            found[name] = lines
    assert not found, found


LOOKUPS = {"_", "gettext", "ngettext", "pgettext", "N_"}


def test_no_message_is_looked_up_inside_an_f_string() -> None:
    """Babel cannot see a lookup inside an f-string (on Python 3.11 it is one token): such a
    message would never reach the catalogue."""
    found = []
    for path in sorted((ROOT / "src" / "dxfield").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for joined in (n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)):
            for node in ast.walk(joined):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in LOOKUPS
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_the_english_catalogue_gives_every_message_as_written() -> None:
    """So the code's own text stands for it, unread (`i18n.SOURCE_LANGUAGE`): with a message
    worded otherwise in English, the English catalogue would have to be read again."""
    import gettext

    from dxfield import i18n

    assert i18n.SOURCE_LANGUAGE == "en"
    written = gettext.GNUTranslations(catalog_tool.mo_path("en").open("rb"))
    unread = i18n.catalogue("en")
    assert isinstance(unread, gettext.NullTranslations)
    for message in catalog_tool.read("en"):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n in (1, 2, 5):
                got = (
                    written.npgettext(message.context, *message.id, n)
                    if message.context
                    else (written.ngettext(*message.id, n))
                )
                said = (
                    unread.npgettext(message.context, *message.id, n)
                    if message.context
                    else (unread.ngettext(*message.id, n))
                )
                assert got == said, message.id
        elif message.context:
            assert written.pgettext(message.context, message.id) == message.id
        else:
            assert written.gettext(message.id) == message.id
