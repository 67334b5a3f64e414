"""The hub rotates its key: laptops follow the chain, the old key signs nothing more."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dxfield.store import local_state, maintenance
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.key_file import key_path, read_key_file
from dxfield.sync import container
from dxfield.sync.bundle import BundleError, export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from dxfield.sync.roster import held_roster
from dxfield.sync.rotation import rotate_hub_key
from tests.conftest import Cli


def _hub(folder: Path) -> Store:
    store = Store.open(folder, device_name="兵庫県")
    local_state.set_device_role(store, "hub")
    store.close()
    return Store.open(folder)


LAPTOPS = (("toyooka", "豊岡リエゾン"), ("nishinomiya", "西宮リエゾン"))


def _laptop(folder: Path, name: str) -> Store:
    """A laptop (role field: on PostgreSQL a folder's first account would be a hub)."""
    store = Store.open(folder, device_name=name)
    local_state.set_device_role(store, "field")
    store.close()
    return Store.open(folder)


def _log(store: Store, title: str) -> None:
    add_activity(
        store,
        ActivityInput(title=title, kind="meeting", date="2024-07-17", municipality="豊岡市"),
    )


def _empty_bundle_as_hub(
    hub: Store, to: Store, key: Any, out: Path, chain: list[dict[str, Any]] | None = None
) -> Path:
    """A bundle of nothing that says it is the hub's, signed with `key` (and `chain` in its
    header), encrypted to `to`: what a thief of a hub key would write."""
    from nacl.public import PublicKey

    manifest = {"format": "dxfield-bundle-manifest", "version": 2, "sender": hub.device.id,
                "recipient": to.device.id, "created_at": "2024-11-26T00:00:00+00:00",
                "full": False, "revisions": 0, "blobs": 0}  # fmt: skip
    container.write_container(
        out,
        key,
        hub.device.id,
        to.device.id,
        PublicKey(base64.b64decode(own_card(to).encryption_key)),
        [container.Manifest(manifest)],
        data_dir=hub.data_dir,
        sender_keys=chain,
    )
    return out


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[Store, Store, Store]]:
    """A hub and two laptops that trust only the hub's card (as first checked); the hub trusts
    both."""
    hub = _hub(tmp_path / "hub")
    toyooka, nishinomiya = (_laptop(tmp_path / f, n) for f, n in LAPTOPS)
    for laptop in (toyooka, nishinomiya):
        trust_card(hub, parse_card(card_text(own_card(laptop))))
        trust_card(laptop, parse_card(card_text(own_card(hub))))
    yield hub, toyooka, nishinomiya
    for store in (hub, toyooka, nishinomiya):
        store.close()


def test_laptops_follow_the_rotated_key_and_the_old_one_signs_nothing_more(
    fleet: tuple[Store, Store, Store], tmp_path: Path
) -> None:
    hub, toyooka, nishinomiya = fleet
    _log(toyooka, "奥矢根区 意見交換会")
    import_bundle(hub, export_bundle(toyooka, tmp_path / "t1.dxb", "兵庫県").path)
    _log(hub, "県の打合せ")
    import_bundle(toyooka, export_bundle(hub, tmp_path / "h1.dxb", "豊岡リエゾン").path)
    old_seed = read_key_file(key_path(hub.data_dir))
    assert old_seed is not None
    before = own_card(hub)

    done = rotate_hub_key(hub)

    assert done.card.fingerprint != before.fingerprint == done.previous_fingerprint
    assert done.signed >= 1 and done.attested == 0
    assert stat.S_IMODE(done.old_key_file.stat().st_mode) == 0o600
    assert own_card(hub).signing_key == done.card.signing_key
    assert maintenance.check(hub).ok
    _log(hub, "回転後の打合せ")
    # 豊岡 knew the old key through the roster it took; 西宮 only the card checked by hand.
    import_bundle(toyooka, export_bundle(hub, tmp_path / "h2.dxb", "豊岡リエゾン").path)
    import_bundle(nishinomiya, export_bundle(hub, tmp_path / "h3.dxb", "西宮リエゾン").path)
    for laptop in (toyooka, nishinomiya):
        roster = held_roster(laptop, hub.device.id)
        assert roster is not None and roster.hub.signing_key == done.card.signing_key
        assert maintenance.check(laptop).ok
    assert maintenance.dump(toyooka) == maintenance.dump(hub) == maintenance.dump(nishinomiya)

    # A thief with the old key writes a bundle "from the hub": refused, nothing kept.
    from nacl.signing import SigningKey

    old_key = SigningKey(base64.b64decode(old_seed.signing_seed))
    forged = _empty_bundle_as_hub(hub, toyooka, old_key, tmp_path / "forged.dxb")
    before_dump = maintenance.dump(toyooka)
    with pytest.raises(BundleError) as refused:
        import_bundle(toyooka, forged)
    assert refused.value.code == "bundle.bad_signature"
    assert maintenance.dump(toyooka) == before_dump


def test_a_forged_chain_of_keys_in_a_header_is_refused(
    fleet: tuple[Store, Store, Store], tmp_path: Path
) -> None:
    """A stranger's key appended to the hub's chain (not signed by the hub's key) is refused."""
    from nacl.signing import SigningKey

    hub, toyooka, _ = fleet
    stranger = SigningKey.generate()
    card = own_card(hub)
    fake = {**card.__dict__, "signing_key": base64.b64encode(bytes(stranger.verify_key)).decode()}
    chain = [
        {"card": card.__dict__, "signed_by_previous": None},
        {"card": fake, "signed_by_previous": base64.b64encode(b"\x00" * 64).decode()},
    ]
    forged = _empty_bundle_as_hub(hub, toyooka, stranger, tmp_path / "forged.dxb", chain)
    with pytest.raises(BundleError) as refused:
        import_bundle(toyooka, forged)
    assert refused.value.code == "bundle.bad_header"
    assert "sender_keys" in refused.value.message("en")
    assert json.dumps(refused.value.message("ja"))


@pytest.mark.sqlite_only  # a laptop's role: on PostgreSQL every data folder here is a hub
def test_the_hub_verbs_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    import datetime as dt

    from dxfield import clock

    hub, laptop = str(tmp_path / "hub"), str(tmp_path / "laptop")
    assert cli("--data-dir", hub, "init", "--role", "hub", "--device-name", "兵庫県").code == 0
    assert cli("--data-dir", laptop, "init", "--device-name", "豊岡リエゾン").code == 0
    shown = cli("--lang", "en", "--data-dir", hub, "hub", "accept-v1")
    assert shown.out.strip() == "the hub takes no bundles in the previous format (1)"
    until = (clock.today() + dt.timedelta(days=90)).isoformat()
    set_ = cli("--lang", "en", "--data-dir", hub, "hub", "accept-v1", "--until", until)
    assert set_.code == 0 and until in set_.out
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    refused = cli("--lang", "ja", "--data-dir", hub, "hub", "accept-v1", "--until", past)
    assert refused.code == 1 and len(refused.err.splitlines()) == 1 and past in refused.err
    stopped = cli("--data-dir", hub, "hub", "accept-v1", "--stop", "--json")
    assert json.loads(stopped.out) == {"accept_format_1_until": None}
    not_hub = cli("--lang", "en", "--data-dir", laptop, "hub", "accept-v1", "--until", until)
    assert not_hub.code == 1 and "is not the hub" in not_hub.err
    rotated = cli("--lang", "en", "--data-dir", hub, "hub", "rotate-key")
    assert rotated.code == 0, rotated.err
    assert "new key fingerprint" in rotated.out and "destroy it" in rotated.out
    laptop_rotate = cli("--lang", "en", "--data-dir", laptop, "hub", "rotate-key")
    assert laptop_rotate.code == 1 and len(laptop_rotate.err.splitlines()) == 1


class _Killed(BaseException):
    """The process dying at that point (nothing after it runs)."""


@pytest.mark.parametrize("finisher", ["the next open", "a store open all along"])
def test_a_rotation_killed_after_it_committed_is_finished_before_anything_signs(
    fleet: tuple[Store, Store, Store],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    finisher: str,
) -> None:
    from dxfield.store.key_rotation import next_key_path
    from dxfield.sync import rotation

    hub, toyooka, _ = fleet
    _log(hub, "県の打合せ")
    import_bundle(toyooka, export_bundle(hub, tmp_path / "h1.dxb", "豊岡リエゾン").path)
    folder, path = hub.data_dir, key_path(hub.data_dir)
    old_text = path.read_text(encoding="utf-8")
    real_write = rotation.write_key_file

    def dies_at_the_key_file(where: Path, keys: Any) -> None:
        if where == path:
            raise _Killed
        real_write(where, keys)

    # The app, open on the hub while another process rotates (or nothing, till the next open).
    colleague = Store.open(folder) if finisher == "a store open all along" else None
    with monkeypatch.context() as patched, pytest.raises(_Killed):
        patched.setattr(rotation, "write_key_file", dies_at_the_key_file)
        rotate_hub_key(hub)
    # The store signs with the new key already; the key file still holds the old one.
    assert path.read_text(encoding="utf-8") == old_text and next_key_path(folder).exists()
    hub.close()
    with colleague if colleague is not None else Store.open(folder) as again:
        _log(again, "回転後の打合せ")  # signed with the key the store's chain names
        assert not next_key_path(folder).exists()
        assert path.read_text(encoding="utf-8") != old_text
        assert maintenance.check(again).ok
        bundle = export_bundle(again, tmp_path / "h2.dxb", "豊岡リエゾン").path
        assert import_bundle(toyooka, bundle).new == 1
        assert maintenance.dump(toyooka) == maintenance.dump(again)


def test_a_rotation_killed_before_it_committed_changes_nothing(
    fleet: tuple[Store, Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dxfield.store.key_rotation import next_key_path
    from dxfield.sync import rotation

    hub, toyooka, _ = fleet
    _log(hub, "県の打合せ")
    folder, path = hub.data_dir, key_path(hub.data_dir)
    old_text, before = path.read_text(encoding="utf-8"), maintenance.dump(hub)

    def dies_in_the_unit(*_args: Any) -> None:
        raise _Killed

    with monkeypatch.context() as patched, pytest.raises(_Killed):
        patched.setattr(rotation, "keep_hub_steps_in", dies_in_the_unit)
        rotate_hub_key(hub)
    assert not next_key_path(folder).exists()  # removed on the way out: it signed nothing
    # Killed outright, the `.next` file would stay, with keys the chain never named: it is left
    # alone, and the old key stays the hub's.
    from nacl.public import PrivateKey
    from nacl.signing import SigningKey

    from dxfield.store.key_file import KeyFileData, write_key_file

    fresh = KeyFileData(
        hub.device.id,
        base64.b64encode(bytes(SigningKey.generate())).decode(),
        base64.b64encode(bytes(PrivateKey.generate())).decode(),
    )
    write_key_file(next_key_path(folder), fresh)
    hub.close()
    with Store.open(folder) as again:
        assert path.read_text(encoding="utf-8") == old_text
        assert maintenance.dump(again) == before
        assert maintenance.check(again).ok
        bundle = export_bundle(again, tmp_path / "h1.dxb", "豊岡リエゾン").path
        assert import_bundle(toyooka, bundle).new >= 1
