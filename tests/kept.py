"""What a store keeps of its attachments' content, asked the same way on both engines.

A laptop's store keeps it in its data folder (`blobs/ab/abcdef…`), a hub's in its database
(the `blob` and `blob_chunk` tables: store/blobs.py). The suites that run on both engines ask
these, not the folder, about what is kept, and damage or lose it through them. Each takes an
open store, or a data folder whose store it opens for the question.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from dxfield.store import blobs
from dxfield.store.schema import BLOB, BLOB_CHUNK


@contextlib.contextmanager
def _opened(where: Any) -> Iterator[Any]:
    """`where` when it is an open store; the store of the data folder `where`, for the block."""
    if not isinstance(where, Path):
        yield where
        return
    from dxfield.store.engine import Store

    with Store.open(where) as store:
        yield store


def holds(where: Any, sha256: str) -> bool:
    """Whether the store keeps the blob `sha256`."""
    with _opened(where) as store:
        return bool(store.blobs.has(sha256))


def kept_bytes(where: Any, sha256: str) -> bytes:
    """The bytes the store keeps under `sha256`, read the way the store reads them."""
    with _opened(where) as store, store.blobs.open(sha256) as source:
        data: bytes = source.read()
    return data


def listed(where: Any) -> list[str]:
    """Every blob the store keeps (and, in a folder, every other file there too)."""
    with _opened(where) as store:
        if store.shared:
            with store.read() as conn:
                return [str(sha) for sha in conn.execute(select(BLOB.c.sha256)).scalars()]
        root = store.data_dir / blobs.FOLDER
        return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def chunk_rows(where: Any) -> int:
    """How many chunk rows the store's database holds (none on a laptop: its are files)."""
    with _opened(where) as store, store.read() as conn:
        return len(conn.execute(select(BLOB_CHUNK.c.seq)).all())


def damage(where: Any, sha256: str, data: bytes) -> None:
    """Make the content kept under `sha256` be `data` (a file rewritten; a hub's first chunk
    updated and the others dropped, its recorded size left as it was)."""
    with _opened(where) as store:
        if not store.shared:
            blobs.blob_path(store.data_dir, sha256).write_bytes(data)
            return
        with store.write() as conn:
            first = (BLOB_CHUNK.c.sha256 == sha256) & (BLOB_CHUNK.c.seq == 0)
            conn.execute(update(BLOB_CHUNK).where(first).values(data=data))
            rest = (BLOB_CHUNK.c.sha256 == sha256) & (BLOB_CHUNK.c.seq > 0)
            conn.execute(delete(BLOB_CHUNK).where(rest))


def lose(where: Any, sha256: str) -> None:
    """Take the content kept under `sha256` away (a file deleted; a hub's rows deleted)."""
    with _opened(where) as store:
        if not store.shared:
            blobs.blob_path(store.data_dir, sha256).unlink()
            return
        with store.write() as conn:
            conn.execute(delete(BLOB_CHUNK).where(BLOB_CHUNK.c.sha256 == sha256))
            conn.execute(delete(BLOB).where(BLOB.c.sha256 == sha256))


def keep(where: Any, content: bytes) -> str:
    """Keep `content` as a blob (as `attach` does, without a record); its SHA-256."""
    sha256 = hashlib.sha256(content).hexdigest()
    with _opened(where) as store:
        if not store.shared:  # written as a restored copy would be: a file in place
            path = blobs.blob_path(store.data_dir, sha256)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            return sha256
        with store.write() as conn:
            store.blobs.put(conn, sha256, [content])
    return sha256


def contents(where: Any) -> dict[str, str]:
    """Everything the store keeps as blobs, each with its content's hash: a folder's every file
    under `blobs/` by its relative name, a hub's every blob as if it were one (`ab/abcdef…`)."""
    with _opened(where) as store:
        if store.shared:
            with store.read() as conn:
                shas = sorted(conn.execute(select(BLOB.c.sha256)).scalars())
            return {f"{s[:2]}/{s}": hashlib.sha256(kept_bytes(store, s)).hexdigest() for s in shas}
        root = store.data_dir / blobs.FOLDER
        if not root.exists():
            return {}
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
