"""Files at the command line: no output over the data folder, only regular files read, private
keys kept private, and a backup that brings back both the records and the device."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dxfield.paths import KEY_FILE, STORE_FILE
from tests.conftest import Cli, add_activity_args

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, FIFOs and /dev/zero")


def _listing(folder: Path) -> dict[str, str]:
    """Every file below `folder` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _one_error_line(result: object, fragment: str) -> None:
    code, out, err = result.code, result.out, result.err  # type: ignore[attr-defined]
    assert code == 1 and out == "", (out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert fragment in lines[0], err


@pytest.fixture
def field(cli: Cli, tmp_path: Path) -> Path:
    """A field laptop's data folder: keys made, one activity, the hub trusted."""
    data, hub = tmp_path / "field", tmp_path / "hub"
    assert cli("--data-dir", str(data), "init", "--device-name", "豊岡リエゾン").code == 0
    assert cli("--data-dir", str(data), *add_activity_args(title="奥矢根区")).code == 0
    cli("--data-dir", str(hub), "init", "--device-name", "兵庫県", "--role", "hub")
    cli("--data-dir", str(hub), "keys", "export", "--out", str(tmp_path / "hub.card"))
    assert cli("--data-dir", str(data), "keys", "trust", str(tmp_path / "hub.card")).code == 0
    return data


OUTPUT_VERBS = {
    "export": ("export", "--recipient", "兵庫県", "--to"),
    "backup": ("backup", "--out"),
    "report": ("report", "--format", "md", "--out"),
    "export-table": ("export-table", "--out"),
    "dump": ("dump", "--out"),
    "keys export": ("keys", "export", "--out"),
}


def test_no_output_verb_writes_over_what_the_data_folder_holds(
    cli: Cli, field: Path, tmp_path: Path
) -> None:
    (field / "notes.txt").write_text("mine")
    (field / "demo").mkdir()
    (field / "demo" / "old.md").write_text("kept")
    links = tmp_path / "links"
    links.mkdir()
    targets = [
        field / STORE_FILE,
        field / f"{STORE_FILE}-wal",
        field / f"{STORE_FILE}-shm",
        field / KEY_FILE,
        field / "notes.txt",
        field / "demo" / "old.md",
        field,
    ]
    os.link(field / KEY_FILE, links / "hard-keys.json")
    targets.append(links / "hard-keys.json")
    if os.name == "posix":  # Windows lets only administrators make symlinks
        (links / "store.dxb").symlink_to(field / STORE_FILE)
        (links / "keys.csv").symlink_to(field / KEY_FILE)
        (links / "wal.md").symlink_to(field / f"{STORE_FILE}-wal")  # points at nothing yet
        (tmp_path / "folder-link").symlink_to(field, target_is_directory=True)
        targets += [
            links / "store.dxb",
            links / "keys.csv",
            links / "wal.md",
            tmp_path / "folder-link" / STORE_FILE,
        ]
    before, linked = _listing(field), _listing(links)
    for verb, args in OUTPUT_VERBS.items():
        for target in targets:
            result = cli("--data-dir", str(field), *args, str(target))
            assert result.code == 1, (verb, target, result)
            _one_error_line(result, "dxfield's data folder")
            assert _listing(field) == before, (verb, target)
    assert _listing(links) == linked
    assert all(p.is_symlink() for p in links.iterdir() if p.name != "hard-keys.json")


def test_a_new_file_may_still_be_written_into_the_data_folder(cli: Cli, field: Path) -> None:
    result = cli("--data-dir", str(field), "dump", "--out", str(field / "all.json"))
    assert result.code == 0, result.err
    assert json.loads((field / "all.json").read_text())["records"]
    again = cli("--data-dir", str(field), "dump", "--out", str(field / "all.json"))
    _one_error_line(again, "dxfield's data folder")  # but never over one that is there


def test_the_persons_own_data_folder_is_guarded_whichever_store_is_open(
    cli: Cli, field: Path, data_dir: Path, tmp_path: Path
) -> None:
    # DXFIELD_DATA_DIR (the default) holds the real log; a demo or another --data-dir is open.
    assert cli(*add_activity_args()).code == 0
    before = _listing(data_dir)
    result = cli("--data-dir", str(field), "backup", "--out", str(data_dir / STORE_FILE))
    _one_error_line(result, "dxfield's data folder")
    assert _listing(data_dir) == before


# -- reading -------------------------------------------------------------------------------------


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dxfield` as its own process, with a minute and 1 GiB at most: a reader that waited on a
    pipe or read /dev/zero for ever fails the test instead of hanging or filling the machine."""

    def limit_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-m", "dxfield", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_memory,
        check=False,
    )


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_import_takes_only_a_regular_file(cli: Cli, field: Path, tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        path = tmp_path / "bundle.dxb"
        os.mkfifo(path)
    elif kind == "dev-zero":
        path = Path("/dev/zero")
        if not path.exists():
            pytest.skip("no /dev/zero here")
    else:
        path = tmp_path
    before = _listing(field)
    for args in (("import", str(path)), ("keys", "trust", str(path))):
        result = _run(field, *args)
        assert result.returncode == 1 and result.stdout == "", result
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "is not a regular file" in lines[0], result.stderr
    assert _listing(field) == before


# -- private keys --------------------------------------------------------------------------------


@POSIX_ONLY
def test_a_key_file_others_can_read_is_refused_with_the_fix(cli: Cli, field: Path) -> None:
    keys = field / KEY_FILE
    keys.chmod(0o644)
    content = keys.read_bytes()
    for verb in (("keys", "show"), ("export", "--recipient", "兵庫県", "--to", "x.dxb")):
        _one_error_line(cli("--data-dir", str(field), *verb), f"chmod 600 {keys}")
    checked = cli("--data-dir", str(field), "check")
    assert checked.code == 1 and "chmod 600" in checked.out
    saved = cli("--data-dir", str(field), "backup", "--out", str(field.parent / "b.sqlite3"))
    assert saved.code == 0 and "the device's keys were not saved" in saved.out
    assert keys.read_bytes() == content and stat.S_IMODE(keys.stat().st_mode) == 0o644
    keys.chmod(0o600)  # the fix the message names
    assert cli("--data-dir", str(field), "keys", "show").code == 0
    assert cli("--data-dir", str(field), "check").code == 0


def test_another_devices_key_file_is_refused(cli: Cli, field: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    cli("--data-dir", str(other), "init")
    (field / KEY_FILE).write_bytes((other / KEY_FILE).read_bytes())
    (field / KEY_FILE).chmod(0o600)
    _one_error_line(cli("--data-dir", str(field), "keys", "show"), "belongs to another device")
    assert cli("--data-dir", str(field), "check").code == 1


# -- backup and restore --------------------------------------------------------------------------


def _state(cli: Cli, data: Path) -> tuple[str, str, str]:
    """What must come back: every record, the device's fingerprint, the devices it trusts."""
    dump = cli("--data-dir", str(data), "dump").out
    shown = json.loads(cli("--data-dir", str(data), "keys", "show", "--json").out)
    trusted = cli("--data-dir", str(data), "keys", "list", "--json").out
    return dump, f"{shown['id']} {shown['fingerprint']}", trusted


def test_a_backup_brings_back_the_records_and_the_device(
    cli: Cli, field: Path, tmp_path: Path
) -> None:
    gone = cli("--data-dir", str(field), *add_activity_args(title="消す")).out.strip()
    assert cli("--data-dir", str(field), "activity", "delete", gone).code == 0
    backup = tmp_path / "backup.sqlite3"
    saved = cli("--data-dir", str(field), "backup", "--out", str(backup))
    assert saved.code == 0 and "with the device's keys" in saved.out, saved
    if os.name == "posix":
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    fresh = tmp_path / "new-laptop"
    restored = cli("--data-dir", str(fresh), "restore-backup", str(backup))
    assert restored.code == 0 and "keys restored" in restored.out, restored
    assert _state(cli, fresh) == _state(cli, field)
    if os.name == "posix":
        assert stat.S_IMODE((fresh / KEY_FILE).stat().st_mode) == 0o600
    raw = sqlite3.connect(fresh / STORE_FILE)  # the keys went back to their file, not the store
    assert raw.execute("SELECT count(*) FROM local_state WHERE key LIKE 'backup%'").fetchone() == (
        0,
    )
    raw.close()


def test_a_restore_replaces_a_store_only_when_asked_and_keeps_it(
    cli: Cli, field: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.sqlite3"
    cli("--data-dir", str(field), "backup", "--out", str(backup))
    wanted = _state(cli, field)
    other = tmp_path / "other"
    cli("--data-dir", str(other), "init")
    cli("--data-dir", str(other), *add_activity_args(title="別の記録"))
    before = _listing(other)
    # The core says what is wrong (a store is there); the remedy (--replace) is the CLI's to add.
    _one_error_line(
        cli("--data-dir", str(other), "restore-backup", str(backup)), "already holds a store"
    )
    assert _listing(other) == before
    result = cli("--data-dir", str(other), "restore-backup", str(backup), "--replace")
    assert result.code == 0, result.err
    assert _state(cli, other) == wanted
    kept = {
        name.split(".before-restore-")[0]: digest
        for name, digest in _listing(other).items()
        if ".before-restore-" in name
    }
    assert kept == {STORE_FILE: before[STORE_FILE], KEY_FILE: before[KEY_FILE]}


def test_a_store_that_is_no_store_is_restored_over_and_kept(
    cli: Cli, field: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.sqlite3"
    cli("--data-dir", str(field), "backup", "--out", str(backup))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / STORE_FILE).write_bytes(b"")
    result = cli("--data-dir", str(broken), "restore-backup", str(backup))
    assert result.code == 0, result.err
    assert _state(cli, broken) == _state(cli, field)
    (aside,) = broken.glob(f"{STORE_FILE}.before-restore-*")
    assert aside.read_bytes() == b""


@pytest.mark.parametrize("kind", ["text", "bundle", "folder", "missing", "keys-of-another"])
def test_what_is_not_a_backup_is_refused_and_nothing_changes(
    cli: Cli, field: Path, tmp_path: Path, kind: str
) -> None:
    source = tmp_path / "source"
    if kind == "text":
        source.write_text("not a backup")
    elif kind == "bundle":
        cli("--data-dir", str(field), "export", "--recipient", "兵庫県", "--to", str(source))
    elif kind == "folder":
        source.mkdir()
    elif kind == "keys-of-another":
        cli("--data-dir", str(field), "backup", "--out", str(source))
        raw = sqlite3.connect(source)
        raw.execute(
            "UPDATE local_state SET value = replace(value, (SELECT id FROM device), "
            "'0000') WHERE key = 'backup.device-keys'"
        )
        raw.commit()
        raw.close()
    target = tmp_path / "target"
    result = cli("--data-dir", str(target), "restore-backup", str(source))
    _one_error_line(result, "cannot be read as a dxfield backup")
    assert not target.exists() or _listing(target) == {}
