"""The corpus of bad bundles, in format 2: each one built from a good bundle by one fault.

Every entry of CORPUS is (name, the fault, the words the one-line error must hold). A bundle is
made for a pair of stores (sender, receiver) that trust each other, written with the sender's
real keys (its signing key signs the header, the receiver's encryption key seals the stream) and
carrying the sender's revisions as its export would (each signed by its author), so that each
fault is the only thing wrong. A revision a fault changes is given the id its content hashes to
and signed again with its author's real key (`signed`), unless the fault is the proof itself.

The helpers below also serve tests/sync/forged.py, tests/sync/test_hostile.py and
tests/sync/test_authorship_attacks.py: `write_bundle` writes any members (or any plain text)
as a real container; `Parsed` takes a written file apart to edit its chunks or its header.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl import bindings
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

from dxfield.store import merge, outgoing
from dxfield.store.authorship import Signer, canonical_json
from dxfield.store.authorship import digest as content_digest
from dxfield.store.engine import Store
from dxfield.store.revisions import revision_id
from dxfield.sync import container
from dxfield.sync.container import Manifest, Member, Revisions, Roster
from dxfield.sync.keys import device_keys, own_card
from dxfield.sync.wire import MAGIC, MANIFEST_FORMAT

CREATED_AT = "2024-11-26T00:00:00+00:00"


@dataclass(frozen=True)
class Pair:
    """A sender and a receiver that trust each other, and a third device nobody trusts."""

    sender: Store
    receiver: Store
    stranger: Store


# -- revisions, as a bundle carries them ---------------------------------------------------------


def outgoing_revisions(store: Store) -> list[dict[str, Any]]:
    """Every revision `store`'s export would send (each with its signature or attestation)."""
    with store.read() as conn:
        return [json.loads(line) for page in outgoing.signed_lines_since(conn, 0) for line in page]


def sender_revisions(pair: Pair) -> list[dict[str, Any]]:
    """The sender's revisions as its bundle carries them (its activity, signed)."""
    return outgoing_revisions(pair.sender)


def held_revisions(store: Store) -> list[dict[str, Any]]:
    """Every revision `store` holds, reference data included, without proofs."""
    with store.read() as conn:
        return merge.all_revisions(conn)


def digest_of(revision: dict[str, Any]) -> bytes:
    """What an author signs for `revision`: the digest of its content, as the importer computes
    it; for a revision too broken to have one (a field missing, parents not a list of text),
    the hash of all of it (it is refused for what is broken before any signature is read)."""
    try:
        return content_digest(
            revision["entity"],
            revision["entity_id"],
            revision["parents"],
            revision["hlc"],
            revision["device_id"],
            revision["deleted"],
            revision["data"],
        )
    except (KeyError, TypeError, ValueError):
        return hashlib.sha256(canonical_json(revision).encode()).digest()


def _without_proof(revision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in revision.items() if k not in merge.PROOF_KEYS}


def signed(revision: dict[str, Any], by: Store | SigningKey) -> dict[str, Any]:
    """`revision` with no proof but a signature by `by` (a store: its device's real key) over its
    digest: its author's when `by` is its author, else a forgery."""
    key = device_keys(by).signing if isinstance(by, Store) else by
    return {**_without_proof(revision), "signature": Signer(key).sign(digest_of(revision))}


def attested(revision: dict[str, Any], by: Store | SigningKey) -> dict[str, Any]:
    """`revision` with no proof but an attestation by `by` (the hub's, when `by` is the hub)."""
    key = device_keys(by).signing if isinstance(by, Store) else by
    return {**_without_proof(revision), "attestation": Signer(key).attest(digest_of(revision))}


def rehash(revision: dict[str, Any]) -> dict[str, Any]:
    """`revision` with the id its content hashes to (whatever the types of its fields)."""
    return {
        **revision,
        "rev_id": revision_id(
            revision["generation"],
            revision["entity"],
            revision["entity_id"],
            revision["parents"],
            revision["hlc"],
            revision["device_id"],
            revision["deleted"],
            revision["data"],
        ),
    }


def resealed(revision: dict[str, Any], by: Store) -> dict[str, Any]:
    """`revision` as its author `by` would have written it: the id its content hashes to, signed
    with `by`'s real key. A hostile change made so, under a trusted key, is the only fault."""
    return signed(rehash(revision), by)


# -- writing bundles -----------------------------------------------------------------------------


def manifest(by: Store, to: Store, count: int, **changes: Any) -> dict[str, Any]:
    """The manifest's fields of a bundle from `by` to `to` holding `count` revisions and no
    blob, with `changes`."""
    fields: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "version": container.FORMAT_VERSION,
        "sender": by.device.id,
        "recipient": to.device.id,
        "created_at": CREATED_AT,
        "full": True,
        "revisions": count,
        "blobs": 0,
    }
    fields.update(changes)
    return fields


def members(
    by: Store,
    to: Store,
    revisions: Sequence[dict[str, Any] | str],
    *,
    roster: bytes | None = None,
    page: int | None = None,
    changes: dict[str, Any] | None = None,
) -> list[Member]:
    """What an export writes: the manifest (with `changes` to its fields), the roster
    (`roster`, its signed bytes) if any, then `revisions` (objects, or text lines as they are)
    in members of `page` (all in one)."""
    found: list[Member] = [Manifest(manifest(by, to, len(revisions), **(changes or {})))]
    if roster is not None:
        found.append(Roster(json.loads(roster)))
    size = page or max(len(revisions), 1)
    found += [Revisions(list(revisions[i : i + size])) for i in range(0, len(revisions), size)]
    return found


def write_bundle(
    by: Store,
    to: Store,
    parts: Iterable[Member] | None = None,
    *,
    plain: Iterable[bytes] | None = None,
    signing_key: SigningKey | None = None,
    sender_id: str | None = None,
    recipient: Store | None = None,
    encrypt: bool = True,
    chunk_bytes: int = container.CHUNK_BYTES,
) -> bytes:
    """The bytes of a real format-2 file from `by` to `to` holding `parts` (or the raw `plain`
    text): signed with `by`'s real key (or `signing_key`), its header naming `by` (or
    `sender_id`) and `to` (or `recipient`), sealed to `to`'s real encryption key."""
    key = signing_key or device_keys(by).signing
    encryption = PublicKey(base64.b64decode(own_card(to).encryption_key)) if encrypt else None
    named = (recipient or to).device.id
    with tempfile.TemporaryDirectory(prefix="dxfield-corpus-") as folder:
        out = Path(folder) / "b.dxb"
        if plain is None:
            container.write_container(
                out, key, sender_id or by.device.id, named, encryption, parts or [],
                data_dir=by.data_dir, chunk_bytes=chunk_bytes,
            )  # fmt: skip
        else:
            container.write_stream(
                out, key, sender_id or by.device.id, named, encryption, plain,
                data_dir=by.data_dir, chunk_bytes=chunk_bytes,
            )  # fmt: skip
        return out.read_bytes()


def bundle(
    pair: Pair,
    revisions: Sequence[dict[str, Any] | str] | None = None,
    *,
    by: Store | None = None,
    to: Store | None = None,
    plain: bytes | None = None,
    page: int | None = None,
    chunk_bytes: int = container.CHUNK_BYTES,
    changes: dict[str, Any] | None = None,
) -> bytes:
    """A bundle from `by` (the sender) to `to` (the receiver) of `revisions` (all the sender's,
    as its export sends them) with `changes` to its manifest, or of the raw plain text
    `plain`."""
    by = by or pair.sender
    to = to or pair.receiver
    if plain is not None:
        return write_bundle(by, to, plain=[plain], chunk_bytes=chunk_bytes)
    if revisions is None:
        revisions = outgoing_revisions(by)
    parts = members(by, to, revisions, page=page, changes=changes)
    return write_bundle(by, to, parts, chunk_bytes=chunk_bytes)


def member_line(**fields: Any) -> bytes:
    """A member's line as the writer makes it."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode() + b"\n"


# -- taking a written file apart -----------------------------------------------------------------


def flip(data: bytes, at: int) -> bytes:
    """`data` with one bit of the byte at `at` flipped."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@dataclass
class Parsed:
    """A format-2 file in its parts (the chunks as stored, without their lengths)."""

    magic: bytes
    header: bytes
    """The header's line, with its newline."""
    signature: bytes
    chunks: list[bytes]

    @classmethod
    def of(cls, data: bytes) -> Parsed:
        magic_end = data.index(b"\n") + 1
        header_end = data.index(b"\n", magic_end) + 1
        at = header_end + 64
        chunks = []
        while at < len(data):
            length = int.from_bytes(data[at : at + 4], "big")
            chunks.append(data[at + 4 : at + 4 + length])
            at += 4 + length
        signature = data[header_end : header_end + 64]
        return cls(data[:magic_end], data[magic_end:header_end], signature, chunks)

    def file(self, chunks: list[bytes] | None = None) -> bytes:
        """The file again, with `chunks` in place of its own."""
        body = b"".join(
            len(chunk).to_bytes(4, "big") + chunk
            for chunk in (self.chunks if chunks is None else chunks)
        )
        return self.magic + self.header + self.signature + body

    @property
    def fields(self) -> dict[str, Any]:
        """The header's fields."""
        found: dict[str, Any] = json.loads(self.header)
        return found

    def resigned(self, key: SigningKey, chunks: list[bytes] | None = None, **changes: Any) -> bytes:
        """The file as a sender holding `key` could make it: `chunks` in place of its own, the
        header's manifest of chunk hashes made to match them, `changes` made to the header, and
        the header signed again."""
        chunks = self.chunks if chunks is None else chunks
        header = {
            **self.fields,
            "chunks": len(chunks),
            "chunk_sha256": [hashlib.sha256(c).hexdigest() for c in chunks],
            **changes,
        }
        line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        signature = key.sign(self.magic + line).signature
        return Parsed(self.magic, line, signature, chunks).file()


_SS = "crypto_secretstream_xchacha20poly1305_"


def raw_bundle(by: Store, to: Store, compressed: list[bytes], chunk_bytes: int) -> bytes:
    """A file from `by` to `to` whose chunks hold `compressed` as they are (each already zlib's,
    however large it inflates), sealed and signed with the real keys: what a hostile sender
    could write that `write_container` never would."""
    key = getattr(bindings, _SS + "keygen")()
    state = getattr(bindings, _SS + "state")()
    stream_header = getattr(bindings, _SS + "init_push")(state, key)
    recipient = PublicKey(base64.b64decode(own_card(to).encryption_key))
    final = getattr(bindings, _SS + "TAG_FINAL")
    message = getattr(bindings, _SS + "TAG_MESSAGE")
    chunks = [
        getattr(bindings, _SS + "push")(
            state, piece, None, final if n == len(compressed) - 1 else message
        )
        for n, piece in enumerate(compressed)
    ]
    header = {
        "format": "dxfield-bundle",
        "version": container.FORMAT_VERSION,
        "sender": by.device.id,
        "recipient": to.device.id,
        "encrypted": True,
        "compression": "zlib",
        "stream_key": base64.b64encode(SealedBox(recipient).encrypt(key)).decode(),
        "stream_header": base64.b64encode(stream_header).decode(),
        "chunk_bytes": chunk_bytes,
        "chunks": len(chunks),
        "chunk_sha256": [hashlib.sha256(c).hexdigest() for c in chunks],
    }
    magic = container.MAGIC_LINE
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    signature = device_keys(by).signing.sign(magic + line).signature
    return Parsed(magic, line, signature, chunks).file()


# -- the faults ----------------------------------------------------------------------------------


def _resealed_activity(pair: Pair, change: dict[str, Any]) -> list[dict[str, Any]]:
    """All the sender's revisions, the last activity's content changed, its id made to match
    and signed again by the sender (its author) with its real key."""
    revisions = sender_revisions(pair)
    index = max(i for i, r in enumerate(revisions) if r["entity"] == "activity")
    revision = revisions[index]
    revisions[index] = resealed({**revision, "data": {**revision["data"], **change}}, pair.sender)
    return revisions


def _bomb(pair: Pair) -> bytes:
    """One chunk that inflates a thousandfold: a manifest, then 40 MiB of spaces, where the
    header says a chunk holds at most 1 MiB."""
    compressor = zlib.compressobj(9)
    head = json.dumps({**manifest(pair.sender, pair.receiver, 0), "member": "manifest"})
    pieces = [compressor.compress(head.encode() + b"\n")]
    block = b" " * (1 << 20)
    pieces += [compressor.compress(block) for _ in range(40)]
    pieces.append(compressor.flush())
    return raw_bundle(pair.sender, pair.receiver, [b"".join(pieces)], container.CHUNK_BYTES)


def _newer(pair: Pair) -> bytes:
    good = bundle(pair)
    return MAGIC + b"3" + good[len(MAGIC) + 1 :]


def _revoked(pair: Pair) -> bytes:
    from dxfield.sync.keys import revoke

    revoke(pair.receiver, pair.sender.device.id)
    return bundle(pair)


def _in_the_chunk_hashes(pair: Pair) -> bytes:
    """A bit flipped in the header's manifest of chunk hashes (a hex digit becomes another
    character): still JSON, so only the signature can tell."""
    good = bundle(pair)
    parsed = Parsed.of(good)
    at = len(parsed.magic) + parsed.header.index(b'"chunk_sha256":["') + len('"chunk_sha256":["')
    return flip(good, at + 3)


def _in_the_signature(pair: Pair) -> bytes:
    parsed = Parsed.of(bundle(pair))
    return flip(parsed.file(), len(parsed.magic) + len(parsed.header) + 5)


def _in_a_chunk(pair: Pair) -> bytes:
    parsed = Parsed.of(bundle(pair))
    return parsed.file([flip(parsed.chunks[0], len(parsed.chunks[0]) // 2)])


def _malformed_json(pair: Pair) -> bytes:
    return bundle(pair, ['{"rev_id": '])


def _count_wrong(pair: Pair) -> bytes:
    return bundle(pair, changes={"revisions": 5})


def _tampered(pair: Pair) -> bytes:
    """A revision's stamp changed, its id and its signature left as they were."""
    (revision,) = sender_revisions(pair)
    return bundle(pair, [{**revision, "hlc": "9" * 13 + "-000000"}])


def _resigned_by_a_stranger(pair: Pair) -> bytes:
    """The good bundle's header signed again with a key nobody trusts."""
    return Parsed.of(bundle(pair)).resigned(SigningKey.generate())


CORPUS: list[tuple[str, Callable[[Pair], bytes], str]] = [
    ("unknown-sender", lambda p: bundle(p, by=p.stranger), "not a trusted device"),
    ("revoked-sender", _revoked, "was revoked"),
    ("other-recipient", lambda p: bundle(p, to=p.stranger), "addressed to another device"),
    ("flipped-header-byte", _in_the_chunk_hashes, "the signature does not match"),
    ("header-signed-by-another-key", _resigned_by_a_stranger, "the signature does not match"),
    ("flipped-chunk-byte", _in_a_chunk, "chunk 1 does not match its hash"),
    ("flipped-signature-byte", _in_the_signature, "the signature does not match"),
    ("truncated", lambda p: bundle(p)[: len(bundle(p)) - 100], "cut short inside chunk 1"),
    ("truncated-to-the-header", lambda p: bundle(p)[:40], "truncated"),
    ("truncated-after-the-header", lambda p: Parsed.of(bundle(p)).file([]), "ends after chunk 0"),
    ("appended-bytes", lambda p: bundle(p) + b"\x00" * 16, "more after the last chunk"),
    ("newer-version", _newer, "newer format (version 3)"),
    ("not-a-bundle", lambda p: b"PK\x03\x04 a zip file", "not a dxfield bundle"),
    ("malformed-json", _malformed_json, "revision 1: is not valid JSON"),
    ("no-manifest", lambda p: bundle(p, plain=b""), "there is no manifest"),
    ("manifest-count-wrong", _count_wrong, "manifest does not match the contents (revisions)"),
    ("tampered-revision", _tampered, "does not match its version id"),
    (
        "invalid-record",
        lambda p: bundle(p, _resealed_activity(p, {"date": "2024-02-30"})),
        "date",
    ),
    (
        "control-characters",
        lambda p: bundle(p, _resealed_activity(p, {"title": "\x1b]0;pwned\x07"})),
        "control character",
    ),
    ("compression-bomb", _bomb, "inflates beyond the size limit"),
]


# -- format 1, as a laptop not yet upgraded writes it ------------------------------------------


def format_1_bundle(by: Store, to: Store, revisions: Sequence[dict[str, Any]]) -> bytes:
    """A format-1 bundle from `by` to `to`, as the last format-1 release wrote it with `by`'s
    real keys: a manifest, then `revisions` without any proof, one canonical JSON line each."""
    from dxfield.sync.format1 import build_bundle

    head = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "sender": by.device.id,
        "recipient": to.device.id,
        "created_at": CREATED_AT,
        "full": True,
        "revisions": len(revisions),
    }
    lines = [json.dumps(head)] + [canonical_json(_without_proof(r)) for r in revisions]
    plain = ("\n".join(lines) + "\n").encode()
    return build_bundle(
        device_keys(by).signing, by.device.id, to.device.id, own_card(to).encryption_key, plain
    )
