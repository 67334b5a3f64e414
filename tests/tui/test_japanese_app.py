"""The app under a Japanese locale: the palette found by Japanese words, Textual's own words
(system commands, the palette's prompt, an open drop-down's key) in Japanese, and every key
described from the catalogue."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.command import Command, CommandInput, CommandList, CommandPalette
from textual.widgets import Select

from dxfield.i18n import catalogue, set_language
from dxfield.tui.app import DxfieldApp
from dxfield.tui.screens.followups import ActionsScreen, FindingsScreen
from dxfield.tui.screens.log import LogScreen
from dxfield.tui.screens.report import ReportScreen
from dxfield.tui.screens.sync import SyncScreen
from dxfield.tui.widgets.key_bar import KeyBar
from tests.tui.test_app import SIZE, settle


@pytest.fixture(autouse=True)
def japanese() -> Iterator[None]:
    set_language("ja")
    yield
    set_language(None)


async def palette_hits(app: DxfieldApp, pilot, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Open the palette, type `query` and return the labels it lists once it has settled."""
    await pilot.press("ctrl+p")
    await settle(app, pilot)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    return await listed(app, pilot, query)


async def listed(app: DxfieldApp, pilot, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The labels an open palette (or theme picker) lists once it has searched for `query`."""
    labels: list[str] = []
    for _ in range(40):  # the palette searches in the background, then waits a little
        await asyncio.sleep(0.05)
        await pilot.pause()
        found = app.screen.query_one(CommandList)
        labels = [
            str(option.hit.text)
            for option in (found.get_option_at_index(i) for i in range(found.option_count))
            if isinstance(option, Command)
        ]
        if labels and app.screen.query_one(CommandInput).value == query:
            break
    return labels


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize(
    ("query", "label", "screen"),
    [
        ("同期", "同期", SyncScreen),
        ("報告", "報告書", ReportScreen),
        ("書き出", "同期", SyncScreen),  # its help says 同期ファイルの書き出しと取り込み
        ("sync", "同期", SyncScreen),  # the English name finds it under Japanese too
        ("知見", "知見", FindingsScreen),
        ("今後", "今後の取組", ActionsScreen),
    ],
)
async def test_the_palette_finds_a_command_by_a_japanese_word(
    demo: Path, query: str, label: str, screen: type
) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        labels = await palette_hits(app, pilot, query)
        assert label in labels, labels
        for _ in range(labels.index(label)):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, screen)


@pytest.mark.usefixtures("frozen_today")
async def test_textuals_own_words_are_japanese(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        prompt = app.screen.query_one(CommandInput).placeholder
        assert prompt.startswith("コマンドを検索"), prompt
        await pilot.press("escape")
        await settle(app, pilot)
        labels = await palette_hits(app, pilot, "配色")
        assert "配色" in labels  # Textual's "Theme"
        await pilot.press("escape")
        await settle(app, pilot)
        for english in ("Keys", "Maximize", "Screenshot", "Theme", "Quit"):
            assert english not in await palette_hits(app, pilot, english.lower())
            await pilot.press("escape")
            await settle(app, pilot)
        # Nothing matches: said in Japanese, not Textual's "No matches found".
        assert await palette_hits(app, pilot, "zzqx") == ["一致するコマンドはありません"]


@pytest.mark.usefixtures("frozen_today")
async def test_an_open_drop_down_says_its_key_in_japanese(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        assert isinstance(app.screen, LogScreen)
        app.screen.query(Select).first().focus()
        await pilot.press("enter")  # opens the list (Textual's SelectOverlay)
        await settle(app, pilot)
        line = app.screen.query_one(KeyBar).render().plain
        assert "選択肢を閉じる" in line and "Dismiss" not in line, line


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("key", ["h", "l", "t", "a", "i", "s", "p", "n"])
async def test_every_key_shown_is_described_from_the_catalogue(demo: Path, key: str) -> None:
    """Each key the bar shows has its description in the Japanese catalogue (an English
    description left out of it would show in English)."""
    japanese = catalogue("ja")
    app = DxfieldApp(demo)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await settle(app, pilot)
        shown = [
            active.binding
            for active in app.screen.active_bindings.values()
            if active.binding.show and active.binding.description
        ]
        assert shown
        for binding in shown:
            words = japanese.gettext(binding.description)
            assert words != binding.description, binding
        line = app.screen.query_one(KeyBar).render().plain
        assert "コマンド" in line  # the palette's key


@pytest.mark.usefixtures("frozen_today")
async def test_actions_and_findings_speak_japanese(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ActionsScreen)
        summary = str(app.screen.query_one("#actions-summary").render())
        assert "期限超過" in summary and "件" in summary, summary
        assert "今後の取組" in app.screen.query_one(KeyBar).render().plain
        await pilot.press("i")
        await settle(app, pilot)
        assert isinstance(app.screen, FindingsScreen)
        assert str(app.screen.query_one("#findings-summary").render()).startswith("知見 ")


@pytest.mark.usefixtures("frozen_today")
async def test_the_theme_picker_asks_in_japanese(demo: Path) -> None:
    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.search_themes()  # what the palette's 配色 runs
        await settle(app, pilot)
        assert app.screen.query_one(CommandInput).placeholder == "配色を検索…"
        await pilot.press(*"zzqx")
        assert await listed(app, pilot, "zzqx") == ["一致する配色はありません"]


@pytest.mark.usefixtures("frozen_today")
async def test_the_key_panel_and_ctrl_c_speak_japanese(demo: Path) -> None:
    """Textual's key panel describes the focused Input's keys from the catalogue, and ctrl+c
    (Textual's reminder of how to quit) says it in Japanese."""
    from textual.widgets import Input

    from tests.pseudo import screen_lines

    app = DxfieldApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        app.screen.query_one("#search", Input).focus()
        app.action_show_help_panel()
        await settle(app, pilot)
        panel = "\n".join(screen_lines(app.export_screenshot()))
        app.action_hide_help_panel()
        app.action_help_quit()  # what ctrl+c does where nothing is selected to copy
        await settle(app, pilot)
        said = [(n.title, n.message) for n in app._notifications]
    for words in ("入力欄", "カーソルを左へ", "すべて選択", "上へスクロール"):
        assert words in panel, words
    for english in ("Move cursor", "Select all", "Scroll Up"):
        assert english not in panel, english
    assert ("終了しますか?", "終了するには ctrl+q を押してください") in said, said
