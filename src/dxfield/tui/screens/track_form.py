"""A new track from the board: a community to follow through the board's stage model."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Label, Select

from dxfield.i18n import _
from dxfield.tui.screens.base import FormModal
from dxfield.tui.text import plain, plain_options


@dataclass(frozen=True)
class TrackInput:
    """A checked new track."""

    community: str
    initiative: str | None


class TrackFormScreen(FormModal):
    """Follow a community through `model_key`; dismisses True once the track is saved."""

    def __init__(self, model_key: str, model_label: str) -> None:
        super().__init__()
        self.model_key = model_key
        self.model_label = model_label

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(plain(_("New track: {model_label}").format(model_label=self.model_label)))
            yield Label(
                _("Community (a district, school, group; new ones: dxfield org add)"),
                classes="field-label",
            )
            yield Select[str]([], prompt=_("Choose"), id="track-community")
            yield Label(_("Initiative (optional)"), classes="field-label")
            yield Select[str]([], prompt=_("(none)"), id="track-initiative")
            yield Label("", id="form-error")
            with Horizontal():
                yield Button(_("Cancel (esc)"), id="cancel")
                yield Button(_("Save (ctrl+s)"), id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#track-community", Select).focus()
        self._load()

    @work(thread=True, exclusive=True, group="track-form", exit_on_error=False)
    def _load(self) -> None:
        from dxfield.store.organizations import list_organizations
        from dxfield.store.tracks import COMMUNITY_KINDS
        from dxfield.tui.screens.followups import initiative_labels

        communities = [
            (o.name, o.id) for o in list_organizations(self.store, kinds=COMMUNITY_KINDS)
        ]
        initiatives = initiative_labels(self.store)
        self.app.call_from_thread(self._fill, communities, initiatives)

    def _fill(self, communities: list[tuple[str, str]], initiatives: list[tuple[str, str]]) -> None:
        self.query_one("#track-community", Select).set_options(plain_options(communities))
        self.query_one("#track-initiative", Select).set_options(plain_options(initiatives))

    def check(self) -> TrackInput | None:
        """A community must be chosen."""
        community = self.query_one("#track-community", Select).value
        initiative = self.query_one("#track-initiative", Select).value
        if not isinstance(community, str):
            self.show_error(_("Choose the community"))
            return None
        return TrackInput(community, initiative if isinstance(initiative, str) else None)

    def write(self, payload: object) -> None:
        """Save the track."""
        from dxfield.store.tracks import add_track

        assert isinstance(payload, TrackInput)
        add_track(
            self.store,
            community=payload.community,
            model=self.model_key,
            initiative=payload.initiative,
        )
