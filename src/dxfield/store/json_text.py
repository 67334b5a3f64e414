"""JSON as the store writes it: canonical (what a revision's id and signature are made from) and
as JSON columns hold it. The very text `json.dumps` writes, without its cost per call.

`json.dumps(value, ...)` makes a `JSONEncoder` and, in it, the C encoder (`_json`'s
`make_encoder`) anew for every value; that is most of the time of a small value, and a bulk
import writes five a record (its canonical JSON and four JSON columns). Here the C encoder is
made once, with the same arguments `JSONEncoder.iterencode` gives it. It is checked against
`json.dumps` when this module is imported: where it is missing or writes anything else (another
Python), `json.dumps`'s own way is used.

One difference, on purpose: no check for a value that holds itself (`check_circular`), which
would otherwise cost a dictionary per call. What is written here is what pydantic or
`json.loads` made, which never holds itself (such a value would end in a RecursionError
instead of a ValueError).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

Encode = Callable[[Any], str]


def _reference(*, sort_keys: bool, separators: tuple[str, str], default: Any) -> Encode:
    encoder = json.JSONEncoder(
        ensure_ascii=False, sort_keys=sort_keys, separators=separators, default=default
    )
    return encoder.encode


def _made_once(*, sort_keys: bool, separators: tuple[str, str], default: Any) -> Encode | None:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encoder = make(
            None, default, encode_basestring, None, separators[1], separators[0], sort_keys,
            False, True,
        )  # fmt: skip
    except TypeError:  # another signature: not the encoder this was written for
        return None

    return _Fast(encoder)


class _Fast:
    """The C encoder's text of a value. An object rather than a closure: psycopg keys its
    cache of JSON dumpers by the function's code, and warns on stderr of a closure (every
    command on a hub said "using a closure in a dumps/loads function may cause a resource
    leak")."""

    __slots__ = ("_encoder",)

    def __init__(self, encoder: Any) -> None:
        self._encoder = encoder

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):  # as JSONEncoder.encode: a string is not iterated
            return encode_basestring(value)
        return "".join(self._encoder(value, 0))


_SAMPLE: Any = {
    "z": [
        1,
        2.5,
        -0.0,
        1e16,
        None,
        True,
        False,
        "",
        "\u00e9\u03a9 \U0001f4f7 \u2028 \x7f",
        {"b": 1, "a": [[]]},
    ],
    "a": {'k\n\t"\\': "\x00\x1f\u00e9", "j": 10**20},
    "m": "\ud800 lone",
    "d": "2024-07-21",
}


def _encoder(*, sort_keys: bool, separators: tuple[str, str], default: Any = None) -> Encode:
    reference = _reference(sort_keys=sort_keys, separators=separators, default=default)
    fast = _made_once(sort_keys=sort_keys, separators=separators, default=default)
    samples: tuple[Any, ...] = (_SAMPLE, [], {}, "text", 1, None, [_SAMPLE, {"x": _SAMPLE}])
    if default is not None:
        samples += ({"day": dt.date(2024, 7, 21), "at": dt.datetime(2024, 7, 21, 9, 30)},)
    try:
        if fast is not None and all(fast(s) == reference(s) for s in samples):
            return fast
    except Exception:  # any failure: the reference way
        pass
    return reference


canonical_json: Encode = _encoder(sort_keys=True, separators=(",", ":"), default=str)
"""JSON with sorted keys and no spaces: the same data always gives the same bytes (what
`json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)`
writes)."""

JSON_TEXT: Encode = _encoder(sort_keys=False, separators=(", ", ": "))
"""How JSON columns are written on both engines: Japanese as text, not \\u escapes (readable,
and findable by the tag and area filters); what `json.dumps(value, ensure_ascii=False)` writes."""
