"""The demo dataset, as loaded into a store, against its source document.

The source is Hyogo's public summary of its R6 regional DX programme (`hyogo-regional-dx-r6.txt`,
packaged in `dxfield.demo`). Every check here reads the LOADED STORE through the store's services
(or its canonical dump), never the TOML, so that a wrong, missing or invented record fails:

- per municipality (and 兵庫県): the initiative's theme, title and background, its providers with
  their role, the activities the document reports (dates included), the outcomes per support area,
  and the 今後の取組方針 items; the expected values are literal data copied from the document;
- verbatim: every Japanese text in the store is an exact substring of the document;
- coverage: every bullet of the document ends up in some record;
- 豊岡市's two engagement tracks on the built-in four-stage model;
- determinism: idempotent loading, byte-identical dumps across stores, and the CLI path.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from dxfield.demo.loader import load_demo
from dxfield.domain.enums import OrgKind
from dxfield.domain.records import ActivityRead
from dxfield.store import activities, followups, maintenance, organizations
from dxfield.store.engine import Store
from dxfield.store.ids import reference_id

DOCUMENT = "hyogo-regional-dx-r6.txt"
SEED_COPY = Path(__file__).resolve().parents[3] / "shared" / "seed" / DOCUMENT
AS_OF = dt.date(2024, 10, 31)
FISCAL_YEAR_START = dt.date(2024, 4, 1)
ACTIONS_HEADING = "- 5.地域DX推進に向けた今後の取組方針"
OVERVIEW_HEADING = "県及び各市町の取組概要"
AREA_HEADINGS = {
    "ビジョン策定・組織能力強化に係る支援": "vision",
    "人材育成に係る伴走支援": "talent",
    "地域DX実装の実行管理に係る支援": "implementation",
}
AREAS = tuple(AREA_HEADINGS.values())
REPRESENTATIVE = "(株)電通総研"
HYOGO_NOT_APPLICABLE = "該当なし(兵庫県では他のアウトカムにフォーカス)"
TOYOOKA_COMMUNITIES = ("奥矢根区", "資母地区コミュニティ")


# ---------------------------------------------------------------------------------------------
# What the document says, written out by hand


@dataclass(frozen=True)
class Place:
    """What the document reports for the prefecture or one municipality."""

    slug: str
    code: str
    name: str
    theme: str
    title: str
    resident: str | None  # the 常駐支援事業者; None: no providers at all
    outcomes: Mapping[str, tuple[str, ...]]
    actions: tuple[str, ...]
    # (title, kind or None when the document's wording does not fix the kind)
    activities: tuple[tuple[str, str | None], ...]


PLACES: tuple[Place, ...] = (
    Place(
        slug="hyogo",
        code="280003",
        name="兵庫県",
        theme="地域DX",
        title="県内6市町と連携し、それぞれが掲げるテーマに沿って、課題の明確化から解決策の実証・実装までを行い、地域DXのモデルを創出する",
        resident=None,
        outcomes={
            "vision": (
                "ひょうご地域DX推進検討会の開催等を通じて、県内市町を巻き込みながらDX推進体制を強化。",
                "県の取組みであるDX推進リエゾン(市町との橋渡しの役割)と連携して伴走支援を進めることで、県が6市町それぞれのDX推進の実情やリアルな問題・課題を把握。県のきめ細かい支援により、市町におけるDX推進を加速。本事業での事例を地域DXモデルとして、県内の市町へ広域展開し、持続的な地域DX推進の実現につなげる。",
            ),
            "talent": (HYOGO_NOT_APPLICABLE,),
            "implementation": (HYOGO_NOT_APPLICABLE,),
        },
        actions=(
            "ひょうご地域DX推進検討会の開催や兵庫県の地域DX推進方策(仮称)策定等を継続支援する。その中で、6市町の現状、課題、成功・失敗のポイントを把握・分析するとともに、6市町で検討された地域DXモデルの整理を支援する。",
        ),
        activities=(
            ("第2回ひょうご地域DX推進検討会", "meeting"),
            ("県および市町向けのDX人材育成メニューの検討", None),
        ),
    ),
    Place(
        slug="amagasaki",
        code="282022",
        name="尼崎市",
        theme="観光DX",
        title="「観光DX」を突破口に市政のDXを推進",
        resident="Acall(株)",
        outcomes={
            "vision": (
                "伴走支援を通じて、観光DXを推進するための市の複数部門が関わる体制や役割を明確化。明確な体制と会議体が設定されることで、プロジェクトの進捗や意思決定プロセスが関係者全員にオープンになり、透明性が向上。",
            ),
            "talent": ("伴走支援を通じて、課題把握、データの抽出・整理、分析スキルを習得。",),
            "implementation": (
                "今後の観光PR施策観光戦略に基づくアクションプランを立案。これにより、尼崎市の観光DX実装を迅速化。",
            ),
        },
        actions=(
            "引き続き観光戦略策定を支援。当該戦略を次年度以降も継続的・効果的に進めるためのPDCAサイクルの確立(データに基づくKPIの設定などモニタリング方法やデータ抽出方法等)し、市の関係者と合意を図る。",
            "データを活用し、今後継続的に観光施策を実行・振り返りができる体制構築を目指して、DMP(データ・マネジメント・プラットフォームづくりの検討を支援。",
        ),
        activities=(
            ("過去施策を振り返り、現状の課題を把握するためのヒアリング", "hearing"),
            ("観光戦略策定", None),
            ("体制や役割分担の明確化", None),
        ),
    ),
    Place(
        slug="nishinomiya",
        code="282049",
        name="西宮市",
        theme="窓口DX",
        title="「窓口DX」で市民の利便性を向上",
        resident="Acall(株)",
        outcomes={
            "vision": (
                "伴走支援を通じて、窓口DXを推進するための市の複数部門における連携体制を明確化。伴走支援事業者が提供したフレームワークが活用され、準備段階での十分な検討により関係者間の認識が統一されたことで、庁内の合意形成が円滑に行え、推進体制の構築につながった。",
                "DXよろず相談会を通じて、庁内のDX機運を醸成。",
            ),
            "talent": ("伴走支援を通じて、円滑なプロジェクト管理手法を習得。",),
            "implementation": (
                "窓口体験調査等を通じて、窓口DXを進める方向性や、次年度以降の窓口DX実装に係る具体策及び計画の検討準備を進めた。これにより、西宮市の窓口DX実装を迅速化。",
            ),
        },
        actions=(
            "推進チームの運営やマネジメントを通じて、市のデジタル推進課職員が自発的にプロジェクトマネジメントを行えるよう伴走し、次年度以降の持続的な推進体制の構築につなげる。",
            "窓口体験調査の結果も踏まえて、次年度以降の窓口DX実装に係る具体策及び計画を検討。",
        ),
        activities=(
            ("窓口DX推進チームの立上げ", None),
            ("窓口体験調査", "survey"),
            ("DXよろず相談会", "consultation"),
        ),
    ),
    Place(
        slug="kasai",
        code="282201",
        name="加西市",
        theme="教育DX",
        title="「教育DX」で子どもの学びの質を向上",
        resident="(株)ジオグリフ",
        outcomes={
            "vision": (
                "伴走支援を通じて、教育DXを推進するための多様なステークホルダーとその課題等を見える化。これまで教育の文脈では義務教育が中心になる傾向が強かったが、様々な部門を横断して取組む意識が醸成されてきている。",
            ),
            "talent": (
                "伴走支援を通じて、DX推進のための業務プロセスの意識付け、プロジェクトマネジメント等の重要性を認識。",
            ),
            "implementation": (
                "教職員の働き方ガイドラインの策定、次年度以降の次世代校務支援システムの導入体制整備・計画策定、教育データ活用に向けたロードマップ等を策定。これにより、加西市の教育DX実装を迅速化。",
            ),
        },
        actions=(
            "加西市が推進するひょうごTechイノベーションプロジェクト事業(1.STEAMプログラム開発授業の充実、2.非認知能力指標の作成・評価、3.教職員の授業力アップ)とも連動させる形で、加西市教育委員会が目指す将来像を具体化。次世代型校務支援システムの導入・運用に際し教職員の働き方改革ガイドラインの策定を支援する。",
            "教育DXにおけるステークホルダーとその課題等を見える化する。政策部情報課のスマートシティ会議と歩調を合わせながら、教育データ活用における個人情報の取扱い等を整理した上で、教育データ活用のロードマップ作成、来年度事業計画への落とし込みを支援する。さらに、生涯学習に範囲を広げてPDS構想のロードマップの作成を支援する。",
        ),
        activities=(
            ("次世代型校務支援システムの仕様検討", None),
            (
                "多様なステークホルダー(教育委員、教育委員会事務局、学校現場、社会教育委員等)に対してのヒアリング",
                "hearing",
            ),
        ),
    ),
    Place(
        slug="taka",
        code="283657",
        name="多可町",
        theme="保健福祉DX",
        title="「保健福祉DX」を中心に持続する地域づくりを推進",
        resident="(株)ジオグリフ",
        outcomes={
            "vision": (
                "ワークショップや地域情報化アドバイザーの招聘等により、庁内全体でDX推進を考える機会をつくり、また企画秘書課、財政課、伴走支援事業者が様々な部門とDX推進に係るコミュニケーションを取ることで、庁内全体のDX推進に係る機運を醸成。",
            ),
            "talent": (
                "子どもの予防接種アプリの業務フローを検証する中で、市民視点・事業者視点の考え方、ステークホルダーの洗出しが重要性を認識。",
            ),
            "implementation": (
                "庁内情報システムの総合的な中期計画、DX業務改善計画の重要性を認識。今後策定予定。予種アプリの仕様を策定。これらにより、多可町の保健福祉DX実装及び庁内全体でのDX推進を図る。",
            ),
        },
        actions=(
            "これまで町内の各課が個別に導入してきた情報システムのリストアップを実施したうえで、庁内情報システムの総合的な中期計画の立案、DX業務改善計画の策定を支援する。",
            "予防接種アプリについて、システム導入と運用体制の整備を支援する。ケアマネージャー業務デジタル化については、ひょうごTECHイノベーションプロジェクト事業と連動する形で、次年度以降の事業計画策定を支援する。",
        ),
        activities=(
            ("第1回DX兼行革推進本部会議", "meeting"),
            ("町職員参加型のワークショップ", "workshop"),
            ("地域情報化アドバイザーの招聘", None),
            ("子どもの予防接種アプリ", None),
            ("ケアマネージャー業務デジタル化の仕様検討", None),
            ("「おくやみ配信」を基点にした各課横断の業務プロセスを整理", None),
            ("ノーコードアプリの利用に係る検討", None),
            ("各課が利用する業務システムのリストアップ", None),
        ),
    ),
    Place(
        slug="kamigori",
        code="284815",
        name="上郡町",
        theme="農業DX",
        title="「農業DX」で農業・農村の持続性を向上",
        resident="(株)ジオグリフ",
        outcomes={
            "vision": (
                "伴走支援を通じて、農業DXを推進するための上郡町・有志農家・事業者の連携した体制を構築。伴走支援の中で、出口側のDXを生産側に波及させていくことが現実的であるという気づきのもと、体制構築を進めている。",
            ),
            "talent": (
                "農業DXに関しては、スマート農業等生産技術支援を進めることが農業DXであるとの認識があったが、出口側からDXを進めることの重要性を認識するようになった。",
            ),
            "implementation": (
                "農業DX推進に向けた地元農産物を出品できる仕組み・体制ついて、次年度以降の事業計画等を策定。また、上郡町が導入済みのDXツールの次年度以降の活用計画等を策定。これらにより、上郡町の農業DX実装を迅速化。",
            ),
        },
        actions=(
            "DXを所管する総務課・本事業の窓口である農林振興課、合わせて地域振興課との協議の場を伴走支援事業者が主導して作り、上郡町における持続的なDX推進につなげる。また、上郡町が導入済みのDXツール(スマートグラス等)の運用・評価を行い、次年度以降の有効な活用計画等の策定を支援する。",
            "地元農産物を出品できる仕組み及びその物流を支援する体制の構築を支援する。その上で、これらの仕組み・体制が次年度以降も持続的に活用できるよう事業計画を策定し、農業DX支援機関として機能するよう支援する。",
        ),
        activities=(
            ("農業DX推進体制構築", None),
            ("外部ステークホルダーであるECサイトの運営者や農家の方への声掛け・巻き込み", None),
        ),
    ),
    Place(
        slug="toyooka",
        code="282090",
        name="豊岡市",
        theme="配送DX",
        title="「配送DX」を中心に地域DXを推進",
        resident="(一社)コード・フォー・ジャパン",
        outcomes={
            "vision": (
                "住民合意形成を伴走支援事業者が主導して着実に進めることで、住民を含むステークホルダーを巻き込んだ配送DXを推進するための体制を強化。",
            ),
            "talent": ("DX研修により、住民参画やサービスづくりに有効な手法等の知識を習得。",),
            "implementation": (
                "実証実験を通じて、配送DXの中長期実装計画を検討。これにより、豊岡市のDX推進を迅速化。",
            ),
        },
        actions=(
            "年内の実証実験実施に向け、具体的な配送モデル検討・住民との実証実験仕様の調整を支援する。",
            "今後のより具体的な住民合意形成や実証実験調整の中で、市のDX担当職員が、実践的にサービスデザイン・データ利活用知識等を活かせるよう、伴走学習(ライブトレーニング)を実施する。",
        ),
        activities=(
            ("ドローン配送説明会", "briefing"),
            ("意見交換・ワークショップ", "workshop"),
            ("西米良村への訪問", "site_visit"),
            ("DXスキル(サービスデザイン、ファシリテーション、データ利活用)の研修", "training"),
            ("実証実験を年内に実施すべく調整", None),
        ),
    ),
)
MUNICIPALITIES = tuple(p for p in PLACES if p.code != "280003")
BY_NAME = {p.name: p for p in PLACES}

# The only activities the document dates: (municipality, title) -> (date, precision, wording).
DATED: dict[tuple[str, str], tuple[dt.date, str, str]] = {
    ("多可町", "第1回DX兼行革推進本部会議"): (dt.date(2024, 6, 25), "day", "6月25日"),
    ("豊岡市", "西米良村への訪問"): (dt.date(2024, 7, 17), "day", "7月17日"),
    ("西宮市", "窓口体験調査"): (dt.date(2024, 10, 21), "late_month", "10月下旬"),
}

by_place = pytest.mark.parametrize("place", PLACES, ids=lambda p: f"{p.slug}-{p.code}")
by_municipality = pytest.mark.parametrize("place", MUNICIPALITIES, ids=lambda p: p.slug)


# ---------------------------------------------------------------------------------------------
# Reading the document


@functools.cache
def document_text() -> str:
    """The packaged copy of the source document."""
    return resources.files("dxfield.demo").joinpath(DOCUMENT).read_text("utf-8")


def document_lines() -> list[str]:
    """The document's lines, without line ends."""
    return document_text().splitlines()


def section_lines(name: str) -> list[str]:
    """The lines of one place's part of 県及び各市町の取組概要, heading excluded."""
    lines = document_lines()
    start = lines.index(OVERVIEW_HEADING)
    headings = {p.name for p in PLACES}
    begin = lines.index(name, start) + 1
    end = next((i for i in range(begin, len(lines)) if lines[i] in headings), len(lines))
    return lines[begin:end]


@dataclass
class Section:
    """One place's part of the document, split the way the document is laid out."""

    background: str
    done: list[str]  # the "what was done" bullets before the first support-area heading
    outcomes: dict[str, list[str]]
    actions: list[str]


def parse_section(name: str) -> Section:
    """Split a place's section into background, done-bullets, outcomes per area and actions."""
    lines = section_lines(name)
    section = Section(background=lines[0], done=[], outcomes={}, actions=[])
    mode, area = "done", ""
    for line in lines[1:]:
        heading = line.removesuffix(" |")
        if line.startswith(ACTIONS_HEADING):
            mode = "actions"
        elif heading in AREA_HEADINGS:
            mode, area = "outcomes", AREA_HEADINGS[heading]
            section.outcomes[area] = []
        elif line == "|":
            mode = "between"
        elif mode == "done" and line.startswith("- "):
            section.done.append(line[2:])
        elif mode == "outcomes":
            section.outcomes[area].append(line.removeprefix("- ").removesuffix(" |"))
        elif mode == "actions" and line.startswith("- "):
            section.actions.append(line[2:])
    return section


def document_bullets() -> list[str]:
    """Every `- ` line of the document (prefix removed), the 今後の取組方針 headings left out."""
    return [
        line[2:]
        for line in document_lines()
        if line.startswith("- ") and not line.startswith(ACTIONS_HEADING)
    ]


# ---------------------------------------------------------------------------------------------
# Reading the store


def municipality_org_id(store: Store, code: str) -> str:
    """The id of the organization holding a local government code (exactly one)."""
    found = [o for o in organizations.list_organizations(store) if o.code == code]
    assert len(found) == 1, f"expected one organization with code {code}, found {len(found)}"
    return found[0].id


def initiative_of(store: Store, place: Place) -> followups.InitiativeSummary:
    """The one initiative of a place, looked up by its local government code."""
    found = followups.list_initiatives(store, municipality=place.code)
    assert len(found) == 1, (
        f"{place.name} ({place.code}) should have exactly one initiative, has {len(found)}: "
        f"{[s.initiative.title for s in found]}"
    )
    return found[0]


def all_activities(store: Store) -> list[ActivityRead]:
    """Every live activity, read back in full."""
    rows = activities.list_activities(store, limit=100_000)
    return [activities.get_activity(store, row.id) for row in rows]


def activities_of(store: Store, place: Place) -> list[ActivityRead]:
    """The activities logged for a place (by municipality)."""
    muni_id = municipality_org_id(store, place.code)
    return [a for a in all_activities(store) if a.municipality_id == muni_id]


def dump_records(store: Store, entity: str) -> list[dict[str, Any]]:
    """The live records of one entity as they appear in the canonical dump."""
    return [
        r for r in maintenance.dump(store)["records"] if r["type"] == entity and not r["deleted"]
    ]


def stored_texts(store: Store) -> list[tuple[str, str]]:
    """(what, text) for every document-derived text in the store (reference names excluded)."""
    texts: list[tuple[str, str]] = []
    for org in organizations.list_organizations(store):
        if org.code is None:  # reference municipalities carry a code; the demo's own do not
            texts.append((f"organization {org.id} name", org.name))
    for summary in followups.list_initiatives(store):
        i = summary.initiative
        for field in ("theme", "title", "background"):
            texts.append((f"initiative {summary.municipality} {field}", getattr(i, field)))
    for a in all_activities(store):
        texts.append((f"activity {a.title!r} title", a.title))
        texts.append((f"activity {a.title!r} notes", a.notes))
        texts.append((f"activity {a.title!r} location", a.location))
        texts.append((f"activity {a.title!r} participants text", a.participants.text))
    for f in followups.list_findings(store):
        texts.append((f"finding {f.id} ({f.kind.value}) text", f.text))
    for item in followups.list_actions(store):
        texts.append((f"action {item.action.id} text", item.action.text))
        texts.append((f"action {item.action.id} owner", item.action.owner))
    for move in dump_records(store, "stage_move"):
        texts.append((f"stage move {move['id']} note", move["data"]["note"]))
    return [(what, text) for what, text in texts if text]


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One demo store shared by the read-only checks of this module (loading takes ~0.5 s).

    Tests that write use the per-test `demo_store` fixture instead.
    """
    with Store.open(tmp_path_factory.mktemp("demo-shared")) as opened:
        load_demo(opened)
        yield opened


# ---------------------------------------------------------------------------------------------
# The expectations above agree with the document (guards against typos in this file)


def test_document_copy_matches_the_seed() -> None:
    if not SEED_COPY.is_file():
        pytest.skip(f"the shared seed is not beside the repository ({SEED_COPY})")
    packaged = resources.files("dxfield.demo").joinpath(DOCUMENT).read_bytes()
    assert packaged == SEED_COPY.read_bytes(), (
        f"src/dxfield/demo/{DOCUMENT} differs from {SEED_COPY}"
    )


@by_place
def test_expectations_match_the_document(place: Place) -> None:
    section = parse_section(place.name)
    assert {a: list(texts) for a, texts in place.outcomes.items()} == section.outcomes
    assert list(place.actions) == section.actions
    assert place.title in document_text()
    own_part = "\n".join(section_lines(place.name))
    for title, _ in place.activities:
        assert title in own_part, f"{place.name}: {title!r} is not in its section"


# ---------------------------------------------------------------------------------------------
# Per municipality: initiative, providers, activities, outcomes, actions


@by_place
def test_initiative_theme_title_and_background(loaded: Store, place: Place) -> None:
    summary = initiative_of(loaded, place)
    initiative = summary.initiative
    assert summary.municipality == place.name
    assert initiative.municipality_id == municipality_org_id(loaded, place.code)
    assert initiative.theme == place.theme, f"{place.name}: wrong theme"
    assert initiative.title == place.title, f"{place.name}: wrong title"
    assert initiative.background == parse_section(place.name).background, (
        f"{place.name}: the background should be its 取組概要 paragraph"
    )
    assert initiative.fiscal_year == 2024


@by_place
def test_providers_and_roles(loaded: Store, place: Place) -> None:
    summary = initiative_of(loaded, place)
    expected = (
        []
        if place.resident is None
        else [(REPRESENTATIVE, "representative"), (place.resident, "resident")]
    )
    assert sorted(summary.providers) == sorted(expected), f"{place.name}: providers and roles"


def test_provider_organizations(loaded: Store) -> None:
    providers = organizations.list_organizations(loaded, kinds=[OrgKind.provider])
    expected = {REPRESENTATIVE} | {p.resident for p in PLACES if p.resident}
    assert sorted(o.name for o in providers) == sorted(expected)


@by_place
def test_activities_reported_by_the_document(loaded: Store, place: Place) -> None:
    logged = activities_of(loaded, place)
    initiative_id = initiative_of(loaded, place).initiative.id
    by_title: dict[str, list[ActivityRead]] = {}
    for a in logged:
        by_title.setdefault(a.title, []).append(a)
    missing = [title for title, _ in place.activities if title not in by_title]
    assert not missing, f"{place.name}: missing activities {missing}; has {sorted(by_title)}"
    for title, kind in place.activities:
        (activity,) = by_title[title]
        if kind is not None:
            assert activity.kind.value == kind, f"{place.name} {title!r}: kind"
    for a in logged:
        assert a.initiative_id == initiative_id, f"{place.name} {a.title!r}: wrong initiative"
    done = parse_section(place.name).done
    for bullet in done:
        assert any(bullet in a.notes for a in logged), (
            f"{place.name}: no activity carries this bullet in its notes: {bullet!r}"
        )


def test_activity_dates(loaded: Store) -> None:
    names = {municipality_org_id(loaded, p.code): p.name for p in PLACES}
    seen = set()
    for a in all_activities(loaded):
        key = (names.get(a.municipality_id or "", "?"), a.title)
        if key in DATED:
            date, precision, wording = DATED[key]
            seen.add(key)
            assert (a.date, a.date_precision.value) == (date, precision), f"{key}: date"
            assert wording in a.notes, f"{key}: its notes should say {wording}"
        else:
            assert (a.date, a.date_precision.value) == (FISCAL_YEAR_START, "fiscal_year"), (
                f"{key}: the document gives no date, so 2024-04-01 / fiscal_year"
            )
    assert seen == set(DATED), f"dated activities missing: {set(DATED) - seen}"


@by_place
@pytest.mark.parametrize("area", AREAS)
def test_outcomes_per_area(loaded: Store, place: Place, area: str) -> None:
    initiative_id = initiative_of(loaded, place).initiative.id
    found = followups.list_findings(loaded, initiative=initiative_id, kind="outcome", area=area)
    assert sorted(f.text for f in found) == sorted(place.outcomes[area]), (
        f"{place.name}: outcomes under {area}"
    )
    not_applicable = place.outcomes[area] == (HYOGO_NOT_APPLICABLE,)
    for f in found:
        assert f.not_applicable is not_applicable, f"{place.name} {area}: not_applicable flag"
        assert f.date == AS_OF


@by_place
def test_no_outcome_outside_the_three_areas(loaded: Store, place: Place) -> None:
    initiative_id = initiative_of(loaded, place).initiative.id
    found = followups.list_findings(loaded, initiative=initiative_id, kind="outcome")
    expected = sorted(text for area in AREAS for text in place.outcomes[area])
    assert sorted(f.text for f in found) == expected, (
        f"{place.name}: every outcome belongs to exactly one of the three areas"
    )


@by_place
def test_actions(loaded: Store, place: Place) -> None:
    initiative_id = initiative_of(loaded, place).initiative.id
    items = followups.list_actions(loaded, initiative=initiative_id, today=AS_OF)
    assert sorted(i.action.text for i in items) == sorted(place.actions), (
        f"{place.name}: 今後の取組方針"
    )


def test_every_action_is_as_of_the_document_date(loaded: Store) -> None:
    items = followups.list_actions(loaded, today=AS_OF)
    assert len(items) == sum(len(p.actions) for p in PLACES)
    wrong = [(i.action.text[:20], i.action.as_of) for i in items if i.action.as_of != AS_OF]
    assert not wrong, f"actions not as of {AS_OF}: {wrong}"


def test_local_government_names(loaded: Store) -> None:
    for place in PLACES:
        org_id = municipality_org_id(loaded, place.code)
        (org,) = [o for o in organizations.list_organizations(loaded) if o.id == org_id]
        assert org.name == place.name


# ---------------------------------------------------------------------------------------------
# Verbatim and coverage


def test_every_stored_text_is_verbatim(loaded: Store) -> None:
    document = document_text()
    texts = stored_texts(loaded)
    assert len(texts) > 100
    not_verbatim = [f"{what}: {text!r}" for what, text in texts if text not in document]
    assert not not_verbatim, "not exact substrings of the document:\n" + "\n".join(not_verbatim)


def test_every_bullet_of_the_document_is_in_the_store(loaded: Store) -> None:
    haystack = [text for _, text in stored_texts(loaded)]
    bullets = document_bullets()
    assert len(bullets) > 40
    missing = [b for b in bullets if not any(b in text for text in haystack)]
    assert not missing, "bullets found in no record:\n" + "\n".join(missing)


def test_references_resolve(loaded: Store) -> None:
    ids = {r["id"]: r["type"] for r in maintenance.dump(loaded)["records"] if not r["deleted"]}

    def points_to(ref: str | None, entity: str, what: str) -> None:
        assert ref is not None and ids.get(ref) == entity, f"{what} -> {ref} is not a {entity}"

    for a in all_activities(loaded):
        points_to(a.initiative_id, "initiative", f"activity {a.title!r}")
        for org_id in a.participants.organization_ids:
            points_to(org_id, "organization", f"activity {a.title!r} participant")
    for f in followups.list_findings(loaded):
        points_to(f.initiative_id, "initiative", f"finding {f.text[:20]!r}")
        if f.activity_id is not None:
            points_to(f.activity_id, "activity", f"finding {f.text[:20]!r}")
    for summary in followups.list_initiatives(loaded):
        for link in summary.initiative.providers:
            points_to(link.org_id, "organization", f"initiative {summary.municipality}")


# ---------------------------------------------------------------------------------------------
# 豊岡市's engagement tracks


def test_toyooka_engagement_tracks(loaded: Store) -> None:
    toyooka = BY_NAME["豊岡市"]
    toyooka_id = municipality_org_id(loaded, toyooka.code)
    initiative_id = initiative_of(loaded, toyooka).initiative.id
    communities = organizations.list_organizations(
        loaded, kinds=[OrgKind.community], parent_id=toyooka_id
    )
    community_ids = {o.name: o.id for o in communities}
    assert sorted(community_ids) == sorted(TOYOOKA_COMMUNITIES)

    (model,) = [
        m for m in dump_records(loaded, "stage_model") if m["data"]["key"] == "toyooka-4stage"
    ]
    assert model["id"] == reference_id("stage_model", "toyooka-4stage")
    toyooka_activities = {a.title: a.id for a in activities_of(loaded, toyooka)}
    evidence = {
        toyooka_activities["ドローン配送説明会"],
        toyooka_activities["意見交換・ワークショップ"],
    }

    tracks = dump_records(loaded, "engagement_track")
    moves = dump_records(loaded, "stage_move")
    assert sorted(t["data"]["community_id"] for t in tracks) == sorted(community_ids.values())
    for track in tracks:
        data = track["data"]
        assert data["model_id"] == model["id"]
        assert data["initiative_id"] == initiative_id
        assert data["current_stage"] == "dialogue"
        own = [m["data"] for m in moves if m["data"]["track_id"] == track["id"]]
        assert [m["to_stage"] for m in own] == ["dialogue"], f"track {track['id']}: moves"
        assert set(own[0]["evidence_ids"]) == evidence, (
            "evidence: the 説明会 and the ワークショップ"
        )


# ---------------------------------------------------------------------------------------------
# Determinism: idempotent loading, identical stores, the CLI


def test_loading_twice_changes_nothing(demo_store: Store) -> None:
    before = maintenance.dump_text(demo_store)
    load_demo(demo_store)
    assert maintenance.dump_text(demo_store) == before


def test_two_demo_stores_dump_identically(tmp_path: Path) -> None:
    dumps = []
    for name in ("one", "two"):
        with Store.open(tmp_path / name) as opened:
            load_demo(opened)
            dumps.append(maintenance.dump_text(opened))
    assert dumps[0] == dumps[1]


def test_cli_demo_then_dump(cli: Any, tmp_path: Path, loaded: Store) -> None:
    data_dir = str(tmp_path / "cli-demo")
    result = cli("--data-dir", data_dir, "demo", "--no-open")
    assert result.code == 0, result.err
    result = cli("--data-dir", data_dir, "dump")
    assert result.code == 0, result.err
    records = json.loads(result.out)["records"]
    names = {r["data"]["name"] for r in records if r["type"] == "organization"}
    assert {p.name for p in PLACES} <= names
    action_texts = {r["data"]["text"] for r in records if r["type"] == "action"}
    assert action_texts == {text for p in PLACES for text in p.actions}
    assert result.out == maintenance.dump_text(loaded), "the CLI's demo dumps like any demo store"
