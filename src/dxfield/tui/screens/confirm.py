"""A yes/no question."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from dxfield.i18n import N_, _
from dxfield.tui.text import plain


class ConfirmScreen(ModalScreen[bool | None]):
    """Ask; dismiss with True (yes), False (no) or what escape means (False unless told).

    The question is plain text (it may quote a title): shown as `plain` shows it, never markup.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "escape", N_("No")),
        Binding("y", "answer(True)", N_("Yes"), show=False),
        Binding("n", "answer(False)", N_("No"), show=False),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmScreen Label { width: 100%; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; }
    """

    def __init__(
        self,
        question: str,
        *,
        yes: str | None = None,
        no: str | None = None,
        default: bool = False,
        escape: bool | None = False,
    ) -> None:
        super().__init__()
        self.default = default
        self.escape_answer = escape
        self.question = question
        self.yes = yes or _("Yes (y)")
        self.no = no or _("No (n)")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.question, multiline=True))
            with Horizontal():
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#yes" if self.default else "#no", Button).focus()

    def action_escape(self) -> None:
        """Escape: the answer the caller chose for it (no, or "not now")."""
        self.dismiss(self.escape_answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        """Answer with a key."""
        self.dismiss(answer)
