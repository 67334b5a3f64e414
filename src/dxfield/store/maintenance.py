"""Keeping the store sound: canonical dump, integrity check, record history (backups: `backups`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select, text

from dxfield import clock
from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems
from dxfield.store import blobs, revisions
from dxfield.store.authorship import known_keys
from dxfield.store.conflicts import count_conflicts
from dxfield.store.engine import Store, head_schema_revision
from dxfield.store.files import existing_folder, guard_output
from dxfield.store.files import missing_file as missing_file  # re-exported: its one wording
from dxfield.store.files import read_text_file as read_text_file  # re-exported
from dxfield.store.key_file import key_path, read_key_file, wrong_device
from dxfield.store.purges import left_behind
from dxfield.store.records import match_id
from dxfield.store.schema import REVISIONS, SYNCED_TABLES
from dxfield.store.soundness import Finding, find_problems
from dxfield.store.unit import Work, unit_of

PROBLEMS = problems(
    {"dump.cannot_write": N_("cannot write {path} ({reason}); nothing already saved was lost")}
)

DUMP_FORMAT = "dxfield-dump"
DUMP_VERSION = 1
"""The largest text file a user may give (a CSV of every activity stays far below)."""
_revisions = REVISIONS


def dump(work: Work) -> dict[str, Any]:
    """Every synced record (tombstones too) as its winning revision, sorted by id (then kind).

    Content comes from the revision itself, which is content-addressed, so two stores holding the
    same data give the same dump byte for byte. Local-only data (device, drafts, keys) is left out.
    """
    records: list[dict[str, Any]] = []
    with unit_of(work, write=False) as unit:
        conn = unit.conn
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
                )
                .join(_revisions, _revisions.c.rev_id == table.c.rev)
                # A purged attachment is not shown: its purge is (and a store that never held
                # it gives the same dump as one that did).
                .where(~revisions.of_purged_attachment())
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


def dump_text(work: Work) -> str:
    """The dump as canonical JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(dump(work), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def write_atomically(store: Store, out: Path, data: bytes) -> None:
    """Write `data` to `out` through a temporary file in the same folder, fsync and a rename;
    never over anything the data folder holds (`files.guard_output`)."""
    with writing_atomically(store, out) as handle:
        handle.write(data)


@contextlib.contextmanager
def writing_atomically(store: Store, out: Path) -> Iterator[BinaryIO]:
    """A file to write `out` through, as it comes: a temporary file in the same folder, made
    `out` by an fsync and a rename when the block ends; never over anything the data folder
    holds (`files.guard_output`). When the block raises (or the disk is full, in one line:
    `dump.cannot_write`), the temporary file is removed and `out` is left as it was."""
    target = guard_output(store.data_dir, out)
    folder = existing_folder(target)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise LocalizedError("dump.cannot_write", path=str(out), reason=exc.strerror) from None


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
    keys: str
    """"ok", "none" (not made yet) or "refused" (the device could not use them)."""
    keys_problem: str
    """Why they were refused, in the user's language ("" otherwise)."""
    findings: list[Finding]
    """What is wrong beyond the file itself (store/soundness.py), one line each."""
    blobs: BlobReport = field(default_factory=lambda: BlobReport(0, 0, [], [], [], []))
    """The attached files' content kept in the data folder."""

    @property
    def ok(self) -> bool:
        """True when the file is sound, its schema current, its keys usable (or not made),
        nothing is found wrong in it, and every attached file's content is there, whole."""
        return (
            self.integrity == "ok"
            and self.schema_revision == self.schema_head
            and self.keys != "refused"
            and not self.findings
            and self.blobs.ok
        )


STRAY_AFTER = dt.timedelta(hours=1)
"""A blob's temporary file older than this is left over (a killed attach or import): an import
of a large bundle keeps its staged blobs for as long as it reads, well under an hour."""


@dataclass(frozen=True)
class BlobReport:
    """The attached files' content in the data folder (`blobs/`), as `check` found it."""

    kept: int
    """How many blobs are kept (each read and its SHA-256 checked)."""
    size: int
    """Their bytes together."""
    damaged: list[str]
    """Blobs whose content does not match the SHA-256 they are kept under."""
    missing: list[str]
    """SHA-256 of live attachments whose content is not here."""
    orphans: list[str]
    """Blobs no live attachment uses (a detached file's): `prune` removes them."""
    temp_files: list[str]
    """Temporary files left over (older than STRAY_AFTER), relative to the data folder:
    `prune` removes them."""
    thumbnails: list[str] = field(default_factory=list)
    """The app's thumbnails whose blob is not kept here (`blobs.stray_thumbnails`), relative to
    the data folder: `prune` removes them (a purge or a prune removes a blob's with it)."""
    in_folder: list[str] = field(default_factory=list)
    """On a hub: blobs in this person's data folder (kept there before the hub kept them in its
    database, schema 0008): `prune` moves them into the database."""

    @property
    def ok(self) -> bool:
        """No blob damaged and none missing (orphans and left-over files are only space)."""
        return not self.damaged and not self.missing


def _live_blobs(conn: Any) -> set[str]:
    """The SHA-256 of every live attachment's content."""
    table = revisions.table_for("attachment")
    rows = conn.execute(select(table.c.sha256).where(table.c.deleted.is_(False)).distinct())
    return {str(sha) for sha in rows.scalars()}


def _stray_temp_files(data_dir: Path) -> list[Path]:
    oldest = clock.now().timestamp() - STRAY_AFTER.total_seconds()
    found = []
    for path in blobs.temp_files(data_dir):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < oldest:
                found.append(path)
    return found


def check_blobs(store: Store) -> BlobReport:
    """Read every blob and check its SHA-256 (and, in a hub's database, its size); find the live
    attachments whose content is missing, the blobs no live attachment uses, and left-over
    temporary files."""
    kept_blobs = store.blobs
    with store.read() as conn:
        live = _live_blobs(conn)
        if kept_blobs.in_database:
            listing = kept_blobs.listing(conn)
    data_dir = store.data_dir
    if not kept_blobs.in_database:
        listing = []
        damaged = []
        for sha256, path in blobs.kept_blobs(data_dir):
            try:
                listing.append((sha256, path.stat().st_size))
                if blobs.hash_file(path) != sha256:
                    damaged.append(sha256)
            except OSError:
                listing.append((sha256, 0))
                damaged.append(sha256)
    else:
        damaged = [sha256 for sha256, _ in listing if not kept_blobs.verify(sha256)]
    kept = {sha256 for sha256, _ in listing}
    in_folder = [s for s, _ in blobs.kept_blobs(data_dir)] if kept_blobs.in_database else []
    return BlobReport(
        kept=len(kept),
        size=sum(size for _, size in listing),
        damaged=damaged,
        missing=sorted(live - kept),
        orphans=sorted(kept - live),
        temp_files=[str(p.relative_to(data_dir)) for p in _stray_temp_files(data_dir)],
        thumbnails=[
            str(p.relative_to(data_dir)) for _, p in _stray_thumbnails(data_dir, kept, kept_blobs)
        ],
        in_folder=in_folder,
    )


def _stray_thumbnails(
    data_dir: Path, kept: set[str], kept_blobs: blobs.Kept
) -> list[tuple[str, Path]]:
    """This person's thumbnails whose blob is not kept (in the folder, or the hub's database)."""
    if not kept_blobs.in_database:
        return blobs.stray_thumbnails(data_dir)
    folder = data_dir / blobs.THUMBS
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        sha256 = path.name.removesuffix(".jpg")
        if path.suffix == ".jpg" and path.is_file() and len(sha256) == 64 and sha256 not in kept:
            found.append((sha256, path))
    return found


@dataclass(frozen=True)
class PruneResult:
    """What `prune` removed (or, in a dry run, would remove)."""

    orphans: list[str]
    """SHA-256 of the blobs no live attachment uses."""
    temp_files: list[str]
    """Left-over temporary files, relative to the data folder."""
    freed: int
    """Bytes freed (or that would be)."""
    dry_run: bool
    thumbnails: list[str] = field(default_factory=list)
    """The app's thumbnails removed with their blob or whose blob had gone, relative to the
    data folder."""
    moved: list[str] = field(default_factory=list)
    """On a hub: blobs a live attachment names that were in this person's data folder (from
    before schema 0008) and are now in the hub's database."""


def _move_into_database(
    unit: Any, kept_blobs: blobs.Kept, live: set[str], dry_run: bool
) -> tuple[list[str], list[str], int]:
    """On a hub: the blobs this person's data folder holds (kept there before the hub kept them
    in its database) taken into the database in `unit` when a live attachment names them
    (checked against their SHA-256 as they are read: a damaged one stays where it is), and
    removed from the folder once `unit` has committed, as is every other blob there (no live
    record names it: an orphan). The hashes moved and those only removed (or, in a dry run,
    that would be), and the bytes the latter free."""
    data_dir = kept_blobs.data_dir
    moved: list[str] = []
    dropped: list[str] = []
    twice: list[str] = []
    freed = 0
    for sha256, path in list(blobs.kept_blobs(data_dir)):
        try:
            size = path.stat().st_size
            if sha256 in live and not kept_blobs.has(sha256, unit.conn):
                if dry_run:
                    if blobs.hash_file(path) != sha256:
                        continue
                else:
                    with open(path, "rb") as source:
                        pieces = iter(lambda: source.read(blobs.CHUNK_BYTES), b"")
                        kept_blobs.put(unit.conn, sha256, pieces)
                moved.append(sha256)
                continue
            if sha256 not in live:
                dropped.append(sha256)
            else:  # the database holds it already: the folder's copy is one too many
                twice.append(sha256)
            freed += size
        except (OSError, blobs.BlobMismatch):
            continue
    if not dry_run:
        gone = [*moved, *dropped, *twice]

        def remove_from_folder() -> None:
            for sha256 in gone:
                blobs.remove_blob(data_dir, sha256)
                with contextlib.suppress(OSError):
                    blobs.blob_path(data_dir, sha256).parent.rmdir()  # only when empty

        unit.after_commit.append(remove_from_folder)
    return moved, dropped, freed


def prune(store: Store, *, dry_run: bool = False) -> PruneResult:
    """Remove the blobs no live attachment uses (with their thumbnails), the thumbnails whose blob
    has gone, and the temporary files left over (older than STRAY_AFTER). It runs in a writing unit, so that no attach (which writes its blob and then
    its record in one) comes between finding a blob unused and removing it."""
    data_dir = store.data_dir
    kept_blobs = store.blobs
    with store.unit(write=not dry_run) as unit:
        live = _live_blobs(unit.conn)
        moved: list[str] = []
        dropped: list[str] = []
        freed = 0
        if kept_blobs.in_database:  # a hub's blobs from before schema 0008
            moved, dropped, freed = _move_into_database(unit, kept_blobs, live, dry_run)
        listing = kept_blobs.listing(unit.conn)
        if dry_run:  # what the move would have put there
            listing += [(s, 0) for s in moved]
        orphans = [(s, size) for s, size in listing if s not in live]
        temps = _stray_temp_files(data_dir)
        # A blob's thumbnail goes with it: those of the orphans, and those whose blob has gone.
        kept = {s for s, _ in listing}
        thumbs = [p for _, p in _stray_thumbnails(data_dir, kept, kept_blobs)] + [
            t for s, _ in orphans if (t := blobs.thumbnail_path(data_dir, s)).is_file()
        ]
        for path in temps + thumbs:
            with contextlib.suppress(FileNotFoundError):
                freed += path.stat().st_size
                if not dry_run:
                    path.unlink()
        if dry_run:
            freed += sum(size for _, size in orphans)
        else:
            freed += kept_blobs.delete_now(unit.conn, [s for s, _ in orphans])
            if not kept_blobs.in_database:
                for sha256, _ in orphans:
                    with contextlib.suppress(OSError):
                        blobs.blob_path(data_dir, sha256).parent.rmdir()  # only when empty
    return PruneResult(
        orphans=[s for s, _ in orphans] + [s for s in dropped if s not in {o for o, _ in orphans}],
        temp_files=[str(p.relative_to(data_dir)) for p in temps],
        freed=freed,
        dry_run=dry_run,
        thumbnails=sorted(str(p.relative_to(data_dir)) for p in thumbs),
        moved=moved,
    )


def _key_status(store: Store) -> tuple[str, str]:
    """Whether the device's key file is there and usable: ("ok" | "none" | "refused", why)."""
    path = key_path(store.data_dir)
    try:
        keys = read_key_file(path)
    except LocalizedError as exc:
        return "refused", exc.message()
    if keys is None:
        return "none", ""
    problem = wrong_device(path, keys, store.device.id)
    if problem is not None:
        return "refused", problem.message()
    return "ok", ""


def check(store: Store) -> CheckReport:
    """Run the engine's integrity check, look for what else can be wrong, count what is held."""
    counts: dict[str, dict[str, int]] = {}
    with store.read() as conn:
        integrity = store.backend.integrity(conn)
        schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
        for entity in sorted(SYNCED_TABLES):
            table = revisions.table_for(entity)
            rows = conn.execute(select(table.c.deleted, func.count()).group_by(table.c.deleted))
            tally = {"live": 0, "deleted": 0}
            for deleted, n in rows:
                tally["deleted" if deleted else "live"] = n
            counts[entity] = tally
        authors = known_keys(store, conn)
        findings = find_problems(conn, authors) if integrity == "ok" else []
        if integrity == "ok":
            findings += [Finding("purged-blob", p) for p in left_behind(conn, store.blobs)]
        total = conn.execute(select(func.count()).select_from(_revisions)).scalar() or 0
        skew = (
            conn.execute(
                select(func.count())
                .select_from(_revisions)
                .where(_revisions.c.clock_skew.is_(True))
            ).scalar()
            or 0
        )
    keys, keys_problem = _key_status(store)
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
        path=store.location,
        keys=keys,
        keys_problem=keys_problem,
        findings=findings,
        blobs=check_blobs(store),
    )


def record_history(work: Work, record_id: str) -> tuple[str, list[dict[str, Any]]]:
    """(entity, every revision of the record oldest first, each with the fields it changed and
    whether it brought the record back after a deletion)."""
    with unit_of(work, write=False) as unit:
        conn = unit.conn
        full = match_id(conn, _revisions.c.entity_id, record_id, "record")
        entity = revisions.entity_of(conn, full)
        history = revisions.history(conn, entity or "", full)
    previous: dict[str, Any] = {}
    was_deleted = False
    for revision in history:
        data = revision["data"]
        revision["changed"] = sorted(
            k for k in set(data) | set(previous) if data.get(k) != previous.get(k)
        )
        revision["restored"] = was_deleted and not revision["deleted"]
        previous, was_deleted = data, bool(revision["deleted"])
    return str(entity), history
