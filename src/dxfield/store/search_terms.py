"""What search does in Python, apart from any database: the folding of text and queries, the
terms of a query, FTS5's match expression and PostgreSQL's LIKE pattern, the snippet of a hit,
and the hit itself.

Kept free of SQLAlchemy so that the light read path (`store/light.py`) shares them with
`store/search.py`, which composes the same logic as SQLAlchemy Core for both engines.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

TRIGRAM = 3
"""The shortest term the trigram index finds; shorter ones are a substring scan."""
CONFLATED = frozenset("\ufffd\ufffe\uffff")
"""Characters SQLite's trigram tokenizer reads as one another: a term holding one is confirmed
by a scan too."""


def normalize(text: str) -> str:
    """The one folding rule for stored text and queries: NFKC, then lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def query_terms(query: str) -> list[str]:
    """The terms of a query: normalized, split on any whitespace, duplicates dropped."""
    seen: dict[str, None] = {}
    for term in normalize(query).split():
        seen.setdefault(term, None)
    return list(seen)


def fts_match_expression(terms: list[str]) -> str:
    """An FTS5 query requiring every term as a literal substring (each a quoted phrase)."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def like_pattern(term: str) -> str:
    """A LIKE pattern (with `ESCAPE '\\'`) finding `term` anywhere, as plain text."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class SearchHit:
    """One search result, ready to show."""

    entity: str
    id: str
    title: str
    date: dt.date | None
    snippet: str


def snippet(body: str, terms: list[str], width: int = 60) -> str:
    """Some `width` characters of `body` around the first term found in it, on one line."""
    flat = body.replace("\n", " ")
    positions = [flat.find(t) for t in terms if flat.find(t) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def first_line(title: str | None) -> str:
    """The title a hit shows: its first line (a finding's or an action's text may hold more)."""
    return title.splitlines()[0] if title else ""


SEARCHED_DATES = {"activity": "date", "finding": "date", "action": "due"}
"""The date each searched kind is ordered by and shown with."""
