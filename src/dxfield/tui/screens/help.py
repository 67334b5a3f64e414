"""Help: every key of the app."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from dxfield.tui.text import localize_bindings, t


def help_markdown() -> str:
    """The help text, in the user's language."""
    rows = [
        ("n", t("活動を記録(どの画面からでも)", "Log an activity (from anywhere)")),
        ("h", t("ダッシュボード(ホーム)", "Dashboard (home)")),
        ("l", t("活動ログ", "Activity log")),
        ("t", t("トラック(コミュニティごとの段階)", "Tracks (each community's stage)")),
        ("a", t("取組方針(期限順)", "Actions (due soonest first)")),
        ("i", t("知見", "Findings")),
        (
            "[ ]",
            t(
                "トラックを前/次の段階へ(ボードと経過)",
                "Move a track back / forward (board, timeline)",
            ),
        ),
        ("← → ↑ ↓", t("ボードのカードを移動", "Board: go from card to card")),
        ("m", t("ボードの段階モデルを選ぶ", "Board: choose the stage model")),
        ("+", t("ボード: 段階モデルを追加", "Board: define a stage model")),
        ("c", t("ボード: トラックを追加", "Board: follow another community")),
        ("x", t("取組方針を完了に", "Actions: mark done")),
        ("c", t("取組方針を追加", "Actions: add one")),
        ("s", t("同期(バンドルの書き出し・取り込み)", "Sync (export and import bundles)")),
        ("e / ctrl+o", t("同期: 書き出す / 取り込む", "Sync: export / import")),
        ("k", t("同期: 競合の画面へ", "Sync: go to the conflicts")),
        ("p", t("報告書(プレビューと書き出し)", "Report (preview and write)")),
        ("ctrl+s", t("報告書: Markdown と HTML を書き出す", "Report: write Markdown and HTML")),
        (
            "1 2 / m",
            t("競合: その版を残す / 手で統合", "Conflicts: keep that version / merge by hand"),
        ),
        ("/", t("ログで検索(語はすべて一致)", "Search the log (all terms must match)")),
        ("f", t("絞り込みへ(ログ、取組方針、知見)", "Go to the filters (log, actions, findings)")),
        ("r", t("再読込", "Reload")),
        ("↑ ↓ PgUp PgDn Home End", t("ログの移動", "Move in the log")),
        ("Enter", t("開く(活動、取組)", "Open (activity, initiative)")),
        ("e", t("活動を編集(活動の画面)", "Edit the activity (activity view)")),
        ("d", t("活動を削除(確認あり)", "Delete the activity (asks first)")),
        ("ctrl+s", t("フォームを保存", "Save the form")),
        ("escape", t("閉じる/戻る(変更があれば確認)", "Close / back (asks if there are changes)")),
        ("tab / shift+tab", t("次/前の項目", "Next / previous field")),
        ("ctrl+p", t("コマンドパレット(すべての操作)", "Command palette (every action)")),
        ("?", t("このヘルプ", "This help")),
        ("q / ctrl+q", t("終了(q は入力欄の外で)", "Quit (q outside text fields)")),
    ]
    header = t("| キー | 操作 |\n|---|---|", "| Key | Action |\n|---|---|")
    body = "\n".join(f"| `{key}` | {action} |" for key, action in rows)
    notes = t(
        "日付は 2024-07-17、2024/7/17、7/17、令和6年7月17日、R6.7.17 のどれでも入力できます。"
        "入力中のフォームは下書きとして自動保存され、次の起動時に復元できます。",
        "Dates may be typed 2024-07-17, 2024/7/17, 7/17, 令和6年7月17日 or R6.7.17. "
        "A form being typed is saved as a draft as you type and offered back at the next start.",
    )
    return f"# {t('キー操作', 'Keys')}\n\n{header}\n{body}\n\n{notes}\n"


class HelpScreen(ModalScreen[None]):
    """Every key, in a table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(help_markdown())
