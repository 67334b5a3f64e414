"""Load `hyogo_r6.toml` (the source document, faithfully) into a store.

Demo records get ids derived from their keys and a fixed author and clock stamp, so every demo
store holds the same revisions and two demo stores dump identically. Loading is all or nothing
(one transaction) and happens once per store.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import insert, select

from dxfield.store import records
from dxfield.store.engine import Store
from dxfield.store.ids import reference_id
from dxfield.store.programme import programme_is_set, set_programme
from dxfield.store.reference import DEMO_DEVICE as DEMO_DEVICE  # re-exported: the demo's author
from dxfield.store.reference import load_reference_records, municipality_id
from dxfield.store.schema import LOCAL_STATE

DATASET = "hyogo_r6.toml"
DEMO_CREATED_AT = "2024-10-31T00:00:00+00:00"
_STATE_KEY = "demo_dataset"
_state = LOCAL_STATE


def load_dataset() -> dict[str, Any]:
    """The dataset as parsed TOML."""
    raw = resources.files("dxfield.demo").joinpath(DATASET).read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


def demo_id(kind: str, key: str) -> str:
    """The id every demo store gives the dataset's record `key`."""
    return reference_id(f"demo-{kind}", key)


@dataclass
class DemoRecords:
    """The dataset turned into validated records, per entity, in load order."""

    by_entity: dict[str, list[tuple[str, dict[str, Any]]]]

    def count(self) -> dict[str, int]:
        """How many records of each entity."""
        return {entity: len(items) for entity, items in self.by_entity.items()}


def build_records(dataset: dict[str, Any]) -> DemoRecords:
    """Resolve the dataset's keys and codes to ids and validate every record."""

    def org(ref: str) -> str:
        return municipality_id(ref) if ref.isdigit() else demo_id("organization", ref)

    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def add(entity: str, record_id: str, data: dict[str, Any]) -> None:
        content = records.validate(entity, data)
        out.setdefault(entity, []).append((record_id, content))

    for item in dataset.get("organizations", []):
        add(
            "organization",
            org(item["key"]),
            {
                "kind": item["kind"],
                "name": item["name"],
                "kana": item.get("kana"),
                "code": item.get("code"),
                "parent_id": org(item["parent"]) if item.get("parent") else None,
            },
        )
    for item in dataset.get("initiatives", []):
        add(
            "initiative",
            demo_id("initiative", item["key"]),
            {
                "municipality_id": org(item["municipality"]),
                "theme": item["theme"],
                "title": item["title"],
                "background": item.get("background", ""),
                "fiscal_year": item.get("fiscal_year"),
                "status": item.get("status", "active"),
                "providers": [
                    {"org_id": org(p["org"]), "role": p["role"]} for p in item.get("providers", [])
                ],
            },
        )
    initiative_municipality = {
        demo_id("initiative", i["key"]): org(i["municipality"])
        for i in dataset.get("initiatives", [])
    }
    for item in dataset.get("activities", []):
        initiative_id = demo_id("initiative", item["initiative"])
        add(
            "activity",
            demo_id("activity", item["key"]),
            {
                "initiative_id": initiative_id,
                "municipality_id": initiative_municipality[initiative_id],
                "kind": item["kind"],
                "title": item["title"],
                "date": item["date"],
                "date_precision": item.get("date_precision", "day"),
                "notes": item.get("notes", ""),
                "location": item.get("location", ""),
                "areas": item.get("areas", []),
                "participants": {
                    "organization_ids": [org(p) for p in item.get("participants", [])],
                    "text": item.get("participants_text", ""),
                },
            },
        )
    for index, item in enumerate(dataset.get("findings", [])):
        add(
            "finding",
            demo_id("finding", f"{item['initiative']}-{index}"),
            {
                "initiative_id": demo_id("initiative", item["initiative"]),
                "activity_id": demo_id("activity", item["activity"])
                if item.get("activity")
                else None,
                "area": item.get("area") or None,
                "kind": item["kind"],
                "text": item["text"],
                "date": item.get("date"),
                "not_applicable": item.get("not_applicable", False),
            },
        )
    for index, item in enumerate(dataset.get("actions", [])):
        add(
            "action",
            demo_id("action", f"{item['initiative']}-{index}"),
            {
                "initiative_id": demo_id("initiative", item["initiative"]),
                "text": item["text"],
                "owner": item.get("owner", ""),
                "due": item.get("due"),
                "status": item.get("status", "planned"),
                "as_of": item.get("as_of"),
            },
        )
    for item in dataset.get("tracks", []):
        track_id = demo_id("track", item["key"])
        stage: str | None = None
        for index, move in enumerate(item.get("moves", [])):
            add(
                "stage_move",
                demo_id("stage_move", f"{item['key']}-{index}"),
                {
                    "track_id": track_id,
                    "from_stage": stage,
                    "to_stage": move["to"],
                    "date": move["date"],
                    "note": move.get("note", ""),
                    "evidence_ids": [demo_id("activity", a) for a in move.get("evidence", [])],
                },
            )
            stage = move["to"]
        add(
            "engagement_track",
            track_id,
            {
                "model_id": reference_id("stage_model", item["model"]),
                "community_id": org(item["community"]),
                "initiative_id": demo_id("initiative", item["initiative"]),
                "current_stage": stage,
            },
        )
    return DemoRecords(out)


def is_loaded(store: Store) -> bool:
    """True when this store already holds the demo dataset."""
    with store.read() as conn:
        return (
            conn.execute(select(_state.c.value).where(_state.c.key == _STATE_KEY)).scalar()
            is not None
        )


def load_demo(store: Store) -> dict[str, int]:
    """Load the demo dataset once; return how many records of each entity it holds."""
    dataset = load_dataset()
    demo = build_records(dataset)
    if not programme_is_set(store):  # also for demo stores made before the programme was kept
        programme = dataset.get("programme", {})
        set_programme(
            store,
            title=programme.get("title"),
            overview=programme.get("overview"),
            fiscal_year=programme.get("fiscal_year"),
        )
    if is_loaded(store):
        return demo.count()
    with store.unit() as unit:
        for entity, items in demo.by_entity.items():
            load_reference_records(
                unit, entity, items, device_id=DEMO_DEVICE, created_at=DEMO_CREATED_AT
            )
        unit.conn.execute(insert(_state).values(key=_STATE_KEY, value=DATASET))
    return demo.count()
