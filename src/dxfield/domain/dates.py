"""Dates as people in Japanese local government write them.

Accepted: ISO (2024-07-17), slashes or dots (2024/7/17), 2024年7月17日, 和暦 (令和6年7月17日,
令和元年5月1日, R6.7.17, H31/4/30) and, when a reference date is given, short forms without a
year (7/17, 7月17日). Full-width digits are fine. Impossible dates and dates outside their era are
rejected with an error that the catalogue words in the user's language.

`parse_dated` also reads the dates documents give when the day is not known, and keeps how
precise they are: a 年度 (令和6年度, R6年度, 2024年度, FY2024), a month (2024年10月, R6.10,
2024-10) and a third of one (2024年10月下旬, R6.10上旬). It stands for the period's first day
(4/1 of the 年度, the 1st, 11th or 21st), as the store keeps it. `check_plausible` refuses what
cannot be meant: before 2000 or more than two years after today; `read_date` (an activity's
date) and `read_day` (a due date, a move's date) apply it to every date a person types.

The era names and the date words a person types (年, 月, 日, 元) are data the parser reads, not
words of the interface; the words dates are shown with (上旬, 年度, month names) come from the
catalogue.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from dxfield.i18n import N_, LocalizedError, pgettext, problems, quote

PROBLEMS = problems(
    {
        "date.unreadable": N_("cannot read {value} as a date (e.g. {examples})"),
        "date.not_real": N_("{value} is not a real date"),
        "date.outside_era": N_("{value} falls outside the {era} era"),
        "date.empty": N_("the date is empty"),
        "date.out_of_range": N_("{value} is outside the dates dxfield takes ({first} to {last})"),
    }
)
EXAMPLES = "2024-07-17, 2024/7/17, 令和6年7月17日, R6.7.17"
"""The forms a date may be written in, as shown when one cannot be read (data: dates)."""


@dataclass(frozen=True)
class Era:
    """A Japanese era: its names and the first and last day it covers."""

    name: str
    letter: str
    start: dt.date
    end: dt.date | None


ERAS: tuple[Era, ...] = (
    Era("令和", "R", dt.date(2019, 5, 1), None),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("明治", "M", dt.date(1868, 1, 25), dt.date(1912, 7, 29)),
)
_ERA_BY_KEY = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}

_SEP = r"\s*[-/.]\s*"
_WESTERN = re.compile(rf"^(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})$")
_WESTERN_KANJI = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_ERA_KANJI = re.compile(
    r"^(令和|平成|昭和|大正|明治)\s*(\d{1,3}|元)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"
)
_ERA_LETTER = re.compile(rf"^([RHSTMrhstm])\s*(\d{{1,3}}|元){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})$")
_SHORT = re.compile(r"^(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?$")

# Dates known only to a 年度, a month or a third of a month (上旬 1-10, 中旬 11-20, 下旬 21-).
_PART = r"\s*(上旬|初旬|中旬|下旬)?"
_FISCAL_WESTERN = re.compile(r"^(?:(\d{4})\s*年度|FY\s*(\d{4}))$", re.IGNORECASE)
_FISCAL_ERA = re.compile(r"^(令和|平成|昭和|大正|明治|[RHSTMrhstm])\s*(\d{1,3}|元)\s*年度$")
_MONTH_WESTERN = re.compile(rf"^(\d{{4}})(?:\s*年\s*|{_SEP})(\d{{1,2}})(?:\s*月)?{_PART}$")
_MONTH_ERA = re.compile(
    rf"^(令和|平成|昭和|大正|明治)\s*(\d{{1,3}}|元)\s*年\s*(\d{{1,2}})\s*月{_PART}$"
)
_MONTH_ERA_LETTER = re.compile(rf"^([RHSTMrhstm])\s*(\d{{1,3}}|元){_SEP}(\d{{1,2}}){_PART}$")
_MONTH_SHORT = re.compile(rf"^(\d{{1,2}})\s*月{_PART}$")
_PARTS = {  # the word, its precision and the first day of the month it stands for
    None: ("month", 1),
    "上旬": ("early_month", 1),
    "初旬": ("early_month", 1),
    "中旬": ("mid_month", 11),
    "下旬": ("late_month", 21),
}
_PART_WORDS = {"early_month": "上旬", "mid_month": "中旬", "late_month": "下旬"}

FIRST_DATE = dt.date(2000, 1, 1)
"""The earliest date dxfield takes from a person: the programme's records start long after."""
YEARS_AHEAD = 2
"""How far after today a date may be (a planned visit, a 年度 ahead), in years."""
FORM_EXAMPLES = "10月下旬, R6年度"
"""The forms the activity form's date field shows as examples, besides a full date (data: dates;
short, so that the label fits half of 80 columns; the help lists every form)."""
PERIOD_EXAMPLES = "2024年10月, R6.10, 2024年10月下旬, 令和6年度, 2024年度"
"""Dates known only to a month, a third of one or a 年度, as the help shows them (data: dates)."""


@dataclass(frozen=True)
class DatedValue:
    """A date as precisely as it was written: the period's first day and its precision (a
    `DatePrecision` value: day, early_month, mid_month, late_month, month, fiscal_year)."""

    date: dt.date
    precision: str = "day"

    @property
    def last(self) -> dt.date:
        """The last day of the period the date stands for."""
        return period_end(self.date, self.precision)


def _bad(text: str) -> LocalizedError:
    return LocalizedError("date.unreadable", value=quote(text), examples=EXAMPLES)


def _plain_iso(value: object) -> bool:
    """Whether `value` is text of the form YYYY-MM-DD in ASCII digits (what `_WESTERN` reads
    after NFKC, unchanged by it)."""
    return (
        isinstance(value, str)
        and len(value) == 10
        and value.isascii()
        and value[4] == "-"
        and value[7] == "-"
        and value[:4].isdigit()
        and value[5:7].isdigit()
        and value[8:].isdigit()
    )


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise LocalizedError("date.not_real", value=quote(text)) from None


def _from_era(era_key: str, year_text: str, month: int, day: int, text: str) -> dt.date:
    era = _ERA_BY_KEY[era_key.upper() if len(era_key) == 1 else era_key]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year < 1:
        raise LocalizedError("date.not_real", value=quote(text))
    value = _make(era.start.year + era_year - 1, month, day, text)
    if value < era.start or (era.end is not None and value > era.end):
        raise LocalizedError("date.outside_era", value=quote(text), era=era.name)
    return value


def parse_date(value: str | dt.date, *, today: dt.date | None = None) -> dt.date:
    """Read a date written in any of the accepted forms.

    `today` enables the short forms without a year (7/17), which then mean that day in today's year.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if _plain_iso(value):  # 2024-07-21, as tables and bundles give it: no need to normalize
        try:
            return dt.date.fromisoformat(value)
        except ValueError:  # 2024-02-30: said below, as any other
            pass
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        raise LocalizedError("date.empty")
    if m := _WESTERN.match(text) or _WESTERN_KANJI.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]), text)
    if m := _ERA_KANJI.match(text) or _ERA_LETTER.match(text):
        return _from_era(m[1], m[2], int(m[3]), int(m[4]), text)
    if today is not None and (m := _SHORT.match(text)):
        return _make(today.year, int(m[1]), int(m[2]), text)
    raise _bad(text)


def period_end(start: dt.date, precision: str) -> dt.date:
    """The last day of the period a date of `precision` starting on `start` stands for."""
    precision = str(precision)
    if precision == "fiscal_year":
        return dt.date(fiscal_year_of(start) + 1, 3, 31)
    if precision in ("early_month", "mid_month"):
        return start.replace(day=10 if precision == "early_month" else 20)
    if precision in ("month", "late_month"):
        following = start.replace(day=28) + dt.timedelta(days=4)
        return following - dt.timedelta(days=following.day)
    return start


def _era_period(era_key: str, year_text: str, text: str) -> tuple[Era, int]:
    """The era and the western year of `year_text` (元 is 1) in it."""
    era = _ERA_BY_KEY[era_key.upper() if len(era_key) == 1 else era_key]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year < 1:
        raise LocalizedError("date.not_real", value=quote(text))
    return era, era.start.year + era_year - 1


def _within_era(era: Era, value: DatedValue, text: str) -> DatedValue:
    """`value`, when some of its period lies in `era` (令和元年度 and 平成31年度 are both FY2019)."""
    if value.last < era.start or (era.end is not None and value.date > era.end):
        raise LocalizedError("date.outside_era", value=quote(text), era=era.name)
    return value


def _month_part(year: int, month: int, part: str | None, text: str) -> DatedValue:
    precision, day = _PARTS[part]
    return DatedValue(_make(year, month, day, text), precision)


def parse_dated(value: str | dt.date, *, today: dt.date | None = None) -> DatedValue:
    """Read a date in any form `parse_date` takes (precision "day"), or a 年度, a month or a
    third of a month (2024年10月下旬), keeping its precision.

    `today` enables the short forms without a year (7/17, 10月下旬): that day or month in today's
    year."""
    if isinstance(value, dt.date):
        return DatedValue(parse_date(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        return DatedValue(parse_date(text, today=today))
    except LocalizedError as exc:
        if exc.code != "date.unreadable":
            raise
    if m := _FISCAL_WESTERN.match(text):
        return DatedValue(_make(int(m[1] or m[2]), 4, 1, text), "fiscal_year")
    if m := _FISCAL_ERA.match(text):
        era, year = _era_period(m[1], m[2], text)
        return _within_era(era, DatedValue(_make(year, 4, 1, text), "fiscal_year"), text)
    if m := _MONTH_WESTERN.match(text):
        return _month_part(int(m[1]), int(m[2]), m[3], text)
    if m := _MONTH_ERA.match(text) or _MONTH_ERA_LETTER.match(text):
        era, year = _era_period(m[1], m[2], text)
        return _within_era(era, _month_part(year, int(m[3]), m[4], text), text)
    if today is not None and (m := _MONTH_SHORT.match(text)):
        return _month_part(today.year, int(m[1]), m[2], text)
    raise _bad(text)


def latest_plausible(today: dt.date) -> dt.date:
    """The last date `check_plausible` takes: two years after today (2/29 gives 2/28)."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def check_plausible(value: DatedValue, today: dt.date, text: str | None = None) -> DatedValue:
    """`value`, unless it is before 2000 or more than two years after `today` (a typo, not a
    date someone means: 令和99年, 9999-12-31); the error says the range taken."""
    last = latest_plausible(today)
    if not FIRST_DATE <= value.date <= last:
        raise LocalizedError(
            "date.out_of_range",
            value=quote(text if text is not None else value.date.isoformat()),
            first=FIRST_DATE.isoformat(),
            last=last.isoformat(),
        )
    return value


def read_date(value: str | dt.date, today: dt.date) -> DatedValue:
    """What a person typed as an activity's date (the CLI's `--date`, the form's field): any form
    `parse_dated` reads, short ones in today's year, within the plausible range."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
    return check_plausible(parse_dated(value, today=today), today, text)


def read_day(value: str | dt.date, today: dt.date) -> dt.date:
    """One day a person typed (an action's due date, a stage move's date, a finding's date):
    any form `parse_date` reads, short ones in today's year, within the plausible range."""
    text = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
    return check_plausible(DatedValue(parse_date(value, today=today)), today, text).date


def date_text(value: dt.date, precision: str = "day") -> str:
    """A date written as `parse_dated` reads it back with its precision: 2024-07-17, 2024年10月,
    2024年10月下旬, 令和6年度 (what the form's field shows for a saved activity)."""
    precision = str(precision)
    if precision == "fiscal_year":
        era_year = _era_year(dt.date(fiscal_year_of(value), 4, 1))
        return f"{era_year or fiscal_year_of(value)}年度"
    if precision == "month":
        return f"{value.year}年{value.month}月"
    if precision in _PART_WORDS:
        return f"{value.year}年{value.month}月{_PART_WORDS[precision]}"
    return value.isoformat()


def _era_year(value: dt.date) -> str | None:
    """The era and year of a date in 和暦 (令和6, 令和元), or None before the first era."""
    for era in ERAS:
        if value >= era.start:
            year = value.year - era.start.year + 1
            return f"{era.name}{'元' if year == 1 else year}"
    return None


def to_wareki(value: dt.date) -> str:
    """The date in 和暦, e.g. 令和6年7月17日 (元年 for an era's first year)."""
    era_year = _era_year(value)
    if era_year is None:
        return value.isoformat()
    return f"{era_year}年{value.month}月{value.day}日"


def fiscal_year_of(value: dt.date) -> int:
    """The Japanese fiscal year (April to March) a date falls in, by its starting calendar year."""
    return value.year if value.month >= 4 else value.year - 1


def fiscal_year_label(year: int, lang: str = "ja") -> str:
    """The fiscal year starting in April of `year`: 令和6年度 (its year in 和暦), or FY2024."""
    shown = (_era_year(dt.date(year, 4, 1)) if lang == "ja" else None) or str(year)
    return pgettext("date", "FY{year}", lang).format(year=shown)


def month_name(month: int, lang: str | None = None) -> str:
    """The name of a month (1-12) in `lang`: 7月, Jul. (One look-up, not twelve: a report
    names the month of every activity it lists.)"""
    match month:
        case 1:
            return pgettext("month", "Jan", lang)
        case 2:
            return pgettext("month", "Feb", lang)
        case 3:
            return pgettext("month", "Mar", lang)
        case 4:
            return pgettext("month", "Apr", lang)
        case 5:
            return pgettext("month", "May", lang)
        case 6:
            return pgettext("month", "Jun", lang)
        case 7:
            return pgettext("month", "Jul", lang)
        case 8:
            return pgettext("month", "Aug", lang)
        case 9:
            return pgettext("month", "Sep", lang)
        case 10:
            return pgettext("month", "Oct", lang)
        case 11:
            return pgettext("month", "Nov", lang)
        case 12:
            return pgettext("month", "Dec", lang)
    raise ValueError(f"not a month: {month!r}")


def month_label(value: dt.date, lang: str | None = None) -> str:
    """The month a date falls in: 2024年7月, Jul 2024."""
    return pgettext("date", "{month_name} {year}", lang).format(
        month_name=month_name(value.month, lang), year=value.year
    )


def long_date(value: dt.date, lang: str = "ja") -> str:
    """2024年7月17日 (Jul 17, 2024)."""
    return pgettext("date", "{month_name} {day}, {year}", lang).format(
        month_name=month_name(value.month, lang), day=value.day, year=value.year
    )


def format_date(value: dt.date, precision: str = "day", lang: str = "ja") -> str:
    """A date as precisely as it is known: 2024-07-17, 2024年10月下旬, 令和6年度 (or English)."""
    precision = str(precision)
    if precision == "fiscal_year":
        return fiscal_year_label(fiscal_year_of(value), lang)
    if precision == "month":
        return month_label(value, lang)
    if precision == "early_month":
        return pgettext("date", "early {month}", lang).format(month=month_label(value, lang))
    if precision == "mid_month":
        return pgettext("date", "mid {month}", lang).format(month=month_label(value, lang))
    if precision == "late_month":
        return pgettext("date", "late {month}", lang).format(month=month_label(value, lang))
    return value.isoformat()
