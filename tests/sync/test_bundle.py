"""Bundles: export, import, and everything a bad bundle must not do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dxfield.store import maintenance
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.sync.bundle import BundleError, export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli
from tests.sync.corpus import CORPUS, Pair


def _introduce(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def _log(store: Store, title: str, municipality: str = "豊岡市") -> str:
    return add_activity(
        store,
        ActivityInput(title=title, kind="meeting", date="2024-07-17", municipality=municipality),
    ).id


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    stores = [
        Store.open(tmp_path / name, device_name=name) for name in ("sender", "receiver", "other")
    ]
    sender, receiver, stranger = stores
    _introduce(sender, receiver)
    _log(sender, "奥矢根区 意見交換会")
    yield Pair(sender, receiver, stranger)
    for store in stores:
        store.close()


@pytest.mark.parametrize(("name", "make", "message"), CORPUS, ids=[c[0] for c in CORPUS])
def test_a_bad_bundle_is_one_error_line_and_changes_nothing(
    pair: Pair, cli: Cli, tmp_path: Path, name: str, make: object, message: str
) -> None:
    path = tmp_path / f"{name}.dxb"
    path.write_bytes(make(pair))  # type: ignore[operator]
    before = maintenance.dump(pair.receiver)
    result = cli("--data-dir", str(pair.receiver.data_dir), "import", str(path))
    assert result.code == 1 and result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bundle refused"), result.err
    assert message in lines[0]
    assert maintenance.dump(pair.receiver) == before
    assert maintenance.check(pair.receiver).ok


def test_the_good_bundle_the_corpus_starts_from_is_accepted(pair: Pair, tmp_path: Path) -> None:
    from tests.sync.corpus import bundle

    path = tmp_path / "good.dxb"
    path.write_bytes(bundle(pair))
    result = import_bundle(pair.receiver, path)
    assert result.new == 1 and result.conflicting == 0


def test_a_bundle_twice_changes_nothing_the_second_time(pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    exported = export_bundle(pair.sender, path, "receiver")
    # The sender's one activity; reference data is in every store already and is not sent.
    assert exported.encrypted and exported.revisions == 1 and exported.unsent == 0
    first = import_bundle(pair.receiver, path)
    assert first.new == 1
    dump = maintenance.dump(pair.receiver)
    second = import_bundle(pair.receiver, path)
    assert (second.new, second.updated, second.conflicting) == (0, 0, 0)
    assert second.unchanged == second.revisions or second.unchanged > 0
    assert maintenance.dump(pair.receiver) == dump
    assert maintenance.dump(pair.receiver) == maintenance.dump(pair.sender)


def test_a_dry_run_counts_and_writes_nothing(pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "b.dxb"
    export_bundle(pair.sender, path, "receiver")
    before = maintenance.dump(pair.receiver)
    result = import_bundle(pair.receiver, path, dry_run=True)
    assert result.dry_run and result.new == 1
    assert maintenance.dump(pair.receiver) == before


def test_exports_are_incremental_per_recipient_and_full_on_request(
    pair: Pair, tmp_path: Path
) -> None:
    first = export_bundle(pair.sender, tmp_path / "1.dxb", "receiver")
    again = export_bundle(pair.sender, tmp_path / "2.dxb", "receiver")
    assert again.revisions == 0
    _log(pair.sender, "二回目")
    third = export_bundle(pair.sender, tmp_path / "3.dxb", "receiver")
    assert third.revisions == 1
    full = export_bundle(pair.sender, tmp_path / "4.dxb", "receiver", full=True)
    assert full.revisions == first.revisions + 1
    for name in ("1", "2", "3"):
        import_bundle(pair.receiver, tmp_path / f"{name}.dxb")
    assert maintenance.dump(pair.receiver) == maintenance.dump(pair.sender)


def test_a_later_bundle_before_the_earlier_one_says_to_import_that_first(
    pair: Pair, cli: Cli, tmp_path: Path
) -> None:
    from dxfield.store import records
    from dxfield.store.activities import list_activities

    first = tmp_path / "1.dxb"
    export_bundle(pair.sender, first, "receiver")  # the record, as created
    (created,) = [r.id for r in list_activities(pair.sender)]
    records.edit(pair.sender, "activity", created, {"title": "奥矢根区 意見交換会（二回目）"})
    second = tmp_path / "2.dxb"
    export_bundle(pair.sender, second, "receiver")  # only the edit, which follows the first
    before = maintenance.dump(pair.receiver)
    result = cli("--data-dir", str(pair.receiver.data_dir), "import", str(second))
    assert result.code == 1
    (line,) = result.err.splitlines()
    assert "import sender's earlier bundles first" in line and "full bundle" in line
    assert maintenance.dump(pair.receiver) == before
    import_bundle(pair.receiver, first)
    assert import_bundle(pair.receiver, second).updated == 1
    assert maintenance.dump(pair.receiver) == maintenance.dump(pair.sender)


def test_an_unencrypted_bundle_is_still_signed(pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "plain.dxb"
    export_bundle(pair.sender, path, "receiver", encrypt=False)
    assert "奥矢根区".encode() not in path.read_bytes()  # compressed, but readable by anyone
    tampered = tmp_path / "tampered.dxb"
    data = path.read_bytes()
    tampered.write_bytes(data[:-80] + bytes([data[-80] ^ 1]) + data[-79:])
    before = maintenance.dump(pair.receiver)
    with pytest.raises(BundleError, match="does not match its hash"):
        import_bundle(pair.receiver, tampered)
    assert maintenance.dump(pair.receiver) == before
    assert import_bundle(pair.receiver, path).new == 1


def test_three_devices_following_docs_sync_md(cli: Cli, tmp_path: Path) -> None:
    """The walk of docs/sync.md: enrol, log on both laptops, through the hub, all equal."""

    def run(*args: str) -> str:
        result = cli(*args)
        assert result.code == 0, result.err
        return result.out

    hub, a, b = (str(tmp_path / n) for n in ("hub", "toyooka", "nishinomiya"))
    run("--data-dir", hub, "init", "--role", "hub", "--device-name", "兵庫県")
    run("--data-dir", a, "init", "--device-name", "豊岡リエゾン")
    run("--data-dir", b, "init", "--device-name", "西宮リエゾン")
    for folder in (hub, a, b):
        run("--data-dir", folder, "keys", "export", "--out", f"{folder}.card")
    run("--data-dir", hub, "keys", "trust", f"{a}.card")
    run("--data-dir", hub, "keys", "trust", f"{b}.card")
    run("--data-dir", a, "keys", "trust", f"{hub}.card")
    run("--data-dir", b, "keys", "trust", f"{hub}.card")
    run("--data-dir", a, "activity", "add", "--municipality", "豊岡市", "--kind", "workshop",
        "--date", "R6.7.17", "--title", "奥矢根区 意見交換会")  # fmt: skip
    run("--data-dir", b, "activity", "add", "--municipality", "西宮市", "--kind", "survey",
        "--date", "R6.10.25", "--title", "窓口体験調査")  # fmt: skip
    run("--data-dir", a, "export", "--to", f"{a}-1.dxb", "--recipient", "兵庫県")
    run("--data-dir", b, "export", "--to", f"{b}-1.dxb", "--recipient", "兵庫県")
    out = run("--data-dir", hub, "import", f"{a}-1.dxb", f"{b}-1.dxb")
    assert "new 1" in out
    run("--data-dir", hub, "export", "--to", f"{hub}-a.dxb", "--recipient", "豊岡リエゾン")
    run("--data-dir", hub, "export", "--to", f"{hub}-b.dxb", "--recipient", "西宮リエゾン")
    run("--data-dir", a, "import", f"{hub}-a.dxb")
    run("--data-dir", b, "import", f"{hub}-b.dxb")
    dumps = {run("--data-dir", folder, "dump") for folder in (hub, a, b)}
    assert len(dumps) == 1
    titles = {r["data"].get("title") for r in json.loads(dumps.pop())["records"]}
    assert {"奥矢根区 意見交換会", "窓口体験調査"} <= titles
    again = json.loads(run("--data-dir", a, "import", f"{hub}-a.dxb", "--json"))
    assert again[0]["new"] == 0 and again[0]["updated"] == 0


def test_the_count_of_unexported_changes_follows_the_exports(pair: Pair, tmp_path: Path) -> None:
    from dxfield.store.local_state import unexported_changes
    from dxfield.sync.bundle import unexported_counts

    assert unexported_changes(pair.sender) == 1
    export_bundle(pair.sender, tmp_path / "1.dxb", "receiver")
    assert unexported_changes(pair.sender) == 0
    assert unexported_counts(pair.sender) == {"receiver": 0}
    _log(pair.sender, "次の会議")
    assert unexported_changes(pair.sender) == 1
    assert unexported_counts(pair.sender) == {"receiver": 1}


@pytest.mark.parametrize(
    ("cap", "value", "message"),
    [
        ("MAX_REVISIONS", 3, "more than 3 revisions"),
        ("MAX_LINE_BYTES", 100, "a line is too long"),
        ("MAX_HEADER_BYTES", 1000, "the header is longer than 1000 bytes"),
        ("MAX_CHUNKS", 1, "the header's chunks is not valid"),
    ],
)
def test_a_bundle_beyond_a_cap_is_refused(
    pair: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: str, value: int, message: str
) -> None:
    """The reader's caps (`sync.container_read`, where the reader finds them), each lowered under a
    good bundle: four revisions in members of two, in chunks of 256 bytes."""
    import dxfield.sync.container_read as container_module
    from tests.sync.corpus import bundle

    for n in range(3):
        _log(pair.sender, f"会議 {n}")
    path = tmp_path / "big.dxb"
    path.write_bytes(bundle(pair, page=2, chunk_bytes=256))
    assert import_bundle(pair.receiver, path, dry_run=True).new == 4
    monkeypatch.setattr(container_module, cap, value)
    before = maintenance.dump(pair.receiver)
    with pytest.raises(BundleError, match=message):
        import_bundle(pair.receiver, path)
    assert maintenance.dump(pair.receiver) == before


def test_what_came_from_a_device_is_not_counted_as_owed_to_it(pair: Pair, tmp_path: Path) -> None:
    from dxfield.sync.bundle import unexported_counts

    export_bundle(pair.receiver, tmp_path / "first.dxb", "sender")  # nothing owed either way
    assert unexported_counts(pair.receiver) == {"sender": 0}
    export_bundle(pair.sender, tmp_path / "b.dxb", "receiver")
    import_bundle(pair.receiver, tmp_path / "b.dxb")
    assert unexported_counts(pair.receiver) == {"sender": 0}
    _log(pair.receiver, "受け手の記録")
    assert unexported_counts(pair.receiver) == {"sender": 1}
    export_bundle(pair.sender, tmp_path / "c.dxb", "receiver")
    import_bundle(pair.receiver, tmp_path / "c.dxb")  # something was waiting: not skipped
    assert unexported_counts(pair.receiver) == {"sender": 1}


def test_a_refused_bundle_says_why_in_japanese_without_naming_a_command(tmp_path: Path) -> None:
    """The refusal is a code with values; rendered in Japanese it speaks of a 同期ファイル and
    a 登録した端末, and neither language names a command (it used to say `(keys trust)`)."""
    with Store.open(tmp_path / "hub") as hub, Store.open(tmp_path / "laptop") as laptop:
        trust_card(laptop, own_card(hub), name="hub")  # the hub does not trust the laptop
        out = tmp_path / "a.dxb"
        export_bundle(laptop, out, "hub")
        with pytest.raises(BundleError) as refused:
            import_bundle(hub, out)
    error = refused.value
    assert error.code == "bundle.untrusted_sender" and error.values["device"]
    assert error.message("ja").startswith("同期ファイルを取り込めません: 送り手の端末 ")
    assert error.message("ja").endswith("は登録した端末ではありません")
    assert "keys trust" not in error.message("en") and "keys trust" not in error.message("ja")
    with Store.open(tmp_path / "third") as third, pytest.raises(BundleError) as missing:
        import_bundle(third, tmp_path / "none.dxb")
    assert missing.value.code == "bundle.unreadable_file"
    assert missing.value.message("ja").startswith("同期ファイルを取り込めません: ")
