"""Dates as people write them: ISO, slashes, 和暦, short forms; impossible ones refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dxfield.domain.dates import fiscal_year_of, format_date, parse_date, to_wareki
from dxfield.i18n import LocalizedError


@pytest.mark.parametrize(
    "text",
    [
        "2024-07-17",
        "2024-7-17",
        "2024/7/17",
        "2024/07/17",
        "2024.7.17",
        "2024年7月17日",
        "令和6年7月17日",
        "令和６年７月１７日",
        "R6.7.17",
        "r6/7/17",
        "R06-07-17",
        "２０２４／７／１７",
        " 2024-07-17 ",
    ],
)
def test_accepted_forms_all_mean_the_same_day(text: str) -> None:
    assert parse_date(text) == dt.date(2024, 7, 17)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("H31.4.30", dt.date(2019, 4, 30)),
        ("平成元年1月8日", dt.date(1989, 1, 8)),
        ("昭和64年1月7日", dt.date(1989, 1, 7)),
        ("S64.1.7", dt.date(1989, 1, 7)),
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)
def test_era_boundaries_and_leap_days(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2024-02-30", "is not a real date"),
        ("2023-02-29", "is not a real date"),
        ("令和6年13月1日", "is not a real date"),
        ("R6.2.30", "is not a real date"),
        ("令和1年4月30日", "outside the 令和 era"),
        ("平成31年5月1日", "outside the 平成 era"),
        ("平成32年1月1日", "outside the 平成 era"),
        ("令和0年5月1日", "is not a real date"),
        ("7/17", "cannot read"),
        ("yesterday", "cannot read"),
        ("2024-07-17T10:00", "cannot read"),
        ("", "empty"),
    ],
)
def test_impossible_and_unreadable_dates_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(LocalizedError) as caught:
        parse_date(text)
    assert fragment in caught.value.message("en")
    assert caught.value.message("ja")  # every message exists in Japanese too


def test_short_forms_need_a_reference_day() -> None:
    today = dt.date(2024, 11, 26)
    assert parse_date("7/17", today=today) == dt.date(2024, 7, 17)
    assert parse_date("7月17日", today=today) == dt.date(2024, 7, 17)
    with pytest.raises(LocalizedError):
        parse_date("2/30", today=today)


@given(st.dates(min_value=dt.date(1989, 1, 8), max_value=dt.date(2200, 12, 31)))
def test_wareki_round_trip(day: dt.date) -> None:
    assert parse_date(to_wareki(day)) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.year}/{day.month}/{day.day}") == day


@pytest.mark.dated
def test_format_date_follows_precision() -> None:
    assert format_date(dt.date(2024, 7, 17)) == "2024-07-17"
    assert format_date(dt.date(2024, 10, 21), "late_month") == "2024年10月下旬"
    assert format_date(dt.date(2024, 10, 21), "late_month", "en") == "late Oct 2024"
    assert format_date(dt.date(2024, 4, 1), "fiscal_year") == "令和6年度"
    assert format_date(dt.date(2025, 3, 31), "fiscal_year", "en") == "FY2024"
    assert fiscal_year_of(dt.date(2025, 3, 31)) == 2024


def test_dates_are_worded_in_the_readers_language() -> None:
    from dxfield.domain.dates import fiscal_year_label, long_date, month_label

    day = dt.date(2024, 7, 17)
    assert long_date(day) == "2024年7月17日"
    assert long_date(day, "en") == "Jul 17, 2024"
    assert month_label(day, "ja") == "2024年7月"
    assert month_label(day, "en") == "Jul 2024"
    assert fiscal_year_label(2019) == "平成31年度"  # its April is before 令和
    assert fiscal_year_label(2020) == "令和2年度"
    assert fiscal_year_label(2024, "en") == "FY2024"
    assert format_date(day, "early_month", "ja") == "2024年7月上旬"
    assert format_date(day, "mid_month", "en") == "mid Jul 2024"
    assert format_date(day, "month", "en") == "Jul 2024"


def test_a_date_error_is_said_in_either_language() -> None:
    with pytest.raises(LocalizedError) as caught:
        parse_date("2024-02-30")
    assert caught.value.code == "date.not_real"
    assert caught.value.message("ja") == "'2024-02-30' は存在しない日付です"
    assert caught.value.message("en") == "'2024-02-30' is not a real date"
    with pytest.raises(LocalizedError) as outside:
        parse_date("平成32年1月1日")
    assert outside.value.message("ja") == "'平成32年1月1日' は平成の期間外です"
