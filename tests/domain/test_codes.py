"""Local government codes: six digits with a verified check digit."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from dxfield.domain.codes import check_digit, looks_like_code, validate_code
from dxfield.i18n import LocalizedError

DOCUMENT_CODES = ["280003", "282022", "282049", "282201", "283657", "284815", "282090"]


def _bundled_codes() -> list[str]:
    text = resources.files("dxfield.store").joinpath("hyogo-municipalities.csv").read_text("utf-8")
    return [row["code"] for row in csv.DictReader(text.splitlines())]


@pytest.mark.parametrize("code", DOCUMENT_CODES)
def test_codes_of_the_document_are_valid(code: str) -> None:
    assert validate_code(code) == code


def test_every_bundled_code_is_valid() -> None:
    codes = _bundled_codes()
    assert len(codes) == 42
    for code in codes:
        assert validate_code(code) == code


@pytest.mark.parametrize("code", DOCUMENT_CODES)
def test_any_other_check_digit_is_refused(code: str) -> None:
    for digit in "0123456789":
        if digit == code[5]:
            continue
        with pytest.raises(LocalizedError, match="check digit"):
            validate_code(code[:5] + digit)


def test_rule_matches_the_seed_readme() -> None:
    # (11 - (6*d1 + 5*d2 + 4*d3 + 3*d4 + 2*d5) % 11) % 10 for 豊岡市 28209 -> 0
    assert check_digit("28209") == (11 - (6 * 2 + 5 * 8 + 4 * 2 + 3 * 0 + 2 * 9) % 11) % 10 == 0


@pytest.mark.parametrize("text", ["28209", "2820900", "28209a", "", "２８２０９Ｘ"])
def test_malformed_codes_are_refused(text: str) -> None:
    with pytest.raises(LocalizedError, match="six digits"):
        validate_code(text)


def test_full_width_digits_are_accepted() -> None:
    assert validate_code("２８２０９０") == "282090"
    assert looks_like_code("２８２０９０")
    assert not looks_like_code("豊岡市")
