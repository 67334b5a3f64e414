"""Same result on both engines: a hub in PostgreSQL and a hub in a SQLite file that import the
same bundles (a conflict among them) hold the same records, byte for byte in their dumps, and
write the same report."""

from __future__ import annotations

from pathlib import Path

import pytest

from dxfield.demo.loader import load_demo
from dxfield.store.activities import ActivityInput, add_activity, edit_activity
from dxfield.store.engine import Store
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from tests.conftest import Cli


def _trust_each_other(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))), name=b.device.id)
    trust_card(b, parse_card(card_text(own_card(a))), name=a.device.id)


@pytest.mark.usefixtures("frozen_today")
def test_a_hub_in_postgresql_dumps_and_reports_as_a_hub_in_a_file(
    cli: Cli, pg_database: str, tmp_path: Path
) -> None:
    places = {"file": ("--database", ""), "pg": ("--database", pg_database)}
    hubs = {
        "file": Store.open(tmp_path / "file", database=""),
        "pg": Store.open(tmp_path / "pg", database=pg_database, create=True),
    }
    toyooka, kami = (Store.open(tmp_path / name, database="") for name in ("toyooka", "kami"))
    try:
        for hub in hubs.values():
            _trust_each_other(hub, toyooka)
            _trust_each_other(hub, kami)
        _trust_each_other(toyooka, kami)
        load_demo(toyooka)  # stays on 豊岡: the demo's records are sent by nobody
        add_activity(
            toyooka,
            ActivityInput(
                municipality="豊岡市", kind="workshop", date="2024-07-17", title="意見交換会"
            ),
        )
        made = add_activity(
            kami,
            ActivityInput(
                municipality="香美町", kind="training", date="2024-09-03", title="DX研修"
            ),
        )
        bundles: list[tuple[str, Path]] = []

        def send_to_hubs(round_: int) -> None:
            for laptop in (toyooka, kami):
                for name, hub in hubs.items():
                    path = tmp_path / f"{round_}-{laptop.device.id}-{name}.dxb"
                    bundles.append((name, export_bundle(laptop, path, hub.device.id).path))

        send_to_hubs(1)
        # 香美町's activity reaches 豊岡, and both edit it: a conflict on the hubs.
        import_bundle(toyooka, export_bundle(kami, tmp_path / "k-t.dxb", toyooka.device.id).path)
        edit_activity(toyooka, made.id, ActivityInput(title="DX研修(豊岡から)"))
        edit_activity(kami, made.id, ActivityInput(title="DX研修(第1回)"))
        send_to_hubs(2)
        for name, path in bundles:
            import_bundle(hubs[name], path)
    finally:
        for store in [*hubs.values(), toyooka, kami]:
            store.close()

    def run(name: str, *args: str) -> str:
        result = cli("--data-dir", str(tmp_path / name), *places[name], *args)
        assert result.code == 0, result.err
        return result.out

    assert run("file", "dump") == run("pg", "dump")
    assert "conflicts (two devices changed a record): 1" in run("pg", "check")
    for name in places:
        run(name, "report", "--out", str(tmp_path / f"report-{name}.md"))
    report = (tmp_path / "report-pg.md").read_text(encoding="utf-8")
    assert report == (tmp_path / "report-file.md").read_text(encoding="utf-8")
    assert "豊岡市" in report
