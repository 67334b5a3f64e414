"""Errors that users see: one line, in their language, naming the field when there is one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dxfield.i18n import N_, LocalizedError, Words, problems

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["LocalizedError", "NotFound", "StoreError", "from_validation_error"]


class NotFound(LocalizedError):
    """A record, organization or key that the user named does not exist."""


class StoreError(LocalizedError):
    """The store cannot be opened or written (too new, corrupt, disk full...)."""


PROBLEMS = problems(
    {
        "value.required": N_("is required"),
        "value.not_allowed": N_("is not one of the allowed values ({choices})"),
        "value.not_whole_number": N_("is not a whole number"),
        "value.not_true_or_false": N_("is not true or false"),
        "value.not_text": N_("is not text"),
        "value.not_list": N_("is not a list"),
        "value.not_date": N_("is not a date"),
        "value.invalid": N_("is not valid: {detail}"),
        "input.several": N_("{first}; {rest}"),
    }
)

# pydantic's error types, and the code each is said with.
_PYDANTIC_CODES: dict[str, str] = {
    "missing": "value.required",
    "enum": "value.not_allowed",
    "int_parsing": "value.not_whole_number",
    "int_type": "value.not_whole_number",
    "bool_parsing": "value.not_true_or_false",
    "bool_type": "value.not_true_or_false",
    "string_type": "value.not_text",
    "list_type": "value.not_list",
    "date_from_datetime_parsing": "value.not_date",
    "date_parsing": "value.not_date",
    "date_type": "value.not_date",
}


def _one(error: dict[str, object]) -> LocalizedError:
    context = error.get("ctx") or {}
    assert isinstance(context, dict)
    original = context.get("error")
    loc = error["loc"]
    assert isinstance(loc, tuple)
    names = [str(p) for p in loc if not isinstance(p, int)]
    field = names[0] if names else None
    if isinstance(original, LocalizedError):
        return original if original.field or not field else original.about(field)
    code = _PYDANTIC_CODES.get(str(error["type"]), "value.invalid")
    if code == "value.not_allowed":
        expected = str(context.get("expected", ""))
        choices = ", ".join(re.findall(r"'([^']*)'", expected)) or expected
        return LocalizedError(code, field=field, choices=choices)
    if code == "value.invalid":
        return LocalizedError(code, field=field, detail=str(error["msg"]))
    return LocalizedError(code, field=field)


def from_validation_error(exc: ValidationError) -> LocalizedError:
    """The problems of a pydantic ValidationError as one LocalizedError: the first problem
    itself (naming its field) when there is one, else all of them on one line."""
    found = [_one(dict(error)) for error in exc.errors()]
    if len(found) == 1:
        return found[0]
    first, rest = found[0], found[1:]
    return LocalizedError(
        "input.several",
        first=first,
        rest=Words(lambda lang: "; ".join(e.message(lang) for e in rest)),
    )
