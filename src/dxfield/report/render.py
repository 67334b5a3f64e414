"""The report written out: Markdown or one self-contained HTML file, from Jinja2 templates.

Markdown escapes what would change its meaning (a `|` in a table cell, a `*` or `#` in text);
HTML is escaped by Jinja2's autoescape. The HTML holds everything it shows (inline CSS, charts as
inline SVG, photos as small JPEG copies in data: URIs, no script, no web font, no link outside
the file), prints on A4, and names the Japanese system fonts of Windows, macOS and Linux.
Markdown lists the photos (`--with-photos`) by caption and attachment id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from dxfield import i18n
from dxfield.domain.dates import long_date
from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.report.charts import funnel_chart, month_chart
from dxfield.report.content import (
    REPORT_LANGUAGE,
    Report,
    Scope,
    build_report,
    not_applicable,
    undated,
    wareki_month,
)
from dxfield.store import maintenance
from dxfield.store.engine import Store
from dxfield.store.files import safe_name_part

FORMATS = ("md", "html")
PROBLEMS = problems(
    {
        "report.unknown_format": N_("format must be one of: {choices}"),
        "report.format_unknown_from_name": N_(
            "cannot tell the format from {name}: name the file .md or .html, or give the format"
        ),
    }
)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
_MD_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")


def md(value: Any) -> str:
    """Text with Markdown's special characters escaped, so it shows as it was typed: inline
    marks anywhere, and at the start of each line what would make a list, a rule or a heading
    (leading spaces and tabs, which would make code, are dropped)."""
    lines = []
    for line in str(value).split("\n"):
        escaped = _MD_SPECIAL.sub(r"\\\1", line.lstrip(" \t"))
        lines.append(
            _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escaped)
        )
    return "\n".join(lines)


def cell(value: Any) -> str:
    """Text for a Markdown table cell: escaped, on one line."""
    return md(value).replace("\r", " ").replace("\n", " ")


def ja_date(value: dt.date | None) -> str:
    """2024年12月31日 (empty for none)."""
    return long_date(value) if value else ""


def _pgettext(context: str, message: str) -> str:
    return i18n.pgettext(context, message, REPORT_LANGUAGE)


def _ngettext(singular: str, plural: str, count: int) -> str:
    return i18n.ngettext(singular, plural, count, REPORT_LANGUAGE)


def _fill_markup(message: str, **values: Any) -> Markup:
    """A message of the HTML report with its values put in: both escaped, unless a value is
    markup already (`code`)."""
    return escape(message).format(**values)


def _fill_text(message: str, **values: Any) -> str:
    return message.format(**values)


def _code(text: str) -> Markup:
    return Markup("<code>{}</code>").format(text)


@cache
def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("dxfield.report", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.do"],
    )
    filters: dict[str, Callable[..., Any]] = {
        "md": md,
        "cell": cell,
        "ja_date": ja_date,
        "wareki_month": wareki_month,
        "fill": _fill_markup if autoescape else _fill_text,
    }
    env.filters.update(filters)
    # The template's words, looked up in the report's language when it is rendered; Babel
    # extracts them (scripts/catalog.py reads the templates with Jinja2's extractor).
    env.globals.update(
        pgettext=_pgettext,
        ngettext=_ngettext,
        code=_code,
        lang=REPORT_LANGUAGE,
        month_chart=month_chart,
        funnel_chart=funnel_chart,
    )
    return env


def _words() -> dict[str, str]:
    """The words the templates compare or quote, in the report's language."""
    return {"undated": undated(), "not_applicable": not_applicable()}


def render_markdown(report: Report, *, preview_limit: int | None = None) -> str:
    """The report as Markdown; with `preview_limit`, each kind of activity lists only that many
    (the app's preview: a widget per line would make a hub's year of activities too slow)."""
    template = _environment(False).get_template("report.md.j2")
    text = template.render(
        r=report, scoped=bool(report.scope.municipality_ids), limit=preview_limit, **_words()
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML file."""
    template = _environment(True).get_template("report.html.j2")
    return template.render(r=report, scoped=bool(report.scope.municipality_ids), **_words())


def render(report: Report, fmt: str) -> str:
    """The report in `fmt` ("md" or "html")."""
    if fmt not in FORMATS:
        raise LocalizedError("report.unknown_format", choices=", ".join(FORMATS))
    return render_markdown(report) if fmt == "md" else render_html(report)


def format_of(out: Path, fmt: str | None) -> str:
    """The format asked for, or the one the file name says (.md, .markdown, .html, .htm)."""
    if fmt:
        return fmt.lower()
    suffix = out.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "md"
    if suffix in (".html", ".htm"):
        return "html"
    raise LocalizedError("report.format_unknown_from_name", field="format", name=quote(out.name))


def report_file_stem(report: Report) -> str:
    """A file name for the report (without suffix): the as-of date, and the municipalities when
    it covers some only, so that a narrower report never replaces the whole one or another."""
    stem = f"dxfield-report-{report.scope.as_of.isoformat()}"
    if not report.scope.municipality_ids:
        return stem
    # A municipality's name may come from another device: made safe for a file name.
    names = [safe_name_part(section.municipality) for section in report.sections]
    if len(names) <= 3:
        return f"{stem}-{'-'.join(names)}"
    digest = hashlib.sha256("\n".join(sorted(report.scope.municipality_ids)).encode()).hexdigest()
    others = i18n.ngettext(
        "and-{count}-other", "and-{count}-others", len(names) - 1, REPORT_LANGUAGE
    ).format(count=len(names) - 1)
    return f"{stem}-{names[0]}-{others}-{digest[:6]}"


def write_report(store: Store, scope: Scope, out: Path, fmt: str) -> Report:
    """Write the report for `scope` to `out` (atomically: a failed write leaves no half file)."""
    report = build_report(store, scope, images=fmt == "html")
    text = render(report, fmt)
    maintenance.write_atomically(store, out, text.encode("utf-8"))
    return report


def template_environment(autoescape: bool) -> Environment:
    """The report's Jinja2 environment (its filters and words), for the other documents whose
    templates sit beside the report's (the minutes)."""
    return _environment(autoescape)
