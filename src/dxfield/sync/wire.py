"""What both bundle formats share on the wire: the magic line, the header's format name, the
caps every reader keeps, and the refusal (`BundleError`) with the lines both formats say.

Format 1 (`dxfield.sync.format1`) is what releases before format 2 wrote; format 2
(`dxfield.sync.container`) is what dxfield writes now. docs/bundle-format.md specifies both.
"""

from __future__ import annotations

from typing import Any

from dxfield.i18n import N_, problems
from dxfield.sync.keys import SyncError

MAGIC = b"DXFIELD-BUNDLE "
HEADER_FORMAT = "dxfield-bundle"
MANIFEST_FORMAT = "dxfield-bundle-manifest"
SIGNATURE_BYTES = 64
MAX_REVISIONS = 5_000_000
MAX_LINE_BYTES = 8 << 20
VERSION_DIGITS = 16
"""The magic line's version number is read from at most this many bytes."""

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


def refuse(code: str, **values: Any) -> BundleError:
    """The refusal `code` (one of PROBLEMS, or another module's bundle line) as an error."""
    return BundleError(code, **values)


def version_of(first_bytes: bytes) -> int:
    """The format version a file's first bytes announce (`DXFIELD-BUNDLE N\\n`); refused when it
    is not a bundle or the number cannot be read."""
    if not first_bytes.startswith(MAGIC):
        raise refuse("bundle.not_a_bundle")
    end = first_bytes.find(b"\n", len(MAGIC), len(MAGIC) + VERSION_DIGITS + 1)
    text = first_bytes[len(MAGIC) : end] if end > 0 else b""
    if not text.isdigit() or len(text) > VERSION_DIGITS:
        raise refuse("bundle.unreadable_version")
    return int(text)
