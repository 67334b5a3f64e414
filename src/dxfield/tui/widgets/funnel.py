"""The engagement funnel: how many communities stand at each stage, per stage model."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from dxfield.domain.visible import visible
from dxfield.i18n import _, current_language, ngettext

if TYPE_CHECKING:
    from dxfield.store.board import Funnel

BAR_WIDTH = 24
LABEL_WIDTH = 34


def _fit(text: str, width: int) -> str:
    """`text` cut (with …) or padded to `width` terminal cells (full-width text counts two)."""
    if cell_len(text) > width:
        while cell_len(text + "…") > width:
            text = text[:-1]
        text += "…"
    return text + " " * (width - cell_len(text))


class FunnelView(Static):
    """One block per stage model with tracks: a bar per stage, its count at the end."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"funnel-view--bar", "funnel-view--title"}

    DEFAULT_CSS = """
    FunnelView { height: auto; padding: 0 2; margin-top: 1; display: none; }
    FunnelView > .funnel-view--bar { color: $accent; }
    FunnelView > .funnel-view--title { text-style: bold; }
    """

    def show(self, funnels: list[Funnel]) -> None:
        """Draw `funnels` (nothing at all when there are no tracks)."""
        self.display = bool(funnels)
        bar_style = self.get_component_rich_style("funnel-view--bar")
        title_style = self.get_component_rich_style("funnel-view--title")
        ja = current_language() == "ja"
        text = Text()
        for number, funnel in enumerate(funnels):
            if number:
                text.append("\n")
            name = visible(
                funnel.model.name if ja or not funnel.model.name_en else funnel.model.name_en
            )
            total = funnel.not_started + sum(s.count for s in funnel.stages)
            text.append(
                ngettext(
                    "Consensus: {name} ({total} community)",
                    "Consensus: {name} ({total} communities)",
                    total,
                ).format(name=name, total=total),
                title_style,
            )
            largest = max([funnel.not_started, *(s.count for s in funnel.stages)]) or 1
            rows = [(_("Not started"), funnel.not_started)] if funnel.not_started else []
            rows += [
                (f"{index}. {visible(s.label if ja else s.label_en)}", s.count)
                for index, s in enumerate(funnel.stages, 1)
            ]
            for label, count in rows:
                filled = round(BAR_WIDTH * count / largest) if count else 0
                text.append(f"\n{_fit(label, LABEL_WIDTH)} ")
                text.append("█" * filled, bar_style)
                text.append("·" * (BAR_WIDTH - filled) + f" {count}")
        self.update(text)
