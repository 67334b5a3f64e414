"""What each kind of record is called, in the user's language or another.

Kept apart from the record layer (store/records.py, which needs SQLAlchemy and pydantic) for
the verbs that only print a kind's name beside a result (`dxfield search`).
"""

from __future__ import annotations

from dxfield.i18n import pgettext


def kind_labels(lang: str | None) -> dict[str, str]:
    """What a record of each kind is called in `lang` ("record": any kind)."""
    return {
        "organization": pgettext("record kind", "organization", lang),
        "initiative": pgettext("record kind", "initiative", lang),
        "activity": pgettext("record kind", "activity", lang),
        "finding": pgettext("record kind", "finding", lang),
        "action": pgettext("record kind", "action", lang),
        "stage_model": pgettext("record kind", "stage model", lang),
        "engagement_track": pgettext("record kind", "engagement track", lang),
        "stage_move": pgettext("record kind", "stage move", lang),
        "attachment": pgettext("record kind", "attachment", lang),
        "note_template": pgettext("record kind", "note template", lang),
        "purge": pgettext("record kind", "purge", lang),
        "record": pgettext("record kind", "record", lang),
    }


def label(entity: str, lang: str | None = None) -> str:
    """What a record of `entity` is called in `lang` (the kind itself when it is not one)."""
    return kind_labels(lang).get(entity, entity)
