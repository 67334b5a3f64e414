"""Attachments' bytes in bundles (issue 19): sent with the records that name them, once per
recipient; a bundle whose bytes do not match, or that lacks bytes a record it brings needs, is
refused whole; an export split by `--max-size` imports in any order to the same store.

The fleet is the prefecture's: a hub that trusts two laptops, which trust the hub's card alone
(on PostgreSQL the hub's store is a hub database and the laptops are made laptops by their role,
as tests/sync/test_authorship_attacks.py does)."""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dxfield.store import blobs, local_state, maintenance, records
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.attachments import size_text
from dxfield.store.engine import Store
from dxfield.sync import bundle as bundle_module
from dxfield.sync.bundle import export_bundle, import_bundle, parse_size
from dxfield.sync.container import Blob, member_stream
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from dxfield.sync.wire import BundleError
from tests.conftest import Cli
from tests.kept import contents, holds, keep, kept_bytes, lose
from tests.sync.corpus import members, outgoing_revisions, write_bundle

HUB, A, B = "兵庫県", "豊岡リエゾン", "西宮リエゾン"
_files = itertools.count(1)


@dataclass
class Fleet:
    hub: Store
    a: Store
    b: Store
    folder: Path

    def path(self, stem: str = "bundle") -> Path:
        return self.folder / f"{stem}-{next(_files)}.dxb"


def _with_role(folder: Path, name: str, role: str) -> Store:
    store = Store.open(folder, device_name=name)
    if store.device.role == role:
        return store
    local_state.set_device_role(store, role)
    store.close()
    return Store.open(folder)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    hub = _with_role(tmp_path / "hub", HUB, "hub")
    a = _with_role(tmp_path / "toyooka", A, "field")
    b = _with_role(tmp_path / "nishinomiya", B, "field")
    for laptop in (a, b):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))
    made = Fleet(hub, a, b, tmp_path)
    yield made
    for store in (hub, a, b):
        store.close()


def _activity(store: Store, title: str = "奥矢根区 意見交換会") -> str:
    return add_activity(
        store,
        ActivityInput(title=title, kind="workshop", date="2024-07-17", municipality="豊岡市"),
    ).id


def _attach(store: Store, owner_id: str, content: bytes, name: str = "whiteboard.jpg") -> str:
    """An attachment as the attach service makes one: the bytes kept under their hash, then the
    record naming them. Returns the record's id."""
    sha256 = keep(store, content)
    made = records.ATTACHMENTS.create(
        store,
        {
            "owner_type": "activity",
            "owner_id": owner_id,
            "file_name": name,
            "media_type": "image/jpeg",
            "size": len(content),
            "sha256": sha256,
            "caption": "付箋の整理",
        },
    )
    return made.id


def _photo(n: int, size: int = 200_000) -> bytes:
    """`size` bytes that do not compress, different for each `n`."""
    return hashlib.sha256(str(n).encode()).digest() + os.urandom(size - 32)


def _sync(fleet: Fleet, sender: Store, receiver: Store, **options: Any) -> Any:
    path = fleet.path()
    sent = export_bundle(sender, path, receiver.device.name, **options)
    return sent, import_bundle(receiver, path)


def _blob_files(store: Store) -> dict[str, str]:
    """Every file under the data folder's blob folder (by its name) with its content's hash (a
    hub's blobs in its database as if they were such files: tests/kept.py)."""
    return contents(store)


def _state(store: Store) -> tuple[Any, dict[str, str]]:
    return maintenance.dump(store), _blob_files(store)


def test_photos_travel_laptop_hub_laptop_byte_identical(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    photos = [_photo(1), _photo(2, 3 * 1024 * 1024 + 7)]
    for n, photo in enumerate(photos):
        _attach(fleet.a, owner, photo, f"photo-{n}.jpg")
    sent, taken = _sync(fleet, fleet.a, fleet.hub)
    assert (sent.blobs, sent.blob_bytes, sent.missing_blobs) == (2, sum(map(len, photos)), 0)
    assert taken.blobs == 2
    _, taken = _sync(fleet, fleet.hub, fleet.b)
    assert taken.blobs == 2
    for photo in photos:
        digest = hashlib.sha256(photo).hexdigest()
        for store in (fleet.hub, fleet.b):
            assert hashlib.sha256(kept_bytes(store, digest)).hexdigest() == digest
    assert _blob_files(fleet.b) == _blob_files(fleet.a) == _blob_files(fleet.hub)
    assert maintenance.dump(fleet.a) == maintenance.dump(fleet.hub) == maintenance.dump(fleet.b)


def test_attached_photos_open_byte_identical_on_the_second_laptop(fleet: Fleet) -> None:
    """Through the attach service, as the CLI and the app attach: a photo (its camera's
    location stripped on the way in) and a text file on laptop a reach laptop b through the hub;
    a copy saved there is the very bytes a keeps."""
    from PIL import Image

    from dxfield.store import attachments

    photo = fleet.folder / "whiteboard.jpg"
    Image.effect_noise((640, 480), 60).convert("RGB").save(photo, "JPEG", quality=90)
    notes = fleet.folder / "handout.txt"
    notes.write_text("配布資料: 配送DXの実装に向けて\n", encoding="utf-8")
    owner = _activity(fleet.a)
    made = [
        attachments.attach(fleet.a, owner, photo, caption="ホワイトボード").record,
        attachments.attach(fleet.a, owner, notes).record,
    ]
    _sync(fleet, fleet.a, fleet.hub)
    _, taken = _sync(fleet, fleet.hub, fleet.b)
    assert taken.blobs == 2
    for record in made:
        copy = attachments.save_copy(fleet.b, record.id, fleet.folder / f"b-{record.file_name}")
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == record.sha256
        assert copy.read_bytes() == kept_bytes(fleet.a, record.sha256)
    assert [a.caption for a in attachments.attachments_of(fleet.b, owner)] == ["ホワイトボード", ""]
    assert maintenance.check(fleet.b).ok


def test_bytes_are_sent_once_per_recipient(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    photo = _photo(3)
    first = _attach(fleet.a, owner, photo)
    sent, _ = _sync(fleet, fleet.a, fleet.hub)
    assert sent.blobs == 1
    # An edit of the record (its caption), and the same photo attached again elsewhere: the
    # hub holds the bytes already.
    records.ATTACHMENTS.edit(fleet.a, first, {"caption": "ホワイトボード"})
    _attach(fleet.a, _activity(fleet.a, "第2回"), photo, "again.jpg")
    sent, taken = _sync(fleet, fleet.a, fleet.hub)
    assert (sent.revisions, sent.blobs) == (3, 0)
    assert taken.new + taken.updated == 3
    # What came from a laptop does not go back to it with its bytes.
    sent, _ = _sync(fleet, fleet.hub, fleet.a)
    assert sent.blobs == 0
    # The other laptop has none yet: the hub sends the bytes once, not once per record.
    sent, _ = _sync(fleet, fleet.hub, fleet.b)
    assert sent.blobs == 1
    sent, _ = _sync(fleet, fleet.hub, fleet.b)
    assert (sent.revisions, sent.blobs) == (0, 0)
    # --full sends every record's bytes.
    sent, _ = _sync(fleet, fleet.hub, fleet.b, full=True)
    assert sent.blobs == 1
    assert _blob_files(fleet.b) == _blob_files(fleet.a)


def _refused(cli: Cli, store: Store, path: Path, words: str) -> str:
    before = _state(store)
    result = cli("--lang", "en", "--data-dir", str(store.data_dir), "import", str(path))
    assert result.code == 1 and result.out == "", result.out
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bundle refused: "), result.err
    assert words in lines[0], lines[0]
    assert _state(store) == before  # no record, no blob, no temporary file
    assert maintenance.check(store).ok
    return str(lines[0])


def _attachment_bundle(fleet: Fleet, blob_members: list[Blob], **changes: Any) -> Path:
    """A bundle from laptop a to the hub with all of a's revisions and `blob_members`."""
    revisions = outgoing_revisions(fleet.a)
    found = members(fleet.a, fleet.hub, revisions, changes={"blobs": len(blob_members), **changes})
    path = fleet.path("crafted")
    path.write_bytes(write_bundle(fleet.a, fleet.hub, [*found, *blob_members]))
    return path


def test_a_bundle_missing_a_referenced_blob_is_refused_whole(fleet: Fleet, cli: Cli) -> None:
    owner = _activity(fleet.a)
    photo = _photo(4)
    _attach(fleet.a, owner, photo)
    path = _attachment_bundle(fleet, [])
    line = _refused(cli, fleet.hub, path, "are neither in the bundle nor kept here")
    assert hashlib.sha256(photo).hexdigest() in line
    assert line.startswith("error: bundle refused: revision ")


def test_a_tampered_blob_is_refused_whole(fleet: Fleet, cli: Cli) -> None:
    owner = _activity(fleet.a)
    photo, other = _photo(5), _photo(6)
    _attach(fleet.a, owner, photo)
    _attach(fleet.a, owner, other, "other.jpg")
    altered = bytearray(other)
    altered[1000] ^= 0x01
    revisions = outgoing_revisions(fleet.a)
    found = members(fleet.a, fleet.hub, revisions, changes={"blobs": 2})
    good = Blob(hashlib.sha256(photo).hexdigest(), len(photo), [photo])
    line = {"member": "blob", "sha256": hashlib.sha256(other).hexdigest(), "size": len(other)}
    plain = [
        *member_stream([*found, good]),
        json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n",
        bytes(altered),
    ]
    path = fleet.path("tampered")
    path.write_bytes(write_bundle(fleet.a, fleet.hub, plain=plain))
    _refused(cli, fleet.hub, path, "does not match its hash")


def test_a_dry_run_checks_the_bytes_and_writes_none(fleet: Fleet) -> None:
    _attach(fleet.a, _activity(fleet.a), _photo(12))
    path = fleet.path()
    export_bundle(fleet.a, path, HUB)
    before = _state(fleet.hub)
    checked = import_bundle(fleet.hub, path, dry_run=True)
    assert (checked.blobs, checked.new) == (1, 2)
    assert _state(fleet.hub) == before
    assert not (fleet.hub.data_dir / blobs.FOLDER).exists() and _blob_files(fleet.hub) == {}


def test_a_blob_no_record_names_is_checked_and_not_kept(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    photo, stray = _photo(7), _photo(8)
    _attach(fleet.a, owner, photo)
    path = _attachment_bundle(
        fleet,
        [
            Blob(hashlib.sha256(photo).hexdigest(), len(photo), [photo]),
            Blob(hashlib.sha256(stray).hexdigest(), len(stray), [stray]),
        ],
    )
    taken = import_bundle(fleet.hub, path)
    assert (taken.blobs, taken.ignored_blobs) == (1, 1)
    assert holds(fleet.hub, hashlib.sha256(photo).hexdigest())
    assert not holds(fleet.hub, hashlib.sha256(stray).hexdigest())
    assert list(_blob_files(fleet.hub)) == list(_blob_files(fleet.a))


def test_a_deleted_attachment_whose_bytes_are_gone_still_syncs(fleet: Fleet) -> None:
    """The sender deleted an attachment and removed its bytes (as `prune` does): its export
    says it did not send them, and the import takes the record's history without them (no live
    version of it needs them)."""
    owner = _activity(fleet.a)
    photo = _photo(9)
    gone = _attach(fleet.a, owner, photo)
    records.ATTACHMENTS.delete(fleet.a, gone)
    lose(fleet.a, hashlib.sha256(photo).hexdigest())
    sent, taken = _sync(fleet, fleet.a, fleet.hub)
    assert (sent.blobs, sent.missing_blobs) == (0, 0)  # a deleted record needs none
    assert taken.new >= 2 and _blob_files(fleet.hub) == {}
    # A live record whose bytes are gone: not sent, said so, and the recipient refuses it.
    lost = _photo(10)
    _attach(fleet.a, owner, lost)
    lose(fleet.a, hashlib.sha256(lost).hexdigest())
    path = fleet.path()
    sent = export_bundle(fleet.a, path, HUB)
    assert (sent.blobs, sent.missing_blobs) == (0, 1)
    with pytest.raises(BundleError) as refused:
        import_bundle(fleet.hub, path)
    assert refused.value.code == "bundle.blob_missing"


def test_the_export_command_says_what_it_sent(fleet: Fleet, cli: Cli) -> None:
    owner = _activity(fleet.a)
    _attach(fleet.a, owner, _photo(11, 1000))
    out = fleet.path()
    result = cli("--lang", "en", "--data-dir", str(fleet.a.data_dir), "export", "--to", str(out),
                 "--recipient", HUB)  # fmt: skip
    assert result.code == 0, result.err
    assert "attachments: 1 sent, 1000 bytes" in result.out
    result = cli("--lang", "en", "--data-dir", str(fleet.hub.data_dir), "import", str(out))
    assert result.code == 0, result.err
    assert "attachments 1" in result.out


# -- split exports ----------------------------------------------------------------------------------


def _split_fleet(fleet: Fleet) -> list[bytes]:
    """Laptop a with two activities and nine photos of 300 KB over them (one of them twice)."""
    owners = [_activity(fleet.a, "第1回"), _activity(fleet.a, "第2回")]
    photos = [_photo(20 + n, 300_000) for n in range(8)]
    for n, photo in enumerate(photos):
        _attach(fleet.a, owners[n % 2], photo, f"p{n}.jpg")
    _attach(fleet.a, owners[1], photos[0], "again.jpg")
    return photos


def test_a_split_export_imported_in_reverse_order_is_the_same_store(fleet: Fleet, cli: Cli) -> None:
    _split_fleet(fleet)
    whole = fleet.path("whole")
    export_bundle(fleet.a, whole, HUB, full=True)
    out = fleet.folder / "split.dxb"
    result = cli("--lang", "en", "--data-dir", str(fleet.a.data_dir), "export", "--to", str(out),
                 "--recipient", HUB, "--max-size", "1M", "--full", "--json")  # fmt: skip
    assert result.code == 0, result.err
    sent = json.loads(result.out)
    parts = [Path(p) for p in sent["parts"]]
    assert len(parts) >= 3, sent
    assert [p.name for p in parts] == [f"split-{n}-of-{len(parts)}.dxb" for n in
                                       range(1, len(parts) + 1)]  # fmt: skip
    assert all(p.stat().st_size <= 1 << 20 for p in parts)
    assert sent["oversized"] == 0 and sent["blobs"] >= 8
    assert not [p for p in fleet.folder.iterdir() if p.name.startswith(".")]

    # The hub takes the parts last first; laptop b, which never held any, one bundle whole
    # (through the hub: the hub's full bundle to it).
    for part in reversed(parts):
        import_bundle(fleet.hub, part)
    reference = fleet.b
    import_bundle(fleet.hub, whole)  # changes nothing more
    _sync(fleet, fleet.hub, reference, full=True)
    assert maintenance.dump(fleet.hub) == maintenance.dump(fleet.a) == maintenance.dump(reference)
    assert _blob_files(fleet.hub) == _blob_files(fleet.a) == _blob_files(reference)


def test_parts_in_any_order_skip_nothing_and_move_watermarks_forward(fleet: Fleet) -> None:
    _split_fleet(fleet)
    sent = export_bundle(fleet.a, fleet.folder / "s.dxb", HUB, max_size=1 << 20)
    parts = list(sent.parts)
    assert len(parts) >= 3
    order = [parts[1], parts[0], *parts[2:]]
    counts = []
    for part in order:
        counts.append(import_bundle(fleet.hub, part).blobs)
        # After each part, nothing the laptop sent goes back to it, bytes least of all.
        back = export_bundle(fleet.hub, fleet.path("back"), A)
        assert back.blobs == 0
    assert sum(counts) >= 8
    assert _blob_files(fleet.hub) == _blob_files(fleet.a)
    # The laptop's next export has nothing left for the hub.
    again = export_bundle(fleet.a, fleet.path(), HUB, max_size=1 << 20)
    assert (again.revisions, again.blobs, len(again.parts)) == (0, 0, 1)


def test_an_attachment_larger_than_max_size_goes_alone(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    _attach(fleet.a, owner, _photo(40, 100_000), "small.jpg")
    _attach(fleet.a, owner, _photo(41, 3 << 20), "large.jpg")
    _attach(fleet.a, owner, _photo(42, 100_000), "small2.jpg")
    sent = export_bundle(fleet.a, fleet.folder / "o.dxb", HUB, max_size=1 << 20)
    assert sent.oversized == 1 and len(sent.parts) in (2, 3)  # the small ones together or not
    for part in sent.parts:
        import_bundle(fleet.hub, part)
    assert _blob_files(fleet.hub) == _blob_files(fleet.a)


def test_max_size_lines(fleet: Fleet, cli: Cli) -> None:
    _activity(fleet.a)
    folder = str(fleet.a.data_dir)
    for size, words in (
        ("1K", "is too small: every part carries all the records"),
        ("lots", "cannot read 'lots' as a size"),
        ("9G", "larger than a bundle may be"),
    ):
        result = cli("--lang", "en", "--data-dir", folder, "export", "--to",
                     str(fleet.folder / "x.dxb"), "--recipient", HUB, "--max-size", size)  # fmt: skip
        assert result.code == 1, result.out
        assert len(result.err.splitlines()) == 1 and words in result.err, result.err
    assert not list(fleet.folder.glob("*.dxb"))


def test_sizes_are_said_as_everywhere_else(fleet: Fleet, cli: Cli) -> None:
    """One formatter (store.attachments.size_text) for the bundles' lines and the files'."""
    _activity(fleet.a)
    folder = str(fleet.a.data_dir)
    result = cli("--lang", "en", "--data-dir", folder, "export", "--to",
                 str(fleet.folder / "x.dxb"), "--recipient", HUB, "--max-size", "0.5K")  # fmt: skip
    assert result.code == 1 and "a largest part of 512 bytes is too small" in result.err, result.err
    result = cli("--lang", "en", "--data-dir", folder, "export", "--to",
                 str(fleet.folder / "x.dxb"), "--recipient", HUB, "--max-size", "9G")  # fmt: skip
    assert "a largest part of 9 GB is larger than a bundle may be; at most 3 GB" in result.err, (
        result.err
    )
    assert [size_text(n) for n in (812, 35_328, 50 << 20, 3 << 29, 1 << 30)] == [
        "812 bytes", "34.5 KB", "50 MB", "1.5 GB", "1 GB",
    ]  # fmt: skip


def test_sizes_read_as_people_write_them() -> None:
    assert parse_size("50M") == 50 << 20
    assert parse_size("1G") == 1 << 30
    assert parse_size("1.5g") == 3 << 29
    assert parse_size("700KB") == 700 << 10
    assert parse_size("2MiB") == 2 << 20
    assert parse_size("1048576") == 1 << 20
    for bad in ("", "0", "-1M", "1T", "M", "1 M B"):
        with pytest.raises(Exception):  # noqa: B017 - LocalizedError, one line
            parse_size(bad)


# -- caps and faults --------------------------------------------------------------------------------


def test_caps_per_bundle_have_clear_lines(
    fleet: Fleet, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = _activity(fleet.a)
    for n in range(3):
        _attach(fleet.a, owner, _photo(50 + n, 1000), f"{n}.jpg")
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BLOBS", 2)
    result = cli("--lang", "en", "--data-dir", str(fleet.a.data_dir), "export", "--to",
                 str(fleet.path()), "--recipient", HUB)  # fmt: skip
    assert result.code == 1 and len(result.err.splitlines()) == 1, result.err
    assert "its 3 attachments take 2.9 KB, more than one bundle holds" in result.err
    assert "split it into parts of a largest size (for example 1G)" in result.err
    # Split, each part within the cap.
    sent = export_bundle(fleet.a, fleet.folder / "capped.dxb", HUB, max_size=1 << 30)
    assert len(sent.parts) == 2
    # A bundle over the cap is refused by its reader.
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BLOBS", 3)
    full = fleet.path()
    export_bundle(fleet.a, full, HUB, full=True)
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BLOBS", 2)
    _refused(cli, fleet.hub, full, "it holds more than 2 attachments")
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BLOBS", 3)
    monkeypatch.setattr(bundle_module, "MAX_BUNDLE_BLOB_BYTES", 2500)
    _refused(cli, fleet.hub, full, "its attachments take more than 2.4 KB")


def test_a_full_disk_while_exporting_is_one_line_and_leaves_nothing(
    fleet: Fleet, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = _activity(fleet.a)
    for n in range(4):
        _attach(fleet.a, owner, _photo(60 + n, 400_000), f"{n}.jpg")
    real = bundle_module._blob_pieces
    seen = itertools.count()

    def filling(source: Any, sha256: str) -> Iterator[bytes]:
        if next(seen) == 2:  # the third attachment: in the second part of a split
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        yield from real(source, sha256)

    monkeypatch.setattr(bundle_module, "_blob_pieces", filling)
    out = fleet.folder / "out"
    out.mkdir()
    for extra in ([], ["--max-size", "1M"]):
        seen = itertools.count()
        result = cli("--lang", "en", "--data-dir", str(fleet.a.data_dir), "export", "--to",
                     str(out / "b.dxb"), "--recipient", HUB, *extra)  # fmt: skip
        assert result.code == 1, result.out
        assert len(result.err.splitlines()) == 1, result.err
        assert "No space left on device" in result.err and "nothing was written" in result.err
        assert list(out.iterdir()) == []
    # Nothing was sent: the next export still has everything.
    monkeypatch.setattr(bundle_module, "_blob_pieces", real)
    assert export_bundle(fleet.a, out / "b.dxb", HUB).blobs == 4


@pytest.mark.sqlite_only  # processes killed on the store's file
def test_an_import_killed_at_random_moments_leaves_no_half_blob(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    photos = [_photo(70 + n, 1 << 20) for n in range(16)]
    for n, photo in enumerate(photos):
        _attach(fleet.a, owner, photo, f"{n}.jpg")
    bundle = fleet.path()
    export_bundle(fleet.a, bundle, HUB)
    template = fleet.folder / "hub-template"
    fleet.hub.close()
    shutil.copytree(fleet.hub.data_dir, template)
    command = [sys.executable, "-m", "dxfield", "--data-dir"]
    began = time.perf_counter()
    whole = fleet.folder / "whole"
    shutil.copytree(template, whole)
    subprocess.run([*command, str(whole), "import", str(bundle)], check=True, capture_output=True)
    duration = time.perf_counter() - began
    rng = random.Random(19)
    outcomes = []
    for attempt in range(6):
        folder = fleet.folder / f"kill{attempt}"
        shutil.copytree(template, folder)
        process = subprocess.Popen(
            [*command, str(folder), "import", str(bundle)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.4, 1.1) * duration)
        process.kill()
        process.wait(timeout=60)
        kept = folder / blobs.FOLDER
        named = [p for p in kept.rglob("*") if p.is_file() and not p.name.startswith(".")]
        for path in named:  # a blob under its name is whole, whatever the moment
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, attempt
        leftovers = [p for p in kept.rglob(".*") if p.is_file()]
        assert all(p.name.endswith(".tmp") for p in leftovers), leftovers
        with Store.open(folder) as store:
            count = _attachments(store)
            assert maintenance.check(store).ok
        assert count in (0, len(photos)), (attempt, count)
        if count:
            assert len(named) == len(photos)
        outcomes.append(count)


def _attachments(store: Store) -> int:
    from sqlalchemy import func, select

    table = records.ATTACHMENTS.table
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


@pytest.mark.sqlite_only  # processes killed on the store's file
def test_an_export_killed_at_random_moments_leaves_no_half_bundle(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    for n in range(12):
        _attach(fleet.a, owner, _photo(90 + n, 1 << 20), f"{n}.jpg")
    fleet.a.close()
    out = fleet.folder / "out"
    out.mkdir()
    command = [sys.executable, "-m", "dxfield", "--data-dir", str(fleet.a.data_dir), "export",
               "--recipient", HUB, "--full", "--max-size", "4M", "--to"]  # fmt: skip
    began = time.perf_counter()
    subprocess.run([*command, str(out / "whole.dxb")], check=True, capture_output=True)
    duration = time.perf_counter() - began
    whole = sorted(p.name for p in out.iterdir())
    assert len(whole) >= 3 and all(name.startswith("whole-") for name in whole), whole
    rng = random.Random(23)
    for attempt in range(6):
        target = out / f"k{attempt}.dxb"
        process = subprocess.Popen(
            [*command, str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 1.1) * duration)
        process.kill()
        process.wait(timeout=60)
        parts = sorted(out.glob(f"k{attempt}-*.dxb"))
        # None of the parts under its name, or all of them, each whole.
        assert len(parts) in (0, len(whole)), (attempt, parts)
        for part in parts:
            assert import_bundle(fleet.hub, part, dry_run=True).revisions > 0


def test_bytes_pruned_while_a_bundle_is_checked_are_not_taken_for_kept(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B held a photo's bytes that nothing of its named (prune's to remove) when its import read
    them in the hub's bundle, which brings A's record naming them, and so did not stage them;
    a prune before the write removes them: the write, finding the record without its bytes,
    refuses the bundle rather than take the record (an import checks without the write lock,
    so a prune may run meanwhile)."""
    photo = _photo(7)
    _attach(fleet.a, _activity(fleet.a), photo)
    _sync(fleet, fleet.a, fleet.hub)
    keep(fleet.b, photo)
    path = fleet.path()
    export_bundle(fleet.hub, path, fleet.b.device.name)
    real = bundle_module._Import._finish

    def finished(self: bundle_module._Import, header: Any) -> None:
        real(self, header)
        assert maintenance.prune(fleet.b).orphans  # the photo's bytes, named by nothing yet

    monkeypatch.setattr(bundle_module._Import, "_finish", finished)
    if fleet.b.shared:  # a database's import stages every blob a bundle brings: they are kept
        assert import_bundle(fleet.b, path).blobs == 1
    else:
        before = maintenance.dump(fleet.b)
        with pytest.raises(BundleError) as refused:
            import_bundle(fleet.b, path)
        assert "the attachment's bytes" in str(refused.value)
        assert maintenance.dump(fleet.b) == before and maintenance.check(fleet.b).ok
        monkeypatch.undo()
        assert import_bundle(fleet.b, path).blobs == 1  # the same file again: the bytes come
    assert holds(fleet.b, hashlib.sha256(photo).hexdigest())
    assert maintenance.check(fleet.b).ok
