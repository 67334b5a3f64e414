"""The device's private keys on disk: `device-keys.json` in the data folder, owner-only.

What is checked here is the file: a regular file of at most 64 KiB holding a JSON object with the
device's id and two base64 keys of 32 bytes; and, on POSIX systems, its mode: a key file that
other users can read or write is refused, as ssh refuses such a private key, naming the chmod
that fixes it. The keys themselves (PyNaCl objects) are made and used by `dxfield.sync.keys`;
`dxfield.store.backups` carries this file inside a backup.
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

from dxfield.domain.errors import LocalizedError
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


def _unreadable(source: object, reason_ja: str, reason_en: str) -> LocalizedError:
    return LocalizedError(
        f"鍵ファイル {source} が読めません({reason_ja})。ファイルは変更していません",
        f"cannot read the key file {source} ({reason_en}); it was left as it is",
    )


def parse_key_text(raw: bytes | str, source: object) -> KeyFileData:
    """The key file's content checked: a JSON object, a device id, two 32-byte keys."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise _unreadable(source, "JSONではありません", "not JSON") from None
    if not isinstance(data, dict):
        raise _unreadable(source, "形式が違います", "not a key file")
    values: dict[str, str] = {}
    for name in ("device_id", "signing_seed", "encryption_key"):
        value = data.get(name)
        if not isinstance(value, str) or not value or len(value) > 200:
            raise _unreadable(source, f"{name} がありません", f"{name} is missing")
        values[name] = value
    for name in ("signing_seed", "encryption_key"):
        try:
            key = base64.b64decode(values[name], validate=True)
        except (ValueError, binascii.Error):
            raise _unreadable(
                source, f"{name} がbase64ではありません", f"{name} is not base64"
            ) from None
        if len(key) != 32:
            raise _unreadable(source, f"{name} の長さが違います", f"{name} has the wrong length")
    return KeyFileData(**values)


def wrong_device(path: Path, keys: KeyFileData, device_id: str) -> LocalizedError | None:
    """The error when the keys at `path` are not those of the device `device_id`, else None."""
    if keys.device_id == device_id:
        return None
    return LocalizedError(
        f"鍵ファイル {path} は別の端末({keys.device_id})のもので、このストアの端末"
        f"({device_id})のものではありません。ストアと鍵をバックアップから戻す"
        "(dxfield restore-backup ファイル)か、鍵ファイルを移して新しい鍵を作ってください"
        "(他の端末は新しいカードを信頼し直す必要があります)",
        f"the key file {path} belongs to another device ({keys.device_id}), not to this "
        f"store's ({device_id}): restore the store and its keys from a backup "
        "(dxfield restore-backup FILE), or move the key file away to make new keys (other "
        "devices must then trust the new card)",
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
        raise LocalizedError(
            f"鍵ファイル {path} を他のユーザーも読み書きできます(モード {mode:04o})。"
            f"秘密鍵なので使いません。`chmod 600 {path}` で自分だけにしてください",
            f"the key file {path} is open to other users (mode {mode:04o}), so its private "
            f"keys are not used; make it yours alone with: chmod 600 {path}",
        )


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


def write_key_file(path: Path, keys: KeyFileData) -> None:
    """Write the key file, owner-only, atomically."""
    write_private(path, keys.text().encode())
