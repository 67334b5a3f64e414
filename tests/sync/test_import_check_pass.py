"""A bundle's import checks every member first, without the write lock, then merges what it
checked in one unit (issue 17): others save meanwhile; what the check judged by and changed
before the write (a revocation, a revision it did not check because it was held) is judged
again at the write, and nothing of a refused bundle is kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dxfield.store import blob_refs, maintenance, records
from dxfield.store.activities import ActivityInput, add_activity, count_activities
from dxfield.store.engine import Store
from dxfield.sync import authors, bundle
from dxfield.sync.bundle import BundleError, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, revoke, trust_card
from tests.conftest import Cli
from tests.sync.corpus import resealed
from tests.sync.test_import_authorship import COUNT, _bundle, _lines, pair
from tests.writers import another_writer

__all__ = ["pair"]  # the fixture, shared


def _during_check(monkeypatch: pytest.MonkeyPatch, action: Callable[[], object]) -> None:
    """Do `action` once, after the check's first page (its reading unit still open)."""
    real = bundle._Import._check
    done: list[bool] = []

    def checked(self: bundle._Import, *args: Any) -> None:
        real(self, *args)
        if not done:
            done.append(True)
            action()

    monkeypatch.setattr(bundle._Import, "_check", checked)


def _calls(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, noted: Callable[..., str]
) -> list[str]:
    """What `noted` makes of the arguments of each call to `owner.name`, as it is called."""
    seen: list[str] = []
    real = getattr(owner, name)

    def called(*args: Any) -> Any:
        seen.append(noted(*args))
        return real(*args)

    monkeypatch.setattr(owner, name, called)
    return seen


def _verified(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the revisions whose authorship the import checks, as it checks them."""
    return _calls(monkeypatch, authors.Authors, "claim", lambda _self, row, _found: row["rev_id"])


def test_others_save_while_a_bundle_is_checked(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, receiver = pair
    path = _bundle(sender, receiver, tmp_path / "b.dxb", _lines(sender))
    saved: list[str] = []

    def save() -> None:  # would wait for the lock, then fail, were the check holding it
        given = ActivityInput(
            title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市"
        )
        saved.append(add_activity(receiver, given).id)

    _during_check(monkeypatch, save)
    verified = _verified(monkeypatch)
    assert import_bundle(receiver, path).new == COUNT
    assert len(saved) == 1 and count_activities(receiver) == COUNT + 1
    assert len(verified) == COUNT  # each once: at the check, not again at the write
    assert maintenance.check(receiver).ok


def test_a_sender_revoked_during_the_check_is_refused_at_the_write(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, receiver = pair
    path = _bundle(sender, receiver, tmp_path / "b.dxb", _lines(sender))
    _during_check(monkeypatch, lambda: revoke(receiver, "sender"))
    before = maintenance.dump(receiver)
    with pytest.raises(BundleError) as refused:
        import_bundle(receiver, path)
    assert str(refused.value) == "bundle refused: the sender 'sender' was revoked"
    assert maintenance.dump(receiver) == before


def test_authors_changed_during_the_check_are_judged_again_at_the_write(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card trusted meanwhile changes whom the store knows: every revision's authorship is
    checked again under the lock (here they all still check out)."""
    sender, receiver = pair
    path = _bundle(sender, receiver, tmp_path / "b.dxb", _lines(sender))
    with Store.open(tmp_path / "third", device_name="third") as third:
        card = parse_card(card_text(own_card(third)))
    _during_check(monkeypatch, lambda: trust_card(receiver, card))
    verified = _verified(monkeypatch)
    assert import_bundle(receiver, path).new == COUNT
    assert len(verified) == 2 * COUNT


def test_a_revision_held_at_the_check_but_not_at_the_write_is_checked_at_the_write(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check leaves a revision the store holds to the merge, which does not take it again;
    should the store no longer hold it when the write comes, the write checks it."""
    sender, receiver = pair
    lines = _lines(sender)
    lines[13]["signature"] = lines[14]["signature"]  # well-formed, over another's digest
    path = _bundle(sender, receiver, tmp_path / "forged.dxb", lines)
    # The check is told the store holds them all; the write finds it holds none.
    monkeypatch.setattr(
        blob_refs, "held_revisions", lambda _conn, rev_ids: {str(i) for i in rev_ids}
    )
    before = maintenance.dump(receiver)
    with pytest.raises(BundleError) as refused:
        import_bundle(receiver, path)
    assert "revision 14" in str(refused.value) and "not signed by" in str(refused.value)
    assert maintenance.dump(receiver) == before


def test_a_revision_held_at_the_check_is_validated_at_the_write_when_no_longer_held(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check does not validate the record of a revision the store holds (its id is its
    content's hash: the store validated it when it took it); should the store no longer hold
    it when the write comes, the write does."""
    sender, receiver = pair
    lines = _lines(sender)
    # Its true id, signed by its author's real key, and a kind of activity no one knows.
    lines[13] = resealed({**lines[13], "data": {**lines[13]["data"], "kind": "banquet"}}, sender)
    path = _bundle(sender, receiver, tmp_path / "odd.dxb", lines)
    before = maintenance.dump(receiver)
    with pytest.raises(BundleError) as at_check:
        import_bundle(receiver, path)
    assert "revision 14: kind:" in str(at_check.value)
    # The check is told the store holds them all; the write finds it holds none.
    monkeypatch.setattr(
        blob_refs, "held_revisions", lambda _conn, rev_ids: {str(i) for i in rev_ids}
    )
    with pytest.raises(BundleError) as at_write:
        import_bundle(receiver, path)
    assert str(at_write.value) == str(at_check.value)
    assert maintenance.dump(receiver) == before


def test_a_bundle_taken_again_is_checked_without_validating_its_records_again(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender, receiver = pair
    path = _bundle(sender, receiver, tmp_path / "b.dxb", _lines(sender))
    validated = _calls(monkeypatch, records, "validate", lambda entity, _content: entity)
    assert import_bundle(receiver, path).new == COUNT
    assert len(validated) == COUNT
    again = import_bundle(receiver, path)
    assert (again.new, again.updated, again.revisions) == (0, 0, COUNT)
    assert len(validated) == COUNT  # held: their ids are their contents' hashes


def test_a_bundle_whose_write_finds_another_writer_waits_for_it_and_says_so(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another import (here: another process's store, holding the write lock) writing when
    this one's check is done: the write waits for it, however long, rather than give up as
    "busy" after the check's work; `waiting` is told once."""
    sender, receiver = pair
    path = _bundle(sender, receiver, tmp_path / "b.dxb", _lines(sender))
    told: list[str] = []
    with another_writer(receiver.data_dir) as other:
        _during_check(monkeypatch, other.take)

        def waiting() -> None:
            told.append("waiting")
            other.let_go_soon()

        result = import_bundle(receiver, path, waiting=waiting)
    assert told == ["waiting"]
    assert result.new == COUNT and count_activities(receiver) == COUNT


def test_the_import_verb_says_when_it_waits_for_another_writer(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    from dxfield.cli import sync as sync_verbs

    sender, receiver = pair
    path = _bundle(sender, receiver, tmp_path / "b.dxb", _lines(sender))
    said = sync_verbs.waiting_for_writer
    with another_writer(receiver.data_dir) as other:

        def waiting() -> None:  # what the verb says, then the other writer ends a while later
            said()
            other.let_go_soon()

        monkeypatch.setattr(sync_verbs, "waiting_for_writer", waiting)
        other.take()
        result = cli("--lang", "en", "--data-dir", str(receiver.data_dir), "import", str(path))
    assert result.code == 0, result.err
    assert "another dxfield is writing to this store; the import goes on" in result.err
    assert f"new {COUNT}" in result.out


@pytest.mark.parametrize(
    "claimed",
    [[], {"a": 1}, 7, "1-\x00", "\x00" * 64, "1-" + "0" * 33],
    ids=["list", "object", "number", "nul", "nuls", "too-long"],
)
def test_a_hostile_id_is_refused_before_the_store_is_asked_whether_it_holds_it(
    pair: tuple[Store, Store], tmp_path: Path, claimed: Any
) -> None:
    """What the check asks the store (whether it holds a revision) takes only ids in the form
    of one: a list, a number, a NUL (which PostgreSQL's text refuses) is the revision's
    refusal, in one line, like any other."""
    sender, receiver = pair
    lines = _lines(sender)
    lines[13]["rev_id"] = claimed
    path = _bundle(sender, receiver, tmp_path / "odd.dxb", lines)
    before = maintenance.dump(receiver)
    with pytest.raises(BundleError) as refused:
        import_bundle(receiver, path)
    assert "revision 14" in str(refused.value)
    assert maintenance.dump(receiver) == before
