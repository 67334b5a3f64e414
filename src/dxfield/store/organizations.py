"""Organizations: listing in kana order, finding one by name, code or id, adding and importing."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.engine import Connection

from dxfield.domain.codes import looks_like_code, validate_code
from dxfield.domain.enums import OrgKind
from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.domain.records import OrganizationRead
from dxfield.i18n import N_, Words, about, gettext, problems, quote
from dxfield.store import records, reference, revisions
from dxfield.store.files import read_text_file
from dxfield.store.records import ORGANIZATIONS
from dxfield.store.unit import Unit, Work, unit_of

PROBLEMS = problems(
    {
        "organization.ambiguous": N_(
            "more than one organization is called {value}; use its code or id"
        ),
        "organization.not_found": N_(
            "no organization {value} (give its name, local government code or id)"
        ),
        "organization.not_found_like": N_(
            "no organization {value}; did you mean {names}? (give its name, local government "
            "code or id)"
        ),
        "organization.wrong_kind": N_("{value} is not of the kind asked for ({kinds})"),
        "organization.code_taken": N_("code {value} already belongs to {name}"),
    }
)

_table = revisions.table_for("organization")
LOCAL_GOVERNMENT = (OrgKind.prefecture, OrgKind.municipality)


def _sort_key() -> list[Any]:
    # Kana first (あいうえお order), then the name for those without a reading.
    return [func.coalesce(_table.c.kana, _table.c.name), _table.c.name, _table.c.id]


def list_organizations(
    work: Work, *, kinds: Iterable[OrgKind] | None = None, parent_id: str | None = None
) -> list[OrganizationRead]:
    """Live organizations, in kana order, optionally of some kinds or under one parent."""
    query = select(_table).where(_table.c.deleted.is_(False))
    if kinds is not None:
        query = query.where(_table.c.kind.in_([k.value for k in kinds]))
    if parent_id is not None:
        query = query.where(_table.c.parent_id == parent_id)
    with unit_of(work, write=False) as unit:
        rows = unit.conn.execute(query.order_by(*_sort_key())).mappings().all()
    return [ORGANIZATIONS.to_read(row) for row in rows]


def find_organization_id(
    conn: Connection, text: str, *, kinds: Iterable[OrgKind] | None = None
) -> str:
    """The id of the organization named by its code, exact name, or id (prefix)."""
    wanted = unicodedata.normalize("NFKC", text).strip()
    kind_values = [k.value for k in kinds] if kinds is not None else None
    alive = select(_table.c.id).where(_table.c.deleted.is_(False))
    if kind_values is not None:
        alive = alive.where(_table.c.kind.in_(kind_values))
    if looks_like_code(wanted):
        with about("code"):
            code = validate_code(wanted)
        found = conn.execute(alive.where(_table.c.code == code)).scalars().all()
    else:
        found = (
            conn.execute(alive.where(or_(_table.c.name == wanted, _table.c.name == text.strip())))
            .scalars()
            .all()
        )
    if len(found) == 1:
        return str(found[0])
    if len(found) > 1:
        raise LocalizedError("organization.ambiguous", value=quote(text))
    try:
        org_id = records.resolve_id(conn, "organization", wanted)
    except NotFound:
        raise _not_found(conn, alive, text, wanted) from None
    if kind_values is not None:
        kind = conn.execute(select(_table.c.kind).where(_table.c.id == org_id)).scalar()
        if kind not in kind_values:
            asked = [OrgKind(k) for k in kind_values]
            raise NotFound(
                "organization.wrong_kind",
                value=quote(text),
                kinds=Words(lambda lang: "/".join(k.label(lang) for k in asked)),
            )
    return org_id


SIMILAR_NAMES = 3
"""How many names `_not_found` suggests at most."""


def _not_found(conn: Connection, alive: Select[Any], text: str, wanted: str) -> NotFound:
    """No organization `text`: said with up to `SIMILAR_NAMES` of those `alive` (of the kinds
    asked for) whose name or reading holds it, in kana order (「豊岡」, 「とよおか」: 豊岡市)."""
    similar = (
        conn.execute(
            alive.with_only_columns(_table.c.name)
            .where(
                or_(
                    _table.c.name.contains(wanted, autoescape=True),
                    _table.c.kana.contains(wanted, autoescape=True),
                )
            )
            .order_by(*_sort_key())
            .limit(SIMILAR_NAMES)
        )
        .scalars()
        .all()
        if wanted
        else []
    )
    if not similar:
        return NotFound("organization.not_found", value=quote(text))
    names = Words(lambda lang: gettext(", ", lang).join(quote(name) for name in similar))
    return NotFound("organization.not_found_like", value=quote(text), names=names)


def resolve_organization(work: Work, text: str, *, kinds: Iterable[OrgKind] | None = None) -> str:
    """`find_organization_id` in the unit of work (or a reading one of its own)."""
    with unit_of(work, write=False) as unit:
        return find_organization_id(unit.conn, text, kinds=kinds)


class OrganizationIndex:
    """Every organization's id by name, code and id, read once: `find` answers as
    `find_organization_id` does without a query per name (an import resolving many rows)."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit
        self._by_name: dict[str, list[tuple[str, str]]] = {}
        self._by_code: dict[str, list[tuple[str, str]]] = {}
        self._kinds: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._found: dict[tuple[str, tuple[OrgKind, ...] | None], str] = {}
        """What `find` answered, by its question (a table names the same few places again
        and again)."""
        rows = unit.conn.execute(
            select(_table.c.id, _table.c.name, _table.c.code, _table.c.kind, _table.c.deleted)
        ).all()
        for row in rows:
            self._kinds[row.id] = row.kind
            self._names[row.id] = row.name
            if row.deleted:
                continue
            self._by_name.setdefault(row.name, []).append((row.id, row.kind))
            if row.code:
                self._by_code.setdefault(row.code, []).append((row.id, row.kind))

    def find(self, text: str, *, kinds: Iterable[OrgKind] | None = None) -> str:
        """The id of the organization named by its code, exact name, or id (prefix)."""
        kinds = tuple(kinds) if kinds is not None else None
        known = self._found.get((text, kinds))
        if known is None:
            known = self._found[text, kinds] = self._find(text, kinds)
        return known

    def _find(self, text: str, kinds: tuple[OrgKind, ...] | None) -> str:
        wanted = unicodedata.normalize("NFKC", text).strip()
        kind_values = {k.value for k in kinds} if kinds is not None else None
        if looks_like_code(wanted):
            with about("code"):
                candidates = self._by_code.get(validate_code(wanted), [])
        else:
            candidates = self._by_name.get(wanted, []) + (
                self._by_name.get(text.strip(), []) if text.strip() != wanted else []
            )
        found = {i for i, kind in candidates if kind_values is None or kind in kind_values}
        if len(found) == 1:
            return found.pop()
        org_id = wanted.lower()
        kind = self._kinds.get(org_id)
        if not found and kind is not None and (kind_values is None or kind in kind_values):
            return org_id
        # Ambiguous, unknown, an id's prefix or of another kind: the query's answer and message.
        return find_organization_id(self._unit.conn, text, kinds=kinds)

    def name_of(self, org_id: str) -> str | None:
        """The name of the organization `org_id` (deleted or not)."""
        return self._names.get(org_id)


def resolve_municipality(work: Work, text: str) -> str:
    """The id of a municipality (or prefecture) named by name or code."""
    with about("municipality"):
        return resolve_organization(work, text, kinds=LOCAL_GOVERNMENT)


def add_organization(
    work: Work,
    *,
    kind: str,
    name: str,
    kana: str | None = None,
    code: str | None = None,
    parent: str | None = None,
) -> OrganizationRead:
    """Create an organization. A code must be new; a parent is named by name, code or id."""
    data: dict[str, Any] = {
        "kind": OrgKind.parse_field(kind, "kind"),
        "name": name,
        "kana": kana,
        "code": code,
    }
    content = records.validate("organization", data)
    with unit_of(work, write=True) as unit:
        if parent:
            with about("parent"):
                content["parent_id"] = find_organization_id(unit.conn, parent)
        if content.get("code"):
            taken = unit.conn.execute(
                select(_table.c.name).where(
                    _table.c.code == content["code"], _table.c.deleted.is_(False)
                )
            ).scalar()
            if taken:
                raise LocalizedError(
                    "organization.code_taken", field="code", value=content["code"], name=taken
                )
        if not content.get("code"):
            return ORGANIZATIONS.create(unit, content)
        # A local government is shared reference data: its id comes from its code and its
        # revision is the same on every store that adds it the same way, so two laptops adding
        # 271004 agree.
        record_id = reference.municipality_id(content["code"])
        reference.load_reference_records(unit, "organization", [(record_id, content)])
        return ORGANIZATIONS.get(unit, record_id)


def set_reading(work: Work, text: str, kana: str) -> tuple[OrganizationRead, bool]:
    """Give the organization named by `text` (name, code or id) the reading `kana`, where the
    guess from its name is wrong (宍粟市 is しそうし); an empty `kana` goes back to the guess.
    A reading is part of the record: it is synced like any edit. Returns (organization,
    whether it changed)."""
    with unit_of(work, write=True) as unit:
        org_id = find_organization_id(unit.conn, text)
        with about("kana"):
            return ORGANIZATIONS.edit(unit, org_id, {"kana": kana.strip() or None})


def import_organizations(work: Work, path: Path) -> tuple[int, int]:
    """Load a `code,name,kana,kind` CSV of local governments; return (added, already there)."""
    text = read_text_file(path)
    rows = reference.parse_municipality_csv(text)
    with unit_of(work, write=True) as unit:
        reference.check_against_store(unit.conn, rows)
        added = reference.load_reference_records(unit, "organization", rows)
    return added, len(rows) - added
