"""Note templates per activity kind: the headings a 議事録 uses, to start a new activity's note.

Kept on this device (a setting in `local_state`), not synced: bundle format 2 names every
record kind it carries and a reader refuses a bundle holding a kind it does not know (see
docs/bundle-format.md §4), so a synced template would be a new record kind that every older
dxfield refuses: that is a format change, left for later (issue 18's report).

A kind with no template of its own takes the built-in one for it: the 議事録's headings
(日時・場所・出席者・議題・内容・決定事項・今後の対応) for the kinds that are meetings of
some sort, in the language of the interface; none for the others. A template saved empty means
"no template" for that kind.
"""

from __future__ import annotations

from dxfield.domain.enums import ActivityKind
from dxfield.i18n import N_, _
from dxfield.store.local_state import get_setting, set_setting
from dxfield.store.unit import Work

SETTING = "note-templates"

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


def built_in(kind: str) -> str:
    """The template a kind has until one is saved for it (in the interface's language)."""
    if kind not in {k.value for k in MINUTES_KINDS}:
        return ""
    return "".join("## " + _(heading) + "\n\n" for heading in HEADINGS)


def _saved(work: Work) -> dict[str, str]:
    value = get_setting(work, SETTING, {})
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def note_templates(work: Work) -> dict[str, str]:
    """Every kind's template (saved, else built in); kinds without one are left out."""
    saved = _saved(work)
    found = {kind.value: saved.get(kind.value, built_in(kind.value)) for kind in ActivityKind}
    return {kind: text for kind, text in found.items() if text.strip()}


def note_template(work: Work, kind: str) -> str:
    """The template of `kind` ("" for none)."""
    return note_templates(work).get(kind, "")


def set_note_template(work: Work, kind: str, text: str) -> None:
    """Save `kind`'s template (empty: no template for it)."""
    ActivityKind.parse_field(kind, "kind")
    saved = _saved(work)
    saved[kind] = text
    set_setting(work, SETTING, saved)


def reset_note_template(work: Work, kind: str) -> None:
    """Go back to `kind`'s built-in template."""
    saved = _saved(work)
    if saved.pop(kind, None) is not None:
        set_setting(work, SETTING, saved)
