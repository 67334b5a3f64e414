"""Bundle format 2's container: what it writes reads back the same, in bounded memory, and every
damaged or hostile file (each made by editing a real one) is refused with its own code before
anything of it can be kept."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey

from dxfield.domain.errors import LocalizedError
from dxfield.sync import container, container_base, container_write
from dxfield.sync.bundle import BundleError
from dxfield.sync.container import (
    Blob,
    ContainerReader,
    Manifest,
    Member,
    Revisions,
    Roster,
    read_container,
    write_container,
    write_stream,
)

pytestmark = pytest.mark.sqlite_only  # no store is opened: once is enough

SENDER = "0190a1b2-0000-7000-8000-000000000001"
RECIPIENT = "0190a1b2-0000-7000-8000-000000000002"
SMALL = 256
"""A chunk size that makes small members span chunks."""


@dataclass
class Keys:
    signing: SigningKey
    recipient: PrivateKey

    def lookup(self, device_id: str, sender_keys: object = None) -> VerifyKey | None:
        return self.signing.verify_key if device_id == SENDER else None


@pytest.fixture
def keys() -> Keys:
    return Keys(SigningKey.generate(), PrivateKey.generate())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob(data: bytes, piece: int = 100) -> Blob:
    return Blob(_sha(data), len(data), [data[i : i + piece] for i in range(0, len(data), piece)])


REVISION = {
    "rev_id": "1-0123456789abcdef0123456789abcdef",
    "entity": "activity",
    "data": {"title": "奥矢根区 意見交換会", "notes": "ワークショップ\n" * 40},
}
BLOB_BYTES = bytes(range(256)) * 7 + b"tail"


def _members() -> list[Member]:
    return [
        Manifest({"created_at": "2026-12-02T10:00:00+00:00", "full": True, "revisions": 3}),
        Roster({"format": "dxfield-roster", "serial": 7, "devices": []}),
        Revisions([REVISION, json.dumps({"rev_id": "x", "n": 2}), {"rev_id": "y"}]),
        _blob(BLOB_BYTES),
        _blob(b""),
        Revisions([]),
        Manifest({"after": "a blob"}),
    ]


def _write(
    keys: Keys,
    path: Path,
    members: list[Member] | None = None,
    *,
    encrypt: bool = True,
    chunk_bytes: int = SMALL,
) -> container.Written:
    return write_container(
        path,
        keys.signing,
        SENDER,
        RECIPIENT,
        keys.recipient.public_key if encrypt else None,
        _members() if members is None else members,
        chunk_bytes=chunk_bytes,
    )


def _read(keys: Keys, path: Path, device_id: str = RECIPIENT) -> list[Any]:
    """Every member, a blob as (sha256, size, its bytes)."""
    found: list[Any] = []
    for member in read_container(path, keys.lookup, device_id, keys.recipient):
        if isinstance(member, Blob):
            found.append((member.sha256, member.size, b"".join(member.pieces)))
        else:
            found.append(member)
    return found


def _expected() -> list[Any]:
    return [
        Manifest({"created_at": "2026-12-02T10:00:00+00:00", "full": True, "revisions": 3}),
        Roster({"format": "dxfield-roster", "serial": 7, "devices": []}),
        Revisions([REVISION, {"rev_id": "x", "n": 2}, {"rev_id": "y"}]),
        (_sha(BLOB_BYTES), len(BLOB_BYTES), BLOB_BYTES),
        (_sha(b""), 0, b""),
        Revisions([]),
        Manifest({"after": "a blob"}),
    ]


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encrypt", [True, False], ids=["encrypted", "plain"])
def test_every_kind_of_member_reads_back_the_same(
    keys: Keys, tmp_path: Path, encrypt: bool
) -> None:
    path = tmp_path / "b.dxb"
    written = _write(keys, path, encrypt=encrypt)
    assert written.chunks > 10  # the blob and the long revision span chunks
    assert written.bytes == path.stat().st_size
    # The bundle's name in the log: the hash of its signed head (the magic line, the header
    # line naming every chunk's hash, the 64-byte signature), the same on both sides.
    data = path.read_bytes()
    header_end = data.index(b"\n", data.index(b"\n") + 1) + 1
    assert written.head_sha256 == _sha(data[: header_end + 64])
    assert _read(keys, path) == _expected()
    with ContainerReader(path, keys.lookup, RECIPIENT, keys.recipient) as bundle:
        assert bundle.head_sha256 == written.head_sha256
        assert bundle.sender == SENDER
        assert bundle.header.encrypted is encrypt
        assert bundle.header.chunks == written.chunks


def test_the_file_is_laid_out_as_specified(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    written = _write(keys, path)
    parsed = _parse(path.read_bytes())
    assert parsed.magic == b"DXFIELD-BUNDLE 2\n"
    header = json.loads(parsed.header)
    assert set(header) == {
        "format",
        "version",
        "sender",
        "recipient",
        "encrypted",
        "compression",
        "stream_key",
        "stream_header",
        "chunk_bytes",
        "chunks",
        "chunk_sha256",
    }
    assert (header["sender"], header["recipient"], header["version"]) == (SENDER, RECIPIENT, 2)
    assert header["chunks"] == len(parsed.chunks) == written.chunks
    assert header["chunk_sha256"] == [_sha(chunk) for chunk in parsed.chunks]
    keys.signing.verify_key.verify(parsed.magic + parsed.header, parsed.signature)
    # Nothing readable: the text is sealed, not merely compressed.
    assert "奥矢根".encode() not in path.read_bytes()


def test_the_output_is_owner_only_and_no_temporary_file_is_left(keys: Keys, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "b.dxb"
    path.write_bytes(b"an older bundle")
    _write(keys, path)
    assert os.listdir(folder) == ["b.dxb"]
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("encrypt", [True, False], ids=["encrypted", "plain"])
def test_an_empty_bundle_is_one_final_chunk_and_no_member(
    keys: Keys, tmp_path: Path, encrypt: bool
) -> None:
    path = tmp_path / "empty.dxb"
    assert _write(keys, path, [], encrypt=encrypt).chunks == 1
    assert _read(keys, path) == []


def test_a_blob_left_unread_is_skipped_and_still_checked(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    data = os.urandom(5000)
    _write(keys, path, [_blob(data), Manifest({"n": 1})])
    kinds = [
        type(member).__name__
        for member in read_container(path, keys.lookup, RECIPIENT, keys.recipient)
    ]
    assert kinds == ["Blob", "Manifest"]


def test_a_blob_can_be_copied_into_a_sink(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    data = os.urandom(3 * container.CHUNK_BYTES + 17)  # incompressible: its chunks are stored
    _write(keys, path, [_blob(data, 1 << 20), Manifest({})], chunk_bytes=container.CHUNK_BYTES)
    sink = tmp_path / "blob"
    with sink.open("wb") as out:
        for member in read_container(path, keys.lookup, RECIPIENT, keys.recipient):
            if isinstance(member, Blob):
                member.copy_to(out)
    assert sink.read_bytes() == data


# -- what the writer refuses ---------------------------------------------------------------------


def test_a_blob_whose_bytes_are_not_its_hash_is_not_written(keys: Keys, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    changed = Blob(_sha(b"what it was"), 11, [b"what it is!"])
    with pytest.raises(BundleError) as caught:
        _write(keys, folder / "b.dxb", [Manifest({}), changed])
    assert caught.value.code == "bundle.blob_changed"
    assert os.listdir(folder) == []  # neither the bundle nor a temporary file


def test_a_file_in_the_data_folder_is_never_written_over(
    keys: Keys, tmp_path: Path, data_dir: Path
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    precious = data_dir / "notes.txt"
    precious.write_bytes(b"kept")
    with pytest.raises(LocalizedError) as caught:
        _write(keys, precious)
    assert caught.value.code == "file.in_data_folder"
    assert precious.read_bytes() == b"kept"
    assert os.listdir(data_dir) == ["notes.txt"]


# -- editing real files --------------------------------------------------------------------------


@dataclass
class Parsed:
    magic: bytes
    header: bytes  # with its newline
    signature: bytes
    chunks: list[bytes]  # without their length

    def bytes(self, chunks: list[bytes] | None = None) -> bytes:
        body = b"".join(
            len(chunk).to_bytes(4, "big") + chunk
            for chunk in (self.chunks if chunks is None else chunks)
        )
        return self.magic + self.header + self.signature + body


def _parse(data: bytes) -> Parsed:
    magic_end = data.index(b"\n") + 1
    header_end = data.index(b"\n", magic_end) + 1
    at = header_end + 64
    chunks = []
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        chunks.append(data[at + 4 : at + 4 + length])
        at += 4 + length
    signature = data[header_end : header_end + 64]
    return Parsed(data[:magic_end], data[magic_end:header_end], signature, chunks)


def _resigned(parsed: Parsed, key: SigningKey, **changes: Any) -> Parsed:
    """The same file with its header changed and signed again by `key` (a hostile sender)."""
    header = {**json.loads(parsed.header), **changes}
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    return Parsed(parsed.magic, line, key.sign(parsed.magic + line).signature, parsed.chunks)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


Edit = Callable[[Parsed, Keys], bytes]


def _swap_1_2(p: Parsed, k: Keys) -> bytes:
    return p.bytes([p.chunks[1], p.chunks[0], *p.chunks[2:]])


def _swapped_and_resigned(p: Parsed, k: Keys) -> bytes:
    """A hostile sender's reorder: the manifest follows, only secretstream's state can tell."""
    chunks = [p.chunks[1], p.chunks[0], *p.chunks[2:]]
    return _resigned(p, k.signing, chunk_sha256=[_sha(c) for c in chunks]).bytes(chunks)


def _bomb_header(p: Parsed, k: Keys) -> bytes:
    return _resigned(p, k.signing, chunk_bytes=64 << 10).bytes()


def _other_signer(p: Parsed, k: Keys) -> bytes:
    return _resigned(p, SigningKey.generate()).bytes()


# (id, how the real file is edited, the code, refused before any member is read)
EDITS: list[tuple[str, Edit, str, bool]] = [
    ("not-a-bundle", lambda p, k: b"PK\x03\x04 a zip file", "bundle.not_a_bundle", True),
    ("empty-file", lambda p, k: b"", "bundle.not_a_bundle", True),
    ("newer-version", lambda p, k: b"DXFIELD-BUNDLE 3\n" + p.bytes()[17:], "bundle.newer_format", True),
    ("version-1", lambda p, k: b"DXFIELD-BUNDLE 1\n" + p.bytes()[17:], "bundle.wrong_version", True),
    ("no-version", lambda p, k: b"DXFIELD-BUNDLE x\n", "bundle.unreadable_version", True),
    ("header-cut", lambda p, k: p.magic + p.header[: len(p.header) // 2], "bundle.truncated", True),
    ("signature-cut", lambda p, k: p.magic + p.header + p.signature[:30], "bundle.truncated", True),
    ("header-not-json", lambda p, k: p.magic + b"{oops\n" + p.signature, "bundle.corrupt_header", True),
    ("header-flipped", lambda p, k: _flip(p.bytes(), len(p.magic) + 30), "bundle.bad_signature", True),
    ("signature-flipped", lambda p, k: _flip(p.bytes(), len(p.magic) + len(p.header) + 5), "bundle.bad_signature", True),
    ("resigned-by-another-key", _other_signer, "bundle.bad_signature", True),
    ("chunk-2-flipped", lambda p, k: p.bytes([p.chunks[0], _flip(p.chunks[1], 20), *p.chunks[2:]]), "bundle.chunk_tampered", False),
    ("chunks-1-2-swapped", _swap_1_2, "bundle.chunks_reordered", False),
    ("swapped-and-resigned", _swapped_and_resigned, "bundle.chunk_undecryptable", False),
    ("cut-after-chunk-1", lambda p, k: p.bytes(p.chunks[:1]), "bundle.chunks_missing", True),
    ("cut-inside-chunk-2", lambda p, k: p.bytes(p.chunks[:2])[:-10], "bundle.chunk_cut", True),
    ("cut-inside-a-length", lambda p, k: p.bytes(p.chunks[:2]) + b"\x00\x00", "bundle.chunk_cut", True),
    ("last-chunk-appended-again", lambda p, k: p.bytes([*p.chunks, p.chunks[-1]]), "bundle.trailing_data", True),
    ("bytes-appended", lambda p, k: p.bytes() + b"\n", "bundle.trailing_data", True),
    ("chunk-over-the-cap", lambda p, k: p.bytes()[: -len(p.chunks[-1]) - 4] + b"\xff\xff\xff\xff" + p.chunks[-1], "bundle.chunk_too_large", True),
    ("zlib-bomb", _bomb_header, "bundle.chunk_inflates", False),
    ("unknown-compression", lambda p, k: _resigned(p, k.signing, compression="lzma").bytes(), "bundle.unknown_compression", True),
    ("too-many-chunks", lambda p, k: _resigned(p, k.signing, chunks=10**9).bytes(), "bundle.bad_header", True),
    ("hashes-not-the-count", lambda p, k: _resigned(p, k.signing, chunks=len(p.chunks) - 1).bytes(), "bundle.bad_header", True),
    ("sealed-key-damaged", lambda p, k: _resigned(p, k.signing, stream_key="AAAA").bytes(), "bundle.cannot_decrypt", True),
    ("other-recipient", lambda p, k: _resigned(p, k.signing, recipient=SENDER).bytes(), "bundle.other_recipient", True),
    ("unknown-sender", lambda p, k: _resigned(p, k.signing, sender="stranger").bytes(), "bundle.untrusted_sender", True),
]  # fmt: skip


def _bomb_file(keys: Keys, path: Path) -> None:
    """A real file whose one chunk inflates to a MiB (zeros), to be announced as 64 KiB chunks."""
    write_stream(
        path,
        keys.signing,
        SENDER,
        RECIPIENT,
        keys.recipient.public_key,
        [b'{"member":"blob","sha256":"' + b"0" * 64 + b'","size":1000000}\n' + bytes(1000000)],
        chunk_bytes=container.CHUNK_BYTES,
    )


@pytest.mark.parametrize(("name", "edit", "code", "early"), EDITS, ids=[edit[0] for edit in EDITS])
def test_a_damaged_or_hostile_file_is_refused_with_its_own_code(
    keys: Keys, tmp_path: Path, name: str, edit: Edit, code: str, early: bool
) -> None:
    path = tmp_path / "b.dxb"
    if name == "zlib-bomb":
        _bomb_file(keys, path)
    else:
        _write(keys, path)
    original = _parse(path.read_bytes())
    assert len(original.chunks) >= (1 if name == "zlib-bomb" else 3)
    path.write_bytes(edit(original, keys))
    before = sorted(os.listdir(tmp_path)), path.read_bytes()
    members: list[Any] = []
    with pytest.raises(BundleError) as caught:
        for member in read_container(path, keys.lookup, RECIPIENT, keys.recipient):
            members.append(member)
            if isinstance(member, Blob):
                b"".join(member.pieces)
    error = caught.value
    assert error.code == code, error.message()
    message = error.message("en")
    assert message.startswith("bundle refused: ") and "\n" not in message
    assert "\n" not in error.message("ja") and error.message("ja") != message
    if early:
        assert members == []
    # The reader writes nothing, and leaves the file as it was.
    assert (sorted(os.listdir(tmp_path)), path.read_bytes()) == before


def test_a_refusal_of_the_lookup_is_said_as_it_is(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    _write(keys, path)

    def revoked(device_id: str, sender_keys: object = None) -> VerifyKey:
        raise BundleError("bundle.revoked_sender", device="'豊岡リエゾン'")

    with pytest.raises(BundleError) as caught:
        ContainerReader(path, revoked, RECIPIENT, keys.recipient)
    assert caught.value.code == "bundle.revoked_sender"


def test_another_device_cannot_open_it(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    _write(keys, path)
    with pytest.raises(BundleError) as caught:
        ContainerReader(path, keys.lookup, RECIPIENT, PrivateKey.generate())
    assert caught.value.code == "bundle.cannot_decrypt"
    with pytest.raises(BundleError) as caught:
        ContainerReader(path, keys.lookup, RECIPIENT, None)
    assert caught.value.code == "bundle.cannot_decrypt"
    with pytest.raises(BundleError) as caught:  # this device is not the recipient
        ContainerReader(path, keys.lookup, SENDER, keys.recipient)
    assert caught.value.code == "bundle.other_recipient"


def test_a_folder_or_a_missing_file_is_one_line(keys: Keys, tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.dxb"):
        with pytest.raises(BundleError) as caught:
            ContainerReader(path, keys.lookup, RECIPIENT, keys.recipient)
        assert caught.value.code == "bundle.unreadable_file"


def test_a_last_chunk_without_the_final_tag_is_refused(
    keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "b.dxb"
    with monkeypatch.context() as patched:
        patched.setattr(container_write, "_TAG_FINAL", container_base._TAG_MESSAGE)
        _write(keys, path)
    with pytest.raises(BundleError) as caught:
        _read(keys, path)
    assert caught.value.code == "bundle.stream_end"


# -- a hostile sender's plain text ---------------------------------------------------------------


def _stream_file(keys: Keys, path: Path, *pieces: bytes, encrypt: bool = True) -> None:
    write_stream(
        path,
        keys.signing,
        SENDER,
        RECIPIENT,
        keys.recipient.public_key if encrypt else None,
        list(pieces),
        chunk_bytes=SMALL,
    )


def _blob_line(sha256: str, size: int) -> bytes:
    return json.dumps({"member": "blob", "sha256": sha256, "size": size}).encode() + b"\n"


SPAN = os.urandom(1000)
STREAMS: list[tuple[str, list[bytes], str]] = [
    ("blob-not-its-hash", [_blob_line(_sha(b"other"), len(SPAN)), SPAN], "bundle.blob_mismatch"),
    ("empty-blob-not-its-hash", [_blob_line("0" * 64, 0)], "bundle.blob_mismatch"),
    ("blob-longer-than-the-text", [_blob_line(_sha(SPAN), 2000), SPAN], "bundle.member_cut"),
    ("blob-bad-hash", [_blob_line("XYZ", 1), b"x"], "bundle.bad_member"),
    ("blob-bad-size", [_blob_line("0" * 64, -1)], "bundle.bad_member"),
    ("member-not-json", [b'{"member": "manifest"\n'], "bundle.member_not_json"),
    ("member-not-utf8", [b'{"member": "\xff"}\n'], "bundle.member_not_json"),
    ("member-not-an-object", [b'["manifest"]\n'], "bundle.bad_member"),
    ("member-unknown", [b'{"member": "plugin", "code": "..."}\n'], "bundle.unknown_member"),
    ("member-extra-key", [b'{"member": "revisions", "count": 0, "path": "../x"}\n'], "bundle.bad_member"),
    ("member-line-unended", [b'{"member": "manifest"}'], "bundle.member_cut"),
    ("member-line-too-long", [b'{"member": "manifest", "x": "' + b"a" * (9 << 20)], "bundle.line_too_long"),
    ("revisions-fewer-than-said", [b'{"member": "revisions", "count": 2}\n{}\n'], "bundle.member_cut"),
    ("revisions-too-many", [b'{"member": "revisions", "count": 5000001}\n'], "bundle.bad_member"),
    ("revision-not-json", [b'{"member": "revisions", "count": 2}\n{}\n{nope\n'], "bundle.revision_not_json"),
    ("revision-too-deep", [b'{"member": "revisions", "count": 1}\n' + b"[" * 100000 + b"]" * 100000 + b"\n"], "bundle.revision_too_deep"),
    ("roster-not-json", [b'{"member": "roster"}\nroster\n'], "bundle.roster_not_json"),
    ("roster-not-an-object", [b'{"member": "roster"}\n[1]\n'], "bundle.roster_not_json"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "pieces", "code"), STREAMS, ids=[s[0] for s in STREAMS])
def test_a_hostile_senders_members_are_refused_with_their_own_code(
    keys: Keys, tmp_path: Path, name: str, pieces: list[bytes], code: str
) -> None:
    path = tmp_path / "b.dxb"
    _stream_file(keys, path, b'{"member": "manifest", "full": false}\n', *pieces)
    with pytest.raises(BundleError) as caught:
        _read(keys, path)
    assert caught.value.code == code, caught.value.message()
    assert "\n" not in caught.value.message("en")


def test_the_last_piece_of_a_bad_blob_is_never_given(keys: Keys, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    _stream_file(keys, path, _blob_line(_sha(b"other"), len(SPAN)), SPAN)
    got = bytearray()
    with pytest.raises(BundleError):
        for member in read_container(path, keys.lookup, RECIPIENT, keys.recipient):
            assert isinstance(member, Blob)
            for piece in member.pieces:
                got += piece
    assert 0 < len(got) < len(SPAN)


# -- memory --------------------------------------------------------------------------------------

BIG = 256 << 20


def _big_pieces(seed: bytes) -> Iterator[bytes]:
    """256 MiB that zlib cannot shrink (a random MiB, with its first bytes changed each time),
    made as it is written, never held whole; the same every time for one `seed`."""
    block = bytearray(seed)
    for n in range(BIG >> 20):
        block[:8] = n.to_bytes(8, "big")
        yield bytes(block)


@pytest.mark.slow
def test_a_256_mib_blob_goes_through_in_bounded_memory(keys: Keys, tmp_path: Path) -> None:
    """Peak memory (tracemalloc: every buffer Python, PyNaCl and zlib hand back) while writing and
    reading a bundle with a 256 MiB attachment stays under 100 MiB; a copy of the blob would not."""
    seed = os.urandom(1 << 20)
    digest = hashlib.sha256()
    for piece in _big_pieces(seed):
        digest.update(piece)
    path = tmp_path / "big.dxb"
    blob = Blob(digest.hexdigest(), BIG, _big_pieces(seed))
    started = time.perf_counter()
    tracemalloc.start()
    try:
        written = _write(
            keys,
            path,
            [Manifest({"blobs": 1}), blob, Manifest({})],
            chunk_bytes=container.CHUNK_BYTES,
        )
        _, writing_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read = hashlib.sha256()
        size = 0
        kinds = []
        for member in read_container(path, keys.lookup, RECIPIENT, keys.recipient):
            kinds.append(type(member).__name__)
            if isinstance(member, Blob):
                for piece in member.pieces:
                    read.update(piece)
                    size += len(piece)
        _, reading_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kinds == ["Manifest", "Blob", "Manifest"]
    assert (size, read.hexdigest()) == (BIG, digest.hexdigest())
    assert written.chunks == 257 and written.bytes > BIG
    assert writing_peak < 100 << 20, writing_peak
    assert reading_peak < 100 << 20, reading_peak
    print(f"256 MiB: {time.perf_counter() - started:.1f} s, peaks {writing_peak >> 20} MiB "
          f"writing, {reading_peak >> 20} MiB reading")  # fmt: skip
