"""The words a liaison reads: the Japanese catalogue says each thing with the word of the user
guide's glossary (docs/user-guide.md, "Glossary"), and never with a programmer's word for it.

A municipal officer reads トラック as a truck, and バンドル, リビジョン, ハッシュ or 信頼済みの端末 as
jargon: the glossary gives the words they use (合意形成, 同期ファイル, 版, 登録した端末), and these
tests hold every Japanese translation to it. The glossary table is the one source: a row added
there is checked here."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

catalog_tool = pytest.importorskip("catalog")  # scripts/catalog.py (needs Babel: dev group)

USER_GUIDE = ROOT / "docs" / "user-guide.md"

# Words no Japanese translation may use, with the glossary's word for the thing.
FORBIDDEN = {
    "トラック": "合意形成 (a track reads as a truck)",
    "バンドル": "同期ファイル",
    "リビジョン": "版 / 変更履歴",
    "信頼済": "登録した端末",
    "ハッシュ": "a time and a device, never a hash",
    "指紋": "確認コード",
    "フィンガープリント": "確認コード",
    "ストア": "記録ファイル",
    "スキーマ": "データ形式",
    "ダッシュボード": "ホーム",
    "パレット": "コマンド",
    "コミュニティ": "地区",
    "競合": "食い違い",
    "コンフリクト": "食い違い",
    "マージ": "まとめる / 統合",
    "ハブ": "県の集約端末",
    "デバイス": "端末",
    "エクスポート": "書き出し",
    "インポート": "取り込み",
    "ペイロード": "中身",
    "ダンプ": "全記録",
    "ウォーターマーク": "前回の書き出し",
    "トゥームストーン": "削除",
    "タイムスタンプ": "時刻",
    "エンティティ": "記録",
    "レコード": "記録",
    "ステージ": "段階",
    "ログ": "活動一覧 / 記録",
    "HLC": "時刻",
}

# The terms of the binding word list of issue 14: the glossary must keep a row for each.
REQUIRED_TERMS = {
    "track",
    "bundle",
    "device",
    "trusted device",
    "revision",
    "conflict",
    "export",
    "import",
    "hub",
    "activity",
    "finding",
    "action",
    "initiative",
    "stage model",
    "stage",
    "community",
    "fingerprint",
    "palette",
    "report",
    "municipality",
    "support area",
    "dashboard",
    "store",
    "schema",
    "dump",
    "HLC",
    "watermark",
    "tombstone",
    "payload",
}

# Messages where the English word means something else than the glossary's term.
OTHER_SENSE: dict[str, set[str]] = {
    # "action" as something a key does, and the column or field that the 今後の取組 screen or
    # form already names (内容: what the next step is).
    "action": {"| Key | Action |\n|---|---|", "Command palette (every action)", "Action"},
    # Said by what it means: 食い違い (two devices changed the same record).
    "version": {"Every record with more than one live version."},
    # A device file (/dev/...), not a computer of the programme.
    "device": {"{path} is not a regular file (a folder, a device or a pipe); nothing was read"},
}

# Terms a good translation may leave unsaid (the forbidden words above still hold for them).
UNSAID = {
    # この端末に登録した端末 reads better than naming the file the devices are kept in.
    "store",
}

HIRAGANA = re.compile(r"[\u3041-\u309f]")
JAPANESE = r"\u3040-\u30ff\u3400-\u9fff"
# A field named in Japanese and then again in English: 日付(date): …, タイトル (title): …
# (a key in brackets after a word, 書き出す (e), is a hint, not a field's name).
FIELD_NAMED_TWICE = re.compile(rf"[{JAPANESE}]\s*[((][a-z_]+[))]\s*[::]")
# What is not words to translate: placeholders, `code`, a command line, a command's name;
# and "bundled" (shipped with dxfield), which is not a 同期ファイル.
NOT_WORDS = re.compile(
    r"\{[^{}]*\}|`[^`]*`|\bdxfield(?: [a-z][a-z-]*)+|--[a-z-]+|\b[a-z]+(?:-[a-z]+)+\b"
    r"|\bbundled\b"
)
# A message that only lists the values an option takes (keys typed on the command line).
KEY_LIST = re.compile(r"^[a-z_]+(?:, [a-z_]+)* or [a-z_]+\.$")


@dataclass(frozen=True)
class Term:
    japanese: tuple[str, ...]  # the glossary's word first, then other words that say the same
    english: tuple[str, ...]

    def pattern(self) -> re.Pattern[str]:
        words = []
        for word in self.english:
            body = re.escape(word).replace("\\ ", " ").replace(" ", "[ -]")
            ending = r"(?:y|ies)" if body.endswith("y") else r"(?:s|es|ed|d|ing|ion)?"
            words.append(r"\b" + (body[:-1] if body.endswith("y") else body) + ending + r"\b")
        return re.compile("|".join(words), re.IGNORECASE)

    def said_in(self, translation: str) -> bool:
        return any(stem(word) in translation for word in self.japanese)

    def missing_in(self, english: str, translation: str) -> bool:
        """The English says the term and the translation does not. A word the translation keeps
        as it is (`activities`, `kind`, `[[stages]]`) is a value or a column typed as such."""
        text = NOT_WORDS.sub(" ", english)
        said = [m.group(0) for m in self.pattern().finditer(text)]
        typed = [word for word in said if word in translation]
        return len(said) > len(typed) and not self.said_in(translation)


def stem(word: str) -> str:
    """書き出し → 書き出 (書き出す, 書き出した say it too); a word all in hiragana stays."""
    stripped = word
    while stripped and HIRAGANA.fullmatch(stripped[-1]):
        stripped = stripped[:-1]
    return stripped or word


def glossary() -> list[Term]:
    text = USER_GUIDE.read_text(encoding="utf-8")
    section = text.split("## Glossary", 1)[1].split("\n## ", 1)[0]
    terms = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in {"日本語", "---"}:
            continue
        japanese, english, _meaning = cells
        terms.append(
            Term(
                tuple(w.strip() for w in japanese.split(" / ")),
                tuple(w.strip() for w in english.split(" / ")),
            )
        )
    return terms


def translations() -> list[tuple[str, str]]:
    """(English, Japanese) of every translated message, each plural form on its own."""
    pairs = []
    for message in catalog_tool.read("ja"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for index, string in enumerate(strings):
            if string:
                pairs.append((ids[min(index, len(ids) - 1)], string))
    return pairs


def test_the_glossary_has_a_row_for_every_term_of_the_word_list() -> None:
    terms = glossary()
    assert len(terms) >= len(REQUIRED_TERMS)
    have = {word for term in terms for word in term.english}
    assert not REQUIRED_TERMS - have, sorted(REQUIRED_TERMS - have)


def test_the_glossary_says_nothing_it_forbids() -> None:
    bad = [
        (term.japanese, word)
        for term in glossary()
        for word in FORBIDDEN
        if any(word in japanese for japanese in term.japanese)
    ]
    assert not bad, bad


def test_no_translation_uses_a_forbidden_word() -> None:
    found = [
        f"{english!r} -> {japanese!r}: {word} (say {FORBIDDEN[word]})"
        for english, japanese in translations()
        for word in FORBIDDEN
        if word in japanese
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("term", glossary(), ids=lambda term: term.english[0])
def test_every_message_says_the_term_with_the_glossarys_word(term: Term) -> None:
    if UNSAID & set(term.english):
        pytest.skip("a term a translation may leave unsaid")
    other_sense = set().union(*(OTHER_SENSE.get(word, set()) for word in term.english))
    wrong = [
        f"{english!r} -> {japanese!r}"
        for english, japanese in translations()
        if english not in other_sense and not KEY_LIST.match(english)
        if term.missing_in(english, japanese)
    ]
    assert not wrong, f"say {' / '.join(term.japanese)}:\n" + "\n".join(wrong)


def test_a_field_is_named_in_japanese_only() -> None:
    """日付: …, never 日付(date): …"""
    found = [
        f"{english!r} -> {japanese!r}"
        for english, japanese in translations()
        if FIELD_NAMED_TWICE.search(japanese)
    ]
    assert not found, "\n".join(found)


def test_the_checks_find_what_they_look_for() -> None:
    terms = {term.english[0]: term for term in glossary()}
    assert terms["track"].pattern().search("Move a track back")
    assert terms["community"].pattern().search("{count} communities")
    assert terms["conflict"].pattern().search("new, conflicting")
    assert terms["export"].pattern().search("changes not exported")
    assert terms["as of"].pattern().search("As-of date")
    assert not terms["import"].pattern().search("an important step")
    assert not terms["report"].pattern().search(NOT_WORDS.sub(" ", "see `dxfield report`"))
    assert not terms["recipient"].pattern().search(NOT_WORDS.sub(" ", "for {recipient}"))
    assert terms["export"].said_in("書き出す (e)")
    assert terms["import"].said_in("取り込みました")
    assert not terms["track"].said_in("トラックの追加")
    assert KEY_LIST.match("planned, in_progress, done or dropped.")
    assert FIELD_NAMED_TWICE.search("タイトル(title): 空にできません")
    assert not FIELD_NAMED_TWICE.search("タイトル: 空にできません")
    assert not FIELD_NAMED_TWICE.search("書き出す (e)")
    assert terms["track"].missing_in("Move a track back", "トラックを戻す")
    assert not terms["activity"].missing_in("activities or findings.", "activities か findings。")
    assert terms["finding"].missing_in("activities or findings.", "activities か成果。")
    assert not terms["bundle"].missing_in("the bundled list", "同梱の一覧")
