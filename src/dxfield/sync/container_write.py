"""Writing a bundle of format 2 (`dxfield.sync.container` describes the layout): members as
plain text, cut into chunks, each compressed and sealed, behind a signed header; the file appears
whole or not at all."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
    yield _json_line({"member": "blob", "sha256": blob.sha256, "size": blob.size}) + b"\n"
    digest = hashlib.sha256()
    seen = 0
    for piece in blob.pieces:
        seen += len(piece)
        if seen > blob.size:
            break
        digest.update(piece)
        yield piece
    if seen != blob.size or digest.hexdigest() != blob.sha256:
        raise _refuse("bundle.blob_changed", sha256=blob.sha256)


@dataclass(frozen=True)
class Written:
    """What `write_container` wrote."""

    path: Path
    bytes: int
    chunks: int
    encrypted: bool
    sha256: str
    """Of the whole file, as the bundle log notes it."""


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
    a recipient that knows an earlier one can follow it to the key that signed."""
    return write_stream(
        out,
        signing_key,
        sender_id,
        recipient_id,
        encryption_key,
        member_stream(members),
        data_dir=data_dir,
        chunk_bytes=chunk_bytes,
        sender_keys=sender_keys,
    )


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
) -> Written:
    """`write_container` below the members: any plain text, as pieces (the tests write with it
    what a hostile sender could)."""
    if not 0 < chunk_bytes <= CHUNK_BYTES:
        raise ValueError(f"chunk_bytes must be in 1..{CHUNK_BYTES}")
    target = guard_output(data_dir if data_dir is not None else resolve_data_dir(), out)
    folder = existing_folder(target)
    made: list[str] = []
    try:
        try:
            fd, chunks_path = tempfile.mkstemp(
                dir=folder, prefix=f".{target.name}.", suffix=".chunks.tmp"
            )
            made.append(chunks_path)
            with os.fdopen(fd, "w+b") as chunks_file:
                header = _write_chunks(
                    chunks_file, plain, sender_id, recipient_id, encryption_key, chunk_bytes
                )
                if sender_keys is not None:
                    header["sender_keys"] = list(sender_keys)
                head = MAGIC_LINE + _json_line(header) + b"\n"
                signed = head + signing_key.sign(head).signature
                fd, final_path = tempfile.mkstemp(
                    dir=folder, prefix=f".{target.name}.", suffix=".tmp"
                )
                made.append(final_path)
                digest = hashlib.sha256(signed)
                size = len(signed)
                with os.fdopen(fd, "wb") as final:
                    final.write(signed)
                    chunks_file.seek(0)
                    while piece := chunks_file.read(1 << 20):
                        digest.update(piece)
                        final.write(piece)
                        size += len(piece)
                    final.flush()
                    os.fsync(final.fileno())
            os.replace(final_path, target)
            made.remove(final_path)
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
        chunks=header["chunks"],
        encrypted=encryption_key is not None,
        sha256=digest.hexdigest(),
    )


def _write_chunks(
    sink: BinaryIO,
    plain: Iterable[bytes],
    sender_id: str,
    recipient_id: str,
    encryption_key: PublicKey | None,
    chunk_bytes: int,
) -> dict[str, Any]:
    """Cut `plain` into chunks, compress and seal each, write them to `sink` with their lengths;
    the header that describes them."""
    state = None
    stream_key = stream_header = None
    if encryption_key is not None:
        key = getattr(bindings, _SS + "keygen")()
        state = getattr(bindings, _SS + "state")()
        stream_header = getattr(bindings, _SS + "init_push")(state, key)
        stream_key = SealedBox(encryption_key).encrypt(key)
    hashes: list[str] = []
    # zlib lets go of the interpreter while it compresses: a second thread compresses each
    # chunk while this one reads the store and writes the lines of the next. Chunks are sealed
    # and written here, in order (the stream's state is sequential); a few wait at most.
    compressing: deque[tuple[Future[bytes], bool]] = deque()

    def finish(compressed: Future[bytes], final: bool) -> None:
        data = compressed.result()
        if state is not None:
            tag = _TAG_FINAL if final else _TAG_MESSAGE
            data = getattr(bindings, _SS + "push")(state, data, None, tag)
        hashes.append(hashlib.sha256(data).hexdigest())
        sink.write(len(data).to_bytes(_LENGTH_BYTES, "big"))
        sink.write(data)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dxfield-compress") as pool:
        emitted = 0

        def emit(piece: bytes, final: bool) -> None:
            nonlocal emitted
            if emitted >= MAX_CHUNKS:
                raise _refuse("bundle.too_many_chunks", limit=MAX_CHUNKS)
            emitted += 1
            compressing.append((pool.submit(_compress, piece), final))
            while len(compressing) > _CHUNKS_AHEAD:
                finish(*compressing.popleft())

        try:
            # A chunk goes out once more than a chunk's worth is waiting, so that what is left
            # at the end (all of the last chunk, empty only when the whole text is) carries
            # TAG_FINAL.
            waiting = bytearray()
            for piece in plain:
                waiting += piece
                while len(waiting) > chunk_bytes:
                    emit(bytes(waiting[:chunk_bytes]), final=False)
                    del waiting[:chunk_bytes]
            emit(bytes(waiting), final=True)
            while compressing:
                finish(*compressing.popleft())
        finally:
            for compressed, _ in compressing:
                compressed.cancel()
    return {
        "format": HEADER_FORMAT,
        "version": FORMAT_VERSION,
        "sender": sender_id,
        "recipient": recipient_id,
        "encrypted": encryption_key is not None,
        "compression": COMPRESSION,
        "stream_key": _b64(stream_key),
        "stream_header": _b64(stream_header),
        "chunk_bytes": chunk_bytes,
        "chunks": len(hashes),
        "chunk_sha256": hashes,
    }


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode()


def _compress(piece: bytes) -> bytes:
    middle = len(piece) // 2
    samples = (piece[:SAMPLE_BYTES], piece[middle : middle + SAMPLE_BYTES])
    if len(piece) > 2 * SAMPLE_BYTES and all(
        len(zlib.compress(sample, COMPRESSION_LEVEL)) * 10 > len(sample) * 9 for sample in samples
    ):
        return zlib.compress(piece, 0)
    return zlib.compress(piece, COMPRESSION_LEVEL)
