"""The app's figures for dxfield's performance suite (`benchmarks/run.py --only tui`).

Every figure is a ratio against a baseline measured in the same run, on stores built once per run
(N activities from `--records`, and 1,000) in the run's temp dir. Every measurement runs in a
fresh subprocess of this file (`python benchmarks/tui.py --child MODE`) whose HOME, XDG dirs,
DXFIELD_DATA_DIR and bytecode cache (PYTHONPYCACHEPREFIX) are in that temp dir: nothing touches
the real home, and peaks don't mix. The app is driven from outside: a subclass adds message
handlers, keys are posted as the terminal driver posts them, and "painted" means a
`call_after_refresh` callback ran (the screen repainted with nothing left dirty).

- tui_start: wall time from starting `dxfield` (the `dxfield` command's entry point, the app
  run headless, N activities) to its first screen painted, the screen a person types into: its
  keys are live from that paint (`l` shows the Log through store/light.py, `n` is kept until the
  `Store` has opened behind it). Baseline: a minimal Textual hello-world app started the same
  way, to its first paint. Medians of interleaved runs. Target <= 1.5 (issue 18's words: "the
  first screen a person can type into"). The note gives when the Dashboard's cards were painted
  (read through the light store too, a scan of every activity) and the process's exit.
- tui_start_log: the same start, with "l" pressed as soon as the first screen has painted, to
  the Log's list loaded and its first rows painted: what an impatient person sees. Same
  baseline. Target <= 2.5 (set here, in the note of issue 18: a guard, not the issue's figure).
- tui_start_floor: the start to the Log (as tui_start_log) vs the hello-world app that also imports Typer and, in a
  thread worker, opens the `Store` and reads and paints the first 100 activities
  (`child_start_floor`), each to its painted screen. Target <= 1.5; below 1 now that the first
  screen comes without the `Store`.
- tui_first_paint: from pushing the Log (from the Dashboard) to its first painted rows; N vs 1k.
  Target <= 1.2.
- tui_scroll: 50 page-downs then End, each waited for until the rows on screen are loaded (no
  "…" placeholders) and painted, so the block fetches count; N rows vs 1k, at 80x24 so that both
  lists really move 50 pages. Target <= 1.3.
- tui_loop_gap: the largest gap between the ticks of a 10 ms `set_interval` timer on the event
  loop while queries run over N activities (町, 農業 and 住民合意形成 typed into the Log's search
  field, each emptied again (every activity), End, a reload: each from its first key to its rows
  painted), vs the largest gap while idle for as long as each round took. Largest over all
  rounds, idle and busy interleaved. Target <= 3.
- tui_memory: peak RSS (VmHWM) of the start process opening the Log with N vs with 1k.
  Target <= 1.5.
- tui_attachments_view: from pushing the activity view of an activity carrying 20 photos (a
  phone's 12 MP JPEGs, attached through the service) to the view painted with its list of
  attachments, vs the same for an activity without any, opens interleaved in one process after a
  warm-up open of each. Target <= 1.2 (issue 19). The highlighted photo's thumbnail is made in a
  worker (once: later opens find it cached) and drawn after that paint: the note gives when the
  picture was painted, at the first open (thumbnail made) and at later ones (cached).

This module imports only the standard library at the top: the hello-world child must not pay for
dxfield's imports. The suite's helpers (`run.py`) are imported when the parent measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

    from dxfield.tui.app import DxfieldApp
    from dxfield.tui.widgets.activity_list import ActivityList
    from run import Figure

HERE = Path(__file__).resolve()
SMALL = 1_000
SIZE = (120, 40)
# The smallest terminal, for scrolling: 50 pages (about 750 rows) then fit in the 1k list,
# so both lists page the same number of times (at 120x40 the 1k list would hit its end early).
SCROLL_SIZE = (80, 24)
PAGE_DOWNS = 50
TICK = 0.01
SEARCH_TERMS = ["町", "農業", "住民合意形成"]
PHOTOS = 20
PHOTO_PIXELS = (4032, 3024)  # a phone camera's 12 MP
ENV_WITH = "DXFIELD_BENCH_WITH_PHOTOS"
ENV_WITHOUT = "DXFIELD_BENCH_WITHOUT_PHOTOS"
CHILD_TIMEOUT = 300.0
STEP_TIMEOUT = 60.0


# -- children: the processes measured ------------------------------------------------------------


def _emit(payload: dict[str, Any]) -> None:
    """One JSON line on the real stdout (the app may have redirected `sys.stdout`)."""
    os.write(1, (json.dumps(payload) + "\n").encode())


def _max_rss_mib() -> float:
    """This process's peak resident set so far, in MiB.

    Linux's VmHWM when there is one: `ru_maxrss` survives exec, so a child of a big parent would
    report the parent's peak (the benchmark's own, with N activities in memory) as its own.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _bench_app_class() -> type[DxfieldApp]:
    """DxfieldApp with the benchmark's hooks: message handlers only, nothing of the app changed.

    - `open_log_on_start`: press "l" as soon as the first screen has painted;
    - `after_paint`: a one-shot callback, run once the next `ActivityList.Loaded` has been painted.
    """
    import dxfield.tui.app
    from dxfield.tui.app import DxfieldApp

    class BenchApp(DxfieldApp):
        """The app, instrumented from outside."""

        # Textual reads a relative CSS_PATH beside the subclass's module: point at the app's own.
        CSS_PATH = str(Path(dxfield.tui.app.__file__).with_name("app.tcss"))

        def __init__(self, data_dir: Path, *, open_log_on_start: bool = False) -> None:
            super().__init__(data_dir)
            self.open_log_on_start = open_log_on_start
            self.after_paint: Callable[[], None] | None = None

        # Textual calls this and DxfieldApp's own handler (every class in the MRO has its turn).
        def on_mount(self) -> None:
            if self.open_log_on_start:
                # As soon as the first screen has painted (as an impatient user would).
                self.call_after_refresh(self.simulate_key, "l")

        def on_activity_list_loaded(self, event: ActivityList.Loaded) -> None:
            callback, self.after_paint = self.after_paint, None
            if callback is not None:
                event.activity_list.call_after_refresh(callback)

    return BenchApp


def child_start_hello() -> None:
    """A minimal Textual app: exits (reporting) as soon as its first frame is painted."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Hello(App[None]):
        """Hello, world."""

        def compose(self) -> ComposeResult:
            yield Static("Hello, world")

        def on_mount(self) -> None:
            self.call_after_refresh(self.ready)

        def ready(self) -> None:
            _emit({"max_rss_mib": _max_rss_mib()})
            self.exit()

    Hello().run(headless=True, size=SIZE)


def child_start_floor() -> None:
    """The hello-world app plus what any dxfield start must load: Typer (the `dxfield` command),
    then in a thread worker the store (SQLAlchemy, SQLModel, pydantic), opened, and its first
    100 activities read. Exits once those are painted. dxfield's start can't be quicker."""
    import typer  # noqa: F401  (the command the app is started through)
    from textual import work
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Floor(App[None]):
        """Hello, store."""

        def compose(self) -> ComposeResult:
            yield Static("Hello, world")

        def on_mount(self) -> None:
            self.read()

        @work(thread=True)
        def read(self) -> None:
            from dxfield.store.activities import list_activities
            from dxfield.store.engine import Store

            with Store.open(Path(os.environ["DXFIELD_DATA_DIR"])) as store:
                rows = list_activities(store, limit=100)
            self.call_from_thread(self.show, "\n".join(row.title for row in rows))

        def show(self, text: str) -> None:
            self.query_one(Static).update(text)
            self.call_after_refresh(self.ready)

        def ready(self) -> None:
            _emit({"max_rss_mib": _max_rss_mib()})
            self.exit()

    Floor().run(headless=True, size=SIZE)


def child_start_first() -> None:
    """`dxfield` as a user starts it (its CLI), headless: a line once the first screen (the
    Dashboard) has painted, another once its cards have; exits then."""
    import dxfield.tui.app
    from dxfield.launch import main  # what the `dxfield` command runs
    from dxfield.tui.screens.dashboard import DashboardScreen, InitiativeCardView

    bench_app = _bench_app_class()
    began = time.perf_counter()

    def run_app(data_dir: Path, database: str | None = None) -> None:
        app = bench_app(data_dir)
        said: list[str] = []

        def look() -> None:
            screen = app.screen
            if isinstance(screen, DashboardScreen):
                if not said:
                    said.append("first")
                    _emit({"max_rss_mib": _max_rss_mib()})
                if screen.query(InitiativeCardView):
                    _emit({"cards": time.perf_counter() - began})
                    app.exit()
                    return
            app.set_timer(0.005, lambda: app.call_after_refresh(look))

        app.call_later(lambda: app.call_after_refresh(look))
        app.run(headless=True, size=SIZE)

    dxfield.tui.app.run_app = run_app  # what the CLI opens when no command is given
    main([])


def child_start_dxfield() -> None:
    """`dxfield` as a user starts it (its CLI), headless; exits once the Log has painted rows."""
    import dxfield.tui.app
    from dxfield.launch import main  # what the `dxfield` command runs

    bench_app = _bench_app_class()

    def run_app(data_dir: Path, database: str | None = None) -> None:
        app = bench_app(data_dir, open_log_on_start=True)

        def ready() -> None:
            _emit({"max_rss_mib": _max_rss_mib()})
            app.exit()

        app.after_paint = ready
        app.run(headless=True, size=SIZE)

    dxfield.tui.app.run_app = run_app  # what the CLI opens when no command is given
    main([])


async def _settle(app: App[Any], pilot: Pilot[Any], rounds: int = 4) -> None:
    """Let workers finish, and the workers their results start, and the screen repaint."""
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(rounds):
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def _open_log(app: DxfieldApp, pilot: Pilot[Any]) -> float:
    """From a settled Dashboard, push the Log: seconds until its first rows are painted."""
    await _settle(app, pilot)
    painted = asyncio.Event()
    stamps: list[float] = []

    def done() -> None:
        stamps.append(time.perf_counter())
        painted.set()

    app.after_paint = done  # type: ignore[attr-defined]
    began = time.perf_counter()
    app.action_log()
    await asyncio.wait_for(painted.wait(), STEP_TIMEOUT)
    return stamps[0] - began


def _list(app: DxfieldApp) -> ActivityList:
    """The current screen's activity list."""
    from dxfield.tui.widgets.activity_list import ActivityList

    return app.screen.query_one(ActivityList)


def _rows_on_screen_loaded(listing: ActivityList) -> bool:
    """Every row the list shows is loaded (none is a "…" placeholder)."""
    top = int(listing.scroll_offset.y)
    height = listing.scrollable_content_region.height
    last = min(top + height, listing.total)
    return all(listing.row_at(index) is not None for index in range(top, last))


async def _until_painted_and_loaded(app: App[Any], listing: ActivityList) -> None:
    """Wait for a repaint; while rows on screen are placeholders, for their fetches and again."""
    from textual.worker import WorkerCancelled, WorkerFailed

    deadline = time.perf_counter() + STEP_TIMEOUT
    while True:
        await listing.wait_for_refresh()
        if _rows_on_screen_loaded(listing):
            return
        if time.perf_counter() > deadline:
            raise TimeoutError("the rows on screen never loaded")
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await app.workers.wait_for_complete()


async def _key(app: App[Any], key: str, character: str | None = None) -> None:
    """Post a key event as the terminal driver does, and let the app take it."""
    from textual import events

    app.post_message(events.Key(key, character))
    await asyncio.sleep(0)


async def _move(app: DxfieldApp, key: str, cursor: int) -> None:
    """Press `key`, wait for the list's cursor to reach `cursor`, then for loaded rows painted."""
    listing = _list(app)
    await _key(app, key)
    deadline = time.perf_counter() + STEP_TIMEOUT
    while listing.cursor != cursor:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{key} did not move the cursor to {cursor}")
        await asyncio.sleep(0)
    await _until_painted_and_loaded(app, listing)


async def _scroll(app: DxfieldApp) -> float:
    """Seconds for 50 page-downs then End, each until the rows on screen are loaded and painted."""
    listing = _list(app)
    last = listing.total - 1
    began = time.perf_counter()
    for _ in range(PAGE_DOWNS):
        page = max(listing.scrollable_content_region.height, 1)
        await _move(app, "pagedown", min(listing.cursor + page, last))
    await _move(app, "end", last)
    return time.perf_counter() - began


async def _quiet(app: App[Any], listing: ActivityList) -> None:
    """Workers done and the screen repainted (without forcing a repaint as `Pilot.pause` does)."""
    from textual.worker import WorkerCancelled, WorkerFailed

    with contextlib.suppress(WorkerCancelled, WorkerFailed):
        await app.workers.wait_for_complete()
    await listing.wait_for_refresh()


async def _query(app: DxfieldApp, keys: list[tuple[str, str | None]]) -> tuple[float, float]:
    """Type `keys` ((key, character) pairs) and wait until the list has reloaded and painted.

    Returns the window (start, end) during which the query ran and its rows were applied.
    """
    painted = asyncio.Event()
    app.after_paint = painted.set  # type: ignore[attr-defined]
    began = time.perf_counter()
    for key, character in keys:
        await _key(app, key, character)
    await asyncio.wait_for(painted.wait(), STEP_TIMEOUT)
    listing = _list(app)
    await _until_painted_and_loaded(app, listing)
    await _quiet(app, listing)
    return began, time.perf_counter()


async def _focus(app: DxfieldApp, key: str, character: str | None, widget_id: str) -> None:
    """Press `key` and wait until the widget `widget_id` has the focus (it moves a turn later)."""
    await _key(app, key, character)
    deadline = time.perf_counter() + STEP_TIMEOUT
    while getattr(app.focused, "id", None) != widget_id:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{key} did not focus #{widget_id}")
        await asyncio.sleep(0)
    for _ in range(3):  # the footer follows the focus a repaint later, and repaints again
        await _quiet(app, _list(app))


async def _busy(app: DxfieldApp) -> list[tuple[float, float]]:
    """Searches typed into the Log's field and cleared (the whole Log again), End, a reload.

    Returns the windows in which a query ran (from its first key to its rows painted); moving
    the focus to the search field and back to the list happens between them.
    """
    windows = []
    await _focus(app, "slash", "/", "search")
    for term in SEARCH_TERMS:
        windows.append(await _query(app, [(c, c) for c in term]))
        windows.append(await _query(app, [("ctrl+u", None)]))  # emptied: every activity again
    await _focus(app, "escape", None, "activities")
    began = time.perf_counter()
    await _move(app, "end", _list(app).total - 1)
    windows.append((began, time.perf_counter()))
    windows.append(await _query(app, [("r", "r")]))
    await _move(app, "home", 0)
    return windows


def _largest_gap(ticks: list[float], start: float, end: float) -> float:
    """The largest interval between consecutive ticks within [start, end], bounds included."""
    inside = [start, *(t for t in ticks if start < t < end), end]
    return max(b - a for a, b in itertools.pairwise(inside))


async def _measure(mode: str, data_dir: Path, repeats: int) -> dict[str, Any]:
    """Run the app headless on `data_dir` and take `repeats` measurements of `mode`."""
    app = _bench_app_class()(data_dir)
    result: dict[str, Any] = {}
    async with app.run_test(size=SCROLL_SIZE if mode == "scroll" else SIZE) as pilot:
        await _settle(app, pilot)
        if mode == "first-paint":
            await _open_log(app, pilot)  # warm-up: the Log's modules and CSS load once
            times = []
            for _ in range(repeats):
                app.action_dashboard()
                times.append(await _open_log(app, pilot))
            result["times"] = times
        elif mode == "scroll":
            times = []
            for _ in range(repeats + 1):  # the first is a warm-up
                app.action_dashboard()
                await _open_log(app, pilot)
                await _settle(app, pilot)
                times.append(await _scroll(app))
            result["times"] = times[1:]
            result["page"] = _list(app).scrollable_content_region.height
        elif mode == "loop-gap":
            await _open_log(app, pilot)
            await _settle(app, pilot)
            ticks: list[float] = []
            app.set_interval(TICK, lambda: ticks.append(time.perf_counter()))
            await asyncio.sleep(0.2)
            idle, busy, whole = [], [], []
            for _ in range(repeats):
                began = time.perf_counter()
                windows = await _busy(app)
                ended = time.perf_counter()
                busy.append(max(_largest_gap(ticks, *window) for window in windows))
                whole.append(_largest_gap(ticks, began, ended))
                await asyncio.sleep(ended - began)
                idle.append(_largest_gap(ticks, ended, time.perf_counter()))
            result.update(idle=idle, busy=busy, whole=whole, duration=ended - began)
    return result


async def _open_view(app: DxfieldApp, pilot: Pilot[Any], activity_id: str) -> dict[str, float]:
    """Push an activity's view: seconds to its page painted (`opened`) and, when it has
    attachments, to the highlighted photo painted (`picture`); then back."""
    from dxfield.tui.screens.activity_view import ActivityViewScreen

    await _settle(app, pilot)
    deadline = time.perf_counter() + STEP_TIMEOUT

    async def painted(node: Any) -> None:
        done = asyncio.Event()
        node.call_after_refresh(done.set)
        await asyncio.wait_for(done.wait(), STEP_TIMEOUT)

    began = time.perf_counter()
    screen = ActivityViewScreen(activity_id)
    app.push_screen(screen)
    while screen.page is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("the activity view never loaded")
        await asyncio.sleep(0)
    await painted(screen)
    result = {"opened": time.perf_counter() - began}
    if screen.page.attachments:
        while not screen.query("#attachment-picture > *"):
            if time.perf_counter() > deadline:
                raise TimeoutError("the photo was never drawn")
            await asyncio.sleep(0.001)
        await painted(screen)
        result["picture"] = time.perf_counter() - began
    app.pop_screen()
    return result


async def _measure_views(data_dir: Path, repeats: int) -> dict[str, Any]:
    """The view of the activity with photos and of the one without, interleaved."""
    app = _bench_app_class()(data_dir)
    with_photos, without = os.environ[ENV_WITH], os.environ[ENV_WITHOUT]
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await _open_view(app, pilot, without)  # warm-up: the view's modules and CSS load once
        first = await _open_view(app, pilot, with_photos)  # the thumbnail is made here
        times_with, times_without, pictures = [], [], []
        for _ in range(repeats):
            times_without.append((await _open_view(app, pilot, without))["opened"])
            opened = await _open_view(app, pilot, with_photos)
            times_with.append(opened["opened"])
            pictures.append(opened["picture"])
    return {
        "with": times_with,
        "without": times_without,
        "first": first,
        "pictures": pictures,
    }


def child_main(argv: list[str]) -> None:
    """Entry point of the measured subprocesses."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--child",
        required=True,
        choices=[
            "start-hello",
            "start-floor",
            "start-dxfield",
            "start-first",
            "first-paint",
            "scroll",
            "loop-gap",
            "attachments-view",
        ],
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.child == "start-hello":
        child_start_hello()
    elif args.child == "start-floor":
        child_start_floor()
    elif args.child == "start-dxfield":
        child_start_dxfield()
    elif args.child == "start-first":
        child_start_first()
    elif args.child == "attachments-view":
        data_dir = Path(os.environ["DXFIELD_DATA_DIR"])
        _emit(asyncio.run(_measure_views(data_dir, args.repeats)))
    else:
        data_dir = Path(os.environ["DXFIELD_DATA_DIR"])
        _emit(asyncio.run(_measure(args.child, data_dir, args.repeats)))


# -- the parent: stores, runs, figures -----------------------------------------------------------


def _env(workdir: Path, data_dir: Path | None) -> dict[str, str]:
    """The children's environment: every home and data dir inside `workdir`."""
    home = workdir / "home"
    env = dict(os.environ)
    env["HOME"] = str(home)
    # Bytecode is cached (in the temp dir) as it is for an installed app: with
    # PYTHONDONTWRITEBYTECODE every start would compile each imported module again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    if data_dir is not None:
        env["DXFIELD_DATA_DIR"] = str(data_dir)
    return env


def run_child(
    mode: str,
    workdir: Path,
    data_dir: Path | None,
    repeats: int = 1,
    *,
    attempts: int = 2,
    extra: dict[str, str] | None = None,
) -> tuple[float, float, dict[str, Any]]:
    """Run one child: (seconds to its first output line, seconds to its exit, that line's data,
    with `second_line_at`: the seconds to a second line, when the child printed one).

    A child that fails is run again (`attempts` in all), and the failure is reported on stderr:
    a rare crash of the app must be seen, but must not throw away a run of several minutes.
    """
    command = [sys.executable, str(HERE), "--child", mode, "--repeats", str(repeats)]
    with tempfile.TemporaryFile() as stderr:
        began = time.perf_counter()
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**_env(workdir, data_dir), **(extra or {})},
        )
        watchdog = threading.Timer(CHILD_TIMEOUT, proc.kill)  # a child that hangs is killed
        watchdog.start()
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            first = time.perf_counter() - began
            later = proc.stdout.readline()  # a second line, when the child says one
            second = time.perf_counter() - began
            proc.stdout.read()
            proc.wait()
        finally:
            watchdog.cancel()
        whole = time.perf_counter() - began
        if proc.returncode == 0 and line:
            data = json.loads(line)
            if later.strip():
                data["second_line_at"] = second
            return first, whole, data
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace").strip().splitlines()
    failure = f"{mode} on {data_dir} failed ({proc.returncode}): {errors[-1] if errors else ''}"
    if attempts <= 1:
        raise RuntimeError(failure + "\n" + "\n".join(errors[-40:]))
    _note(f"FAILED, running it again: {failure}")
    return run_child(mode, workdir, data_dir, repeats, attempts=attempts - 1, extra=extra)


def build_store(folder: Path, count: int) -> Path:
    """A store of `count` synthetic activities through the store's bulk path."""
    from dxfield.store.engine import Store
    from run import bulk_load, synthetic_activities

    with Store.open(folder) as store:
        bulk_load(store, synthetic_activities(count))
    return folder


def _phone_photo(path: Path, seed: int) -> Path:
    """A JPEG the size of a phone's photo (12 MP, about 3 MB): smooth colours with detail, as a
    whiteboard or a room is, different for each `seed`."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    small = Image.frombytes("RGB", (64, 48), rng.randbytes(64 * 48 * 3))
    picture = small.resize(PHOTO_PIXELS, Image.Resampling.BICUBIC)
    grain = Image.frombytes("L", (1008, 756), rng.randbytes(1008 * 756)).resize(PHOTO_PIXELS)
    picture = Image.blend(picture, Image.merge("RGB", (grain, grain, grain)), 0.12)
    picture.save(path, "JPEG", quality=92)
    return path


def add_photos(store_dir: Path, workdir: Path) -> tuple[str, str, float]:
    """Attach PHOTOS phone photos to one activity of the store (through the service); the ids
    of that activity and of another without any, and the photos' mean size in MB."""
    from dxfield.store.activities import list_activities
    from dxfield.store.attachments import attach
    from dxfield.store.engine import Store

    folder = workdir / "photos"
    folder.mkdir(exist_ok=True)
    with Store.open(store_dir) as store:
        first, second = list_activities(store, limit=2)
        sizes = []
        for i in range(PHOTOS):
            photo = _phone_photo(folder / f"IMG_{i:04d}.jpg", i)
            sizes.append(photo.stat().st_size)
            attach(store, first.id, photo, caption=f"ワークショップ {i + 1}")
    return first.id, second.id, statistics.mean(sizes) / 1e6


def measure_attachments_view(workdir: Path, store_dir: Path, repeats: int) -> Figure:
    """tui_attachments_view: the view of an activity with 20 photos vs one without."""
    from run import figure

    began = time.perf_counter()
    with_photos, without, mb = add_photos(store_dir, workdir)
    _note(
        f"{PHOTOS} photos of {mb:.1f} MB on average attached in {time.perf_counter() - began:.1f}s"
    )
    extra = {ENV_WITH: with_photos, ENV_WITHOUT: without}
    data = run_child("attachments-view", workdir, store_dir, max(repeats * 3, 15), extra=extra)[2]
    median = statistics.median
    note = (
        f"the photo painted {data['first']['picture']:.3f}s after the first open (thumbnail made), "
        f"{median(data['pictures']):.3f}s after later ones (cached)"
    )
    _note(
        f"activity view: with {PHOTOS} photos {min(data['with']):.3f}..{max(data['with']):.3f}s, "
        f"without {min(data['without']):.3f}..{max(data['without']):.3f}s; {note}"
    )
    return figure(
        "tui_attachments_view", median(data["with"]), median(data["without"]), 1.2, note=note
    )


def _note(text: str) -> None:
    """A line of progress or detail on stderr (the figures go to stdout)."""
    print(f"  tui: {text}", file=sys.stderr, flush=True)


def measure_start_and_memory(
    workdir: Path, big: Path, small: Path, repeats: int
) -> tuple[Figure, Figure, Figure, Figure]:
    """tui_start, tui_start_log, tui_start_floor and tui_memory from the same interleaved start
    processes."""
    from run import figure

    run_child("start-hello", workdir, None)  # warm the bytecode caches once
    run_child("start-floor", workdir, small)
    run_child("start-first", workdir, small)
    run_child("start-dxfield", workdir, small)
    hello, floor, first, cards, log, big_rss, small_rss = [], [], [], [], [], [], []
    hello_whole, log_whole = [], []
    for _ in range(repeats):
        ready, whole, _ = run_child("start-hello", workdir, None)
        hello.append(ready)
        hello_whole.append(whole)
        floor.append(run_child("start-floor", workdir, big)[0])
        ready, _, data = run_child("start-first", workdir, big)
        first.append(ready)
        cards.append(data.get("second_line_at", float("nan")))
        ready, whole, data = run_child("start-dxfield", workdir, big)
        log.append(ready)
        log_whole.append(whole)
        big_rss.append(data["max_rss_mib"])
        _, _, data = run_child("start-dxfield", workdir, small)
        small_rss.append(data["max_rss_mib"])
    median = statistics.median
    base = median(hello)
    cards_note = (
        f"the Dashboard's cards painted at {median(cards):.3f}s ({median(cards) / base:.2f}x)"
    )
    _note(
        f"start, to the screen painted: hello {base:.3f}s, floor (hello + typer + the store, "
        f"opened and read) {median(floor):.3f}s, dxfield's first screen {median(first):.3f}s "
        f"({cards_note}), its Log after l {median(log):.3f}s; to the process's exit: hello "
        f"{median(hello_whole):.3f}s, dxfield with the Log {median(log_whole):.3f}s"
    )
    start = figure("tui_start", median(first), base, 1.5, note=cards_note)
    start_log = figure("tui_start_log", median(log), base, 2.5)
    start_floor = figure("tui_start_floor", median(log), median(floor), 1.5)
    memory = figure(
        "tui_memory", statistics.median(big_rss), statistics.median(small_rss), 1.5, "MiB"
    )
    return start, start_log, start_floor, memory


def measure_paired(
    name: str, target: float, workdir: Path, big: Path, small: Path, rounds: int, repeats: int
) -> Figure:
    """Median of a child's times over the big store vs the small one, children interleaved."""
    from run import figure

    mode = name.removeprefix("tui_").replace("_", "-")
    big_times: list[float] = []
    small_times: list[float] = []
    for _ in range(rounds):
        small_times += run_child(mode, workdir, small, repeats)[2]["times"]
        big_times += run_child(mode, workdir, big, repeats)[2]["times"]

    def spread(times: list[float]) -> str:
        return f"{min(times):.3f}..{max(times):.3f}s"

    _note(f"{name}: {len(big_times)} times each, big {spread(big_times)}, 1k {spread(small_times)}")
    return figure(name, statistics.median(big_times), statistics.median(small_times), target)


def measure_loop_gap(workdir: Path, big: Path, repeats: int) -> Figure:
    """The largest tick gap while queries ran vs while idle, each over all rounds."""
    from run import figure

    data = run_child("loop-gap", workdir, big, repeats)[2]

    def ms(gaps: list[float]) -> str:
        return ", ".join(f"{gap * 1000:.0f}" for gap in gaps) + " ms"

    _note(
        f"largest loop gaps per {data['duration']:.1f}s round: while queries ran "
        f"{ms(data['busy'])}; the whole round (focus moves too) {ms(data['whole'])}; "
        f"idle {ms(data['idle'])}"
    )
    return figure("tui_loop_gap", max(data["busy"]), max(data["idle"]), 3.0)


def measure_tui(
    workdir: Path, records: int, repeats: int, big_store: Path | None = None
) -> list[Figure]:
    """The app's figures. `big_store` is a store of `records` activities already built, if any."""
    began = time.perf_counter()
    big = big_store or build_store(workdir / "tui-big", records)
    small = build_store(workdir / "tui-small", SMALL)
    _note(f"stores ready in {time.perf_counter() - began:.1f}s")

    start, start_log, start_floor, memory = measure_start_and_memory(workdir, big, small, repeats)
    _note(f"start and memory done at {time.perf_counter() - began:.1f}s")
    # First paints vary by a third from one to the next (when the list's thread worker starts
    # and how it shares the GIL with the screen's layout): many of them, from several processes.
    first_paint = measure_paired("tui_first_paint", 1.2, workdir, big, small, 3, repeats)
    _note(f"first paint done at {time.perf_counter() - began:.1f}s")
    scroll = measure_paired("tui_scroll", 1.3, workdir, big, small, 2, max(repeats // 2, 1))
    _note(f"scroll done at {time.perf_counter() - began:.1f}s")
    loop_gap = measure_loop_gap(workdir, big, repeats)
    _note(f"loop gap done at {time.perf_counter() - began:.1f}s")
    # Last: it attaches photos to the 1k store the figures above read.
    attachments_view = measure_attachments_view(workdir, small, repeats)
    _note(f"all done in {time.perf_counter() - began:.1f}s")
    return [start, start_log, start_floor, first_paint, scroll, loop_gap, memory, attachments_view]


if __name__ == "__main__":
    child_main(sys.argv[1:])
