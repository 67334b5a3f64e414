"""Reference data every store starts with: 兵庫県 and its 41 municipalities, the built-in models.

Reference records get ids derived from their key, a fixed clock stamp and a fixed author, so their
revisions are byte-identical on every store and sync never doubles them. Loading is idempotent and
runs on open only when the reference version recorded in `local_state` is older than this one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import insert, select, update

from dxfield.domain.enums import OrgKind
from dxfield.domain.errors import LocalizedError, from_validation_error
from dxfield.domain.records import OrganizationBase, StageModelBase
from dxfield.store import revisions
from dxfield.store.clock import REFERENCE_HLC
from dxfield.store.ids import reference_id
from dxfield.store.schema import LocalState

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dxfield.store.engine import Store

REFERENCE_VERSION = "1"
REFERENCE_DEVICE = reference_id("device", "reference")
_STATE_KEY = "reference_version"
_state = LocalState.__table__  # type: ignore[attr-defined]

CSV_KINDS = {
    "prefecture": OrgKind.prefecture,
    "city": OrgKind.municipality,
    "town": OrgKind.municipality,
    "village": OrgKind.municipality,
    "ward": OrgKind.municipality,
    "municipality": OrgKind.municipality,
}


def municipality_id(code: str) -> str:
    """The shared id of the local government with this code."""
    return reference_id("lgcode", code)


def parse_municipality_csv(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Rows of a `code,name,kana,kind` CSV as (id, validated organization) pairs.

    Raises a LocalizedError naming the line and field of the first bad row.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "name", "kana", "kind"} - set(reader.fieldnames or [])
    if missing:
        raise LocalizedError(
            f"CSVに列がありません: {', '.join(sorted(missing))}",
            f"the CSV lacks columns: {', '.join(sorted(missing))}",
        )
    rows: list[tuple[str, dict[str, Any]]] = []
    prefecture_id: str | None = None
    for line, raw in enumerate(reader, start=2):
        kind = CSV_KINDS.get((raw.get("kind") or "").strip())
        if kind is None:
            raise LocalizedError(
                f"{line}行目: 種別 {raw.get('kind')!r} は prefecture/city/town/village のいずれかです",
                f"line {line}: kind {raw.get('kind')!r} must be prefecture, city, town or village",
            )
        try:
            org = OrganizationBase.model_validate(
                {
                    "kind": kind,
                    "name": raw.get("name"),
                    "kana": raw.get("kana"),
                    "code": raw.get("code"),
                }
            )
        except ValidationError as exc:
            error = from_validation_error(exc)
            raise LocalizedError(f"{line}行目: {error.ja}", f"line {line}: {error.en}") from None
        assert org.code is not None
        if kind is OrgKind.prefecture:
            prefecture_id = municipality_id(org.code)
        rows.append((municipality_id(org.code), org.model_dump(mode="json")))
    if prefecture_id is not None:
        for _id, data in rows:
            if data["kind"] == OrgKind.municipality:
                data["parent_id"] = prefecture_id
    return rows


def builtin_stage_models() -> list[tuple[str, dict[str, Any]]]:
    """豊岡市's four-stage resident consensus model, as (id, validated record)."""
    from dxfield.store.stage_models import TOYOOKA_MODEL

    model = StageModelBase.model_validate(TOYOOKA_MODEL)
    return [(reference_id("stage_model", model.key), model.model_dump(mode="json"))]


def load_reference_records(
    conn: Connection, entity: str, records: Iterable[tuple[str, dict[str, Any]]]
) -> int:
    """Create the reference records this store lacks, with their fixed stamp and author."""
    items = list(records)
    have = revisions.existing_ids(conn, entity, [i for i, _ in items])
    fresh = [(i, d) for i, d in items if i not in have]
    # created_at is part of the content, so it must be fixed too for identical revisions.
    fresh = [(i, {"created_at": "2024-04-01T00:00:00+00:00", **d}) for i, d in fresh]
    return revisions.bulk_create(conn, entity, fresh, device_id=REFERENCE_DEVICE, hlc=REFERENCE_HLC)


def ensure_reference_data(store: Store) -> None:
    """Load the bundled reference data once per reference version."""
    with store.read() as conn:
        version = conn.execute(select(_state.c.value).where(_state.c.key == _STATE_KEY)).scalar()
    if version == REFERENCE_VERSION:
        return
    text = resources.files("dxfield.store").joinpath("hyogo-municipalities.csv").read_text("utf-8")
    with store.write() as conn:
        load_reference_records(conn, "organization", parse_municipality_csv(text))
        load_reference_records(conn, "stage_model", builtin_stage_models())
        if version is None:
            conn.execute(insert(_state).values(key=_STATE_KEY, value=REFERENCE_VERSION))
        else:
            conn.execute(
                update(_state).where(_state.c.key == _STATE_KEY).values(value=REFERENCE_VERSION)
            )
