"""Nothing a person reads escapes the catalogue: under a pseudo-locale that wraps every message
as `⟦…⟧`, every screen of the app, every verb's `--help` and the CLI's errors show no word
outside the wrappers but data, keys, codes and a short list of proper nouns (tests/pseudo.py).

A word found outside is a leak: written inline in the code, or a library's own (Textual's,
Click's) not yet routed through the catalogue. Each is reported with where it was seen and
the line it was on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from textual.pilot import Pilot
from textual.widgets import Input

from dxfield import i18n
from dxfield.demo.service import prepare_demo
from dxfield.paths import documents_dir
from dxfield.store import records
from dxfield.store.activities import list_activities
from dxfield.store.engine import Store
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli, add_activity_args
from tests.pseudo import ALLOWED, Data, Leak, PseudoTranslations, Reader, report, screen_lines
from tests.tui.test_app import SIZE, settle


class Leaks(AssertionError):
    """Words outside the wrappers (a walk that misses a screen fails otherwise)."""


@pytest.fixture
def pseudo() -> Iterator[PseudoTranslations]:
    """The pseudo-locale, with the interface's language English (how the code picks words)."""
    i18n.set_language("en")
    translations = PseudoTranslations()
    with i18n.forced_catalogue(translations):
        yield translations


def check(leaks: list[Leak]) -> None:
    if leaks:
        raise Leaks(f"{len(leaks)} words outside the catalogue:\n{report(leaks)}")


# -- the reader itself --------------------------------------------------------------------------


def test_the_pseudo_locale_wraps_every_kind_of_lookup() -> None:
    with i18n.forced_catalogue(PseudoTranslations()):
        assert i18n._("Saved") == "⟦Saved⟧"
        assert i18n.ngettext("{count} activity", "{count} activities", 2) == "⟦{count} activities⟧"
        assert i18n.pgettext("stage", "Dialogue") == "⟦Dialogue⟧"
    assert i18n._("Saved") == "Saved"  # and only inside the block


@pytest.mark.parametrize(
    ("line", "outside"),
    [
        ("⟦Saved⟧ 豊岡市 ⟦{n} of ⟦all⟧⟧ x", " 豊岡市  x"),  # nested: a message in a message
        ("│ ⟦Every activity, newest fi… │ Leak", "│ … │ Leak"),  # cut short
        ("│ ⟦A message that wraps      │ Leak", "│       │ Leak"),  # wrapped at its column's end
        ("│ on the next line⟧ Leak   │", "│ Leak   │"),  # the wrapped message's end
    ],
)
def test_the_reader_finds_the_text_outside_the_wrappers(line: str, outside: str) -> None:
    from tests.pseudo import outside_wrappers

    assert outside_wrappers(line) == outside


def test_the_reader_excuses_data_keys_codes_and_the_allowed_only() -> None:
    data = Data()
    data.add('{"title": "奥矢根区 意見交換会", "kind": "workshop"}', "Trust through dialogue")
    reader = Reader(data)
    text = "\n".join(
        [
            "奥矢根区 意見交 ⟦Saved⟧ workshop 2024-07-17 0190aaaa-0000-7000 ^s esc Enter dxfield",
            "2. Trust through dial… ██ 2",  # data cut short
            "Leak ⟦ok⟧ 未翻訳",
        ]
    )
    # a code stored (`workshop`) is not data: shown, its label was not looked up
    assert [leak.word for leak in reader.leaks("here", text)] == ["workshop", "Leak", "未翻訳"]
    assert report(reader.leaks("here", text)).splitlines()[0] == "== here"
    assert len(ALLOWED) <= 30


def test_the_reader_follows_a_message_over_its_wrapped_lines_only() -> None:
    """Help wrapped at spaces (click's): a message goes on while the lines are indented to
    where it began; the next entry of a list, or a blank line, ends it."""
    text = "\n".join(
        [
            "  import-table    ⟦Bring activities in from a CSV shaped as",
            "                  export-table writes it: all or none.",  # cut: no ⟧
            "  report          Leak ⟦Write the report, shaped like its",
            "                  own document.⟧ Leak",
            "  ⟦A paragraph that goes on",
            "  and on to its end.⟧",
            "",
            "  Leak",
        ]
    )
    reader = Reader(Data())
    assert [leak.word for leak in reader.leaks("here", text, wrapped=True)] == [
        "import", "table", "report", "Leak", "Leak", "Leak"  # the verbs: no `clean` here
    ]  # fmt: skip


def test_the_reader_follows_a_message_over_three_lines_and_behind_a_dialog() -> None:
    reader = Reader(Data(), messages=["Representative provider"])
    wrapped = "\n".join(
        [
            "▏    → ⟦Move cursor right or",
            "▏      accept the completion",  # neither bracket: the message's middle
            "▏      suggestion⟧",
            "▏      Leak",  # below the message's end: a leak
        ]
    )
    assert [leak.word for leak in reader.leaks("here", wrapped)] == ["Leak"]
    unclosed = "▏    → ⟦Move cursor right or\n▏      accept the completion"
    assert [leak.word for leak in reader.leaks("here", unclosed)] == ["accept", "the", "completion"]
    # a word a dialog's edge cuts: a message's start if a message given begins a word so
    behind = "│ provid█ ⟦Keys⟧ █\n│ Leak█"
    assert [leak.word for leak in reader.leaks("here", behind)] == ["Leak"]


# -- the app ------------------------------------------------------------------------------------


@pytest.fixture
def walked_store(tmp_path: Path) -> Path:
    """The demo store, with what makes every screen show something: a trusted device (the
    prefecture's), a record in conflict, a deleted record, an activity with an earlier version."""
    demo, hub = tmp_path / "demo", tmp_path / "hub"
    prepare_demo(demo)
    with Store.open(hub, device_name="兵庫県"):
        pass
    # The demo's records are the same in every demo store and no bundle carries them: the
    # prefecture's store holds them too, so both can edit the same activity.
    prepare_demo(hub)
    with Store.open(demo) as first, Store.open(hub) as second:
        trust_card(first, parse_card(card_text(own_card(second))))
        trust_card(second, parse_card(card_text(own_card(first))))
        rows = list_activities(first, limit=3)
        export_bundle(first, tmp_path / "1.dxb", "兵庫県", full=True)
        import_bundle(second, tmp_path / "1.dxb")
        records.edit(first, "activity", rows[0].id, {"title": "豊岡の題"})
        records.edit(second, "activity", rows[0].id, {"title": "県の題"})
        export_bundle(second, tmp_path / "2.dxb", first.device.name)
        import_bundle(first, tmp_path / "2.dxb")
        records.edit(first, "activity", rows[1].id, {"title": "書き換えた題"})
        records.delete(first, "activity", rows[2].id)
    return demo


def store_data(folder: Path, *others: Path) -> Data:
    data = Data()
    for path in (folder, *others):
        with Store.open(path) as store:
            data.add_store(store.path)
            data.add_path(store.path)
            data.add_name(store.device.name)
    return data


class Walk:
    """One run of the app, visiting each screen in turn and keeping what each showed."""

    def __init__(self, app: Any, pilot: Pilot[None]) -> None:
        self.app, self.pilot = app, pilot
        self.seen: dict[str, str] = {}

    async def keys(self, *keys: str) -> None:
        for key in keys:
            await self.pilot.press(key)
            await settle(self.app, self.pilot)

    async def look(self, name: str, screen: type | None = None, *, rounds: int = 3) -> None:
        """Keep the screen's text as `name` (checking it is the screen the walk meant)."""
        if screen is not None:
            assert isinstance(self.app.screen, screen), (name, self.app.screen)
        for _ in range(rounds):  # tables paint a little after their workers end
            await self.pilot.pause(0.05)
        self.seen[name] = "\n".join(screen_lines(self.app.export_screenshot()))


TYPED = "zzqx"  # in the palette: matches no command


async def walk_every_screen(app: Any, pilot: Pilot[None]) -> dict[str, str]:
    from textual.command import CommandList, CommandPalette

    from dxfield.tui.commands import palette_entries
    from dxfield.tui.screens.activity_form import ActivityFormScreen
    from dxfield.tui.screens.activity_view import ActivityViewScreen
    from dxfield.tui.screens.confirm import ConfirmScreen
    from dxfield.tui.screens.dashboard import DashboardScreen
    from dxfield.tui.screens.deleted import DeletedScreen
    from dxfield.tui.screens.followups import ActionFormScreen, ActionsScreen, FindingsScreen
    from dxfield.tui.screens.help import HelpScreen
    from dxfield.tui.screens.log import LogScreen
    from dxfield.tui.screens.report import ReportScreen
    from dxfield.tui.screens.stage_model_form import StageModelFormScreen
    from dxfield.tui.screens.sync import ConflictsScreen, SyncScreen
    from dxfield.tui.screens.track_form import TrackFormScreen
    from dxfield.tui.screens.track_move import MoveScreen
    from dxfield.tui.screens.track_timeline import TimelineScreen
    from dxfield.tui.screens.tracks import TracksScreen
    from dxfield.tui.screens.version_picker import VersionPickerScreen

    walk = Walk(app, pilot)
    await settle(app, pilot)
    await walk.look("dashboard", DashboardScreen)

    await walk.keys("ctrl+p")
    commands = app.screen.query_one(CommandList)
    for _ in range(40):  # the palette lists its commands a little after it opens
        if commands.option_count >= len(palette_entries()):
            break
        await pilot.pause(0.05)
    await walk.look("palette", CommandPalette)
    await pilot.press(*TYPED)
    await pilot.pause(0.8)  # the palette says it found nothing after half a second
    await walk.look("palette, no matches", CommandPalette)
    await walk.keys("escape")
    if isinstance(app.screen, CommandPalette):
        await walk.keys("escape")

    await walk.keys("question_mark")
    await walk.look("help", HelpScreen)
    await walk.keys("escape")

    await walk.keys("l")
    await walk.look("log", LogScreen)
    await walk.keys("f")  # the filters: open the first drop-down
    await walk.keys("enter")
    await walk.look("log, a drop-down open", LogScreen)
    await walk.keys("escape", "escape")
    app.screen.query_one("#date-from", Input).value = "2024-13-99"
    await walk.keys("r")
    await walk.look("log, a bad filter date", LogScreen)
    app.screen.query_one("#date-from", Input).value = ""
    app.screen.query_one("#search", Input).focus()
    app.action_show_help_panel()  # Textual's key panel: the focused widget's keys too
    await settle(app, pilot)
    await walk.look("log, the key panel", LogScreen)
    app.action_hide_help_panel()
    app.screen.query_one("#activities").focus()
    app.action_change_theme()  # Textual's theme picker
    await settle(app, pilot)
    await walk.look("theme picker", CommandPalette)
    await walk.keys("escape")

    await walk.keys("D")
    await walk.look("deleted records", DeletedScreen)
    await walk.keys("r")
    await walk.look("deleted records, restore?", ConfirmScreen)
    await walk.keys("y")
    await walk.look("deleted records, restored (a notification)", DeletedScreen)
    await walk.keys("escape")

    await walk.keys("n")
    await walk.look("activity form (new)", ActivityFormScreen)
    form = app.screen
    form.query_one("#date", Input).value = "2024-02-30"
    await walk.keys("ctrl+s")
    await walk.look("activity form, errors", ActivityFormScreen)
    await walk.keys("escape")
    await walk.look("activity form, discard?", ConfirmScreen)
    await walk.keys("y")

    await walk.keys("l")
    assert isinstance(app.screen, LogScreen)
    with Store.open(app.data_dir) as store:
        edited = next(r.id for r in list_activities(store, limit=5) if r.title == "書き換えた題")
    app.open_activity(edited)
    await settle(app, pilot)
    await walk.look("activity view", ActivityViewScreen)
    await walk.keys("v")
    await walk.look("earlier versions", VersionPickerScreen)
    await walk.keys("escape", "d")
    await walk.look("activity view, delete?", ConfirmScreen)
    await walk.keys("n", "e")
    await walk.look("activity form (edit)", ActivityFormScreen)
    await walk.keys("escape", "escape")

    await walk.keys("t")
    await walk.look("tracks", TracksScreen)
    await walk.keys("right_square_bracket")
    await walk.look("track, move forward", MoveScreen)
    await walk.keys("escape", "enter")
    await walk.look("track timeline", TimelineScreen)
    await walk.keys("escape", "c")
    await walk.look("track form", TrackFormScreen)
    await walk.keys("escape", "plus")
    await walk.look("stage model form", StageModelFormScreen)
    await walk.keys("escape")

    await walk.keys("a")
    await walk.look("actions", ActionsScreen)
    await walk.keys("c")
    await walk.look("action form", ActionFormScreen)
    await walk.keys("escape", "i")
    await walk.look("findings", FindingsScreen)

    await walk.keys("s")
    await walk.look("sync", SyncScreen)
    await walk.keys("k")
    await walk.look("conflicts", ConflictsScreen)
    await walk.keys("escape", "p")
    await walk.look("report", ReportScreen, rounds=8)
    return walk.seen


@pytest.mark.usefixtures("frozen_today")
async def test_every_screen_says_only_catalogued_words(
    walked_store: Path, tmp_path: Path, pseudo: PseudoTranslations
) -> None:
    from dxfield.tui.app import DxfieldApp

    app = DxfieldApp(walked_store)
    async with app.run_test(size=SIZE) as pilot:
        seen = await walk_every_screen(app, pilot)
    data = store_data(walked_store, tmp_path / "hub")
    themes = {part for name in app.available_themes for part in re.split(r"[-_ ]", name)}
    # a theme's name is a proper noun; what the catalogue gave judges words a dialog cuts off
    # the documents folder's name is the system's (platformdirs), shown as the report's default
    folder = documents_dir().parts
    reader = Reader(data, extra=[TYPED, *themes, *folder], messages=pseudo.given)
    check([leak for name, text in seen.items() for leak in reader.leaks(name, text)])


# -- the command line ---------------------------------------------------------------------------


def command_paths() -> list[tuple[str, ...]]:
    """Every verb and group of the CLI (as `dxfield.cli.help_messages` walks them), the root first."""
    from dxfield.cli import app

    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        if hasattr(command, "list_commands"):  # a group (typer vendors click: match by shape)
            context = typer.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


# Bad inputs and what each shows: Click's own usage errors, and the core's errors as rendered.
BAD_INPUTS: dict[str, tuple[str, ...]] = {
    "unknown verb": ("frobnicate",),
    "unknown option": ("activity", "list", "--frobnicate"),
    "missing argument": ("history",),
    "missing option": ("export", "--to", "x.dxb"),
    "not a number": ("search", "x", "--limit", "many"),
    "bad language": ("--lang", "fr", "check"),
    "a field left out": ("activity", "add", "--title", "x"),
    "bad date": add_activity_args(date="2024-02-30"),
    "missing record": ("history", "0190aaaa-0000-7000-8000-000000000000"),
    "group without verb": ("activity",),
}

FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


class Invocation:
    """Takes out of a line of the CLI's output what a person types rather than reads: option
    flags (`--data-dir`), and a verb where it is named as one (first on a line of a command
    listing, or after `dxfield` in a usage line)."""

    def __init__(self) -> None:
        self.verbs = {name for path in command_paths() for name in path}

    def __call__(self, line: str) -> str:
        line = FLAG.sub(" ", line)
        words = line.split()
        if words and words[0] in self.verbs and line.startswith("  "):
            line = line.replace(words[0], " ", 1)
        if "dxfield" in line:
            head, _, tail = line.partition("dxfield")
            rest = tail.split()
            while rest and rest[0] in self.verbs:
                rest.pop(0)
            line = f"{head} {' '.join(rest)}"
        return line


def cli_data(data_dir: Path, *typed: str) -> Data:
    data = Data()
    data.add_path(data_dir)
    data.add_name(*typed)  # what the person typed may be quoted back
    return data


@pytest.mark.usefixtures("pseudo")
def test_every_verb_s_help_says_only_catalogued_words(cli: Cli, data_dir: Path) -> None:
    reader = Reader(cli_data(data_dir))
    clean = Invocation()
    leaks: list[Leak] = []
    paths = command_paths()
    assert len(paths) > 30  # the walk found the verbs
    for path in paths:
        result = cli(*path, "--help")
        where = " ".join(("dxfield", *path, "--help"))
        assert result.code == 0, (where, result.err)
        leaks += reader.leaks(where, result.out + result.err, clean, wrapped=True)
    check(leaks)


@pytest.mark.usefixtures("pseudo")
def test_the_cli_s_errors_say_only_catalogued_words(cli: Cli, data_dir: Path) -> None:
    clean = Invocation()
    leaks: list[Leak] = []
    for name, args in BAD_INPUTS.items():
        result = cli(*args)
        where = f"{name}: dxfield {' '.join(args)}"
        assert result.code != 0, (where, result.out)
        assert result.err.strip(), where  # it says what went wrong
        reader = Reader(cli_data(data_dir, *args))
        leaks += reader.leaks(where, result.out + result.err, clean, wrapped=True)
    check(leaks)
