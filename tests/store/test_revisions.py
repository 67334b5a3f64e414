"""The one write path: every change is an immutable revision plus its materialized winner."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select, text

from dxfield.domain.errors import LocalizedError
from dxfield.store import records, revisions
from dxfield.store.engine import Store
from dxfield.store.reference import municipality_id
from dxfield.store.schema import Revision

TOYOOKA = municipality_id("282090")
_rev = Revision.__table__  # type: ignore[attr-defined]


def _activity(store: Store, **changes: object) -> object:
    data = {
        "municipality_id": TOYOOKA,
        "kind": "workshop",
        "title": "意見交換会",
        "date": "2024-07-17",
        **changes,
    }
    return records.create(store, "activity", data)


def _revision_count(store: Store, entity_id: str) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(_rev).where(_rev.c.entity_id == entity_id)
            ).scalar()
            or 0
        )


def test_create_edit_delete_each_write_one_revision(store: Store) -> None:
    created = _activity(store)
    assert uuid.UUID(created.id).version == 7
    assert created.rev.startswith("1-")
    edited, changed = records.edit(store, "activity", created.id, {"title": "住民説明会"})
    assert changed and edited.rev.startswith("2-") and edited.title == "住民説明会"
    assert edited.created_at == created.created_at
    records.delete(store, "activity", created.id)
    with store.read() as conn:
        history = revisions.history(conn, "activity", created.id)
    assert [h["generation"] for h in history] == [1, 2, 3]
    assert [h["deleted"] for h in history] == [False, False, True]
    assert history[1]["parents"] == [history[0]["rev_id"]]
    assert [h["leaf"] for h in history] == [False, False, True]
    # The tombstone keeps the last content, so history and conflicts can show it.
    assert history[2]["data"]["title"] == "住民説明会"
    tombstone = records.get(store, "activity", created.id, include_deleted=True)
    assert tombstone.deleted and tombstone.rev == history[2]["rev_id"]


def test_an_edit_that_changes_nothing_writes_nothing(store: Store) -> None:
    created = _activity(store)
    same, changed = records.edit(store, "activity", created.id, {"title": " 意見交換会 "})
    assert not changed and same.rev == created.rev
    assert _revision_count(store, created.id) == 1


def test_the_materialized_row_is_the_revision_content(store: Store) -> None:
    created = _activity(store, notes="農業と配送", areas=["talent"])
    with store.read() as conn:
        data = json.loads(
            conn.execute(select(_rev.c.data).where(_rev.c.rev_id == created.rev)).scalar_one()
        )
    assert data["notes"] == "農業と配送" and data["areas"] == ["talent"]
    assert data["date"] == "2024-07-17"


def test_clock_stamps_increase_and_revision_ids_are_content_derived(store: Store) -> None:
    first = _activity(store)
    second = _activity(store)
    assert second.hlc > first.hlc
    with store.read() as conn:
        row = conn.execute(select(_rev).where(_rev.c.rev_id == first.rev)).mappings().one()
    again = revisions.revision_id(
        row["generation"],
        row["entity"],
        row["entity_id"],
        row["parents"],
        row["hlc"],
        row["device_id"],
        row["deleted"],
        json.loads(row["data"]),
    )
    assert again == first.rev


def test_invalid_input_writes_nothing(store: Store) -> None:
    with store.read() as conn:
        before = conn.execute(select(func.count()).select_from(_rev)).scalar()
    with pytest.raises(LocalizedError, match="date"):
        _activity(store, date="2024-02-30")
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(_rev)).scalar() == before


def test_a_failure_inside_the_transaction_rolls_everything_back(store: Store) -> None:
    created = _activity(store)
    with pytest.raises(RuntimeError), store.unit() as unit:
        revisions.write_record(
            unit,
            "activity",
            created.id,
            {
                **records.validate(
                    "activity",
                    {
                        "municipality_id": TOYOOKA,
                        "kind": "meeting",
                        "title": "変更",
                        "date": "2024-07-18",
                    },
                )
            },
        )
        raise RuntimeError("killed half-way")
    assert records.get(store, "activity", created.id).title == "意見交換会"
    assert _revision_count(store, created.id) == 1
    with store.read() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_ids_can_be_given_by_unique_prefix(store: Store) -> None:
    created = _activity(store)
    assert records.get(store, "activity", created.id[:13]).id == created.id
    with pytest.raises(LocalizedError, match="no activity"):
        records.get(store, "activity", "ffffffff")
