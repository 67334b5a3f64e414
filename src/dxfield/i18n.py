"""The user's language, and the message catalogue every word dxfield says comes from.

Japanese under a Japanese locale (LC_ALL, LC_MESSAGES or LANG starting with "ja"), English
otherwise; `DXFIELD_LANG`, the saved setting (`dxfield config set lang`) or the `--lang` option
override. Data is never translated, only the words around it.

Messages are written in English in the code (`_("Saved")`, `ngettext(...)`, `N_(...)` for a
message looked up later) and translated by the standard library's gettext from the catalogues
in `dxfield/locale/<lang>/LC_MESSAGES/dxfield.mo`, compiled from the `.po` beside them (kept in
the repository; `scripts/catalog.py` extracts, updates and compiles them with Babel, a
development tool only). A catalogue is read once, the first time its language is asked for.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import os
from collections.abc import Iterator
from pathlib import Path

from dxfield.domain.visible import visible

SUPPORTED = ("ja", "en")
_override: str | None = None
_saved: str | None = None


def set_language(lang: str | None) -> None:
    """Force the language for this process (the `--lang` option); None goes back to the locale."""
    global _override
    if lang is not None and lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; choose one of: {', '.join(SUPPORTED)}")
    _override = lang


def set_saved_language(lang: str | None) -> None:
    """The language saved with `dxfield config set lang` (`dxfield.settings`; the front end
    reads it at start): it comes after `--lang` and `DXFIELD_LANG`, before the locale."""
    global _saved
    _saved = lang if lang in SUPPORTED else None


def current_language() -> str:
    """ "ja" or "en", from the override, `DXFIELD_LANG`, the saved setting, then the locale
    variables."""
    if _override:
        return _override
    explicit = os.environ.get("DXFIELD_LANG", "")
    if explicit in SUPPORTED:
        return explicit
    if _saved:
        return _saved
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    # Windows sets none of those: ask the platform (e.g. "Japanese_Japan" or "ja_JP").
    import locale

    name = locale.getlocale()[0] or ""
    return "ja" if name.lower().startswith(("ja", "japanese")) else "en"


LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "dxfield"
_catalogues: dict[str, _gettext.NullTranslations] = {}
_forced: _gettext.NullTranslations | None = None


def catalogue(lang: str | None = None) -> _gettext.NullTranslations:
    """The translations of `lang` (default: the user's language), read once and kept."""
    if _forced is not None:
        return _forced
    lang = lang or current_language()
    found = _catalogues.get(lang)
    if found is None:
        found = _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
        _catalogues[lang] = found
    return found


@contextlib.contextmanager
def forced_catalogue(translations: _gettext.NullTranslations) -> Iterator[None]:
    """Use `translations` for every message in this block (tests: a pseudo-locale)."""
    global _forced
    before, _forced = _forced, translations
    try:
        yield
    finally:
        _forced = before


def gettext(message: str, lang: str | None = None) -> str:
    """`message` (English, as written in the code) in `lang` or the user's language."""
    return catalogue(lang).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, count: int, lang: str | None = None) -> str:
    """The form of a message that fits `count` (Japanese has one form, English two)."""
    return catalogue(lang).ngettext(singular, plural, count)


def pgettext(context: str, message: str, lang: str | None = None) -> str:
    """`message` as meant in `context` (the same English word may need two translations)."""
    return catalogue(lang).pgettext(context, message)


def N_(message: str) -> str:
    """Marks `message` for the catalogue without translating it (it is looked up later)."""
    return message


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


_PROBLEMS: dict[str, str] = {}


def problems(messages: dict[str, str]) -> dict[str, str]:
    """Register error codes with their messages (English, `{placeholders}` for the values;
    the catalogue translates them). Each module lists the codes it raises once, at import:

        PROBLEMS = problems({"date.unreadable": N_("not a date: {value}")})

    A code may be registered only once, anywhere (`registered_problems()` lists them all)."""
    for code, message in messages.items():
        if _PROBLEMS.get(code, message) != message:
            raise ValueError(f"error code {code!r} registered twice with different messages")
        _PROBLEMS[code] = message
    return messages


def registered_problems() -> dict[str, str]:
    """Every error code registered so far, with its message (English, as in the code)."""
    return dict(_PROBLEMS)


class LocalizedError(ValueError):
    """An error the core raises for a person to read: a code (what went wrong), the field it
    concerns and the values it quotes. The core never words it for a front end; `message()`
    renders it from the catalogue in the user's language, prefixed by the field's name.

    `LocalizedError("date.unreadable", field="date", value=quote(text))`; `en` and `field` are
    not value names. (`LocalizedError(ja, en, field)` is the older form, while messages move.)
    """

    def __init__(
        self,
        code: str,
        en: str | None = None,
        field: str | None = None,
        **values: object,
    ) -> None:
        if en is not None:  # the older form, (ja, en, field): kept while messages move over
            self.code = ""
            self.ja, self.en = code, en
        else:
            if code not in _PROBLEMS:
                raise KeyError(f"unregistered error code {code!r}")
            self.code = code
            self.ja = self.en = ""
        self.field = field
        self.values = values
        super().__init__(self.code or self.en)

    def text(self, lang: str | None = None) -> str:
        """The message alone, without the field's name."""
        lang = lang or current_language()
        if not self.code:
            return self.ja if lang == "ja" else self.en
        return gettext(_PROBLEMS[self.code], lang).format(**self.values)

    def message(self, lang: str | None = None) -> str:
        """The message in `lang` (default: the user's language), prefixed by the field's name."""
        lang = lang or current_language()
        text = self.text(lang)
        if self.field:
            return f"{field_label(self.field, lang)}: {text}"
        return text

    def about(self, field: str) -> LocalizedError:
        """The same error, now concerning `field`."""
        if not self.code:
            return type(self)(self.ja, self.en, field)
        again = type(self).__new__(type(self))
        again.__dict__.update(self.__dict__)
        again.field = field
        ValueError.__init__(again, self.code)
        return again

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
        raise exc.about(field) from None
