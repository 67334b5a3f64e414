"""The container of bundle format 2: a signed header, then chunks, read and written as streams.

The layout (docs/bundle-format.md §4 is its specification):

    DXFIELD-BUNDLE 2\\n            the magic line, with the format version
    {header JSON}\\n               sender, recipient, encryption, chunk size and count, and the
                                   SHA-256 of every chunk (the manifest); at most 4 MiB
    signature                      64 bytes: Ed25519 by the sender over the two lines above
    chunk*                         4-byte big-endian length, then that many bytes

The plain text, cut into chunks of `chunk_bytes` (the last may be shorter), is a sequence of
**members**: a JSON line saying what follows (`manifest`, `roster`, `revisions`, `blob`), then
its content. Each chunk is compressed on its own (zlib) and, when encrypted, sealed with
libsodium's secretstream under a key sealed to the recipient (`crypto_box_seal`); the last chunk
carries `TAG_FINAL`. Member boundaries and chunk boundaries are independent.

Reading is strict and bounded in memory whatever the file's size: the header's signature is
checked before any chunk is read, the chunks' lengths and the end of the file before any chunk
is decrypted, and each chunk against its hash before it is decrypted; a blob comes out as pieces
of at most one chunk, its hash checked when its last byte has been read. A refusal is one
`BundleError` line. The reader writes nothing; its caller must read every member (to the end of
the generator) before it keeps any of them: only then is the whole file checked.

`dxfield.sync.bundle` writes and reads bundles through it (what the members mean, who may send
them, which revisions are taken); this module knows only the container.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO

from nacl import bindings
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.paths import resolve_data_dir
from dxfield.store.files import existing_folder, guard_output, open_regular_file
from dxfield.sync.wire import (
    HEADER_FORMAT,
    MAGIC,
    MAX_LINE_BYTES,
    MAX_REVISIONS,
    SIGNATURE_BYTES,
    BundleError,
)

FORMAT_VERSION = 2
MAGIC_LINE = MAGIC + str(FORMAT_VERSION).encode() + b"\n"
COMPRESSION = "zlib"

CHUNK_BYTES = 1 << 20
"""The plain text a chunk holds (the last may hold less); a header may ask for less, never more."""
MAX_HEADER_BYTES = 4 << 20
_CHUNKS_AHEAD = 8
"""Chunks compressed ahead of the one being written (each at most CHUNK_BYTES)."""
MAX_CHUNKS = 50_000
"""About 49 GiB of plain text; the header's 50,000 hashes stay well under its 4 MiB."""
MAX_BLOB_BYTES = MAX_CHUNKS * CHUNK_BYTES
MAX_MEMBER_REVISIONS = 50_000
MAX_MEMBER_BYTES = 64 << 20
"""A revisions member holds at most this many revisions in at most this many bytes of JSON (the
reader holds one member at a time; dxfield writes pages of 10,000 or 32 MiB, whichever is
first)."""
MAX_MEMBER_ITEMS = 2_000_000
"""...and at most about this many JSON values (counted before parsing, by their commas and
brackets): a megabyte of `{},{},…` would otherwise parse into hundreds of megabytes of objects."""
MAX_ROSTER_ITEMS = 1_500_000
"""The roster's line likewise: a million kept ids and ten thousand devices' cards fit."""
MAX_ROSTER_BYTES = 48 << 20
"""The roster's line: a revoked device's cut lists up to a million revision ids."""
COMPRESSION_LEVEL = 1
SAMPLE_BYTES = 16 << 10
"""A chunk whose samples of this size do not shrink by a tenth is stored (zlib level 0): photos
and PDFs do not compress, and level 1 would spend 30 ms a MiB learning so."""

_SS = "crypto_secretstream_xchacha20poly1305_"
_ABYTES: int = getattr(bindings, _SS + "ABYTES")
_HEADER_BYTES: int = getattr(bindings, _SS + "HEADERBYTES")
_KEY_BYTES: int = getattr(bindings, _SS + "KEYBYTES")
_TAG_MESSAGE: int = getattr(bindings, _SS + "TAG_MESSAGE")
_TAG_FINAL: int = getattr(bindings, _SS + "TAG_FINAL")
_LENGTH_BYTES = 4
_SHA256 = re.compile(r"[0-9a-f]{64}")

MEMBER_KINDS = ("manifest", "roster", "revisions", "blob")

PROBLEMS = problems(
    {
        "bundle.header_too_large": N_("bundle refused: the header is longer than {limit} bytes"),
        "bundle.bad_header": N_("bundle refused: the header's {part} is not valid"),
        "bundle.chunks_missing": N_(
            "bundle refused: the file ends after chunk {count} of {total} (it was cut short)"
        ),
        "bundle.chunk_cut": N_("bundle refused: the file is cut short inside chunk {number}"),
        "bundle.trailing_data": N_(
            "bundle refused: there is more after the last chunk (appended or damaged file)"
        ),
        "bundle.chunk_too_large": N_(
            "bundle refused: chunk {number} is larger than the limit ({limit} bytes)"
        ),
        "bundle.chunk_tampered": N_(
            "bundle refused: chunk {number} does not match its hash (altered or damaged file)"
        ),
        "bundle.chunks_reordered": N_(
            "bundle refused: chunk {number} is out of place (the chunks were reordered)"
        ),
        "bundle.chunk_undecryptable": N_("bundle refused: chunk {number} cannot be decrypted"),
        "bundle.stream_end": N_(
            "bundle refused: the encrypted stream does not end at its last chunk"
        ),
        "bundle.chunk_inflates": N_(
            "bundle refused: chunk {number} inflates beyond the size limit ({limit} bytes)"
        ),
        "bundle.member_not_json": N_("bundle refused: member {number}: is not valid JSON"),
        "bundle.unknown_member": N_(
            "bundle refused: member {number} is of a kind this dxfield does not know ({kind}); "
            "update dxfield"
        ),
        "bundle.bad_member": N_("bundle refused: member {number}: its {part} is not valid"),
        "bundle.member_too_large": N_(
            "bundle refused: member {number} holds more than a member may"
        ),
        "bundle.member_cut": N_("bundle refused: the contents end inside member {number}"),
        "bundle.roster_not_json": N_("bundle refused: member {number}: the roster is not JSON"),
        "bundle.blob_mismatch": N_(
            "bundle refused: the attachment {sha256} does not match its hash"
        ),
        "bundle.blob_changed": N_(
            "cannot write the bundle: the attachment {sha256} is not what its size and hash "
            "say (is the attachment store damaged?); nothing was written"
        ),
        "bundle.too_many_chunks": N_(
            "cannot write the bundle: it would be larger than {limit} chunks; nothing was written"
        ),
        "bundle.cannot_write": N_("cannot write {path} ({reason}); nothing was written"),
    }
)


# -- members -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What the bundle holds (counts, `created_at`, `full`): its fields are the member line's."""

    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Roster:
    """The hub's signed roster (design §2), one JSON document."""

    document: Mapping[str, Any]


@dataclass(frozen=True)
class Revisions:
    """Revisions, one JSON object each: given as objects or as their JSON text (one line, str or
    UTF-8 bytes, as `outgoing.signed_lines_since` gives them) to the writer; read back as
    objects."""

    lines: Sequence[Any]


@dataclass(frozen=True)
class Blob:
    """An attachment's bytes, named only by their SHA-256 (hex) and size: `pieces` gives them.

    Read from a bundle, `pieces` is a one-pass stream out of the file: read it (or leave it, the
    reader then skips what is left) before asking for the next member. Its last piece is given
    only once the whole blob matched its hash; a mismatch raises instead."""

    sha256: str
    size: int
    pieces: Iterable[bytes] = field(repr=False)

    def copy_to(self, sink: IO[bytes]) -> None:
        """Write the blob's bytes into `sink` (a file open for writing), piece by piece."""
        for piece in self.pieces:
            sink.write(piece)


Member = Manifest | Roster | Revisions | Blob


def _refuse(code: str, **values: Any) -> BundleError:
    return BundleError(code, **values)


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


# -- writing -------------------------------------------------------------------------------------


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


def stored_chunk_limit(chunk_bytes: int) -> int:
    """The most a chunk of `chunk_bytes` plain bytes may take in the file: zlib's bound for
    incompressible input (`compressBound`), plus secretstream's tag."""
    n = chunk_bytes
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + _ABYTES


# -- reading -------------------------------------------------------------------------------------

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
        if self._read(1):
            raise _refuse("bundle.trailing_data")

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
        stream = _PlainStream(self._plain_chunks())
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


class _PlainStream:
    """The plain text of the chunks as one stream: lines and raw bytes across chunk boundaries,
    holding no more than the current chunk (and a line being read) in memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._at = 0

    def _pull(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        # A bytearray drops its head and grows at its tail without copying what stays: a line
        # over many small chunks costs its length, not its length times the chunks.
        del self._buffer[: self._at]
        self._at = 0
        self._buffer += chunk
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
        piece = bytes(self._buffer[self._at : self._at + size])
        self._at += len(piece)
        return piece


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
