"""Readings and romaji of names (issue 18): what a pick list finds a choice by."""

from __future__ import annotations

from dxfield.domain.readings import (
    guess_reading,
    hiragana,
    matching,
    pickable,
    reading_of,
    romaji_of,
    search_keys,
)


def test_a_given_reading_wins_over_the_guess() -> None:
    assert guess_reading("多可町") == "たかまち"  # the library's guess; the town says たかちょう
    assert reading_of("多可町", "たかちょう") == "たかちょう"
    assert reading_of("多可町", "タカチョウ") == "たかちょう"  # katakana given, kept as hiragana
    assert reading_of("多可町", "  ") == "たかまち"
    assert hiragana("ｶﾅ") == "かな"


def test_romaji_in_the_spellings_people_type() -> None:
    assert romaji_of("たかちょう") == ("takachou", "takacho", "takatyou", "takatyo")
    assert "kodofojapan" in romaji_of("こーどふぉーじゃぱん")
    assert "shisoushi" in romaji_of("しそうし")


def test_a_filter_finds_by_name_reading_and_romaji_prefixes_first() -> None:
    choices = [
        pickable("高砂市", "takasago", "たかさごし"),
        pickable("多可町", "taka", "たかちょう"),
        pickable("豊岡市", "toyooka", "とよおかし"),
        pickable("宍粟市", "shiso", "しそうし"),
    ]
    found = {
        typed: [c.value for c in matching(typed, choices)]
        for typed in (
            "たか",
            "タカ",
            "taka",
            "TAKA",
            "ｔａｋａ",
            "多可",
            "takacho",
            "ちょう",
            "shiso",
        )
    }
    assert found["たか"] == found["タカ"] == ["takasago", "taka"]
    assert found["taka"] == found["TAKA"] == found["ｔａｋａ"] == ["takasago", "taka"]
    assert found["多可"] == found["takacho"] == ["taka"]
    assert found["ちょう"] == ["taka"]  # within a reading, after those that start with it
    assert found["shiso"] == ["shiso"]
    assert [c.value for c in matching("", choices)] == [c.value for c in choices]
    assert matching("xyz", choices) == []


def test_search_keys_take_extra_words() -> None:
    keys = search_keys("会議", None, "meeting", "Meeting")
    assert keys[:3] == ("会議", "かいぎ", "kaigi")
    assert "meeting" in keys
