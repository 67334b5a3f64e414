"""A mixed fleet (bundle format 2, §6; issue 16's "Done when"): a hub, two upgraded laptops and
one not yet upgraded exchange bundles, and the three upgraded stores end with identical dumps.

The hub and the laptop not yet upgraded are those the last release of format 1 left
(tests/fixtures/format-1-final): the hub `hyogo-hub`, opened by today's dxfield (which attests
what it held), and the laptop `toyooka-liaison`, whose store today's dxfield never opens (it
would upgrade it): its revisions are read from the file as they are, and what it sends is a
format-1 bundle, the real one that release wrote and new ones built as it wrote them
(`format1.build_bundle`: a manifest, then a canonical JSON line per revision, unsigned). Two new
laptops are enrolled with the hub and trust only its card."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from dxfield import clock
from dxfield.i18n import LocalizedError
from dxfield.store import maintenance, records
from dxfield.store.activities import ActivityInput, add_activity, get_activity
from dxfield.store.engine import STORE_FILE, Store
from dxfield.store.hlc import REFERENCE_HLC, Stamp, wall_ms
from dxfield.store.key_file import read_key_file
from dxfield.store.maintenance import record_history
from dxfield.store.revisions import canonical_json, revision_id
from dxfield.sync import format1
from dxfield.sync.authors import ATTESTED, VERIFIED, authorship_here
from dxfield.sync.bundle import accept_format_1_until, export_bundle, import_bundle
from dxfield.sync.keys import KEY_FILE, card_text, own_card, parse_card, trust_card
from dxfield.sync.wire import MAGIC, MANIFEST_FORMAT, VERSION_DIGITS, version_of
from tests.conftest import Cli

# The hub and the old laptop are the fixture's files (copied); the new laptops keep files too.
pytestmark = pytest.mark.sqlite_only

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "format-1-final"
WORKSHOP_TITLE = "奥矢根区 意見交換会 住民12名"
"""The title toyooka-liaison gave the workshop in its last bundle of the fixture."""


def _copy(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURE / name, folder)
    (folder / KEY_FILE).chmod(0o600)  # git keeps no modes; the key file is owner-only
    return folder


@dataclass
class OldLaptop:
    """toyooka-liaison on the last format-1 release: its store file read as that release left
    it (never opened by today's dxfield), its key file, and the revisions it writes from now on,
    made as that release made them: content-addressed, stamped, unsigned."""

    folder: Path
    written: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0
    """How many of `written` a bundle has carried."""

    @property
    def device_id(self) -> str:
        keys = read_key_file(self.folder / KEY_FILE)
        assert keys is not None
        return keys.device_id

    @property
    def signing_key(self) -> SigningKey:
        keys = read_key_file(self.folder / KEY_FILE)
        assert keys is not None
        return SigningKey(base64.b64decode(keys.signing_seed))

    def held(self) -> list[dict[str, Any]]:
        """Every revision its store holds, as a format-1 bundle line carries one."""
        uri = f"file:{self.folder / STORE_FILE}?mode=ro"
        with sqlite3.connect(uri, uri=True) as conn:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(revision)")]
            assert "signature" not in columns  # a format-1 store: schema 0002, nothing signed
            rows = conn.execute(
                "SELECT rev_id, entity, entity_id, generation, parents, hlc, device_id, deleted,"
                " data FROM revision ORDER BY rowid"
            ).fetchall()
        names = ("rev_id", "entity", "entity_id", "generation", "parents", "hlc", "device_id")
        found = []
        for row in rows:
            revision: dict[str, Any] = dict(zip(names, row[:7], strict=True))
            revision["parents"] = json.loads(revision["parents"])
            revision["deleted"] = bool(row[7])
            revision["data"] = json.loads(row[8])
            found.append(revision)
        return found + self.written

    def retitle(self, entity_id: str, title: str, *, author: str | None = None) -> dict[str, Any]:
        """An edit of the activity `entity_id` written on this laptop: one revision after the
        newest it holds of that record (`author`: claiming another device wrote it)."""
        author = author or self.device_id
        versions = [r for r in self.held() if r["entity_id"] == entity_id]
        parent = max(versions, key=lambda r: (r["generation"], r["hlc"]))
        stamps = [Stamp.parse(r["hlc"]) for r in self.held() if r["hlc"] != REFERENCE_HLC]
        stamp = str(max(stamps).next(wall_ms()))  # its clock, as the store's own would stamp
        data = {**parent["data"], "title": title}
        generation = parent["generation"] + 1
        parents = [parent["rev_id"]]
        revision = {
            "rev_id": revision_id(
                generation, "activity", entity_id, parents, stamp, author, False, data
            ),
            "entity": "activity",
            "entity_id": entity_id,
            "generation": generation,
            "parents": parents,
            "hlc": stamp,
            "device_id": author,
            "deleted": False,
            "data": data,
        }
        self.written.append(revision)
        return revision

    def bundle(self, path: Path, to: Store, *, full: bool) -> Path:
        """A format-1 bundle for `to` (the hub), as that release wrote one: everything it holds
        (`full`), else what it wrote since its last bundle."""
        revisions = self.held() if full else self.written[self.sent :]
        self.sent = len(self.written)
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": format1.FORMAT_VERSION,
            "sender": self.device_id,
            "recipient": to.device.id,
            "created_at": clock.now().isoformat(timespec="seconds"),
            "full": full,
            "revisions": len(revisions),
        }
        lines = [json.dumps(manifest)] + [canonical_json(r) for r in revisions]
        plain = ("\n".join(lines) + "\n").encode()
        card = own_card(to)
        path.write_bytes(
            format1.build_bundle(
                self.signing_key, self.device_id, to.device.id, card.encryption_key, plain
            )
        )
        return path


@dataclass
class Fleet:
    hub: Store
    kami: Store
    asago: Store
    old: OldLaptop
    folder: Path
    sent: int = 0

    def carry(self, sender: Store, receiver: Store, *, full: bool = False) -> None:
        """A format-2 bundle from `sender` to `receiver`, imported."""
        self.sent += 1
        path = self.folder / f"{self.sent}.dxb"
        export_bundle(sender, path, receiver.device.name, full=full)
        result = import_bundle(receiver, path)
        assert result.format == 2 and result.unsigned == 0


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    old = OldLaptop(_copy("toyooka", tmp_path))
    hub = Store.open(_copy("hub", tmp_path))  # upgraded now: it attests what it held
    kami = Store.open(tmp_path / "kami", device_name="香美リエゾン")
    asago = Store.open(tmp_path / "asago", device_name="朝来リエゾン")
    hub_card = parse_card(card_text(own_card(hub)))
    for laptop in (kami, asago):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, hub_card)
    yield Fleet(hub, kami, asago, old, tmp_path)
    for store in (hub, kami, asago):
        store.close()


def _add(store: Store, title: str, municipality: str) -> str:
    return add_activity(
        store,
        ActivityInput(title=title, kind="workshop", date="2024-07-17", municipality=municipality),
    ).id


def _import_line(cli: Cli, hub: Store, path: Path) -> tuple[int, str, str]:
    result = cli("--lang", "en", "--data-dir", str(hub.data_dir), "import", str(path))
    return result.code, result.out, result.err


def _workshop(old: OldLaptop) -> str:
    """The id of the workshop the fixture's laptops both edited."""
    return next(r["entity_id"] for r in old.held() if r["data"].get("title") == WORKSHOP_TITLE)


def test_a_hub_two_upgraded_laptops_and_one_not_yet_upgraded_end_the_same(
    fleet: Fleet, cli: Cli
) -> None:
    hub, kami, asago, old = fleet.hub, fleet.kami, fleet.asago, fleet.old
    last_day = clock.today() + dt.timedelta(days=7)
    accept_format_1_until(hub, last_day)

    kami_work = _add(kami, "小代地区 意見交換会", "香美町")
    asago_work = _add(asago, "和田山地区 聞き取り", "朝来市")
    fleet.carry(kami, hub)
    fleet.carry(asago, hub)

    # The old laptop's own bundle from the fixture, written by the last format-1 release.
    code, out, err = _import_line(cli, hub, FIXTURE / "toyooka-to-hub-2.dxb")
    assert code == 0, err
    assert "updated 1" in out
    assert "in the previous format: 1 revision came unsigned and the hub attested it" in out
    # Then it edits on and sends everything it holds, as that release's `export --full` would:
    # what the hub holds already is skipped; its one new revision comes unsigned.
    workshop = _workshop(old)
    old.retitle(workshop, "奥矢根区 意見交換会 住民12名(記録追記)")
    code, out, err = _import_line(
        cli, hub, old.bundle(fleet.folder / "v1-full.dxb", hub, full=True)
    )
    assert code == 0, err
    assert "new 0, updated 1" in out
    assert "1 revision came unsigned and the hub attested it" in out

    # The hub's bundles carry its roster: each laptop learns the other, and the old one.
    fleet.carry(hub, kami)
    fleet.carry(hub, asago)
    assert get_activity(asago, workshop).title == "奥矢根区 意見交換会 住民12名(記録追記)"
    # Laptop to laptop, through the roster: an edit of one's activity by the other.
    records.edit(kami, "activity", asago_work, {"title": "和田山地区 聞き取り(香美から補足)"})
    fleet.carry(kami, asago)
    records.edit(asago, "activity", kami_work, {"location": "小代公民館"})
    fleet.carry(asago, hub)

    # The window closes: the old laptop's next bundle gets one line, and nothing changes.
    old.retitle(workshop, "奥矢根区 意見交換会(閉じた後)")
    late = old.bundle(fleet.folder / "v1-late.dxb", hub, full=False)
    before = maintenance.dump(hub)
    after_window = clock.noon_in_japan(last_day + dt.timedelta(days=1))
    with clock.use(lambda: after_window):
        code, out, err = _import_line(cli, hub, late)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "error: bundle refused: 'toyooka-liaison' made it with an older dxfield (format 1), and "
        "the hub no longer takes those; update dxfield there and export again"
    ]
    assert maintenance.dump(hub) == before

    # A format-2 bundle given to the old laptop: the last format-1 release read the magic line's
    # version and, above its own (1), said "newer format" in one line.
    to_old = fleet.folder / "hub-to-toyooka.dxb"
    export_bundle(hub, to_old, "toyooka-liaison")
    first = to_old.read_bytes()[: len(MAGIC) + VERSION_DIGITS + 1]
    assert version_of(first) == 2 > format1.FORMAT_VERSION
    said = LocalizedError("bundle.newer_format", version=version_of(first)).message("en")
    assert said == "bundle refused: it is a newer format (version 2); update dxfield"

    # Everyone syncs with the hub once more; the three upgraded stores end identical.
    for laptop in (kami, asago):
        fleet.carry(laptop, hub)
    for laptop in (kami, asago):
        fleet.carry(hub, laptop)
    dumps = [maintenance.dump(s) for s in (hub, kami, asago)]
    assert dumps[1] == dumps[0] and dumps[2] == dumps[0]

    # Who wrote what, on the second laptop: the first laptop, verified; the old laptop's
    # versions, attested by the hub (they came unsigned).
    def authors(store: Store, record_id: str) -> list[tuple[str, str]]:
        history = record_history(store, record_id)[1]
        found = authorship_here(store, history)
        return [(found[r["rev_id"]].author, found[r["rev_id"]].verdict) for r in history]

    assert authors(asago, kami_work) == [("香美リエゾン", VERIFIED), ("朝来リエゾン", VERIFIED)]
    by_old = [v for a, v in authors(asago, workshop) if a == "toyooka-liaison"]
    assert by_old and set(by_old) == {ATTESTED}
    assert authors(kami, workshop) == authors(asago, workshop) == authors(hub, workshop)


def test_a_format_1_bundle_speaks_only_for_its_sender_and_only_to_the_hub(
    fleet: Fleet, cli: Cli
) -> None:
    """Inside the window, a format-1 bundle's signature vouches for its sender's own revisions
    alone: one that claims another device wrote it, which the hub does not hold, refuses the
    bundle in one line. And an upgraded laptop takes none at all: the hub is the one that
    attests."""
    hub, kami, old = fleet.hub, fleet.kami, fleet.old
    accept_format_1_until(hub, clock.today() + dt.timedelta(days=7))
    workshop = _workshop(old)
    # nishinomiya-liaison's survey, which the old laptop holds from the hub's bundle then.
    survey = next(r for r in old.held() if r["data"].get("title") == "窓口体験調査")
    nishinomiya = survey["device_id"]
    assert nishinomiya != old.device_id
    old.retitle(workshop, "奥矢根区 意見交換会(西宮の名で)", author=nishinomiya)
    forged = old.bundle(fleet.folder / "forged.dxb", hub, full=False)
    before = maintenance.dump(hub)
    code, out, err = _import_line(cli, hub, forged)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        "error: bundle refused: revision 1: it came unsigned from 'toyooka-liaison' but was "
        "written by 'nishinomiya-liaison', and this store does not hold it; "
        "'nishinomiya-liaison' must send it"
    ]
    assert maintenance.dump(hub) == before

    fleet.carry(hub, kami)  # kami now knows toyooka-liaison through the roster
    old.retitle(workshop, "奥矢根区 意見交換会(香美へ直接)")
    direct = old.bundle(fleet.folder / "to-kami.dxb", kami, full=False)
    before = maintenance.dump(kami)
    result = cli("--lang", "en", "--data-dir", str(kami.data_dir), "import", str(direct))
    assert result.code == 1 and result.out == ""
    assert result.err.strip().splitlines() == [
        "error: bundle refused: 'toyooka-liaison' made it with an older dxfield (format 1); "
        "update dxfield there and export again"
    ]
    assert maintenance.dump(kami) == before
