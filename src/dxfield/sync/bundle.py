"""Sync bundles: one signed, encrypted file of revisions for one trusted device.

The format (version 1) is specified in docs/bundle-format.md; in short:

    DXFIELD-BUNDLE 1\\n            the magic line, with the format version
    {header JSON}\\n               sender, recipient, encryption, sizes
    payload                        zlib-compressed JSON Lines (a manifest, then one revision a
                                   line), sealed to the recipient's X25519 key when encrypted
    signature                      64 bytes: Ed25519 over everything before it, by the sender

Reading is strict and all in memory, with caps: the signature is checked (against a trusted,
unrevoked sender's key) before anything else is decoded; then the recipient, decryption,
decompression (a bomb stops at the cap), the manifest, and every revision (its id must be the
hash of its content, and its record must validate). Only then does one transaction merge them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from dxfield import clock
from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.store import files, local_state, maintenance, merge
from dxfield.store.engine import Store
from dxfield.sync.keys import (
    SyncError,
    TrustedDevice,
    device_keys,
    find_trusted,
    list_trusted,
)

MAGIC = b"DXFIELD-BUNDLE "
FORMAT_VERSION = 1
HEADER_FORMAT = "dxfield-bundle"
MANIFEST_FORMAT = "dxfield-bundle-manifest"
SIGNATURE_BYTES = 64

MAX_FILE_BYTES = 1 << 30
"""A bundle file larger than this is refused; no more than this is ever read."""
MAX_HEADER_BYTES = 64 << 10
MAX_PAYLOAD_BYTES = 2 << 30
"""The most a payload may decompress to."""
MAX_RATIO = 100
"""...and at most this many times its compressed size (JSON Lines compress about 5 to 10x)."""
MAX_REVISIONS = 5_000_000
MAX_LINE_BYTES = 8 << 20
COMPRESSION_LEVEL = 1
"""zlib's fastest: JSON Lines still shrink to about a sixth, at a third of level 6's time."""

_WATERMARK = local_state.EXPORT_WATERMARK
_LOG = "bundle-log:"


PROBLEMS = problems(
    {
        "bundle.unreadable_file": N_("bundle refused: {problem}"),
        "bundle.not_a_bundle": N_("bundle refused: not a dxfield bundle"),
        "bundle.unreadable_version": N_("bundle refused: unreadable format version"),
        "bundle.newer_format": N_(
            "bundle refused: it is a newer format (version {version}); update dxfield"
        ),
        "bundle.wrong_version": N_("bundle refused: wrong format version"),
        "bundle.truncated": N_("bundle refused: the file is truncated"),
        "bundle.corrupt_header": N_("bundle refused: the header is corrupt"),
        "bundle.not_a_header": N_("bundle refused: the header is not a bundle header"),
        "bundle.bad_signature": N_(
            "bundle refused: the signature does not match (altered, damaged or truncated file)"
        ),
        "bundle.wrong_payload_length": N_("bundle refused: the payload length is wrong"),
        "bundle.other_recipient": N_("bundle refused: it is addressed to another device"),
        "bundle.cannot_decrypt": N_(
            "bundle refused: it cannot be decrypted with this device's key"
        ),
        "bundle.unreadable_encryption": N_("bundle refused: unreadable encryption flag"),
        "bundle.unknown_compression": N_("bundle refused: unknown compression"),
        "bundle.no_sender": N_("bundle refused: no sender"),
        "bundle.untrusted_sender": N_(
            "bundle refused: the sender {device} is not a trusted device"
        ),
        "bundle.revoked_sender": N_("bundle refused: the sender {device} was revoked"),
        "bundle.corrupt_compression": N_("bundle refused: the compressed data is corrupt"),
        "bundle.too_large": N_("bundle refused: it inflates beyond the size limit"),
        "bundle.no_manifest": N_("bundle refused: there is no manifest"),
        "bundle.too_many_revisions": N_("bundle refused: more than {limit} revisions"),
        "bundle.line_too_long": N_("bundle refused: a line is too long"),
        "bundle.manifest_mismatch": N_("bundle refused: the manifest does not match the contents"),
        "bundle.manifest_not_json": N_("bundle refused: the manifest is not valid JSON"),
        "bundle.manifest_too_deep": N_("bundle refused: the manifest is nested too deeply"),
        "bundle.revision_not_json": N_("bundle refused: revision {number}: is not valid JSON"),
        "bundle.revision_too_deep": N_("bundle refused: revision {number}: is nested too deeply"),
        "bundle.revision_refused": N_("bundle refused: revision {number}: {problem}"),
        "bundle.earlier_bundle_first": N_(
            "bundle refused: revision {number}: {problem}; import {device}'s earlier bundles "
            "first and then this one again, or ask {device} for a full bundle"
        ),
        "bundle.recipient_revoked": N_("device {device} has been revoked"),
        "bundle.not_hub_account": N_(
            "only the hub's own account imports and exports its bundles (the hub's key file is in "
            "that account's data folder); {device} works on the hub but does not sync it"
        ),
    }
)


class BundleError(SyncError):
    """A bundle that is refused: nothing of it was written."""


def _refuse(code: str, **values: Any) -> BundleError:
    return BundleError(code, **values)


@dataclass(frozen=True)
class ExportResult:
    """What `export_bundle` wrote."""

    path: Path
    recipient: str
    revisions: int
    bytes: int
    encrypted: bool
    full: bool


@dataclass(frozen=True)
class ImportResult:
    """What `import_bundle` did with one file (nothing, with `dry_run`)."""

    path: Path
    sender: str
    revisions: int
    new: int
    updated: int
    unchanged: int
    conflicting: int
    skewed: int
    dry_run: bool


# -- export --------------------------------------------------------------------------------------


def require_hub_account(store: Store) -> None:
    """On a shared hub, bundles are the hub's: signed and opened with the hub's keys, counted
    against its watermarks. A colleague's account (their own keys) neither sends nor takes them."""
    if store.hub_id is not None and store.device.id != store.hub_id:
        raise _refuse("bundle.not_hub_account", device=store.device.name)


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def export_bundle(
    store: Store,
    out: Path,
    recipient: str,
    *,
    full: bool = False,
    encrypt: bool = True,
) -> ExportResult:
    """Write one bundle for the trusted device `recipient` (name or id): every revision that
    arrived here since the last bundle for it (`full`: all of them)."""
    require_hub_account(store)
    target = _recipient(store, recipient)
    keys = device_keys(store)
    watermark_key = _WATERMARK + target.card.id
    watermark = 0 if full else int(local_state.get_value(store, watermark_key, 0))
    with store.read() as conn:
        revision_lines, newest = merge.revision_lines_since(conn, watermark)
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": FORMAT_VERSION,
        "sender": store.device.id,
        "recipient": target.card.id,
        "created_at": _now(),
        "full": full,
        "revisions": len(revision_lines),
    }
    lines = [json.dumps(manifest, sort_keys=True, ensure_ascii=False), *revision_lines]
    data = build_bundle(
        keys.signing,
        store.device.id,
        target.card.id,
        target.card.encryption_key if encrypt else None,
        ("\n".join(lines) + "\n").encode(),
    )
    maintenance.write_atomically(store, out, data)
    # Forward only: of two exports to one device at once, the one that read less may finish
    # last; its watermark must not take the other's back (that would send it all again).
    with store.unit() as unit:
        if newest > int(local_state.get_value(unit, watermark_key, 0)):
            local_state.put_value(unit, watermark_key, newest)
    _log(store, "out", target, out, data, {"revisions": len(revision_lines), "full": full})
    return ExportResult(out, target.name, len(revision_lines), len(data), encrypt, full)


def build_bundle(
    signing_key: SigningKey,
    sender_id: str,
    recipient_id: str,
    encryption_key: str | None,
    plain: bytes,
) -> bytes:
    """The bytes of a bundle: magic line, header, the payload `plain` compressed (and sealed to
    `encryption_key`, base64, unless None), then the Ed25519 signature over all of it."""
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


def _recipient(store: Store, text: str) -> TrustedDevice:
    device = find_trusted(store, text)
    if device.revoked:
        raise LocalizedError("bundle.recipient_revoked", device=quote(device.name))
    return device


def _log(
    store: Store,
    direction: str,
    peer: TrustedDevice,
    path: Path,
    data: bytes,
    counts: dict[str, Any],
) -> None:
    digest = hashlib.sha256(data).hexdigest()
    at = _now()
    local_state.put_value(
        store,
        f"{_LOG}{at}-{direction}-{digest[:16]}",
        {
            "direction": direction,
            "peer": peer.name,
            "peer_id": peer.card.id,
            "file": str(path),
            "sha256": digest,
            "at": at,
            **counts,
        },
    )


def bundle_log(store: Store) -> list[dict[str, Any]]:
    """Bundles written and read here, newest first."""
    entries = local_state.values_with_prefix(store, _LOG)
    return [entries[key] for key in sorted(entries, reverse=True)]


def unexported_counts(store: Store) -> dict[str, int]:
    """For each trusted device: how many revisions arrived here since its last bundle."""
    result = {}
    with store.read() as conn:
        for device in list_trusted(store):
            if device.revoked:
                continue
            watermark = int(local_state.get_value(store, _WATERMARK + device.card.id, 0))
            result[device.name] = merge.count_revisions_since(conn, watermark)
    return result


# -- import --------------------------------------------------------------------------------------


def read_bundle(store: Store, path: Path) -> tuple[TrustedDevice, list[dict[str, Any]], bytes]:
    """Read and check one bundle completely, writing nothing: (sender, checked revisions,
    the file's bytes). Any problem is a BundleError naming it."""
    try:
        # Only a regular file is opened (not a pipe, a device, a folder), and no more than the
        # cap is read from it, whatever its size said.
        data = files.read_regular_file(path, MAX_FILE_BYTES)
    except LocalizedError as exc:
        raise _refuse("bundle.unreadable_file", problem=exc) from None
    if not data.startswith(MAGIC):
        raise _refuse("bundle.not_a_bundle")
    first = data.find(b"\n", 0, len(MAGIC) + 16)
    version_text = data[len(MAGIC) : first] if first > 0 else b""
    if not version_text.isdigit():
        raise _refuse("bundle.unreadable_version")
    if int(version_text) > FORMAT_VERSION:
        raise _refuse("bundle.newer_format", version=int(version_text))
    if int(version_text) != FORMAT_VERSION:
        raise _refuse("bundle.wrong_version")
    end = data.find(b"\n", first + 1, first + 1 + MAX_HEADER_BYTES)
    if end < 0 or len(data) < end + 1 + SIGNATURE_BYTES:
        raise _refuse("bundle.truncated")
    try:
        header = json.loads(data[first + 1 : end])
    except ValueError:
        raise _refuse("bundle.corrupt_header") from None
    if not isinstance(header, dict) or header.get("format") != HEADER_FORMAT:
        raise _refuse("bundle.not_a_header")
    sender = _sender(store, header.get("sender"))
    body, signature = data[:-SIGNATURE_BYTES], data[-SIGNATURE_BYTES:]
    try:
        VerifyKey(base64.b64decode(sender.card.signing_key)).verify(body, signature)
    except BadSignatureError:
        raise _refuse("bundle.bad_signature") from None
    payload = body[end + 1 :]
    if header.get("payload_bytes") != len(payload):
        raise _refuse("bundle.wrong_payload_length")
    if header.get("recipient") != store.device.id:
        raise _refuse("bundle.other_recipient")
    if header.get("encrypted") is True:
        try:
            payload = SealedBox(device_keys(store).encryption).decrypt(payload)
        except CryptoError:
            raise _refuse("bundle.cannot_decrypt") from None
    elif header.get("encrypted") is not False:
        raise _refuse("bundle.unreadable_encryption")
    if header.get("compression") != "zlib":
        raise _refuse("bundle.unknown_compression")
    text = _inflate(payload)
    revisions = _parse_payload(text, header)
    return sender, revisions, data


def _sender(store: Store, sender_id: object) -> TrustedDevice:
    if not isinstance(sender_id, str):
        raise _refuse("bundle.no_sender")
    known = {t.card.id: t for t in list_trusted(store)}
    sender = known.get(sender_id)
    if sender is None:
        raise _refuse("bundle.untrusted_sender", device=quote(sender_id))
    if sender.revoked:
        raise _refuse("bundle.revoked_sender", device=quote(sender.name))
    return sender


def _inflate(payload: bytes) -> bytes:
    limit = min(MAX_PAYLOAD_BYTES, max(len(payload), 1) * MAX_RATIO)
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(payload, limit)
    except zlib.error:
        raise _refuse("bundle.corrupt_compression") from None
    if inflater.unconsumed_tail:
        raise _refuse("bundle.too_large")
    if not inflater.eof or inflater.unused_data:
        raise _refuse("bundle.corrupt_compression")
    return text


def _parse_payload(text: bytes, header: dict[str, Any]) -> list[dict[str, Any]]:
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise _refuse("bundle.no_manifest")
    if len(lines) - 1 > MAX_REVISIONS:
        raise _refuse("bundle.too_many_revisions", limit=MAX_REVISIONS)
    if any(len(line) > MAX_LINE_BYTES for line in lines):
        raise _refuse("bundle.line_too_long")
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
        raise _refuse("bundle.manifest_mismatch")
    checked = []
    for number, revision in enumerate(revisions, 1):
        try:
            checked.append(merge.check_revision(revision))
        except LocalizedError as exc:
            raise _refused_revision(number, exc) from None
    return checked


def _json_line(line: bytes, number: int) -> Any:
    """One line of the payload as JSON (`number` 0 is the manifest, then each revision's)."""
    try:
        return json.loads(line)
    except (ValueError, UnicodeDecodeError):
        problem = "not_json"
    except RecursionError:
        problem = "too_deep"
    if number == 0:
        raise _refuse(f"bundle.manifest_{problem}")
    raise _refuse(f"bundle.revision_{problem}", number=number)


def _refused_revision(number: int, exc: LocalizedError) -> BundleError:
    """One line naming the revision's place in the bundle, its field and what is wrong."""
    return BundleError("bundle.revision_refused", number=number, problem=exc)


class _DryRun(Exception):
    """Raised inside the transaction of a dry run, so that it rolls back."""


def import_bundle(store: Store, path: Path, *, dry_run: bool = False) -> ImportResult:
    """Verify, decrypt, check and merge one bundle in one transaction (none of it on error)."""
    require_hub_account(store)
    sender, revisions, data = read_bundle(store, path)
    report = merge.MergeReport()
    watermark_key = _WATERMARK + sender.card.id
    try:
        with store.unit() as unit:
            before = merge.latest_arrival(unit.conn)
            report = merge.apply_revisions(
                unit, revisions, sender=sender.card.id, sender_name=sender.name
            )
            after = merge.latest_arrival(unit.conn)
            if dry_run:
                raise _DryRun
            # What just came from the sender need not go back to it: when nothing else was
            # waiting for it, its watermark moves past this import. In the same unit, under the
            # write lock: what arrived between `before` and `after` is this import's alone.
            if int(local_state.get_value(unit, watermark_key, 0)) >= before:
                local_state.put_value(unit, watermark_key, after)
    except _DryRun:
        pass
    except merge.RevisionRefused as exc:
        number = next((n for n, r in enumerate(revisions, 1) if r["rev_id"] == exc.rev_id), 0)
        if exc.code == "revision.parent_missing":
            # Most likely an incremental bundle that came before the one holding that version:
            # nothing is lost, the order is. Say how to go on.
            raise BundleError(
                "bundle.earlier_bundle_first", number=number, problem=exc, device=sender.name
            ) from None
        raise _refused_revision(number, exc) from None
    result = ImportResult(
        path=path,
        sender=sender.name,
        revisions=len(revisions),
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        conflicting=report.conflicting,
        skewed=len(report.skewed),
        dry_run=dry_run,
    )
    if not dry_run:
        counts = asdict(result)
        counts.pop("path")
        _log(store, "in", sender, path, data, counts)
    return result
