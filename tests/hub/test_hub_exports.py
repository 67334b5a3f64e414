"""A hub in PostgreSQL sends its merged log back out: what the laptops sent it, edits (revisions
with parents) included, reaches another laptop whole, as from a hub in a file."""

from __future__ import annotations

from pathlib import Path

from dxfield.store.activities import ActivityInput, add_activity, edit_activity
from dxfield.store.engine import Store
from dxfield.store.maintenance import dump
from dxfield.sync.bundle import export_bundle, import_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card


def _trust_each_other(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def test_a_hub_in_postgresql_exports_what_it_merged_to_a_laptop(
    pg_database: str, tmp_path: Path
) -> None:
    with (
        Store.open(tmp_path / "hub", database=pg_database, create=True) as hub,
        Store.open(tmp_path / "toyooka", database="", device_name="豊岡リエゾン") as toyooka,
        Store.open(tmp_path / "kami", database="", device_name="香美リエゾン") as kami,
    ):
        _trust_each_other(hub, toyooka)
        _trust_each_other(hub, kami)
        made = add_activity(
            toyooka,
            ActivityInput(
                municipality="豊岡市", kind="workshop", date="2024-07-17", title="意見交換会"
            ),
        )
        edit_activity(toyooka, made.id, ActivityInput(title="奥矢根区 意見交換会"))
        sent = export_bundle(toyooka, tmp_path / "t-h.dxb", hub.device.id).path
        assert import_bundle(hub, sent).new == 1
        back = export_bundle(hub, tmp_path / "h-k.dxb", kami.device.id)
        assert back.revisions > 0
        import_bundle(kami, back.path)
        assert dump(kami) == dump(toyooka) == dump(hub)
        again = export_bundle(hub, tmp_path / "h-k-2.dxb", kami.device.id)
        assert again.revisions == 0  # the watermark moved past everything sent
