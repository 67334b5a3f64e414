"""The move form: a track moves to a stage, with its date, a note and its evidence.

The evidence is picked from the community's activities. A move forward without evidence asks
first (the CLI's `--no-evidence`); a move back needs none. Errors show in the form, and the
form stays open with everything typed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, SelectionList

from dxfield.domain.dates import format_date, read_day
from dxfield.i18n import LocalizedError, _, about, current_language
from dxfield.tui.screens.base import FormModal
from dxfield.tui.screens.tracks import stage_label
from dxfield.tui.text import plain

if TYPE_CHECKING:
    from dxfield.domain.records import StageMoveRead
    from dxfield.store.activities import ActivityRow
    from dxfield.store.tracks import TrackSummary


@dataclass(frozen=True)
class MoveInput:
    """A checked move, ready to write."""

    date: str
    note: str
    evidence: list[str]
    no_evidence: bool


class MoveScreen(FormModal):
    """Move one track to `to_stage`; dismisses True once the move is saved."""

    DEFAULT_CSS = """
    MoveScreen #move-title { text-style: bold; width: 100%; }
    MoveScreen #evidence { height: auto; max-height: 12; }
    """

    def __init__(self, summary: TrackSummary, to_stage: str) -> None:
        super().__init__()
        self.summary = summary
        self.to_stage = to_stage
        self.moved: StageMoveRead | None = None  # once written
        stages = [s.key for s in summary.model.stages]
        self.forward = stages.index(to_stage) > summary.stage_index

    def compose(self) -> ComposeResult:
        stages = {s.key: s for s in self.summary.model.stages}
        before = self.summary.stage
        after = stages[self.to_stage]
        start = stage_label(before) if before else _("not started")
        with VerticalScroll():
            yield Label(
                plain(f"{self.summary.community}: {start} → {stage_label(after)}"), id="move-title"
            )
            yield Label(_("Date"), classes="field-label")
            yield Input(self.dx.today.isoformat(), id="move-date", select_on_focus=False)
            yield Label(_("Note"), classes="field-label")
            yield Input(id="move-note", select_on_focus=False)
            yield Label(
                _("Evidence activities (space selects)")
                if self.forward
                else _("Evidence activities (optional)"),
                classes="field-label",
            )
            yield SelectionList[str](id="evidence")
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Move (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#move-note", Input).focus()
        self._load_evidence()

    @work(thread=True, exclusive=True, group="move-evidence", exit_on_error=False)
    def _load_evidence(self) -> None:
        from dxfield.store.tracks import community_activities

        rows = community_activities(self.store, self.summary.track.community_id, limit=100)
        self.app.call_from_thread(self._fill, rows)

    def _fill(self, rows: list[ActivityRow]) -> None:
        lang = current_language()
        evidence = self.query_one("#evidence", SelectionList)
        evidence.add_options(
            [
                (plain(f"{format_date(r.date, r.date_precision, lang)}  {r.title}"), r.id, False)
                for r in rows
            ]
        )
        if rows:
            evidence.highlighted = 0  # space selects at once, without an arrow key first
        else:
            self.show_error(_("This community has taken part in no activity yet."))

    def check(self) -> MoveInput | None:
        """The date must read; a move forward without evidence asks first."""
        try:
            with about("date"):
                date = read_day(self.query_one("#move-date", Input).value, self.dx.today)
        except LocalizedError as exc:
            self.show_error(exc.message())
            self.query_one("#move-date", Input).focus()
            return None
        move = MoveInput(
            date=date.isoformat(),
            note=self.query_one("#move-note", Input).value,
            evidence=list(self.query_one("#evidence", SelectionList).selected),
            no_evidence=False,
        )
        if not (self.forward and not move.evidence):
            return move
        from dxfield.tui.screens.confirm import ConfirmScreen

        def answer(go: bool | None) -> None:
            if go:
                self.submit(replace(move, no_evidence=True))

        self.app.push_screen(
            ConfirmScreen(
                _("Move forward without any evidence activity?"),
                yes=_("Move (y)"),
            ),
            answer,
        )
        return None

    def write(self, payload: object) -> None:
        """Save the move."""
        from dxfield.store.tracks import move_track

        assert isinstance(payload, MoveInput)
        self.moved = move_track(
            self.store,
            self.summary.track.id,
            to=self.to_stage,
            evidence=payload.evidence,
            date=payload.date,
            note=payload.note,
            no_evidence=payload.no_evidence,
        )

    def _saved(self) -> None:
        """Say the move with `u` to take it back (tui/undo.py), instead of a bare "Saved"."""
        from dxfield.tui.undo import Undo, take_back

        move = self.moved
        if move is None:  # pragma: no cover - `write` sets it before `_saved` is called
            super()._saved()
            return
        stages = {s.key: s for s in self.summary.model.stages}
        community = self.summary.community
        before = stages.get(move.from_stage or "")
        back = stage_label(before) if before else _("not started")
        self.dx.undoer.offer(
            _("{community} moved to {stage}").format(
                community=community, stage=stage_label(stages[move.to_stage])
            ),
            Undo(
                take_back(self.summary.track.id, move.id),
                _("Undone: {community} is at {stage} again").format(
                    community=community, stage=back
                ),
                after=self.dx.reload_screen,
            ),
        )
        self.dx.refresh_status()
        self.dismiss(True)
