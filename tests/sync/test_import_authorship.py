"""An import verifies each page's signatures in a helper process (`authors.Checking`) while
it reads the next: a revision whose author does not check out still refuses the whole bundle, in
whichever page it is, with the same line as when signatures were verified one by one, and
nothing of the bundle is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dxfield.store import maintenance, outgoing, records, revisions
from dxfield.store.authorship import Signer
from dxfield.store.engine import Store
from dxfield.store.ids import new_id
from dxfield.store.reference import municipality_id
from dxfield.sync import container
from dxfield.sync.authors import Checking
from dxfield.sync.bundle import BundleError, import_bundle
from dxfield.sync.keys import card_text, device_keys, own_card, parse_card, trust_card
from dxfield.sync.wire import MANIFEST_FORMAT

COUNT = 25
PAGE = 10


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    sender = Store.open(tmp_path / "sender", device_name="sender")
    receiver = Store.open(tmp_path / "receiver", device_name="receiver")
    trust_card(sender, parse_card(card_text(own_card(receiver))))
    trust_card(receiver, parse_card(card_text(own_card(sender))))
    toyooka = municipality_id("282090")
    made = [
        (
            new_id(),
            records.validate(
                "activity",
                {
                    "municipality_id": toyooka,
                    "kind": "meeting",
                    "title": f"会議 {n}",
                    "date": "2024-07-17",
                },
            ),
        )
        for n in range(COUNT)
    ]
    with sender.unit() as unit:
        revisions.bulk_create(unit, "activity", made, device_id=sender.device.id)
    yield sender, receiver
    sender.close()
    receiver.close()


def _lines(sender: Store) -> list[dict[str, Any]]:
    with sender.read() as conn:
        return [json.loads(line) for page in outgoing.signed_lines_since(conn, 0) for line in page]


def _bundle(sender: Store, receiver: Store, out: Path, lines: list[dict[str, Any]]) -> Path:
    """`lines` in pages of PAGE, as `dxfield export` writes them (signed, encrypted)."""
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": container.FORMAT_VERSION,
        "sender": sender.device.id,
        "recipient": receiver.device.id,
        "created_at": "2026-12-02T10:00:00+00:00",
        "full": True,
        "revisions": len(lines),
        "blobs": 0,
    }
    members: list[container.Member] = [container.Manifest(manifest)]
    members += [container.Revisions(lines[i : i + PAGE]) for i in range(0, len(lines), PAGE)]
    container.write_container(
        out,
        device_keys(sender).signing,
        sender.device.id,
        receiver.device.id,
        device_keys(receiver).encryption.public_key,
        members,
        data_dir=sender.data_dir,
    )
    return out


def _refused(receiver: Store, bundle: Path) -> str:
    before = maintenance.dump(receiver)
    with pytest.raises(BundleError) as refused:
        import_bundle(receiver, bundle)
    assert maintenance.dump(receiver) == before
    assert maintenance.check(receiver).ok
    return str(refused.value)


@pytest.fixture
def helped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Proofs verified in helpers for this small bundle too, 4 at a time: how many batches a
    helper verified, at each import's end."""
    monkeypatch.setattr(Checking, "HELPED_FROM", 1)
    monkeypatch.setattr(Checking, "BATCH", 4)
    counts: list[int] = []
    close = Checking.close

    def closed(self: Checking) -> None:
        counts.append(self.helped)
        close(self)

    monkeypatch.setattr(Checking, "close", closed)
    return counts


@pytest.mark.parametrize("number", [1, 14, COUNT])
@pytest.mark.parametrize("where", ["here", "in helpers"])
def test_a_forged_signature_in_any_page_refuses_the_whole_bundle(
    pair: tuple[Store, Store],
    tmp_path: Path,
    number: int,
    where: str,
    request: pytest.FixtureRequest,
) -> None:
    counts = request.getfixturevalue("helped") if where == "in helpers" else None
    sender, receiver = pair
    lines = _lines(sender)
    assert len(lines) == COUNT
    # Well-formed, by the sender's own key, but over another revision's digest.
    lines[number - 1]["signature"] = lines[number % COUNT]["signature"]
    message = _refused(receiver, _bundle(sender, receiver, tmp_path / "forged.dxb", lines))
    assert f"revision {number}" in message and "not signed by" in message, message
    # The same bundle as it was signed is taken whole.
    good = _bundle(sender, receiver, tmp_path / "good.dxb", _lines(sender))
    assert import_bundle(receiver, good).new == COUNT
    if counts is not None:  # 3 pages: 10 proofs in 3 batches, 10 again, then 5 in 2
        assert counts[-1] == 8, counts


def test_a_forged_copy_of_a_revision_is_named_by_its_own_number(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    """The same revision twice in a page, the second copy's signature forged: the refusal
    names the copy that is forged, not the first (both have one id)."""
    sender, receiver = pair
    lines = _lines(sender)[:PAGE]
    lines[6] = {**lines[2], "signature": lines[3]["signature"]}
    message = _refused(receiver, _bundle(sender, receiver, tmp_path / "copy.dxb", lines))
    assert "revision 7" in message and "not signed by" in message, message


def test_a_forged_signature_is_named_before_a_later_problem_of_its_page(
    pair: tuple[Store, Store], tmp_path: Path
) -> None:
    """Signatures used to be verified before the page was checked against the store: a page
    with a forged signature and a revision whose parent is missing still names the forgery."""
    sender, receiver = pair
    lines = _lines(sender)[:PAGE]
    lines[2]["signature"] = lines[3]["signature"]
    # Signed by its author, but its parent is nowhere.
    first = lines[5]
    data = {**first["data"], "title": "続き"}
    orphan = revisions.build_revision(
        "activity",
        first["entity_id"],
        data,
        parents=["1-" + "0" * 32],
        generation=2,
        hlc=first["hlc"],
        device_id=sender.device.id,
        deleted=False,
        signer=Signer(device_keys(sender).signing),
    )
    lines[6] = {
        **{k: orphan[k] for k in ("deleted", "device_id", "entity", "entity_id", "generation")},
        **{k: orphan[k] for k in ("hlc", "parents", "rev_id", "signature")},
        "data": json.loads(orphan["data"]),
    }
    message = _refused(receiver, _bundle(sender, receiver, tmp_path / "two.dxb", lines))
    assert "revision 3" in message and "not signed by" in message, message
    # Without the forgery, the orphan is what refuses it.
    lines[2] = _lines(sender)[2]
    message = _refused(receiver, _bundle(sender, receiver, tmp_path / "orphan.dxb", lines))
    assert "revision 7" in message and "not signed by" not in message, message
