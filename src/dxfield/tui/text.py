"""Words of the interface in the user's language, and data as it may be shown. Data is never
translated.

Text from the store (or quoting it) reaches the screen through `plain` (or `visible` where a
widget takes a str that it does not read as markup): its control characters shown escaped
(`<ESC>`, `<U+202E>`), and never read as Textual markup, which would style or hide a `[b]` in a
title, make a `[@click=...]` an action, or stop the app on a `[/]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text

from dxfield.domain.visible import visible
from dxfield.i18n import N_, LocalizedError, _

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import Binding
    from textual.widget import Widget

# Key descriptions are written in English in BINDINGS (class attributes, evaluated at import,
# before the language may be known), marked with N_, and looked up where a person reads them:
# the key bar, the command palette. Textual's own widgets show these (untranslated in Textual):
TEXTUAL_KEY_DESCRIPTIONS = (
    N_("Dismiss menu"),  # an open Select's list
    N_("palette"),  # the command palette's key
)


def describe(binding: Binding) -> str:
    """A key's description in the user's language ("" when it has none)."""
    return _(binding.description) if binding.description else ""


def key_help(binding: Binding) -> str:
    """What a key does, at more length when it says so (its tooltip), in the user's language."""
    return _(binding.tooltip) if binding.tooltip else describe(binding)


def plain(text: str, *, multiline: bool = False) -> Text:
    """Data (or a line holding data) for a widget: controls shown escaped, brackets as they are.

    `multiline` keeps newlines; otherwise everything shows on one line (a newline as `<LF>`).
    """
    return Text(visible(text, multiline=multiline))


def plain_options(options: list[tuple[str, str]]) -> list[tuple[Text, str]]:
    """(label, value) pairs for a Select or SelectionList, each label shown as `plain` shows it."""
    return [(plain(label), value) for label, value in options]


def error_text(error: BaseException) -> str:
    """One line for a failure: the localized message when there is one; controls shown escaped
    (a message may quote a value from a bundle). Not markup: show it with `plain` or
    `markup=False`."""
    if isinstance(error, LocalizedError):
        return visible(error.message())
    text = visible(str(error).strip(), multiline=True).splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def display_path(path: str) -> str:
    """A path as people read it: the home folder shortened to ~."""
    from pathlib import Path

    home = str(Path.home())
    return "~" + path[len(home) :] if home not in ("", "/") and path.startswith(home) else path


def notify_failure(node: Widget | App[Any], error: BaseException, *, timeout: float = 10) -> None:
    """The one way a failure reaches the user: a notification in their language."""
    node.notify(
        error_text(error),
        title=_("Error"),
        severity="error",
        timeout=timeout,
        markup=False,
    )
