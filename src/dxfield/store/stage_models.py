"""Built-in stage models. 豊岡市's staged resident consensus-building comes with every store.

The stages follow the 示唆 in Hyogo's R6 summary: hear residents' stories first, build trust by
conveying context in dialogue, identify positive collaborators, then form the smallest group.
"""

from __future__ import annotations

from typing import Any

TOYOOKA_MODEL: dict[str, Any] = {
    "key": "toyooka-4stage",
    "name": "豊岡市型 住民合意形成4段階",
    "name_en": "Toyooka four-stage resident consensus",
    "builtin": True,
    "stages": [
        {
            "key": "survey",
            "label": "初期調査",
            "label_en": "Initial survey",
            "description": "初期調査で住民側のストーリー、地域の課題や期待を聞き取る。",
            "description_en": "Hear residents' stories, the area's issues and expectations.",
            "exit_criteria": "住民の声と地域の課題・期待が記録され、関係者で共有されている。",
            "exit_criteria_en": "Residents' stories, issues and expectations are recorded and shared.",
        },
        {
            "key": "dialogue",
            "label": "文脈の伝達と対話による信頼関係の構築",
            "label_en": "Trust through context and dialogue",
            "description": "住民の文脈に合う形で取組の文脈を伝え、対話しながら信頼関係を構築する。",
            "description_en": "Convey the initiative in terms that fit residents' context; "
            "build trust in dialogue.",
            "exit_criteria": "説明会や意見交換を経て、住民から取組への理解と継続的な対話の合意が得られている。",
            "exit_criteria_en": "After briefings and exchanges, residents understand the work and "
            "agree to keep talking.",
        },
        {
            "key": "collaborators",
            "label": "前向きな協力者の識別",
            "label_en": "Positive collaborators identified",
            "description": "取組に前向きな協力者を識別する。",
            "description_en": "Identify the residents who are positive about taking part.",
            "exit_criteria": "具体的な協力者(個人・団体)が特定され、参加の意向が確認されている。",
            "exit_criteria_en": "Named collaborators have confirmed they will take part.",
        },
        {
            "key": "group",
            "label": "最小単位でのグループ形成",
            "label_en": "Smallest group formed",
            "description": "まずは最小単位でのグループを形成する。",
            "description_en": "Form a group at the smallest unit first.",
            "exit_criteria": "最小単位のグループが発足し、最初の共同の取組(実証など)が始まっている。",
            "exit_criteria_en": "A smallest-unit group exists and has started its first joint step "
            "(e.g. a trial).",
        },
    ],
}
