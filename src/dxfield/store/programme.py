"""The programme a report is written about: its title, overview and fiscal year.

The report's first page (総務省の支援事業を活用した地域DXの取組 and its overview) is the
prefecture's own text, written once where the report is written (the hub). It is kept as a
local setting of that store, not as a synced record: liaisons' laptops never need it, and a
bundle never carries it. `dxfield programme set` and the app's Report screen change it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from dxfield.domain.errors import LocalizedError
from dxfield.domain.records import clean_text
from dxfield.i18n import N_, problems, quote
from dxfield.store.local_state import get_setting, set_setting
from dxfield.store.unit import Work

PROBLEMS = problems(
    {"programme.fiscal_year": N_("{value} must be a calendar year (e.g. {example})")}
)

SETTING = "programme"
DEFAULT_TITLE = "地域DXの取組"


@dataclass(frozen=True)
class Programme:
    """What the report says of the programme as a whole."""

    title: str = DEFAULT_TITLE
    overview: str = ""
    fiscal_year: int | None = None


def get_programme(work: Work) -> Programme:
    """The programme as set in this store (defaults where nothing is set or a value is unreadable)."""
    value = get_setting(work, SETTING, {})
    if not isinstance(value, dict):
        return Programme()
    year = value.get("fiscal_year")
    return Programme(
        title=str(value.get("title") or DEFAULT_TITLE),
        overview=str(value.get("overview") or ""),
        fiscal_year=year if isinstance(year, int) else None,
    )


def validate_fiscal_year(value: Any) -> int | None:
    """A fiscal year as a calendar year (1989-2200); None for nothing given."""
    if value is None or value == "":
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        year = 0
    if not 1989 <= year <= 2200:
        raise LocalizedError(
            "programme.fiscal_year", field="fiscal_year", value=quote(value), example=2024
        )
    return year


def set_programme(
    work: Work,
    *,
    title: str | None = None,
    overview: str | None = None,
    fiscal_year: int | str | None = None,
    clear_fiscal_year: bool = False,
) -> Programme:
    """Change the given parts of the programme (None leaves a part as it is); the result."""
    current = get_programme(work)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = clean_text(title, "title", required=True)
    if overview is not None:
        changes["overview"] = clean_text(overview, "overview", multiline=True)
    if clear_fiscal_year:
        changes["fiscal_year"] = None
    elif fiscal_year is not None:
        changes["fiscal_year"] = validate_fiscal_year(fiscal_year)
    updated = replace(current, **changes)
    set_setting(work, SETTING, asdict(updated))
    return updated


def programme_is_set(work: Work) -> bool:
    """Whether this store has a programme setting at all."""
    return get_setting(work, SETTING) is not None
