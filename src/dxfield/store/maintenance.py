"""Keeping the store sound: canonical dump, consistent backup, integrity check, record history."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.i18n import quote
from dxfield.store import revisions
from dxfield.store.conflicts import count_conflicts
from dxfield.store.engine import Store, head_schema_revision
from dxfield.store.records import match_id
from dxfield.store.schema import SYNCED_TABLES, Revision
from dxfield.store.soundness import Finding, find_problems

DUMP_FORMAT = "dxfield-dump"
DUMP_VERSION = 1
_revisions = Revision.__table__  # type: ignore[attr-defined]


def dump(store: Store) -> dict[str, Any]:
    """Every synced record (tombstones too) as its winning revision, sorted by id (then kind).

    Content comes from the revision itself, which is content-addressed, so two stores holding the
    same data give the same dump byte for byte. Local-only data (device, drafts, keys) is left out.
    """
    records: list[dict[str, Any]] = []
    with store.read() as conn:
        for entity in sorted(SYNCED_TABLES):
            table = revisions.table_for(entity)
            rows = conn.execute(
                select(
                    table.c.id,
                    _revisions.c.rev_id,
                    _revisions.c.hlc,
                    _revisions.c.device_id,
                    _revisions.c.deleted,
                    _revisions.c.data,
                ).join(_revisions, _revisions.c.rev_id == table.c.rev)
            )
            for row in rows:
                records.append(
                    {
                        "type": entity,
                        "id": row.id,
                        "rev": row.rev_id,
                        "hlc": row.hlc,
                        "device_id": row.device_id,
                        "deleted": bool(row.deleted),
                        "data": json.loads(row.data),
                    }
                )
    records.sort(key=lambda r: (r["id"], r["type"]))
    return {"format": DUMP_FORMAT, "version": DUMP_VERSION, "records": records}


def dump_text(store: Store) -> str:
    """The dump as canonical JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(dump(store), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def refuse_store_files(store: Store, out: Path) -> Path:
    """`out` resolved, or an error when it is the store's file or one of its journal files."""
    target = out.expanduser().resolve()
    live = store.path.resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = live.with_name(live.name + suffix)
        if target == candidate or (
            target.exists() and candidate.exists() and os.path.samefile(target, candidate)
        ):
            raise LocalizedError(
                f"{out} はストア自身のファイルです。別の場所を指定してください",
                f"{out} is one of the store's own files; choose another place",
            )
    return target


def _existing_folder(path: Path) -> Path:
    folder = path.parent
    if not folder.is_dir():
        raise LocalizedError(
            f"フォルダ {folder} がありません", f"the folder {folder} does not exist"
        )
    return folder


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def missing_file(path: Path) -> NotFound:
    """The error for a file a user named that is not there."""
    return NotFound(f"ファイル {quote(str(path))} が見つかりません", f"no file {quote(str(path))}")


def read_text_file(path: Path) -> str:
    """A text file a user names (a stage model, an overview, a CSV): UTF-8, with or without the
    BOM that Windows Notepad and Excel write; a missing or non-UTF-8 file refused in one line."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise missing_file(path) from None
    except UnicodeDecodeError:
        raise LocalizedError(
            f"{quote(str(path))} はUTF-8のテキストではありません",
            f"{quote(str(path))} is not UTF-8 text",
        ) from None


def write_atomically(store: Store, out: Path, data: bytes) -> None:
    """Write `data` to `out` through a temporary file in the same folder, fsync and a rename."""
    target = refuse_store_files(store, out)
    folder = _existing_folder(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise LocalizedError(
            f"{out} に書けません({exc.strerror})。保存済みの内容は失われていません",
            f"cannot write {out} ({exc.strerror}); nothing already saved was lost",
        ) from None


def backup(store: Store, out: Path) -> int:
    """A consistent copy of the store through `VACUUM INTO` a private temporary folder, fsync,
    then a rename into place. The live file is never copied while open. Returns the size."""
    target = refuse_store_files(store, out)
    folder = _existing_folder(target)
    try:
        # A private folder beside the target: the copy is never readable by others, even briefly,
        # and the rename stays on one filesystem.
        scratch = Path(tempfile.mkdtemp(dir=folder, prefix=f".{target.name}."))
    except OSError as exc:
        raise LocalizedError(
            f"{out} に書けません({exc.strerror})", f"cannot write {out} ({exc.strerror})"
        ) from None
    tmp = scratch / "backup.sqlite3"
    raw = store.engine.raw_connection()
    try:
        raw.execute("VACUUM INTO ?", (str(tmp),))
        tmp.chmod(0o600)
        _fsync(tmp)
        os.replace(tmp, target)
    except Exception as exc:
        raise LocalizedError(
            f"バックアップに失敗しました({exc})。ストアは変更していません",
            f"the backup failed ({exc}); the store was not changed",
        ) from None
    finally:
        raw.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(OSError):
            scratch.rmdir()
    return target.stat().st_size


@dataclass(frozen=True)
class CheckReport:
    """What `dxfield check` found."""

    integrity: str
    schema_revision: str
    schema_head: str
    counts: dict[str, dict[str, int]]
    revisions: int
    clock_skew: int
    conflicts: int
    device_id: str
    device_name: str
    path: str
    findings: list[Finding]
    """What is wrong beyond the file itself (store/soundness.py), one line each."""

    @property
    def ok(self) -> bool:
        """True when the file is sound, its schema current and nothing is found wrong in it."""
        return (
            self.integrity == "ok"
            and self.schema_revision == self.schema_head
            and not self.findings
        )


def check(store: Store) -> CheckReport:
    """Run SQLite's integrity check, look for what else can be wrong, count what is held."""
    counts: dict[str, dict[str, int]] = {}
    with store.read() as conn:
        integrity = "; ".join(r[0] for r in conn.execute(text("PRAGMA integrity_check")))
        schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
        for entity in sorted(SYNCED_TABLES):
            table = revisions.table_for(entity)
            rows = conn.execute(select(table.c.deleted, func.count()).group_by(table.c.deleted))
            tally = {"live": 0, "deleted": 0}
            for deleted, n in rows:
                tally["deleted" if deleted else "live"] = n
            counts[entity] = tally
        findings = find_problems(conn) if integrity == "ok" else []
        total = conn.execute(select(func.count()).select_from(_revisions)).scalar() or 0
        skew = (
            conn.execute(
                select(func.count())
                .select_from(_revisions)
                .where(_revisions.c.clock_skew.is_(True))
            ).scalar()
            or 0
        )
    return CheckReport(
        integrity=integrity,
        schema_revision=schema,
        schema_head=head_schema_revision(),
        counts=counts,
        revisions=total,
        clock_skew=skew,
        conflicts=count_conflicts(store),
        device_id=store.device.id,
        device_name=store.device.name,
        path=str(store.path),
        findings=findings,
    )


def record_history(store: Store, record_id: str) -> tuple[str, list[dict[str, Any]]]:
    """(entity, every revision of the record oldest first, each with the fields it changed)."""
    with store.read() as conn:
        full = match_id(conn, _revisions.c.entity_id, record_id, "記録", "record")
        entity = revisions.entity_of(conn, full)
        history = revisions.history(conn, entity or "", full)
    previous: dict[str, Any] = {}
    for revision in history:
        data = revision["data"]
        revision["changed"] = sorted(
            k for k in set(data) | set(previous) if data.get(k) != previous.get(k)
        )
        previous = data
    return str(entity), history
