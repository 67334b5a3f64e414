"""全国地方公共団体コード: six-digit local government codes with a check digit."""

from __future__ import annotations

import unicodedata

from dxfield.i18n import LocalizedError, quote

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    """The check digit of a five-digit code: (11 - sum(weights * digits) % 11) % 10."""
    total = sum(w * int(d) for w, d in zip(_WEIGHTS, first_five, strict=True))
    return (11 - total % 11) % 10


def validate_code(value: str) -> str:
    """Return the code as six ASCII digits, or raise naming what is wrong with it."""
    code = unicodedata.normalize("NFKC", str(value)).strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise LocalizedError(
            f"{quote(value)} は6桁の数字ではありません",
            f"{quote(value)} is not six digits",
        )
    expected = check_digit(code[:5])
    if int(code[5]) != expected:
        raise LocalizedError(
            f"{quote(value)} の検査数字が正しくありません(正しくは {code[:5]}{expected})",
            f"{quote(value)} has a wrong check digit (expected {code[:5]}{expected})",
        )
    return code


def looks_like_code(value: str) -> bool:
    """True when `value` is six digits (checked or not): callers then treat it as a code."""
    text = unicodedata.normalize("NFKC", value).strip()
    return len(text) == 6 and text.isascii() and text.isdigit()
