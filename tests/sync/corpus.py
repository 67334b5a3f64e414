"""The corpus of bad bundles: each one built from a good bundle by one fault.

Every entry is (name, the fault, the words the one-line error must hold). A bundle is made for
a pair of stores (sender, receiver) that trust each other, so each fault is the only thing wrong.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from dxfield.store import merge
from dxfield.store.engine import Store
from dxfield.store.revisions import canonical_json, revision_id
from dxfield.sync.format1 import build_bundle
from dxfield.sync.keys import device_keys, own_card
from dxfield.sync.wire import MAGIC, MANIFEST_FORMAT


@dataclass(frozen=True)
class Pair:
    """A sender and a receiver that trust each other, and a third device nobody trusts."""

    sender: Store
    receiver: Store
    stranger: Store


def manifest(pair: Pair, count: int) -> str:
    return json.dumps(
        {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "sender": pair.sender.device.id,
            "recipient": pair.receiver.device.id,
            "created_at": "2024-11-26T00:00:00+00:00",
            "full": True,
            "revisions": count,
        }
    )


def sender_revisions(pair: Pair) -> list[dict[str, object]]:
    with pair.sender.read() as conn:
        return merge.all_revisions(conn)


def bundle(pair: Pair, lines: list[str] | None = None, *, by: Store | None = None,
           to: Store | None = None, plain: bytes | None = None) -> bytes:  # fmt: skip
    """A bundle from `by` (the sender) to `to` (the receiver) of `lines` (all the sender has)."""
    by = by or pair.sender
    to = to or pair.receiver
    if plain is None:
        if lines is None:
            revisions = sender_revisions(pair)
            lines = [manifest(pair, len(revisions))] + [canonical_json(r) for r in revisions]
        plain = ("\n".join(lines) + "\n").encode()
    return build_bundle(
        device_keys(by).signing, by.device.id, to.device.id, own_card(to).encryption_key, plain
    )


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _resealed_revision(pair: Pair, change: dict[str, object]) -> list[str]:
    """All the sender's revisions, the last activity's content changed and its id made to match."""
    revisions = sender_revisions(pair)
    index = max(i for i, r in enumerate(revisions) if r["entity"] == "activity")
    revision = dict(revisions[index])
    data = {**revision["data"], **change}  # type: ignore[dict-item]
    revision["data"] = data
    revision["rev_id"] = revision_id(
        int(revision["generation"]),  # type: ignore[call-overload]
        "activity",
        str(revision["entity_id"]),
        list(revision["parents"]),  # type: ignore[call-overload]
        str(revision["hlc"]),
        str(revision["device_id"]),
        bool(revision["deleted"]),
        data,
    )
    revisions[index] = revision
    return [manifest(pair, len(revisions))] + [canonical_json(r) for r in revisions]


def _bomb(pair: Pair) -> bytes:
    """A payload that inflates a thousandfold: 40 MB of spaces after the manifest."""
    compressor = zlib.compressobj(9)
    head = (manifest(pair, 0) + "\n").encode()
    chunks = [compressor.compress(head)]
    block = b" " * (1 << 20)
    chunks += [compressor.compress(block) for _ in range(40)]
    chunks.append(compressor.flush())
    deflated = b"".join(chunks)
    from base64 import b64decode

    from nacl.public import PublicKey, SealedBox

    sealed = SealedBox(PublicKey(b64decode(own_card(pair.receiver).encryption_key))).encrypt(
        deflated
    )
    header = {
        "format": "dxfield-bundle",
        "version": 1,
        "sender": pair.sender.device.id,
        "recipient": pair.receiver.device.id,
        "encrypted": True,
        "compression": "zlib",
        "payload_bytes": len(sealed),
    }
    body = MAGIC + b"1\n" + json.dumps(header, sort_keys=True).encode() + b"\n" + sealed
    return body + device_keys(pair.sender).signing.sign(body).signature


def _newer(pair: Pair) -> bytes:
    good = bundle(pair)
    return MAGIC + b"2" + good[len(MAGIC) + 1 :]


def _revoked(pair: Pair) -> bytes:
    from dxfield.sync.keys import revoke

    revoke(pair.receiver, pair.sender.device.id)
    return bundle(pair)


CORPUS: list[tuple[str, Callable[[Pair], bytes], str]] = [
    ("unknown-sender", lambda p: bundle(p, by=p.stranger), "not a trusted device"),
    ("revoked-sender", _revoked, "was revoked"),
    ("other-recipient", lambda p: bundle(p, to=p.stranger), "addressed to another device"),
    ("flipped-header-byte", lambda p: _flip(bundle(p), len(MAGIC) + 12), "bundle refused"),
    ("flipped-payload-byte", lambda p: _flip(bundle(p), len(bundle(p)) // 2), "signature"),
    ("flipped-signature-byte", lambda p: _flip(bundle(p), len(bundle(p)) - 5), "signature"),
    ("truncated", lambda p: bundle(p)[: len(bundle(p)) - 100], "signature"),
    ("truncated-to-the-header", lambda p: bundle(p)[:40], "truncated"),
    ("appended-bytes", lambda p: bundle(p) + b"\x00" * 16, "signature"),
    ("newer-version", _newer, "newer format"),
    ("not-a-bundle", lambda p: b"PK\x03\x04 a zip file", "not a dxfield bundle"),
    ("malformed-json", lambda p: bundle(p, [manifest(p, 1), '{"rev_id": ']), "not valid JSON"),
    ("no-manifest", lambda p: bundle(p, plain=b""), "no manifest"),
    (
        "manifest-count-wrong",
        lambda p: bundle(p, [manifest(p, 5), *[canonical_json(r) for r in sender_revisions(p)]]),
        "manifest does not match",
    ),
    (
        "tampered-revision",
        lambda p: bundle(
            p,
            [
                manifest(p, 1),
                canonical_json({**sender_revisions(p)[-1], "hlc": "9" * 13 + "-000000"}),
            ],
        ),
        "does not match its version id",
    ),
    ("invalid-record", lambda p: bundle(p, _resealed_revision(p, {"date": "2024-02-30"})), "date"),
    (
        "control-characters",
        lambda p: bundle(p, _resealed_revision(p, {"title": "\x1b]0;pwned\x07"})),
        "control character",
    ),
    ("compression-bomb", _bomb, "size limit"),
]
