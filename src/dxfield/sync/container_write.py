"""Writing a bundle of format 2 (`dxfield.sync.container` describes the layout): members as
plain text, cut into chunks, each compressed and sealed, behind a signed header; the file appears
whole or not at all."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import os
import struct
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from nacl import bindings
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import quote
from dxfield.paths import resolve_data_dir
from dxfield.store.files import existing_folder, guard_output
from dxfield.sync.container_base import (
    _CHUNKS_AHEAD,
    _LENGTH_BYTES,
    _SHA256,
    _SS,
    _TAG_FINAL,
    _TAG_MESSAGE,
    CHUNK_BYTES,
    COMPRESSION,
    COMPRESSION_LEVEL,
    FORMAT_VERSION,
    MAGIC_LINE,
    MAX_BLOB_BYTES,
    MAX_CHUNKS,
    SAMPLE_BYTES,
    Blob,
    Manifest,
    Member,
    Revisions,
    Roster,
    _refuse,
    worker,
)
from dxfield.sync.wire import HEADER_FORMAT


def _json_line(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _revision_text(line: Any) -> bytes:
    """A revision's line: its JSON text as given (bytes or str) or written from an object."""
    if isinstance(line, bytes):
        text = line
    elif isinstance(line, str):
        text = line.encode()
    else:
        text = _json_line(line)
    if b"\n" in text:
        raise ValueError("a revision's JSON text must be one line")
    return text


def member_stream(members: Iterable[Member]) -> Iterator[bytes]:
    """The plain text of `members`, as pieces (the framing of design §5):

    - each member starts with one JSON line `{"member": KIND, ...}`;
    - `manifest`: the line holds its fields, nothing follows;
    - `roster`: one JSON line follows, the roster document;
    - `revisions`: `{"member": "revisions", "count": N}`, then N JSON lines;
    - `blob`: `{"member": "blob", "sha256": HEX, "size": N}`, then exactly N raw bytes, no
      newline: the next member's line starts right after them.
    """
    for member in members:
        if isinstance(member, Manifest):
            if "member" in member.fields:
                raise ValueError("a manifest field may not be called 'member'")
            yield _json_line({**member.fields, "member": "manifest"}) + b"\n"
        elif isinstance(member, Roster):
            yield _json_line({"member": "roster"}) + b"\n" + _json_line(member.document) + b"\n"
        elif isinstance(member, Revisions):
            texts = [_revision_text(line) for line in member.lines]
            texts.append(b"")  # the last line's newline
            # One piece for the member: the writer then cuts chunks out of large pieces, not
            # out of a piece per revision.
            yield _json_line({"member": "revisions", "count": len(member.lines)}) + b"\n"
            yield b"\n".join(texts)
        elif isinstance(member, Blob):
            yield from _blob_stream(member)
        else:
            raise TypeError(f"not a bundle member: {member!r}")


def _blob_stream(blob: Blob) -> Iterator[bytes]:
    if not _SHA256.fullmatch(blob.sha256) or not 0 <= blob.size <= MAX_BLOB_BYTES:
        raise _refuse("bundle.blob_changed", sha256=quote(blob.sha256, 70))
    yield _blob_line(blob)
    digest = hashlib.sha256()
    seen = 0
    # Hashed by a thread of its own, in order, while the pieces go on (hashlib lets go of the
    # interpreter): the writer's thread only reads and cuts.
    with worker("dxfield-blob-hash") as hasher:
        hashed: Future[None] | None = None
        for piece in blob.pieces:
            seen += len(piece)
            if seen > blob.size:
                break
            if hashed is not None:
                hashed.result()
            hashed = hasher.submit(digest.update, piece)
            yield piece
        if hashed is not None:
            hashed.result()
    if seen != blob.size or digest.hexdigest() != blob.sha256:
        raise _refuse("bundle.blob_changed", sha256=blob.sha256)


@dataclass(frozen=True)
class Written:
    """What `write_container` wrote."""

    path: Path
    bytes: int
    chunks: int
    encrypted: bool
    head_sha256: str
    """The SHA-256 of the signed head (the magic line, the header, its signature): the bundle's
    name in the bundle log. The head names every chunk's SHA-256, so it stands for the whole
    file as surely as the file's own hash, and is known without reading the file back."""


def write_container(
    out: Path,
    signing_key: SigningKey,
    sender_id: str,
    recipient_id: str,
    encryption_key: PublicKey | None,
    members: Iterable[Member],
    *,
    data_dir: Path | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    sender_keys: Sequence[Mapping[str, Any]] | None = None,
) -> Written:
    """Write `members` as a format-2 bundle from `sender_id` to `recipient_id`, signed with
    `signing_key`, encrypted to `encryption_key` (the recipient's X25519 key; None: not
    encrypted). Never over anything a data folder holds (`data_dir`, the store's; and the
    person's own): see `files.guard_output`. The file appears whole or not at all, owner-only.
    `sender_keys`: a hub whose key was rotated puts the chain of its keys in the header, so that
    a recipient that knows an earlier one can follow it to the key that signed.

    The file is written once when the size of its plain text is known before its first chunk
    is: the members before the blobs are held in memory (up to `_HELD_BYTES`), the blobs' sizes
    are in their members. Else (more text than that) the chunks go to a file of their own
    first. Plain text is never written to disk."""
    held: list[bytes] = []
    size = 0
    found = iter(members)
    plain: Iterable[bytes] | None = None
    for member in found:
        if isinstance(member, Blob):
            rest = [member, *found]
            if all(isinstance(m, Blob) for m in rest):
                size += sum(len(_blob_line(m)) + m.size for m in rest if isinstance(m, Blob))
                plain = itertools.chain(_drained(held), member_stream(rest))
            else:
                plain, size = itertools.chain(_drained(held), member_stream(rest)), -1
            break
        pieces = list(member_stream([member]))
        held += pieces
        size += sum(len(piece) for piece in pieces)
        if size > _HELD_BYTES:
            plain, size = itertools.chain(_drained(held), member_stream(found)), -1
            break
    if plain is None:
        plain = _drained(held)
    return write_stream(
        out,
        signing_key,
        sender_id,
        recipient_id,
        encryption_key,
        plain,
        data_dir=data_dir,
        chunk_bytes=chunk_bytes,
        sender_keys=sender_keys,
        plain_size=size if size >= 0 else None,
    )


_HELD_BYTES = 40 << 20
"""The plain text before the blobs that `write_container` holds in memory to know the file's
size beforehand (a revisions member is at most 32 MiB as dxfield writes them)."""


def _drained(pieces: list[bytes]) -> Iterator[bytes]:
    """`pieces` in order, each let go of once given (the list is emptied)."""
    pieces.reverse()
    while pieces:
        yield pieces.pop()


def _blob_line(blob: Blob) -> bytes:
    return _json_line({"member": "blob", "sha256": blob.sha256, "size": blob.size}) + b"\n"


def write_stream(
    out: Path,
    signing_key: SigningKey,
    sender_id: str,
    recipient_id: str,
    encryption_key: PublicKey | None,
    plain: Iterable[bytes],
    *,
    data_dir: Path | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    sender_keys: Sequence[Mapping[str, Any]] | None = None,
    plain_size: int | None = None,
) -> Written:
    """`write_container` below the members: any plain text, as pieces (the tests write with it
    what a hostile sender could). Given `plain_size`, the text's exact size, the file is
    written once (`_in_place`); else the chunks are written to a file of their own first."""
    if not 0 < chunk_bytes <= CHUNK_BYTES:
        raise ValueError(f"chunk_bytes must be in 1..{CHUNK_BYTES}")
    target = guard_output(data_dir if data_dir is not None else resolve_data_dir(), out)
    folder = existing_folder(target)
    state, stream = _stream_of(encryption_key)
    made: list[str] = []
    try:
        try:
            if plain_size is None:
                size, chunks, digest = _via_chunks_file(
                    folder, target, made, plain, state, chunk_bytes,
                    lambda hashes: _signed(signing_key, _header(
                        sender_id, recipient_id, stream, chunk_bytes, hashes, sender_keys
                    )),
                )  # fmt: skip
            else:
                size, chunks, digest = _in_place(
                    folder, target, made, plain, plain_size, state, chunk_bytes,
                    lambda hashes: _signed(signing_key, _header(
                        sender_id, recipient_id, stream, chunk_bytes, hashes, sender_keys
                    )),
                )  # fmt: skip
            os.replace(made[-1], target)
            made.pop()
        finally:
            for path in made:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise LocalizedError(
            "bundle.cannot_write", path=quote(str(out), 160), reason=reason
        ) from None
    return Written(
        path=target,
        bytes=size,
        chunks=chunks,
        encrypted=encryption_key is not None,
        head_sha256=digest,
    )


def _signed(signing_key: SigningKey, head: bytes) -> bytes:
    return head + signing_key.sign(head).signature


def _via_chunks_file(
    folder: Path,
    target: Path,
    made: list[str],
    plain: Iterable[bytes],
    state: Any,
    chunk_bytes: int,
    head_of: Callable[[list[str]], bytes],
) -> tuple[int, int, str]:
    """The chunks written to a file of their own first, then the bundle (its head, then the
    chunks copied): for plain text of a size not known beforehand. (size, chunks, the head's SHA-256);
    the bundle's temporary file last in `made`."""
    fd, chunks_path = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".chunks.tmp")
    made.append(chunks_path)
    with os.fdopen(fd, "w+b") as chunks_file:
        hashes = _write_chunks(chunks_file, plain, state, chunk_bytes)
        signed = head_of(hashes)
        fd, final_path = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        made.append(final_path)
        size = len(signed)
        with os.fdopen(fd, "wb") as final:
            final.write(signed)
            chunks_file.seek(0)
            while piece := chunks_file.read(4 << 20):
                final.write(piece)
                size += len(piece)
            final.flush()
            os.fsync(final.fileno())
    return size, len(hashes), hashlib.sha256(signed).hexdigest()


def _in_place(
    folder: Path,
    target: Path,
    made: list[str],
    plain: Iterable[bytes],
    plain_size: int,
    state: Any,
    chunk_bytes: int,
    head_of: Callable[[list[str]], bytes],
) -> tuple[int, int, str]:
    """The bundle written once, for plain text of a size known beforehand (`plain_size`): so
    many chunks make a head of a length known beforehand (every hash has 64 digits), so the
    chunks go right after the room left for it, and the head is written last, at the start."""
    count = max(1, -(-plain_size // chunk_bytes))
    room = len(head_of(["0" * 64] * count))
    fd, final_path = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    made.append(final_path)
    with os.fdopen(fd, "w+b") as final:
        final.seek(room)
        hashes = _write_chunks(final, plain, state, chunk_bytes)
        signed = head_of(hashes)
        if len(hashes) != count or len(signed) != room:
            raise ValueError("the plain text's size is not the one given")
        final.seek(0)
        final.write(signed)
        final.flush()
        os.fsync(final.fileno())
        size = final.seek(0, os.SEEK_END)
    return size, count, hashlib.sha256(signed).hexdigest()


def _stream_of(encryption_key: PublicKey | None) -> tuple[Any, dict[str, Any]]:
    """A new secretstream's state (None: not encrypted) and the header's fields that say how
    it is sealed."""
    state = None
    stream_key = stream_header = None
    if encryption_key is not None:
        key = getattr(bindings, _SS + "keygen")()
        state = getattr(bindings, _SS + "state")()
        stream_header = getattr(bindings, _SS + "init_push")(state, key)
        stream_key = SealedBox(encryption_key).encrypt(key)
    fields = {
        "encrypted": encryption_key is not None,
        "stream_key": _b64(stream_key),
        "stream_header": _b64(stream_header),
    }
    return state, fields


def _header(
    sender_id: str,
    recipient_id: str,
    stream: dict[str, Any],
    chunk_bytes: int,
    hashes: Sequence[str],
    sender_keys: Sequence[Mapping[str, Any]] | None,
) -> bytes:
    """The magic line and the header's line, as signed."""
    header = {
        "format": HEADER_FORMAT,
        "version": FORMAT_VERSION,
        "sender": sender_id,
        "recipient": recipient_id,
        **stream,
        "compression": COMPRESSION,
        "chunk_bytes": chunk_bytes,
        "chunks": len(hashes),
        "chunk_sha256": list(hashes),
    }
    if sender_keys is not None:
        header["sender_keys"] = list(sender_keys)
    return MAGIC_LINE + _json_line(header) + b"\n"


def _write_chunks(
    sink: BinaryIO, plain: Iterable[bytes], state: Any, chunk_bytes: int
) -> list[str]:
    """Cut `plain` into chunks, compress and seal each (`state`: the stream, None when not
    encrypted), write them to `sink` with their lengths; their hashes."""
    hashes: list[str] = []
    # zlib, libsodium and hashlib let go of the interpreter while they work: a second thread
    # compresses, seals and hashes each chunk while this one reads the store and the
    # attachments and cuts and writes the chunks. One worker takes the chunks in the order they
    # are given, so the stream's state (sequential) is used in order, by one thread at a time.
    pending: deque[Future[tuple[bytes, str]]] = deque()

    def seal(piece: bytes, final: bool) -> tuple[bytes, str]:
        data = _compress(piece)
        if state is not None:
            tag = _TAG_FINAL if final else _TAG_MESSAGE
            data = getattr(bindings, _SS + "push")(state, data, None, tag)
        return data, hashlib.sha256(data).hexdigest()

    def finish(sealed: Future[tuple[bytes, str]]) -> None:
        data, digest = sealed.result()
        hashes.append(digest)
        sink.write(len(data).to_bytes(_LENGTH_BYTES, "big"))
        sink.write(data)

    with worker("dxfield-seal") as pool:
        emitted = 0

        def emit(piece: bytes, final: bool) -> None:
            nonlocal emitted
            if emitted >= MAX_CHUNKS:
                raise _refuse("bundle.too_many_chunks", limit=MAX_CHUNKS)
            emitted += 1
            pending.append(pool.submit(seal, piece, final))
            while len(pending) > _CHUNKS_AHEAD:
                finish(pending.popleft())

        try:
            # A chunk goes out once more than a chunk's worth is waiting, so that what is left
            # at the end (all of the last chunk, empty only when the whole text is) carries
            # TAG_FINAL.
            waiting = bytearray()
            for piece in plain:
                if not waiting and len(piece) > chunk_bytes:
                    # A large piece (an attachment's) is cut where it lies, not copied first.
                    view = memoryview(piece)
                    at = 0
                    while len(piece) - at > chunk_bytes:
                        emit(bytes(view[at : at + chunk_bytes]), final=False)
                        at += chunk_bytes
                    waiting += view[at:]
                    view.release()
                    continue
                waiting += piece
                while len(waiting) > chunk_bytes:
                    emit(bytes(memoryview(waiting)[:chunk_bytes]), final=False)
                    del waiting[:chunk_bytes]
            emit(bytes(waiting), final=True)
            while pending:
                finish(pending.popleft())
        finally:
            for sealed in pending:
                sealed.cancel()
    return hashes


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode()


def _compress(piece: bytes) -> bytes:
    middle = len(piece) // 2
    samples = (piece[:SAMPLE_BYTES], piece[middle : middle + SAMPLE_BYTES])
    if len(piece) > 2 * SAMPLE_BYTES and all(
        len(zlib.compress(sample, COMPRESSION_LEVEL)) * 10 > len(sample) * 9 for sample in samples
    ):
        return _stored(piece)
    return zlib.compress(piece, COMPRESSION_LEVEL)


_STORED_BLOCK = 0xFFFF


def _stored(piece: bytes) -> bytes:
    """`piece` as one zlib stream of stored blocks (RFC 1950/1951, what level 0 writes), made
    here: zlib's own level 0 takes five times as long, copying each block through its window."""
    view = memoryview(piece)
    parts: list[bytes | memoryview] = [b"\x78\x01"]
    at = 0
    while True:
        block = view[at : at + _STORED_BLOCK]
        at += len(block)
        last = at >= len(piece)
        size = len(block)
        parts.append(bytes((1 if last else 0,)) + struct.pack("<HH", size, size ^ 0xFFFF))
        parts.append(block)
        if last:
            break
    parts.append(struct.pack(">I", zlib.adler32(piece)))
    return b"".join(parts)
