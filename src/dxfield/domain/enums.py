"""Enumerations of the domain, each member with a Japanese and an English label."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from dxfield.i18n import LocalizedError, about, quote


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Japanese and an English label.

    Members are declared as `key = ("key", "日本語", "English")`; the value is the key.
    """

    ja: str
    en: str

    def __new__(cls, value: str, ja: str = "", en: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.ja = ja or value
        member.en = en or value
        return member

    def label(self, lang: str = "ja") -> str:
        """The member's label in `lang` ("ja" or "en")."""
        return self.ja if lang == "ja" else self.en

    @classmethod
    def parse(cls, text: str) -> Self:
        """Find a member by key or by either label; raise ValueError naming the choices."""
        wanted = text.strip()
        for member in cls:
            if wanted.lower() == member.value or wanted in (member.ja, member.en):
                return member
        choices = ", ".join(m.value for m in cls)
        raise LocalizedError(
            f"{quote(text)} は選べません。次のいずれか: {choices}",
            f"unknown value {quote(text)}; choose one of: {choices}",
        )

    @classmethod
    def parse_field(cls, text: str, field: str) -> Self:
        """`parse`, with the error naming `field`."""
        with about(field):
            return cls.parse(text)


class OrgKind(LabelledEnum):
    """What kind of body an organization is."""

    prefecture = ("prefecture", "都道府県", "Prefecture")
    municipality = ("municipality", "市区町村", "Municipality")
    provider = ("provider", "伴走支援事業者", "Support provider")
    community = ("community", "地域コミュニティ", "Community")
    school = ("school", "学校", "School")
    business = ("business", "事業者", "Business")
    agency = ("agency", "行政機関", "Agency")
    other = ("other", "その他", "Other")


class ActivityKind(LabelledEnum):
    """What kind of field activity was held."""

    meeting = ("meeting", "会議", "Meeting")
    workshop = ("workshop", "ワークショップ", "Workshop")
    hearing = ("hearing", "ヒアリング", "Hearing")
    briefing = ("briefing", "説明会", "Briefing")
    site_visit = ("site_visit", "視察", "Site visit")
    training = ("training", "研修", "Training")
    consultation = ("consultation", "相談", "Consultation")
    survey = ("survey", "調査", "Survey")
    trial = ("trial", "実証実験", "Trial")
    other = ("other", "その他", "Other")


class SupportArea(LabelledEnum):
    """The three outcome areas the national programme reports on."""

    vision = (
        "vision",
        "ビジョン策定・組織能力強化に係る支援",
        "Vision and organizational capacity",
    )
    talent = ("talent", "人材育成に係る伴走支援", "Talent development")
    implementation = (
        "implementation",
        "地域DX実装の実行管理に係る支援",
        "Managing implementation",
    )


class FindingKind(LabelledEnum):
    """What a finding records."""

    outcome = ("outcome", "成果", "Outcome")
    insight = ("insight", "知見", "Insight")
    success_factor = ("success_factor", "成功要因", "Success factor")
    failure_factor = ("failure_factor", "失敗要因", "Failure factor")
    issue = ("issue", "課題", "Issue")


class ActionStatus(LabelledEnum):
    """Where an action item (今後の取組方針) stands."""

    planned = ("planned", "予定", "Planned")
    in_progress = ("in_progress", "進行中", "In progress")
    done = ("done", "完了", "Done")
    dropped = ("dropped", "中止", "Dropped")


class ProviderRole(LabelledEnum):
    """A support provider's role in an initiative."""

    representative = ("representative", "代表事業者", "Representative provider")
    resident = ("resident", "常駐支援事業者", "Resident provider")


class InitiativeStatus(LabelledEnum):
    """Whether an initiative is under way."""

    active = ("active", "実施中", "Active")
    paused = ("paused", "休止", "Paused")
    closed = ("closed", "終了", "Closed")


class DatePrecision(LabelledEnum):
    """How precisely an activity's date is known (documents often say only 10月下旬 or 令和6年度)."""

    day = ("day", "日", "Day")
    early_month = ("early_month", "上旬", "Early in the month")
    mid_month = ("mid_month", "中旬", "Mid-month")
    late_month = ("late_month", "下旬", "Late in the month")
    month = ("month", "月", "Month")
    fiscal_year = ("fiscal_year", "年度", "Fiscal year")
