"""Keep the message catalogues in step with the code (a development tool; Babel is needed only
here and in the tests, never at run time).

    uv run python scripts/catalog.py update    # extract, then update ja and en .po, compile .mo
    uv run python scripts/catalog.py compile   # only compile the .po to .mo
    uv run python scripts/catalog.py missing   # list messages the Japanese catalogue lacks

Messages come from the Python sources (`_`, `gettext`, `N_`, `ngettext`, `pgettext`), the
report's Jinja2 templates (the same names) and
the CLI's help (`dxfield.cli.help_messages()`: every verb's and option's help, written in
English in the code). The English catalogue translates every message to itself (plural forms
included), so that both catalogues list every message; the Japanese one keeps its translations,
gains the new messages untranslated (the tests fail until someone writes them) and drops those
the code no longer says.
"""

from __future__ import annotations

import datetime as dt
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dxfield"
LOCALE = PACKAGE / "locale"
DOMAIN = "dxfield"
LANGUAGES = ("ja", "en")
# Fixed header dates: the files change only when a message does.
STAMP = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}

# The report's Jinja2 templates say their words through `pgettext` and `ngettext` (render.py
# binds them to the report's language); Jinja2's own extractor reads them, with the
# extensions and settings the report's environment has.
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "trim_blocks": "true", "lstrip_blocks": "true"}


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def template() -> Catalog:
    """Every message the code says, from the sources and the CLI's help."""
    catalog = Catalog(domain=DOMAIN, project="dxfield", creation_date=STAMP)
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(PACKAGE),
        method_map=[
            ("**/migrations/**.py", "ignore"),
            ("**.py", "python"),
            ("**/templates/**.j2", "jinja2.ext:babel_extract"),
        ],
        options_map={"**/templates/**.j2": JINJA_OPTIONS},
        keywords=KEYWORDS,
    ):
        if isinstance(message, tuple) and len(message) == 1:
            message = message[0]
        if message:
            catalog.add(message, context=context)
    sys.path.insert(0, str(ROOT / "src"))
    from dxfield.cli import help_messages

    for message in help_messages():
        catalog.add(message)
    return catalog


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="dxfield")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def write(lang: str, catalog: Catalog) -> None:
    catalog.creation_date = STAMP
    catalog.revision_date = STAMP
    catalog.project = "dxfield"
    catalog.version = ""
    catalog.copyright_holder = "the dxfield authors"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "the dxfield authors"
    catalog.language_team = lang
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, no_location=True, omit_header=False, sort_output=True)
    path.write_bytes(buffer.getvalue())


def compiled(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def update() -> None:
    source = template()
    for lang in LANGUAGES:
        catalog = read(lang)
        catalog.update(source, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.project = "dxfield"
        catalog.fuzzy = False
        if lang == "en":
            for message in catalog:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        write(lang, catalog)
    compile_all()


def compile_all() -> None:
    for lang in LANGUAGES:
        mo_path(lang).write_bytes(compiled(read(lang)))


def missing() -> list[str]:
    catalog = read("ja")
    return [
        repr(m.id)
        for m in catalog
        if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))
    ]


def seed(pairs_file: str) -> None:
    """Fill untranslated Japanese entries from a JSON list of {"en": ..., "ja": ...} pairs."""
    import json

    pairs = {p["en"]: p["ja"] for p in json.loads(Path(pairs_file).read_text(encoding="utf-8"))}
    catalog = read("ja")
    for message in catalog:
        if message.id and isinstance(message.id, str) and not message.string:
            message.string = pairs.get(message.id, "")
    write("ja", catalog)
    compile_all()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command == "update":
        update()
    elif command == "seed":
        seed(argv[1])
    elif command == "compile":
        compile_all()
    elif command == "missing":
        for line in missing():
            print(line)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
