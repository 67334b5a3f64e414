"""Nothing deleted is gone: `restore` and `revert` write ordinary versions that sync, so a
deletion (a forged one included) is undone on every device that syncs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dxfield.domain.errors import LocalizedError
from dxfield.store import records
from dxfield.store.activities import ActivityInput, add_activity
from dxfield.store.engine import Store
from dxfield.store.versions import list_deleted, restore, revert
from tests.conftest import Cli

Run = Callable[..., str]


@pytest.fixture
def run(cli: Cli) -> Run:
    def call(*args: str) -> str:
        result = cli("--lang", "en", *args)
        assert result.code == 0, result.err
        return result.out

    return call


def _network(run: Run, tmp_path: Path) -> tuple[str, str, str]:
    """A hub and two laptops that trust it (docs/sync.md), as data dirs."""
    hub, a, b = (str(tmp_path / n) for n in ("hub", "toyooka", "nishinomiya"))
    run("--data-dir", hub, "init", "--role", "hub", "--device-name", "hub")
    run("--data-dir", a, "init", "--device-name", "laptop-a")
    run("--data-dir", b, "init", "--device-name", "laptop-b")
    for folder in (hub, a, b):
        run("--data-dir", folder, "keys", "export", "--out", f"{folder}.card")
    for laptop in (a, b):
        run("--data-dir", hub, "keys", "trust", f"{laptop}.card")
        run("--data-dir", laptop, "keys", "trust", f"{hub}.card")
    return hub, a, b


def _sync(run: Run, hub: str, *laptops: str) -> None:
    """Each laptop to the hub, then the hub to each laptop."""
    for laptop in laptops:
        run("--data-dir", laptop, "export", "--to", f"{laptop}.dxb", "--recipient", "hub")
        run("--data-dir", hub, "import", f"{laptop}.dxb")
    for laptop in laptops:
        name = "laptop-a" if laptop.endswith("toyooka") else "laptop-b"
        run("--data-dir", hub, "export", "--to", f"{hub}-{name}.dxb", "--recipient", name)
        run("--data-dir", laptop, "import", f"{hub}-{name}.dxb")


def _titles(run: Run, folder: str) -> list[str]:
    return [a["title"] for a in json.loads(run("--data-dir", folder, "activity", "list", "--json"))]


def test_a_deleted_activity_comes_back_on_all_three(run: Run, tmp_path: Path) -> None:
    hub, a, b = _network(run, tmp_path)
    activity_id = run("--data-dir", a, "activity", "add", "--municipality", "豊岡市",
                      "--kind", "workshop", "--date", "R6.7.17",
                      "--title", "奥矢根区 意見交換会").strip()  # fmt: skip
    _sync(run, hub, a, b)
    assert "奥矢根区 意見交換会" in _titles(run, b)
    run("--data-dir", b, "activity", "delete", activity_id)  # laptop b deletes it
    _sync(run, hub, b, a)
    for folder in (hub, a, b):
        assert "奥矢根区 意見交換会" not in _titles(run, folder)
    deleted = json.loads(run("--data-dir", a, "deleted", "--json"))
    assert [(d["entity"], d["entity_id"]) for d in deleted] == [("activity", activity_id)]
    out = run("--data-dir", a, "restore", activity_id[-8:])
    assert out.startswith("restored activity") and "奥矢根区 意見交換会" in out
    _sync(run, hub, a, b)
    for folder in (hub, a, b):
        assert "奥矢根区 意見交換会" in _titles(run, folder)
        assert json.loads(run("--data-dir", folder, "deleted", "--json")) == []
    dumps = {run("--data-dir", folder, "dump") for folder in (hub, a, b)}
    assert len(dumps) == 1
    history = run("--data-dir", b, "history", activity_id)
    assert "deleted" in history and "restored" in history


def test_an_earlier_version_made_current_syncs(run: Run, tmp_path: Path) -> None:
    hub, a, b = _network(run, tmp_path)
    activity_id = run("--data-dir", a, "activity", "add", "--municipality", "豊岡市",
                      "--kind", "meeting", "--date", "2024-07-17", "--title", "一つ目").strip()  # fmt: skip
    run("--data-dir", a, "activity", "edit", activity_id, "--title", "二つ目")
    _sync(run, hub, a, b)
    run("--data-dir", b, "activity", "edit", activity_id, "--title", "書き換えられた題")
    _sync(run, hub, b, a)
    first = json.loads(run("--data-dir", a, "history", activity_id, "--json"))["revisions"][0]
    out = run("--data-dir", a, "revert", activity_id, "--to", first["rev_id"][-10:])
    assert out.startswith("reverted activity") and "一つ目" in out
    _sync(run, hub, a, b)
    for folder in (hub, a, b):
        assert _titles(run, folder) == ["一つ目"]
    revisions = json.loads(run("--data-dir", hub, "history", activity_id, "--json"))["revisions"]
    assert [r["data"]["title"] for r in revisions] == [
        "一つ目",
        "二つ目",
        "書き換えられた題",
        "一つ目",
    ]


def _store(tmp_path: Path, name: str) -> Store:
    return Store.open(tmp_path / name, device_name=name)


def _activity(store: Store, title: str = "元の題") -> str:
    given = ActivityInput(title=title, kind="meeting", date="2024-07-17", municipality="豊岡市")
    return add_activity(store, given).id


def test_restore_after_an_edit_and_a_deletion_crossed_keeps_the_edit(tmp_path: Path) -> None:
    from dxfield.store import merge

    first, second = _store(tmp_path, "first"), _store(tmp_path, "second")
    try:
        activity_id = _activity(first)
        with first.read() as conn:
            everything = merge.all_revisions(conn)
        with second.unit() as unit:
            merge.apply_revisions(unit, [merge.check_revision(r) for r in everything])
        records.edit(first, "activity", activity_id, {"title": "直した題"})
        records.delete(second, "activity", activity_id)
        for source, target in ((first, second), (second, first)):
            with source.read() as conn:
                revisions = merge.all_revisions(conn)
            with target.unit() as unit:
                merge.apply_revisions(unit, [merge.check_revision(r) for r in revisions])
        for store in (first, second):
            if records.get(store, "activity", activity_id, include_deleted=True).deleted:
                restore(store, activity_id)
            assert records.get(store, "activity", activity_id).title == "直した題"
    finally:
        first.close()
        second.close()


def test_restore_and_revert_refuse_what_they_cannot_do(store: Store) -> None:
    activity_id = _activity(store)
    with pytest.raises(LocalizedError, match="is not deleted"):
        restore(store, activity_id)
    records.edit(store, "activity", activity_id, {"title": "二つ目"})
    records.delete(store, "activity", activity_id)
    with store.read() as conn:
        from dxfield.store.revisions import history

        versions = history(conn, "activity", activity_id)
    deletion = next(v for v in versions if v["deleted"])
    with pytest.raises(LocalizedError, match="is a deletion"):
        revert(store, activity_id, deletion["rev_id"])
    with pytest.raises(LocalizedError, match="no version"):
        revert(store, activity_id, "zzzzzz")
    with pytest.raises(LocalizedError, match="no version"):
        revert(store, activity_id, "")
    assert [d.entity_id for d in list_deleted(store)] == [activity_id]
    # Reverting a deleted record to a version brings that version back.
    revert(store, activity_id, versions[0]["rev_id"])
    assert records.get(store, "activity", activity_id).title == "元の題"
    assert list_deleted(store) == []
    with pytest.raises(LocalizedError, match="already current"):
        revert(store, activity_id, versions[0]["rev_id"])


def test_the_cli_says_what_it_cannot_do_in_one_line(cli: Cli, data_dir: Path) -> None:
    activity_id = cli("--data-dir", str(data_dir), *_add_args()).out.strip()
    for args, words in (
        (("restore", activity_id), "is not deleted"),
        (("restore", "nothing-like-it"), "no record"),
        (("revert", activity_id, "--to", "zzzzzz"), "no version"),
        (("deleted", "--kind", "secret"), "no kind"),
    ):
        result = cli("--lang", "en", "--data-dir", str(data_dir), *args)
        assert result.code == 1 and result.err.count("\n") == 1, result.err
        assert result.err.startswith("error:") and words in result.err


def _add_args() -> tuple[str, ...]:
    return ("activity", "add", "--municipality", "豊岡市", "--kind", "meeting",
            "--date", "2024-07-17", "--title", "題")  # fmt: skip
