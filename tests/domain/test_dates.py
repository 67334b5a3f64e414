"""Dates as people write them: ISO, slashes, 和暦, short forms; impossible ones refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dxfield import clock
from dxfield.domain.dates import (
    DatedValue,
    date_text,
    fiscal_year_of,
    format_date,
    latest_plausible,
    parse_date,
    parse_dated,
    read_date,
    to_wareki,
)
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


# --- dates as documents write them: a 年度, a month, 上旬/中旬/下旬 (issue 18) ---------------------


@pytest.mark.parametrize(
    ("text", "day", "precision"),
    [
        # A full date, in every form, is a day.
        ("2024-10-25", dt.date(2024, 10, 25), "day"),
        ("2024/10/25", dt.date(2024, 10, 25), "day"),
        ("2024年10月25日", dt.date(2024, 10, 25), "day"),
        ("令和6年10月25日", dt.date(2024, 10, 25), "day"),
        ("R6.10.25", dt.date(2024, 10, 25), "day"),
        # A 年度 stands for its first day, 4/1.
        ("令和6年度", dt.date(2024, 4, 1), "fiscal_year"),
        ("R6年度", dt.date(2024, 4, 1), "fiscal_year"),
        ("r6年度", dt.date(2024, 4, 1), "fiscal_year"),
        ("2024年度", dt.date(2024, 4, 1), "fiscal_year"),
        ("２０２４年度", dt.date(2024, 4, 1), "fiscal_year"),
        ("FY2024", dt.date(2024, 4, 1), "fiscal_year"),
        ("令和元年度", dt.date(2019, 4, 1), "fiscal_year"),
        ("平成31年度", dt.date(2019, 4, 1), "fiscal_year"),  # the same 年度: both names are used
        ("H30年度", dt.date(2018, 4, 1), "fiscal_year"),
        # A month stands for its 1st.
        ("2024年10月", dt.date(2024, 10, 1), "month"),
        ("R6.10", dt.date(2024, 10, 1), "month"),
        ("令和6年10月", dt.date(2024, 10, 1), "month"),
        ("2024-10", dt.date(2024, 10, 1), "month"),
        ("2024/3", dt.date(2024, 3, 1), "month"),
        # A third of a month: the 1st, 11th or 21st.
        ("2024年10月上旬", dt.date(2024, 10, 1), "early_month"),
        ("2024年10月初旬", dt.date(2024, 10, 1), "early_month"),
        ("2024年10月中旬", dt.date(2024, 10, 11), "mid_month"),
        ("2024年10月下旬", dt.date(2024, 10, 21), "late_month"),
        ("令和6年10月下旬", dt.date(2024, 10, 21), "late_month"),
        ("R6.10下旬", dt.date(2024, 10, 21), "late_month"),
        (" 2024年 10月 下旬 ", dt.date(2024, 10, 21), "late_month"),
    ],
)
def test_every_form_keeps_its_precision(text: str, day: dt.date, precision: str) -> None:
    assert parse_dated(text) == DatedValue(day, precision)


@pytest.mark.parametrize(
    ("precision", "first", "last"),
    [
        ("day", dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
        ("early_month", dt.date(2024, 2, 1), dt.date(2024, 2, 10)),
        ("mid_month", dt.date(2024, 2, 11), dt.date(2024, 2, 20)),
        ("late_month", dt.date(2024, 2, 21), dt.date(2024, 2, 29)),
        ("month", dt.date(2024, 12, 1), dt.date(2024, 12, 31)),
        ("fiscal_year", dt.date(2024, 4, 1), dt.date(2025, 3, 31)),
    ],
)
def test_a_period_ends_where_its_precision_says(
    precision: str, first: dt.date, last: dt.date
) -> None:
    assert DatedValue(first, precision).last == last


@pytest.mark.parametrize(
    ("day", "precision"),
    [
        (dt.date(2024, 7, 17), "day"),
        (dt.date(2024, 10, 1), "early_month"),
        (dt.date(2024, 10, 11), "mid_month"),
        (dt.date(2024, 10, 21), "late_month"),
        (dt.date(2024, 10, 1), "month"),
        (dt.date(2024, 4, 1), "fiscal_year"),
        (dt.date(2020, 4, 1), "fiscal_year"),
    ],
)
def test_the_forms_text_reads_back_the_same(day: dt.date, precision: str) -> None:
    assert parse_dated(date_text(day, precision)) == DatedValue(day, precision)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2024年13月", "date.not_real"),
        ("2024年10月32日", "date.not_real"),
        ("R6.13下旬", "date.not_real"),
        ("令和0年度", "date.not_real"),
        ("平成32年度", "date.outside_era"),  # 2020-04: 令和 by then
        ("令和元年4月", "date.outside_era"),  # 令和 began on 5/1
        ("令和元年4月下旬", "date.outside_era"),
        ("2024年10月末頃", "date.unreadable"),
        ("10月下旬", "date.unreadable"),  # without a year, only where today is known
        ("年度", "date.unreadable"),
    ],
)
def test_impossible_periods_are_refused(text: str, code: str) -> None:
    with pytest.raises(LocalizedError) as caught:
        parse_dated(text)
    assert caught.value.code == code
    assert caught.value.message("ja") and caught.value.message("en")


# The clock frozen on the last day of a 年度 and on the first of the next, each in the morning and
# late at night in Japan (UTC is still the day before at 08:30 in Japan).
CLOCKS = [
    pytest.param(dt.datetime(2025, 3, 31, 23, 30, tzinfo=clock.JAPAN), id="2025-03-31-late"),
    pytest.param(dt.datetime(2025, 4, 1, 8, 30, tzinfo=clock.JAPAN), id="2025-04-01-early"),
    pytest.param(dt.datetime(2031, 3, 31, 12, 0, tzinfo=clock.JAPAN), id="2031-03-31"),
    pytest.param(dt.datetime(2031, 4, 1, 0, 30, tzinfo=clock.JAPAN), id="2031-04-01-night"),
]


@pytest.mark.parametrize("at", CLOCKS)
def test_short_forms_are_in_the_year_of_today_in_japan(at: dt.datetime) -> None:
    with clock.frozen(at):
        today = clock.today()
        assert today == at.date()
        assert read_date("10月下旬", today) == DatedValue(dt.date(at.year, 10, 21), "late_month")
        assert read_date("7/17", today) == DatedValue(dt.date(at.year, 7, 17))
        assert read_date("3月", today) == DatedValue(dt.date(at.year, 3, 1), "month")


@pytest.mark.parametrize("at", CLOCKS)
def test_the_plausible_range_follows_the_clock(at: dt.datetime) -> None:
    with clock.frozen(at):
        today = clock.today()
        two_years_on = today.replace(year=today.year + 2)
        assert read_date("2000-01-01", today).date == dt.date(2000, 1, 1)
        assert read_date("平成12年1月1日", today).date == dt.date(2000, 1, 1)
        assert read_date(two_years_on.isoformat(), today).date == two_years_on
        assert read_date(f"{today.year + 1}年度", today).precision == "fiscal_year"
        for text in (
            "1999-12-31",
            "平成11年12月31日",
            "1999年度",  # starts 1999-04-01
            (two_years_on + dt.timedelta(days=1)).isoformat(),
            "令和99年1月1日",  # 2117
            "9999-12-31",
            f"{today.year + 3}年度",
        ):
            with pytest.raises(LocalizedError) as caught:
                read_date(text, today)
            refusal = caught.value
            assert refusal.code == "date.out_of_range", text
            assert refusal.message("en") == (
                f"'{text}' is outside the dates dxfield takes "
                f"(2000-01-01 to {two_years_on.isoformat()})"
            )
            assert refusal.message("ja") == (
                f"'{text}' は受け付けられる日付の範囲外です"
                f"(2000-01-01 から {two_years_on.isoformat()} まで)"
            )


def test_two_years_from_a_leap_day_is_the_28th() -> None:
    assert latest_plausible(dt.date(2028, 2, 29)) == dt.date(2030, 2, 28)
    with pytest.raises(LocalizedError):
        read_date("2030-03-01", dt.date(2028, 2, 29))
