"""What an export reads: the revisions to send, with their proofs, a page at a time.

A format-2 bundle carries every revision with its author's signature or the hub's attestation
(docs/bundle-format.md). A revision with neither is not sent: one by the fixed pseudo-devices
(reference data, the demo) is in every store already, and one by another device that this store
took before format 2 without the hub's attestation travels from its author, signed. The versions
of a purged attachment are never sent (store/purges.py). Revisions go
parents first (by generation), so that an importer can take each page as it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from dxfield.store.authorship import unsigned_authors
from dxfield.store.backend import backend_for
from dxfield.store.links import kinds_pointing_at, links_of
from dxfield.store.revisions import canonical_json
from dxfield.store.schema import REVISIONS, SYNCED_TABLES, table_of

PAGE = 10_000
"""Revisions read (and sent as one member of the bundle) at a time..."""
PAGE_BYTES = 32 << 20
"""...or fewer, once their JSON reaches this many bytes (a reader holds one member at most
`container.MAX_MEMBER_BYTES`)."""

_table = REVISIONS
_purges = table_of(SYNCED_TABLES["purge"])


def _not_purged() -> ColumnElement[bool]:
    """Not a version of a purged attachment: its personal fields are gone, it no longer matches
    its id, and it is never sent (the purge travels instead; store/purges.py)."""
    purged = select(_purges.c.attachment_id)
    return ~((_table.c.entity == "attachment") & _table.c.entity_id.in_(purged))


def _since(conn: Connection, watermark: int) -> ColumnElement[bool]:
    """Arrived after `watermark`, or a purge: every purge is sent every time, whatever the
    watermark says the recipient holds. A store restored from a backup made before a purge
    reached it holds the purged file again, and its sender's watermark says it has the purge:
    it gets the purge again all the same. Purges are few and tiny, and one held already is
    taken again without change."""
    order = backend_for(conn).arrival_order(_table)
    return (order > watermark) | (_table.c.entity == "purge")


def _sendable(conn: Connection, watermark: int) -> ColumnElement[bool]:
    return (
        _since(conn, watermark)
        & or_(_table.c.signature.is_not(None), _table.c.attestation.is_not(None))
        & _table.c.device_id.not_in(sorted(unsigned_authors()))
        & _not_purged()
    )


def withheld(
    conn: Connection, watermark: int, revoked: Mapping[str, frozenset[str]]
) -> frozenset[str]:
    """The revisions after `watermark` by a device the hub has revoked (`revoked`: each with the
    ids the hub kept at its revocation) that are not among those kept: held here, never sent
    (every store that has the hub's roster refuses them, and would refuse the whole bundle)."""
    if not revoked:
        return frozenset()
    rows = conn.execute(
        select(_table.c.rev_id, _table.c.device_id).where(
            _sendable(conn, watermark), _table.c.device_id.in_(sorted(revoked))
        )
    )
    return frozenset(r.rev_id for r in rows if r.rev_id not in revoked[r.device_id])


@dataclass(frozen=True)
class Counts:
    """What an export after a watermark holds, counted before it is written."""

    sent: int
    """Revisions the bundle carries: every one that arrived after the watermark, and every
    purge (`_since`)."""
    new: int
    """Of those, the ones that arrived after the watermark: what the recipient has not
    acknowledged. A purge it took already (at or before the watermark) is carried again but is
    not new: 0 here is "nothing new", however many purges the bundle carries."""
    unsent: int
    """Revisions that are not sent, for want of a proof or being left out (`withheld`)."""
    newest: int
    """The newest arrival (the next watermark)."""


def counts_since(
    conn: Connection, watermark: int, left_out: frozenset[str] = frozenset()
) -> Counts:
    """After `watermark`: the revisions to send (and how many of them are new to the
    recipient), those that are not sent, for want of a proof or being `left_out` (`withheld`),
    and the newest arrival. Reference data and the demo's, and the versions of purged
    attachments, count in none."""
    order = backend_for(conn).arrival_order(_table)
    arrived = _since(conn, watermark)
    authored = _table.c.device_id.not_in(sorted(unsigned_authors())) & _not_purged()
    proved = or_(_table.c.signature.is_not(None), _table.c.attestation.is_not(None))
    sendable, new, unproved, newest = conn.execute(
        select(
            func.count().filter(authored & proved),
            func.count().filter(authored & proved & (order > watermark)),
            func.count().filter(authored & ~proved),
            func.max(order).filter(order > watermark),
        )
        .select_from(_table)
        .where(arrived)
    ).one()
    # `withheld` takes only revisions by enrolled devices, all after the watermark: a purge is
    # the hub's alone (an import refuses anyone else's), and the hub is never revoked.
    withheld_proved = len(left_out)
    return Counts(
        sent=int(sendable or 0) - withheld_proved,
        new=int(new or 0) - withheld_proved,
        unsent=int(unproved or 0) + withheld_proved,
        newest=int(newest or watermark),
    )


def signed_lines_since(
    conn: Connection,
    watermark: int,
    page: int = PAGE,
    left_out: frozenset[str] = frozenset(),
    *,
    kinds: Sequence[str] | None = None,
    without_kinds: Sequence[str] = (),
    only: frozenset[str] | None = None,
) -> Iterator[list[bytes]]:
    """The revisions to send that arrived after `watermark`, as the canonical JSON lines (UTF-8) a
    format-2 bundle carries (with `signature` or `attestation`), in pages of `page`, parents
    first. The stored `data` is canonical JSON already: it is spliced in as it is, not parsed
    and written again (the export's largest cost). A part of a split export asks for some of
    them: those of `kinds` only, or all but `without_kinds`, and of those only the ids `only`."""
    extra = _kinds_clause(kinds, without_kinds)
    if conn.dialect.name == "sqlite" and _sqlite_writes_json(conn):
        by_sqlite = select(literal_column(_SQLITE_LINE, Text).label("line"), _table.c.rev_id)
        return _paged(conn, by_sqlite.where(extra), _written, watermark, page, left_out, only)
    return _portable_lines(conn, watermark, page, left_out, extra, only)


def _kinds_clause(kinds: Sequence[str] | None, without_kinds: Sequence[str]) -> ColumnElement[bool]:
    clause: ColumnElement[bool] = true()
    if kinds is not None:
        clause = and_(clause, _table.c.entity.in_(sorted(kinds)))
    if without_kinds:
        clause = and_(clause, _table.c.entity.not_in(sorted(without_kinds)))
    return clause


def _portable_lines(
    conn: Connection,
    watermark: int,
    page: int,
    left_out: frozenset[str],
    extra: ColumnElement[bool] | None = None,
    only: frozenset[str] | None = None,
) -> Iterator[list[bytes]]:
    """`signed_lines_since` as on PostgreSQL (the row's fields read, the line written in
    Python), on any engine: the tests compare it with SQLite's own."""
    statement = select(*_LINE_FIELDS)
    if extra is not None:
        statement = statement.where(extra)
    return _paged(conn, statement, _line, watermark, page, left_out, only)


_LINE_FIELDS = (
    _table.c.attestation,
    _table.c.data,
    _table.c.deleted,
    _table.c.device_id,
    _table.c.entity,
    _table.c.entity_id,
    _table.c.generation,
    _table.c.hlc,
    # As text on both engines: psycopg would hand PostgreSQL's json over parsed.
    cast(_table.c.parents, Text).label("parents"),
    _table.c.rev_id,
    _table.c.signature,
)
"""What `_line` reads of a revision."""

_SQLITE_LINE = """'{'
 || CASE WHEN signature IS NULL THEN '"attestation":' || json_quote(attestation) || ',' ELSE '' END
 || '"data":' || data
 || ',"deleted":' || CASE WHEN deleted THEN 'true' ELSE 'false' END
 || ',"device_id":' || json_quote(device_id)
 || ',"entity":' || json_quote(entity)
 || ',"entity_id":' || json_quote(entity_id)
 || ',"generation":' || CAST(generation AS INTEGER)
 || ',"hlc":' || json_quote(hlc)
 || ',"parents":' || CASE WHEN parents IS NULL THEN '[]' ELSE json(parents) END
 || ',"rev_id":' || json_quote(rev_id)
 || CASE WHEN signature IS NULL THEN '}' ELSE ',"signature":' || json_quote(signature) || '}' END
"""
"""`_line` written by SQLite itself, which the export's profile found to be most of its time in
Python. The same bytes: every field but `data` is an id, a stamp, a kind's name or base64 that
the store took only in its checked form (no control character, nothing to escape but what
json_quote and encode_basestring escape alike), `data` is stored canonical, and json() writes
a list of ids as canonical_json does (tests/sync/test_outgoing.py compares the two)."""


def _paged(
    conn: Connection,
    statement: Select[Any],
    line_of: Callable[[Any], str],
    watermark: int,
    page: int,
    left_out: frozenset[str],
    only: frozenset[str] | None = None,
) -> Iterator[list[bytes]]:
    """The lines of the rows `statement` gives (`line_of` each), parents first, without those
    `left_out` (and, given `only`, of those ids only), in pages of at most `page` lines and
    PAGE_BYTES."""
    ordered = statement.where(_sendable(conn, watermark)).order_by(
        _table.c.generation, _table.c.rev_id
    )
    result = conn.execution_options(stream_results=True, max_row_buffer=page).execute(ordered)
    lines: list[bytes] = []
    size = 0
    for rows in result.partitions(page):
        for row in rows:
            if row.rev_id in left_out or (only is not None and row.rev_id not in only):
                continue
            line = line_of(row).encode()
            if lines and (len(lines) >= page or size + len(line) > PAGE_BYTES):
                yield lines
                lines, size = [], 0
            lines.append(line)
            size += len(line)
    if lines:
        yield lines


_JSON_FUNCTIONS: list[bool] = []
"""Whether this process's SQLite has its JSON functions (built in since 3.38; most earlier
builds had them too), asked once."""


def _sqlite_writes_json(conn: Connection) -> bool:
    if not _JSON_FUNCTIONS:
        try:
            conn.exec_driver_sql("SELECT json_quote('x'), json('[]')").all()
            _JSON_FUNCTIONS.append(True)
        except DBAPIError:
            _JSON_FUNCTIONS.append(False)  # Python writes the lines, as on PostgreSQL
    return _JSON_FUNCTIONS[0]


def _written(row: Any) -> str:
    """The line SQLite wrote (`_SQLITE_LINE`)."""
    return str(row.line)


def _line(row: Any) -> str:
    text = encode_basestring  # json.dumps(str, ensure_ascii=False) without building an encoder
    # canonical_json's output, key by key in sorted order: the same bytes at a fraction of the
    # cost ("data" is stored canonical; an empty parents list stays "[]").
    parents = "[]" if row.parents in (None, "[]") else canonical_json(json.loads(row.parents))
    head = f'{{"attestation":{text(row.attestation)},' if row.signature is None else "{"
    tail = "}" if row.signature is None else f',"signature":{text(row.signature)}}}'
    return (
        f'{head}"data":{row.data},"deleted":{"true" if row.deleted else "false"},'
        f'"device_id":{text(row.device_id)},"entity":{text(row.entity)},'
        f'"entity_id":{text(row.entity_id)},"generation":{int(row.generation)},'
        f'"hlc":{text(row.hlc)},"parents":{parents},"rev_id":{text(row.rev_id)}{tail}'
    )


# -- attachments' bytes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment's revision that an export sends, and the SHA-256 of the bytes it names."""

    entity_id: str
    rev_id: str
    sha256: str
    deleted: bool
    leaf: bool
    """No revision follows it here (an edit or a deletion would: it then needs no bytes)."""


def attachment_refs_since(
    conn: Connection, watermark: int, left_out: frozenset[str] = frozenset()
) -> list[AttachmentRef]:
    """Every attachment revision an export after `watermark` sends (tombstones too, which need
    no bytes), parents first."""
    rows = conn.execute(
        select(_table.c.entity_id, _table.c.rev_id, _table.c.deleted, _table.c.data, _table.c.leaf)
        .where(_sendable(conn, watermark), _table.c.entity == "attachment")
        .order_by(_table.c.generation, _table.c.rev_id)
    )
    found = []
    for entity_id, rev_id, deleted, data, leaf in rows:
        if rev_id in left_out:
            continue
        found.append(AttachmentRef(entity_id, rev_id, _sha256_of(data), bool(deleted), bool(leaf)))
    return found


def blobs_held_by(conn: Connection, recipient_id: str, watermark: int) -> frozenset[str]:
    """The attachments' bytes the device `recipient_id` holds already, as far as this store can
    tell without asking it: those named by a live attachment revision it was sent (at or below
    its watermark: each went with its bytes) or wrote itself, of a record never deleted here (a
    deleted one's bytes may have been pruned there; a restored one sends them again)."""
    order = backend_for(conn).arrival_order(_table)
    deleted_once = (
        select(_table.c.entity_id)
        .where(_table.c.entity == "attachment", _table.c.deleted.is_(True))
        .scalar_subquery()
    )
    rows = conn.execute(
        select(_table.c.data).where(
            _table.c.entity == "attachment",
            _table.c.deleted.is_(False),
            or_(order <= watermark, _table.c.device_id == recipient_id),
            _table.c.entity_id.not_in(deleted_once),
        )
    )
    return frozenset(_sha256_of(data) for (data,) in rows)


def _sha256_of(data: Any) -> str:
    content = json.loads(data) if isinstance(data, str) else data
    value = content.get("sha256") if isinstance(content, dict) else None
    return value if isinstance(value, str) else ""


def pointing_at_attachments(
    conn: Connection, watermark: int, left_out: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(revision, attachment) for each revision an export after `watermark` sends of a kind
    that points at an attachment (none yet; the hub's purge of one would): a split export puts
    it in the part of the attachment it names."""
    kinds = kinds_pointing_at("attachment")
    if not kinds:
        return []
    rows = conn.execute(
        select(_table.c.rev_id, _table.c.entity, _table.c.data)
        .where(_sendable(conn, watermark), _table.c.entity.in_(sorted(kinds)))
        .order_by(_table.c.generation, _table.c.rev_id)
    )
    found = []
    for rev_id, entity, data in rows:
        if rev_id in left_out:
            continue
        content = json.loads(data) if isinstance(data, str) else data
        targets = [t for _, kind, t in links_of(entity, content) if kind == "attachment"]
        if targets:
            found.append((rev_id, targets[0]))
    return found
