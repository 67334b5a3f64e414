"""Record ids: new ones are UUIDv7s in order and at the wall clock's time, however many a table
import makes at once."""

from __future__ import annotations

import time
import uuid

from dxfield.store.ids import looks_like_id, new_id


def _ms(text: str) -> int:
    return uuid.UUID(text).int >> 80


def test_a_burst_of_ids_is_in_order_unique_and_not_in_the_future() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(50_000)]
    after = time.time_ns() // 1_000_000
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(looks_like_id(i) for i in ids[:100])
    assert {uuid.UUID(i).version for i in ids[:100]} == {7}
    # uuid6 moved each id a millisecond past the last: the 50,000th stood 50 s ahead.
    assert before <= _ms(ids[0]) and _ms(ids[-1]) <= after
