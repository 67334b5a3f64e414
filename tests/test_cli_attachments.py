"""`dxfield attach`, `attachments`, `attachment save`, `detach`, `prune`, and the attachments in
`activity show` and `check`, through the command line (both engines: tests/engines.py)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from dxfield.store import blobs
from dxfield.store.engine import Store
from tests.conftest import Cli, add_activity_args
from tests.hostile import ESCAPES, SHOWN, raw_controls, taint
from tests.kept import damage, holds, kept_bytes, lose
from tests.store.test_attachments import pdf_bytes, photo_bytes


def _activity(cli: Cli) -> str:
    made = cli(*add_activity_args(title="ワークショップ"))
    assert made.code == 0, made.err
    return made.out.strip()


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def test_attach_list_save_and_detach(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    activity = _activity(cli)
    photo = _file(tmp_path, "IMG_0001.jpg", photo_bytes())
    memo = _file(tmp_path, "memo.txt", "付箋のメモ\n".encode())
    done = cli("attach", activity, str(photo), str(memo), "--caption", "ホワイトボード")
    assert done.code == 0, done.err
    assert done.err == ""
    lines = done.out.splitlines()
    assert lines[0].startswith("attached IMG_0001.jpg (")
    assert any("removed the location" in line for line in lines)
    assert any(line.startswith("attached memo.txt (16 bytes): ") for line in lines)

    listed = json.loads(cli("attachments", activity, "--json").out)
    assert [(a["file_name"], a["caption"]) for a in listed] == [
        ("IMG_0001.jpg", "ホワイトボード"),
        ("memo.txt", "ホワイトボード"),
    ]
    assert listed[0]["taken_at"] == "2024-08-01T14:03:27"
    table = cli("attachments", activity[-8:])
    assert table.code == 0
    header, *rows = table.out.splitlines()
    assert header.split()[:4] == ["name", "type", "size", "caption"]
    assert "SHA-256" in header and "ID" in header
    assert rows[0].split()[:2] == ["IMG_0001.jpg", "image/jpeg"]
    assert listed[0]["sha256"] in rows[0] and listed[0]["id"] in rows[0]
    assert "2024-08-01 14:03:27" in rows[0]

    shown = cli("activity", "show", activity)
    assert "attached files: 2" in shown.out
    assert "  memo.txt  16 bytes  ホワイトボード  (" in shown.out
    as_json = json.loads(cli("activity", "show", activity, "--json").out)
    assert [a["id"] for a in as_json["attachments"]] == [a["id"] for a in listed]

    out = tmp_path / "copy.jpg"
    saved = cli("attachment", "save", listed[0]["id"][-8:], "--out", str(out))
    assert saved.code == 0, saved.err
    assert out.read_bytes() == kept_bytes(data_dir, listed[0]["sha256"])
    again = cli("attachment", "save", listed[0]["id"], "--out", str(out))
    assert again.code == 1 and "already exists" in again.err and again.err.count("\n") == 1
    assert cli("attachment", "save", listed[0]["id"], "--out", str(out), "--force").code == 0

    gone = cli("detach", listed[1]["id"])
    assert gone.code == 0 and gone.out.startswith("detached memo.txt: ")
    assert [a["id"] for a in json.loads(cli("attachments", activity, "--json").out)] == [
        listed[0]["id"]
    ]
    history = cli("history", listed[1]["id"])
    assert history.code == 0 and len(history.out.strip().splitlines()) >= 2
    assert cli("detach", listed[1]["id"]).code == 1


def test_each_file_is_attached_or_refused_on_its_own(cli: Cli, tmp_path: Path) -> None:
    activity = _activity(cli)
    good = _file(tmp_path, "memo.txt", b"hello\n")
    wrong = _file(tmp_path, "photo.jpg", pdf_bytes())
    data = photo_bytes()
    cut = _file(tmp_path, "cut.jpg", data[: len(data) // 2])
    result = cli("attach", activity, str(wrong), str(good), str(cut), str(tmp_path / "none.txt"))
    assert result.code == 1
    errors = result.err.splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert "photo.jpg" in errors[0] and "is a PDF" in errors[0]
    assert "cut.jpg" in errors[1] and "cannot be read as an image" in errors[1]
    assert "none.txt" in errors[2]
    assert result.out.startswith("attached memo.txt")
    listed = json.loads(cli("attachments", activity, "--json").out)
    assert [a["file_name"] for a in listed] == ["memo.txt"]

    as_json = cli("attach", activity, str(good), str(wrong), "--json")
    assert as_json.code == 1
    results = json.loads(as_json.out)
    assert results[0]["attachment"]["file_name"] == "memo.txt"
    assert "is a PDF" in results[1]["error"]


def test_keep_metadata_from_the_command_line(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    from PIL import Image

    activity = _activity(cli)
    original = photo_bytes()
    done = cli("attach", activity, str(_file(tmp_path, "a.jpg", original)), "--keep-metadata",
               "--json")  # fmt: skip
    assert done.code == 0, done.err
    record = json.loads(done.out)[0]["attachment"]
    kept = kept_bytes(data_dir, record["sha256"])
    assert kept == original
    assert Image.open(io.BytesIO(kept)).getexif().get_ifd(0x8825)  # the GPS is there


def test_refusals_are_in_the_users_language(cli: Cli, tmp_path: Path) -> None:
    activity = _activity(cli)
    wrong = _file(tmp_path, "photo.jpg", pdf_bytes())
    result = cli("--lang", "ja", "attach", activity, str(wrong))
    assert result.code == 1
    assert "中身はPDFで、名前(.jpg)と合いません" in result.err
    unknown = cli("--lang", "ja", "attach", "0123456789abcdef", str(wrong))
    assert "活動も知見もありません" in unknown.err


def test_names_and_captions_are_printed_escaped(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    activity = _activity(cli)
    done = cli("attach", activity, str(_file(tmp_path, "memo.txt", b"x\n")), "--json")
    record = json.loads(done.out)[0]["attachment"]
    with Store.open(data_dir) as store:  # as a bundle from an older dxfield could bring it
        taint(store, "attachment", record["id"], file_name=ESCAPES + ".txt", caption=ESCAPES)
    for args in (("attachments", activity), ("activity", "show", activity)):
        result = cli(*args)
        assert result.code == 0, result.err
        assert SHOWN in result.out
        assert raw_controls(result.out) == set()
    gone = cli("detach", record["id"])
    assert SHOWN in gone.out and raw_controls(gone.out) == set()


def test_a_file_name_with_controls_is_attached_under_a_safe_name(cli: Cli, tmp_path: Path) -> None:
    activity = _activity(cli)
    odd = _file(tmp_path, "a\x1b[2Jb.txt", b"x\n")
    result = cli("attach", activity, str(odd))
    assert result.code == 0, result.err
    assert raw_controls(result.out) == set()
    listed = json.loads(cli("attachments", activity, "--json").out)
    assert listed[0]["file_name"] == "a_[2Jb.txt"


def test_check_and_prune(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    activity = _activity(cli)
    cli("attach", activity, str(_file(tmp_path, "a.txt", b"a\n")))
    cli("attach", activity, str(_file(tmp_path, "b.txt", b"bb\n")))
    listed = json.loads(cli("attachments", activity, "--json").out)
    checked = cli("check")
    assert checked.code == 0, checked.out
    assert "attached files' content: 2 kept, 5 bytes" in checked.out

    cli("detach", listed[1]["id"])
    # The app's thumbnail of a file whose blob is gone (the blob removed by hand).
    stray = blobs.thumbnail_path(data_dir, "e" * 64)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"jpg")
    checked = cli("check")
    assert checked.code == 0
    assert "1 attached content no record uses (`dxfield prune` removes it)" in checked.out
    assert (
        f"thumbnail of a file no longer here: {Path('thumbs') / stray.name} "
        "(`dxfield prune` removes it)"
    ) in checked.out, checked.out
    dry = cli("prune", "--dry-run")
    assert dry.out.strip() == "would remove 2 files, 6 bytes (dry run; nothing was removed)"
    assert holds(data_dir, listed[1]["sha256"])
    real = cli("prune")
    assert real.out.strip() == "removed 2 files, 6 bytes"
    assert not holds(data_dir, listed[1]["sha256"]) and not stray.exists()
    assert json.loads(cli("prune", "--json").out)["freed"] == 0

    damage(data_dir, listed[0]["sha256"], b"A\n")
    tampered = cli("check")
    assert tampered.code == 1
    assert f"problem: the attached content {listed[0]['sha256']} is damaged" in tampered.out
    lose(data_dir, listed[0]["sha256"])
    missing = cli("check", "--json")
    assert missing.code == 1
    assert json.loads(missing.out)["blobs"]["missing"] == [listed[0]["sha256"]]
    saved = cli("attachment", "save", listed[0]["id"], "--out", str(tmp_path / "x.txt"))
    assert saved.code == 1
    assert "not in this data folder" in saved.err or "not in the hub's database" in saved.err


@pytest.mark.sqlite_only  # a hub is backed up by PostgreSQL's own tools
def test_backup_and_restore_carry_the_attachments(cli: Cli, tmp_path: Path, data_dir: Path) -> None:
    activity = _activity(cli)
    cli("attach", activity, str(_file(tmp_path, "a.jpg", photo_bytes())))
    listed = json.loads(cli("attachments", activity, "--json").out)
    content = kept_bytes(data_dir, listed[0]["sha256"])
    out = tmp_path / "backup.sqlite3"
    made = cli("backup", "--out", str(out))
    assert made.code == 0, made.err
    assert "attached files' content in it: 1" in made.out
    elsewhere = tmp_path / "elsewhere"
    restored = cli("--data-dir", str(elsewhere), "restore-backup", str(out))
    assert restored.code == 0, restored.err
    assert "attached files' content restored: 1" in restored.out
    assert blobs.blob_path(elsewhere, listed[0]["sha256"]).read_bytes() == content
    copy = tmp_path / "copy.jpg"
    saved = cli("--data-dir", str(elsewhere), "attachment", "save", listed[0]["id"], "--out",
                str(copy))  # fmt: skip
    assert saved.code == 0 and copy.read_bytes() == content
    assert os.path.getsize(out) > len(content)
