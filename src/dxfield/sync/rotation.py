"""The hub rotates its key: new keys, the new card signed by the old key, everything re-signed.

A laptop trusts the hub's card its person checked. After a rotation it follows the chain: every
bundle the hub writes carries its chain of keys in the header (each new card signed by the key
before it), and the roster carries it too, so a laptop that knows any earlier key verifies the
current one, and from then on trusts only the current one (docs/bundle-format.md).

In one unit, the hub signs again with its new key every revision it wrote and attests again
every revision it attested, keeps the chain, and issues a new roster. The new keys are written
beside the key file first (`device-keys.json.next`) and put in its place once the unit has
committed; a process killed in between leaves them there, and the next open puts them in place
(store/key_rotation.py): the keys and what they signed never disagree.
The old key file is kept beside it (owner-only), for the person to destroy once the laptops have
synced; nothing here reads it again.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from dxfield import clock
from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.store.authorship import is_hub_account, vouch_again
from dxfield.store.engine import Store
from dxfield.store.key_file import KeyFileData, key_path, read_key_file, write_key_file
from dxfield.store.key_rotation import next_key_path
from dxfield.sync.keys import DeviceCard, own_card
from dxfield.sync.roster import hub_roster, keep_hub_steps_in, parse_roster, rotated_steps

PROBLEMS = problems(
    {
        "rotate.not_hub": N_(
            "only the hub's own account rotates the hub's key; {device} is not it"
        ),
        "rotate.no_keys": N_("the hub has no keys to rotate yet (its key file is missing)"),
    }
)


@dataclass(frozen=True)
class Rotated:
    """What a rotation did."""

    card: DeviceCard
    """The hub's new card (its fingerprint is the one to check from now on)."""
    previous_fingerprint: str
    old_key_file: Path
    signed: int
    attested: int
    roster_serial: int


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def rotate_hub_key(store: Store) -> Rotated:
    """Give the hub new keys (see the module's text)."""
    if not is_hub_account(store):
        raise LocalizedError("rotate.not_hub", device=quote(store.device.name))
    path = key_path(store.data_dir)
    old = read_key_file(path)
    if old is None:
        raise LocalizedError("rotate.no_keys")
    old_card = own_card(store)
    old_signing = SigningKey(base64.b64decode(old.signing_seed))
    signing, encryption = SigningKey.generate(), PrivateKey.generate()
    new = KeyFileData(store.device.id, _b64(bytes(signing)), _b64(bytes(encryption)))
    card = DeviceCard(
        id=old_card.id,
        name=old_card.name,
        role=old_card.role,
        signing_key=_b64(bytes(signing.verify_key)),
        encryption_key=_b64(bytes(encryption.public_key)),
    )
    steps = rotated_steps(store, old_signing, card)
    kept = path.with_name(f"{path.name}.before-{clock.file_stamp()}")
    write_key_file(kept, old)
    pending = next_key_path(store.data_dir)
    write_key_file(pending, new)  # killed after the unit commits: put in place at next open
    try:
        with store.unit() as unit:
            chain = [str(step["card"]["signing_key"]) for step in steps[:-1]]
            done = vouch_again(store, unit.conn, signing, chain)
            keep_hub_steps_in(unit.conn, steps)
    except BaseException:
        with contextlib.suppress(OSError):
            pending.unlink()  # nothing was signed with it
        raise
    write_key_file(path, new)
    with contextlib.suppress(OSError):
        pending.unlink()
    store.forget_keys()
    roster = parse_roster(hub_roster(store))[0]
    return Rotated(card, old_card.fingerprint, kept, done.signed, done.attested, roster.serial)
