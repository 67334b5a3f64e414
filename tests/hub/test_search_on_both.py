"""Search on a hub in PostgreSQL returns what the SQLite store returns for the same data and
query, in the same order: 1- and 2-character Japanese terms (a `strpos` scan) and longer ones
(pg_trgm's index), alone and together, and text that only looks like an operator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from dxfield.demo.loader import load_demo
from dxfield.store.engine import Store
from dxfield.store.search import search_ids
from tests.postgres import Cluster

QUERIES = [
    "町",  # one character: a scan
    "配送",  # two: a scan
    "農業",
    "窓口",
    "ＤＸ",  # folded to "dx" like the stored text
    "ドローン",  # four: the trigram index
    "住民合意形成",
    "意見交換会",
    "ドローン 配送",  # an indexed term and a scanned one together
    "窓口 dx 町",
    "豊岡市 ヒアリング",
    '"',
    "%",  # LIKE's wildcards are plain text
    "_",
    "100%",
    "存在しない言葉",
]


@pytest.fixture(scope="module")
def stores(
    pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Store]]:
    folder = tmp_path_factory.mktemp("search")
    url = pg_cluster.create_database("dxf_search_both")
    with (
        Store.open(folder / "file", database="") as file,
        Store.open(folder / "hub", database=url, create=True) as hub,
    ):
        load_demo(file)
        load_demo(hub)
        yield file, hub
    pg_cluster.drop_database("dxf_search_both")


@pytest.mark.parametrize("query", QUERIES)
def test_search_on_postgresql_equals_search_on_sqlite(
    stores: tuple[Store, Store], query: str
) -> None:
    file, hub = stores
    assert hub.backend.name == "postgresql" and file.backend.name == "sqlite"
    with file.read() as conn:
        expected = search_ids(conn, query)
    with hub.read() as conn:
        found = search_ids(conn, query)
    assert found == expected
    if query in ("町", "配送", "農業", "窓口", "ドローン", "ドローン 配送"):
        assert found, f"the demo has records about {query}"


def test_the_index_sees_japanese_and_serves_long_terms(stores: tuple[Store, Store]) -> None:
    _, hub = stores
    with hub.read() as conn:
        assert conn.execute(text("SELECT array_length(show_trgm('ドローン'), 1)")).scalar()
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN SELECT entity_id FROM search_text WHERE body LIKE '%ドローン%'")
            ).scalars()
        )
    assert "ix_search_text_body_trgm" in plan
