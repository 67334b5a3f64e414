"""An export's lines written by SQLite (`outgoing._sqlite_lines`) are byte for byte those that
Python writes on any engine (`outgoing._portable_lines`), and each is the canonical JSON of the
revision it carries: whatever the record holds, a revision with parents, one that is attested
instead of signed, a deletion."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from dxfield.store import outgoing, records
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.revisions import canonical_json
from dxfield.store.schema import REVISIONS

# SQLite's own path, compared with the portable one on the same file.
pytestmark = pytest.mark.sqlite_only

ONE_LINE = '"quoted" back\\slash </script> 😀 𠮷野家 ＤＸ'
AWKWARD = f"line\nbreak\ttab {ONE_LINE}"


def _pages(store: Store, lines: object, page: int) -> list[list[bytes]]:
    with store.read() as conn:
        return list(lines(conn, 0, page, frozenset()))  # type: ignore[operator]


def test_sqlite_writes_the_lines_python_writes(store: Store) -> None:
    made = [
        add_activity(
            store,
            ActivityInput(title=f"{ONE_LINE} {n}", kind="meeting", date="2024-07-17",
                          municipality="豊岡市", notes=AWKWARD * n),
        ).id
        for n in range(5)
    ]  # fmt: skip
    records.edit(store, "activity", made[0], {"title": "改めた題"})
    records.edit(store, "activity", made[0], {"notes": "二度目"})
    records.delete(store, "activity", made[1])
    with store.write() as conn:
        # A revision the hub attests instead of its author's signature (as one from before
        # format 2), and one with two parents as a resolved conflict has (stored as SQLAlchemy
        # writes JSON: with spaces).
        first = conn.execute(REVISIONS.select().where(REVISIONS.c.entity_id == made[2])).first()
        assert first is not None
        conn.execute(
            update(REVISIONS)
            .where(REVISIONS.c.rev_id == first.rev_id)
            .values(signature=None, attestation="YXR0ZXN0ZWQ+/w==")
        )
        conn.execute(
            update(REVISIONS)
            .where(REVISIONS.c.entity_id == made[3])
            .values(parents=["2-" + "b" * 32, "2-" + "a" * 32])
        )
    for page in (1, 3, 1000):
        by_sqlite = _pages(store, outgoing.signed_lines_since, page)
        by_python = _pages(store, outgoing._portable_lines, page)
        assert by_sqlite == by_python
    lines = [line for page in by_sqlite for line in page]
    assert len(lines) >= 8
    for line in lines:
        revision = json.loads(line)
        assert canonical_json(revision).encode() == line
    carried = {json.loads(line)["rev_id"]: json.loads(line) for line in lines}
    assert any("attestation" in r and "signature" not in r for r in carried.values())
    assert any(len(r["parents"]) == 2 for r in carried.values())
    assert any(r["deleted"] for r in carried.values())
    assert any(AWKWARD in r["data"]["notes"] for r in carried.values())
