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
from dxfield.i18n import N_, problems, quote
from dxfield.store import markers, revisions
from dxfield.store.hlc import REFERENCE_HLC
from dxfield.store.ids import reference_id
from dxfield.store.schema import LOCAL_STATE, REVISIONS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dxfield.store.engine import Store
    from dxfield.store.unit import Unit

REFERENCE_VERSION = markers.REFERENCE_VERSION
REFERENCE_DEVICE = reference_id("device", "reference")
DEMO_DEVICE = reference_id("device", "demo-hyogo-r6")
"""The demo's author (`dxfield.demo.loader`): with REFERENCE_DEVICE, the fixed pseudo-devices
whose revisions every store holds alike and nobody signs (store/authorship.py)."""
REFERENCE_CREATED_AT = "2024-04-01T00:00:00+00:00"
PROBLEMS = problems(
    {
        "csv.missing_columns": N_("the CSV lacks columns: {columns}"),
        "csv.line": N_("line {number}: {problem}"),
        "csv.bad_kind": N_("{value} must be one of {choices}"),
        "csv.code_repeats": N_("{value} repeats line {number}"),
        "csv.code_taken": N_("{value} is already {name} in this store (the file says {wanted})"),
    }
)
_STATE_KEY = markers.REFERENCE_VERSION_KEY
_state = LOCAL_STATE

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

    Extra columns are ignored (Excel exports carry them). A municipality's parent is the
    prefecture in the same file whose code shares its first two digits. Raises a LocalizedError
    naming the line and field of the first bad row; a code twice in the file is one.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"code", "name", "kana", "kind"} - set(reader.fieldnames or [])
    if missing:
        raise LocalizedError("csv.missing_columns", columns=", ".join(sorted(missing)))
    kinds = ", ".join(CSV_KINDS)
    rows: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    prefectures: dict[str, str] = {}
    for line, raw in enumerate(reader, start=2):
        kind_text = (raw.get("kind") or "").strip()
        kind = CSV_KINDS.get(kind_text)
        if kind is None:
            problem = LocalizedError(
                "csv.bad_kind", field="kind", value=quote(kind_text), choices=kinds
            )
            raise LocalizedError("csv.line", number=line, problem=problem)
        try:
            org = OrganizationBase.model_validate(
                {
                    "kind": kind,
                    "name": raw.get("name"),
                    "kana": raw.get("kana"),
                    "code": raw.get("code") or "",
                }
            )
        except ValidationError as exc:
            problem = from_validation_error(exc)
            raise LocalizedError("csv.line", number=line, problem=problem) from None
        if org.code is None:
            problem = LocalizedError("value.required", field="code")
            raise LocalizedError("csv.line", number=line, problem=problem)
        if org.code in seen:
            problem = LocalizedError(
                "csv.code_repeats", field="code", value=org.code, number=seen[org.code]
            )
            raise LocalizedError("csv.line", number=line, problem=problem)
        seen[org.code] = line
        if kind is OrgKind.prefecture:
            prefectures[org.code[:2]] = municipality_id(org.code)
        rows.append((municipality_id(org.code), org.model_dump(mode="json")))
    for _id, data in rows:
        if data["kind"] == OrgKind.municipality:
            data["parent_id"] = prefectures.get(data["code"][:2])
    return rows


def check_against_store(conn: Connection, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Refuse rows whose code the store already holds under another name or reading."""
    from dxfield.store.revisions import table_for

    table = table_for("organization")
    by_id = dict(rows)
    for start in range(0, len(rows), 500):
        ids = [i for i, _ in rows[start : start + 500]]
        for row in conn.execute(select(table).where(table.c.id.in_(ids))).mappings():
            wanted = by_id[row["id"]]
            if (row["name"], row["kana"], row["kind"]) != (
                wanted["name"],
                wanted.get("kana"),
                wanted["kind"],
            ):
                raise LocalizedError(
                    "csv.code_taken",
                    field="code",
                    value=row["code"],
                    name=row["name"],
                    wanted=wanted["name"],
                )


def builtin_stage_models() -> list[tuple[str, dict[str, Any]]]:
    """豊岡市's four-stage resident consensus model, as (id, validated record)."""
    from dxfield.store.stage_models import TOYOOKA_MODEL

    model = StageModelBase.model_validate(TOYOOKA_MODEL)
    return [(reference_id("stage_model", model.key), model.model_dump(mode="json"))]


def load_reference_records(
    unit: Unit,
    entity: str,
    records: Iterable[tuple[str, dict[str, Any]]],
    *,
    device_id: str = REFERENCE_DEVICE,
    created_at: str = REFERENCE_CREATED_AT,
) -> int:
    """Create the shared records this store lacks, with a fixed author, stamp and creation time.

    Everything in such a revision is fixed (created_at is part of the content), so every store
    that loads the same data writes byte-identical revisions.
    """
    items = list(records)
    have = revisions.existing_ids(unit.conn, entity, [i for i, _ in items])
    fresh = [(i, {"created_at": created_at, **d}) for i, d in items if i not in have]
    return revisions.bulk_create(unit, entity, fresh, device_id=device_id, hlc=REFERENCE_HLC)


def has_revisions_by_others(store: Store, devices: set[str]) -> bool:
    """True when any revision was written by a device not in `devices` (a person's work)."""

    table = REVISIONS
    with store.read() as conn:
        found = conn.execute(
            select(table.c.rev_id).where(table.c.device_id.not_in(list(devices))).limit(1)
        ).first()
    return found is not None


def ensure_reference_data(store: Store) -> None:
    """Load the bundled reference data once per reference version."""
    with store.read() as conn:
        version = conn.execute(select(_state.c.value).where(_state.c.key == _STATE_KEY)).scalar()
    if version == REFERENCE_VERSION:
        return
    text = resources.files("dxfield.store").joinpath("hyogo-municipalities.csv").read_text("utf-8")
    with store.unit() as unit:
        conn = unit.conn
        # Again under the write lock: another process (a hub's colleague) may have loaded it.
        version = conn.execute(select(_state.c.value).where(_state.c.key == _STATE_KEY)).scalar()
        if version == REFERENCE_VERSION:
            return
        load_reference_records(unit, "organization", parse_municipality_csv(text))
        load_reference_records(unit, "stage_model", builtin_stage_models())
        if version is None:
            conn.execute(insert(_state).values(key=_STATE_KEY, value=REFERENCE_VERSION))
        else:
            conn.execute(
                update(_state).where(_state.c.key == _STATE_KEY).values(value=REFERENCE_VERSION)
            )
