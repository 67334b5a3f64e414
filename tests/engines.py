"""The store, merge, sync, search, report and tables suites, and the verbs', run on both engines.

A test in one of `SUITES` runs twice: on SQLite files (as a laptop keeps its log) and on
PostgreSQL (as the prefecture's hub does). On PostgreSQL every data folder the test opens a store
in gets a database of its own in the session's throwaway cluster, cloned from a template that
already holds the schema and the reference data (the hub's device is made on first open, as on a
new hub), so a test with a hub and three laptops has four databases, and its assertions hold
unchanged. A test about what only a file has (its bytes, its locks, a copy of it) is marked
`sqlite_only`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENGINES = ("sqlite", "postgresql")
SUITES = (
    "tests/store/",
    "tests/sync/",
    "tests/report/",
    "tests/test_cli.py",  # every verb, through the command line
    "tests/test_cli_tracks.py",
    "tests/test_cli_attachments.py",
)
TEMPLATE = "dxfield_template"
_counter = itertools.count(1)


# Tests of those suites that stay on the file, each for a reason of the test's, not of the hub:
FILE_BOUND = {
    # About `demo` itself, which always writes a file of its own (the verbs that read the
    # demo's records run on both: the `with_demo` fixture loads them into the hub).
    "test_demo_then_dump_shows_the_whole_document",
    "test_demo_lives_under_the_data_dir_and_resets",
    "test_demo_refuses_a_real_store",
    "test_demo_reset_keeps_any_real_work",
    # About the file itself: its backup, its integrity check, its schema, its name, its bytes.
    "test_backup_is_a_consistent_copy",
    "test_check_reports_integrity_schema_and_counts",
    "test_a_newer_store_is_refused_with_one_line",
    "test_outputs_never_overwrite_the_store",
    "test_a_data_dir_with_url_characters_is_a_plain_path",
    # SQLite's FTS5 index by name (the hub's index: tests/hub/test_search_on_both.py).
    "test_long_terms_use_the_trigram_index_and_short_ones_the_scan",
    "test_quotes_are_escaped_into_a_valid_match",
    "test_search_follows_edits_and_deletes",
    # A laptop's role and keys (a hub's first account is the hub: tests/hub/test_people.py).
    "test_keys_are_made_on_first_need_owner_only_and_kept",
    "test_keys_from_the_command_line",
    # Laptops made by `init` that know each other only through the hub's roster: on PostgreSQL
    # every folder's first account is a hub, and a hub takes no roster (it is the enrolment
    # authority). tests/sync/test_authorship_attacks.py syncs a hub and two laptops on both.
    "test_three_devices_following_docs_sync_md",
    "test_a_deleted_activity_comes_back_on_all_three",
    "test_an_earlier_version_made_current_syncs",
    # Processes of their own, which open the file (the hub's: tests/hub/test_concurrency.py).
    "test_two_processes_writing_at_once_never_mint_the_same_stamp",
    "test_a_failure_inside_the_transaction_rolls_everything_back",
}


def in_engine_suite(path: Path, root: Path) -> bool:
    """Whether a test module belongs to a suite that runs on both engines."""
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    return relative.startswith(SUITES)


def make_template(cluster: Any) -> None:
    """The template every test database is cloned from: schema and reference data, no device."""
    from dxfield.store.engine import Store

    cluster.create_database(TEMPLATE)
    folder = Path(tempfile.mkdtemp(prefix="dxfield-template-"))
    try:
        with Store.open(folder, database=cluster.url(TEMPLATE), create=True) as store:
            from sqlalchemy import delete

            from dxfield.store.schema import DEVICES

            with store.write() as conn:
                conn.execute(delete(DEVICES))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Databases:
    """One database per data folder, made when a store is first opened there."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.by_folder: dict[str, str] = {}

    def url_for(self, data_dir: Path) -> str:
        key = os.path.realpath(data_dir)
        name = self.by_folder.get(key)
        if name is None:
            name = f"t{os.getpid()}_{next(_counter)}"
            self.cluster.create_database(name, template=TEMPLATE)
            self.by_folder[key] = name
        return str(self.cluster.url(name))

    def drop_all(self) -> None:
        for name in self.by_folder.values():
            self.cluster.drop_database(name)
        self.by_folder.clear()


@pytest.fixture
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The engine this run of the test stores on ("sqlite" or "postgresql")."""
    name = getattr(request, "param", "sqlite")
    if name == "sqlite":
        yield name
        return
    cluster = request.getfixturevalue("pg_template")
    databases = Databases(cluster)

    def database_for(data_dir: Path, database: str | None) -> str | None:
        if database == "":  # asked for the file explicitly
            return None
        return database or databases.url_for(data_dir)

    import dxfield.store.engine as engine_module

    monkeypatch.delenv("DXFIELD_DATABASE_URL", raising=False)
    monkeypatch.setattr(engine_module, "database_for", database_for)
    try:
        yield name
    finally:
        databases.drop_all()
