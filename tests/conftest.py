"""Shared fixtures. Every test is hermetic: its own home, data dir and language, whatever
locale, terminal width or time zone the person running the suite has set; and a test marked
`dated` runs again with the clock moved."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine

from dxfield import clock
from dxfield.i18n import set_language, set_saved_language
from dxfield.store.engine import Store
from tests.engines import ENGINES, FILE_BOUND, engine, in_engine_suite, make_template
from tests.postgres import Cluster, require_postgres

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["engine"]  # the fixture, used by name

# What the person running the suite may have set that would change what dxfield prints: the
# locale (LC_ALL beats LANG), the terminal's width, colour switches, Textual's own settings
# (read once, when Textual is imported). Cleared before any test module is imported.
_AMBIENT = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "COLUMNS", "LINES", "NO_COLOR",
            "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "ESCDELAY")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dated: the test shows or computes dates; it runs again with the clock moved "
        "(see MOVED_CLOCKS)",
    )
    config.addinivalue_line(
        "markers",
        "sqlite_only: the test is about what only a store file has (its bytes, locks, copies); "
        "it does not run again on PostgreSQL (tests/engines.py)",
    )
    config.addinivalue_line(
        "markers",
        "slow: takes more than a few seconds (many real processes against a real server, "
        "hundreds of MiB through a bundle); runs by default, `-m 'not slow'` leaves it out",
    )
    for name in list(os.environ):
        if name in _AMBIENT or (name.startswith("TEXTUAL_") and "SNAPSHOT" not in name):
            del os.environ[name]


# The instants a `dated` test is run at besides the real clock: the last minute of a fiscal
# year in Japan and the first (still 3/31 in UTC), a 年度 start and a new year, both at midnight
# in Japan while it is still the day before in UTC. Each runs with the machine in New York's
# time zone, so nothing may take "today" from the machine's zone.
MOVED_CLOCKS = {  # id: (the instant, the date in Japan then)
    "jst-2025-03-31T2359": (dt.datetime(2025, 3, 31, 14, 59, tzinfo=dt.UTC), dt.date(2025, 3, 31)),
    "jst-2025-04-01T0030": (dt.datetime(2025, 3, 31, 15, 30, tzinfo=dt.UTC), dt.date(2025, 4, 1)),
    "jst-2027-04-01T0000": (dt.datetime(2027, 3, 31, 15, 0, 5, tzinfo=dt.UTC), dt.date(2027, 4, 1)),
    "jst-2030-01-01T0000": (
        dt.datetime(2029, 12, 31, 15, 0, 5, tzinfo=dt.UTC),
        dt.date(2030, 1, 1),
    ),
}
REAL_CLOCK = "real-clock"
MOVED_ZONE = "America/New_York"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("dated"):
        metafunc.fixturenames.insert(0, "moved_clock")
        metafunc.parametrize("moved_clock", [REAL_CLOCK, *MOVED_CLOCKS], indirect=True)
    if (
        in_engine_suite(metafunc.definition.path, ROOT)
        and not metafunc.definition.get_closest_marker("sqlite_only")
        and metafunc.definition.originalname not in FILE_BOUND
    ):
        if "engine" not in metafunc.fixturenames:
            metafunc.fixturenames.insert(0, "engine")
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Cluster) -> Cluster:
    """The session's PostgreSQL cluster, holding the template test databases are cloned from."""
    make_template(pg_cluster)
    return pg_cluster


def without_clock(name: str) -> str:
    """A test's name without the moved clock's id (`test_x[a-jst-2030-01-01T0000]` → `test_x[a]`)."""
    for clock_id in (REAL_CLOCK, *MOVED_CLOCKS):
        name = name.replace(f"[{clock_id}]", "").replace(f"-{clock_id}", "")
        name = name.replace(f"[{clock_id}-", "[")
    return name


def _set_zone(zone: str | None) -> None:
    if zone is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = zone
    if hasattr(time, "tzset"):  # not on Windows
        time.tzset()


@pytest.fixture
def moved_clock(request: pytest.FixtureRequest) -> Iterator[dt.date]:
    """Runs the test at the real clock, or with it moved (and ticking) to one of MOVED_CLOCKS
    in New York's zone; gives the date in Japan the test should see as today."""
    if request.param == REAL_CLOCK:
        yield dt.datetime.now(clock.JAPAN).date()
        return
    destination, japan_date = MOVED_CLOCKS[request.param]
    zone = os.environ.get("TZ")
    _set_zone(MOVED_ZONE)
    try:
        with time_machine.travel(destination, tick=True):
            yield japan_date
    finally:
        _set_zone(zone)


# A day in the demo's fiscal year (令和6年度), for tests whose expectations name dates.
TODAY = dt.date(2024, 11, 26)


@pytest.fixture
def frozen_today() -> Iterator[dt.date]:
    """dxfield's clock stopped at TODAY (noon in Japan), whatever the real clock says."""
    with clock.frozen(TODAY):
        yield TODAY


@pytest.fixture(autouse=True)
def hermetic(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point home, XDG dirs, the documents folder and the dxfield data dir into the test's own
    folder; English UI."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DXFIELD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DXFIELD_CONFIG_DIR", str(home / ".config" / "dxfield"))
    monkeypatch.setenv("DXFIELD_DOCUMENTS_DIR", str(home / "Documents"))
    monkeypatch.setenv("DXFIELD_LANG", "en")
    monkeypatch.delenv("DXFIELD_DEBUG", raising=False)
    set_language(None)
    set_saved_language(None)
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "engine" in callspec.params:
        # Before any other fixture opens a store: on PostgreSQL, every store is a database.
        request.getfixturevalue("engine")
    yield tmp_path
    set_language(None)
    set_saved_language(None)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data dir the `hermetic` fixture points DXFIELD_DATA_DIR at."""
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    """A fresh store (reference data only)."""
    with Store.open(data_dir) as opened:
        yield opened


@pytest.fixture
def demo_store(data_dir: Path) -> Iterator[Store]:
    """A store holding the Hyogo demo dataset."""
    from dxfield.demo.loader import load_demo

    with Store.open(data_dir) as opened:
        load_demo(opened)
        yield opened


@dataclass
class CliResult:
    """What one in-process `dxfield` invocation did."""

    code: int
    out: str
    err: str


Cli = Callable[..., CliResult]


DemoLoader = Callable[[Path], None]


@pytest.fixture
def with_demo(cli: Cli, engine: str) -> DemoLoader:
    """Fill the store of a data folder with the demo's records: on SQLite by `dxfield demo`
    (which always writes a file of its own there), on PostgreSQL into that folder's hub
    database by the demo's loader, so the verbs that follow read them on either engine."""

    def load(data_dir: Path) -> None:
        if engine == "sqlite":
            result = cli("--data-dir", str(data_dir), "demo", "--no-open")
            assert result.code == 0, result.err
            return
        from dxfield.demo.loader import load_demo

        with Store.open(data_dir) as store:
            load_demo(store)

    return load


def add_activity_args(**options: str) -> tuple[str, ...]:
    """`activity add` with valid defaults, any option overridden (`date="2024-02-30"`)."""
    fields = {
        "municipality": "豊岡市",
        "kind": "workshop",
        "date": "2024-07-17",
        "title": "x",
        **options,
    }
    args = ["activity", "add"]
    for name, value in fields.items():
        args += [f"--{name}", value]
    return tuple(args)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `dxfield ARGS...` in-process; returns a CliResult."""
    from dxfield.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


# -- PostgreSQL (issue 15): a real throwaway cluster, see tests/postgres.py -------------------------


@pytest.fixture(scope="session")
def pg_cluster(request: pytest.FixtureRequest) -> Cluster:
    """The session's PostgreSQL cluster: made and started on first use, stopped and removed at the
    end of the session (Ctrl-C included; `atexit` is the backstop). Skips without PostgreSQL,
    fails instead with DXFIELD_REQUIRE_POSTGRES=1. Tests must not stop it: use `own_pg_cluster`."""
    bindir = require_postgres()
    cluster = Cluster(bindir)
    # The finalizer runs at the session's end, after a Ctrl-C too; should it not (a crash),
    # tests.postgres's atexit hook cleans up every cluster its process made and left alive.
    request.addfinalizer(cluster.cleanup)
    cluster.start()
    return cluster


@pytest.fixture
def pg_database(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh database (UTF8, C collation, C.UTF-8 ctype, pg_trgm) in the session's cluster, for
    this test alone; its URL (over the socket, as the superuser). Dropped after the test, even
    with sessions still connected."""
    name = f"dxf_test_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)


@pytest.fixture
def own_pg_cluster() -> Iterator[Cluster]:
    """A started cluster of the test's own, for tests that stop, crash or restart their server;
    removed after the test."""
    cluster = Cluster(require_postgres())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()
