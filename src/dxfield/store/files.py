"""The files dxfield reads and writes for a person: one guard for every output, one careful
reader of every file named, and names that cannot steer a file elsewhere.

Every verb that writes a file a person names (export, backup, report, export-table, dump, keys
export, and the app's Sync and Report screens) passes through `guard_output`: nothing the data
folder holds is written over, whether it is named directly, through a symlink or a hard link,
and the store's and the keys' own names are never taken there even before those files exist.
Every file a person gives to be read passes through `read_regular_file`: a folder, a pipe or a
device (`/dev/zero`) is refused before it is opened, and no more than the cap is read; so is a
store's own file (closing a handle on it would let go of this process's SQLite locks).
"""

from __future__ import annotations

import contextlib
import os
import stat
import unicodedata
from pathlib import Path
from typing import BinaryIO

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.domain.file_names import is_device_name
from dxfield.i18n import N_, problems, quote
from dxfield.paths import KEY_FILE, STORE_FILE, resolve_data_dir

PROBLEMS = problems(
    {
        "file.missing": N_("no file {path}"),
        "file.unreadable": N_("cannot read {path} ({reason})"),
        "file.not_regular": N_(
            "{path} is not a regular file (a folder, a device or a pipe); nothing was read"
        ),
        "file.too_large": N_("{path} is larger than {limit} bytes"),
        "file.no_folder": N_("the folder {path} does not exist"),
        "file.in_data_folder": N_(
            "{path} is in dxfield's data folder {folder} and would replace what it holds "
            "(the store, its keys...); nothing was written: choose another place"
        ),
        "file.not_utf8": N_("{path} is not UTF-8 text"),
        "file.is_store": N_(
            "{path} is a dxfield store's own file, not one to bring in; nothing was read"
        ),
    }
)

STORE_SIDE_SUFFIXES = ("", "-wal", "-shm", "-journal")
"""The store file and SQLite's files beside it."""
STORE_NAMES = tuple(STORE_FILE + suffix for suffix in STORE_SIDE_SUFFIXES)
"""The store's file and SQLite's beside it, by name."""
RESERVED_NAMES = (
    *STORE_NAMES,
    KEY_FILE,
    KEY_FILE + ".tmp",
    KEY_FILE + ".next",
    KEY_FILE + ".next.tmp",
)
"""Names in a data folder that only dxfield may write, whether or not the file exists yet."""


def _name(path: Path) -> str:
    """A path in a message: quoted (a newline in a name cannot break the line), cut if long."""
    return quote(str(path), 160)


def missing_file(path: Path) -> NotFound:
    """The error for a file a person named that is not there."""
    return NotFound("file.missing", path=quote(str(path)))


def _cannot_read(path: Path, exc: OSError) -> LocalizedError:
    reason = exc.strerror or type(exc).__name__
    return LocalizedError("file.unreadable", path=_name(path), reason=reason)


def _not_regular(path: Path) -> LocalizedError:
    return LocalizedError("file.not_regular", path=_name(path))


def _too_large(path: Path, limit: int) -> LocalizedError:
    return LocalizedError("file.too_large", path=_name(path), limit=limit)


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them.

    Anything else (a folder, a FIFO, a device, a socket) is refused after a `stat`, without
    opening it: opening a FIFO waits for a writer, and `/dev/zero` never ends. The file is
    opened without waiting (`O_NONBLOCK`, where there is one) and checked again once open, in
    case it was swapped in between; then `limit + 1` bytes at most are read.
    """
    with open_regular_file(path, limit) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise _cannot_read(path, exc) from None
    if len(data) > limit:
        raise _too_large(path, limit)
    return data


def open_regular_file(path: Path, limit: int | None = None) -> BinaryIO:
    """The regular file `path`, open for reading in binary (buffered), for a reader that takes
    it piece by piece; refused as `read_regular_file` refuses (not regular, larger than `limit`
    when one is given). The caller closes it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise missing_file(path) from None
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path)
    if _store_side(path, info):
        raise LocalizedError("file.is_store", path=_name(path))
    if limit is not None and info.st_size > limit:
        raise _too_large(path, limit)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise missing_file(path) from None
    except OSError as exc:
        raise _cannot_read(path, exc) from None
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise _not_regular(path)
    return handle


_OPEN_STORES: dict[tuple[int, int], Path] = {}
"""The store files this process has opened, by device and inode, with the name each was opened
by: `note_open_store`, `_open_store`."""


def note_open_store(path: Path) -> None:
    """Remember that this process has the store file `path` open (the engine's, the light
    path's): a file named to be read that is it, under whatever name, is refused."""
    with contextlib.suppress(OSError):
        info = path.stat()
        _OPEN_STORES[info.st_dev, info.st_ino] = path


def _open_store(info: os.stat_result) -> bool:
    """Whether the file `info` describes is a store file this process opened, still there under
    the name it was opened by. A file's inode number is given again once it is gone: a store
    opened and closed earlier, then removed (a test's temporary folder, a demo made anew), must
    not make a new file that happens to get its number (a key file, a table) unreadable."""
    key = (info.st_dev, info.st_ino)
    opened = _OPEN_STORES.get(key)
    if opened is None:
        return False
    try:
        now = opened.stat()
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == key


def _store_side(path: Path, info: os.stat_result) -> bool:
    """Whether `path` (whose `stat` is `info`) is a store's file or one SQLite keeps beside it:
    by its name or its target's, as a store this process has open, or as another name of the
    person's own store's. Never opened to be read: POSIX locks are the process's, and closing
    a handle on the file this process has open as its store would let go of SQLite's locks on
    it (see `engine.refuse_unusable_store_file`)."""
    for shown in (path.name, path.resolve().name):
        if any(_same_name(shown, name) for name in STORE_NAMES):
            return True
    if _open_store(info):
        return True
    return _one_of(path, resolve_data_dir(), STORE_NAMES)


def _one_of(path: Path, folder: Path, names: tuple[str, ...]) -> bool:
    """Whether `path` is the very file (a hard link, a symlink) of one of `names` in `folder`."""
    for name in names:
        candidate = folder / name
        with contextlib.suppress(OSError):
            if candidate.exists() and os.path.samefile(path, candidate):
                return True
    return False


def existing_folder(target: Path) -> Path:
    """The folder `target` is to be written into, or an error when it is not there."""
    folder = target.parent
    if not folder.is_dir():
        raise LocalizedError("file.no_folder", path=str(folder))
    return folder


def _same_name(a: str | Path, b: str | Path) -> bool:
    return os.path.normcase(str(a)) == os.path.normcase(str(b))


def _inside(path: Path, folder: Path) -> bool:
    return _same_name(path, folder) or any(_same_name(parent, folder) for parent in path.parents)


def _refused(out: Path, folder: Path) -> LocalizedError:
    return LocalizedError("file.in_data_folder", path=_name(out), folder=str(folder))


def guard_output(data_dir: Path, out: Path) -> Path:
    """`out` resolved (symlinks followed), or an error when writing it would replace anything a
    data folder holds: the store, its -wal, -shm or -journal, the key file, or any other file
    there or below.

    The data folders guarded are the store's (`data_dir`) and the person's own (the default,
    where their real log lives, whichever store is open: the demo's lives below it). A new file
    of another name may be written into a data folder; an existing one never is.
    """
    target = out.expanduser()
    resolved = target.resolve()
    folders = [data_dir.expanduser().resolve(), resolve_data_dir().resolve()]
    for folder in folders:
        if not _inside(resolved, folder):
            continue
        if (
            _same_name(resolved, folder)
            or any(_same_name(resolved.name, name) for name in RESERVED_NAMES)
            or os.path.lexists(resolved)
        ):
            raise _refused(out, folder)
    if os.path.lexists(resolved):
        # Another name for a data folder's file (a hard link) is that file too.
        for folder in folders:
            if _one_of(resolved, folder, RESERVED_NAMES):
                raise _refused(out, folder)
    return resolved


_UNSAFE_IN_NAMES = set('/\\:*?"<>|')


def safe_name_part(text: str, fallback: str = "x", limit: int = 40) -> str:
    """`text` made fit to be part of one file name on every system: no path separators, no
    `..`, no control or invisible formatting characters, none of the characters Windows refuses
    (each becomes `_`), no leading dot or space, no name Windows takes for a device (`CON.txt`
    becomes `_CON.txt`), at most `limit` characters; `fallback` when nothing but `_` is left. A device's or a municipality's name (which may come from another device)
    can then never steer a file into another folder."""
    kept = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if char in _UNSAFE_IN_NAMES or category in ("Cc", "Cf", "Zl", "Zp"):
            kept.append("_")
        elif char.isspace():
            kept.append(" ")
        else:
            kept.append(char)
    name = "".join(kept)
    while ".." in name:
        name = name.replace("..", "_")
    name = name.strip(" .")[:limit].strip(" .")
    if is_device_name(name):
        name = "_" + name[: limit - 1]
    return name if name.strip("_") else fallback


MAX_TEXT_FILE_BYTES = 256 << 20
"""The largest text file read for a person (a CSV, an overview, a stage model)."""


def read_text_file(path: Path) -> str:
    """A text file a user names (a stage model, an overview, a CSV): UTF-8, with or without the
    BOM that Windows Notepad and Excel write; a missing, non-UTF-8 or not regular file (a pipe,
    a device) or one beyond MAX_TEXT_FILE_BYTES refused in one line."""
    try:
        return read_regular_file(path, MAX_TEXT_FILE_BYTES).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LocalizedError("file.not_utf8", path=quote(str(path))) from None
