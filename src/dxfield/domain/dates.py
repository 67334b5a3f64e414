"""Dates as people in Japanese local government write them.

Accepted: ISO (2024-07-17), slashes or dots (2024/7/17), 2024年7月17日, 和暦 (令和6年7月17日,
令和元年5月1日, R6.7.17, H31/4/30) and, when a reference date is given, short forms without a
year (7/17, 7月17日). Full-width digits are fine. Impossible dates and dates outside their era are
rejected with a message in both languages.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from dxfield.i18n import LocalizedError, quote


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


def _bad(text: str) -> LocalizedError:
    return LocalizedError(
        f"{quote(text)} は日付として読めません(例: 2024-07-17, 2024/7/17, 令和6年7月17日, R6.7.17)",
        f"cannot read {quote(text)} as a date (e.g. 2024-07-17, 2024/7/17, 令和6年7月17日, R6.7.17)",
    )


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise LocalizedError(
            f"{quote(text)} は存在しない日付です",
            f"{quote(text)} is not a real date",
        ) from None


def _from_era(era_key: str, year_text: str, month: int, day: int, text: str) -> dt.date:
    era = _ERA_BY_KEY[era_key.upper() if len(era_key) == 1 else era_key]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year < 1:
        raise LocalizedError(
            f"{quote(text)} は存在しない日付です", f"{quote(text)} is not a real date"
        )
    value = _make(era.start.year + era_year - 1, month, day, text)
    if value < era.start or (era.end is not None and value > era.end):
        raise LocalizedError(
            f"{quote(text)} は{era.name}の期間外です",
            f"{quote(text)} falls outside the {era.name} era",
        )
    return value


def parse_date(value: str | dt.date, *, today: dt.date | None = None) -> dt.date:
    """Read a date written in any of the accepted forms.

    `today` enables the short forms without a year (7/17), which then mean that day in today's year.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        raise LocalizedError("日付が空です", "the date is empty")
    if m := _WESTERN.match(text) or _WESTERN_KANJI.match(text):
        return _make(int(m[1]), int(m[2]), int(m[3]), text)
    if m := _ERA_KANJI.match(text) or _ERA_LETTER.match(text):
        return _from_era(m[1], m[2], int(m[3]), int(m[4]), text)
    if today is not None and (m := _SHORT.match(text)):
        return _make(today.year, int(m[1]), int(m[2]), text)
    raise _bad(text)


def to_wareki(value: dt.date) -> str:
    """The date in 和暦, e.g. 令和6年7月17日 (元年 for an era's first year)."""
    for era in ERAS:
        if value >= era.start:
            year = value.year - era.start.year + 1
            year_text = "元" if year == 1 else str(year)
            return f"{era.name}{year_text}年{value.month}月{value.day}日"
    return value.isoformat()


def fiscal_year_of(value: dt.date) -> int:
    """The Japanese fiscal year (April to March) a date falls in, by its starting calendar year."""
    return value.year if value.month >= 4 else value.year - 1


def fiscal_year_label(year: int) -> str:
    """令和6年度 (the Japanese fiscal year starting in April of `year`)."""
    return to_wareki(dt.date(year, 4, 1)).split("年")[0] + "年度"


def long_date(value: dt.date) -> str:
    """2024年7月17日."""
    return f"{value.year}年{value.month}月{value.day}日"


def format_date(value: dt.date, precision: str = "day", lang: str = "ja") -> str:
    """A date as precisely as it is known: 2024-07-17, 2024年10月下旬, 令和6年度 (or English)."""
    month_ja = f"{value.year}年{value.month}月"
    month_en = value.strftime("%b %Y")
    parts = {
        "day": (value.isoformat(), value.isoformat()),
        "early_month": (f"{month_ja}上旬", f"early {month_en}"),
        "mid_month": (f"{month_ja}中旬", f"mid {month_en}"),
        "late_month": (f"{month_ja}下旬", f"late {month_en}"),
        "month": (month_ja, month_en),
        "fiscal_year": (
            fiscal_year_label(fiscal_year_of(value)),
            f"FY{fiscal_year_of(value)}",
        ),
    }
    ja, en = parts.get(str(precision), parts["day"])
    return ja if lang == "ja" else en
