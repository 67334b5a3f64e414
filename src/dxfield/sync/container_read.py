"""Reading a bundle of format 2 (`dxfield.sync.container` describes the layout and what is
checked when): strict, and bounded in memory whatever the file's size; it writes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from nacl import bindings
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey, SealedBox
from nacl.signing import VerifyKey

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import quote
from dxfield.store.files import open_regular_file
from dxfield.sync.container_base import (
    _CHUNKS_AHEAD,
    _HEADER_BYTES,
    _KEY_BYTES,
    _LENGTH_BYTES,
    _SHA256,
    _SS,
    _TAG_FINAL,
    CHUNK_BYTES,
    COMPRESSION,
    FORMAT_VERSION,
    MAX_BLOB_BYTES,
    MAX_CHUNKS,
    MAX_HEADER_BYTES,
    MAX_MEMBER_BYTES,
    MAX_MEMBER_ITEMS,
    MAX_MEMBER_REVISIONS,
    MAX_ROSTER_BYTES,
    MAX_ROSTER_ITEMS,
    MEMBER_KINDS,
    Blob,
    Manifest,
    Member,
    Revisions,
    Roster,
    _refuse,
    stored_chunk_limit,
    worker,
)
from dxfield.sync.wire import (
    HEADER_FORMAT,
    MAGIC,
    MAX_LINE_BYTES,
    MAX_REVISIONS,
    SIGNATURE_BYTES,
)

VerifyKeyLookup = Callable[[str, object], VerifyKey | None]
"""The sender's verify key by its device id and the header's `sender_keys` (None when absent:
the chain of a hub's rotated keys, unverified, for the caller to follow from a key it trusts);
None (or a LocalizedError of its own) refuses it."""


@dataclass(frozen=True)
class Header:
    """A bundle's checked header."""

    sender: str
    recipient: str
    encrypted: bool
    chunk_bytes: int
    chunks: int
    chunk_sha256: tuple[str, ...]


class ContainerReader:
    """One format-2 bundle open for reading: the header is read and its signature verified, the
    chunks' lengths and the end of the file checked, when it is made; `members()` then reads it.

        with ContainerReader(path, keys_of, device_id, private_key) as bundle:
            for member in bundle.members(): ...
    """

    def __init__(
        self,
        path: Path,
        verify_key_for: VerifyKeyLookup,
        device_id: str,
        private_key: PrivateKey | None,
    ) -> None:
        self.path = path
        try:
            self._file = open_regular_file(path)
        except LocalizedError as exc:
            raise _refuse("bundle.unreadable_file", problem=exc) from None
        try:
            self.header = self._read_header(verify_key_for, device_id)
            self._state = self._open_stream(private_key)
            self._first_chunk = self._file.tell()
            self._walk_chunks()
        except BaseException:
            self._file.close()
            raise
        self._members_read = False
        self.head_sha256: str = self._head_digest
        """The SHA-256 of the signed head (the magic line, the header, its signature): the
        bundle's name in the bundle log (see `container_write.Written.head_sha256`)."""

    def __enter__(self) -> ContainerReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (a generator from `members()` stops working)."""
        self._file.close()

    @property
    def sender(self) -> str:
        """The sending device's id (its signature verified)."""
        return self.header.sender

    # -- the header, before any chunk

    def _read(self, size: int) -> bytes:
        try:
            return self._file.read(size)
        except OSError as exc:
            problem = LocalizedError(
                "file.unreadable", path=quote(str(self.path), 160), reason=exc.strerror
            )
            raise _refuse("bundle.unreadable_file", problem=problem) from None

    def _readline(self, limit: int) -> bytes:
        try:
            return self._file.readline(limit)
        except OSError as exc:
            problem = LocalizedError(
                "file.unreadable", path=quote(str(self.path), 160), reason=exc.strerror
            )
            raise _refuse("bundle.unreadable_file", problem=problem) from None

    def _read_header(self, verify_key_for: VerifyKeyLookup, device_id: str) -> Header:
        magic = self._readline(len(MAGIC) + 16)
        if not magic.startswith(MAGIC):
            raise _refuse("bundle.not_a_bundle")
        version = magic[len(MAGIC) :].rstrip(b"\n")
        if not magic.endswith(b"\n") or not version.isdigit() or not version.isascii():
            raise _refuse("bundle.unreadable_version")
        if int(version) > FORMAT_VERSION:
            raise _refuse("bundle.newer_format", version=int(version))
        if int(version) != FORMAT_VERSION:
            raise _refuse("bundle.wrong_version")
        line = self._readline(MAX_HEADER_BYTES + 1)
        if not line.endswith(b"\n"):
            if len(line) > MAX_HEADER_BYTES:
                raise _refuse("bundle.header_too_large", limit=MAX_HEADER_BYTES)
            raise _refuse("bundle.truncated")
        signature = self._read(SIGNATURE_BYTES)
        if len(signature) < SIGNATURE_BYTES:
            raise _refuse("bundle.truncated")
        try:
            header = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError):
            raise _refuse("bundle.corrupt_header") from None
        if (
            not isinstance(header, dict)
            or header.get("format") != HEADER_FORMAT
            or header.get("version") != FORMAT_VERSION
        ):
            raise _refuse("bundle.not_a_header")
        sender = header.get("sender")
        if not isinstance(sender, str):
            raise _refuse("bundle.no_sender")
        verify_key = verify_key_for(sender, header.get("sender_keys"))
        if verify_key is None:
            raise _refuse("bundle.untrusted_sender", device=quote(sender))
        try:
            verify_key.verify(magic + line, signature)
        except BadSignatureError:
            raise _refuse("bundle.bad_signature") from None
        # Signed by a sender this device trusts: what follows checks what it says.
        if header.get("recipient") != device_id:
            raise _refuse("bundle.other_recipient")
        self._head_digest = hashlib.sha256(magic + line + signature).hexdigest()
        self._raw_header = header
        return _checked_header(header)

    def _open_stream(self, private_key: PrivateKey | None) -> Any:
        header = self._raw_header
        if not self.header.encrypted:
            if header.get("stream_key") is not None or header.get("stream_header") is not None:
                raise _refuse("bundle.bad_header", part="stream_key")
            return None
        sealed = _unb64(header.get("stream_key"), "stream_key")
        stream_header = _unb64(header.get("stream_header"), "stream_header")
        if len(stream_header) != _HEADER_BYTES:
            raise _refuse("bundle.bad_header", part="stream_header")
        if private_key is None:
            raise _refuse("bundle.cannot_decrypt")
        try:
            key = SealedBox(private_key).decrypt(sealed)
        except CryptoError:
            raise _refuse("bundle.cannot_decrypt") from None
        if len(key) != _KEY_BYTES:
            raise _refuse("bundle.cannot_decrypt")
        state = getattr(bindings, _SS + "state")()
        getattr(bindings, _SS + "init_pull")(state, stream_header, key)
        return state

    def _walk_chunks(self) -> None:
        """Before anything is decrypted: every chunk's length within its cap, and the file
        ending right after the last (a cut or a longer file is refused before any work)."""
        size = os.fstat(self._file.fileno()).st_size
        limit = stored_chunk_limit(self.header.chunk_bytes)
        total = self.header.chunks
        at = self._first_chunk
        for number in range(1, total + 1):
            if at == size:
                raise _refuse("bundle.chunks_missing", count=number - 1, total=total)
            if at + _LENGTH_BYTES > size:
                raise _refuse("bundle.chunk_cut", number=number)
            self._file.seek(at)
            length = int.from_bytes(self._read(_LENGTH_BYTES), "big")
            if length > limit:
                raise _refuse("bundle.chunk_too_large", number=number, limit=limit)
            at += _LENGTH_BYTES + length
            if at > size:
                raise _refuse("bundle.chunk_cut", number=number)
        if at != size:
            raise _refuse("bundle.trailing_data")
        self._file.seek(self._first_chunk)

    # -- the chunks, one by one

    def _plain_chunks(self) -> Iterator[bytes]:
        """Each chunk's plain text, in order, every check made; then the end of the file."""
        header = self.header
        limit = stored_chunk_limit(header.chunk_bytes)
        places = {digest: n for n, digest in enumerate(header.chunk_sha256, 1)}
        self._file.seek(self._first_chunk)
        yield from self._checked_chunks(header, limit, places)
        if self._read(1):
            raise _refuse("bundle.trailing_data")

    def _checked_chunks(
        self, header: Header, limit: int, places: dict[str, int]
    ) -> Iterator[bytes]:
        """Each chunk's plain text, checked against its hash, decrypted and inflated."""
        for number, expected in enumerate(header.chunk_sha256, 1):
            prefix = self._read(_LENGTH_BYTES)
            if not prefix:
                raise _refuse("bundle.chunks_missing", count=number - 1, total=header.chunks)
            if len(prefix) < _LENGTH_BYTES:
                raise _refuse("bundle.chunk_cut", number=number)
            length = int.from_bytes(prefix, "big")
            if length > limit:
                raise _refuse("bundle.chunk_too_large", number=number, limit=limit)
            data = self._read(length)
            if len(data) < length:
                raise _refuse("bundle.chunk_cut", number=number)
            digest = hashlib.sha256(data).hexdigest()
            if digest != expected:
                if places.get(digest, number) != number:
                    raise _refuse("bundle.chunks_reordered", number=number)
                raise _refuse("bundle.chunk_tampered", number=number)
            if self._state is not None:
                data = self._decrypt(data, number, final=number == header.chunks)
            yield _inflate(data, number, header.chunk_bytes)

    def _decrypt(self, data: bytes, number: int, final: bool) -> bytes:
        try:
            plain, tag = getattr(bindings, _SS + "pull")(self._state, data, None)
        except CryptoError:
            raise _refuse("bundle.chunk_undecryptable", number=number) from None
        if (tag == _TAG_FINAL) != final:
            raise _refuse("bundle.stream_end")
        return bytes(plain)

    # -- the members

    def members(self) -> Iterator[Member]:
        """Each member as it is read (a blob's bytes as pieces, see `Blob`). Any refusal is
        raised where it is found: keep nothing until this generator has ended."""
        if self._members_read:
            raise RuntimeError("a bundle's members are read once")
        self._members_read = True
        stream = _PlainStream(_read_ahead(self._plain_chunks(), _CHUNKS_AHEAD))
        number = 0
        revisions = 0
        while not stream.at_end():
            number += 1
            entry = _member_line(stream.readline(MAX_LINE_BYTES, number), number)
            kind = entry["member"]
            if kind == "manifest":
                yield Manifest({k: v for k, v in entry.items() if k != "member"})
            elif kind == "roster":
                _exact_keys(entry, {"member"}, number)
                line = stream.readline(MAX_ROSTER_BYTES, number)
                if _items(line) > MAX_ROSTER_ITEMS:
                    raise _refuse("bundle.member_too_large", number=number)
                document = _parse(line, "bundle.roster_not_json", number=number)
                if not isinstance(document, dict):
                    raise _refuse("bundle.roster_not_json", number=number)
                yield Roster(document)
            elif kind == "revisions":
                _exact_keys(entry, {"member", "count"}, number)
                count = _count(entry, "count", number, MAX_MEMBER_REVISIONS)
                if revisions + count > MAX_REVISIONS:
                    raise _refuse("bundle.too_many_revisions", limit=MAX_REVISIONS)
                lines = []
                held = items = 0
                for _ in range(count):
                    revisions += 1
                    line = stream.readline(MAX_LINE_BYTES, number)
                    held += len(line)
                    items += _items(line)
                    if held > MAX_MEMBER_BYTES or items > MAX_MEMBER_ITEMS:
                        raise _refuse("bundle.member_too_large", number=number)
                    lines.append(_revision(line, revisions))
                yield Revisions(lines)
            else:  # "blob", `_member_line` knows no other
                _exact_keys(entry, {"member", "sha256", "size"}, number)
                sha256 = entry.get("sha256")
                if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
                    raise _refuse("bundle.bad_member", number=number, part="sha256")
                size = _count(entry, "size", number, MAX_BLOB_BYTES)
                blob = _IncomingBlob(stream, number, sha256, size)
                yield Blob(sha256, blob.size, iter(blob.read_piece, b""))
                blob.finish()


def read_container(
    path: Path,
    verify_key_for: VerifyKeyLookup,
    device_id: str,
    private_key: PrivateKey | None,
) -> Iterator[Member]:
    """The members of the bundle at `path`, checked as `ContainerReader` checks them."""
    with ContainerReader(path, verify_key_for, device_id, private_key) as bundle:
        yield from bundle.members()


def _checked_header(header: dict[str, Any]) -> Header:
    encrypted = header.get("encrypted")
    if not isinstance(encrypted, bool):
        raise _refuse("bundle.unreadable_encryption")
    if header.get("compression") != COMPRESSION:
        raise _refuse("bundle.unknown_compression")
    chunk_bytes = header.get("chunk_bytes")
    if type(chunk_bytes) is not int or not 0 < chunk_bytes <= CHUNK_BYTES:
        raise _refuse("bundle.bad_header", part="chunk_bytes")
    chunks = header.get("chunks")
    if type(chunks) is not int or not 0 < chunks <= MAX_CHUNKS:
        raise _refuse("bundle.bad_header", part="chunks")
    hashes = header.get("chunk_sha256")
    if (
        not isinstance(hashes, list)
        or len(hashes) != chunks
        or not all(isinstance(h, str) and _SHA256.fullmatch(h) for h in hashes)
    ):
        raise _refuse("bundle.bad_header", part="chunk_sha256")
    return Header(
        sender=header["sender"],
        recipient=header["recipient"],
        encrypted=encrypted,
        chunk_bytes=chunk_bytes,
        chunks=chunks,
        chunk_sha256=tuple(hashes),
    )


def _unb64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise _refuse("bundle.bad_header", part=name)
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise _refuse("bundle.bad_header", part=name) from None


def _inflate(data: bytes, number: int, limit: int) -> bytes:
    """A chunk's plain text: at most `limit` bytes, however well it was compressed (a bomb stops
    at the cap, in memory)."""
    inflater = zlib.decompressobj()
    try:
        plain = inflater.decompress(data, limit)
        if not inflater.eof:
            if inflater.decompress(inflater.unconsumed_tail, 1):
                raise _refuse("bundle.chunk_inflates", number=number, limit=limit)
            raise _refuse("bundle.corrupt_compression")
    except zlib.error:
        raise _refuse("bundle.corrupt_compression") from None
    if inflater.unused_data:
        raise _refuse("bundle.corrupt_compression")
    return plain


def _items(line: bytes) -> int:
    """About how many JSON values `line` holds (an upper bound: brackets and commas in strings
    count too)."""
    return line.count(b",") + line.count(b"{") + line.count(b"[")


def _parse(line: bytes, code: str, **values: Any) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _refuse(code, **values) from None


def _member_line(line: bytes, number: int) -> dict[str, Any]:
    entry = _parse(line, "bundle.member_not_json", number=number)
    if not isinstance(entry, dict) or not isinstance(entry.get("member"), str):
        raise _refuse("bundle.bad_member", number=number, part="member")
    if entry["member"] not in MEMBER_KINDS:
        raise _refuse("bundle.unknown_member", number=number, kind=quote(entry["member"]))
    return entry


def _exact_keys(entry: dict[str, Any], keys: set[str], number: int) -> None:
    extra = sorted(set(entry) - keys)
    if extra:
        raise _refuse("bundle.bad_member", number=number, part=quote(extra[0]))


def _count(entry: dict[str, Any], name: str, number: int, limit: int) -> int:
    value = entry.get(name)
    if type(value) is not int or not 0 <= value <= limit:
        raise _refuse("bundle.bad_member", number=number, part=name)
    return value


def _revision(line: bytes, number: int) -> Any:
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise _refuse("bundle.revision_not_json", number=number) from None
    except RecursionError:
        raise _refuse("bundle.revision_too_deep", number=number) from None


def _read_ahead(chunks: Iterator[bytes], depth: int) -> Iterator[bytes]:
    """`chunks`, made by a second thread up to `depth` ahead of the one that takes them: the
    file read, hashed, decrypted and inflated (which let go of the interpreter) while this
    thread takes the members and writes the attachments. One worker runs the generator, so in
    order; a refusal it raises is raised here, where its chunk would have come."""
    with worker("dxfield-read") as pool:
        ahead: deque[Future[bytes | None]] = deque(
            pool.submit(next, chunks, None) for _ in range(depth)
        )
        try:
            while (chunk := ahead.popleft().result()) is not None:
                ahead.append(pool.submit(next, chunks, None))
                yield chunk
        finally:
            for waiting in ahead:
                waiting.cancel()


class _PlainStream:
    """The plain text of the chunks as one stream: lines and raw bytes across chunk boundaries,
    holding no more than the current chunk (and a line being read) in memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer: bytes | bytearray = b""
        self._at = 0

    def _pull(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        if self._at >= len(self._buffer):
            # The usual case: the chunk as it came, not copied (an attachment's bytes are
            # handed on in slices of it).
            self._buffer = chunk
        else:
            # A line across chunks: a bytearray drops its head and grows at its tail without
            # copying what stays, so a line over many small chunks costs its length, not its
            # length times the chunks.
            if isinstance(self._buffer, bytearray):
                del self._buffer[: self._at]
            else:
                self._buffer = bytearray(memoryview(self._buffer)[self._at :])
            self._buffer += chunk
        self._at = 0
        return True

    def at_end(self) -> bool:
        """Whether the text has ended (every chunk read, the end of the file checked)."""
        while self._at >= len(self._buffer):
            if not self._pull():
                return True
        return False

    def readline(self, limit: int, member: int) -> bytes:
        """The next line, without its newline; at most `limit` bytes."""
        searched = self._at
        while True:
            end = self._buffer.find(b"\n", searched)
            if end >= 0:
                if end - self._at > limit:
                    break
                line = bytes(self._buffer[self._at : end])
                self._at = end + 1
                return line
            if len(self._buffer) - self._at > limit:
                break
            searched = len(self._buffer) - self._at
            if not self._pull():
                raise _refuse("bundle.member_cut", number=member)
        raise _refuse("bundle.line_too_long")

    def read(self, size: int, member: int) -> bytes:
        """Up to `size` bytes (at least one), at most what is left of the current chunk."""
        if self.at_end():
            raise _refuse("bundle.member_cut", number=member)
        piece = self._buffer[self._at : self._at + size]  # a whole chunk: itself, not a copy
        self._at += len(piece)
        return piece if isinstance(piece, bytes) else bytes(piece)


class _IncomingBlob:
    """A blob being read: its pieces, its hash checked when its last byte has been read."""

    def __init__(self, stream: _PlainStream, number: int, sha256: str, size: int) -> None:
        self.stream = stream
        self.number = number
        self.sha256 = sha256
        self.size = size
        self.left = size
        self.digest = hashlib.sha256()
        self.checked = False

    def read_piece(self) -> bytes:
        """The next piece, or b"" at the end (the hash checked before the last piece is given)."""
        if self.left == 0:
            self._check()
            return b""
        piece = self.stream.read(self.left, self.number)
        self.left -= len(piece)
        self.digest.update(piece)
        if self.left == 0:
            self._check()
        return piece

    def finish(self) -> None:
        """Skip what the caller did not read, still checking the hash."""
        while self.read_piece():
            pass

    def _check(self) -> None:
        if not self.checked:
            if self.digest.hexdigest() != self.sha256:
                raise _refuse("bundle.blob_mismatch", sha256=self.sha256)
            self.checked = True
