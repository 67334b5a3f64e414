"""Preparing the demo store: a store of its own, filled once, reset on request."""

from __future__ import annotations

import contextlib
from pathlib import Path

from dxfield.demo.loader import DEMO_DEVICE, is_loaded, load_demo
from dxfield.domain.errors import LocalizedError
from dxfield.i18n import N_, problems, quote
from dxfield.paths import KEY_FILE, STORE_FILE
from dxfield.store.engine import Store
from dxfield.store.reference import REFERENCE_DEVICE, has_revisions_by_others

_SIDE_FILES = ("", "-wal", "-shm", "-journal")

PROBLEMS = problems(
    {
        "demo.real_store": N_(
            "{folder} holds a store that is not the demo's; give the demo a folder of its own"
        ),
    }
)


def _refuse_real_store(store: Store) -> None:
    """Never mix the demo into (or reset) a store that holds someone's own log."""
    if is_loaded(store):
        return
    # Anything written by a person (any record, live or deleted) makes it a real store.
    if has_revisions_by_others(store, {REFERENCE_DEVICE, DEMO_DEVICE}):
        raise LocalizedError("demo.real_store", folder=quote(store.data_dir, limit=200))


def prepare_demo(data_dir: Path, *, reset: bool = False) -> dict[str, int]:
    """Open (or create) the demo store in `data_dir`, load the dataset, return its counts."""
    if reset and (data_dir / STORE_FILE).exists():
        with Store.open_file(data_dir) as store:
            _refuse_real_store(store)
        # The demo's keys go with it: they are its device's, and the new store is another.
        for name in [f"{STORE_FILE}{suffix}" for suffix in _SIDE_FILES] + [KEY_FILE]:
            with contextlib.suppress(FileNotFoundError):
                (data_dir / name).unlink()
    with Store.open_file(data_dir) as store:
        _refuse_real_store(store)
        return load_demo(store)
