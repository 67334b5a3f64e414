"""Stage models, engagement tracks and stage moves: the consensus-building services."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dxfield.demo.loader import demo_id
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.store import maintenance, records
from dxfield.store.engine import Store
from dxfield.store.organizations import add_organization
from dxfield.store.revisions import history
from dxfield.store.tracks import (
    add_stage_model,
    add_track,
    funnel,
    get_track,
    list_stage_models,
    list_tracks,
    move_track,
    read_stage_model_file,
    take_back_move,
    timeline,
    track_moves,
)

TODAY = dt.date(2024, 11, 26)
BRIEFING = demo_id("activity", "toyooka-drone-briefing")
WORKSHOP = demo_id("activity", "toyooka-workshop")

MADOGUCHI = """
key = "madoguchi-dx"
name = "窓口DX導入"
name_en = "Service counter DX rollout"

[[stages]]
key = "current"
label = "現状把握"
label_en = "Current state"
description = "窓口の業務と来庁者の動きを調べる。"
exit_criteria = "業務フローが図になっている。"

[[stages]]
key = "trial"
label = "試行"

[[stages]]
key = "rollout"
label = "本格導入"
"""


@pytest.mark.dated
def test_the_demo_has_toyookas_tracks_at_dialogue_with_their_evidence(demo_store: Store) -> None:
    tracks = list_tracks(demo_store, today=TODAY)
    assert [(t.community, t.stage.key if t.stage else None) for t in tracks] == [
        ("奥矢根区", "dialogue"),
        ("資母地区コミュニティ", "dialogue"),
    ]
    okuyane = tracks[0]
    assert okuyane.municipality == "豊岡市"
    assert okuyane.since == dt.date(2024, 10, 31)
    assert okuyane.days_in_stage == 26
    assert okuyane.last_activity is not None
    assert okuyane.last_activity.id in {BRIEFING, WORKSHOP}
    (move,) = track_moves(demo_store, okuyane.track.id)
    assert set(move.evidence_ids) == {BRIEFING, WORKSHOP}
    assert move.from_stage is None and move.to_stage == "dialogue"


def test_days_in_a_stage_count_to_the_end_of_the_demos_nendo_when_today_is_later(
    demo_store: Store,
) -> None:
    """Two years on, with nothing logged since 令和6年度, a track has stood at its stage until
    that 年度's last day, as the dashboard counts (not 762 days, as of the clock; issue 18)."""
    later = dt.date(2026, 12, 3)
    okuyane = list_tracks(demo_store, today=later)[0]
    assert okuyane.since == dt.date(2024, 10, 31)
    assert okuyane.days_in_stage == (dt.date(2025, 3, 31) - dt.date(2024, 10, 31)).days
    # A move after that day counts to today.
    first = okuyane.model.stages[0].key
    move_track(demo_store, okuyane.track.id, to=first, date=dt.date(2026, 11, 30), today=later)
    moved = get_track(demo_store, okuyane.track.id, today=later)
    assert moved.days_in_stage == 3


@pytest.mark.dated
def test_a_track_moves_forward_with_evidence_then_back_and_keeps_both(demo_store: Store) -> None:
    move_track(
        demo_store,
        "奥矢根区",
        to="collaborators",
        evidence=[WORKSHOP[-8:]],
        date="2024-11-20",
        note="協力者3名",
        today=TODAY,
    )
    summary = get_track(demo_store, "奥矢根区", today=TODAY)
    assert summary.stage is not None and summary.stage.key == "collaborators"
    assert summary.days_in_stage == 6
    move_track(
        demo_store, "奥矢根区", to="dialogue", date="2024-11-25", today=TODAY
    )  # back: no evidence
    moves = track_moves(demo_store, summary.track.id)
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("collaborators", "dialogue"),
        ("dialogue", "collaborators"),
        (None, "dialogue"),
    ]
    assert moves[1].evidence_ids == [WORKSHOP] and moves[1].note == "協力者3名"
    # The track's stage is a revision of the track too: its history shows both moves.
    with demo_store.read() as conn:
        stages = [
            r["data"]["current_stage"] for r in history(conn, "engagement_track", summary.track.id)
        ]
    assert stages[-2:] == ["collaborators", "dialogue"]


def test_the_last_move_is_taken_back_as_new_revisions_and_only_the_last(
    demo_store: Store,
) -> None:
    track = get_track(demo_store, "奥矢根区", today=TODAY).track.id
    first = move_track(demo_store, track, to="collaborators", no_evidence=True, today=TODAY)
    second = move_track(demo_store, track, to="group", no_evidence=True, today=TODAY)
    # The app's undo names the move it offers: an older one is not taken back in its place.
    with pytest.raises(LocalizedError, match="moved since"):
        take_back_move(demo_store, track, move_id=first.id)
    before = maintenance.dump(demo_store)
    taken = take_back_move(demo_store, "奥矢根区", move_id=second.id)
    assert taken.id == second.id
    summary = get_track(demo_store, track, today=TODAY)
    assert summary.stage is not None and summary.stage.key == "collaborators"
    assert track_moves(demo_store, track)[0].id == first.id
    # Nothing rewritten: the move is a tombstone, the track a new revision.
    with demo_store.read() as conn:
        moves = history(conn, "stage_move", second.id)
        stages = [r["data"]["current_stage"] for r in history(conn, "engagement_track", track)]
    assert [r["deleted"] for r in moves] == [False, True]
    assert stages[-3:] == ["collaborators", "group", "collaborators"]
    assert maintenance.dump(demo_store) != before
    # Back to the stage before the demo's first move too, then nothing is left to take back.
    take_back_move(demo_store, track)
    take_back_move(demo_store, track)
    assert get_track(demo_store, track, today=TODAY).stage is None
    with pytest.raises(NotFound, match="no move to take back"):
        take_back_move(demo_store, track)


def test_a_move_is_not_taken_back_once_the_track_stands_elsewhere(demo_store: Store) -> None:
    """A sync (another device's version of the track) or a conflict's choice can change the
    track's stage without a move: its last move no longer says where it stands."""
    track = get_track(demo_store, "奥矢根区", today=TODAY).track.id
    move_track(demo_store, track, to="collaborators", no_evidence=True, today=TODAY)
    records.edit(demo_store, "engagement_track", track, {"current_stage": "group"})
    before = maintenance.dump(demo_store)
    with pytest.raises(LocalizedError, match="no longer at the stage"):
        take_back_move(demo_store, track)
    assert maintenance.dump(demo_store) == before


def test_a_move_forward_needs_evidence_unless_said_otherwise(demo_store: Store) -> None:
    before = maintenance.dump(demo_store)
    with pytest.raises(LocalizedError, match="evidence"):
        move_track(demo_store, "奥矢根区", to="group", today=TODAY)
    assert maintenance.dump(demo_store) == before
    move = move_track(demo_store, "奥矢根区", to="group", no_evidence=True, today=TODAY)
    assert move.evidence_ids == [] and move.date == TODAY


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"to": "nowhere"}, "no stage 'nowhere'"),
        ({"to": "dialogue"}, "already at stage"),
        ({"to": "group", "evidence": ["ffffffffff"]}, "no activity"),
        ({"to": "group", "evidence": [BRIEFING], "date": "2024-10-01"}, "before the track's last"),
        ({"to": "group", "evidence": [BRIEFING], "date": "2024-13-01"}, "date"),
        ({"to": "group", "evidence": [BRIEFING], "note": "a\x1b[31m"}, "control character"),
    ],
)
def test_a_bad_move_is_refused_and_writes_nothing(
    demo_store: Store, options: dict[str, object], message: str
) -> None:
    before = maintenance.dump(demo_store)
    with pytest.raises(LocalizedError, match=message):
        move_track(demo_store, "奥矢根区", today=TODAY, **options)  # type: ignore[arg-type]
    assert maintenance.dump(demo_store) == before


def test_a_track_follows_a_community_in_the_built_in_model_by_default(demo_store: Store) -> None:
    school = add_organization(demo_store, kind="school", name="竹野小学校", parent="豊岡市")
    track = add_track(
        demo_store, community="竹野小学校", initiative=demo_id("initiative", "toyooka")
    )
    summary = get_track(demo_store, track.id[-8:], today=TODAY)
    assert summary.model.key == "toyooka-4stage"
    assert summary.community == school.name and summary.municipality == "豊岡市"
    assert summary.stage is None and summary.days_in_stage is None
    with pytest.raises(LocalizedError, match="is already followed through this stage model"):
        add_track(demo_store, community="竹野小学校")
    with pytest.raises(NotFound, match="community"):
        add_track(demo_store, community="存在しない区")
    with pytest.raises(NotFound):
        add_track(demo_store, community="豊岡市")  # a municipality is not a community


def test_a_user_defined_model_from_a_toml_file(demo_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "madoguchi.toml"
    path.write_text(MADOGUCHI, encoding="utf-8")
    model = add_stage_model(demo_store, read_stage_model_file(path))
    assert [s.key for s in model.stages] == ["current", "trial", "rollout"]
    assert not model.builtin
    assert [m.key for m in list_stage_models(demo_store)] == ["toyooka-4stage", "madoguchi-dx"]
    with pytest.raises(LocalizedError, match="taken"):
        add_stage_model(demo_store, read_stage_model_file(path))
    add_organization(demo_store, kind="agency", name="豊岡市市民課", parent="豊岡市")
    add_track(demo_store, community="豊岡市市民課", model="madoguchi-dx")
    move_track(demo_store, "豊岡市市民課", to="current", no_evidence=True, today=TODAY)
    funnels = {f.model.key: f for f in funnel(demo_store)}
    assert [(s.key, s.count) for s in funnels["madoguchi-dx"].stages] == [
        ("current", 1),
        ("trial", 0),
        ("rollout", 0),
    ]
    assert [(s.key, s.count) for s in funnels["toyooka-4stage"].stages] == [
        ("survey", 0),
        ("dialogue", 2),
        ("collaborators", 0),
        ("group", 0),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('key = "x"\nname = "n"\n', "at least one stage"),
        ('key = "X Y"\nname = "n"\n[[stages]]\nkey = "a"\nlabel = "A"\n', "not a valid key"),
        (
            'key = "x"\nname = "n"\n[[stages]]\nkey = "a"\nlabel = "A"\n'
            '[[stages]]\nkey = "a"\nlabel = "B"\n',
            "unique keys",
        ),
        ('key = "x"\nname = "n"\n[[stages]]\nkey = "a"\n', "stages"),
        ('key = "x"\nname = "n"\ncolour = "red"\n[[stages]]\nkey = "a"\nlabel = "A"\n', "colour"),
        ('key = "x"\nname = \n', "not valid TOML"),
    ],
)
def test_a_bad_stage_model_file_is_refused(
    store: Store, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    before = maintenance.dump(store)
    with pytest.raises(LocalizedError, match=message):
        add_stage_model(store, read_stage_model_file(path))
    assert maintenance.dump(store) == before


def test_the_timeline_puts_moves_and_the_communitys_activities_together(
    demo_store: Store,
) -> None:
    visit = records.create(
        demo_store,
        "activity",
        {
            "initiative_id": demo_id("initiative", "toyooka"),
            "kind": "site_visit",
            "title": "奥矢根区 協力者訪問",
            "date": "2024-11-20",
            "participants": {"organization_ids": [demo_id("organization", "okuyane")]},
        },
    )
    move_track(demo_store, "奥矢根区", to="collaborators", evidence=[visit.id], date="2024-11-20")
    summary, entries = timeline(demo_store, "奥矢根区")
    assert summary.community == "奥矢根区"
    shown = [(e.kind, e.move.to_stage if e.move else e.activity.title) for e in entries]  # type: ignore[union-attr]
    assert shown[:3] == [
        ("move", "collaborators"),
        ("activity", "奥矢根区 協力者訪問"),
        ("move", "dialogue"),
    ]
    assert {title for kind, title in shown[3:]} == {
        "ドローン配送説明会",
        "意見交換・ワークショップ",
    }
    assert all(e.evidence for e in entries if e.kind == "activity")


def test_an_activity_that_advances_a_track_is_saved_with_its_move_or_not_at_all(
    demo_store: Store,
) -> None:
    from dxfield.store.activities import ActivityInput
    from dxfield.store.tracks import add_activity_advancing

    given = ActivityInput(
        title="奥矢根区 協力者の会", kind="meeting", date="2024-11-22", municipality="豊岡市"
    )
    activity, move = add_activity_advancing(demo_store, given, track="奥矢根区", to="collaborators")
    assert move.evidence_ids == [activity.id] and move.date == dt.date(2024, 11, 22)
    assert get_track(demo_store, "奥矢根区").stage.key == "collaborators"  # type: ignore[union-attr]
    before = maintenance.dump(demo_store)
    early = ActivityInput(
        title="遡った会", kind="meeting", date="2024-11-01", municipality="豊岡市"
    )
    with pytest.raises(LocalizedError, match="before the track's last move"):
        add_activity_advancing(demo_store, early, track="奥矢根区", to="group")
    assert maintenance.dump(demo_store) == before  # the activity was not saved either


def test_a_stage_model_file_saved_by_notepad_with_a_bom_reads(tmp_path: Path) -> None:
    path = tmp_path / "model.toml"
    path.write_bytes('key = "bom"\nname = "BOM付き"\n'.encode("utf-8-sig"))
    assert read_stage_model_file(path) == {"key": "bom", "name": "BOM付き"}
    path.write_bytes("name = '段階'\n".encode("shift_jis"))
    with pytest.raises(LocalizedError, match="not UTF-8"):
        read_stage_model_file(path)
    with pytest.raises(NotFound):
        read_stage_model_file(tmp_path / "missing.toml")
