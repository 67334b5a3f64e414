"""全国地方公共団体コード: six-digit local government codes with a check digit."""

from __future__ import annotations

import unicodedata

from dxfield.i18n import N_, LocalizedError, problems, quote

PROBLEMS = problems(
    {
        "code.not_six_digits": N_("{value} is not six digits"),
        "code.wrong_check_digit": N_("{value} has a wrong check digit (expected {expected})"),
    }
)

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    """The check digit of a five-digit code: (11 - sum(weights * digits) % 11) % 10."""
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, first_five, strict=True))
    return (11 - total % 11) % 10


def validate_code(value: str) -> str:
    """Return the code as six ASCII digits, or raise naming what is wrong with it."""
    code = unicodedata.normalize("NFKC", str(value)).strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise LocalizedError("code.not_six_digits", value=quote(value))
    expected = check_digit(code[:5])
    if int(code[5]) != expected:
        raise LocalizedError(
            "code.wrong_check_digit", value=quote(value), expected=f"{code[:5]}{expected}"
        )
    return code


def looks_like_code(value: str) -> bool:
    """True when `value` is six digits (checked or not): callers then treat it as a code."""
    text = unicodedata.normalize("NFKC", value).strip()
    return len(text) == 6 and text.isascii() and text.isdigit()
