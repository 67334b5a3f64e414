"""Device keys, cards and trust."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from dxfield.domain.errors import LocalizedError, NotFound
from dxfield.store.engine import Store
from dxfield.sync.keys import (
    KEY_FILE,
    card_text,
    device_keys,
    list_trusted,
    own_card,
    parse_card,
    revoke,
    trust_card,
)
from tests.conftest import Cli


def test_keys_are_made_on_first_need_owner_only_and_kept(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a") as store:
        assert not (tmp_path / "a" / KEY_FILE).exists()
        first = own_card(store)
        mode = stat.S_IMODE((tmp_path / "a" / KEY_FILE).stat().st_mode)
        assert mode == 0o600
        assert own_card(store) == first  # the same keys, read back
        assert first.role == "field" and first.id == store.device.id
        keys = device_keys(store)
        signed = keys.signing.sign(b"bundle")
        import base64

        from nacl.signing import VerifyKey

        VerifyKey(base64.b64decode(first.signing_key)).verify(signed)


def test_a_card_travels_and_is_trusted_then_revoked(tmp_path: Path) -> None:
    with Store.open(tmp_path / "hub") as hub, Store.open(tmp_path / "laptop") as laptop:
        card = parse_card(card_text(own_card(laptop)))
        assert card == own_card(laptop)
        trusted = trust_card(hub, card, name="豊岡")
        assert [t.name for t in list_trusted(hub)] == ["豊岡"]
        assert trusted.card.fingerprint == own_card(laptop).fingerprint
        with pytest.raises(LocalizedError, match="own card"):
            trust_card(laptop, card)
        revoke(hub, card.id[-8:])
        assert [t.revoked for t in list_trusted(hub)] == [True]
        trust_card(hub, card)  # trusting again un-revokes
        assert [t.revoked for t in list_trusted(hub)] == [False]
        with pytest.raises(NotFound):
            revoke(hub, "誰でもない")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "something"}, "wrong format"),
        ({"version": 2}, "version 2"),
        ({"role": "boss"}, "unknown role"),
        ({"signing_key": "AAAA"}, "wrong length"),
        ({"encryption_key": "!!!"}, "not base64"),
        ({"name": "a\x1b[31m"}, "control character"),
        ({"id": ""}, "id is missing"),
        ({"name": "\u202eevil"}, "control character"),
        ({"id": "../../x"}, "not a device id"),
    ],
)
def test_a_bad_card_is_refused(tmp_path: Path, change: dict[str, object], message: str) -> None:
    with Store.open(tmp_path / "a") as store:
        data = json.loads(card_text(own_card(store)))
    with pytest.raises(LocalizedError, match=message):
        parse_card(json.dumps({**data, **change}))


@pytest.mark.parametrize(
    ("name", "message"),
    [("bad\x1b[2Jname", "control character"), ("x" * 101, "too long"), ("  ", "must not be empty")],
)
def test_a_device_name_is_one_clean_line(cli: Cli, tmp_path: Path, name: str, message: str) -> None:
    hub, laptop = tmp_path / "hub", tmp_path / "laptop"
    result = cli("--lang", "en", "--data-dir", str(hub), "init", "--device-name", name)
    assert result.code == 1 and result.err.count("\n") == 1 and message in result.err
    assert not (hub / "dxfield.sqlite3").exists()
    cli("--data-dir", str(laptop), "keys", "export", "--out", str(tmp_path / "card.json"))
    trusted = cli("--lang", "en", "--data-dir", str(hub), "keys", "trust",
                  str(tmp_path / "card.json"), "--name", name)  # fmt: skip
    assert trusted.code == 1 and message in trusted.err


def test_keys_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    hub, laptop, card = tmp_path / "hub", tmp_path / "laptop", tmp_path / "card.json"
    out = cli("--data-dir", str(hub), "init", "--role", "hub", "--device-name", "兵庫県")
    assert out.code == 0 and "role: hub" in out.out
    cli("--data-dir", str(laptop), "init", "--device-name", "豊岡リエゾン")
    assert cli("--data-dir", str(laptop), "keys", "export", "--out", str(card)).code == 0
    shown = json.loads(cli("--data-dir", str(laptop), "keys", "show", "--json").out)
    trusted = cli("--data-dir", str(hub), "keys", "trust", str(card))
    assert trusted.code == 0 and shown["fingerprint"] in trusted.out
    listed = json.loads(cli("--data-dir", str(hub), "keys", "list", "--json").out)
    assert [(d["local_name"], d["role"], d["revoked"]) for d in listed] == [
        ("豊岡リエゾン", "field", False)
    ]
    assert cli("--data-dir", str(hub), "keys", "revoke", "豊岡リエゾン").code == 0
    bad = cli("--data-dir", str(hub), "keys", "trust", str(hub / "dxfield.sqlite3"))
    assert bad.code == 1 and bad.err.startswith("error: not a device card")
    role = cli("--data-dir", str(hub), "init", "--role", "boss")
    assert role.code != 0 and "role" in role.err
    refused = cli(
        "--data-dir", str(laptop), "keys", "export", "--out", str(laptop / "dxfield.sqlite3")
    )
    assert refused.code != 0


def test_errors_carry_a_code_and_values_and_read_in_either_language(tmp_path: Path) -> None:
    """Sync says what went wrong (a code, the values), never a command or a flag; a problem
    met reading the file is told inside the card's error in the same language."""
    from dxfield.i18n import registered_problems
    from dxfield.sync.keys import read_card_file

    with Store.open(tmp_path / "hub") as hub, Store.open(tmp_path / "laptop") as laptop:
        card = own_card(laptop)
        trust_card(hub, card, name="豊岡")
        with pytest.raises(NotFound) as missing:
            revoke(hub, "誰でもない")
        assert missing.value.code == "device.not_found"
        assert missing.value.values == {"text": "'誰でもない'"}
        assert missing.value.message("ja") == "登録した端末 '誰でもない' はありません"
        assert missing.value.message("en") == "no trusted device '誰でもない'"
        with Store.open(tmp_path / "other") as other:
            twin = own_card(other)
        with pytest.raises(LocalizedError) as taken:
            trust_card(hub, twin, name="豊岡")
        assert taken.value.code == "device.name_taken" and taken.value.field == "name"
        assert "--name" not in taken.value.message("en")
    with pytest.raises(LocalizedError) as unread:
        read_card_file(tmp_path / "no-such-card.json")
    assert unread.value.code == "card.unreadable_file"
    problem = unread.value.values["problem"]  # the file's problem: its code, plain data
    assert isinstance(problem, str) and problem and list(unread.value.causes) == ["problem"]
    ja, en = unread.value.message("ja"), unread.value.message("en")
    assert ja.startswith("端末カードとして読めません: ") and en.startswith("not a device card: ")
    assert not any("\u3040" <= c <= "\u30ff" for c in en)  # the file's problem in English too
    sync_codes = [c for c in registered_problems() if c.startswith(("bundle.", "card.", "device."))]
    for code in sync_codes:
        message = registered_problems()[code]
        assert "keys " not in message and "--" not in message, code
