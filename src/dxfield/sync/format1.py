"""Format 1 of the bundle, as releases before format 2 wrote it: read on a hub during its window
for laptops not yet upgraded (`dxfield hub accept-v1`), and written only by the tests.

    DXFIELD-BUNDLE 1\\n            the magic line, with the format version
    {header JSON}\\n               sender, recipient, encryption, sizes
    payload                        zlib-compressed JSON Lines (a manifest, then one revision a
                                   line), sealed to the recipient's X25519 key when encrypted
    signature                      64 bytes: Ed25519 over everything before it, by the sender

Reading is strict and all in memory, with caps: the signature is checked (against a trusted,
unrevoked sender's key) before anything else is decoded; then the recipient, decryption,
decompression (a bomb stops at the cap), the manifest, and every revision (its id must be the
hash of its content, and its record must validate).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from dxfield.domain.errors import LocalizedError
from dxfield.store import merge
from dxfield.sync.wire import (
    HEADER_FORMAT,
    MAGIC,
    MANIFEST_FORMAT,
    MAX_LINE_BYTES,
    MAX_REVISIONS,
    SIGNATURE_BYTES,
    BundleError,
    refuse,
)

FORMAT_VERSION = 1
MAX_FILE_BYTES = 1 << 30
"""A format-1 file larger than this is refused; no more than this is ever read."""
MAX_HEADER_BYTES = 64 << 10
MAX_PAYLOAD_BYTES = 2 << 30
"""The most a payload may decompress to."""
MAX_RATIO = 100
"""...and at most this many times its compressed size (JSON Lines compress about 5 to 10x)."""
COMPRESSION_LEVEL = 1


@dataclass(frozen=True)
class Read:
    """A format-1 bundle read and checked: who sent it and its revisions (rows to insert)."""

    sender: str
    revisions: list[dict[str, Any]]
    digests: dict[str, bytes]
    """Each revision's digest by its id (what the hub attests)."""


def build_bundle(
    signing_key: SigningKey,
    sender_id: str,
    recipient_id: str,
    encryption_key: str | None,
    plain: bytes,
) -> bytes:
    """The bytes of a format-1 bundle: magic line, header, the payload `plain` compressed (and
    sealed to `encryption_key`, base64, unless None), then the Ed25519 signature over all of it.
    dxfield no longer writes format 1; the tests make the bundles an older laptop would."""
    payload = zlib.compress(plain, COMPRESSION_LEVEL)
    if encryption_key is not None:
        payload = SealedBox(PublicKey(base64.b64decode(encryption_key))).encrypt(payload)
    header = {
        "format": HEADER_FORMAT,
        "version": FORMAT_VERSION,
        "sender": sender_id,
        "recipient": recipient_id,
        "encrypted": encryption_key is not None,
        "compression": "zlib",
        "payload_bytes": len(payload),
    }
    body = (
        MAGIC
        + str(FORMAT_VERSION).encode()
        + b"\n"
        + json.dumps(header, sort_keys=True).encode()
        + b"\n"
        + payload
    )
    return body + signing_key.sign(body).signature


def read_bundle(
    data: bytes,
    verify_key_for: Callable[[object], VerifyKey],
    device_id: str,
    private_key: PrivateKey,
) -> Read:
    """Check a whole format-1 file (`data`, its version already read as 1): the sender's key
    comes from `verify_key_for` (which refuses an unknown or revoked sender), the signature is
    checked before anything else is decoded. Any problem is a BundleError naming it."""
    first = data.find(b"\n")
    end = data.find(b"\n", first + 1, first + 1 + MAX_HEADER_BYTES)
    if end < 0 or len(data) < end + 1 + SIGNATURE_BYTES:
        raise refuse("bundle.truncated")
    try:
        header = json.loads(data[first + 1 : end])
    except (ValueError, RecursionError):
        raise refuse("bundle.corrupt_header") from None
    if not isinstance(header, dict) or header.get("format") != HEADER_FORMAT:
        raise refuse("bundle.not_a_header")
    key = verify_key_for(header.get("sender"))
    body, signature = data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
    try:
        key.verify(body, signature)
    except BadSignatureError:
        raise refuse("bundle.bad_signature") from None
    payload = body[end + 1 :]
    if header.get("payload_bytes") != len(payload):
        raise refuse("bundle.wrong_payload_length")
    if header.get("recipient") != device_id:
        raise refuse("bundle.other_recipient")
    if header.get("encrypted") is True:
        try:
            payload = SealedBox(private_key).decrypt(payload)
        except CryptoError:
            raise refuse("bundle.cannot_decrypt") from None
    elif header.get("encrypted") is not False:
        raise refuse("bundle.unreadable_encryption")
    if header.get("compression") != "zlib":
        raise refuse("bundle.unknown_compression")
    text = _inflate(payload)
    rows, digests = _parse_payload(text, header)
    return Read(str(header["sender"]), rows, digests)


def _inflate(payload: bytes) -> bytes:
    limit = min(MAX_PAYLOAD_BYTES, max(len(payload), 1) * MAX_RATIO)
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(payload, limit)
    except zlib.error:
        raise refuse("bundle.corrupt_compression") from None
    if inflater.unconsumed_tail:
        raise refuse("bundle.too_large")
    if not inflater.eof or inflater.unused_data:
        raise refuse("bundle.corrupt_compression")
    return text


def _parse_payload(
    text: bytes, header: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise refuse("bundle.no_manifest")
    if len(lines) - 1 > MAX_REVISIONS:
        raise refuse("bundle.too_many_revisions", limit=MAX_REVISIONS)
    if any(len(line) > MAX_LINE_BYTES for line in lines):
        raise refuse("bundle.line_too_long")
    manifest = _json_line(lines[0], 0)
    revisions = [_json_line(line, number) for number, line in enumerate(lines[1:], 1)]
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or manifest.get("version") != FORMAT_VERSION
        or manifest.get("sender") != header.get("sender")
        or manifest.get("recipient") != header.get("recipient")
        or manifest.get("revisions") != len(revisions)
    ):
        raise refuse("bundle.manifest_mismatch")
    checked = []
    digests = {}
    for number, revision in enumerate(revisions, 1):
        try:
            row, found = merge.checked_revision(revision)
        except LocalizedError as exc:
            raise refused_revision(number, exc) from None
        checked.append(row)
        digests[row["rev_id"]] = found
    return checked, digests


def _json_line(line: bytes, number: int) -> Any:
    """One line of the payload as JSON (`number` 0 is the manifest, then each revision's)."""
    try:
        return json.loads(line)
    except (ValueError, UnicodeDecodeError):
        problem = "not_json"
    except RecursionError:
        problem = "too_deep"
    if number == 0:
        raise refuse(f"bundle.manifest_{problem}")
    raise refuse(f"bundle.revision_{problem}", number=number)


def refused_revision(number: int, exc: LocalizedError) -> BundleError:
    """One line naming the revision's place in the bundle, its field and what is wrong."""
    return BundleError("bundle.revision_refused", number=number, problem=exc)
