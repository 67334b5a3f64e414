"""Attachments through `dxfield import`, the command as a person runs it (a process of its own, a
real file): a bundle of 1 GiB of blobs (and the attachment records naming them) is taken in
bounded memory and each blob lands in the data folder under its hash; a bundle whose blob was
altered leaves neither a blob nor a temporary file.

Each import's peak memory is the import process's own maximum resident set, from `os.wait4` on
that child alone: not the writer's (this process), nor any other child's of the test session.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nacl.public import PublicKey

from dxfield import clock
from dxfield.store import blobs
from dxfield.store.engine import Store
from dxfield.sync import container
from dxfield.sync.keys import card_text, device_keys, own_card, parse_card, trust_card
from dxfield.sync.wire import MANIFEST_FORMAT

# About the data folder's files and one process's memory: the engine of the store plays no part
# (blobs are kept in the folder on either), and the child would need a hub database of its own.
pytestmark = pytest.mark.sqlite_only

MIB = 1 << 20
BLOBS = 21
BLOB_BYTES = 50 * MIB
"""The largest attachment there may be (`MAX_ATTACHMENT_BYTES`): 21 of them, just over 1 GiB."""
PEAK_LIMIT = 200 * MIB
TIMEOUT = 900.0
"""Seconds an import may take before the test gives up on it (it takes well under a minute)."""


@dataclass(frozen=True)
class Pair:
    """A sender and a receiver that trust each other's cards; both stores closed."""

    sender: Path
    receiver: Path
    sender_id: str
    receiver_id: str


@dataclass(frozen=True)
class Ran:
    """One `dxfield import` process: its exit code, what it printed, its peak memory."""

    code: int
    out: str
    err: str
    peak: int
    """Bytes: the process's maximum resident set size."""


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    with (
        Store.open(tmp_path / "sender", device_name="sender") as sender,
        Store.open(tmp_path / "receiver", device_name="receiver") as receiver,
    ):
        trust_card(sender, parse_card(card_text(own_card(receiver))))
        trust_card(receiver, parse_card(card_text(own_card(sender))))
        return Pair(sender.data_dir, receiver.data_dir, sender.device.id, receiver.device.id)


def _manifest(pair: Pair, count: int, revisions: int = 0) -> container.Manifest:
    return container.Manifest(
        {
            "format": MANIFEST_FORMAT,
            "version": container.FORMAT_VERSION,
            "sender": pair.sender_id,
            "recipient": pair.receiver_id,
            "created_at": clock.now().isoformat(timespec="seconds"),
            "full": False,
            "revisions": revisions,
            "blobs": count,
        }
    )


def _write(pair: Pair, out: Path, plain: Iterator[bytes]) -> None:
    """A bundle of `plain` from the sender to the receiver, signed with the sender's real key and
    encrypted to the receiver's, as `dxfield export` writes one."""
    with Store.open(pair.sender) as sender, Store.open(pair.receiver) as receiver:
        signing = device_keys(sender).signing
        encryption = PublicKey(base64.b64decode(own_card(receiver).encryption_key))
        data_dir = sender.data_dir
    container.write_stream(
        out, signing, pair.sender_id, pair.receiver_id, encryption, plain, data_dir=data_dir
    )


_MEASURED = """
import os, sys
import subprocess
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command and writes its peak memory (ru_maxrss) to a file. Linux counts in a child's
peak the memory of the process it was forked from: the test process, large by the end of the
suite, would be measured too; this small launcher is the one the command is forked from."""


def _import(folder: Path, bundle: Path, logs: Path) -> Ran:
    """`dxfield --data-dir FOLDER import BUNDLE --json` as a process, with its own peak memory
    (see `_MEASURED`)."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path, peak_path = logs / "out.txt", logs / "err.txt", logs / "peak.txt"
    command = [sys.executable, "-m", "dxfield", "--data-dir", str(folder), "import", str(bundle)]
    launcher = [sys.executable, "-c", _MEASURED, str(peak_path)]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [*launcher, *command, "--json"], stdout=out, stderr=err, start_new_session=True
        )
        try:
            process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the launcher and the import
            process.wait()
            pytest.fail(f"dxfield import took more than {TIMEOUT} s")
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return Ran(
        process.returncode,
        out_path.read_text("utf-8"),
        err_path.read_text("utf-8"),
        int(peak_path.read_text("utf-8")) * unit,
    )


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir())


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(4 * MIB):
            digest.update(piece)
    return digest.hexdigest()


def _pieces(seed: bytes, size: int) -> Iterator[bytes]:
    """`size` bytes (a whole number of MiB) of random data: the MiB `seed` (os.urandom), each
    MiB made different by its number in its first 8 bytes. Cheap to make twice (to hash, then
    to write), and as incompressible as the seed."""
    block = bytearray(seed)
    for n in range(size // MIB):
        block[:8] = n.to_bytes(8, "big")
        yield bytes(block)


def _attachment_records(pair: Pair, hashes: list[str]) -> list[dict[str, object]]:
    """An activity on the sender with one attachment record per hash (each BLOB_BYTES), as
    the sender's bundles carry them (signed)."""
    from dxfield.store import records
    from dxfield.store.activities import ActivityInput, add_activity
    from tests.sync.corpus import outgoing_revisions

    with Store.open(pair.sender) as sender:
        owner = add_activity(
            sender,
            ActivityInput(title="写真", kind="workshop", date="2024-07-17", municipality="豊岡市"),
        ).id
        for n, sha256 in enumerate(hashes):
            records.ATTACHMENTS.create(
                sender,
                {
                    "owner_type": "activity",
                    "owner_id": owner,
                    "file_name": f"IMG_{n:04d}.jpg",
                    "media_type": "image/jpeg",
                    "size": BLOB_BYTES,
                    "sha256": sha256,
                },
            )
        return outgoing_revisions(sender)


def _chunks(bundle: Path) -> int:
    """How many chunks the bundle's header says it has."""
    with bundle.open("rb") as handle:
        handle.readline()  # the magic line
        return int(json.loads(handle.readline())["chunks"])


def _flip(path: Path, at: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.slow
def test_a_gibibyte_of_attachments_is_imported_by_the_cli_in_bounded_memory(
    pair: Pair, tmp_path: Path
) -> None:
    seeds = [os.urandom(MIB) for _ in range(BLOBS)]
    hashes = []
    for seed in seeds:
        digest = hashlib.sha256()
        for piece in _pieces(seed, BLOB_BYTES):
            digest.update(piece)
        hashes.append(digest.hexdigest())
    # The records that name them, on the sender, signed as its bundles carry them: a blob no
    # record names is not kept (docs/bundle-format.md §4).
    lines = _attachment_records(pair, hashes)
    members: list[container.Member] = [
        _manifest(pair, BLOBS, len(lines)),
        container.Revisions(lines),
    ]
    members += [
        container.Blob(h, BLOB_BYTES, _pieces(seed, BLOB_BYTES))
        for h, seed in zip(hashes, seeds, strict=True)
    ]
    bundle = tmp_path / "attachments.dxb"
    kept = pair.receiver / blobs.FOLDER
    try:
        _write(pair, bundle, container.member_stream(members))
        size = bundle.stat().st_size
        assert size > BLOBS * BLOB_BYTES

        # Altered in its last chunk (the end of the last blob): refused after three blobs and
        # nearly all of the fourth were written to temporary files; none of them is left.
        _flip(bundle, size - 16)
        refused = _import(pair.receiver, bundle, tmp_path / "refused")
        assert refused.code != 0, refused.out
        assert f"chunk {_chunks(bundle)} does not match its hash" in refused.err, refused.err
        assert not kept.exists() or _files_under(kept) == []
        assert refused.peak < PEAK_LIMIT, f"{refused.peak / MIB:.0f} MiB"

        # The same file as it was written: every blob kept under its hash, in bounded memory.
        _flip(bundle, size - 16)
        taken = _import(pair.receiver, bundle, tmp_path / "taken")
        assert taken.code == 0, taken.err
        (result,) = json.loads(taken.out)
        assert (result["blobs"], result["revisions"]) == (BLOBS, len(lines)), result
        assert taken.peak < PEAK_LIMIT, f"{taken.peak / MIB:.0f} MiB"
        expected = sorted(blobs.blob_path(pair.receiver, h) for h in hashes)
        assert _files_under(kept) == expected  # and no temporary file beside them
        for h in hashes:
            path = blobs.blob_path(pair.receiver, h)
            assert path.parent.name == h[:2]
            assert path.stat().st_size == BLOB_BYTES
            assert _sha256_of(path) == h
        print(f"import of {BLOBS} x {BLOB_BYTES // MIB} MiB: peak {taken.peak / MIB:.0f} MiB "
              f"(refused one: {refused.peak / MIB:.0f} MiB)")  # fmt: skip
    finally:
        # A gibibyte in the bundle and another in the data folder: not left for pytest's
        # kept temporary folders.
        bundle.unlink(missing_ok=True)
        shutil.rmtree(kept, ignore_errors=True)


def test_a_blob_that_is_not_what_its_hash_says_leaves_nothing(pair: Pair, tmp_path: Path) -> None:
    """A bundle signed by its sender, every chunk intact, whose second blob's bytes are not
    those its hash names (a hostile or broken sender): the whole bundle is refused when that blob
    ends, and neither blob, nor any temporary file, is left in the data folder."""
    good = os.urandom(3 * MIB + 5)
    claimed = os.urandom(2 * MIB + 7)
    sent = bytearray(claimed)
    sent[-1] ^= 0x01

    def plain() -> Iterator[bytes]:
        yield from container.member_stream(
            [
                _manifest(pair, 2),
                container.Blob(hashlib.sha256(good).hexdigest(), len(good), [good]),
            ]
        )
        line = {"member": "blob", "sha256": hashlib.sha256(claimed).hexdigest(), "size": len(sent)}
        yield json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        yield bytes(sent)

    bundle = tmp_path / "altered.dxb"
    _write(pair, bundle, plain())
    ran = _import(pair.receiver, bundle, tmp_path / "logs")
    assert ran.code != 0, ran.out
    expected = f"the attachment {hashlib.sha256(claimed).hexdigest()} does not match its hash"
    assert expected in ran.err, ran.err
    kept = pair.receiver / blobs.FOLDER
    assert not kept.exists() or _files_under(kept) == []
    assert not blobs.has_blob(pair.receiver, hashlib.sha256(good).hexdigest())
