"""Proofs of authorship verified a batch at a time, in a helper process (`authors.Checking`).

Verifying an Ed25519 signature is libsodium's work, which lets go of Python's lock; but a
thread doing it must take that lock back after each of them from a main thread busy checking the
next page's rows, and waits for it: measured on two cores, a thread verified only while the
main thread waited, so that a bundle's check of 100,000 revisions took as long as checking and
verifying one after the other (28.7 s, 17.2 s without verifying). A helper process has no
share in that lock.

This module is all a helper imports (with PyNaCl), so that one starts quickly; what it is sent
is bytes and text, and what it gives back positions.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

Job = tuple[tuple[bytes, ...], bytes, object]
"""One proof to verify: the keys any of which may have made it (raw 32 bytes each), the message
it proves, and the proof as the bundle carries it (base64 of 64 bytes, unchecked)."""


def verifies(key: bytes, message: bytes, proof: object) -> bool:
    """Whether `proof` is the signature of `message` by `key`."""
    if not isinstance(proof, str):
        return False
    try:
        signature = base64.b64decode(proof, validate=True)
        crypto_sign_open(signature + message, key)
    except (ValueError, BadSignatureError):
        return False
    return len(signature) == 64


def failing(jobs: Sequence[Job]) -> list[int]:
    """The positions of the jobs whose proof none of their keys verifies (in order)."""
    return [
        n
        for n, (keys, message, proof) in enumerate(jobs)
        if not any(verifies(key, message, proof) for key in keys)
    ]
