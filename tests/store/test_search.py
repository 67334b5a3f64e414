"""Search equals a plain substring test: NFKC, any case, every term, operators as plain text.

The searchable text is activity titles, notes and locations, findings and actions. Terms of three
characters or more go through the FTS5 trigram index, shorter ones (most Japanese words: 農業,
窓口, 町) through a scan of the normalized column. Whatever the path, the result must be exactly
the records where every query term is a substring of a normalized field: hypothesis checks that
against corpora mixing Japanese, full- and half-width forms and FTS5 syntax (`"`, `-`, `*`, AND,
NEAR...), with records created in bulk, one by one, edited and deleted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from dxfield.store import records, revisions
from dxfield.store.engine import Store
from dxfield.store.reference import municipality_id
from dxfield.store.search import TRIGRAM, query_terms, search, search_ids
from dxfield.store.search_index import SEARCHABLE_FIELDS, normalize
from dxfield.store.sqlite_features import fts_match_expression
from dxfield.store.unit import Unit

TOYOOKA = municipality_id("282090")
# What the issue asks to be searched, written out here rather than read from the implementation.
FIELDS: dict[str, tuple[str, ...]] = {
    "activity": ("title", "notes", "location"),
    "finding": ("text",),
    "action": ("text",),
}
Key = tuple[str, str]
Corpus = dict[Key, list[str]]

# Words and fragments the corpora and queries are built from: short and long Japanese words,
# full- and half-width forms (ＤＸ/DX, ｶﾞｲﾄﾞ/ガイド, ㈱, Ⅻ, ﬁ, the Kelvin sign), letters whose
# lower case is longer (İ), U+FFFD and the noncharacters the trigram tokenizer reads as U+FFFD,
# and FTS5 query syntax that must stay plain text.
WORDS = (
    "農業",
    "窓口",
    "町",
    "配送",
    "住民合意形成",
    "ドローン",
    "窓口DX",
    "窓口ＤＸ",
    "ＤＸ",
    "DX",
    "dx",
    "Dx",
    "ｄｘ",
    "ＡＢＣ",
    "ａｂｃ",
    "ABC",
    "abc",
    "１２３",
    "123",
    "ｶﾞｲﾄﾞ",
    "ガイド",
    "㈱",
    "(株)",
    "Ⅻ",
    "xii",
    "ﬁ",
    "\u212a",  # KELVIN SIGN, NFKC "K"
    "İ",
    "ß",
    "\ufffd",  # REPLACEMENT CHARACTER, as mojibake leaves it
    "\ufffe",  # noncharacters: SQLite's trigram tokenizer reads these two as U+FFFD
    "\uffff",
    "化け\ufffd",
    "化け\ufffe",
    "化け\uffff",
    '"',
    '""',
    "-",
    "*",
    "(",
    ")",
    ":",
    "^",
    "+",
    "AND",
    "NEAR",
    "OR",
    "NOT",
    "and",
    "or",
    "near",
    "NEAR(",
    "NEAR/2",
    '"農業"',
    "-町",
    "町*",
    "窓口:",
    "^DX",
    "title:",
    "{body}",
)
SEPARATORS = (" ", "\u3000", "\n", "\t", "  ", " \u3000 ", "\r\n")
# Random characters: a small alphabet, so that random terms and texts collide often.
SAFE = 'aAzZ0９ｘＸ農業町窓口配送ドロｶﾞ"-*()^:+.,_\ufffd\uffff'
SAFE_TEXT = SAFE + " \u3000\n"


# --- helpers -------------------------------------------------------------------------------------


class _Rollback(Exception):
    """Ends a write block without committing it."""


@contextlib.contextmanager
def _scratch(store: Store) -> Iterator[Unit]:
    """A unit of work rolled back at the end, so each hypothesis example starts clean."""
    with contextlib.suppress(_Rollback), store.unit() as unit:
        yield unit
        raise _Rollback


def _content(entity: str, fields: dict[str, str]) -> dict[str, Any]:
    """Validated content of a record of `entity` holding these searchable fields."""
    base: dict[str, Any] = {
        "activity": {"kind": "workshop", "date": "2024-07-17", "municipality_id": TOYOOKA},
        "finding": {"kind": "insight"},
        "action": {},
    }[entity]
    return records.validate(entity, {**base, **fields})


def _fields_of(entity: str, content: dict[str, Any]) -> list[str]:
    return [str(content.get(name) or "") for name in FIELDS[entity]]


def _truth(corpus: Corpus, query: str) -> set[Key]:
    """The records where every term is a substring of a normalized field: plain Python."""
    terms = query_terms(query)
    if not terms:
        return set()
    normalized = {key: [normalize(f) for f in fields] for key, fields in corpus.items()}
    return {
        key
        for key, fields in normalized.items()
        if all(any(term in field for field in fields) for term in terms)
    }


def _stored(conn: Connection) -> Corpus:
    """The searchable fields of every live record, read from the entity tables (not the index)."""
    corpus: Corpus = {}
    for entity, names in FIELDS.items():
        table = revisions.table_for(entity)
        columns = [table.c.id, *(table.c[name] for name in names)]
        for row in conn.execute(select(*columns).where(table.c.deleted.is_(False))):
            corpus[(entity, row.id)] = [str(v or "") for v in row[1:]]
    return corpus


def _check(conn: Connection, corpus: Corpus, query: str) -> list[Key]:
    found = search_ids(conn, query)
    assert len(found) == len(set(found)), f"duplicates for {query!r}: {found}"
    assert set(found) == _truth(corpus, query), f"query {query!r}, terms {query_terms(query)}"
    return found


def _activity(store: Store, title: str, **fields: str) -> str:
    created = records.create(store, "activity", _content("activity", {"title": title, **fields}))
    return str(created.id)


def _record(store: Store, entity: str, body: str) -> str:
    return str(records.create(store, entity, _content(entity, {"text": body})).id)


def _ids(store: Store, query: str, entities: Sequence[str] | None = None) -> set[Key]:
    with store.read() as conn:
        return set(search_ids(conn, query, entities=entities))


def _test_id(n: int) -> str:
    return f"00000000-0000-7000-8000-{n:012x}"


# --- strategies ----------------------------------------------------------------------------------

_piece = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SEPARATORS),
    st.text(SAFE_TEXT, min_size=1, max_size=3),
)
_text = st.lists(_piece, max_size=8).map("".join)
# Titles and locations are one line: the store refuses control characters there.
_line = _text.map(lambda t: re.sub(r"[\n\r\t]", " ", t))
_required = _line.map(lambda t: t if t.strip() else "会議")
_activity_fields = st.fixed_dictionaries({"title": _required, "notes": _text, "location": _line})
_text_fields = st.fixed_dictionaries({"text": _required})
_record_spec = st.one_of(
    st.tuples(st.just("activity"), _activity_fields),
    st.tuples(st.just("finding"), _text_fields),
    st.tuples(st.just("action"), _text_fields),
)
_term_pieces = st.one_of(
    st.sampled_from([w for w in WORDS if w.strip() == w]),
    st.text(SAFE, min_size=1, max_size=4),
)


def _substring(source: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(source) - 1), st.integers(1, 6)).map(
        lambda p: source[p[0] : p[0] + p[1]]
    )


def _queries(corpus: Corpus) -> st.SearchStrategy[str]:
    """Queries of one to three terms: vocabulary, random strings, substrings of the corpus.

    Some queries take all their terms from one record, so that multi-term hits are common.
    """
    texts = [f for fields in corpus.values() for f in fields]
    sources = sorted({t for t in texts if t} | {normalize(t) for t in texts if t})
    term = _term_pieces
    if sources:
        term = st.one_of(_term_pieces, st.sampled_from(sources).flatmap(_substring))
    terms = st.lists(term, min_size=1, max_size=3)
    by_record = [[f for f in fields if f] for fields in corpus.values()]
    if any(by_record):
        one_record = st.sampled_from([fields for fields in by_record if fields]).flatmap(
            lambda fields: st.lists(
                st.sampled_from(fields).flatmap(_substring), min_size=1, max_size=3
            )
        )
        terms = st.one_of(terms, one_record)
    return st.tuples(
        terms,
        st.sampled_from(SEPARATORS),
        st.sampled_from(["", " ", "\u3000"]),
    ).map(lambda q: q[2] + q[1].join(q[0]) + q[2])


# --- properties ----------------------------------------------------------------------------------


def test_search_equals_a_substring_ground_truth(store: Store) -> None:
    """Records created in bulk or one by one: search_ids is exactly the substring ground truth."""

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        specs=st.lists(st.tuples(_record_spec, st.booleans()), min_size=1, max_size=8),
        data=st.data(),
    )
    def check(specs: list[tuple[tuple[str, dict[str, str]], bool]], data: st.DataObject) -> None:
        with _scratch(store) as unit:
            corpus: Corpus = {}
            bulk: dict[str, list[tuple[str, dict[str, Any]]]] = {}
            for n, ((entity, fields), in_bulk) in enumerate(specs):
                content = _content(entity, fields)
                record_id = _test_id(n)
                corpus[(entity, record_id)] = _fields_of(entity, content)
                if in_bulk:
                    bulk.setdefault(entity, []).append((record_id, content))
                else:
                    revisions.write_record(unit, entity, record_id, content)
            for entity, items in bulk.items():
                revisions.bulk_create(unit, entity, items)
            assert _stored(unit.conn) == corpus
            for query in data.draw(st.lists(_queries(corpus), min_size=1, max_size=20)):
                _check(unit.conn, corpus, query)

    check()


def test_search_follows_edits_and_deletes(store: Store) -> None:
    """After any sequence of creates, edits, deletes and re-creations, search is still exact."""
    slots = [("activity", 0), ("finding", 1), ("action", 2), ("activity", 3), ("finding", 4)]

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        operations=st.lists(
            st.tuples(
                st.integers(0, len(slots) - 1),
                st.one_of(st.none(), _activity_fields),  # None: delete
            ),
            min_size=1,
            max_size=12,
        ),
        data=st.data(),
    )
    def check(operations: list[tuple[int, dict[str, str] | None]], data: st.DataObject) -> None:
        with _scratch(store) as unit:
            live: Corpus = {}
            for slot, fields in operations:
                entity, n = slots[slot]
                key = (entity, _test_id(n))
                if fields is None:
                    if key in live:
                        revisions.write_record(unit, entity, key[1], None, deleted=True)
                        del live[key]
                    continue
                if entity != "activity":
                    fields = {"text": fields["title"]}
                content = _content(entity, fields)
                revisions.write_record(unit, entity, key[1], content)
                live[key] = _fields_of(entity, content)
            assert _stored(unit.conn) == live
            # The external-content index agrees with search_text after the triggers ran.
            unit.conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"))
            for query in data.draw(st.lists(_queries(live), min_size=1, max_size=12)):
                _check(unit.conn, live, query)

    check()


# --- examples ------------------------------------------------------------------------------------


def test_the_searchable_fields_are_the_ones_asked_for() -> None:
    assert SEARCHABLE_FIELDS == FIELDS


def test_query_terms_are_normalized_and_split_on_any_space() -> None:
    assert query_terms("ＤＸ\u3000農業  dx\n町\t") == ["dx", "農業", "町"]
    assert query_terms('"農業" NEAR(窓口*)') == ['"農業"', "near(窓口*)"]
    assert query_terms("ｶﾞｲﾄﾞ ㈱") == ["ガイド", "(株)"]
    assert query_terms(" \u3000\n\t") == []


@pytest.mark.parametrize("word", ["農業", "配送", "窓口", "町", "ＤＸ", "住民", "ドローン"])
def test_demo_words_find_the_demo_records(demo_store: Store, word: str) -> None:
    with demo_store.read() as conn:
        corpus = _stored(conn)
        found = _check(conn, corpus, word)
    if word in {"農業", "配送", "窓口"}:
        assert found, f"the demo has records about {word}"
    count, hits = search(demo_store, word, limit=3)
    assert count == len(found)
    assert [(h.entity, h.id) for h in hits] == found[:3]
    for hit in hits:
        assert hit.title
        assert normalize(word) in hit.snippet


def test_demo_queries_equal_the_ground_truth(demo_store: Store) -> None:
    queries = ["農業 配送", "窓口 dx", "ｄｘ 町", "住民合意形成", "ドローン 配送", "AND", "-", '"']
    with demo_store.read() as conn:
        corpus = _stored(conn)
        for query in queries:
            _check(conn, corpus, query)


def test_full_and_half_width_and_any_case_are_the_same(store: Store) -> None:
    first = _activity(store, "窓口ＤＸの相談")
    second = _activity(store, "説明会", notes="dx推進とＡＢＣ１２３")
    expected = {("activity", first), ("activity", second)}
    for query in ["ＤＸ", "DX", "dx", "Dx", "ｄｘ", "ｄX"]:
        assert _ids(store, query) == expected, query
    for query in ["窓口DX", "窓口dx", "窓口ＤＸ", "口ｄｘの"]:
        assert _ids(store, query) == {("activity", first)}, query
    for query in ["abc123", "ＡＢＣ123", "ａｂｃ１２３", "c1"]:
        assert _ids(store, query) == {("activity", second)}, query


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        '"""',
        '"農業',
        '農業"',
        '"農業"',
        '"農業" 配送',
        'a"b',
        "-",
        "-町",
        "町 -窓口",
        "*",
        "町*",
        "窓口*",
        "AND",
        "農業 AND 配送",
        "OR",
        "農業 OR 漁業",
        "NOT",
        "NOT 農業",
        "NEAR",
        "NEAR(農業 配送)",
        "NEAR(町",
        "(農業)",
        "title:農業",
        "body:",
        "^農業",
        "+",
        "{body}",
    ],
)
def test_operators_and_quotes_are_plain_text(store: Store, query: str) -> None:
    _activity(store, '"農業" AND 配送', notes="NEAR(町 -窓口*) OR NOT", location="title:農業")
    _activity(store, "農業のみ", location="(農業)")
    _record(store, "finding", 'a"b ^農業 + {body} body:')
    _record(store, "action", "町*の窓口 -町 NOT 農業")
    with store.read() as conn:
        _check(conn, _stored(conn), query)


def test_operator_words_are_terms_not_operators(store: Store) -> None:
    both = _activity(store, "農業と配送")
    farming = _activity(store, "農業の担い手")
    assert _ids(store, "農業 OR 配送") == set()
    assert _ids(store, "農業 AND 配送") == set()
    assert _ids(store, "農業 NOT 配送") == set()
    assert _ids(store, "農業 -配送") == set()
    assert _ids(store, "農業") == {("activity", both), ("activity", farming)}
    or_text = _activity(store, "農業 or 配送")
    assert _ids(store, "農業 OR 配送") == {("activity", or_text)}


@pytest.mark.parametrize("query", ["", " ", "\u3000", "\n\t ", " \u3000 "])
def test_an_empty_query_finds_nothing(store: Store, query: str) -> None:
    _activity(store, "農業 配送", notes=" ")
    assert _ids(store, query) == set()
    assert search(store, query) == (0, [])


def test_every_term_must_match(store: Store) -> None:
    both = ("activity", _activity(store, "農業と配送"))
    farming = ("activity", _activity(store, "農業"))
    center = ("activity", _activity(store, "配送センター"))
    split = ("activity", _activity(store, "農業の会合", location="豊岡町配送所"))
    assert _ids(store, "農業 配送") == {both, split}
    assert _ids(store, "配送\u3000農業") == {both, split}
    assert _ids(store, "農業") == {both, farming, split}
    assert _ids(store, "配送センター") == {center}
    assert _ids(store, "配送センター 農業") == set()
    assert _ids(store, "農業 豊岡町 配送所") == {split}
    assert _ids(store, "農業 農業 配送") == {both, split}


def test_an_edited_activity_is_found_by_its_new_words_only(store: Store) -> None:
    record_id = _activity(store, "ドローン配送の実証", notes="農業用", location="公民館")
    key = {("activity", record_id)}
    assert _ids(store, "ドローン") == key
    records.edit(store, "activity", record_id, {"title": "窓口DXの相談", "notes": "住民合意形成"})
    for old in ["ドローン", "配送", "農業", "ドローン配送の実証"]:
        assert _ids(store, old) == set(), old
    for new in ["窓口dx", "相談", "住民合意形成", "窓口", "公民館", "民館"]:
        assert _ids(store, new) == key, new


def test_a_deleted_activity_is_not_found(store: Store) -> None:
    kept = _activity(store, "農業の研修")
    gone = _activity(store, "農業のドローン研修")
    assert _ids(store, "農業") == {("activity", kept), ("activity", gone)}
    records.delete(store, "activity", gone)
    assert _ids(store, "農業") == {("activity", kept)}
    assert _ids(store, "ドローン") == set()
    assert _ids(store, "ドロ") == set()


def test_findings_and_actions_are_searched(store: Store) -> None:
    finding = _record(store, "finding", "ドローン配送は住民の理解が鍵")
    action = _record(store, "action", "窓口の予約をオンライン化する")
    activity = _activity(store, "配送の相談", notes="窓口で")
    assert _ids(store, "ドローン") == {("finding", finding)}
    assert _ids(store, "オンライン") == {("action", action)}
    assert _ids(store, "配送") == {("finding", finding), ("activity", activity)}
    assert _ids(store, "窓口") == {("action", action), ("activity", activity)}
    assert _ids(store, "窓口", entities=["action"]) == {("action", action)}
    assert _ids(store, "配送", entities=["finding", "action"]) == {("finding", finding)}
    count, hits = search(store, "窓口")
    assert count == 2
    assert {h.title for h in hits} == {"窓口の予約をオンライン化する", "配送の相談"}


def test_organization_names_are_not_searched(store: Store) -> None:
    records.create(store, "organization", {"kind": "community", "name": "コウノトリ農業協同組合"})
    assert _ids(store, "コウノトリ") == set()
    assert _ids(store, "農業") == set()
    assert _ids(store, "豊岡") == set()  # a reference municipality name
    with store.read() as conn:
        entities = set(conn.execute(text("SELECT DISTINCT entity FROM search_text")).scalars())
    assert entities <= set(FIELDS)


def test_noncharacters_are_not_read_as_the_replacement_character(store: Store) -> None:
    """SQLite's trigram tokenizer reads U+FFFE and U+FFFF as U+FFFD; results must not."""
    texts = {c: _record(store, "finding", f"文字化け{c}あり") for c in "\ufffd\ufffe\uffff"}
    for char, record_id in texts.items():
        assert _ids(store, f"化け{char}あ") == {("finding", record_id)}, hex(ord(char))
        assert _ids(store, f"け{char}") == {("finding", record_id)}, hex(ord(char))
    with store.read() as conn:
        _check(conn, _stored(conn), "\ufffdあり")


# --- which path a term takes ---------------------------------------------------------------------


def test_long_terms_use_the_trigram_index_and_short_ones_the_scan(store: Store) -> None:
    record_id = _activity(store, "ドローン配送の実証", notes="農業")
    key = {("activity", record_id)}
    with store.read() as conn:
        rowid = conn.execute(
            text("SELECT rowid FROM search_text WHERE entity_id = :id"), {"id": record_id}
        ).scalar_one()
        indexed = conn.execute(
            text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m"),
            {"m": fts_match_expression(["ドローン"])},
        ).scalars()
        assert list(indexed) == [rowid]
        # Why short terms cannot use the index: the trigram tokenizer finds nothing for them.
        short = conn.execute(
            text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :m"),
            {"m": fts_match_expression(["配送"])},
        ).scalar_one()
        assert short == 0
        conn.execute(text("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"))
    assert len("ドローン") >= TRIGRAM > len("配送")
    assert _ids(store, "ドローン") == key
    assert _ids(store, "配送") == key
    # Take the record out of the index only (search_text keeps it): the long term no longer
    # finds it, the short terms still do, and a mix of both needs the index.
    with _scratch(store) as unit:
        unit.conn.execute(
            text(
                "INSERT INTO search_fts(search_fts, rowid, body) "
                "SELECT 'delete', rowid, body FROM search_text WHERE rowid = :r"
            ),
            {"r": rowid},
        )
        assert search_ids(unit.conn, "ドローン") == []
        assert search_ids(unit.conn, "配送 農業") == [("activity", record_id)]
        assert search_ids(unit.conn, "配送 ドローン") == []
    assert _ids(store, "ドローン") == key


def test_quotes_are_escaped_into_a_valid_match(store: Store) -> None:
    assert fts_match_expression(['a"b', "near(x", "*"]) == '"a""b" "near(x" "*"'
    record_id = _activity(store, '"農業" and NEAR(窓口*) "')
    with store.read() as conn:
        for terms in (['"農業"'], ["and", "near(窓口*)"], ['窓口*) "'], ['""']):
            found = conn.execute(
                text(
                    "SELECT search_text.entity_id FROM search_fts "
                    "JOIN search_text ON search_text.rowid = search_fts.rowid "
                    "WHERE search_fts MATCH :m"
                ),
                {"m": fts_match_expression(terms)},
            ).scalars()
            assert list(found) == ([record_id] if terms != ['""'] else []), terms
    assert _ids(store, '"農業" near(窓口*)') == {("activity", record_id)}
    assert _ids(store, '""') == set()
