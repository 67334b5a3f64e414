"""Errors that users see: one line, in their language, naming the field when there is one."""

from __future__ import annotations

from pydantic import ValidationError

from dxfield.i18n import LocalizedError, field_label

__all__ = ["LocalizedError", "NotFound", "StoreError", "from_validation_error"]


class NotFound(LocalizedError):
    """A record, organization or key that the user named does not exist."""


class StoreError(LocalizedError):
    """The store cannot be opened or written (too new, corrupt, disk full...)."""


_PYDANTIC_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必須です", "is required"),
    "enum": ("選べる値ではありません", "is not one of the allowed values"),
    "int_parsing": ("整数ではありません", "is not a whole number"),
    "bool_parsing": ("真偽値ではありません", "is not true or false"),
    "string_type": ("文字列ではありません", "is not text"),
    "list_type": ("リストではありません", "is not a list"),
    "date_from_datetime_parsing": ("日付ではありません", "is not a date"),
}


def from_validation_error(exc: ValidationError) -> LocalizedError:
    """The first problem of a pydantic ValidationError as a LocalizedError naming its field."""
    parts_ja: list[str] = []
    parts_en: list[str] = []
    for error in exc.errors():
        original = (error.get("ctx") or {}).get("error")
        loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
        field = loc[0] if loc else None
        if isinstance(original, LocalizedError):
            parts_ja.append(original.message("ja"))
            parts_en.append(original.message("en"))
            continue
        ja, en = _PYDANTIC_MESSAGES.get(error["type"], (error["msg"], error["msg"]))
        if error["type"] == "enum":
            expected = (error.get("ctx") or {}).get("expected", "")
            ja, en = f"{ja}({expected})", f"{en} ({expected})"
        prefix_ja = f"{field_label(field, 'ja')}: " if field else ""
        prefix_en = f"{field_label(field, 'en')}: " if field else ""
        parts_ja.append(prefix_ja + ja)
        parts_en.append(prefix_en + en)
    return LocalizedError("; ".join(parts_ja), "; ".join(parts_en))
