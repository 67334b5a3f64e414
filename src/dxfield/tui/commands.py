"""Every action of the app in the command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from dxfield.tui.text import t


def palette_entries() -> list[tuple[str, str, str]]:
    """(label, help, action name on the app) for every command."""
    return [
        (
            t("活動を記録", "Log an activity"),
            t("新しい活動の入力フォーム (n)", "New activity form (n)"),
            "new_activity",
        ),
        (
            t("ダッシュボード", "Dashboard"),
            t("市町村と取組の一覧 (h)", "Municipalities and initiatives (h)"),
            "dashboard",
        ),
        (
            t("活動ログ", "Activity log"),
            t("すべての活動、新しい順 (l)", "Every activity, newest first (l)"),
            "log",
        ),
        (t("ヘルプ", "Help"), t("すべてのキー (?)", "Every key (?)"), "help"),
        (t("終了", "Quit"), t("アプリを閉じる (ctrl+q)", "Close the app (ctrl+q)"), "quit"),
    ]


class DxfieldCommands(Provider):
    """The app's own commands, next to Textual's (theme, keys, screenshot...)."""

    def _runner(self, action: str) -> Callable[[], object]:
        return partial(self.app.run_action, action)

    async def discover(self) -> Hits:
        for label, help_text, action in palette_entries():
            yield DiscoveryHit(label, self._runner(action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, action in palette_entries():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), self._runner(action), help=help_text)
