"""The user's language, and the few words dxfield says in both Japanese and English.

Japanese under a Japanese locale (LC_ALL, LC_MESSAGES or LANG starting with "ja"), English
otherwise; `DXFIELD_LANG` or the `--lang` option overrides. Data is never translated, only the
words around it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from dxfield.domain.visible import visible

SUPPORTED = ("ja", "en")
_override: str | None = None


def set_language(lang: str | None) -> None:
    """Force the language for this process (the `--lang` option); None goes back to the locale."""
    global _override
    if lang is not None and lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; choose one of: {', '.join(SUPPORTED)}")
    _override = lang


def current_language() -> str:
    """ "ja" or "en", from the override, `DXFIELD_LANG`, then the locale variables."""
    if _override:
        return _override
    explicit = os.environ.get("DXFIELD_LANG", "")
    if explicit in SUPPORTED:
        return explicit
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    # Windows sets none of those: ask the platform (e.g. "Japanese_Japan" or "ja_JP").
    import locale

    name = locale.getlocale()[0] or ""
    return "ja" if name.lower().startswith(("ja", "japanese")) else "en"


# Field names as users see them. Keys are the model field names.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "title": ("タイトル", "title"),
    "date": ("日付", "date"),
    "kind": ("種別", "kind"),
    "municipality": ("市町村", "municipality"),
    "municipality_id": ("市町村", "municipality"),
    "initiative": ("取組", "initiative"),
    "initiative_id": ("取組", "initiative"),
    "code": ("団体コード", "code"),
    "name": ("名称", "name"),
    "kana": ("よみがな", "kana"),
    "parent": ("上位団体", "parent"),
    "parent_id": ("上位団体", "parent"),
    "areas": ("支援区分", "area"),
    "area": ("支援区分", "area"),
    "notes": ("メモ", "notes"),
    "location": ("場所", "location"),
    "text": ("本文", "text"),
    "due": ("期限", "due"),
    "as_of": ("時点", "as-of date"),
    "status": ("状況", "status"),
    "owner": ("担当", "owner"),
    "head_count": ("人数", "head count"),
    "start_time": ("開始時刻", "start time"),
    "end_time": ("終了時刻", "end time"),
    "activity_id": ("活動", "activity"),
    "fiscal_year": ("年度", "fiscal year"),
    "theme": ("テーマ", "theme"),
    "device_name": ("端末名", "device name"),
    "participants": ("参加", "participants"),
    "tags": ("タグ", "tags"),
    "date_precision": ("日付の精度", "date precision"),
    "follow_up": ("フォローアップ", "follow-up"),
    "community": ("コミュニティ", "community"),
    "model": ("段階モデル", "stage model"),
    "stage": ("段階", "stage"),
    "stages": ("段階", "stages"),
    "key": ("キー", "key"),
    "evidence": ("根拠の活動", "evidence"),
    "track": ("トラック", "track"),
    "note": ("メモ", "note"),
    "overview": ("概要", "overview"),
    "out": ("出力先", "output file"),
    "format": ("形式", "format"),
    "providers": ("伴走支援事業者", "providers"),
    "model_id": ("段階モデル", "stage model"),
    "community_id": ("コミュニティ", "community"),
    "track_id": ("トラック", "track"),
    "evidence_ids": ("根拠の活動", "evidence"),
    "owner_id": ("添付先", "attached to"),
    "entity_id": ("レコードID", "record id"),
    "rev_id": ("版ID", "version id"),
    "device_id": ("端末ID", "device id"),
    "hlc": ("時刻印", "clock stamp"),
    "generation": ("世代", "generation"),
    "parents": ("親の版", "parent versions"),
    "created_at": ("作成日時", "creation time"),
    "deleted": ("削除", "deleted"),
    "entity": ("種類", "kind"),
    "data": ("内容", "content"),
}


def field_label(field: str, lang: str | None = None) -> str:
    """The user-facing name of a model field, keeping the key visible: `日付(date)` or `date`."""
    lang = lang or current_language()
    ja, en = FIELD_LABELS.get(field, (field, field))
    return f"{ja}({field})" if lang == "ja" else en


class LocalizedError(ValueError):
    """An error whose message exists in Japanese and English; `str()` gives the current language."""

    def __init__(self, ja: str, en: str, field: str | None = None) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en
        self.field = field

    def message(self, lang: str | None = None) -> str:
        """The message in `lang` (default: the user's language), prefixed by the field's label."""
        lang = lang or current_language()
        text = self.ja if lang == "ja" else self.en
        if self.field:
            sep = ": "
            return f"{field_label(self.field, lang)}{sep}{text}"
        return text

    def __str__(self) -> str:
        return self.message()


def quote(value: object, limit: int = 40) -> str:
    """What a user typed (or a file or a bundle held), in quotes, cut short so an error stays one
    readable line; its control characters shown (`<ESC>`), so that the message, wherever it is
    printed, cannot drive the terminal."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"'{visible(text)}'"


@contextlib.contextmanager
def about(field: str) -> Iterator[None]:
    """Errors raised inside this block concern `field`: re-raised naming it, unless they name one."""
    try:
        yield
    except LocalizedError as exc:
        if exc.field:
            raise
        raise type(exc)(exc.ja, exc.en, field) from None
