"""A rotation of the hub's key that a killed process left half done is finished at open.

`dxfield hub rotate-key` (sync/rotation.py) writes the new keys beside the key file first
(`device-keys.json.next`, owner-only), then re-signs in one unit that also records the new key
as the last step of the hub's chain of keys, then puts the new key file in place. Killed before
the unit commits, nothing changed: the store's chain still ends with the key in the key file,
and the `.next` file signed nothing (it is left for the next rotation to replace). Killed after,
the store already signs with the new key while the key file holds the old one: the `.next`
file's key is the chain's last, and it is put in place here, before anything signs.
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nacl.signing import SigningKey

from dxfield.domain.errors import LocalizedError
from dxfield.paths import KEY_FILE
from dxfield.store import local_state, markers
from dxfield.store.authorship import HUB_STEPS_KEY
from dxfield.store.key_file import key_path, read_key_file

if TYPE_CHECKING:
    from dxfield.store.engine import Store


def next_key_path(data_dir: Path) -> Path:
    """Where a rotation keeps the new keys until its unit has committed."""
    return data_dir / (KEY_FILE + markers.NEXT_SUFFIX)


def public_signing_key(seed_b64: str) -> str:
    """The base64 public signing key of a key file's signing seed."""
    return base64.b64encode(bytes(SigningKey(base64.b64decode(seed_b64)).verify_key)).decode()


def finish_rotation(store: Store) -> bool:
    """Put a committed rotation's new key file in place (see the module's text); True when
    it did. A `.next` file that is not this device's, or is refused, is left as it is."""
    pending_path = next_key_path(store.data_dir)
    if not os.path.lexists(pending_path):
        return False
    try:
        pending = read_key_file(pending_path)
    except LocalizedError:
        return False
    if pending is None or pending.device_id != store.device.id:
        return False
    steps = local_state.get_value(store, HUB_STEPS_KEY)
    with contextlib.suppress(LookupError, TypeError, AttributeError):
        last = steps[-1]["card"]["signing_key"]
        if isinstance(last, str) and last == public_signing_key(pending.signing_seed):
            try:
                pending_path.replace(key_path(store.data_dir))
            except FileNotFoundError:
                return False  # another process (the rotation itself) put it in place first
            store.forget_keys()
            return True
    return False
