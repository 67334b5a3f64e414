"""One clock: "today" is the date in Japan whatever the machine's zone, and every default that
counts from today (as-of dates, days in stage, overdue, the report's year) takes it from there.

Every test here is `dated`: it runs at the real clock and again at each of the moved clocks
(tests/conftest.py), with the machine in New York's zone; `moved_clock` is Japan's date then.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from dxfield import clock
from dxfield.domain.dates import fiscal_year_label, fiscal_year_of, to_wareki
from dxfield.report.content import build_report, make_scope
from dxfield.report.render import render_markdown
from dxfield.store import records
from dxfield.store.engine import Store
from dxfield.store.followups import add_action, add_finding, list_actions
from dxfield.store.local_state import list_drafts, save_draft
from dxfield.store.organizations import add_organization, resolve_municipality
from dxfield.store.tracks import add_track, list_tracks, move_track
from tests.conftest import Cli

pytestmark = pytest.mark.dated

DAY = dt.timedelta(days=1)

# The fiscal year (April to March) of each moved clock's date in Japan.
FISCAL_YEARS = {
    dt.date(2025, 3, 31): 2024,
    dt.date(2025, 4, 1): 2025,
    dt.date(2027, 4, 1): 2027,
    dt.date(2030, 1, 1): 2029,
}


def _fiscal_year(day: dt.date) -> int:
    return FISCAL_YEARS.get(day) or fiscal_year_of(day)


def test_today_is_the_date_in_japan(moved_clock: dt.date) -> None:
    assert clock.today() == moved_clock
    now = clock.now()
    assert now.utcoffset() == dt.timedelta(0)
    assert clock.japan_date(now) == moved_clock
    assert clock.file_stamp().startswith(f"{moved_clock:%Y%m%d}-")


def test_a_test_injects_its_own_clock(moved_clock: dt.date) -> None:
    with clock.frozen(dt.date(2024, 11, 26)) as instant:
        assert clock.today() == dt.date(2024, 11, 26)
        assert clock.now() == instant == dt.datetime(2024, 11, 26, 3, tzinfo=dt.UTC)
        late = dt.datetime(2024, 3, 31, 15, 30, tzinfo=dt.UTC)  # 4/1 00:30 in Japan
        with clock.use(lambda: late):
            assert clock.today() == dt.date(2024, 4, 1)
        assert clock.today() == dt.date(2024, 11, 26)
    assert clock.today() == moved_clock
    with pytest.raises(ValueError), clock.frozen(dt.datetime(2024, 11, 26, 12)):
        pass


def test_instants_are_shown_in_japans_time() -> None:
    naive_utc = dt.datetime(2025, 3, 31, 15, 30)  # as SQLite gives back a stored instant
    assert clock.in_japan(naive_utc) == dt.datetime(2025, 4, 1, 0, 30, tzinfo=clock.JAPAN)
    assert clock.japan_date(naive_utc) == dt.date(2025, 4, 1)
    assert clock.parse_instant("2025-03-31T15:30:00+00:00") == naive_utc.replace(tzinfo=dt.UTC)
    assert clock.parse_instant("2025-03-31T15:30:00") == naive_utc.replace(tzinfo=dt.UTC)
    assert clock.parse_instant("not a time") is None
    shown = clock.from_epoch_ms(1_743_435_000_000)  # 2025-03-31T15:30Z
    assert f"{shown:%Y-%m-%d %H:%M}" == "2025-04-01 00:30"


def test_services_default_to_japans_today(store: Store, moved_clock: dt.date) -> None:
    action = add_action(store, text="振り返り")
    assert action.as_of == moved_clock
    add_action(store, text="昨日まで", due=(moved_clock - DAY).isoformat())
    add_action(store, text="今日まで", due=moved_clock.isoformat())
    overdue = {i.action.text: i.overdue for i in list_actions(store)}
    assert overdue == {"振り返り": False, "昨日まで": True, "今日まで": False}

    community = add_organization(store, kind="community", name="竹野地区", parent="豊岡市")
    add_track(store, community=community.id)
    move_track(store, community.id, to="survey", no_evidence=True, date=moved_clock - 3 * DAY)
    assert list_tracks(store)[0].days_in_stage == 3
    move = move_track(store, community.id, to="dialogue", no_evidence=True)
    assert move.date == moved_clock
    assert list_tracks(store)[0].days_in_stage == 0


def test_the_report_defaults_to_today_and_its_fiscal_year(
    store: Store, moved_clock: dt.date
) -> None:
    scope = make_scope(store)
    assert (scope.as_of, scope.fiscal_year) == (moved_clock, _fiscal_year(moved_clock))
    # An initiative without a year, and a finding without a date, count from the day (in
    # Japan) they were recorded: today.
    initiative = records.create(
        store,
        "initiative",
        {"municipality_id": resolve_municipality(store, "豊岡市"), "theme": "配送DX",
         "title": "年度のない取組"},
    )  # fmt: skip
    add_finding(store, kind="insight", text="日付のない知見", initiative=initiative.id)
    assert "日付のない知見" in render_markdown(build_report(store, scope))
    if moved_clock != dt.date(_fiscal_year(moved_clock), 4, 1):  # not the year's first day
        yesterday = make_scope(store, as_of=moved_clock - DAY)
        assert "日付のない知見" not in render_markdown(build_report(store, yesterday))


def test_a_draft_is_stamped_now(store: Store, moved_clock: dt.date) -> None:
    save_draft(store, "activity:new", {"title": "下書き"})
    (draft,) = list_drafts(store)
    assert clock.japan_date(draft.saved_at) == moved_clock


def test_the_cli_defaults_to_japans_today(cli: Cli, data_dir: Path, moved_clock: dt.date) -> None:
    added = cli("--data-dir", str(data_dir), "action", "add", "--text", "次回の日程調整")
    assert added.code == 0, added.err
    (listed,) = json.loads(cli("--data-dir", str(data_dir), "action", "list", "--json").out)
    assert listed["as_of"] == moved_clock.isoformat()
    report = cli("--data-dir", str(data_dir), "report")
    assert report.code == 0, report.err
    heading = f"{fiscal_year_label(_fiscal_year(moved_clock))} ・ {to_wareki(moved_clock)}時点"
    assert report.out.splitlines()[2] == heading
