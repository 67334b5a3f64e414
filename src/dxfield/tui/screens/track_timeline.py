"""A track's timeline: its stage moves and its community's activities together, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from dxfield.domain.dates import format_date
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, current_language, ngettext
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.screens.tracks import days_text, model_name, open_move_form, stage_label
from dxfield.tui.text import plain

if TYPE_CHECKING:
    from dxfield.store.tracks import TimelineEntry, TrackSummary


def entry_text(entry: TimelineEntry, summary: TrackSummary) -> Text:
    """One line of the timeline."""
    lang = current_language()
    stages = {s.key: s for s in summary.model.stages}
    if entry.move is not None:
        move = entry.move
        before = stage_label(stages[move.from_stage]) if move.from_stage in stages else "—"
        after = stage_label(stages[move.to_stage]) if move.to_stage in stages else move.to_stage
        line = Text.assemble(
            (f"{move.date:%Y-%m-%d}  ", "bold"),
            ("▶ ", "bold"),
            (visible(f"{before} → {after}"), "bold"),
        )
        if move.note:
            first_line = move.note.split("\n")[0]
            line.append(f"  {visible(first_line)}")
        if move.evidence_ids:
            line.append(
                ngettext(
                    "  ({count} evidence activity)",
                    "  ({count} evidence activities)",
                    len(move.evidence_ids),
                ).format(count=len(move.evidence_ids))
            )
        elif move.to_stage in stages and move.from_stage != move.to_stage:
            keys = list(stages)
            if move.from_stage is None or keys.index(move.to_stage) > keys.index(move.from_stage):
                line.append(_("  (no evidence)"), "italic")
        return line
    assert entry.activity is not None
    activity = entry.activity
    mark = "★ " if entry.evidence else "  "
    return Text.assemble(
        f"{format_date(activity.date, activity.date_precision, lang)}  ",
        (mark, "bold"),
        f"{activity.kind.label(lang)}  ",
        visible(activity.title),
    )


class TimelineScreen(DxScreen):
    """One track: where it stands, and how it got there."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "move(1)", N_("Forward"), id="timeline-forward"),
        Binding("left_square_bracket", "move(-1)", N_("Back"), id="timeline-back"),
        Binding("escape", "back", N_("Back"), id="timeline-close"),
    ]

    def __init__(self, track_id: str) -> None:
        super().__init__()
        self.track_id = track_id
        self.summary: TrackSummary | None = None
        self.entries: list[TimelineEntry] = []

    def compose_body(self) -> ComposeResult:
        yield Label(_("Loading…"), id="timeline-head")
        yield OptionList(id="timeline")

    def on_mount(self) -> None:
        self.sub_title = _("Track timeline")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.load()

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def load(self) -> None:
        """Read the track and its timeline."""
        from dxfield.store.tracks import timeline

        summary, entries = timeline(self.store, self.track_id)
        self.app.call_from_thread(self._show, summary, entries)

    def _show(self, summary: TrackSummary, entries: list[TimelineEntry]) -> None:
        self.summary, self.entries = summary, entries
        stage = summary.stage
        where = (
            f"{summary.stage_index + 1}/{len(summary.model.stages)} {stage_label(stage)}"
            if stage
            else _("not started")
        )
        place = " · ".join(p for p in (summary.municipality, summary.initiative_title) if p)
        head = (
            f"{visible(summary.community)}  {visible(place)}\n"
            f"{visible(model_name(summary.model))}: {visible(where)}"
            f"  ({days_text(summary.days_in_stage)})\n"
        )
        self.query_one("#timeline-head", Label).update(
            plain(
                head + _("★ evidence of a move  ·  [ ] move a stage"),
                multiline=True,
            )
        )
        listing = self.query_one("#timeline", OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(
            [
                Option(entry_text(e, summary), id=e.activity.id if e.activity else None)
                for e in entries
            ]
            or [Option(_("Nothing recorded yet"), disabled=True)]
        )
        listing.highlighted = highlighted if highlighted is not None else 0
        listing.focus()

    @on(OptionList.OptionSelected, "#timeline")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:  # an activity: open it
            self.dx.open_activity(event.option.id)

    def action_move(self, step: int) -> None:
        """Move this track a stage forward or back."""
        if self.summary is not None:
            open_move_form(self, self.summary, step, self.load)

    def action_back(self) -> None:
        """Back to the board."""
        self.app.pop_screen()
