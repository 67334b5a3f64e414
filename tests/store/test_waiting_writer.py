"""A save that finds the store held by a long writer (an import) waits for it, says so once,
and lands; it does not fail after the busy timeout as a plain writer does."""

from __future__ import annotations

import threading
import time

import pytest

from dxfield.store import sqlite_features
from dxfield.store.activities import ActivityInput, count_activities
from dxfield.store.activity_entry import save_activity
from dxfield.store.engine import Store


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
