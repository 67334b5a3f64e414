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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

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
SOURCE_LANGUAGE = "en"
"""The language the code's messages are written in. Its catalogue gives each message as it is
written (tests/test_catalogue.py holds it to that), so it is not read: reading its 1,600
entries cost every English command a twentieth of `dxfield --help`."""
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
        if lang == SOURCE_LANGUAGE:  # every message is itself (scripts/catalog.py writes so)
            found = _gettext.NullTranslations()
        else:
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


def _field_names(lang: str) -> dict[str, str]:
    """The user-facing name of each model field (keys are the model field names) in `lang`."""
    return {
        "title": pgettext("field", "title", lang),
        "date": pgettext("field", "date", lang),
        "kind": pgettext("field", "kind", lang),
        "municipality": pgettext("field", "municipality", lang),
        "municipality_id": pgettext("field", "municipality", lang),
        "initiative": pgettext("field", "initiative", lang),
        "initiative_id": pgettext("field", "initiative", lang),
        "code": pgettext("field", "local government code", lang),
        "name": pgettext("field", "name", lang),
        "kana": pgettext("field", "kana", lang),
        "parent": pgettext("field", "parent organization", lang),
        "parent_id": pgettext("field", "parent organization", lang),
        "areas": pgettext("field", "support area", lang),
        "area": pgettext("field", "support area", lang),
        "notes": pgettext("field", "notes", lang),
        "location": pgettext("field", "location", lang),
        "text": pgettext("field", "text", lang),
        "due": pgettext("field", "due date", lang),
        "as_of": pgettext("field", "as-of date", lang),
        "status": pgettext("field", "status", lang),
        "owner": pgettext("field", "owner", lang),
        "head_count": pgettext("field", "head count", lang),
        "start_time": pgettext("field", "start time", lang),
        "end_time": pgettext("field", "end time", lang),
        "activity_id": pgettext("field", "activity", lang),
        "fiscal_year": pgettext("field", "fiscal year", lang),
        "theme": pgettext("field", "theme", lang),
        "background": pgettext("field", "background", lang),
        "device_name": pgettext("field", "device name", lang),
        "participants": pgettext("field", "participants", lang),
        "tags": pgettext("field", "tags", lang),
        "date_precision": pgettext("field", "date precision", lang),
        "follow_up": pgettext("field", "follow-up", lang),
        "community": pgettext("field", "community", lang),
        "community_id": pgettext("field", "community", lang),
        "model": pgettext("field", "stage model", lang),
        "model_id": pgettext("field", "stage model", lang),
        "stage": pgettext("field", "stage", lang),
        "stages": pgettext("field", "stages", lang),
        "key": pgettext("field", "key", lang),
        "evidence": pgettext("field", "evidence", lang),
        "evidence_ids": pgettext("field", "evidence", lang),
        "track": pgettext("field", "engagement track", lang),
        "track_id": pgettext("field", "engagement track", lang),
        "note": pgettext("field", "note", lang),
        "overview": pgettext("field", "overview", lang),
        "out": pgettext("field", "output file", lang),
        "format": pgettext("field", "format", lang),
        "providers": pgettext("field", "support providers", lang),
        "owner_id": pgettext("field", "attached to", lang),
        "reason": pgettext("field", "reason", lang),
        "id": pgettext("field", "id", lang),
        "entity_id": pgettext("field", "record id", lang),
        "rev_id": pgettext("field", "version", lang),
        "device_id": pgettext("field", "device", lang),
        "hlc": pgettext("field", "clock stamp", lang),
        "generation": pgettext("field", "generation", lang),
        "parents": pgettext("field", "previous versions", lang),
        "created_at": pgettext("field", "creation time", lang),
        "deleted": pgettext("field", "deleted", lang),
        "entity": pgettext("field", "kind of record", lang),
        "data": pgettext("field", "content", lang),
    }


_field_name_cache: dict[str, dict[str, str]] = {}


def field_names(lang: str | None = None) -> dict[str, str]:
    """Every known field's user-facing name in `lang` (default: the user's language)."""
    lang = lang or current_language()
    if _forced is not None:
        return _field_names(lang)
    found = _field_name_cache.get(lang)
    if found is None:
        found = _field_name_cache[lang] = _field_names(lang)
    return found


def field_label(field: str, lang: str | None = None) -> str:
    """The user-facing name of a model field in `lang`: `日付` or `date` (the key itself when
    the field has no name of its own)."""
    return field_names(lang).get(field, field)


class _FieldLabelPairs(Mapping[str, tuple[str, str]]):
    """`FIELD_LABELS[field]` as (Japanese, English), from the catalogue. Kept for code that has
    not moved to `field_label(field, lang)` yet; new code calls `field_label`."""

    def __getitem__(self, field: str) -> tuple[str, str]:
        if field not in field_names("en"):
            raise KeyError(field)
        return field_label(field, "ja"), field_label(field, "en")

    def __iter__(self) -> Iterator[str]:
        return iter(field_names("en"))

    def __len__(self) -> int:
        return len(field_names("en"))


FIELD_LABELS: Mapping[str, tuple[str, str]] = _FieldLabelPairs()


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


class Words:
    """A value of an error that is words, not data: rendered in the language the error is read
    in (a kind of record, a list of choices' labels, the problems of a row)."""

    __slots__ = ("_render",)

    def __init__(self, render: Callable[[str], str]) -> None:
        self._render = render

    def __call__(self, lang: str) -> str:
        return self._render(lang)

    def __repr__(self) -> str:
        return f"Words({self._render('en')!r})"


def words(message: str) -> Words:
    """`message` (marked with `N_`) as an error's value, translated when the error is read:
    `reason=words(N_("not a SQLite file"))`."""
    return Words(lambda lang: gettext(message, lang))


def rendered(value: object, lang: str) -> object:
    """An error's value as shown in `lang`: words rendered, an error as its message, data as is."""
    if isinstance(value, Words):
        return value(lang)
    if isinstance(value, LocalizedError):
        return value.message(lang)
    return value


class LocalizedError(ValueError):
    """An error the core raises for a person to read: a code (what went wrong), the field it
    concerns and the values it quotes. The core never words it for a front end; `message()`
    renders it from the catalogue in the user's language, prefixed by the field's name.

    `LocalizedError("date.unreadable", field="date", value=quote(text))`; `en` and `field` are
    not value names. A value that is itself words is given so that it renders in the reader's
    language: another `LocalizedError` (its message) or a `Words` (a function of the language,
    e.g. `Words(lambda lang: records.label(kind, lang))`); see `rendered`.
    (`LocalizedError(ja, en, field)` is the older form, while messages move.)
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
        values = {name: rendered(value, lang) for name, value in self.values.items()}
        return gettext(_PROBLEMS[self.code], lang).format(**values)

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


class about:
    """Errors raised inside this block concern `field`: re-raised naming it, unless they name one.

    A class rather than a generator: a table import enters one for several fields of every row,
    and `contextlib.contextmanager`'s generator cost three times as much."""

    __slots__ = ("field",)

    def __init__(self, field: str) -> None:
        self.field = field

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, LocalizedError) and not exc.field:
            raise exc.about(self.field) from None
