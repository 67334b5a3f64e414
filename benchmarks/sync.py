"""Sync's figures for dxfield's performance suite (`benchmarks/run.py --only sync`).

On a sender store of N synthetic activities (N revisions) and receivers that trust it:

- sync_import: `import_bundle` of a full bundle into an empty store vs plain `sqlite3`
  executemany of the same rows (revisions, activity rows, search rows, prepared beforehand) into
  the same schema, one transaction, the same pragmas. Target <= 3.
- sync_reimport: importing the same bundle again (it must change 0 rows) vs the same baseline.
  Target <= 1.
- sync_export: `export_bundle --full` vs reading the same revision rows with `sqlite3` and
  writing them with a plain `json.dumps` per row to a file; medians of five interleaved runs.
  Target <= 2.
- sync_size: the bundle's bytes vs that JSON Lines file's. Target <= 0.5.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from dxfield.store import maintenance, revisions
from dxfield.store.engine import Store
from dxfield.store.search_index import body_for
from dxfield.sync.bundle import export_bundle, import_bundle, read_bundle
from dxfield.sync.keys import card_text, own_card, parse_card, trust_card
from run import Figure, bulk_load, figure, raw_load, synthetic_activities


def _timed(action: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = action()
    return time.perf_counter() - began, result


def _introduce(a: Store, b: Store) -> None:
    trust_card(a, parse_card(card_text(own_card(b))))
    trust_card(b, parse_card(card_text(own_card(a))))


def _plain_export(path: Path, out: Path) -> None:
    """The export baseline: the revision rows read with sqlite3, one json.dumps each, a file."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    with out.open("w", encoding="utf-8") as handle:
        for row in conn.execute("SELECT * FROM revision"):
            handle.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
    conn.close()


def _raw_rows(checked: list[dict[str, Any]]) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    """The rows an import writes, as plain INSERT statements (the import baseline)."""
    table = revisions.table_for("activity")
    revision_rows, activity_rows, search_rows = [], [], []
    columns = [c.name for c in table.columns]
    for r in checked:
        revision_rows.append(
            (
                r["rev_id"], r["entity"], r["entity_id"], r["generation"],
                json.dumps(r["parents"]), r["hlc"], r["device_id"], int(r["deleted"]),
                r["data"], 1, 0,
            )
        )  # fmt: skip
        if r["entity"] != "activity":
            continue
        data = json.loads(r["data"])
        row = revisions.materialized_row(table, r, data)
        activity_rows.append(
            tuple(
                json.dumps(row[c], ensure_ascii=False)
                if isinstance(row.get(c), list | dict)
                else (row[c].isoformat() if hasattr(row.get(c), "isoformat") else row.get(c))
                for c in columns
            )
        )
        search_rows.append(("activity", r["entity_id"], body_for("activity", data)))
    marks = ",".join("?" * len(columns))
    return {
        "revision": (
            "INSERT OR IGNORE INTO revision (rev_id, entity, entity_id, generation, parents, hlc, "
            "device_id, deleted, data, leaf, clock_skew) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            revision_rows,
        ),
        "activity": (
            f"INSERT INTO activity ({', '.join(columns)}) VALUES ({marks})",
            activity_rows,
        ),
        "search_text": (
            "INSERT INTO search_text (entity, entity_id, body) VALUES (?,?,?)",
            search_rows,
        ),
    }


def measure_sync(workdir: Path, records: int) -> list[Figure]:
    """The four sync figures over a bundle of `records` activities."""
    sender = Store.open(workdir / "sync-sender", device_name="sender")
    receiver = Store.open(workdir / "sync-receiver", device_name="receiver")
    baseline_store = Store.open(workdir / "sync-baseline", device_name="baseline")
    try:
        _introduce(sender, receiver)
        bulk_load(sender, synthetic_activities(records))
        bundle = workdir / "full.dxb"
        plain = workdir / "plain.jsonl"
        # Exports are quick and noisy: medians of interleaved runs.
        ours, theirs = [], []
        for _ in range(5):
            ours.append(_timed(lambda: export_bundle(sender, bundle, "receiver", full=True))[0])
            theirs.append(_timed(lambda: _plain_export(sender.path, plain))[0])
        export_time, plain_time = statistics.median(ours), statistics.median(theirs)

        _, checked, _ = read_bundle(receiver, bundle)
        rows = _raw_rows(checked)
        baseline_path = baseline_store.path
        baseline_store.close()
        raw_time, _ = _timed(lambda: raw_load(baseline_path, rows))

        import_time, first = _timed(lambda: import_bundle(receiver, bundle))
        assert first.new >= records, first
        before = maintenance.dump(receiver)
        again_time, again = _timed(lambda: import_bundle(receiver, bundle))
        assert (again.new, again.updated) == (0, 0), again
        assert maintenance.dump(receiver) == before
    finally:
        sender.close()
        receiver.close()
    return [
        figure("sync_import", import_time, raw_time, 3.0),
        figure("sync_reimport", again_time, raw_time, 1.0),
        figure("sync_export", export_time, plain_time, 2.0),
        figure("sync_size", bundle.stat().st_size, plain.stat().st_size, 0.5, "B"),
    ]
