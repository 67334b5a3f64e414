"""A hub's attachments live in the hub's database (issue 19), so every account sees the same files.

A hub on PostgreSQL is shared by a team, each person working from a data folder of their own:
the hub's account (its keys sign and open bundles) and its colleagues. Attachments' content is
kept in the hub's `blob` and `blob_chunk` tables (store/blobs.py, `TableBlobs`), never in any
one person's folder: what one account imported or attached, another shows, saves, sends and
purges. Here: a hub's account and a colleague (two data folders, one database), and two field
laptops on SQLite.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.report.minutes import build_minutes
from dxfield.store import blobs, maintenance
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.attachments import attach, save_copy
from dxfield.store.engine import Store
from dxfield.store.purges import purge_attachment
from dxfield.store.schema import BLOB, BLOB_CHUNK
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.wire import BundleError
from dxfield.tui.thumbnails import thumbnail_of
from tests.conftest import Cli
from tests.hub.fleet import enroll, make_hub, make_laptop, pair
from tests.kept import chunk_rows, holds, kept_bytes


@dataclass
class Team:
    url: str
    hub: Store
    """The hub's account: its data folder holds the hub's keys (bundles go through it)."""
    colleague: Store
    """A colleague enrolled on the hub, working from a data folder of their own."""
    toyooka: Store
    kami: Store
    folder: Path


@pytest.fixture
def team(pg_database: str, tmp_path: Path) -> Iterator[Team]:
    hub = make_hub(tmp_path / "hub-account", pg_database)
    colleague = enroll(hub, tmp_path / "colleague", pg_database, "山田")
    toyooka = make_laptop(tmp_path / "toyooka", "豊岡リエゾン")
    kami = make_laptop(tmp_path / "kami", "香美リエゾン")
    pair(hub, toyooka)
    pair(hub, kami)
    try:
        yield Team(pg_database, hub, colleague, toyooka, kami, tmp_path)
    finally:
        for store in (hub, colleague, toyooka, kami):
            store.close()


def _activity(store: Store) -> str:
    given = ActivityInput(
        title="住民ワークショップ", kind="workshop", date="2026-11-20", municipality="豊岡市"
    )
    return add_activity(store, given).id


def _photo(folder: Path, seed: int) -> Path:
    from PIL import Image

    out = io.BytesIO()
    image = Image.effect_noise((320, 240), 40 + seed).convert("RGB")
    image.save(out, "JPEG", quality=90)
    path = folder / "sources" / f"黒板-{seed}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


def _text(folder: Path, seed: int, size: int) -> Path:
    """A text file of `size` bytes that does not compress: several chunks in the database."""
    raw = random.Random(seed).randbytes(size)
    path = folder / "sources" / f"議事メモ-{seed}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64encode(raw)[:size])
    return path


def _blob_rows(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(BLOB)).scalar() or 0)


def _no_blob_folder(*stores: Store) -> None:
    """Nothing of the attachments went to any account's data folder."""
    for store in stores:
        assert not (store.data_dir / blobs.FOLDER).exists(), store.data_dir


def test_a_laptops_photos_imported_by_one_account_are_every_accounts(team: Team) -> None:
    owner = _activity(team.toyooka)
    photo = attach(team.toyooka, owner, _photo(team.folder, 1), caption="黒板").record
    memo = attach(team.toyooka, owner, _text(team.folder, 2, 5 * (1 << 20) // 2)).record
    sent = export_bundle(team.toyooka, team.folder / "t-h.dxb", team.hub.device.id)
    assert sent.blobs == 2
    assert import_bundle(team.hub, sent.path).blobs == 2
    _no_blob_folder(team.hub, team.colleague)
    assert _blob_rows(team.hub) == 2
    assert chunk_rows(team.hub) == 1 + 3  # the photo in one chunk, 2.5 MiB of text in three

    # The colleague's minutes show the photo the hub's account imported.
    minutes = build_minutes(team.colleague, [owner])
    (entry,) = minutes.entries
    assert [(p.problem, p.image is not None) for p in entry.photos] == [("", True)]
    # And a copy the colleague saves is the very bytes the laptop attached.
    (team.folder / "saved").mkdir()
    for record in (photo, memo):
        out = save_copy(team.colleague, record.id, team.folder / "saved" / record.file_name)
        assert (
            out.read_bytes() == blobs.blob_path(team.toyooka.data_dir, record.sha256).read_bytes()
        )

    # The hub's export to another laptop carries them, and they arrive byte-identical.
    back = export_bundle(team.hub, team.folder / "h-k.dxb", team.kami.device.id)
    assert (back.blobs, back.missing_blobs) == (2, 0)
    assert import_bundle(team.kami, back.path).blobs == 2
    for record in (photo, memo):
        there = blobs.blob_path(team.kami.data_dir, record.sha256).read_bytes()
        assert there == blobs.blob_path(team.toyooka.data_dir, record.sha256).read_bytes()
    assert maintenance.dump(team.kami) == maintenance.dump(team.hub)
    assert maintenance.check(team.colleague).blobs.ok
    assert maintenance.check(team.kami).ok


def test_a_file_a_colleague_attaches_goes_out_in_the_hubs_export(team: Team) -> None:
    owner = _activity(team.colleague)
    made = attach(team.colleague, owner, _text(team.folder, 3, 1 << 20)).record  # one full chunk
    _no_blob_folder(team.colleague, team.hub)
    assert kept_bytes(team.hub, made.sha256) == _text(team.folder, 3, 1 << 20).read_bytes()
    assert chunk_rows(team.hub) == 1
    sent = export_bundle(team.hub, team.folder / "h-k.dxb", team.kami.device.id)
    assert (sent.blobs, sent.blob_bytes, sent.missing_blobs) == (1, 1 << 20, 0)
    import_bundle(team.kami, sent.path)
    kept = blobs.blob_path(team.kami.data_dir, made.sha256).read_bytes()
    assert hashlib.sha256(kept).hexdigest() == made.sha256
    report = maintenance.check(team.hub).blobs
    assert (report.kept, report.size, report.orphans, report.missing) == (1, 1 << 20, [], [])


def test_a_purge_by_the_hub_erases_the_bytes_for_every_account(team: Team) -> None:
    owner = _activity(team.toyooka)
    photo = attach(team.toyooka, owner, _photo(team.folder, 4)).record
    sent = export_bundle(team.toyooka, team.folder / "t-h.dxb", team.hub.device.id)
    import_bundle(team.hub, sent.path)
    # The colleague looked at it in the app: a thumbnail of their own, in their folder.
    seen = thumbnail_of(team.colleague.data_dir, photo.sha256, team.colleague.blobs)
    assert seen.path is not None and seen.path.is_relative_to(team.colleague.data_dir)

    purge_attachment(team.hub, photo.id, "本人からの削除依頼")
    assert (_blob_rows(team.hub), chunk_rows(team.hub)) == (0, 0)
    assert not holds(team.colleague, photo.sha256)
    with pytest.raises(FileNotFoundError):
        team.colleague.blobs.open(photo.sha256)
    with pytest.raises(NotFound, match="has been deleted"):
        save_copy(team.colleague, photo.id, team.folder / "again.jpg", force=True)
    # The colleague's thumbnail goes the next time it is looked for (and `prune` names it).
    assert maintenance.check(team.colleague).blobs.thumbnails == [
        str(seen.path.relative_to(team.colleague.data_dir))
    ]
    gone = thumbnail_of(team.colleague.data_dir, photo.sha256, team.colleague.blobs)
    assert gone.path is None and not seen.path.exists()
    assert maintenance.check(team.hub).findings == []


def test_a_colleagues_thumbnail_of_purged_bytes_goes_at_their_next_open(team: Team) -> None:
    """Not only when the app looks for it: a person who never opens that activity again still
    loses their small copy of the erased photo as soon as they open the hub."""
    owner = _activity(team.toyooka)
    photo = attach(team.toyooka, owner, _photo(team.folder, 7)).record
    kept = attach(team.toyooka, owner, _photo(team.folder, 8)).record
    sent = export_bundle(team.toyooka, team.folder / "t-h.dxb", team.hub.device.id)
    import_bundle(team.hub, sent.path)
    folder = team.colleague.data_dir
    seen = [thumbnail_of(folder, p.sha256, team.colleague.blobs).path for p in (photo, kept)]
    assert all(path is not None and path.exists() for path in seen)
    team.colleague.close()
    purge_attachment(team.hub, photo.id, "本人からの削除依頼")
    assert seen[0] is not None and seen[0].exists()  # the colleague has not opened since
    team.colleague = Store.open(folder, database=team.url)
    assert seen[0] is not None and not seen[0].exists()
    assert seen[1] is not None and seen[1].exists()  # the other photo's stays


def test_a_damaged_chunk_is_found_by_check_and_refused_when_read(team: Team, cli: Cli) -> None:
    owner = _activity(team.colleague)
    made = attach(team.colleague, owner, _text(team.folder, 5, 3 * (1 << 20) // 2)).record
    other = attach(team.colleague, owner, _text(team.folder, 6, 1000)).record
    assert maintenance.check(team.hub).ok
    with team.hub.write() as conn:  # the second chunk's bytes changed, its length kept
        conn.execute(
            update(BLOB_CHUNK)
            .where(BLOB_CHUNK.c.sha256 == made.sha256, BLOB_CHUNK.c.seq == 1)
            .values(data=b"x" * ((1 << 20) // 2))
        )
    for account in (team.hub, team.colleague):
        found = maintenance.check(account)
        assert not found.ok and found.blobs.damaged == [made.sha256]
    with pytest.raises(LocalizedError, match="does not match its SHA-256"):
        save_copy(team.colleague, made.id, team.folder / "copy.txt")
    assert not (team.folder / "copy.txt").exists()
    said = cli("--lang", "en", "--data-dir", str(team.colleague.data_dir), "--database",
               team.url, "attachment", "save", made.id, "--out", str(team.folder / "c.txt"))  # fmt: skip
    assert said.code == 1 and "it is damaged" in said.err and said.err.count("\n") == 1
    # A chunk missing: short of its size, damaged too; the other file is still whole.
    with team.hub.write() as conn:
        conn.execute(delete(BLOB_CHUNK).where(BLOB_CHUNK.c.sha256 == other.sha256))
    assert maintenance.check(team.hub).blobs.damaged == sorted([made.sha256, other.sha256])
    # The export refuses to send damaged bytes (one line), and sends nothing.
    with pytest.raises(LocalizedError) as refused:
        export_bundle(team.hub, team.folder / "h-k.dxb", team.kami.device.id)
    assert "is not what its size and hash say" in refused.value.message("en")
    assert not (team.folder / "h-k.dxb").exists()


def _flip(path: Path, at: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_a_bundle_refused_half_way_leaves_no_blob_rows(team: Team) -> None:
    owner = _activity(team.toyooka)
    for seed in range(3):
        attach(team.toyooka, owner, _text(team.folder, 10 + seed, 3 * (1 << 20) // 2))
    sent = export_bundle(team.toyooka, team.folder / "t-h.dxb", team.hub.device.id)
    before = maintenance.dump(team.hub)
    # A dry run checks every byte and keeps none of them.
    checked = import_bundle(team.hub, sent.path, dry_run=True)
    assert checked.blobs == 3 and (_blob_rows(team.hub), chunk_rows(team.hub)) == (0, 0)
    # Altered in its last chunk: refused after the first blobs were written as rows.
    size = sent.path.stat().st_size
    _flip(sent.path, size - 16)
    with pytest.raises(BundleError, match="does not match its hash"):
        import_bundle(team.hub, sent.path)
    assert (_blob_rows(team.hub), chunk_rows(team.hub)) == (0, 0)
    assert maintenance.dump(team.hub) == before
    _no_blob_folder(team.hub)
    # As it was written: taken whole.
    _flip(sent.path, size - 16)
    assert import_bundle(team.hub, sent.path).blobs == 3
    assert (_blob_rows(team.hub), chunk_rows(team.hub)) == (3, 6)
    assert maintenance.check(team.hub).blobs.ok


# -- memory --------------------------------------------------------------------------------------

MIB = 1 << 20
LARGEST = 50 * MIB
"""The largest attachment there may be (`MAX_ATTACHMENT_BYTES`)."""
PEAK_LIMIT = 200 * MIB


def _measured(argv: list[str], logs: Path) -> tuple[int, str, int]:
    """A `dxfield` process (exit code, errors) with its own peak memory, measured from a
    small launcher as tests/sync/test_blob_memory.py does."""
    import subprocess
    import sys

    from tests.hub.fleet import process_env
    from tests.sync.test_blob_memory import _MEASURED

    logs.mkdir(parents=True, exist_ok=True)
    peak = logs / "peak.txt"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(peak), *argv],
        capture_output=True,
        text=True,
        env=process_env(),
        timeout=900,
    )
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return done.returncode, done.stderr, int(peak.read_text("utf-8")) * unit


def _largest_files(store: Store, count: int) -> list[str]:
    """`count` attachments of the largest size on a laptop: their bytes made a MiB at a time and
    kept as its attach keeps them, then the records naming them."""
    from dxfield.store import records

    owner = _activity(store)
    hashes = []
    for n in range(count):
        seed = random.Random(n).randbytes(MIB)

        def pieces(seed: bytes = seed) -> Iterator[bytes]:
            block = bytearray(seed)
            for number in range(LARGEST // MIB):
                block[:8] = number.to_bytes(8, "big")
                yield bytes(block)

        sha256, size = blobs.put(store.data_dir, pieces())
        records.ATTACHMENTS.create(
            store,
            {
                "owner_type": "activity",
                "owner_id": owner,
                "file_name": f"IMG_{n:04d}.jpg",
                "media_type": "image/jpeg",
                "size": size,
                "sha256": sha256,
            },
        )
        hashes.append(sha256)
    return hashes


@pytest.mark.slow
def test_the_hub_imports_and_exports_the_largest_files_in_bounded_memory(team: Team) -> None:
    """Four attachments of 50 MiB through the hub's database, by `dxfield import` and `dxfield
    export` as processes: each stays under PEAK_LIMIT (no file is ever held whole)."""
    from tests.hub.fleet import dxfield_argv

    hashes = _largest_files(team.toyooka, 4)
    sent = export_bundle(team.toyooka, team.folder / "t-h.dxb", team.hub.device.id)
    assert sent.blob_bytes == 4 * LARGEST
    code, err, peak = _measured(
        dxfield_argv(team.hub.data_dir, "import", str(sent.path), "--json", database=team.url),
        team.folder / "import",
    )
    assert code == 0, err
    assert peak < PEAK_LIMIT, f"import: {peak / MIB:.0f} MiB"
    print(f"hub import of 4 x 50 MiB: peak {peak / MIB:.0f} MiB")
    assert chunk_rows(team.hub) == 4 * LARGEST // MIB
    sent.path.unlink()

    out_path = team.folder / "h-k.dxb"
    code, err, peak = _measured(
        dxfield_argv(
            team.hub.data_dir,
            "export",
            "--to",
            str(out_path),
            "--recipient",
            team.kami.device.id,
            "--json",
            database=team.url,
        ),
        team.folder / "export",
    )
    assert code == 0, err
    assert peak < PEAK_LIMIT, f"export: {peak / MIB:.0f} MiB"
    print(f"hub export of 4 x 50 MiB: peak {peak / MIB:.0f} MiB")
    assert import_bundle(team.kami, out_path).blobs == 4
    for sha256 in hashes:
        assert blobs.hash_file(blobs.blob_path(team.kami.data_dir, sha256)) == sha256
    out_path.unlink()


def test_prune_moves_a_hubs_blobs_from_before_into_its_database(team: Team, cli: Cli) -> None:
    """A hub set up before schema 0008 kept its blobs in the folder of whoever attached them:
    check says so, and that person's prune moves them into the database (checked), removes the
    rest of them from the folder (no record names them), and leaves a damaged one where it is."""
    from dxfield.store import records

    owner = _activity(team.colleague)
    folder = team.colleague.data_dir
    made = {}
    for name, content in (("a.txt", b"before 0008\n" * 1000), ("b.txt", b"damaged later\n")):
        sha256, size = blobs.put(folder, [content])
        made[name] = records.ATTACHMENTS.create(
            team.colleague,
            {
                "owner_type": "activity",
                "owner_id": owner,
                "file_name": name,
                "media_type": "text/plain",
                "size": size,
                "sha256": sha256,
            },
        )
    blobs.blob_path(folder, made["b.txt"].sha256).write_bytes(b"rot\n")
    stray, _ = blobs.put(folder, [b"no record names me\n"])
    found = maintenance.check(team.colleague).blobs
    assert found.missing == sorted(m.sha256 for m in made.values())
    assert sorted(found.in_folder) == sorted([*(m.sha256 for m in made.values()), stray])
    args = ("--lang", "en", "--data-dir", str(folder), "--database", team.url)
    checked = cli(*args, "check")
    assert "3 attached contents are in this data folder, not in the hub's database" in checked.out

    dry = cli(*args, "prune", "--dry-run")
    assert "would move 1 attached content from this data folder" in dry.out, dry.out
    assert _blob_rows(team.hub) == 0 and len(list(blobs.kept_blobs(folder))) == 3
    done = cli(*args, "prune", "--json")
    assert done.code == 0, done.err
    import json

    result = json.loads(done.out)
    assert (result["moved"], result["orphans"]) == ([made["a.txt"].sha256], [stray])
    assert kept_bytes(team.hub, made["a.txt"].sha256) == b"before 0008\n" * 1000
    assert [s for s, _ in blobs.kept_blobs(folder)] == [made["b.txt"].sha256]  # damaged: stays
    after = maintenance.check(team.hub).blobs
    assert (after.missing, after.orphans) == ([made["b.txt"].sha256], [])
    # A copy in the folder of what the database holds already is one too many.
    blobs.put(folder, [b"before 0008\n" * 1000])
    assert maintenance.prune(team.colleague).moved == []
    assert [s for s, _ in blobs.kept_blobs(folder)] == [made["b.txt"].sha256]
    sent = export_bundle(team.hub, team.folder / "h-k.dxb", team.kami.device.id)
    assert (sent.blobs, sent.missing_blobs) == (1, 1)


def test_a_purge_erases_a_copy_an_earlier_build_left_in_an_accounts_folder(team: Team) -> None:
    """Before the hub kept blobs in its database they lay in the accounts' folders: a purge
    takes the purging account's copy after its commit, and a colleague's at their next open."""
    from dxfield.store import records

    content = b"\xff\xd8\xff\xe0 a resident's face" * 100
    owner = _activity(team.colleague)
    sha256, size = blobs.put(team.hub.data_dir, [content])
    assert blobs.put(team.colleague.data_dir, [content]) == (sha256, size)
    record = records.ATTACHMENTS.create(
        team.colleague,
        {
            "owner_type": "activity",
            "owner_id": owner,
            "file_name": "face.jpg",
            "media_type": "image/jpeg",
            "size": size,
            "sha256": sha256,
        },
    )
    folder = team.colleague.data_dir
    team.colleague.close()
    purge_attachment(team.hub, record.id, "本人からの削除依頼")
    assert not blobs.has_blob(team.hub.data_dir, sha256)
    assert blobs.has_blob(folder, sha256)  # the colleague has not opened since
    team.colleague = Store.open(folder, database=team.url)
    assert not blobs.has_blob(folder, sha256)


def test_a_file_that_fails_half_way_leaves_no_half_blob_in_a_unit_that_goes_on(
    team: Team,
) -> None:
    """`prune` moving an old folder's files goes on past one it could not read: that file's
    first chunks must not stay, or `has` would take them for the whole file ever after."""
    content = random.Random(9).randbytes(3 * MIB)
    sha256 = hashlib.sha256(content).hexdigest()

    def failing() -> Iterator[bytes]:
        yield content[:MIB]
        yield content[MIB : 2 * MIB]
        raise OSError(5, "Input/output error")

    with team.hub.unit() as unit, pytest.raises(OSError):
        team.hub.blobs.put(unit.conn, sha256, failing())
    assert not holds(team.hub, sha256)
    assert (_blob_rows(team.hub), chunk_rows(team.hub)) == (0, 0)
    with team.hub.unit() as unit:
        assert team.hub.blobs.put(unit.conn, sha256, [content]) == len(content)
    assert kept_bytes(team.hub, sha256) == content
