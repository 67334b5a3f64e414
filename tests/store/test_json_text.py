"""The store's JSON (store/json_text.py) is the very text `json.dumps` writes: a revision's id
and signature are made from its canonical JSON, so a single character otherwise would give the
same record another id on a store running the other way."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dxfield.store import json_text

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert json_text.canonical_json(value) == _canonical(value)
    assert json_text.JSON_TEXT(value) == json.dumps(value, ensure_ascii=False)


def test_dates_are_written_as_text_as_json_dumps_default_str_writes_them() -> None:
    value = {"b": dt.date(2024, 7, 21), "a": [dt.datetime(2024, 7, 21, 9, 30, 1, 5)]}
    assert json_text.canonical_json(value) == _canonical(value)


def test_the_encoder_made_once_is_the_one_in_use_here() -> None:
    """On CPython the C encoder made once is taken (the reference way is only a fallback): were
    the check at import to fail here, the import would quietly be slow again."""
    assert isinstance(json_text.canonical_json, json_text._Fast)
    assert isinstance(json_text.JSON_TEXT, json_text._Fast)


def test_psycopg_takes_the_json_writer_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """The hub's engine hands JSON_TEXT to psycopg, which keys its dumpers by the function and
    logs a warning (shown on stderr by every hub command) for a closure."""
    from psycopg.types.json import Jsonb, _get_adapter_key

    with caplog.at_level(logging.WARNING, logger="psycopg"):
        assert _get_adapter_key(Jsonb, json_text.JSON_TEXT) is not None
    assert caplog.records == []


def test_a_failed_value_leaves_the_next_one_right() -> None:
    """No state is left behind by a value the encoder refuses."""
    with pytest.raises(TypeError):
        json_text.JSON_TEXT({"a": object()})
    assert json_text.JSON_TEXT({"a": [1, {"b": "c"}]}) == '{"a": [1, {"b": "c"}]}'
