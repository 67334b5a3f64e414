"""Enumerations of the domain, each member with a label in the user's language.

A member is declared as `key = "key"`; its labels are English in the code, in the class's
`_labels(lang)` (`pgettext("activity kind", "Meeting", lang)`), and translated by the catalogue.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from dxfield.i18n import N_, LocalizedError, about, current_language, pgettext, problems, quote

PROBLEMS = problems({"choice.unknown": N_("unknown value {value}; choose one of: {choices}")})


class LabelledEnum(StrEnum):
    """A string enum whose members have a label in each language, from the catalogue."""

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        """Each member's label in `lang`, by key (subclasses list theirs)."""
        return {}

    def label(self, lang: str | None = "ja") -> str:
        """The member's label in `lang` ("ja", "en"; None: the user's language)."""
        return type(self)._labels(lang or current_language()).get(self.value, self.value)

    @property
    def ja(self) -> str:
        """The member's Japanese label (the prefecture's report is in Japanese)."""
        return self.label("ja")

    @property
    def en(self) -> str:
        """The member's English label."""
        return self.label("en")

    @classmethod
    def parse(cls, text: str) -> Self:
        """Find a member by key or by its label in either language; raise naming the choices."""
        wanted = text.strip()
        by_key = cls._value2member_map_.get(wanted.lower())
        if by_key is not None:  # a key (what tables and scripts give): no labels to look up
            return by_key  # type: ignore[return-value]
        labels = {lang: cls._labels(lang) for lang in ("ja", "en")}
        for member in cls:
            if wanted.lower() == member.value or wanted in (
                labels["ja"].get(member.value),
                labels["en"].get(member.value),
            ):
                return member
        choices = ", ".join(m.value for m in cls)
        raise LocalizedError("choice.unknown", value=quote(text), choices=choices)

    @classmethod
    def parse_field(cls, text: str, field: str) -> Self:
        """`parse`, with the error naming `field`."""
        if isinstance(text, str):  # a key (a table's every row): found without the labels
            by_key = cls._value2member_map_.get(text.strip().lower())
            if by_key is not None:
                return by_key  # type: ignore[return-value]
        with about(field):
            return cls.parse(text)


class OrgKind(LabelledEnum):
    """What kind of body an organization is."""

    prefecture = "prefecture"
    municipality = "municipality"
    provider = "provider"
    community = "community"
    school = "school"
    business = "business"
    agency = "agency"
    other = "other"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "prefecture": pgettext("organization kind", "Prefecture", lang),
            "municipality": pgettext("organization kind", "Municipality", lang),
            "provider": pgettext("organization kind", "Support provider", lang),
            "community": pgettext("organization kind", "Community", lang),
            "school": pgettext("organization kind", "School", lang),
            "business": pgettext("organization kind", "Business", lang),
            "agency": pgettext("organization kind", "Agency", lang),
            "other": pgettext("organization kind", "Other", lang),
        }


class ActivityKind(LabelledEnum):
    """What kind of field activity was held."""

    meeting = "meeting"
    workshop = "workshop"
    hearing = "hearing"
    briefing = "briefing"
    site_visit = "site_visit"
    training = "training"
    consultation = "consultation"
    survey = "survey"
    trial = "trial"
    other = "other"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "meeting": pgettext("activity kind", "Meeting", lang),
            "workshop": pgettext("activity kind", "Workshop", lang),
            "hearing": pgettext("activity kind", "Hearing", lang),
            "briefing": pgettext("activity kind", "Briefing", lang),
            "site_visit": pgettext("activity kind", "Site visit", lang),
            "training": pgettext("activity kind", "Training", lang),
            "consultation": pgettext("activity kind", "Consultation", lang),
            "survey": pgettext("activity kind", "Survey", lang),
            "trial": pgettext("activity kind", "Trial", lang),
            "other": pgettext("activity kind", "Other", lang),
        }


class SupportArea(LabelledEnum):
    """The three outcome areas the national programme reports on."""

    vision = "vision"
    talent = "talent"
    implementation = "implementation"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "vision": pgettext("support area", "Vision and organizational capacity", lang),
            "talent": pgettext("support area", "Talent development", lang),
            "implementation": pgettext("support area", "Managing implementation", lang),
        }


class FindingKind(LabelledEnum):
    """What a finding records."""

    outcome = "outcome"
    insight = "insight"
    success_factor = "success_factor"
    failure_factor = "failure_factor"
    issue = "issue"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "outcome": pgettext("finding kind", "Outcome", lang),
            "insight": pgettext("finding kind", "Insight", lang),
            "success_factor": pgettext("finding kind", "Success factor", lang),
            "failure_factor": pgettext("finding kind", "Failure factor", lang),
            "issue": pgettext("finding kind", "Issue", lang),
        }


class ActionStatus(LabelledEnum):
    """Where an action item (今後の取組方針) stands."""

    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "planned": pgettext("action status", "Planned", lang),
            "in_progress": pgettext("action status", "In progress", lang),
            "done": pgettext("action status", "Done", lang),
            "dropped": pgettext("action status", "Dropped", lang),
        }


class ProviderRole(LabelledEnum):
    """A support provider's role in an initiative."""

    representative = "representative"
    resident = "resident"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "representative": pgettext("provider role", "Representative provider", lang),
            "resident": pgettext("provider role", "Resident provider", lang),
        }


class InitiativeStatus(LabelledEnum):
    """Whether an initiative is under way."""

    active = "active"
    paused = "paused"
    closed = "closed"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "active": pgettext("initiative status", "Active", lang),
            "paused": pgettext("initiative status", "Paused", lang),
            "closed": pgettext("initiative status", "Closed", lang),
        }


class DatePrecision(LabelledEnum):
    """How precisely an activity's date is known (documents often say only 10月下旬 or 令和6年度)."""

    day = "day"
    early_month = "early_month"
    mid_month = "mid_month"
    late_month = "late_month"
    month = "month"
    fiscal_year = "fiscal_year"

    @classmethod
    def _labels(cls, lang: str | None) -> dict[str, str]:
        return {
            "day": pgettext("date precision", "Day", lang),
            "early_month": pgettext("date precision", "Early in the month", lang),
            "mid_month": pgettext("date precision", "Mid-month", lang),
            "late_month": pgettext("date precision", "Late in the month", lang),
            "month": pgettext("date precision", "Month", lang),
            "fiscal_year": pgettext("date precision", "Fiscal year", lang),
        }
