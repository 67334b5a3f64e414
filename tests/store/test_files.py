"""The files dxfield reads for a person, and names made safe for files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dxfield.domain.errors import LocalizedError
from dxfield.store.files import read_regular_file, safe_name_part

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /proc are POSIX things")


# -- reading what a person names -----------------------------------------------------------------


def test_a_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(LocalizedError, match="not a regular file"):
        read_regular_file(tmp_path, 100)


@POSIX_ONLY
def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    with pytest.raises(LocalizedError, match="not a regular file"):
        read_regular_file(fifo, 100)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
def test_no_more_than_the_cap_is_read_whatever_the_size_says() -> None:
    # /proc files are regular files that say they hold 0 bytes: only the read itself is capped.
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    with pytest.raises(LocalizedError, match="larger than 10 bytes"):
        read_regular_file(status, 10)
    assert read_regular_file(status, 1 << 20).startswith(b"Name:")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_the_open_stores_own_files_are_never_opened_to_be_read(
    data_dir: Path, tmp_path: Path, suffix: str
) -> None:
    """Named by mistake (an import, an attachment): refused before it is opened. Closing a
    handle on the store would let go of this process's SQLite locks, and another dxfield
    closing the store would then delete the WAL from under this one."""
    import subprocess
    import sys

    from dxfield.paths import STORE_FILE
    from dxfield.store.engine import Store

    with Store.open(data_dir) as store:
        store.device  # noqa: B018 (read: the store is open, its locks held)
        named = data_dir / (STORE_FILE + suffix)
        linked = tmp_path / "a-copy.csv"  # another name for the same file
        os.link(named, linked)
        for path in (named, linked):
            with pytest.raises(LocalizedError, match="store's own file"):
                read_regular_file(path, 1 << 30)
        subprocess.run(  # another dxfield opens the store and closes it
            [
                sys.executable,
                "-c",
                "import sys, pathlib; from dxfield.store.engine import Store; "
                "Store.open(pathlib.Path(sys.argv[1]))"
                ".close()",
                str(data_dir),
            ],
            check=True,
        )
        assert (data_dir / f"{STORE_FILE}-wal").exists(), "the WAL was taken away"


def test_a_file_given_the_inode_number_of_a_store_gone_since_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store this process opened, closed, and whose file was then removed: a new file that
    gets the freed inode number (a key file, a table) is read as any file is. It made the
    receiver's device-keys.json unreadable in a full run of the suite, once."""
    from dxfield.store import files

    gone = tmp_path / "gone.sqlite3"
    gone.write_bytes(b"SQLite format 3\x00")
    files.note_open_store(gone)
    table = tmp_path / "table.csv"
    table.write_bytes(b"a,b\n")
    info = table.stat()
    remembered = dict(files._OPEN_STORES)
    monkeypatch.setattr(files, "_OPEN_STORES", remembered)
    # What the reuse of the number looks like: the store's name remembered under the table's.
    remembered[info.st_dev, info.st_ino] = gone
    gone.unlink()
    assert read_regular_file(table, 100) == b"a,b\n"
    # A store still there under the name it was opened by is refused under any other name.
    remembered[info.st_dev, info.st_ino] = table
    with pytest.raises(LocalizedError, match="store's own file"):
        read_regular_file(tmp_path / "." / "table.csv", 100)


def test_a_file_within_the_cap_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_regular_file(path, 100) == b"x" * 100
    with pytest.raises(LocalizedError, match="larger than 99 bytes"):
        read_regular_file(path, 99)


# -- names from other devices --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../.ssh/authorized_keys", "..", "a/../b", "C:\\Windows\\x", "x\x1b[31m", "a\u202eb", "/"],
)
def test_a_name_cannot_steer_a_file_elsewhere(tmp_path: Path, name: str) -> None:
    part = safe_name_part(name, "peer")
    assert part and "/" not in part and "\\" not in part and ".." not in part
    assert all(c.isprintable() and c not in ':*?"<>|' for c in part), part
    # Used as one part of a name, the file stays in its folder.
    assert (tmp_path / f"dxfield-{part}.dxb").resolve().parent == tmp_path.resolve()


def test_a_safe_name_keeps_what_was_safe_and_has_a_length_and_a_fallback() -> None:
    assert safe_name_part("豊岡リエゾン 1") == "豊岡リエゾン 1"
    assert safe_name_part("a/b") == "a_b"
    assert safe_name_part("...", "peer") == "peer"
    assert len(safe_name_part("長" * 100, limit=40)) == 40


@pytest.mark.parametrize(("name", "safe"), [("CON", "_CON"), ("nul.txt", "_nul.txt"),
                                            ("COM1 .pdf", "_COM1 .pdf"), ("CONSOLE.txt", "CONSOLE.txt")])  # fmt: skip
def test_a_safe_name_is_no_windows_device(name: str, safe: str) -> None:
    assert safe_name_part(name, limit=200) == safe


@pytest.mark.sqlite_only
def test_a_store_open_outside_the_default_folder_is_never_read_either(tmp_path: Path) -> None:
    """`--data-dir` elsewhere, the demo's store: by another name (a hard link) or through a
    symlink, it is refused as the store this process has open."""
    from dxfield.paths import STORE_FILE
    from dxfield.store.engine import Store

    elsewhere = tmp_path / "elsewhere"
    with Store.open(elsewhere):
        linked, pointing = tmp_path / "a-copy.csv", tmp_path / "points.csv"
        os.link(elsewhere / STORE_FILE, linked)
        pointing.symlink_to(elsewhere / STORE_FILE)
        for path in (linked, pointing):
            with pytest.raises(LocalizedError, match="store's own file"):
                read_regular_file(path, 1 << 30)
    (tmp_path / "table.csv").write_text("id,title\n")  # any other file is read as ever
    assert read_regular_file(tmp_path / "table.csv", 100) == b"id,title\n"
