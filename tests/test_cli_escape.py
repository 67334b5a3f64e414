"""The command line shows control characters escaped, wherever a value came from: a record (a
bundle, a CSV row, a typed field), a device's name, or a value quoted in an error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dxfield.store.engine import Store
from dxfield.sync.keys import own_card
from tests.conftest import Cli, CliResult, add_activity_args
from tests.hostile import (
    BIDI,
    BIDI_SHOWN,
    DEVICE,
    DEVICE_SHOWN,
    ESCAPES,
    RECORD_ID,
    RECORD_ID_SHOWN,
    SHOWN,
    name_device,
    raw_controls,
    trust_under_name,
    write_activity,
)


def assert_nothing_raw(result: CliResult) -> None:
    """Neither stdout nor stderr carries a control character (lines end with a newline)."""
    assert raw_controls(result.out) == set(), result.out
    assert raw_controls(result.err) == set(), result.err


@pytest.fixture
def hostile(data_dir: Path) -> str:
    """An activity whose title and notes try to drive the terminal, by a device named so too."""
    with Store.open(data_dir) as store:
        return write_activity(
            store,
            title=f"会議{ESCAPES}",
            notes=f"一行目 {ESCAPES}\n二行目\x1b]8;;https://evil.example\x07リンク\x1b]8;;\x07",
            location=f"[/]場所{ESCAPES}",
            device_id=DEVICE,
        )


def test_activity_list_shows_the_title_escaped(cli: Cli, hostile: str) -> None:
    result = cli("activity", "list")
    assert result.code == 0
    assert f"会議{SHOWN}" in result.out
    assert hostile in result.out
    assert_nothing_raw(result)


def test_search_shows_the_hit_escaped(cli: Cli, hostile: str) -> None:
    result = cli("search", "会議")
    assert result.code == 0
    assert hostile in result.out
    assert "会議<ESC>]0;pwned<BEL>" in result.out
    assert_nothing_raw(result)


def test_history_shows_the_author_and_fields_escaped(cli: Cli, hostile: str) -> None:
    result = cli("history", hostile)
    assert result.code == 0
    assert DEVICE_SHOWN in result.out
    assert "changed:" in result.out
    assert_nothing_raw(result)


def test_activity_show_shows_id_title_and_notes_escaped_keeping_the_lines(
    cli: Cli, data_dir: Path
) -> None:
    with Store.open(data_dir) as store:
        record_id = write_activity(
            store,
            title=f"説明会{BIDI}",
            notes=f"一行目{BIDI}\n\t二行目",
            record_id=RECORD_ID,
            device_id=DEVICE,
        )
    result = cli("activity", "show", record_id)
    assert result.code == 0, result.err
    assert f"ID: {RECORD_ID_SHOWN}" in result.out
    assert f"title: 説明会{BIDI_SHOWN}" in result.out
    assert f"\n一行目{BIDI_SHOWN}\n    二行目\n" in result.out  # notes keep their lines
    assert_nothing_raw(result)

    history = cli("history", record_id)
    assert DEVICE_SHOWN in history.out
    assert_nothing_raw(history)


def test_a_title_typed_with_a_bidi_override_is_refused_in_one_line(cli: Cli) -> None:
    """Typed today it is refused (it makes text read otherwise than it is); stored before that
    rule, it still reads, escaped (the test above)."""
    added = cli(*add_activity_args(title=f"請求書{BIDI}"))
    assert added.code == 1 and added.out == ""
    assert added.err.count("\n") == 1 and "control character (U+202E)" in added.err
    assert_nothing_raw(added)


def test_brackets_in_data_are_printed_not_read_as_markup(cli: Cli) -> None:
    added = cli(*add_activity_args(title="[/]閉じ [bold]太字[/bold] [link=https://x]x[/link]"))
    assert added.code == 0, added.err
    result = cli("activity", "list")
    assert result.code == 0, result.err
    assert "[/]閉じ [bold]太字[/bold] [link=https://x]x[/link]" in result.out


def test_device_names_are_shown_escaped_in_keys_list_and_show(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    """`init --device-name` and `keys trust --name` refuse control characters today; a store
    named before that rule, or a trusted device named so, still shows escaped."""
    name_device(data_dir, DEVICE)
    own = cli("keys", "show")
    assert f"device: {DEVICE_SHOWN}" in own.out
    assert_nothing_raw(own)

    other = tmp_path / "other"
    name_device(other, f"ノート{BIDI}")
    card = tmp_path / "card.json"
    assert cli("--data-dir", str(other), "keys", "export", "--out", str(card)).code == 0
    refused = cli("keys", "trust", str(card))  # a card carrying bidi controls is refused
    assert refused.code == 1 and "control character" in refused.err
    assert_nothing_raw(refused)
    renamed = cli("keys", "trust", str(card), "--name", DEVICE)
    assert renamed.code == 1 and "control character" in renamed.err
    assert_nothing_raw(renamed)

    with Store.open(data_dir) as store, Store.open(tmp_path / "third") as third:
        trust_under_name(store, own_card(third), DEVICE)
    listed = cli("keys", "list")
    assert DEVICE_SHOWN in listed.out
    assert_nothing_raw(listed)
    revoked = cli("keys", "revoke", DEVICE)
    assert DEVICE_SHOWN in revoked.out
    assert_nothing_raw(revoked)


def test_an_error_quoting_a_value_shows_its_controls(cli: Cli) -> None:
    result = cli("activity", "list", "--from", "\x1b[2J明日\u202e")
    assert result.code != 0
    assert "<ESC>[2J明日<U+202E>" in result.err
    assert result.err.count("\n") == 1  # still one line
    assert_nothing_raw(result)

    unknown = cli("activity", "show", "\x1b]0;pwned\x07")
    assert unknown.code != 0
    assert "<ESC>]0;pwned<BEL>" in unknown.err
    assert_nothing_raw(unknown)


def test_json_output_reads_back_the_same_and_carries_no_raw_control(
    cli: Cli, data_dir: Path
) -> None:
    title = f"会議{ESCAPES}\x85\x9b2J\x7f"
    with Store.open(data_dir) as store:
        write_activity(store, title=title)
    result = cli("activity", "list", "--json")
    assert result.code == 0
    assert [row["title"] for row in json.loads(result.out)] == [title]
    assert_nothing_raw(result)


def test_dump_is_the_data_when_piped_and_shown_on_a_terminal(
    cli: Cli, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(data_dir) as store:
        write_activity(store, title=f"会議{BIDI}\x85")
    piped = cli("dump")
    assert "\u202e" in piped.out and "\x85" in piped.out  # the canonical bytes, unchanged
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    shown = cli("dump")
    assert "<U+202E>" in shown.out and "<U+0085>" in shown.out
    assert_nothing_raw(shown)
