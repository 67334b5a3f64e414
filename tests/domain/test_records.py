"""Record validation: errors name their field, values are canonicalized."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from dxfield.domain.enums import ActivityKind, SupportArea
from dxfield.domain.errors import from_validation_error
from dxfield.domain.records import ActivityBase, OrganizationBase


def _activity(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "municipality_id": "m",
        "kind": "workshop",
        "title": "意見交換会",
        "date": "令和6年7月17日",
    }
    return {**base, **changes}


def test_activity_is_canonicalized() -> None:
    activity = ActivityBase.model_validate(
        _activity(title="  意見交換会 ", areas=["talent", "vision", "talent"], tags=["ＤＸ", " a "])
    )
    assert activity.title == "意見交換会"
    assert activity.date == dt.date(2024, 7, 17)
    assert activity.kind is ActivityKind.workshop
    assert activity.areas == [SupportArea.vision, SupportArea.talent]
    assert activity.tags == ["DX", "a"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "   "}, "title"),
        ({"date": "2024-02-30"}, "date"),
        ({"kind": "walk"}, "kind"),
        ({"areas": ["budget"]}, "support area"),
        ({"start_time": "25:00"}, "start time"),
        ({"municipality_id": None}, "municipality"),
    ],
)
def test_errors_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ActivityBase.model_validate(_activity(**changes))
    error = from_validation_error(caught.value)
    assert error.message("en").startswith(field), error.message("en")
    assert error.message("ja")


def test_organization_code_is_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        OrganizationBase.model_validate({"kind": "municipality", "name": "x", "code": "282091"})
    assert "code" in from_validation_error(caught.value).message("en")


def test_labels_exist_in_both_languages() -> None:
    for enum in (ActivityKind, SupportArea):
        for member in enum:
            assert member.label("ja") and member.label("en")
    assert ActivityKind.parse("視察") is ActivityKind.site_visit
    assert ActivityKind.parse("Site visit") is ActivityKind.site_visit
    assert SupportArea.vision.ja == "ビジョン策定・組織能力強化に係る支援"


def test_enum_labels_come_from_the_catalogue_in_either_language() -> None:
    from dxfield.domain.enums import OrgKind

    assert ActivityKind.site_visit.label("ja") == "視察"
    assert ActivityKind.site_visit.label("en") == "Site visit"
    assert ActivityKind.meeting.ja == "会議" and ActivityKind.meeting.en == "Meeting"
    assert OrgKind.community.ja == "地区"  # a liaison's word, not コミュニティ
    for text in ("site_visit", "視察", "Site visit"):
        assert ActivityKind.parse(text) is ActivityKind.site_visit
    with pytest.raises(ValueError) as caught:
        ActivityKind.parse("walk")
    assert "meeting" in caught.value.message("ja")  # type: ignore[attr-defined]


def test_field_names_are_in_one_language() -> None:
    from dxfield.i18n import FIELD_LABELS, field_label

    assert field_label("date", "ja") == "日付"
    assert field_label("date", "en") == "date"
    assert field_label("track", "ja") == "合意形成"
    assert field_label("no_such_field", "ja") == "no_such_field"
    assert FIELD_LABELS["title"] == ("タイトル", "title")  # the older pairs, for code that moves
