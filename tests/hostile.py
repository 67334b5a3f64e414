"""Records that try to drive the terminal, written as a bundle that escaped validation (or an older
dxfield) would have left them: straight into the store, past the services' checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dxfield.store import records, revisions
from dxfield.store.engine import Store
from dxfield.store.organizations import resolve_municipality

# Sets the window title, clears the screen, writes over with CR and backspaces, reverses text.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\r承認\b\b済み\u202e反転"
SHOWN = "<ESC>]0;pwned<BEL><ESC>[2J<CR>承認<BS><BS>済み<U+202E>反転"
BIDI = "\u202eevil\u202c \u2066x\u2069"
BIDI_SHOWN = "<U+202E>evil<U+202C> <U+2066>x<U+2069>"
DEVICE = "laptop\x1b]0;owned\x07\x1b[2J"
DEVICE_SHOWN = "laptop<ESC>]0;owned<BEL><ESC>[2J"
RECORD_ID = "01aa\x1b[2J\r\u202e-id"
RECORD_ID_SHOWN = "01aa<ESC>[2J<CR><U+202E>-id"

# What a terminal obeys: none may reach it (a newline between lines is the one exception).
RAW = {
    chr(c)
    for c in (
        *range(0x20),
        0x7F,
        *range(0x80, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
}


def raw_controls(text: str, *, allow_newlines: bool = True) -> set[str]:
    """The control characters in `text` (newlines between lines left out unless asked)."""
    return {c for c in text if c in RAW and not (allow_newlines and c == "\n")}


def write_activity(
    store: Store,
    *,
    title: str,
    notes: str = "",
    location: str = "",
    record_id: str | None = None,
    device_id: str | None = None,
) -> str:
    """An activity in 豊岡市 holding these texts, stored without validating them; its id."""
    content = records.validate(
        "activity",
        {
            "title": "仮",
            "kind": "workshop",
            "date": "2024-07-17",
            "municipality_id": resolve_municipality(store, "豊岡市"),
        },
    )
    content.update(title=title, notes=notes, location=location)
    entity_id = record_id or f"01aa-hostile-{len(title)}-{len(notes)}"
    with store.unit() as unit:  # a new record, by this device or another one
        revisions.bulk_create(unit, "activity", [(entity_id, content)], device_id=device_id)
    return entity_id


def taint(store: Store, entity: str, record_id: str, **fields: str) -> None:
    """Give a stored record these field values, past validation (as an older dxfield let in)."""
    current = records.get(store, entity, record_id)
    with store.read() as conn:
        (latest,) = [
            r for r in revisions.history(conn, entity, record_id) if r["rev_id"] == current.rev
        ]
    content = {k: v for k, v in latest["data"].items() if k != "created_at"}
    content.update(fields)
    with store.unit() as unit:
        revisions.write_record(unit, entity, record_id, content)


def name_device(folder: Path, name: str) -> None:
    """Give the store in `folder` this device name, past the check `init` makes today (a store
    from before it, or a file edited by hand, may hold anything)."""
    import sqlite3

    from dxfield.paths import STORE_FILE

    with Store.open(folder):
        pass
    raw = sqlite3.connect(folder / STORE_FILE)
    try:
        raw.execute("UPDATE device SET name = ?", (name,))
        raw.commit()
    finally:
        raw.close()


def trust_under_name(store: Store, card: Any, name: str) -> None:
    """Trust `card` under a local name the check of `keys trust --name` refuses today."""
    from dataclasses import asdict

    from dxfield.store import local_state

    local_state.put_value(store, "trusted-device:" + card.id, {"card": asdict(card), "name": name})
