"""A new stage model from the app (a 窓口DX rollout, say): its key, names and stages.

Stages are typed one per line, `key: label`, optionally followed by ` | description | exit
criteria`; the same checks as `dxfield stage-model add --from-file` apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, TextArea

from dxfield.i18n import _
from dxfield.tui.screens.base import FormModal


@dataclass(frozen=True)
class ModelInput:
    """A stage model as typed, ready for the store's checks."""

    data: dict[str, Any]


def parse_stage_lines(text: str) -> list[dict[str, str]]:
    """`key: label | description | exit criteria`, one stage a line (blank lines skipped)."""
    stages = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        head, _bar, rest = line.partition("|")
        key, colon, label = head.partition(":")
        if not colon:
            raise ValueError(_("line {number}: write it as `key: label`").format(number=number))
        parts = [p.strip() for p in rest.split("|")] if rest else []
        stage = {"key": key.strip(), "label": label.strip()}
        if parts:
            stage["description"] = parts[0]
        if len(parts) > 1:
            stage["exit_criteria"] = parts[1]
        stages.append(stage)
    return stages


class StageModelFormScreen(FormModal):
    """Define a stage model; dismisses True once it is saved."""

    DEFAULT_CSS = """
    StageModelFormScreen #model-stages { height: 10; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(_("New stage model"), classes="field-label")
            yield Label(_("Name"), classes="field-label")
            yield Input(id="model-name", select_on_focus=False)
            yield Label(_("Name in English (optional)"), classes="field-label")
            yield Input(id="model-name-en", select_on_focus=False)
            yield Label(
                _("Key (a-z, 0-9, - and _)"),
                classes="field-label",
            )
            yield Input(id="model-key", select_on_focus=False)
            yield Label(
                _("Stages (one a line: key: label | description | exit criteria)"),
                classes="field-label",
            )
            yield TextArea(id="model-stages")
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#model-name", Input).focus()

    def check(self) -> ModelInput | None:
        """The stage lines must read; the rest is the store's to check."""
        try:
            stages = parse_stage_lines(self.query_one("#model-stages", TextArea).text)
        except ValueError as exc:
            self.show_error(str(exc))
            return None
        data: dict[str, Any] = {
            "key": self.query_one("#model-key", Input).value.strip(),
            "name": self.query_one("#model-name", Input).value,
            "stages": stages,
        }
        name_en = self.query_one("#model-name-en", Input).value.strip()
        if name_en:
            data["name_en"] = name_en
        return ModelInput(data)

    def write(self, payload: object) -> None:
        """Save the model."""
        from dxfield.store.tracks import add_stage_model

        assert isinstance(payload, ModelInput)
        add_stage_model(self.store, payload.data)
