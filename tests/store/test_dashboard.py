"""The dashboard: a card per initiative (and per municipality for activities outside any), with
activity counts by month over a 年度, open and overdue actions, and where each community's track
stands; the 年度 shown follows the data. Every dashboard below is read both ways, through the
`Store` and through the light store (store/light.py), and the two are held equal, funnels too."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from dxfield import clock
from dxfield.demo.loader import demo_id
from dxfield.store import records, revisions
from dxfield.store.dashboard import Dashboard, InitiativeCard, TrackStage
from dxfield.store.dashboard import dashboard as store_dashboard
from dxfield.store.engine import Store
from dxfield.store.followups import list_initiatives
from dxfield.store.ids import reference_id
from dxfield.store.light import open_light
from dxfield.store.reference import municipality_id
from dxfield.store.tracks import funnel
from tests.store.test_light import needing_nothing

TOYOOKA = municipality_id("282090")
TAKA = municipality_id("283657")
AKO = municipality_id("282120")
DIALOGUE = "文脈の伝達と対話による信頼関係の構築"
TOYOOKA_MODEL = reference_id("stage_model", "toyooka-4stage")


def dashboard(store: Store, today: dt.date) -> Dashboard:
    """The `Store`'s dashboard, once the light store has read the same dashboard and the same
    funnels (the test sees only the `Store`'s queries: the rest go through other opens)."""
    found = store_dashboard(store, today)
    needing_nothing(store.data_dir)  # on a hub, the writes above are the `Store`'s to sign
    with Store.open(store.data_dir) as again:
        funnels = funnel(again)
    light = open_light(store.data_dir)
    assert light is not None
    try:
        assert light.dashboard(today) == found
        assert light.funnel() == funnels
    finally:
        light.close()
    return found


def _card(
    cards: list[InitiativeCard], initiative_id: str | None, municipality: str
) -> InitiativeCard:
    found = [
        c for c in cards if c.initiative_id == initiative_id and c.municipality_id == municipality
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def queries(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store runs while the test body runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "PRAGMA")):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(store.engine, "before_cursor_execute", record)


# --- the demo ------------------------------------------------------------------------------------


def test_toyooka_in_the_demo(demo_store: Store) -> None:
    cards = dashboard(demo_store, dt.date(2024, 7, 20)).cards
    toyooka = _card(cards, demo_id("initiative", "toyooka"), TOYOOKA)
    assert (toyooka.municipality, toyooka.municipality_kana) == ("豊岡市", "とよおかし")
    assert (toyooka.theme, toyooka.title) == ("配送DX", "「配送DX」を中心に地域DXを推進")
    assert toyooka.providers == [
        ("(株)電通総研", "representative"),
        ("(一社)コード・フォー・ジャパン", "resident"),
    ]
    assert toyooka.activities_total == toyooka.activities_this_year == 5
    assert toyooka.activities_this_month == 1  # the 7/17 visit to 西米良村
    assert len(toyooka.per_month) == 12
    assert toyooka.per_month[0] == ("2024-04", 4)  # 令和6年度: April to March
    assert toyooka.per_month[-1] == ("2025-03", 0)
    assert toyooka.per_month[3] == ("2024-07", 1)
    # Four activities are dated only by fiscal year: the first day of FY2024.
    assert dict(toyooka.per_month)["2024-04"] == 4
    assert sum(n for _, n in toyooka.per_month) == 5
    assert (toyooka.open_actions, toyooka.overdue_actions) == (2, 0)
    assert [(t.community, t.stage_key, t.stage_label) for t in toyooka.tracks] == [
        ("奥矢根区", "dialogue", DIALOGUE),
        ("資母地区コミュニティ", "dialogue", DIALOGUE),
    ]
    assert {t.stage_label_en for t in toyooka.tracks} == {"Trust through context and dialogue"}


@pytest.mark.dated
def test_the_demo_later_in_the_year(demo_store: Store) -> None:
    cards = dashboard(demo_store, dt.date(2025, 1, 15)).cards
    toyooka = _card(cards, demo_id("initiative", "toyooka"), TOYOOKA)
    assert toyooka.activities_this_month == 0
    assert toyooka.per_month[0] == ("2024-04", 4)
    assert dict(toyooka.per_month)["2024-07"] == 1
    # The trial was to happen 年内 (due 2024-12-31).
    assert (toyooka.open_actions, toyooka.overdue_actions) == (2, 1)
    # Both tracks moved to "dialogue" on 2024-10-31.
    assert [t.days_in_stage for t in toyooka.tracks] == [76, 76]


def test_one_card_per_initiative_in_kana_order(demo_store: Store) -> None:
    cards = dashboard(demo_store, dt.date(2024, 7, 20)).cards
    summaries = list_initiatives(demo_store)
    assert [c.initiative_id for c in cards] == [s.initiative.id for s in summaries]
    assert [c.municipality_kana for c in cards] == sorted(c.municipality_kana for c in cards)
    assert all(c.initiative_id is not None for c in cards)
    # Only 豊岡市 has tracks.
    assert [c.municipality for c in cards if c.tracks] == ["豊岡市"]


@pytest.mark.dated
def test_the_demo_shows_its_own_nendo_whatever_today_is(
    demo_store: Store, moved_clock: dt.date
) -> None:
    # The demo's records are all of 令和6年度 (2024-04-01 to 2025-03-31): in that 年度 it is
    # today's; after it, today's 年度 is empty and the dashboard shows the demo's.
    board = dashboard(demo_store, clock.today())
    assert clock.today() == moved_clock
    assert board.fiscal_year == 2024
    toyooka = _card(board.cards, demo_id("initiative", "toyooka"), TOYOOKA)
    assert [m for m, _ in toyooka.per_month] == [
        *(f"2024-{m:02d}" for m in range(4, 13)),
        *(f"2025-{m:02d}" for m in range(1, 4)),
    ]
    assert toyooka.activities_this_year == 5
    if moved_clock <= dt.date(2025, 3, 31):
        assert (board.current, board.as_of) == (True, moved_clock)
    else:
        assert (board.current, board.as_of) == (False, dt.date(2025, 3, 31))
        # "This month" is the 年度's last month with an activity: 2024年10月下旬's project.
        assert board.month == dt.date(2024, 10, 1)
        assert board.month_index == 6
        # Both tracks moved to "dialogue" on 2024-10-31: 151 days to the 年度's end, not 700.
        assert [t.days_in_stage for t in toyooka.tracks] == [151, 151]


# --- the window: a 年度 that follows the data -----------------------------------------------------


def _toyooka_initiative(store: Store) -> str:
    data = {"municipality_id": TOYOOKA, "theme": "配送DX", "title": "配送"}
    return str(records.create(store, "initiative", data).id)


def test_a_store_of_last_nendo_shows_last_nendo(store: Store) -> None:
    initiative = _toyooka_initiative(store)
    for date in ("2024-04-01", "2024-06-15", "2024-10-21", "2025-03-31"):
        _activity(store, date, initiative_id=initiative, municipality_id=TOYOOKA)
    _activity(store, "2023-05-01", initiative_id=initiative, municipality_id=TOYOOKA)
    # 31 March: still 令和6年度, today's.
    board = dashboard(store, dt.date(2025, 3, 31))
    assert (board.fiscal_year, board.current, board.as_of) == (2024, True, dt.date(2025, 3, 31))
    assert board.month == dt.date(2025, 3, 1)
    (card,) = board.cards
    assert (card.activities_this_month, card.activities_this_year, card.activities_total) == (
        1,
        4,
        5,
    )
    # 1 April: 令和7年度 has nothing yet, so 令和6年度 is shown, as of its last day.
    board = dashboard(store, dt.date(2025, 4, 1))
    assert (board.fiscal_year, board.current, board.as_of) == (2024, False, dt.date(2025, 3, 31))
    assert board.month == dt.date(2025, 3, 1)  # its last month with an activity
    (card,) = board.cards
    assert card.per_month[0] == ("2024-04", 1) and card.per_month[-1] == ("2025-03", 1)
    assert (card.activities_this_month, card.activities_this_year) == (1, 4)
    # Years later, the same.
    assert dashboard(store, dt.date(2027, 8, 1)).fiscal_year == 2024


def test_a_store_with_this_nendos_activities_shows_this_nendo(store: Store) -> None:
    initiative = _toyooka_initiative(store)
    _activity(store, "2024-10-21", initiative_id=initiative, municipality_id=TOYOOKA)
    _activity(store, "2026-04-02", initiative_id=initiative, municipality_id=TOYOOKA)
    board = dashboard(store, dt.date(2026, 5, 10))
    assert (board.fiscal_year, board.current, board.as_of) == (2026, True, dt.date(2026, 5, 10))
    assert board.month == dt.date(2026, 5, 1)  # today's month, even with nothing in it
    (card,) = board.cards
    assert card.per_month[0] == ("2026-04", 1)
    assert (card.activities_this_month, card.activities_this_year, card.activities_total) == (
        0,
        1,
        2,
    )


def test_planned_and_deleted_activities_do_not_choose_the_nendo(store: Store) -> None:
    initiative = _toyooka_initiative(store)
    _activity(store, "2024-06-01", initiative_id=initiative, municipality_id=TOYOOKA)
    # Planned for the next 年度: not data of today's.
    _activity(store, "2027-05-01", initiative_id=initiative, municipality_id=TOYOOKA)
    gone = _activity(store, "2026-06-01", initiative_id=initiative, municipality_id=TOYOOKA)
    records.delete(store, "activity", gone)
    board = dashboard(store, dt.date(2026, 7, 1))
    assert (board.fiscal_year, board.month) == (2024, dt.date(2024, 6, 1))


def test_an_empty_store_shows_todays_nendo(store: Store) -> None:
    board = dashboard(store, dt.date(2026, 3, 31))
    assert (board.fiscal_year, board.current, board.month, board.cards) == (
        2025,
        True,
        dt.date(2026, 3, 1),
        [],
    )


def test_days_in_stage_count_to_the_end_of_a_past_nendo(store: Store) -> None:
    initiative = _toyooka_initiative(store)
    _activity(store, "2024-06-01", initiative_id=initiative, municipality_id=TOYOOKA)
    data = {"kind": "community", "name": "上地区", "kana": "かみちく", "parent_id": TOYOOKA}
    community = str(records.create(store, "organization", data).id)
    track = records.create(
        store,
        "engagement_track",
        {
            "model_id": TOYOOKA_MODEL,
            "community_id": community,
            "initiative_id": initiative,
            "current_stage": "dialogue",
        },
    )
    records.create(
        store, "stage_move", {"track_id": track.id, "to_stage": "dialogue", "date": "2025-03-01"}
    )
    (card,) = dashboard(store, dt.date(2026, 7, 1)).cards
    assert [t.days_in_stage for t in card.tracks] == [30]  # to 2025-03-31, not to 2026-07-01
    (card,) = dashboard(store, dt.date(2025, 3, 11)).cards
    assert [t.days_in_stage for t in card.tracks] == [10]  # today's 年度: to today


# --- activities outside initiatives, deleted records, tracks -------------------------------------


def _activity(store: Store, date: str, **fields: Any) -> str:
    data = {"kind": "meeting", "title": "会議", "date": date, **fields}
    return str(records.create(store, "activity", data).id)


def test_a_municipality_card_for_activities_outside_initiatives(store: Store) -> None:
    initiative = records.create(
        store, "initiative", {"municipality_id": TOYOOKA, "theme": "配送DX", "title": "配送"}
    )
    _activity(store, "2024-07-01", initiative_id=initiative.id, municipality_id=TOYOOKA)
    _activity(store, "2024-07-02", municipality_id=TOYOOKA)
    _activity(store, "2024-06-30", municipality_id=TOYOOKA)
    _activity(store, "2024-07-31", municipality_id=AKO)
    gone = _activity(store, "2024-07-03", municipality_id=AKO)
    records.delete(store, "activity", gone)
    only_deleted = _activity(store, "2024-07-03", municipality_id=TAKA)
    records.delete(store, "activity", only_deleted)

    cards = dashboard(store, dt.date(2024, 7, 10)).cards
    # 赤穂市 (あこうし) before 豊岡市 (とよおかし); within 豊岡市 the untitled card first.
    assert [(c.municipality, c.title) for c in cards] == [
        ("赤穂市", ""),
        ("豊岡市", ""),
        ("豊岡市", "配送"),
    ]
    ako, toyooka_other, toyooka = cards
    assert (ako.initiative_id, ako.theme, ako.providers, ako.tracks) == (None, "", [], [])
    assert (ako.activities_total, ako.activities_this_month) == (1, 1)
    assert (toyooka_other.activities_total, toyooka_other.activities_this_month) == (2, 1)
    assert dict(toyooka_other.per_month)["2024-06"] == 1
    assert (toyooka.activities_total, toyooka.activities_this_month) == (1, 1)
    assert (toyooka_other.open_actions, toyooka_other.overdue_actions) == (0, 0)


def test_an_initiative_with_nothing_yet_has_a_card_of_zeros(store: Store) -> None:
    initiative = records.create(
        store, "initiative", {"municipality_id": TAKA, "theme": "保健福祉DX", "title": "見守り"}
    )
    (card,) = dashboard(store, dt.date(2024, 7, 10)).cards
    assert card.initiative_id == initiative.id
    assert (card.municipality, card.activities_total, card.activities_this_month) == (
        "多可町",
        0,
        0,
    )
    assert [n for _, n in card.per_month] == [0] * 12
    assert (card.open_actions, card.overdue_actions, card.tracks) == (0, 0, [])


def test_a_deleted_initiatives_activities_count_on_its_municipality(store: Store) -> None:
    kept = records.create(
        store, "initiative", {"municipality_id": TOYOOKA, "theme": "配送DX", "title": "配送"}
    )
    dropped = records.create(
        store, "initiative", {"municipality_id": TOYOOKA, "theme": "観光DX", "title": "観光"}
    )
    _activity(store, "2024-07-01", initiative_id=dropped.id, municipality_id=TOYOOKA)
    records.create(store, "action", {"initiative_id": dropped.id, "text": "やる"})
    records.delete(store, "initiative", dropped.id)
    cards = dashboard(store, dt.date(2024, 7, 10)).cards
    assert [(c.initiative_id, c.activities_total, c.open_actions) for c in cards] == [
        (None, 1, 0),
        (kept.id, 0, 0),
    ]


@pytest.mark.dated
def test_actions_open_and_overdue(store: Store) -> None:
    initiative = records.create(
        store, "initiative", {"municipality_id": TOYOOKA, "theme": "配送DX", "title": "配送"}
    )
    for status, due in [
        ("planned", "2024-07-09"),  # overdue
        ("in_progress", "2024-07-01"),  # overdue
        ("planned", "2024-07-10"),  # due today: not overdue
        ("planned", None),
        ("done", "2024-06-01"),  # closed: neither
        ("dropped", "2024-06-01"),
    ]:
        records.create(
            store,
            "action",
            {"initiative_id": initiative.id, "text": "x", "status": status, "due": due},
        )
    gone = records.create(
        store, "action", {"initiative_id": initiative.id, "text": "x", "due": "2024-01-01"}
    )
    records.delete(store, "action", gone.id)
    (card,) = dashboard(store, dt.date(2024, 7, 10)).cards
    assert (card.open_actions, card.overdue_actions) == (4, 2)


@pytest.mark.dated
def test_tracks_stages_and_days(store: Store) -> None:
    initiative = records.create(
        store, "initiative", {"municipality_id": TOYOOKA, "theme": "配送DX", "title": "配送"}
    )

    def community(name: str, kana: str) -> str:
        data = {"kind": "community", "name": name, "kana": kana, "parent_id": TOYOOKA}
        return str(records.create(store, "organization", data).id)

    def track(community_id: str, stage: str | None) -> str:
        data = {
            "model_id": TOYOOKA_MODEL,
            "community_id": community_id,
            "initiative_id": initiative.id,
            "current_stage": stage,
        }
        return str(records.create(store, "engagement_track", data).id)

    def move(track_id: str, to: str, date: str, *, deleted: bool = False) -> None:
        created = records.create(
            store, "stage_move", {"track_id": track_id, "to_stage": to, "date": date}
        )
        if deleted:
            records.delete(store, "stage_move", created.id)

    moved = track(community("上地区", "かみちく"), "collaborators")
    move(moved, "dialogue", "2024-06-01")
    move(moved, "collaborators", "2024-07-01")
    move(moved, "group", "2024-07-05", deleted=True)
    back = track(community("あ地区", "あちく"), "survey")
    move(back, "dialogue", "2024-05-01")
    move(back, "survey", "2024-06-20")  # stages can move back
    track(community("新地区", "しんちく"), None)  # no moves yet
    unknown = track(community("ん地区", "んちく"), "retired")  # a stage the model lacks
    move(unknown, "retired", "2024-07-10")
    gone = track(community("消地区", "けすちく"), "survey")
    records.delete(store, "engagement_track", gone)

    (card,) = dashboard(store, dt.date(2024, 7, 10)).cards
    assert card.tracks == [
        TrackStage("あ地区", "survey", "初期調査", "Initial survey", 20),
        TrackStage(
            "上地区",
            "collaborators",
            "前向きな協力者の識別",
            "Positive collaborators identified",
            9,
        ),
        TrackStage("新地区", None, "", "", None),
        TrackStage("ん地区", "retired", "retired", "retired", 0),
    ]


# --- many activities -----------------------------------------------------------------------------


def test_twenty_thousand_activities_tally_in_a_few_queries(
    store: Store, queries: list[str]
) -> None:
    rng = random.Random(7)
    today = dt.date(2024, 7, 20)
    places = [municipality_id(c) for c in ("282090", "283657", "282120", "281000", "282014")]
    initiatives = []
    for n in range(8):
        place = places[n % 4]  # the fifth place has activities outside initiatives only
        data = {"municipality_id": place, "theme": f"DX{n}", "title": f"取組{n}"}
        initiatives.append((str(records.create(store, "initiative", data).id), place))
    base = records.validate(
        "activity", {"municipality_id": TOYOOKA, "kind": "meeting", "title": "x", "date": today}
    )
    first = dt.date(2023, 1, 1)
    span = (dt.date(2024, 9, 30) - first).days  # some dated after today, in later months
    items: list[tuple[str, dict[str, Any], str | None, str]] = []
    for _ in range(20_000):
        date = first + dt.timedelta(days=rng.randrange(span))
        if rng.random() < 0.8:
            initiative_id, place = rng.choice(initiatives)
        else:
            initiative_id, place = None, rng.choice(places)
        record_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        content = {
            **base,
            "date": date.isoformat(),
            "initiative_id": initiative_id,
            "municipality_id": place,
        }
        items.append((record_id, content, initiative_id, place))
    deleted = set(rng.sample([i[0] for i in items], 300))
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", [(i, c) for i, c, _, _ in items])
        for record_id in deleted:
            revisions.write_record(unit, "activity", record_id, None, deleted=True)

    total: Counter[tuple[str | None, str]] = Counter()
    monthly: Counter[tuple[str | None, str, str]] = Counter()
    for record_id, content, initiative_id, place in items:
        if record_id in deleted:
            continue
        key = (initiative_id, place if initiative_id is None else "")
        total[key] += 1
        monthly[(*key, content["date"][:7])] += 1

    queries.clear()
    cards = dashboard(store, today).cards
    # One per table and one for the 年度 to show (PostgreSQL's SET TRANSACTION aside): not one
    # per card, nor per month.
    reads = [q for q in queries if not q.startswith("SET TRANSACTION")]
    assert len(reads) <= 6, queries
    assert all(c.activities_this_year == sum(n for _, n in c.per_month) for c in cards)

    months = [f"2024-{m:02d}" for m in range(4, 13)] + [f"2025-{m:02d}" for m in range(1, 4)]
    assert len(cards) == len(initiatives) + len(places)
    for card in cards:
        key = (card.initiative_id, card.municipality_id if card.initiative_id is None else "")
        assert card.activities_total == total[key], card
        assert card.per_month == [(m, monthly[(*key, m)]) for m in months], card
        assert card.activities_this_month == monthly[(*key, "2024-07")]
    assert sum(c.activities_total for c in cards) == len(items) - len(deleted)
