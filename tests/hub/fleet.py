"""A hub on PostgreSQL, field laptops on SQLite, and the real `dxfield` CLI run as processes: the
pieces of the tests of many staff at once (test_concurrency.py, test_load.py).

The data (laptops, their records, their bundles) is made in-process through the services, which
is quick; what runs at the same time runs as separate OS processes of the real command line
(`python -m dxfield`), each with the environment the `hermetic` fixture set (home, language)
and its output in a file, so no pipe can fill up and stall it.

`Watch` looks at the server from a connection of the test's own: who waits for the hub's write
lock (the advisory lock every writing unit takes first), who waits for a row. `Blocker` holds a
lock from the test, to make two processes overlap deterministically rather than by luck.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select

from dxfield.cli.common import WAITING_FOR_WRITER
from dxfield.store import records, revisions
from dxfield.store.activities import ActivityInput, edit_activity
from dxfield.store.authorship import upgrade
from dxfield.store.engine import Store
from dxfield.store.ids import new_id
from dxfield.store.postgres import WRITE_LOCK
from dxfield.store.reference import municipality_id
from dxfield.store.schema import REVISIONS
from dxfield.sync.bundle import export_bundle, read_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card

HUB_NAME = "兵庫県"
TOYOOKA = "282090"
WAIT_S = 120
"""The most any one process or condition is waited for (a hang fails the test, never the CI)."""
TROUBLE = ("traceback", "deadlock", "could not serialize", "unexpected", "error")
"""Words that must not appear in what a process printed when it is meant to succeed."""


# -- stores ----------------------------------------------------------------------------------------


def make_hub(folder: Path, url: str) -> Store:
    """A new hub in the database `url`, its account's data folder `folder` (keys made)."""
    hub = Store.open(folder, database=url, create=True, device_name=HUB_NAME)
    own_card(hub)  # its keys, made now rather than by whichever process needs them first
    # As `dxfield init` leaves it: with its keys, the authorship upgrade done. Otherwise the
    # first processes of a test each take the write lock at their open to do it, and an export
    # then reads the hub after the imports it was meant to read before.
    upgrade(hub)
    return hub


def make_laptop(folder: Path, name: str) -> Store:
    """A field laptop's SQLite store, with its keys."""
    laptop = Store.open(folder, device_name=name)
    own_card(laptop)
    return laptop


def pair(a: Store, b: Store) -> None:
    """Each trusts the other's card (as `keys trust` of the card each exported)."""
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def enroll(hub: Store, folder: Path, url: str, name: str) -> Store:
    """A colleague on the hub: their own identity and keys in `folder`, their card trusted by
    the hub (so they may write)."""
    with Store.open(folder, database=url, device_name=name) as colleague:
        card = parse_card(card_text(own_card(colleague)))
    trust_card(hub, card)
    person = Store.open(folder, database=url)
    assert person.enrolled and person.device.role == "staff"
    return person


def bulk_activities(store: Store, count: int, label: str, *, notes: str = "") -> list[str]:
    """`count` new activities at once (one unit, stamps from the store's clock); their ids."""
    place = municipality_id(TOYOOKA)
    made = [
        (
            new_id(),
            records.validate(
                "activity",
                {
                    "municipality_id": place,
                    "kind": "meeting",
                    "title": f"{label} 会議 {n}",
                    "date": "2024-07-17",
                    "notes": notes,
                },
            ),
        )
        for n in range(count)
    ]
    with store.unit() as unit:
        revisions.bulk_create(unit, "activity", made)
    return [record_id for record_id, _ in made]


def retitle(store: Store, activity_id: str, title: str) -> None:
    """One edit of an activity (a new revision following the store's current one)."""
    edit_activity(store, activity_id, ActivityInput(title=title))


def rev_ids(store: Store) -> list[str]:
    """Every revision id in the store (with repeats, were there any)."""
    with store.read() as conn:
        return list(conn.execute(select(REVISIONS.c.rev_id)).scalars())


def bundle_rev_ids(receiver: Store, path: Path) -> set[str]:
    """The revisions a bundle for `receiver` carries (read and checked, nothing written)."""
    _, carried = read_bundle(receiver, path)
    return {r["rev_id"] for r in carried}


def send(sender: Store, recipient: Store, path: Path) -> Path:
    """A bundle of what `recipient` has not been sent yet."""
    return export_bundle(sender, path, recipient.device.name).path


# -- processes -------------------------------------------------------------------------------------


def dxfield_argv(data_dir: Path, *args: str, database: str | None = None) -> list[str]:
    """The command line of the real CLI on `data_dir` (and the hub database `database`)."""
    hub = ["--database", database] if database else []
    return [sys.executable, "-m", "dxfield", "--data-dir", str(data_dir), *hub, *args]


PYCACHE: Path | None = None
"""Where the processes keep their compiled modules (set by tests/hub/conftest.py)."""


def process_env() -> dict[str, str]:
    """The test's environment (home, data folder, language: the `hermetic` fixture's). With
    PYTHONDONTWRITEBYTECODE set, every process would compile every module it imports again
    (over a second each): they share a session folder of compiled modules instead."""
    env = dict(os.environ)
    if PYCACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["DXFIELD_LANG"] = "en"
    env.pop("DXFIELD_DATABASE_URL", None)
    env.pop("DXFIELD_DEBUG", None)
    return env


@dataclass
class Finished:
    """A process that ended: its command, exit code and what it printed."""

    name: str
    code: int
    out: str
    err: str

    def trouble(self) -> list[str]:
        """Lines that say something went wrong (any at all for a process meant to succeed)."""
        return [
            line
            for line in (self.out + self.err).splitlines()
            if any(word in line.lower() for word in TROUBLE)
        ]

    def assert_clean(self) -> None:
        """It succeeded and said nothing on stderr but, for an import, that it waited for
        another writer (which it does whenever two overlap)."""
        said = [line for line in self.err.splitlines() if line.strip() != WAITING_FOR_WRITER]
        assert self.code == 0 and not "".join(said).strip() and not self.trouble(), (
            f"{self.name} exited {self.code}:\n{self.err}\n{self.out[-2000:]}"
        )


PRIMED = """
import sys, time
from pathlib import Path

ready, go = Path(sys.argv[1]), Path(sys.argv[2])
# What any verb on a hub imports when it runs, imported before the starting signal.
import psycopg, sqlalchemy.dialects.postgresql.psycopg
import dxfield.cli, dxfield.report.render, dxfield.store.conflicts, dxfield.store.hub
import dxfield.store.maintenance, dxfield.store.search, dxfield.sync.bundle
from dxfield.cli import main

ready.touch()
while not go.exists():
    time.sleep(0.005)
sys.argv = ["dxfield", *sys.argv[3:]]
main()
"""
"""`python -m dxfield` (whose `__main__` calls `dxfield.cli.main()`), started ahead: it imports
its modules, says it is ready, and runs the command line only when told to go. Starting a Python
process that imports SQLAlchemy, psycopg and pydantic costs seconds on a busy machine; a test
that needs several processes to act in a given order starts them all first, then lets them go."""


class Running:
    """A process of the test, its output going to files in `logs`. `primed`: started ahead,
    waiting for `go()` (see PRIMED)."""

    def __init__(self, name: str, argv: Sequence[str], logs: Path, *, primed: bool = False) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.out_path = logs / f"{name}.out"
        self.err_path = logs / f"{name}.err"
        self.ready_path = logs / f"{name}.ready"
        self.go_path = logs / f"{name}.go"
        command = list(argv)
        if primed:
            assert command[:3] == [sys.executable, "-m", "dxfield"], command
            ready, go = str(self.ready_path), str(self.go_path)
            command = [sys.executable, "-c", PRIMED, ready, go, *command[3:]]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=process_env()
            )

    def ready(self) -> bool:
        """Whether a primed process waits for `go()` (or, failing, has ended)."""
        return self.ready_path.exists() or self.done()

    def go(self) -> None:
        self.go_path.touch()

    def done(self) -> bool:
        return self.process.poll() is not None

    def wait(self, timeout: float = WAIT_S) -> Finished:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(
                f"{self.name} did not end within {timeout}s:\n{self.err_path.read_text()}"
            ) from None
        return Finished(
            self.name,
            code,
            self.out_path.read_text(encoding="utf-8", errors="replace"),
            self.err_path.read_text(encoding="utf-8", errors="replace"),
        )

    def kill(self) -> None:
        if not self.done():
            self.process.kill()
            self.process.wait(10)


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's children that have ended and been waited
    for: the difference across waiting for some processes is what they used."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@dataclass(frozen=True)
class Account:
    """Someone's `dxfield` on the hub: their data folder, the hub's address, where logs go."""

    folder: Path
    url: str
    logs: Path

    def start(self, name: str, *args: str, primed: bool = False) -> Running:
        argv = dxfield_argv(self.folder, *args, database=self.url)
        return Running(name, argv, self.logs, primed=primed)

    def run(self, name: str, *args: str) -> Finished:
        return self.start(name, *args).wait()


@contextlib.contextmanager
def all_killed(processes: list[Running]) -> Iterator[list[Running]]:
    """Whatever happens in the block, no process of the test outlives it."""
    try:
        yield processes
    finally:
        for process in processes:
            process.kill()


def all_ready(processes: Sequence[Running]) -> None:
    """Wait until every primed process is ready to go."""
    wait_until(lambda: all(p.ready() for p in processes), "the processes to start")


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll `condition` until it is true (returning its value); fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- the server, seen from the test ----------------------------------------------------------------


def libpq_url(url: str) -> str:
    """A `postgresql://` URL as libpq (psycopg) takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class Watch:
    """A connection of the test's own to the hub's database, to see who waits for what."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg.connect(libpq_url(url), autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def waiting(self, event: str) -> int:
        """How many dxfield sessions wait on a lock of kind `event` ("advisory": the hub's
        write lock; "transactionid" or "tuple": a row another transaction holds)."""
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'dxfield' AND wait_event_type = 'Lock' AND wait_event = %s",
            (event,),
        ).fetchone()
        return int(row[0]) if row else 0

    def waiting_for_a_row(self) -> int:
        return self.waiting("transactionid") + self.waiting("tuple")

    def arrivals_numbered(self) -> int:
        """How many arrival numbers the revision log has handed out, committed or not (a
        sequence is not transactional: an import's rows count here before it commits)."""
        row = self.conn.execute(
            "SELECT coalesce(last_value, 0) FROM pg_sequences "
            "WHERE schemaname || '.' || sequencename = "
            "pg_get_serial_sequence('revision', 'arrival')"
        ).fetchone()
        return int(row[0]) if row else 0

    def write_lock_holder(self) -> int | None:
        """The server process of the dxfield session holding the hub's write lock, if any."""
        row = self.conn.execute(
            "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = %s AND l.objid = %s AND a.application_name = 'dxfield'",
            (WRITE_LOCK >> 32, WRITE_LOCK & 0xFFFF_FFFF),
        ).fetchone()
        return int(row[0]) if row else None


class Blocker:
    """A transaction of the test's own that holds a lock until `release()`.

    `write_lock()`: the hub's write lock, so every writer waits before it begins. `row(key)`:
    the `local_state` row `key` (FOR UPDATE) without the write lock, so a writer that updates
    that row stops there, in the middle of its unit, everything before it written but not
    committed (an import stops at its clock's row once it has inserted its revisions)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(libpq_url(url))

    def write_lock(self) -> Blocker:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        return self

    def row(self, key: str) -> Blocker:
        found = self.conn.execute(
            "SELECT value FROM local_state WHERE key = %s FOR UPDATE", (key,)
        ).fetchone()
        assert found is not None, f"no local_state row {key!r} to hold"
        return self

    def release(self) -> None:
        if not self.conn.closed:
            with contextlib.suppress(psycopg.OperationalError):  # a server stopped meanwhile
                self.conn.rollback()
            self.conn.close()

    def __enter__(self) -> Blocker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def dump_records(text: str) -> list[dict[str, Any]]:
    """The records of a `dxfield dump`."""
    return list(json.loads(text)["records"])


def latest_arrival(store: Store) -> int:
    """The arrival number of the newest revision (what a watermark past everything is)."""
    from dxfield.store.merge import latest_arrival as latest

    with store.read() as conn:
        return latest(conn)
