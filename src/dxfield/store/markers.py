"""What opening a store looks for before it does anything else: the marks in local state that
say the reference data is loaded, the authorship upgrade done and (on a hub) a person's device
trusted, the file a rotation of the hub's key leaves while it is unfinished, and a person's
identity on a hub.

Kept apart, free of SQLAlchemy, so that the light read path (`store/light.py`) tells a store
that needs nothing done at open exactly as `Store.open` does.
"""

from __future__ import annotations

import contextlib
import json

REFERENCE_VERSION = "1"
"""The version of the bundled reference data (store/reference.py)."""
REFERENCE_VERSION_KEY = "reference_version"
"""The local-state key holding the reference version a store has loaded."""
UPGRADED_KEY = "authorship-upgraded:"
"""The local-state key (followed by the device id) of a store whose own revisions are signed
(store/authorship.py's `upgrade`)."""
NEXT_SUFFIX = ".next"
"""Beside the key file, the new keys of a rotation not yet put in place (store/key_rotation.py)."""
TRUSTED_PREFIX = "trusted-device:"
"""The local-state key (followed by the device id) of a device whose card the store trusts
(`dxfield.sync.keys`; on a hub, the person may write: enrollment)."""
IDENTITY_FILE = "hub-identity.json"
"""In a person's data folder, their device identity on a hub (store/hub.py's `person_of`)."""
IDENTITY_LIMIT = 4096
"""The most bytes of an identity file read."""


def trusts(value: str | None) -> bool:
    """Whether a `TRUSTED_PREFIX` value says its device is trusted (its card not revoked)."""
    if not value:
        return False
    with contextlib.suppress(ValueError, AttributeError):
        return not json.loads(value).get("revoked")
    return False
