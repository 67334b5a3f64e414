"""Local-only state: drafts that survive a closed lid, UI settings, the count of unexported changes.

None of it is synced or dumped, and a draft row that cannot be read never stops the app.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from dxfield import clock as dxclock
from dxfield.store import maintenance, records, revisions
from dxfield.store.engine import Store
from dxfield.store.local_state import (
    Draft,
    discard_draft,
    get_setting,
    list_drafts,
    save_draft,
    set_setting,
    unexported_changes,
)
from dxfield.store.reference import municipality_id
from dxfield.store.schema import LocalState

TOYOOKA = municipality_id("282090")
_state = LocalState.__table__  # type: ignore[attr-defined]
FORM = {
    "title": "奥矢根区 意見交換会",
    "notes": "住民の山田花子さんから配送の要望\n(個人名を含む)",
    "kind": "workshop",
    "areas": ["vision"],
    "head_count": 12,
    "follow_up": True,
}


@pytest.fixture
def clock() -> Iterator[list[dt.datetime]]:
    """Each draft saved gets the next minute, so newest-first order does not hang on the clock."""
    times: list[dt.datetime] = []

    def now() -> dt.datetime:
        times.append(dt.datetime(2024, 7, 17, 9, len(times), tzinfo=dt.UTC))
        return times[-1]

    with dxclock.use(now):
        yield times


def _raw(store: Store, key: str, value: str) -> None:
    with store.write() as conn:
        conn.execute(insert(_state).values(key=key, value=value))


# --- drafts --------------------------------------------------------------------------------------


def test_save_list_and_discard(store: Store, clock: list[dt.datetime]) -> None:
    assert list_drafts(store) == []
    save_draft(store, "activity:new", FORM)
    save_draft(store, "finding:new", {"text": "示唆"})
    assert list_drafts(store) == [
        Draft("finding:new", {"text": "示唆"}, clock[1]),
        Draft("activity:new", FORM, clock[0]),
    ]
    # Saving again replaces the draft and makes it the newest.
    save_draft(store, "activity:new", {**FORM, "title": "意見交換会(第2回)"})
    drafts = list_drafts(store)
    assert [(d.name, d.saved_at) for d in drafts] == [
        ("activity:new", clock[2]),
        ("finding:new", clock[1]),
    ]
    assert drafts[0].data["title"] == "意見交換会(第2回)"
    discard_draft(store, "activity:new")
    assert [d.name for d in list_drafts(store)] == ["finding:new"]
    discard_draft(store, "activity:new")  # already gone: no error
    discard_draft(store, "never-saved")
    discard_draft(store, "finding:new")
    assert list_drafts(store) == []


def test_saved_at_is_the_time_now_in_utc(store: Store) -> None:
    before = dt.datetime.now(dt.UTC)
    save_draft(store, "x", {})
    (draft,) = list_drafts(store)
    assert before <= draft.saved_at <= dt.datetime.now(dt.UTC)
    assert draft.saved_at.tzinfo is not None


def test_drafts_survive_closing_and_reopening(data_dir: Path, clock: list[dt.datetime]) -> None:
    with Store.open(data_dir) as store:
        save_draft(store, "activity:new", FORM)
        save_draft(store, "activity:0190c9a1", {"notes": "途中まで"})
    with Store.open(data_dir) as reopened:
        assert list_drafts(reopened) == [
            Draft("activity:0190c9a1", {"notes": "途中まで"}, clock[-1]),
            Draft("activity:new", FORM, clock[-2]),  # (opening a new store read the clock first)
        ]


def test_drafts_and_settings_are_never_dumped(store: Store) -> None:
    records.create(
        store,
        "activity",
        {
            "municipality_id": TOYOOKA,
            "kind": "workshop",
            "title": "意見交換会",
            "date": "2024-07-17",
        },
    )
    before = maintenance.dump_text(store)
    save_draft(store, "activity:new", FORM)
    set_setting(store, "theme", "山田花子-dark")
    after = maintenance.dump_text(store)
    assert after == before
    assert "山田花子" not in after
    assert "draft:" not in after and "setting:" not in after


def test_drafts_write_no_revision(store: Store) -> None:
    save_draft(store, "activity:new", FORM)
    set_setting(store, "language", "ja")
    assert unexported_changes(store) == 0


def test_an_unreadable_draft_is_skipped_and_logged(
    store: Store, clock: list[dt.datetime], caplog: pytest.LogCaptureFixture
) -> None:
    save_draft(store, "good", {"title": "残る"})
    saved = dt.datetime(2024, 7, 1, tzinfo=dt.UTC).isoformat()
    bad = {
        "truncated": '{"saved_at": "2024-07-01T00:00:00+00:00", "data": {"notes": "山田花子',
        "empty": "",
        "not-an-object": "[1, 2]",
        "no-time": json.dumps({"data": {"notes": "山田花子"}}),
        "bad-time": json.dumps({"saved_at": "昨日", "data": {}}),
        "time-not-text": json.dumps({"saved_at": 20240701, "data": {}}),
        "data-not-an-object": json.dumps({"saved_at": saved, "data": "山田花子"}),
        "no-data": json.dumps({"saved_at": saved}),
    }
    for name, value in bad.items():
        _raw(store, f"draft:{name}", value)
    # A draft saved by hand without a zone is read as UTC.
    _raw(store, "draft:naive", json.dumps({"saved_at": "2024-06-01T08:00:00", "data": {"a": 1}}))
    with caplog.at_level(logging.WARNING, logger="dxfield.store.local_state"):
        drafts = list_drafts(store)
    assert drafts == [
        Draft("good", {"title": "残る"}, clock[0]),
        Draft("naive", {"a": 1}, dt.datetime(2024, 6, 1, 8, tzinfo=dt.UTC)),
    ]
    logged = caplog.text
    for name in bad:
        assert repr(name) in logged, name
    # The log names the draft, never its content: drafts hold personal information.
    assert "山田花子" not in logged


def test_draft_data_must_be_json(store: Store) -> None:
    with pytest.raises(TypeError):
        save_draft(store, "x", {"date": dt.date(2024, 7, 17)})
    with pytest.raises(ValueError):
        save_draft(store, "x", {"n": float("nan")})
    with pytest.raises(ValueError, match="name"):
        save_draft(store, "", {})
    assert list_drafts(store) == []


def test_other_local_state_is_not_a_draft(store: Store) -> None:
    """The clock and the reference version share the table; neither is listed or touched."""
    with store.read() as conn:
        keys = set(conn.execute(select(_state.c.key)).scalars())
    assert "reference_version" in keys
    save_draft(store, "hlc", {"x": 1})
    discard_draft(store, "reference_version")
    with store.read() as conn:
        after = set(conn.execute(select(_state.c.key)).scalars())
    assert after == keys | {"draft:hlc"}
    assert [d.name for d in list_drafts(store)] == ["hlc"]
    # SQLite's LIKE ignores case; the prefix does not.
    _raw(store, "DRAFT:mine", json.dumps({"saved_at": "2024-06-01T08:00:00", "data": {}}))
    assert [d.name for d in list_drafts(store)] == ["hlc"]


# --- settings ------------------------------------------------------------------------------------


def test_settings_round_trip_as_json(store: Store) -> None:
    assert get_setting(store, "language") is None
    assert get_setting(store, "language", "ja") == "ja"
    for value in ["en", 3, 2.5, True, None, ["vision", "talent"], {"width": 40, "列": "日付"}]:
        set_setting(store, "value", value)
        assert get_setting(store, "value", "default") == value
    set_setting(store, "language", "en")
    assert get_setting(store, "language", "ja") == "en"
    assert get_setting(store, "value") == {"width": 40, "列": "日付"}


def test_settings_survive_reopening(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        set_setting(store, "log.columns", ["date", "title"])
    with Store.open(data_dir) as reopened:
        assert get_setting(reopened, "log.columns") == ["date", "title"]


def test_an_unreadable_setting_is_its_default(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    _raw(store, "setting:width", "{oops")
    with caplog.at_level(logging.WARNING, logger="dxfield.store.local_state"):
        assert get_setting(store, "width", 80) == 80
    assert "'width'" in caplog.text
    set_setting(store, "width", 100)
    assert get_setting(store, "width", 80) == 100


def test_a_setting_must_be_json(store: Store) -> None:
    with pytest.raises(TypeError):
        set_setting(store, "when", dt.date(2024, 7, 17))
    assert get_setting(store, "when", "unset") == "unset"


# --- unexported changes --------------------------------------------------------------------------


def test_unexported_changes_count_this_devices_revisions(store: Store) -> None:
    assert unexported_changes(store) == 0  # reference data has its own author
    data = {"municipality_id": TOYOOKA, "kind": "workshop", "title": "会", "date": "2024-07-17"}
    created = records.create(store, "activity", data)
    assert unexported_changes(store) == 1
    records.edit(store, "activity", created.id, {"title": "意見交換会"})
    records.edit(store, "activity", created.id, {"title": "意見交換会"})  # no change, no revision
    assert unexported_changes(store) == 2
    records.delete(store, "activity", created.id)
    assert unexported_changes(store) == 3
    # Revisions by another device (as an import would bring) are not this device's changes.
    other = records.validate("activity", data)
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", [("other-1", other)], device_id="another-laptop")
    assert unexported_changes(store) == 3


def test_the_demo_is_not_an_unexported_change(demo_store: Store) -> None:
    assert unexported_changes(demo_store) == 0
