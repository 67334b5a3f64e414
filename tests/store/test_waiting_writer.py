"""A save that finds the store held by a long writer (an import) waits for it, says so once,
and lands; it does not fail after the busy timeout as a plain writer does."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dxfield.domain.errors import LocalizedError
from dxfield.store import sqlite_features
from dxfield.store.activities import ActivityInput, count_activities
from dxfield.store.activity_entry import save_activity
from dxfield.store.engine import Store
from dxfield.store.waits import GivingUp
from tests.writers import another_writer


def test_a_save_waits_for_a_long_writer_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain writer gives up after the busy timeout: made short here, the save outlasts it.
    monkeypatch.setattr(sqlite_features, "BUSY_TIMEOUT_MS", 200)
    held = threading.Event()
    release = threading.Event()

    def long_writer() -> None:  # an import's writing unit
        with store.unit(write=True):
            held.set()
            release.wait(30)

    holder = threading.Thread(target=long_writer)
    holder.start()
    assert held.wait(30)
    told: list[float] = []
    saved: list[str] = []

    def save() -> None:
        given = ActivityInput(
            title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市"
        )
        saved.append(
            save_activity(store, given, waiting=lambda: told.append(time.monotonic())).activity.id
        )

    saver = threading.Thread(target=save)
    saver.start()
    deadline = time.monotonic() + 30
    while not told and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # several busy timeouts
    assert len(told) == 1 and not saved  # said once; still waiting while the lock is held
    release.set()
    holder.join(30)
    saver.join(30)
    assert len(saved) == 1 and len(told) == 1
    assert count_activities(store) == 1


def test_a_save_that_finds_the_store_free_says_nothing(store: Store) -> None:
    told: list[bool] = []
    given = ActivityInput(title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市")
    save_activity(store, given, waiting=lambda: told.append(True))
    assert not told and count_activities(store) == 1


def test_a_writer_that_may_give_up_stops_waiting_once_not_wanted(
    store: Store, data_dir: Path
) -> None:
    """An import in the app the person quits (store/waits.py): it stops waiting within a try,
    writes nothing, and the store takes the next save as ever."""
    wanted = threading.Event()
    wanted.set()
    told: list[bool] = []
    ended: list[BaseException | None] = []
    given = ActivityInput(title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市")

    def save() -> None:
        waiting = GivingUp(lambda: told.append(True), wanted.is_set)
        try:
            save_activity(store, given, waiting=waiting)
            ended.append(None)
        except BaseException as exc:
            ended.append(exc)

    with another_writer(data_dir) as other:
        other.take()
        saver = threading.Thread(target=save)
        saver.start()
        deadline = time.monotonic() + 30
        while not told and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # several tries: it still waits while wanted
        assert told == [True] and not ended
        wanted.clear()
        saver.join(5)
        assert not saver.is_alive(), "it went on waiting"
        [error] = ended
        assert isinstance(error, LocalizedError) and error.code == "store.given_up"
        assert error.message() == "stopped before anything was written"
    assert count_activities(store) == 0
    save_activity(store, given)
    assert count_activities(store) == 1


def test_a_writer_no_longer_wanted_does_not_take_a_free_lock(store: Store) -> None:
    """Quitting during a long import's check: the write it comes to is not begun."""
    given = ActivityInput(title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市")
    told: list[bool] = []
    with pytest.raises(LocalizedError) as raised:
        save_activity(store, given, waiting=GivingUp(lambda: told.append(True), lambda: False))
    assert raised.value.code == "store.given_up" and not told
    assert count_activities(store) == 0


@pytest.mark.parametrize("edit", [False, True], ids=["new", "edit"])
def test_a_save_that_would_be_refused_is_refused_at_once_not_after_the_wait(
    store: Store, edit: bool
) -> None:
    """Typed during a long import: told now what is missing, not once the import is done."""
    kept = save_activity(
        store,
        ActivityInput(title="窓口で", kind="meeting", date="2024-07-01", municipality="豊岡市"),
    ).activity
    # Neither municipality nor initiative: a new activity must have one; an edit's place
    # longer than a line may be.
    given = (
        ActivityInput(location="場" * 1001)
        if edit
        else ActivityInput(title="名前だけ", kind="meeting", date="2024-07-01")
    )
    told: list[bool] = []
    refused: list[LocalizedError] = []
    with another_writer(store.data_dir) as other:
        other.take()
        started = time.monotonic()
        try:
            save_activity(
                store,
                given,
                activity_id=kept.id if edit else None,
                # Should it wait after all, the other writer lets go soon: a test that fails
                # does so at once, not after the other writer's minute.
                waiting=lambda: (told.append(True), other.let_go_soon()),
            )
        except LocalizedError as exc:
            refused.append(exc)
        took = time.monotonic() - started
    assert refused and not told, "it waited for the other writer first"
    assert took < 10
    assert refused[0].field == ("location" if edit else "municipality")
    assert count_activities(store) == 1
    # Once free, the same save is refused the same way, and a good one lands.
    with pytest.raises(LocalizedError) as again:
        save_activity(store, given, activity_id=kept.id if edit else None, waiting=told.clear)
    assert again.value.field == refused[0].field
    mended = (
        ActivityInput(location="市役所")
        if edit
        else ActivityInput(
            title="名前だけ", kind="meeting", date="2024-07-01", municipality="豊岡市"
        )
    )
    with another_writer(store.data_dir) as other:
        other.take()
        saved = save_activity(
            store,
            mended,
            activity_id=kept.id if edit else None,
            waiting=lambda: (told.append(True), other.let_go_soon()),
        )
    assert told == [True]  # this one waited, and landed
    assert count_activities(store) == (1 if edit else 2)
    assert saved.activity.location == "市役所" if edit else saved.activity.title == "名前だけ"
