"""The device's private keys on disk: `device-keys.json` in the data folder, owner-only.

What is checked here is the file: a regular file of at most 64 KiB holding a JSON object with the
device's id and two base64 keys of 32 bytes; and, on POSIX systems, its mode: a key file that
other users can read or write is refused, as ssh refuses such a private key, naming the chmod
that fixes it. `device_keys_in` reads the keys (PyNaCl objects) or makes them on first need: the
store signs the revisions it writes with them (`store/authorship.py`), `dxfield.sync.keys` its
bundles and cards; `dxfield.store.backups` carries this file inside a backup.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, Words, gettext, problems, words
from dxfield.paths import KEY_FILE
from dxfield.store.files import read_regular_file

MAX_KEY_FILE_BYTES = 64 << 10


@dataclass(frozen=True)
class KeyFileData:
    """What the key file holds: whose keys, and the two private keys (base64)."""

    device_id: str
    signing_seed: str
    encryption_key: str

    def text(self) -> str:
        """The file's text."""
        return json.dumps(
            {
                "device_id": self.device_id,
                "signing_seed": self.signing_seed,
                "encryption_key": self.encryption_key,
            }
        )


def key_path(data_dir: Path) -> Path:
    """Where the data folder's key file is."""
    return data_dir / KEY_FILE


PROBLEMS = problems(
    {
        "keys.unreadable": N_("cannot read the key file {path} ({reason}); it was left as it is"),
        "keys.other_device": N_(
            "the key file {path} belongs to another device ({found}), not to this store's "
            "({device}): restore the store and its keys from a backup, or move the key file "
            "away to make new keys (other devices must then trust the new card)"
        ),
        "keys.open_to_others": N_(
            "the key file {path} is open to other users (mode {mode}), so its private keys "
            "are not used; make it yours alone with: chmod 600 {path}"
        ),
    }
)


def _unreadable(source: object, reason: Words) -> LocalizedError:
    return LocalizedError("keys.unreadable", path=str(source), reason=reason)


def _about_key(message: str, name: str) -> Words:
    """A reason naming one of the key file's entries (`name`, a key of the file's JSON)."""
    return Words(lambda lang: gettext(message, lang).format(name=name))


def parse_key_text(raw: bytes | str, source: object) -> KeyFileData:
    """The key file's content checked: a JSON object, a device id, two 32-byte keys."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise _unreadable(source, words(N_("not JSON"))) from None
    if not isinstance(data, dict):
        raise _unreadable(source, words(N_("not a key file")))
    values: dict[str, str] = {}
    for name in ("device_id", "signing_seed", "encryption_key"):
        value = data.get(name)
        if not isinstance(value, str) or not value or len(value) > 200:
            raise _unreadable(source, _about_key(N_("{name} is missing"), name))
        values[name] = value
    for name in ("signing_seed", "encryption_key"):
        try:
            key = base64.b64decode(values[name], validate=True)
        except (ValueError, binascii.Error):
            raise _unreadable(source, _about_key(N_("{name} is not base64"), name)) from None
        if len(key) != 32:
            raise _unreadable(source, _about_key(N_("{name} has the wrong length"), name))
    return KeyFileData(**values)


def wrong_device(path: Path, keys: KeyFileData, device_id: str) -> LocalizedError | None:
    """The error when the keys at `path` are not those of the device `device_id`, else None."""
    if keys.device_id == device_id:
        return None
    return LocalizedError(
        "keys.other_device", path=str(path), found=keys.device_id, device=device_id
    )


def refuse_open_to_others(path: Path) -> None:
    """On POSIX systems, refuse a private file that anyone but its owner may read or write.

    Windows and FAT file systems have no such modes: nothing to check there.
    """
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # read_regular_file says what is wrong with it
    if mode & 0o077:
        raise LocalizedError("keys.open_to_others", path=str(path), mode=f"{mode:04o}")


def read_key_file(path: Path) -> KeyFileData | None:
    """The key file at `path` checked (regular, owner-only, well formed), or None if absent."""
    if not os.path.lexists(path):
        return None
    raw = read_regular_file(path, MAX_KEY_FILE_BYTES)
    refuse_open_to_others(path)
    return parse_key_text(raw, path)


def write_private(path: Path, data: bytes) -> None:
    """Write an owner-only file under a temporary name (never through a link left there),
    fsync it, then rename it into place."""
    temp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):  # FAT or Windows: no POSIX modes
        temp.chmod(0o600)
    temp.replace(path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (the file's bytes are synced already)."""
    with contextlib.suppress(OSError):  # Windows opens no folder; some filesystems refuse
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_key_file(path: Path, keys: KeyFileData) -> None:
    """Write the key file, owner-only, atomically."""
    write_private(path, keys.text().encode())


@dataclass(frozen=True)
class DeviceKeys:
    """A device's private keys: Ed25519 to sign, X25519 to open what is sealed to it."""

    signing: SigningKey
    encryption: PrivateKey


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def device_keys_in(data_dir: Path, device_id: str) -> DeviceKeys:
    """The keys of the device `device_id` from the key file of `data_dir`, made (owner-only)
    the first time they are needed.

    A key file that others can read, that is not this device's, or that is not a key file is
    refused in one line and left as it is."""
    path = key_path(data_dir)
    found = read_key_file(path)
    if found is None:
        keys = DeviceKeys(SigningKey.generate(), PrivateKey.generate())
        write_key_file(
            path,
            KeyFileData(
                device_id=device_id,
                signing_seed=_b64(bytes(keys.signing)),
                encryption_key=_b64(bytes(keys.encryption)),
            ),
        )
        return keys
    problem = wrong_device(path, found, device_id)
    if problem is not None:
        raise problem
    return DeviceKeys(
        SigningKey(base64.b64decode(found.signing_seed)),
        PrivateKey(base64.b64decode(found.encryption_key)),
    )
