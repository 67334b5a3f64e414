"""Purging an attachment (issue 19, erasure): the hub's purge reaches a laptop through a bundle;
every store that takes it deletes the blob and the personal fields of every version of the
attachment, and keeps only the fact, by whom, when and why. Only the hub purges: a laptop's
`dxfield purge` is one line, and a bundle carrying a purge by a laptop is refused whole, however
well signed. A laptop that had not heard of the purge does not bring the attachment back.

Attachments are made through the attach service; their blobs travel in the bundles with their records."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from dxfield.domain.errors import LocalizedError
from dxfield.store import blobs, local_state, maintenance, records, revisions
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.attachments import attach, prepare
from dxfield.store.conflicts import list_conflicts
from dxfield.store.engine import Store
from dxfield.store.ids import purge_id
from dxfield.store.maintenance import record_history
from dxfield.store.purges import purge_attachment, purged_attachments, purges_of, take
from dxfield.store.schema import REVISIONS
from dxfield.store.versions import list_deleted
from dxfield.sync.authors import PURGED, authorship_here
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from dxfield.sync.wire import BundleError
from tests.conftest import Cli
from tests.kept import holds, keep, kept_bytes

HUB, A, B, C = "兵庫県", "豊岡リエゾン", "西宮リエゾン", "姫路リエゾン"
NAME = "山田さん_ワークショップ.jpg"
CAPTION = "山田太郎さん(住民代表)の発表"


@dataclass
class Fleet:
    hub: Store
    a: Store
    b: Store
    c: Store
    folder: Path


def _with_role(folder: Path, name: str, role: str) -> Store:
    store = Store.open(folder, device_name=name)
    if store.device.role == role:
        return store
    local_state.set_device_role(store, role)
    store.close()
    return Store.open(folder)


_files = itertools.count(1)


def _bundle(fleet: Fleet, sender: Store, receiver: Store) -> Path:
    path = fleet.folder / f"sync-{next(_files)}.dxb"
    export_bundle(sender, path, receiver.device.name)
    return path


def _sync(fleet: Fleet, sender: Store, receiver: Store) -> None:
    import_bundle(receiver, _bundle(fleet, sender, receiver))


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    hub = _with_role(tmp_path / "hub", HUB, "hub")
    laptops = [
        _with_role(tmp_path / folder, name, "field")
        for folder, name in (("toyooka", A), ("nishinomiya", B), ("himeji", C))
    ]
    for laptop in laptops:
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))
    made = Fleet(hub, *laptops, tmp_path)
    for laptop in laptops:
        _sync(made, laptop, hub)
    for laptop in laptops:
        _sync(made, hub, laptop)  # the laptops hold the hub's roster: they know each other
    yield made
    for store in (hub, *laptops):
        store.close()


def _photo() -> bytes:
    """A JPEG as a phone writes it: with the time it was taken and the camera's location."""
    image = Image.new("RGB", (48, 32), "green")
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 14:03:00"  # DateTimeOriginal
    exif.get_ifd(0x8825)[2] = (35.0, 8.0, 0.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


PHOTO = _photo()
KEPT = prepare(PHOTO, Path(NAME)).data
"""The bytes attach keeps of PHOTO (its metadata stripped): the blob every store holds."""


def _brought(store: Store) -> str:
    """The photo's blob, which the bundles brought to `store` with its record."""
    sha = hashlib.sha256(KEPT).hexdigest()
    assert kept_bytes(store, sha) == KEPT
    return sha


def _put_back(store: Store) -> str:
    """The photo's blob put back in the store's data folder by hand (a restored copy; on a hub,
    its rows put back in the database)."""
    return keep(store, KEPT)


def _attach(store: Store, owner_id: str, *, name: str = NAME) -> str:
    """The photo attached through the attach service, with a caption naming the resident."""
    folder = store.data_dir.parent / "camera"
    folder.mkdir(exist_ok=True)
    source = folder / name
    source.write_bytes(PHOTO)
    made = attach(store, owner_id, source, caption=CAPTION)
    assert made.record.taken_at == "2026-11-20T14:03:00"
    assert made.record.sha256 == hashlib.sha256(KEPT).hexdigest()
    return made.record.id


def _activity(store: Store) -> str:
    given = ActivityInput(
        title="住民ワークショップ", kind="workshop", date="2026-11-20", municipality="豊岡市"
    )
    return add_activity(store, given).id


def _versions(store: Store, attachment_id: str) -> list[dict[str, Any]]:
    """The attachment's versions as the revision table holds them."""
    with store.read() as conn:
        rows = conn.execute(
            select(REVISIONS.c.data).where(
                REVISIONS.c.entity == "attachment", REVISIONS.c.entity_id == attachment_id
            )
        ).scalars()
        return [json.loads(data) for data in rows]


def _holds_nothing_personal(store: Store, attachment_id: str, sha: str) -> None:
    assert not holds(store, sha)
    versions = _versions(store, attachment_id)
    for data in versions:
        assert data["file_name"] == "purged"
        assert data["caption"] == ""
        assert data["taken_at"] is None
        assert data["sha256"] == sha  # what it was is kept: type, size, hash, owner
    with store.read() as conn:
        text = " ".join(str(r) for r in conn.execute(select(REVISIONS.c.data)).scalars())
        assert NAME not in text and "山田" not in text
    row = records.ATTACHMENTS.get(store, attachment_id, include_deleted=True)
    assert row.deleted and row.file_name == "purged" and row.caption == ""


def _purged(store: Store, *ids: str) -> set[str]:
    with store.read() as conn:
        return purged_attachments(conn, ids)


def _check_clean(*stores: Store) -> None:
    for store in stores:
        report = maintenance.check(store)
        assert report.ok, [f.message("en") for f in report.findings]


def test_a_purge_on_the_hub_reaches_a_laptop_and_erases_the_file_there(
    fleet: Fleet, cli: Cli
) -> None:
    owner = _activity(fleet.a)
    attachment = _attach(fleet.a, owner)
    # A caption edited: the purge erases the personal fields of every version.
    records.ATTACHMENTS.edit(fleet.a, attachment, {"caption": CAPTION + "(修正)"})
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.b)
    sha = _brought(fleet.hub)
    _brought(fleet.b)
    _check_clean(fleet.hub, fleet.a, fleet.b)

    done = cli(
        "--lang", "en", "--data-dir", str(fleet.hub.data_dir),
        "purge", attachment[:13], "--reason", "本人からの削除依頼", "--yes",
    )  # fmt: skip
    assert done.code == 0, done.err
    assert "purged" in done.out, done.out
    _holds_nothing_personal(fleet.hub, attachment, sha)

    for laptop in (fleet.a, fleet.b):
        _sync(fleet, fleet.hub, laptop)
        _holds_nothing_personal(laptop, attachment, sha)
        (note,) = purges_of(laptop, [attachment]).values()
        assert note.purge.reason == "本人からの削除依頼"
        assert note.author == HUB
        assert note.purge.device_id == fleet.hub.device.id
        assert note.line("en").startswith("purged (") and "本人からの削除依頼" in note.line("en")
        assert note.line("ja").startswith("消去済み")
        # History shows every version as purged, not as damaged.
        _entity, history = record_history(laptop, attachment)
        verdicts = authorship_here(laptop, history)
        assert {verdicts[r["rev_id"]].verdict for r in history} == {PURGED}
        shown = cli("--lang", "en", "--data-dir", str(laptop.data_dir), "history", attachment)
        assert shown.code == 0 and "purged by the hub" in shown.out, shown.out
        assert shown.out.startswith("purged (") and f"by {HUB}: 本人からの削除依頼)" in shown.out
        said = json.loads(
            cli("--data-dir", str(laptop.data_dir), "history", attachment, "--json").out
        )
        assert said["purged"]["reason"] == "本人からの削除依頼"
        assert said["purged"]["by"] == fleet.hub.device.id
        assert {r["authorship"] for r in said["revisions"]} == {PURGED}
        # The lists show what is left of it: the fact, when, by whom and why.
        folder = str(laptop.data_dir)
        listed = cli("--lang", "ja", "--data-dir", folder, "attachments", owner)
        assert listed.code == 0, listed.err
        assert "消去済み" in listed.out and "本人からの削除依頼" in listed.out, listed.out
        assert NAME not in listed.out and "山田" not in listed.out
        shown = cli("--lang", "en", "--data-dir", folder, "activity", "show", owner)
        assert "purged (" in shown.out and NAME not in shown.out, shown.out
    _check_clean(fleet.hub, fleet.a, fleet.b)
    # Nothing of it goes out again: the purge travels, not the purged versions.
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.c)
    assert _versions(fleet.c, attachment) == []
    assert _purged(fleet.c, attachment) == {attachment}
    _check_clean(fleet.c)
    # A purge is final: not deleted, restored or purged again.
    again = cli(
        "--data-dir", str(fleet.hub.data_dir), "purge", attachment, "--reason", "x", "--yes"
    )
    assert again.code != 0
    with pytest.raises(LocalizedError) as refused:
        records.PURGES.delete(fleet.hub, purge_id(attachment))
    assert refused.value.code == "purge.final"


def test_a_laptop_cannot_purge(fleet: Fleet, cli: Cli) -> None:
    owner = _activity(fleet.a)
    attachment = _attach(fleet.a, owner)
    said = cli(
        "--lang", "en", "--data-dir", str(fleet.a.data_dir),
        "purge", attachment, "--reason", "依頼", "--yes",
    )  # fmt: skip
    assert said.code != 0
    (line,) = said.err.strip().splitlines()
    assert "only the hub purges" in line, said.err
    assert _versions(fleet.a, attachment)[0]["file_name"] == NAME
    with pytest.raises(LocalizedError):
        purge_attachment(fleet.a, attachment, "依頼")


def _laptop_purge(store: Store, attachment_id: str, sha: str) -> None:
    """A purge written by a laptop (through the write path, which any device's key signs)."""
    content = records.validate(
        "purge", {"attachment_id": attachment_id, "sha256": sha, "reason": "勝手に"}
    )
    with store.unit(write=True) as unit:
        revisions.write_record(unit, "purge", purge_id(attachment_id), content)


def test_a_bundle_carrying_a_laptops_purge_is_refused_whole(fleet: Fleet) -> None:
    owner = _activity(fleet.a)
    attachment = _attach(fleet.a, owner)
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.b)
    sha = _brought(fleet.b)
    before_hub = maintenance.dump(fleet.hub)
    before_b = maintenance.dump(fleet.b)
    _laptop_purge(fleet.a, attachment, sha)
    also = _activity(fleet.a)  # something else in the bundle: none of it is kept
    for receiver, before in ((fleet.hub, before_hub), (fleet.b, before_b)):
        with pytest.raises(BundleError) as refused:
            import_bundle(receiver, _bundle(fleet, fleet.a, receiver))
        message = refused.value.message("en")
        assert "\n" not in message
        assert "is not the hub" in message, message
        assert maintenance.dump(receiver) == before
        assert _purged(receiver, attachment) == set()
    assert holds(fleet.b, sha)
    assert records.ACTIVITIES.get(fleet.a, also)


def test_a_laptop_that_had_not_heard_of_the_purge_does_not_bring_it_back(
    fleet: Fleet, cli: Cli
) -> None:
    owner = _activity(fleet.a)
    attachment = _attach(fleet.a, owner)
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.c)
    sha = _brought(fleet.hub)
    _brought(fleet.c)
    purge_attachment(fleet.hub, attachment, "本人からの削除依頼")
    assert not holds(fleet.hub, sha)
    # The third laptop still holds the attachment and edits its caption before it hears.
    records.ATTACHMENTS.edit(fleet.c, attachment, {"caption": "山田さん、再掲"})
    path = _bundle(fleet, fleet.c, fleet.hub)
    said = cli("--lang", "en", "--data-dir", str(fleet.hub.data_dir), "import", str(path))
    assert said.code == 0 and "left out (purged attachments) 1" in said.out, said.out
    _holds_nothing_personal(fleet.hub, attachment, sha)
    assert len(_versions(fleet.hub, attachment)) == 1  # the edit was not stored
    # And a laptop the hub sends to next never gets it either.
    _sync(fleet, fleet.hub, fleet.b)
    assert _versions(fleet.b, attachment) == []
    # Once the third laptop hears, its own copy goes too.
    _sync(fleet, fleet.hub, fleet.c)
    _holds_nothing_personal(fleet.c, attachment, sha)
    _check_clean(fleet.hub, fleet.b, fleet.c)


def test_the_same_file_attached_twice_is_purged_with_both_records(fleet: Fleet, cli: Cli) -> None:
    owner = _activity(fleet.a)
    first = _attach(fleet.a, owner)
    second = _attach(fleet.a, owner, name="コピー.jpg")
    _sync(fleet, fleet.a, fleet.hub)
    sha = _brought(fleet.hub)
    hub = str(fleet.hub.data_dir)
    # Without --yes and nobody at a terminal to ask: it says what it would purge, and stops.
    asked = cli("--lang", "en", "--data-dir", hub, "purge", first, "--reason", "依頼")
    assert asked.code != 0 and "add --yes" in asked.err, asked.err
    assert first in asked.out and second in asked.out, asked.out
    blank = cli("--lang", "en", "--data-dir", hub, "purge", first, "--reason", " ", "--yes")
    assert blank.code != 0 and "reason" in blank.err, blank.err
    assert _purged(fleet.hub, first, second) == set()
    assert holds(fleet.hub, sha)
    done = cli("--lang", "en", "--data-dir", hub, "purge", first, "--reason", "依頼", "--yes")
    assert done.code == 0, done.err
    assert second in done.out and "same file" in done.out, done.out
    assert _purged(fleet.hub, first, second) == {first, second}
    _sync(fleet, fleet.hub, fleet.a)
    _holds_nothing_personal(fleet.a, first, sha)
    _holds_nothing_personal(fleet.a, second, sha)
    _check_clean(fleet.hub, fleet.a)


def test_a_purge_rolled_back_leaves_the_file(fleet: Fleet) -> None:
    owner = _activity(fleet.hub)
    attachment = _attach(fleet.hub, owner)
    sha = hashlib.sha256(KEPT).hexdigest()

    class Stop(Exception):
        pass

    with pytest.raises(Stop), fleet.hub.unit(write=True) as unit:
        purge_attachment(unit, attachment, "依頼")
        raise Stop
    assert holds(fleet.hub, sha)
    assert _versions(fleet.hub, attachment)[0]["file_name"] == NAME


def test_a_purged_attachment_does_not_change_again_nor_show_as_deleted_or_in_conflict(
    fleet: Fleet, cli: Cli
) -> None:
    owner = _activity(fleet.a)
    attachment = _attach(fleet.a, owner)
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.b)
    # Two laptops edit the caption at once: a conflict, everywhere.
    records.ATTACHMENTS.edit(fleet.a, attachment, {"caption": "豊岡の説明"})
    records.ATTACHMENTS.edit(fleet.b, attachment, {"caption": "西宮の説明"})
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.b, fleet.hub)
    assert [c.entity_id for c in list_conflicts(fleet.hub)] == [attachment]
    sha = _brought(fleet.hub)
    purge_attachment(fleet.hub, attachment, "本人からの削除依頼")
    _sync(fleet, fleet.hub, fleet.c)  # never held the attachment
    _sync(fleet, fleet.hub, fleet.a)
    for store in (fleet.hub, fleet.a):
        assert list_conflicts(store) == []
        assert [d.id for d in list_deleted(store)] == []
        folder = str(store.data_dir)
        first = record_history(store, attachment)[1][0]["rev_id"]
        for verb in (("restore", attachment), ("revert", attachment, "--to", first)):
            said = cli("--lang", "en", "--data-dir", folder, *verb)
            assert said.code != 0
            assert "is purged" in said.err, said.err
        content = _versions(store, attachment)[0]
        content.pop("created_at")
        with pytest.raises(LocalizedError) as refused, store.unit(write=True) as unit:
            revisions.write_record(unit, "attachment", attachment, {**content, "caption": "また"})
        assert refused.value.code == "purge.purged"
    # A store that held it and one that never did give the same dump: the purge, not the record.
    assert maintenance.dump(fleet.hub) == maintenance.dump(fleet.c) == maintenance.dump(fleet.a)
    _check_clean(fleet.hub, fleet.a, fleet.c)
    # A purged file put back (or that could not be deleted) is what check names.
    _put_back(fleet.hub)
    report = maintenance.check(fleet.hub)
    assert [f.code for f in report.findings] == ["purged-blob"]
    assert sha in report.findings[0].message("en")


def _other_photo(colour: str = "red") -> bytes:
    """Other bytes than the photo's (another picture), as attach would keep them."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


def test_a_purge_is_about_the_content_the_same_bytes_attached_elsewhere_are_purged_too(
    fleet: Fleet,
) -> None:
    first = _attach(fleet.a, _activity(fleet.a))
    _sync(fleet, fleet.a, fleet.hub)
    sha = _brought(fleet.hub)
    purge_attachment(fleet.hub, first, "本人からの削除依頼")
    # A laptop that had not heard of it attaches the same photo to an activity of its own.
    again = _attach(fleet.b, _activity(fleet.b), name="集合写真.jpg")
    _sync(fleet, fleet.b, fleet.hub)
    # The hub purges that record too, with a purge of its own that travels: never a live
    # record whose bytes are gone.
    assert _purged(fleet.hub, first, again) == {first, again}
    _holds_nothing_personal(fleet.hub, again, sha)
    (note,) = purges_of(fleet.hub, [again]).values()
    assert note.purge.reason == "本人からの削除依頼"
    assert note.purge.device_id == fleet.hub.device.id
    _check_clean(fleet.hub)
    # A laptop the hub sends to takes the bundle (it used to be refused: a live record whose
    # bytes the hub did not keep).
    _sync(fleet, fleet.hub, fleet.c)
    assert _purged(fleet.c, first, again) == {first, again}
    assert _versions(fleet.c, again) == []
    # The laptop that attached it hears of both purges: its own record is erased.
    _sync(fleet, fleet.hub, fleet.b)
    _holds_nothing_personal(fleet.b, again, sha)
    _check_clean(fleet.b, fleet.c)
    # Attaching the erased content again is refused, on the hub and on a laptop that knows.
    for store in (fleet.hub, fleet.b):
        with pytest.raises(LocalizedError) as refused:
            _attach(store, _activity(store), name="もう一度.jpg")
        assert refused.value.code == "attach.purged"
        assert not holds(store, sha)


def test_a_laptop_that_hears_of_a_purge_deletes_its_own_record_of_the_same_bytes(
    fleet: Fleet,
) -> None:
    first = _attach(fleet.a, _activity(fleet.a))
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.b)
    sha = _brought(fleet.b)
    # The second laptop attaches the same photo again and hears of the purge before it sends.
    again = _attach(fleet.b, _activity(fleet.b), name="集合写真.jpg")
    purge_attachment(fleet.hub, first, "本人からの削除依頼")
    _sync(fleet, fleet.hub, fleet.b)
    assert not holds(fleet.b, sha)
    assert {v["file_name"] for v in _versions(fleet.b, first)} == {"purged"}
    # Its own record is not live without its bytes: it deleted it (a laptop cannot purge; its
    # caption stays in its history until the hub's purge of it arrives, below).
    assert records.ATTACHMENTS.get(fleet.b, again, include_deleted=True).deleted
    _check_clean(fleet.b)
    # Once the hub has it, the hub purges it, and the purge erases it on the laptop in turn.
    _sync(fleet, fleet.b, fleet.hub)
    assert _purged(fleet.hub, again) == {again}
    _holds_nothing_personal(fleet.hub, again, sha)
    _sync(fleet, fleet.hub, fleet.b)
    _holds_nothing_personal(fleet.b, again, sha)
    _check_clean(fleet.hub, fleet.b)


def test_a_purge_deletes_the_bytes_of_every_version_of_the_attachment(fleet: Fleet) -> None:
    attachment = _attach(fleet.a, _activity(fleet.a))
    sha = hashlib.sha256(KEPT).hexdigest()
    # Its content replaced by other bytes: the first version still names the resident's photo.
    other = _other_photo()
    other_sha, size = keep(fleet.a, other), len(other)
    records.ATTACHMENTS.edit(
        fleet.a,
        attachment,
        {"sha256": other_sha, "size": size, "media_type": "image/png", "file_name": "看板.png"},
    )
    _sync(fleet, fleet.a, fleet.hub)
    assert holds(fleet.a, sha) and holds(fleet.hub, other_sha)
    (purge,) = purge_attachment(fleet.hub, attachment, "本人からの削除依頼")
    assert purge.sha256 == other_sha
    _sync(fleet, fleet.hub, fleet.a)
    for store in (fleet.hub, fleet.a):
        assert not holds(store, sha)
        assert not holds(store, other_sha)
    _check_clean(fleet.hub, fleet.a)


def test_a_purge_naming_bytes_none_of_its_versions_names_leaves_them(fleet: Fleet) -> None:
    """A hub purge whose sha256 is not the attachment's (a fault) erases the attachment's own
    bytes, not another live record's that happen to be the ones it names."""
    attachment = _attach(fleet.a, _activity(fleet.a))
    source = fleet.a.data_dir.parent / "camera" / "看板.png"
    source.write_bytes(_other_photo("blue"))
    kept = attach(fleet.a, _activity(fleet.a), source).record
    _sync(fleet, fleet.a, fleet.hub)
    sha = _brought(fleet.hub)
    content = records.validate(
        "purge", {"attachment_id": attachment, "sha256": kept.sha256, "reason": "依頼"}
    )
    with fleet.hub.unit(write=True) as unit:
        revisions.write_record(unit, "purge", purge_id(attachment), content)
        take(unit, attachment, kept.sha256)
    _sync(fleet, fleet.hub, fleet.a)
    for store in (fleet.hub, fleet.a):
        assert not holds(store, sha)  # the attachment's own bytes: gone
        assert holds(store, kept.sha256)  # the other record's: kept
        assert not records.ATTACHMENTS.get(store, kept.id).deleted
    _check_clean(fleet.hub, fleet.a)


def test_a_purge_deletes_the_thumbnail_with_the_file(fleet: Fleet) -> None:
    attachment = _attach(fleet.a, _activity(fleet.a))
    _sync(fleet, fleet.a, fleet.hub)
    sha = _brought(fleet.hub)
    thumbs = [blobs.thumbnail_path(s.data_dir, sha) for s in (fleet.hub, fleet.a)]
    for thumb in thumbs:  # as the app makes them
        thumb.parent.mkdir(parents=True, exist_ok=True)
        thumb.write_bytes(b"small copy")
    purge_attachment(fleet.hub, attachment, "本人からの削除依頼")
    _sync(fleet, fleet.hub, fleet.a)
    assert [t.exists() for t in thumbs] == [False, False]


@pytest.mark.sqlite_only
def test_a_store_restored_from_a_backup_made_before_the_purge_gets_it_again(
    fleet: Fleet,
) -> None:
    attachment = _attach(fleet.a, _activity(fleet.a))
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.b)
    sha = _brought(fleet.b)
    folder = fleet.b.data_dir
    fleet.b.close()
    backup = fleet.folder / "backup-b"
    shutil.copytree(folder, backup)
    fleet.b = Store.open(folder)
    purge_attachment(fleet.hub, attachment, "本人からの削除依頼")
    _sync(fleet, fleet.hub, fleet.b)
    _holds_nothing_personal(fleet.b, attachment, sha)
    # The laptop's data folder restored from the backup: the file is back, the purge is not.
    fleet.b.close()
    shutil.rmtree(folder)
    shutil.copytree(backup, folder)
    fleet.b = Store.open(folder)
    assert holds(fleet.b, sha)
    _sync(fleet, fleet.hub, fleet.b)  # nothing new since the last bundle, but the purge
    _holds_nothing_personal(fleet.b, attachment, sha)
    _check_clean(fleet.b)


def test_an_export_with_only_purges_the_recipient_has_says_nothing_new(
    fleet: Fleet, cli: Cli
) -> None:
    """Every export carries every purge (a store restored from an older backup must get them
    again), yet a purge the recipient has acknowledged is not news: with nothing else, the
    export says nothing new, while the bundle still carries the purge (issue 19)."""
    attachment = _attach(fleet.a, _activity(fleet.a))
    _sync(fleet, fleet.a, fleet.hub)
    _sync(fleet, fleet.hub, fleet.b)
    quiet = export_bundle(fleet.hub, fleet.folder / "quiet.dxb", fleet.b.device.name)
    assert quiet.nothing_new and quiet.new == 0 and quiet.revisions == 0  # no purge yet

    purge_attachment(fleet.hub, attachment, "本人からの削除依頼")
    first = export_bundle(fleet.hub, fleet.folder / "first.dxb", fleet.b.device.name)
    assert first.new >= 1 and not first.nothing_new  # the purge is news to the laptop
    import_bundle(fleet.b, first.path)
    assert _purged(fleet.b, attachment) == {attachment}

    again = export_bundle(fleet.hub, fleet.folder / "again.dxb", fleet.b.device.name)
    assert again.nothing_new and again.new == 0
    assert again.revisions >= 1  # the purge is carried all the same...
    taken = import_bundle(fleet.b, again.path)
    assert taken.purged == 0  # ...and taken again without change
    # Something new besides the old purge is news again, counted without the purge.
    _activity(fleet.hub)
    news = export_bundle(fleet.hub, fleet.folder / "news.dxb", fleet.b.device.name)
    assert news.new == 1 and news.revisions == news.new + again.revisions
    # A full export counts everything as new: the recipient asked for all of it.
    full = export_bundle(fleet.hub, fleet.folder / "full.dxb", fleet.b.device.name, full=True)
    assert full.new == full.revisions and not full.nothing_new

    # The CLI says so in one line (in English and in Japanese).
    folder = str(fleet.hub.data_dir)
    for lang, words in (("en", "nothing new since the last bundle"), ("ja", "新しい変更なし")):
        out = fleet.folder / f"cli-{lang}.dxb"
        said = cli("--lang", lang, "--data-dir", folder, "export", "--to", str(out),
                   "--recipient", fleet.b.device.name)  # fmt: skip
        assert said.code == 0, said.err
        assert words in said.out, said.out
