"""Reference data: 兵庫県 and its 41 municipalities, shared ids, kana order, CSV import."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxfield.domain.codes import check_digit
from dxfield.domain.enums import OrgKind
from dxfield.domain.errors import LocalizedError
from dxfield.store import maintenance, organizations
from dxfield.store.engine import Store
from dxfield.store.reference import municipality_id


def code_with_check_digit(first_five: str) -> str:
    """A valid six-digit code for five digits."""
    return f"{first_five}{check_digit(first_five)}"


def test_a_new_store_knows_hyogo_and_its_41_municipalities(store: Store) -> None:
    orgs = organizations.list_organizations(store)
    assert len([o for o in orgs if o.kind is OrgKind.municipality]) == 41
    prefecture = [o for o in orgs if o.kind is OrgKind.prefecture]
    assert [(o.name, o.code) for o in prefecture] == [("兵庫県", "280003")]
    toyooka = next(o for o in orgs if o.name == "豊岡市")
    assert toyooka.id == municipality_id("282090")
    assert toyooka.parent_id == prefecture[0].id


def test_lists_sort_by_kana_reading(store: Store) -> None:
    names = [o.name for o in organizations.list_organizations(store, kinds=[OrgKind.municipality])]
    assert names[:3] == ["相生市", "明石市", "赤穂市"]  # あいおい, あかし, あこう
    assert names[-1] == "養父市"  # やぶし


def test_every_store_agrees_on_reference_records(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a") as a, Store.open(tmp_path / "b") as b:
        assert a.device.id != b.device.id
        assert maintenance.dump_text(a) == maintenance.dump_text(b)


def test_municipalities_resolve_by_name_code_or_full_width_code(store: Store) -> None:
    expected = municipality_id("282090")
    assert organizations.resolve_municipality(store, "豊岡市") == expected
    assert organizations.resolve_municipality(store, "282090") == expected
    assert organizations.resolve_municipality(store, "２８２０９０") == expected
    with pytest.raises(LocalizedError, match="check digit"):
        organizations.resolve_municipality(store, "282091")
    with pytest.raises(LocalizedError, match="no organization"):
        organizations.resolve_municipality(store, "豊岡")


def test_a_name_not_found_is_told_with_those_that_hold_it(store: Store) -> None:
    """「豊岡」 or its reading 「とよおか」 is no organization, but names 豊岡市: the error says
    so, among the kinds asked for, three at most, in kana order; a name nothing holds (or a
    LIKE wildcard, taken as itself) is told as before."""
    organizations.add_organization(store, kind="community", name="豊岡北地区", parent="豊岡市")

    def refused(text: str, *, municipality: bool = True) -> tuple[str, str]:
        with pytest.raises(LocalizedError) as caught:
            if municipality:
                organizations.resolve_municipality(store, text)
            else:
                organizations.resolve_organization(store, text)
        return caught.value.message("en"), caught.value.message("ja")

    english, japanese = refused("豊岡")
    assert "no organization '豊岡'; did you mean '豊岡市'?" in english
    assert "団体 '豊岡' は見つかりません(もしかして: '豊岡市')" in japanese
    assert "did you mean '豊岡市'?" in refused("とよおか")[0]
    english, japanese = refused("豊岡", municipality=False)
    assert "did you mean '豊岡市', '豊岡北地区'?" in english
    assert "もしかして: '豊岡市'、'豊岡北地区'" in japanese
    assert "did you mean '相生市', '明石市', '赤穂市'?" in refused("市")[0]
    for nothing in ("xyz", "%", "_"):
        english, japanese = refused(nothing)
        assert "did you mean" not in english and "もしかして" not in japanese
        assert f"no organization '{nothing}'" in english


def test_another_prefecture_can_be_imported(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "tottori.csv"
    rows = [
        ("31000", "鳥取県", "とっとりけん", "prefecture"),
        ("31201", "鳥取市", "とっとりし", "city"),
        ("31364", "智頭町", "ちづちょう", "town"),
    ]
    csv.write_text(
        "code,name,kana,kind\n"
        + "".join(f"{code_with_check_digit(c)},{n},{k},{kind}\n" for c, n, k, kind in rows),
        encoding="utf-8",
    )
    assert organizations.import_organizations(store, csv) == (3, 0)
    assert organizations.import_organizations(store, csv) == (0, 3)
    chizu = organizations.resolve_municipality(store, "智頭町")
    assert chizu == municipality_id(code_with_check_digit("31364"))


def test_a_bad_csv_row_names_its_line_and_writes_nothing(store: Store, tmp_path: Path) -> None:
    before = maintenance.dump_text(store)
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "code,name,kana,kind\n310000,鳥取県,とっとりけん,prefecture\n"
        "312012,鳥取市,とっとりし,city\n",
        encoding="utf-8",
    )
    with pytest.raises(LocalizedError, match="line 3: local government code: "):
        organizations.import_organizations(store, csv)
    assert maintenance.dump_text(store) == before


def test_a_code_twice_in_a_file_or_renamed_is_refused(store: Store, tmp_path: Path) -> None:
    before = maintenance.dump_text(store)
    twice = tmp_path / "twice.csv"
    twice.write_text(
        "code,name,kana,kind\n310000,鳥取県,とっとりけん,prefecture\n"
        "310000,鳥取県,とっとりけん,prefecture\n",
        encoding="utf-8",
    )
    with pytest.raises(
        LocalizedError, match="line 3: local government code: 310000 repeats line 2"
    ):
        organizations.import_organizations(store, twice)
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("code,name,kana,kind\n282090,豊丘市,とよおかし,city\n", encoding="utf-8")
    with pytest.raises(LocalizedError, match="already 豊岡市"):
        organizations.import_organizations(store, renamed)
    assert maintenance.dump_text(store) == before


def test_each_municipality_gets_its_own_prefecture(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "two.csv"
    csv.write_text(
        "\ufeffcode,name,kana,kind,note\n"
        f"{code_with_check_digit('31000')},鳥取県,とっとりけん,prefecture,\n"
        f"{code_with_check_digit('32000')},島根県,しまねけん,prefecture,\n"
        f"{code_with_check_digit('31201')},鳥取市,とっとりし,city,extra columns are fine\n"
        f"{code_with_check_digit('32201')},松江市,まつえし,city,\n",
        encoding="utf-8",
    )
    organizations.import_organizations(store, csv)
    orgs = {o.name: o for o in organizations.list_organizations(store)}
    assert orgs["鳥取市"].parent_id == orgs["鳥取県"].id
    assert orgs["松江市"].parent_id == orgs["島根県"].id
