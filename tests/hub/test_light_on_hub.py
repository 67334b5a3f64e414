"""The read verbs' light path on a hub (store/light.py): it connects as the Store connects, and
opens a hub only where the Store's open would refuse nothing and do nothing (make a person's
identity, rename the hub's device, sign for a newly enrolled colleague...). The rows it reads
are held equal to the Store's on both engines by tests/store/test_light.py."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from dxfield.domain.errors import StoreError
from dxfield.domain.records import _CONTROLS
from dxfield.store.activities import ActivityInput, add_activity, list_activities
from dxfield.store.engine import Store, device_name_of
from dxfield.store.hub_checks import CONNECT_ARGUMENTS, plain_connect_arguments
from dxfield.store.light import _kept_as_it_is, open_light
from dxfield.store.markers import IDENTITY_FILE
from dxfield.store.postgres import hub_url, make_engine
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.postgres import _free_port

READ_AS_SQLALCHEMY_READS = [
    "postgresql://hub.example/dxfield",
    "postgresql://sato@hub.example:5433/dxfield",
    "postgres://sato@hub.example/dx%20field",
    "postgresql+psycopg://%E4%BD%90%E8%97%A4@hub.example/dxfield",
    "postgresql://a+b@hub.example/db",
    "postgresql:///dxfield?host=/run/postgresql&port=5433",
    "postgresql://postgres@/db?host=/tmp/sock&port=05432",
    "postgresql://hub.example:5433/db?port=5434",
    "postgresql://hub.example/dxfield?sslmode=require&application_name=other",
    "postgresql:///dxfield?service=hub",
    "postgresql://hub.example:0/dxfield",
    "postgresql://hub.example",
    "  postgresql://hub.example/dxfield\n",
    "postgresql://hub.example/dxfield?passfile=/home/sato/.pgpass&host=",
    "postgresql://hub.example/dxfield\nhost=elsewhere",  # one database's name, on both
]
LEFT_TO_THE_STORE = [
    "postgresql://sato:secret@hub.example/dxfield",  # refused by the Store: a password
    "postgresql://hub.example/dxfield?password=secret",
    "postgresql://hub.example/dxfield?SSLPassword=secret",
    "postgresql://[::1]:5432/dxfield",  # IPv6
    "postgresql:///dxfield?host=a,b",  # several hosts
    "postgresql:///dxfield?host=a:5432",
    "postgresql:///dxfield?host=a&host=b",
    "postgresql://hub.example/dxfield?port=abc",
    "postgresql://hub.example:5x/dxfield",
    "POSTGRESQL://hub.example/dxfield",
    "mysql://hub.example/dxfield",
    "",
]


@pytest.mark.parametrize("address", READ_AS_SQLALCHEMY_READS)
def test_an_address_is_read_as_sqlalchemy_reads_it(address: str) -> None:
    engine = make_engine(hub_url(address))
    _, expected = engine.dialect.create_connect_args(engine.url)
    expected.pop("context", None)
    assert plain_connect_arguments(address) == expected


@pytest.mark.parametrize("address", LEFT_TO_THE_STORE)
def test_any_other_address_is_the_stores(address: str) -> None:
    assert plain_connect_arguments(address) is None


def test_a_name_taken_as_it_is_is_one_the_store_keeps_as_it_is() -> None:
    refused = [chr(code) for code in range(sys.maxunicode + 1) if _CONTROLS.match(chr(code))]
    assert len(refused) > 60
    assert not any(_kept_as_it_is(f"a{char}b") for char in refused)
    for name in ("hub", "佐藤\u3000花子@県庁", "sato@pc-01", "x" * 100, "ｶﾞｲﾄﾞ 👍"):
        assert _kept_as_it_is(name) and device_name_of(name) == name
    for name in ("", " hub", "hub\u3000", "x" * 101, "a\u200db"):
        assert not _kept_as_it_is(name)


def _hub(pg_database: str, folder: Path) -> Path:
    """A hub as `init` leaves it: its account's keys made, its open done."""
    with Store.open(folder, database=pg_database, create=True) as hub:
        hub.signer()
        add_activity(
            hub,
            ActivityInput(
                title="奥矢根区 意見交換会",
                kind="meeting",
                date="2024-07-17",
                municipality="豊岡市",
            ),
        )
    Store.open(folder, database=pg_database).close()
    return folder


def _opens(folder: Path, address: str) -> bool:
    light = open_light(folder, address)
    if light is None:
        return False
    light.close()
    return True


def test_a_colleague_reads_light_until_enrolling_asks_the_store_to_sign(
    pg_database: str, tmp_path: Path
) -> None:
    hub = _hub(pg_database, tmp_path / "hub")
    sato = tmp_path / "sato"
    assert not _opens(sato, pg_database)  # her identity is yet to be made
    with Store.open(sato, database=pg_database, device_name="佐藤") as store:
        assert not store.enrolled
        expected = list_activities(store, None, limit=10)
        card = parse_card(card_text(own_card(store)))
    light = open_light(sato, pg_database)
    assert light is not None and light.activities(limit=10) == expected != []
    light.close()
    with Store.open(hub, database=pg_database) as store:
        trust_card(store, card)
    assert not _opens(sato, pg_database)  # her open signs what she may now write
    Store.open(sato, database=pg_database).close()
    assert _opens(sato, pg_database)


def test_what_the_hub_open_would_do_or_refuse_is_the_stores(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = _hub(pg_database, tmp_path / "hub")
    identity = hub / IDENTITY_FILE
    kept = json.loads(identity.read_text())
    assert _opens(hub, pg_database)
    for changed in (
        {**kept, "name": "兵庫県"},  # the hub's device to rename
        {**kept, "name": f" {kept['name']}"},  # a name the Store would strip
        {**kept, "name": "a\x1bb"},  # refused
        {**kept, "id": "not an id"},
        {"id": kept["id"]},
        [kept["id"], kept["name"]],
    ):
        identity.write_text(json.dumps(changed))
        assert not _opens(hub, pg_database), changed
    identity.write_text("{not json")
    assert not _opens(hub, pg_database)
    identity.unlink()  # an identity to make
    assert not _opens(hub, pg_database)
    identity.write_text(json.dumps(kept))
    assert _opens(hub, pg_database)

    own, elsewhere = tmp_path / "pgpass", tmp_path / "elsewhere"
    own.write_text("")
    own.chmod(0o644)
    monkeypatch.setenv("PGPASSFILE", str(own))
    assert not _opens(hub, pg_database)  # others may read the password file: refused
    own.chmod(0o600)
    assert _opens(hub, pg_database)
    elsewhere.mkdir()
    assert not _opens(elsewhere, pg_database)  # no identity in that folder yet


def test_a_hub_account_without_its_keys_is_the_stores(pg_database: str, tmp_path: Path) -> None:
    # Its every open asks for the authorship upgrade (the keys may come back from a backup),
    # under the write lock: not an open that does nothing.
    folder = tmp_path / "hub"
    Store.open(folder, database=pg_database, create=True).close()
    Store.open(folder, database=pg_database).close()
    assert not _opens(folder, pg_database)


def test_a_hub_that_init_made_opens_without_the_write_lock(
    pg_database: str, tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `init` opens the store before the keys exist, then makes them: it does the authorship
    # upgrade itself, so the team's first commands only read at their open (a first export
    # that waited for the lock there read the hub after imports that came in meanwhile).
    folder = tmp_path / "hub"
    made = cli("--data-dir", str(folder), "--database", pg_database, "init", "--role", "hub")
    assert made.code == 0, made.err
    writes: list[str] = []
    real_write = Store.write

    def write(self: Store, *args: Any, **kwargs: Any) -> Any:
        writes.append("write")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Store, "write", write)
    Store.open(folder, database=pg_database).close()
    assert writes == []


def _refusals(folder: Path, address: str) -> tuple[StoreError, StoreError]:
    """What the light path and the Store's open each raise for a hub at `address`."""
    with pytest.raises(StoreError) as light:
        open_light(folder, address)
    with pytest.raises(StoreError) as store:
        Store.open(folder, database=address)
    return light.value, store.value


def test_a_hub_not_reached_is_said_at_once_in_the_stores_words(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = _hub(pg_database, tmp_path / "hub")
    light, store = _refusals(hub, f"postgresql://postgres@127.0.0.1:{_free_port()}/dxfield")
    assert light.code == store.code == "hub.unreachable"
    assert all(light.message(lang) == store.message(lang) for lang in ("en", "ja"))
    # A server that never answers is waited for once (the Store would wait again as long).
    monkeypatch.setitem(CONNECT_ARGUMENTS, "connect_timeout", 2)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(0.2)
        accepted: list[socket.socket] = []
        done = threading.Event()

        def listen() -> None:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    accepted.append(silent.accept()[0])

        listener = threading.Thread(target=listen)
        listener.start()
        try:
            address = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/dxfield"
            with pytest.raises(StoreError) as waited:
                open_light(hub, address)
            assert waited.value.code == "hub.unreachable" and len(accepted) == 1
        finally:
            done.set()
            listener.join()
            for conn in accepted:
                conn.close()
