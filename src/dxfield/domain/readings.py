"""Readings of names (kana) and their romaji, so a pick list finds 多可町 by `多可`, `たか` or `taka`.

An organization's reading is its stored `kana` when a person gave one (the municipalities'
list gives each its reading; `org edit --kana` and the app set one where the guess is wrong:
宍粟市 is しそうし); otherwise it is guessed from the name by pykakasi, at read time and
cached, never stored: a guess is not a fact to sync. Romaji is derived from the reading (Hepburn,
Kunrei and the passport's spelling, so `takacho`, `takachou` and `takatyou` all match).

pykakasi loads its dictionaries in 0.7-1.5 s: it is imported at the first guess, which the
app makes in a worker thread after it has shown the choices by name (`guess=False`), never at
start.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_LOCK = threading.Lock()
_LONG = re.compile(r"([aiueo])\1+")
_KAKASI: list[Any] = []

# Katakana (U+30A1 small a .. U+30F6 small ke) to hiragana: the same letters, 0x60 lower.
_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F6 + 1)}


def _kakasi() -> Any:
    """pykakasi's converter, made once (its dictionaries take most of a second to load)."""
    with _LOCK:
        if not _KAKASI:
            import pykakasi

            _KAKASI.append(pykakasi.kakasi())  # type: ignore[no-untyped-call]
        return _KAKASI[0]


def hiragana(text: str) -> str:
    """`text` with its katakana as hiragana, NFKC-normalized (half-width ｶﾅ too)."""
    return unicodedata.normalize("NFKC", text).translate(_TO_HIRAGANA)


@lru_cache(maxsize=4096)
def _convert(text: str) -> tuple[tuple[str, str, str, str], ...]:
    """pykakasi's parts of `text`: (hiragana, hepburn, kunrei, passport) each."""
    converter = _kakasi()
    with _LOCK:  # one conversion at a time: pykakasi does not say it is thread-safe
        parts = converter.convert(text)
    return tuple((p["hira"], p["hepburn"], p["kunrei"], p["passport"]) for p in parts)


def guess_reading(name: str) -> str:
    """The reading of `name` in hiragana as pykakasi guesses it (多可町 gives たかまち; the
    town says たかちょう, which the municipalities' list gives)."""
    text = unicodedata.normalize("NFKC", name).strip()
    return hiragana("".join(p[0] for p in _convert(text)))


def reading_of(name: str, kana: str | None = None) -> str:
    """A name's reading: the one a person gave, else the guess."""
    return hiragana(kana).strip() if kana and kana.strip() else guess_reading(name)


def romaji_of(reading: str) -> tuple[str, ...]:
    """A reading's romaji, lower case without spaces: Hepburn, Kunrei and the passport's
    spelling, each also with its long vowels short (the distinct ones, Hepburn first)."""
    parts = _convert(hiragana(reading).strip())
    found: list[str] = []
    for index in (1, 2, 3):
        spelled = "".join(p[index] for p in parts).lower().replace(" ", "")
        # Long vowels as people type them in a hurry: こーど as "kodo", とうきょう as "tokyo".
        for form in (spelled, _LONG.sub(r"\1", spelled.replace("ou", "o"))):
            if form and form not in found:
                found.append(form)
    return tuple(found)


def _key(text: str) -> str:
    """A text as it is compared: NFKC, katakana as hiragana, lower case, without spaces."""
    return "".join(hiragana(text).lower().split())


def search_keys(
    name: str, kana: str | None = None, *extra: str, guess: bool = True
) -> tuple[str, ...]:
    """What a pick list matches a typed filter against: the name, its reading and romaji, and
    any `extra` text (an initiative's municipality, an English label). Without `guess`, only
    the name, a given reading and `extra`, at once (pykakasi is not asked: nothing is guessed,
    no romaji)."""
    if guess:
        reading = reading_of(name, kana)
        spoken = [_key(reading), *romaji_of(reading)]
    else:
        spoken = [_key(kana)] if kana else []
    keys = [_key(name), *spoken, *(_key(e) for e in extra if e)]
    return tuple(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True)
class Pickable:
    """One choice of a pick list: what it shows, its value and the keys it is found by."""

    label: str
    value: str
    keys: tuple[str, ...]


def pickable(
    label: str, value: str, kana: str | None = None, *extra: str, guess: bool = True
) -> Pickable:
    """A choice found by its label, the label's reading (given or guessed), romaji and `extra`
    (without `guess`: its label, a given reading and `extra`; see `search_keys`)."""
    return Pickable(label, value, search_keys(label, kana, *extra, guess=guess))


def matching(query: str, choices: Sequence[Pickable]) -> list[Pickable]:
    """The choices a typed filter finds: those with a key that starts with it first, then those
    with a key that holds it; each group in the list's own order. An empty filter finds all."""
    wanted = _key(query)
    if not wanted:
        return list(choices)
    starts = [c for c in choices if any(k.startswith(wanted) for k in c.keys)]
    first = {id(c) for c in starts}
    holds = [c for c in choices if id(c) not in first and any(wanted in k for k in c.keys)]
    return starts + holds


def warm(names: Iterable[str]) -> None:
    """Guess the readings of `names` now (in a worker), so a pick list answers at once."""
    for name in names:
        guess_reading(name)
