"""`records.validate` checks content with the model's schema less SQLModel's `__init__`
(records._validator): it must accept, refuse and return exactly what the model's own validator
does, for every kind, good values and bad."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pydantic import ValidationError

from dxfield.store import records
from dxfield.store.records import ENTITIES

_ORG = "0b3b0f0e-5c8f-5d7d-9a7e-2f6f0b1c2d3e"

_FIELDS: dict[str, list[Any]] = {
    "title": ["窓口体験調査 第1回", "", "  spaced  ", "bad\x1b[31m", "x" * 1001, None, 7],
    "kind": ["meeting", "workshop", "party", None, ""],
    "date": ["2024-07-21", "令和6年7月21日", "2024-13-01", "", None, "tomorrow"],
    "municipality_id": [_ORG, None],
    "initiative_id": [None, _ORG],
    "notes": ["line\r\nline", "\u202e", "", None],
    "areas": [["vision"], ["talent", "vision", "talent"], ["nowhere"], "vision", None],
    "tags": [["ａ", " b ", "a"], "a", None, [""] * 3],
    "participants": [
        {"organization_ids": [_ORG], "head_count": 3, "text": "x"},
        {"head_count": -1},
        {"text": "\x00"},
        "nobody",
    ],
    "start_time": ["9:30", "25:00", None],
    "follow_up": [True, "yes", "perhaps"],
}


def _outcome(validator: Any, base: Any, data: dict[str, Any]) -> Any:
    try:
        model = validator.validate_python(data)
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]
    return base.__pydantic_serializer__.to_python(model, mode="json")


def _activities() -> list[dict[str, Any]]:
    names = list(_FIELDS)
    base = {name: values[0] for name, values in _FIELDS.items()}
    cases = [dict(base)]
    for name in names:  # each value of each field, the rest as the base
        cases += [{**base, name: value} for value in _FIELDS[name][1:]]
    for first, second in itertools.combinations(names, 2):  # two fields bad at once
        cases.append({**base, first: _FIELDS[first][-1], second: _FIELDS[second][-1]})
    cases.append({k: v for k, v in base.items() if k not in ("municipality_id", "initiative_id")})
    cases.append({})
    return cases


@pytest.mark.parametrize("data", _activities())
def test_an_activity_is_validated_as_the_model_validates_it(data: dict[str, Any]) -> None:
    base = ENTITIES["activity"].base
    assert records._validator(base) is not base.__pydantic_validator__
    assert _outcome(records._validator(base), base, data) == _outcome(
        base.__pydantic_validator__, base, data
    )


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_every_kind_refuses_and_accepts_as_its_model(entity: str) -> None:
    base = ENTITIES[entity].base
    for data in ({}, {"name": "x", "kind": "municipality", "text": "t", "title": "t"}):
        assert _outcome(records._validator(base), base, data) == _outcome(
            base.__pydantic_validator__, base, data
        )
