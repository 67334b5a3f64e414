"""The command line in the user's language: its help and the words of click that Typer vendors.

Typer (0.29) vendors click with its words hard-coded in English and no gettext, so they are
put into the user's language through click's public extension points, not by patching it:

- every verb's and option's help is written in English in the code; once the language is
  known (`--lang` is read from the arguments first), `localize()` walks the command tree and
  gives each command and parameter its help from the catalogue, and the context class that
  formats it;
- `CellFormatter`, a `HelpFormatter`, translates the headings (`Usage:`, `Options`,
  `Commands`, `Arguments`) and click's own phrases in the option list (`Show this message and
  exit.`, `[required]`, `[default: …]`), and wraps text by terminal cells, so that Japanese
  (two cells a character) still fits 80 columns;
- `LocalizedGroup` (Typer's `cls=`) raises `NoSuchCommand`, carrying the name;
- `usage_error()` words click's usage errors from their structured fields
  (`NoSuchOption.option_name`, `BadParameter.param`, …), never from their English message.
"""

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import typer
from typer._click import exceptions as click_errors
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup

from dxfield.i18n import N_, _

# The words of click and Typer that reach a person, as click writes them (the catalogue's
# entries; the formatter looks them up).
HEADINGS = {
    "Options": N_("Options"),
    "Commands": N_("Commands"),
    "Arguments": N_("Arguments"),
}
HELP_OPTION = N_("Show this message and exit.")
# The usage line's placeholders, and what an option's value is (click and Typer write
# `[OPTIONS]`, `COMMAND [ARGS]...` and the value's Python type, `<str>`, `<list[Path]>`).
OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")
VALUE_PATH = N_("<path>")
VALUE_NUMBER = N_("<number>")
VALUE_TEXT = N_("<text>")


class NoSuchCommand(click_errors.UsageError):
    """A verb that is not there (click says so only in an English sentence)."""

    def __init__(self, name: str, ctx: Any, possibilities: Sequence[str]) -> None:
        super().__init__(f"No such command {name!r}.", ctx)
        self.name = name
        self.possibilities = list(possibilities)


class LocalizedGroup(TyperGroup):
    """A group whose unknown verbs raise `NoSuchCommand`, and whose help `CellFormatter` writes."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            from difflib import get_close_matches

            close = get_close_matches(args[0], list(self.list_commands(ctx)))
            raise NoSuchCommand(args[0], ctx, close)
        return super().resolve_command(ctx, args)


# -- wrapping by terminal cells -------------------------------------------------------------------


def cell_len(text: str) -> int:
    """The columns `text` takes on a terminal: two for a wide or full-width character (East
    Asian Width W or F), none for a combining mark, one otherwise. (rich.cells would do, but
    importing rich costs `dxfield --help` a fifth of its time.)"""
    width = 0
    for char in text:
        if char < "\u0300":
            width += 1
        elif unicodedata.combining(char):
            continue
        else:
            width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


_TOKEN = re.compile(r"\s+|[\x21-\x7e\u00a0-\u02ff]+|.", re.DOTALL)
# Closing marks that never begin a line: the ideographic comma and full stop, closing brackets,
# the middle dot, the long vowel mark, full-width and ASCII punctuation; nor do small kana
# (ドキュメントフォルダー is not cut before its ォ), iteration marks or 々.
_NO_BREAK_BEFORE = re.compile(
    r"[\u3001\u3002\uff0c\uff0e\uff09\u300d\u300f\u3011\u3015\u30fb\u30fc\uff1a\uff1b\uff01\uff1f,.)\]:;!?"
    r"\u3041\u3043\u3045\u3047\u3049\u3063\u3083\u3085\u3087\u308e\u3095\u3096"
    r"\u30a1\u30a3\u30a5\u30a7\u30a9\u30c3\u30e3\u30e5\u30e7\u30ee\u30f5\u30f6"
    r"\u309d\u309e\u30fd\u30fe\u3005]"
)
_NO_BREAK_AFTER = re.compile(r"[\uff08\u300c\u300e\u3010\u3014(\[]")
"""Opening brackets, which never end a line."""
_LAST_WORD = re.compile(r"[\x21-\x7e\u00a0-\u02ff]+$")
"""A run of ASCII (or Latin) characters ending a line: a word `_broken` moves whole."""
_SENTENCE_MARK = re.compile(r"(?P<open>[(\uff08])|(?P<close>[)\uff09])|\u3002|\.(?=\s)")
"""What `_first_sentence` looks at: a bracket opening or closing, a full stop ending a sentence."""


def _tokens(text: str) -> Iterator[str]:
    """Words of ASCII (and Latin) text whole, other characters one by one, runs of spaces."""
    for match in _TOKEN.finditer(text):
        yield match.group()


def _broken(line: str, token: str) -> tuple[str, str]:
    """`line` (its spaces stripped) and what begins the next one, broken before `token`, as
    禁則 wants: a closing mark never begins a line (「します）。」: neither ） nor 。), so what comes
    before it goes along, a word of Latin letters whole, until what begins the next line is no
    closing mark; nor does an opening bracket end one (「[必須]」 is not cut after its [). The
    line keeps at least its first word."""
    moved = token
    while _NO_BREAK_BEFORE.fullmatch(moved[0]):
        last = _LAST_WORD.search(line)
        piece = last.group() if last else line[-1:]
        if len(piece) >= len(line):
            break
        line, moved = line[: -len(piece)], piece + moved
    while len(line) > 1 and _NO_BREAK_AFTER.fullmatch(line[-1]):  # nor does one open at its end
        line, moved = line[:-1], line[-1] + moved
    return line, moved


def wrap_cells(text: str, width: int) -> list[str]:
    """`text` (one paragraph) in lines of at most `width` terminal cells: breaks at spaces, or
    between two full-width characters (never before a closing mark such as 、 or 。, nor after
    an opening bracket: `_broken`)."""
    width = max(width, 10)
    lines: list[str] = []
    line = ""
    for token in _tokens(" ".join(text.split())):
        if token.isspace():
            if line:
                line += " "
            continue
        if cell_len(line.rstrip()) + cell_len(token) <= width:
            line += token
            continue
        line, token = _broken(line.rstrip(), token)
        if line.strip():
            lines.append(line.rstrip())
        while cell_len(token) > width:  # a word longer than the line: cut it
            cut = 1
            while cell_len(token[: cut + 1]) <= width:
                cut += 1
            lines.append(token[:cut])
            token = token[cut:]
        line = token
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


_EXTRA = re.compile(r"\s*\[([^\[\]]*)\]\s*$")


def _click_phrases(text: str) -> str:
    """An option's help with click's own phrases in the user's language."""
    if text == "Show this message and exit.":
        return _(HELP_OPTION)
    match = _EXTRA.search(text)
    if not match:
        return text
    parts = []
    for part in match.group(1).split("; "):
        if part == "required":
            parts.append(_("required"))
        elif part.startswith("default: "):
            parts.append(_("default: {value}").format(value=part.removeprefix("default: ")))
        else:
            parts.append(part)  # a range such as x>=1: symbols
    return f"{text[: match.start()]}  [{'; '.join(parts)}]"


class CellFormatter(HelpFormatter):
    """click's help formatter, in the user's language and measuring text in terminal cells."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        prefix = _("Usage:") + " " if prefix is None else prefix
        head = f"{prefix:>{self.current_indent}}{prog} "
        indent = " " * min(cell_len(head), 30)
        lines = wrap_cells(args, self.width - cell_len(head) - self.current_indent)
        self.write(head + lines[0] + "\n")
        for line in lines[1:]:
            self.write(indent + line + "\n")

    def write_heading(self, heading: str) -> None:
        shown = _(HEADINGS[heading]) if heading in HEADINGS else heading
        self.write(f"{'':>{self.current_indent}}{shown}:\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        blocks = [
            "\n".join(indent + line for line in wrap_cells(p, self.width - self.current_indent))
            for p in _paragraphs(text)
        ]
        self.write("\n\n".join(blocks) + "\n")

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = [(first, _click_phrases(second)) for first, second in rows]
        widest = max((cell_len(first) for first, _second in rows), default=0)
        first_col = min(widest, col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if cell_len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - cell_len(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            text_width = max(self.width - first_col - self.current_indent, 10)
            lines = [line for p in _paragraphs(second) for line in wrap_cells(p, text_width)]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


def _value_word(param: Any) -> str:
    """What an option's value is, in the user's language (`<パス>`), from its declared type."""
    descriptor = param.type_descriptor
    annotation = descriptor.annotation
    if descriptor.is_list:
        (annotation,) = getattr(annotation, "__args__", (str,))
    if descriptor.is_path:
        return _(VALUE_PATH)
    if descriptor.is_ranged or annotation in (int, float):
        return _(VALUE_NUMBER)
    return _(VALUE_TEXT)


class LocalizedCommand(TyperCommand):
    """A verb (Typer's `cls=`) whose arguments are listed by their names in the user's language
    alone (Typer adds the Python type, `ID <str>`); options as Typer lists them."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = f"{param.metavar}{'...' if param.nargs != 1 else ''}"
                arguments.append((name, record[1]))
            else:
                options.append(record)
        for heading, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(heading):  # CellFormatter translates the heading
                    formatter.write_dl(rows)


class CellContext(typer.Context):
    """The context of every dxfield command: its help is written by `CellFormatter`."""

    formatter_class = CellFormatter


LocalizedGroup.context_class = CellContext


# -- the command tree -----------------------------------------------------------------------------


def _first_sentence(text: str) -> str:
    """The first sentence of `text`'s first paragraph (a verb's line in its group's list): up to
    the first full stop outside brackets, for a translation may end a sentence inside them
    (the Japanese of attach's "(photos, ... text; at most 50 MB each)" has a full stop where
    the semicolon is) and the line must not stop there."""
    paragraph = _paragraphs(text)[0] if text.strip() else ""
    depth = 0
    for mark in _SENTENCE_MARK.finditer(paragraph):
        if mark.lastgroup == "open":
            depth += 1
        elif mark.lastgroup == "close":
            depth = max(depth - 1, 0)
        elif depth == 0:
            return paragraph[: mark.end()]
    return paragraph


def localize(command: Any) -> Any:
    """Give `command` and everything under it their help in the user's language, and the context
    that formats it by cells. Returns `command`."""
    command.context_class = CellContext
    if getattr(command, "options_metavar", None):
        command.options_metavar = _(OPTIONS_METAVAR)
    if getattr(command, "subcommand_metavar", None):
        command.subcommand_metavar = _(SUBCOMMAND_METAVAR)
    if command.help:
        command.help = _(command.help)
        command.short_help = _first_sentence(command.help)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            param.help = _(text)
        if param.metavar:  # an argument's name, or an option's value (`--to REV`)
            param.metavar = _(param.metavar)
        elif param.param_type_name == "option" and not getattr(param, "is_flag", False):
            param.metavar = _value_word(param)
    for sub in getattr(command, "commands", {}).values():
        localize(sub)
    return command


def language_in(argv: Sequence[str]) -> str | None:
    """The value of `--lang` among the arguments (before a `--`), if any."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
    return None


# -- usage errors ---------------------------------------------------------------------------------


def _hint(exc: click_errors.BadParameter) -> str:
    if exc.param is not None:
        return str(exc.param.get_error_hint())
    hint = exc.param_hint
    return (hint or "") if isinstance(hint, str) or hint is None else " / ".join(hint)


def usage_error(exc: click_errors.UsageError) -> str:
    """A usage error of click, in the user's language, from its fields; with where to read help."""
    if isinstance(exc, NoSuchCommand):
        text = _("there is no command '{name}'").format(name=exc.name)
        if exc.possibilities:
            text += _(" (did you mean: {names}?)").format(names=", ".join(exc.possibilities))
    elif isinstance(exc, click_errors.NoSuchOption):
        text = _("there is no option {option}").format(option=exc.option_name)
        if exc.possibilities:
            text += _(" (did you mean: {names}?)").format(names=", ".join(exc.possibilities))
    elif isinstance(exc, click_errors.MissingParameter):
        hint = _hint(exc)
        if getattr(exc.param, "param_type_name", "") == "argument":
            text = _("the argument {name} is missing").format(name=hint)
        else:
            text = _("the option {name} is required").format(name=hint)
    elif isinstance(exc, click_errors.BadParameter):
        hint = _hint(exc)
        text = _("the value of {name} is not valid").format(name=hint)
        detail = _value_detail(exc.param)
        if detail:
            text += _(" ({detail})").format(detail=detail)
    elif isinstance(exc, click_errors.BadOptionUsage):
        text = _("the option {option} needs a value").format(option=exc.option_name)
        if "does not take" in exc.message:
            text = _("the option {option} takes no value").format(option=exc.option_name)
    elif exc.message.startswith("Got unexpected extra argument"):
        extra = exc.message[exc.message.find("(", exc.message.find(")")) + 1 :].rstrip(")")
        text = _("unexpected arguments: {arguments}").format(arguments=extra)
    else:
        text = _("the command is not used that way")
    if exc.ctx is not None:
        text += _(" (see '{command} --help')").format(command=exc.ctx.command_path)
    return text


def _value_detail(param: Any) -> str:
    """What a parameter takes, from its declaration (a whole number, at least 1)."""
    if param is None:
        return ""
    low = getattr(param, "min", None)
    if low is not None:
        return _("a whole number, at least {min}").format(min=low)
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and "int" in str(getattr(descriptor, "annotation", "")):
        return _("a whole number")
    return ""
