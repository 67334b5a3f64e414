"""People on a hub: each colleague works under their own identity (their data folder), history
says who changed what, only the hub's account syncs, and nobody writes before being enrolled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxfield.domain.errors import LocalizedError
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.hub import IDENTITY_FILE
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli


def _activity(title: str) -> ActivityInput:
    return ActivityInput(municipality="豊岡市", kind="meeting", date="2024-08-01", title=title)


def test_the_first_account_is_the_hub_and_a_colleague_needs_enrolling(
    pg_database: str, tmp_path: Path
) -> None:
    with Store.open(tmp_path / "hub", database=pg_database, create=True) as hub:
        assert hub.device.role == "hub" and hub.device.id == hub.hub_id and hub.enrolled
        hub_id = hub.hub_id
    with Store.open(tmp_path / "sato", database=pg_database, device_name="佐藤") as sato:
        assert sato.device.role == "staff" and sato.hub_id == hub_id
        assert sato.device.id != hub_id and not sato.enrolled
        with pytest.raises(LocalizedError) as refused:
            add_activity(sato, _activity("県庁 打合せ"))
        assert refused.value.code == "hub.not_enrolled"
        card = parse_card(card_text(own_card(sato)))  # her own keys, in her own folder
        assert card.role == "staff"
    identity = json.loads((tmp_path / "sato" / IDENTITY_FILE).read_text())
    assert identity == {"id": card.id, "name": "佐藤"}
    assert (tmp_path / "sato" / IDENTITY_FILE).stat().st_mode & 0o077 == 0
    with Store.open(tmp_path / "hub", database=pg_database) as hub:
        trust_card(hub, card)
    with Store.open(tmp_path / "sato", database=pg_database) as sato:
        assert sato.enrolled and sato.device.name == "佐藤"
        made = add_activity(sato, _activity("県庁 打合せ"))
    with Store.open(tmp_path / "hub", database=pg_database) as hub:
        from dxfield.store.maintenance import record_history

        _, versions = record_history(hub, made.id)
        assert [v["device_id"] for v in versions] == [card.id]  # who changed it: 佐藤


def test_only_the_hub_account_imports_and_exports(pg_database: str, tmp_path: Path) -> None:
    with (
        Store.open(tmp_path / "laptop") as laptop,
        Store.open(tmp_path / "hub", database=pg_database, create=True) as hub,
    ):
        assert laptop.path is not None and hub.path is None
        laptop_card = parse_card(card_text(own_card(laptop)))
        hub_card = parse_card(card_text(own_card(hub)))
        trust_card(hub, laptop_card)
        trust_card(laptop, hub_card)
        add_activity(laptop, _activity("奥矢根区 意見交換会"))
        bundle = export_bundle(laptop, tmp_path / "in.dxb", hub.device.name).path
    with Store.open(tmp_path / "sato", database=pg_database) as sato:
        for attempt in (
            lambda: import_bundle(sato, bundle),
            lambda: export_bundle(sato, tmp_path / "out.dxb", laptop_card.name),
        ):
            with pytest.raises(LocalizedError) as refused:
                attempt()
            assert refused.value.code == "bundle.not_hub_account"
    assert not (tmp_path / "out.dxb").exists()
    with Store.open(tmp_path / "hub", database=pg_database) as hub:
        assert import_bundle(hub, bundle).new == 1


def test_the_cli_works_on_the_hub_from_init(cli: Cli, pg_database: str, tmp_path: Path) -> None:
    hub = ("--data-dir", str(tmp_path / "hub"), "--database", pg_database)
    made = cli(*hub, "init", "--role", "hub", "--device-name", "兵庫県")
    assert made.code == 0, made.err
    assert "role: hub" in made.out and "postgresql://" in made.out
    added = cli(
        *hub, "activity", "add", "--municipality", "豊岡市", "--kind", "meeting",
        "--date", "2024-08-01", "--title", "県庁 打合せ",
    )  # fmt: skip
    assert added.code == 0, added.err
    listed = cli(*hub, "activity", "list", "--json")
    assert [a["title"] for a in json.loads(listed.out)] == ["県庁 打合せ"]
    backup = cli(*hub, "backup", "--out", str(tmp_path / "b.sqlite3"))
    assert backup.code == 1 and "pg_dump" in backup.err and len(backup.err.splitlines()) == 1
    demo = cli("--data-dir", str(tmp_path / "demo"), "--database", pg_database, "demo", "--no-open")
    assert demo.code == 0 and (tmp_path / "demo" / "dxfield.sqlite3").exists()  # never the hub


def test_restoring_a_backup_is_refused_on_a_hub(cli: Cli, pg_database: str, tmp_path: Path) -> None:
    restored = cli("--data-dir", str(tmp_path / "hub"), "--database", pg_database,
                   "restore-backup", str(tmp_path / "b.sqlite3"))  # fmt: skip
    assert restored.code == 1 and "pg_restore" in restored.err
    assert not (tmp_path / "hub" / "dxfield.sqlite3").exists()


def test_a_laptops_folder_is_not_taken_for_a_hub_identity(
    cli: Cli, pg_database: str, tmp_path: Path
) -> None:
    laptop = tmp_path / "laptop"
    assert cli("--data-dir", str(laptop), "init").code == 0  # a laptop: its store and keys
    on_hub = cli("--data-dir", str(laptop), "--database", pg_database, "init")
    assert on_hub.code == 1 and "belongs to a device" in on_hub.err
    assert not (laptop / IDENTITY_FILE).exists()


def test_history_on_the_hub_names_who_changed_what(
    cli: Cli, pg_database: str, tmp_path: Path
) -> None:
    hub = ("--data-dir", str(tmp_path / "hub"), "--database", pg_database)
    sato = ("--data-dir", str(tmp_path / "sato"), "--database", pg_database)
    assert cli(*hub, "init", "--role", "hub", "--device-name", "兵庫県").code == 0
    assert cli(*sato, "init", "--device-name", "佐藤").code == 0
    assert cli(*sato, "keys", "export", "--out", str(tmp_path / "sato.card")).code == 0
    assert cli(*hub, "keys", "trust", str(tmp_path / "sato.card")).code == 0
    added = cli(*hub, "activity", "add", "--municipality", "豊岡市", "--kind", "meeting",
                "--date", "2024-08-01", "--title", "県庁 打合せ", "--json")  # fmt: skip
    made = json.loads(added.out)["id"]
    assert cli(*sato, "activity", "edit", made, "--title", "県庁 打合せ(第2回)").code == 0
    for who in (hub, sato):  # each reads both names, whoever looks
        history = cli("--lang", "en", *who, "history", made)
        assert history.code == 0, history.err
        lines = [line for line in history.out.splitlines() if "(version" in line]
        assert "兵庫県" in lines[0] and "佐藤" in lines[1], history.out


def test_each_colleague_signs_with_their_own_keys_and_only_the_hub_attests(
    pg_database: str, tmp_path: Path
) -> None:
    import base64

    from nacl.signing import VerifyKey
    from sqlalchemy import delete, select, update

    from dxfield.store import maintenance
    from dxfield.store.authorship import (
        CUT_KEY,
        UPGRADED_KEY,
        attestation_verifies,
        signature_verifies,
        stored_digest,
    )
    from dxfield.store.schema import LOCAL_STATE, REVISIONS

    def key_of(store: Store) -> VerifyKey:
        return VerifyKey(base64.b64decode(own_card(store).signing_key))

    def revision(store: Store, entity_id: str) -> tuple[bytes, str | None, str | None]:
        with store.read() as conn:
            row = conn.execute(select(REVISIONS).where(REVISIONS.c.entity_id == entity_id)).one()
        found = stored_digest(row)
        assert found is not None
        return found, row.signature, row.attestation

    with Store.open(tmp_path / "hub", database=pg_database, create=True) as hub:
        hub_key = key_of(hub)
        by_hub = add_activity(hub, _activity("県 確認")).id
    with Store.open(tmp_path / "sato", database=pg_database, device_name="佐藤") as sato:
        card = parse_card(card_text(own_card(sato)))
        sato_key = key_of(sato)
    with (
        Store.open(tmp_path / "hub", database=pg_database) as hub,
        Store.open(tmp_path / "laptop") as laptop,
    ):
        trust_card(hub, card)
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))
        by_laptop = add_activity(laptop, _activity("奥矢根区 意見交換会")).id
        bundle = export_bundle(laptop, tmp_path / "in.dxb", hub.device.name).path
        assert import_bundle(hub, bundle).new == 1  # format 1: it comes unsigned
    with Store.open(tmp_path / "sato", database=pg_database) as sato:
        by_sato = add_activity(sato, _activity("県庁 打合せ")).id
        found, signature, _ = revision(sato, by_sato)
        assert signature_verifies(sato_key, found, signature)
        assert not signature_verifies(hub_key, found, signature)
        found, signature, _ = revision(sato, by_hub)
        assert signature_verifies(hub_key, found, signature)
        # As a format-1 dxfield left it: nothing signed, nobody upgraded.
        with sato.write() as conn:
            conn.execute(update(REVISIONS).values(signature=None, attestation=None))
            conn.execute(delete(LOCAL_STATE).where(LOCAL_STATE.c.key.startswith(UPGRADED_KEY)))
            conn.execute(delete(LOCAL_STATE).where(LOCAL_STATE.c.key == CUT_KEY))
    with Store.open(tmp_path / "sato", database=pg_database) as sato:  # signs hers, attests none
        found, signature, attestation = revision(sato, by_sato)
        assert signature_verifies(sato_key, found, signature) and attestation is None
        assert revision(sato, by_hub)[1:] == (None, None)
    with Store.open(tmp_path / "hub", database=pg_database) as hub:  # signs its own, attests
        found, signature, attestation = revision(hub, by_hub)
        assert signature_verifies(hub_key, found, signature) and attestation is None
        assert revision(hub, by_sato)[2] is None  # signed by her already: nothing to attest
        found, signature, attestation = revision(hub, by_laptop)
        assert signature is None and attestation_verifies(hub_key, found, attestation)
        assert maintenance.check(hub).findings == []
    with Store.open(tmp_path / "sato", database=pg_database) as sato:
        assert maintenance.check(sato).findings == []  # the hub's key, as the hub recorded it
        with sato.write() as conn:  # her own signature is no attestation
            conn.execute(
                update(REVISIONS)
                .where(REVISIONS.c.entity_id == by_laptop)
                .values(attestation=revision(sato, by_sato)[1])
            )
        assert [f.code for f in maintenance.check(sato).findings] == ["bad-attestation"]
