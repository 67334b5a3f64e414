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
    N_("Open the command palette"),
    # The key panel (`widgets/key_panel.py`): Textual's widgets' keys and group titles.
    N_("Input"),
    N_("Press button"),
    N_("Toggle"),
    N_("Select"),
    N_("Cursor up"),
    N_("Cursor down"),
    N_("Cursor right"),
    N_("Cursor left"),
    N_("Page up"),
    N_("Page down"),
    N_("Top"),
    N_("Bottom"),
    N_("Home"),
    N_("End"),
    N_("Scroll Up"),
    N_("Scroll Down"),
    N_("Scroll Left"),
    N_("Scroll Right"),
    N_("Scroll Home"),
    N_("Scroll End"),
    N_("Page Up"),
    N_("Page Down"),
    N_("Page Left"),
    N_("Page Right"),
    N_("Move cursor left"),
    N_("Move cursor left and select"),
    N_("Move cursor left a word"),
    N_("Move cursor left a word and select"),
    N_("Move cursor right or accept the completion suggestion"),
    N_("Move cursor right and select"),
    N_("Move cursor right a word"),
    N_("Move cursor right a word and select"),
    N_("Delete character left"),
    N_("Select all"),
    N_("Go to start"),
    N_("Go to end"),
    N_("Select line start"),
    N_("Select line end"),
    N_("Delete character right"),
    N_("Submit"),
    N_("Delete left to start of word"),
    N_("Delete all to the left"),
    N_("Delete right to start of word"),
    N_("Delete all to the right"),
    N_("Cut selected text"),
    N_("Copy selected text"),
    N_("Paste text from the clipboard"),
    N_("Down"),
    N_("Last"),
    N_("First"),
    N_("Up"),
    N_("Show menu"),
    N_("Toggle option"),
    N_("Cursor word left"),
    N_("Cursor word right"),
    N_("Cursor line start"),
    N_("Cursor line end"),
    N_("Cursor page up"),
    N_("Cursor page down"),
    N_("Cursor left word select"),
    N_("Cursor right word select"),
    N_("Cursor line start select"),
    N_("Cursor line end select"),
    N_("Cursor up select"),
    N_("Cursor down select"),
    N_("Cursor left select"),
    N_("Cursor right select"),
    N_("Select line"),
    N_("Cut"),
    N_("Copy"),
    N_("Paste"),
    N_("Delete to line start"),
    N_("Delete to line end"),
    N_("Delete line"),
    N_("Undo"),
    N_("Redo"),
    N_("Focus Next"),
    N_("Focus Previous"),
    N_("Quit the app and return to the command prompt."),
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


class StoreNotOpen(RuntimeError):
    """A worker needed the Store, which did not open: the app says why once, on its screen."""


def notify_failure(node: Widget | App[Any], error: BaseException, *, timeout: float = 10) -> None:
    """The one way a failure reaches the user: a notification in their language."""
    if isinstance(error, StoreNotOpen):
        return  # said already (see StoreNotOpen)
    node.notify(
        error_text(error),
        title=_("Error"),
        severity="error",
        timeout=timeout,
        markup=False,
    )
