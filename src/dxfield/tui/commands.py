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
        (
            t("トラック", "Tracks"),
            t("コミュニティごとの合意形成の段階 (t)", "Each community's consensus stage (t)"),
            "tracks",
        ),
        (
            t("取組方針", "Actions"),
            t("今後の取組方針、期限順 (a)", "Next steps, due soonest first (a)"),
            "actions",
        ),
        (
            t("知見", "Findings"),
            t("成果・示唆・要因・課題 (i)", "Outcomes, insights, factors, issues (i)"),
            "findings",
        ),
        (
            t("同期", "Sync"),
            t("バンドルの書き出しと取り込み (s)", "Export and import bundles (s)"),
            "sync",
        ),
        (
            t("報告書", "Report"),
            t("県の報告書をプレビューして書き出す (p)", "Preview and write the report (p)"),
            "report",
        ),
        (
            t("競合", "Conflicts"),
            t("二台で同時に変わった記録", "Records changed on two devices at once"),
            "conflicts",
        ),
        (
            t("削除した記録", "Deleted records"),
            t("削除した記録を元に戻す (ログで D)", "Bring a deleted record back (D in the log)"),
            "deleted",
        ),
        (t("ヘルプ", "Help"), t("すべてのキー (?)", "Every key (?)"), "help"),
        (t("終了", "Quit"), t("アプリを閉じる (ctrl+q)", "Close the app (ctrl+q)"), "quit"),
    ]


class DxfieldCommands(Provider):
    """The app's own commands, next to Textual's (theme, keys, screenshot...): the global ones,
    and every key of the screen the palette was opened on (save, edit, delete, search...)."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (label, help_text, partial(self.app.run_action, action))
            for label, help_text, action in palette_entries()
        ]
        seen = {action for _label, _help, action in palette_entries()}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            # Only the app's own keys (they have ids), not widget internals like "Scroll Up".
            if binding.id is None or not binding.description or binding.action in seen:
                continue
            if not active.enabled:
                continue
            seen.add(binding.action)
            help_text = f"{binding.tooltip or binding.description} ({key})"
            commands.append(
                (
                    binding.description,
                    help_text,
                    partial(self.app.run_action, binding.action, active.node),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for label, help_text, run in self._commands():
            yield DiscoveryHit(label, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, run in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), run, help=help_text)
