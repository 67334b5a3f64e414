"""Words of the interface in the user's language, and data as it may be shown. Data is never
translated.

Text from the store (or quoting it) reaches the screen through `plain` (or `visible` where a
widget takes a str that it does not read as markup): its control characters shown escaped
(`<ESC>`, `<U+202E>`), and never read as Textual markup, which would style or hide a `[b]` in a
title, make a `[@click=...]` an action, or stop the app on a `[/]`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import BindingsMap

from dxfield.domain.visible import visible
from dxfield.i18n import LocalizedError, _, current_language

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.widget import Widget

# Key descriptions are written in English in BINDINGS (class attributes, evaluated at import,
# before the language may be known) and translated per instance by `localize_bindings`.
BINDING_JA: dict[str, str] = {
    "Actions": "取組方針",
    "Actions (今後の取組方針)": "今後の取組方針",
    "Activity log": "活動ログ",
    "Back": "戻る",
    "Bundles to and from other devices": "他の端末とのバンドル",
    "Conflicts": "競合",
    "Export": "書き出し",
    "Import": "取り込み",
    "Keep 1": "1を残す",
    "Keep 2": "2を残す",
    "Merge by hand": "手で統合",
    "Sync": "同期",
    "Clear search": "検索を消す",
    "Close": "閉じる",
    "Dashboard": "ダッシュボード",
    "Delete": "削除",
    "Deleted": "削除済み",
    "Deleted records": "削除した記録",
    "Restore": "元に戻す",
    "Earlier version": "以前の版",
    "Edit": "編集",
    "Engagement tracks": "合意形成のトラック",
    "Every key": "すべてのキー",
    "Filters": "絞り込み",
    "Findings": "知見",
    "Forward": "進める",
    "Model": "モデル",
    "New action": "追加",
    "New model": "モデル追加",
    "New track": "トラック追加",
    "Done": "完了",
    "Timeline": "経過",
    "Tracks": "トラック",
    "Help": "ヘルプ",
    "Home": "ホーム",
    "Log": "ログ",
    "Log an activity": "活動を記録する",
    "New": "新規",
    "No": "いいえ",
    "Open": "開く",
    "Open log": "ログを開く",
    "palette": "コマンド",
    "Quit": "終了",
    "Reload": "再読込",
    "Report": "報告書",
    "The prefecture's report": "県の報告書",
    "Write": "書き出す",
    "Save": "保存",
    "Search": "検索",
    "Yes": "はい",
}


def t(ja: str, en: str) -> str:
    """`ja` under a Japanese locale (or --lang ja), else `en`."""
    return ja if current_language() == "ja" else en


def plain(text: str, *, multiline: bool = False) -> Text:
    """Data (or a line holding data) for a widget: controls shown escaped, brackets as they are.

    `multiline` keeps newlines; otherwise everything shows on one line (a newline as `<LF>`).
    """
    return Text(visible(text, multiline=multiline))


def plain_options(options: list[tuple[str, str]]) -> list[tuple[Text, str]]:
    """(label, value) pairs for a Select or SelectionList, each label shown as `plain` shows it."""
    return [(plain(label), value) for label, value in options]


def error_text(error: BaseException) -> str:
    """One line for a failure: the localized message when there is one; controls shown escaped
    (a message may quote a value from a bundle). Not markup: show it with `plain` or
    `markup=False`."""
    if isinstance(error, LocalizedError):
        return visible(error.message())
    text = visible(str(error).strip(), multiline=True).splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def display_path(path: str) -> str:
    """A path as people read it: the home folder shortened to ~."""
    from pathlib import Path

    home = str(Path.home())
    return "~" + path[len(home) :] if home not in ("", "/") and path.startswith(home) else path


def localize_bindings(node: DOMNode) -> None:
    """Show `node`'s key descriptions in the user's language (call at the end of `__init__`).

    Textual has no public hook for per-instance binding descriptions, so this replaces the
    node's own copy of its bindings map (made from BINDINGS in DOMNode.__init__).
    """
    if current_language() != "ja":
        return
    bindings = node._bindings
    node._bindings = BindingsMap.from_keys(
        {
            key: [
                replace(
                    binding,
                    description=BINDING_JA.get(binding.description, binding.description),
                    tooltip=BINDING_JA.get(binding.tooltip, binding.tooltip),
                )
                for binding in key_bindings
            ]
            for key, key_bindings in bindings.key_to_bindings.items()
        }
    )


def notify_failure(node: Widget | App[Any], error: BaseException, *, timeout: float = 10) -> None:
    """The one way a failure reaches the user: a notification in their language."""
    node.notify(
        error_text(error),
        title=_("Error"),
        severity="error",
        timeout=timeout,
        markup=False,
    )
