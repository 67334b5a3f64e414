"""Note templates per activity kind: the headings a 議事録 uses, to start a new activity's note.

A kind's template is a synced record of its own kind, `note_template` (bundle format 2, see
docs/bundle-format.md §4), written through the one write path like every other record: its
history is kept, it travels in bundles, and two devices that change the same kind's template make
a conflict shown in Conflicts. Its id is derived from the activity kind (`ids.note_template_id`),
so every device edits the one record of a kind. The kind joined format 2 before format 2 was
released (0.1.0 speaks format 1), so no released reader exists that would refuse it.

A kind with no template record (or whose record is deleted) takes the built-in one for it: the
議事録's headings (日時・場所・出席者・議題・内容・決定事項・今後の対応) for the kinds that are
meetings of some sort, in the language of the interface; none for the others. "Back to the
built-in template" deletes the record (a tombstone, restorable as any); a template saved empty
means "no template" for that kind.

The unreleased code before this kept templates as a local setting (`note-templates` in
`local_state`); that setting is no longer read (it was never released).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from dxfield.domain.enums import ActivityKind
from dxfield.domain.records import NoteTemplateRead
from dxfield.i18n import N_, _
from dxfield.store import records, revisions
from dxfield.store.ids import note_template_id
from dxfield.store.unit import Work, unit_of

HEADINGS = (
    N_("Date and time"),
    N_("Place"),
    N_("Attendees"),
    N_("Agenda"),
    N_("Discussion"),
    N_("Decisions"),
    N_("Next steps"),
)
"""The headings of minutes, in their order (the Japanese catalogue gives the usual words)."""

MINUTES_KINDS = frozenset(
    {
        ActivityKind.meeting,
        ActivityKind.hearing,
        ActivityKind.workshop,
        ActivityKind.briefing,
        ActivityKind.consultation,
    }
)
"""The kinds whose built-in template is the minutes' headings."""

_ENTITY = "note_template"


def built_in(kind: str) -> str:
    """The template a kind has until one is saved for it (in the interface's language)."""
    if kind not in {k.value for k in MINUTES_KINDS}:
        return ""
    return "".join("## " + _(heading) + "\n\n" for heading in HEADINGS)


def saved_templates(work: Work) -> dict[str, NoteTemplateRead]:
    """The template records that are not deleted, by activity kind."""
    table = records.NOTE_TEMPLATES.table
    with unit_of(work, write=False) as unit:
        rows = unit.conn.execute(select(table).where(table.c.deleted.is_(False))).mappings()
        found = [records.NOTE_TEMPLATES.to_read(row) for row in rows]
    # A record under another id than its kind's cannot be written or taken from a bundle; the
    # kind's own id is the one that counts should a store ever hold one.
    return {t.kind.value: t for t in found if t.id == note_template_id(t.kind.value)}


def note_templates(work: Work) -> dict[str, str]:
    """Every kind's template (saved, else built in); kinds without one are left out."""
    saved = saved_templates(work)
    found = {
        kind.value: saved[kind.value].text if kind.value in saved else built_in(kind.value)
        for kind in ActivityKind
    }
    return {kind: text for kind, text in found.items() if text.strip()}


def note_template(work: Work, kind: str) -> str:
    """The template of `kind` ("" for none)."""
    return note_templates(work).get(kind, "")


@dataclass(frozen=True)
class TemplateState:
    """One kind's template as `dxfield template list` shows it."""

    kind: str
    text: str
    saved: bool
    """True: the kind's record (synced); False: the built-in template (or none)."""
    id: str
    """The id of the kind's record, whether it exists or not (`restore`, `history`)."""


def template_states(work: Work) -> list[TemplateState]:
    """Every activity kind's template, in the kinds' order, saved or built in."""
    saved = saved_templates(work)
    return [
        TemplateState(
            kind.value,
            saved[kind.value].text if kind.value in saved else built_in(kind.value),
            kind.value in saved,
            note_template_id(kind.value),
        )
        for kind in ActivityKind
    ]


def set_note_template(work: Work, kind: str, text: str) -> bool:
    """Save `kind`'s template (empty: no template for it), as a new version of the kind's one
    record; returns whether anything was written. Saving the text a kind shows already writes
    nothing (the built-in template of a kind that has no record stays built in)."""
    value = ActivityKind.parse_field(kind, "kind").value
    content = records.validate(_ENTITY, {"kind": value, "text": text})
    record_id = note_template_id(value)
    table = records.NOTE_TEMPLATES.table
    with unit_of(work, write=True) as unit:
        current = (
            unit.conn.execute(select(table.c.deleted, table.c.text).where(table.c.id == record_id))
            .mappings()
            .first()
        )
        if current is None or current["deleted"]:
            if content["text"] == built_in(value):
                return False
            if current is None:
                records.NOTE_TEMPLATES.create(unit, content, record_id=record_id)
            else:  # deleted: the new text brings the record back, following its deletion
                revisions.write_record(unit, _ENTITY, record_id, content)
            return True
        _record, changed = records.NOTE_TEMPLATES.edit(unit, record_id, {"text": content["text"]})
        return changed


def reset_note_template(work: Work, kind: str) -> bool:
    """Go back to `kind`'s built-in template (the record is deleted, its history kept);
    returns whether anything was written."""
    value = ActivityKind.parse_field(kind, "kind").value
    record_id = note_template_id(value)
    table = records.NOTE_TEMPLATES.table
    with unit_of(work, write=True) as unit:
        deleted = unit.conn.execute(select(table.c.deleted).where(table.c.id == record_id)).scalar()
        if deleted is None or deleted:
            return False
        records.NOTE_TEMPLATES.delete(unit, record_id)
        return True
