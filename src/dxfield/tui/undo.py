"""Undo for the changes one key makes: the notification that says what changed offers `u` for
as long as it is visible, and `u` puts the record back through the store's one write path.

An undo never rewrites history: it writes a new revision (an edit back to the values before, a
restore of what was deleted, a deletion of what was created), which syncs like any change, and
the record's history shows both the change and its undoing.

A screen that made a one-key change calls `offer_undo(app, message, undo)` on the event loop
once the write landed; the app's `u` (action `undo`) calls `run_undo(app)`. One offer at a
time: a newer one-key change replaces the older offer (its record can still be put back from
its history, or from the deleted records).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from textual.notifications import Notification, Notify

from dxfield.i18n import _

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.timer import Timer

    from dxfield.store.engine import Store
    from dxfield.store.versions import Written

UNDO_SECONDS = 12.0
"""How long an undo notification (and so its `u`) stays."""
SAID_CELLS = 40
"""How much of a record's text an undo notification quotes (in terminal cells)."""


def said(text: str, cells: int = SAID_CELLS) -> str:
    """The first line of a record's text as a notification quotes it: its controls shown, cut
    with `…` past `cells` terminal cells (a Japanese character takes two)."""
    from rich.cells import cell_len

    from dxfield.domain.visible import visible

    first = visible(text.splitlines()[0] if text else "")
    if cell_len(first) <= cells:
        return first
    kept = ""
    for char in first:
        if cell_len(kept + char) > cells - 1:
            break
        kept += char
    return kept + "…"


@dataclass(frozen=True)
class Undo:
    """How to put one change back: `run` writes (in a thread worker), `said` is the
    notification once it is done, `after` refreshes the screen (on the event loop)."""

    run: Callable[[Store], object]
    said: str
    after: Callable[[], object] | None = None


def edit_back(entity: str, record_id: str, before: dict[str, Any]) -> Callable[[Store], object]:
    """An undo of an edit: the fields it changed, written back with their values before."""

    def run(store: Store) -> object:
        from dxfield.store import records

        return records.edit(store, entity, record_id, before)

    return run


def restore_deleted(record_id: str) -> Callable[[Store], object]:
    """An undo of a deletion: the record brought back with its last content."""

    def run(store: Store) -> object:
        from dxfield.store.versions import restore

        return restore(store, record_id)

    return run


def revert_to(record_id: str, rev_id: str) -> Callable[[Store], object]:
    """An undo that makes the version `rev_id` of a record current again (a new version)."""

    def run(store: Store) -> object:
        from dxfield.store.versions import revert

        return revert(store, record_id, rev_id)

    return run


def delete_created(entity: str, record_id: str) -> Callable[[Store], object]:
    """An undo of a creation (or of a restore): the record deleted again (its history stays)."""

    def run(store: Store) -> object:
        from dxfield.store import records

        return records.delete(store, entity, record_id)

    return run


def take_back(track_id: str, move_id: str) -> Callable[[Store], object]:
    """An undo of a stage move: the move deleted and the track back at the stage it left (refused
    when the track has moved again since)."""

    def run(store: Store) -> object:
        from dxfield.store.tracks import take_back_move

        return take_back_move(store, track_id, move_id=move_id)

    return run


@dataclass
class _Offer:
    notification: Notification
    undo: Undo
    seen: bool = False


class Undoer:
    """The app's one undo offer: the notification that carries it and what `u` does."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._offer: _Offer | None = None
        self._timer: Timer | None = None

    def offer(self, message: str, undo: Undo, *, timeout: float = UNDO_SECONDS) -> None:
        """Say `message` with `u` to undo, for `timeout` seconds."""
        text = message + "\n" + _("u: undo")
        notification = Notification(text, timeout=timeout, markup=False)
        self.app.post_message(Notify(notification))
        self._offer = _Offer(notification, undo)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(timeout, self._expired)
        self.app.refresh_bindings()

    def _expired(self) -> None:
        if self._offer is not None and self.pending is None:
            self._offer = None
            self.app.refresh_bindings()

    @property
    def pending(self) -> Undo | None:
        """The undo on offer while its notification is visible (not timed out, not dismissed)."""
        offer = self._offer
        if offer is None or offer.notification.has_expired:
            return None
        shown = offer.notification in self._notifications()
        offer.seen = offer.seen or shown
        if offer.seen and not shown:  # dismissed by a click
            return None
        return offer.undo

    def _notifications(self) -> Any:
        return cast(Any, self.app)._notifications

    def take(self) -> Undo | None:
        """The pending undo, once: its notification is taken down."""
        undo = self.pending
        offer = self._offer
        self._offer = None
        if offer is not None and offer.notification in self._notifications():
            cast(Any, self.app)._unnotify(offer.notification)
        self.app.refresh_bindings()
        return undo

    def run(self, store: Store) -> None:
        """`u`: write the pending undo back in a thread worker, then say so."""
        undo = self.take()
        if undo is None:
            return

        def write() -> None:
            undo.run(store)
            self.app.call_from_thread(self._done, undo)

        self.app.run_worker(write, thread=True, group="undo", exit_on_error=False)

    def _done(self, undo: Undo) -> None:
        self.app.notify(undo.said, markup=False)
        if undo.after is not None:
            undo.after()


def restore_with_undo(screen: DOMNode, record_id: str) -> None:
    """Bring a deleted record back in a thread worker, then say so with `u` to delete it again,
    and read the screen on top again (the app's `reload_screen`)."""
    from dxfield.tui.app import DxfieldApp

    app = cast(DxfieldApp, screen.app)

    def write() -> None:
        from dxfield.store.versions import restore

        written = restore(app.store, record_id)
        app.call_from_thread(restored, written)

    def restored(written: Written) -> None:
        title = said(written.label)
        app.undoer.offer(
            _("Restored “{title}”").format(title=title),
            Undo(
                delete_created(written.entity, written.entity_id),
                _("Deleted “{title}”").format(title=title),
                after=app.reload_screen,
            ),
        )
        app.refresh_status()
        app.reload_screen()

    app.run_worker(write, thread=True, group="restore", exit_on_error=False)


def delete_with_undo(
    screen: DOMNode,
    entity: str,
    record_id: str,
    *,
    question: str,
    done: str,
    restored: str,
    after: Callable[[], object] | None = None,
) -> None:
    """Ask `question`, then delete the record in a thread worker (a new version: its history
    stays), say `done` with `u` to bring it back (`restored`), and read the screen on top
    again; `after` runs on the event loop once it is deleted."""
    from dxfield.tui.app import DxfieldApp
    from dxfield.tui.screens.confirm import ConfirmScreen

    app = cast(DxfieldApp, screen.app)

    def write() -> None:
        from dxfield.store import records

        records.delete(app.store, entity, record_id)
        app.call_from_thread(deleted)

    def deleted() -> None:
        if after is not None:
            after()
        app.undoer.offer(done, Undo(restore_deleted(record_id), restored, after=app.reload_screen))
        app.reload_screen()
        app.refresh_status()

    def answer(yes: bool | None) -> None:
        if yes:
            app.run_worker(write, thread=True, group=f"{entity}-delete", exit_on_error=False)

    app.push_screen(ConfirmScreen(question), answer)
