"""What the command's modules share: the store of this invocation, JSON and table output.

Everything a verb prints for a person goes out through `echo` or `table`, which show
control characters escaped (`dxfield.domain.visible`): a record from a bundle, a CSV row or a
device's card cannot move the cursor, set the title or reverse text on the user's terminal.
Values embedded in a line are passed through `visible` (one line each) by the verb itself; the
line as a whole is escaped again (newlines kept), which changes nothing already escaped.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dxfield.domain.visible import json_visible, visible
from dxfield.i18n import N_, _

if TYPE_CHECKING:
    from dxfield.store.engine import Store
    from dxfield.store.light import LightStore

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class Settings:
    """Global options, kept on the Typer context."""

    def __init__(self, data_dir: Path | None, database: str | None = None) -> None:
        self.data_dir_option = data_dir
        self.database = database
        """`--database`: a hub's PostgreSQL address (else $DXFIELD_DATABASE_URL, else the file)."""
        self._store: Store | None = None
        self._light: LightStore | None = None
        self._light_tried = False

    @property
    def data_dir(self) -> Path:
        """The data directory this invocation works in."""
        from dxfield.paths import resolve_data_dir

        return resolve_data_dir(self.data_dir_option)

    def close(self) -> None:
        """Close the store if this invocation opened it."""
        if self._light is not None:
            self._light.close()
            self._light = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def light(self) -> "LightStore | None":
        """The store read through its driver alone (sqlite3, or psycopg for a hub), when
        opening it would do nothing else (store/light.py: a few rows' read verbs then cost a
        third of a `Store`'s imports); None otherwise, and the verb asks `store()`."""
        if not self._light_tried:
            self._light_tried = True
            from dxfield.store.light import open_light

            self._light = open_light(self.data_dir, self.database)
        return self._light

    def store(self, *, device_name: str | None = None, create: bool = False) -> "Store":
        """The store, opened once per invocation (`create`: give a new hub database its
        schema, as `init` does)."""
        if self._store is None:
            from dxfield.store.engine import Store

            self._store = Store.open(
                self.data_dir, device_name=device_name, database=self.database, create=create
            )
        return self._store


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def store_of(ctx: typer.Context) -> "Store":
    return settings_of(ctx).store()


def print_json(value: Any) -> None:
    import json

    # json.dumps escapes the C0 controls; json_visible the C1, bidi and DEL it leaves raw.
    text = json.dumps(jsonable(value), ensure_ascii=False, indent=2, sort_keys=True)
    typer.echo(json_visible(text))


def jsonable(value: Any) -> Any:
    """Pydantic models, dataclasses, dates and enums as plain JSON values."""
    import dataclasses
    import datetime as dt

    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def ui_language() -> str:
    from dxfield.i18n import current_language

    return current_language()


def echo(text: str) -> None:
    """Print a line (or lines) for a person: control characters shown, newlines kept."""
    typer.echo(visible(text, multiline=True))


WAITING_FOR_WRITER = N_(
    "another dxfield is writing to this store; the import goes on once it is done"
)


def waiting_for_writer() -> None:
    """Said on stderr, once, when a long import's write finds another dxfield writing to the
    store (another import): it waits for it rather than give up (`Store.write`'s `waiting`).
    Above the progress bar on screen, if one is (a line written beside it would run into it)."""
    text = _(WAITING_FOR_WRITER)
    if _SHOWN:
        _SHOWN[-1].console.print(text, markup=False, highlight=False, emoji=False)
    else:
        typer.echo(text, err=True)


def table(headers: list[str], rows: list[list[str]]) -> None:
    """Print rows under headers, aligned for full-width text (rich measures East Asian widths).

    Each cell is one line of plain text: controls (a newline too) shown escaped, and brackets
    printed as they are, never read as Rich markup.
    """
    headers = [visible(header) for header in headers]
    rows = [[visible(cell) for cell in row] for row in rows]
    if not _styled_output() and _plain_table(headers, rows):
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(Text(header), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    # Piped output is never wrapped, so scripts and grep see one record per line.
    width = None if sys.stdout.isatty() else PIPED_WIDTH
    Console(width=width, soft_wrap=False, highlight=False).print(table)


PIPED_WIDTH = 10_000
"""The width a table is laid out in when the output is not a terminal (no wrapping)."""


def _styled_output() -> bool:
    """Whether Rich would write to a terminal here (styles, wrapping at its width): standard
    output is one, or the environment says to treat it as one (Rich's `TTY_COMPATIBLE=1`,
    `FORCE_COLOR`)."""
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        return True
    try:
        return sys.stdout.isatty()
    except ValueError:  # closed
        return False


def _plain_cell(text: str) -> bool:
    """Whether Rich prints this cell as it is, padded to its column: no whitespace at its ends
    (Rich's wrapping drops it), and no character of no width of its own (combining marks, the
    joiner, variation selectors, format characters: Rich measures and prints those by
    grapheme)."""
    from unicodedata import category

    return text.strip() == text and not any(
        category(char) in _OF_NO_WIDTH for char in text if char >= "\u0300"
    )


_OF_NO_WIDTH = frozenset({"Mn", "Me", "Cf", "Zl", "Zp"})


def _plain_table(headers: list[str], rows: list[list[str]]) -> bool:
    """Print the table as Rich lays it out for a pipe (no styles, no wrapping), without
    building Rich's table: importing and rendering it was a third of `activity list`'s time.
    Columns are as wide as their widest cell (in terminal cells, measured as Rich does), two
    spaces apart, every cell padded to its column. False (nothing printed) when the table is
    wider than `PIPED_WIDTH`, where Rich folds cells, has a column of empty cells, or a cell
    Rich would lay out otherwise (`_plain_cell`): Rich prints that one."""
    if any(len(row) != len(headers) for row in rows) or not all(
        _plain_cell(cell) for line in [headers, *rows] for cell in line
    ):
        return False
    from rich.cells import cell_len

    measured = [[cell_len(cell) for cell in line] for line in [headers, *rows]]
    widths = [max(line[n] for line in measured) for n in range(len(headers))]
    if not all(widths) or sum(widths) + 2 * (len(widths) - 1) > PIPED_WIDTH:
        return False
    out = []
    for line, cells in zip([headers, *rows], measured, strict=True):
        padded = [
            text + " " * (width - used)
            for text, used, width in zip(line, cells, widths, strict=True)
        ]
        out.append("  ".join(padded) + "\n")
    sys.stdout.write("".join(out))
    sys.stdout.flush()
    return True


DateOpt = Annotated[
    str | None,
    typer.Option("--date", help="A date: 2024-07-17, 2024/7/17, R6.7.17 or the era's own form."),
]
ActivityDateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="The date: 2024-07-17, R6.7.17 or 7/17 (this year); or only a month (2024-10, "
        "R6.10), a third of one or a fiscal year, as Japanese documents write them (the user "
        "guide lists the forms). From 2000 to two years after today.",
    ),
]
InitiativeOpt = Annotated[str | None, typer.Option("--initiative", help="Initiative id.")]


def typed_day(value: str | None, field: str) -> str | None:
    """A day given as an option (a due date, a move's date), read as a person writes it (7/17
    is this year) and refused outside the plausible range (`dates.read_day`); None is "not
    given", and an empty text ("clear it") stays empty."""
    if value is None or not value.strip():
        return value
    from dxfield import clock
    from dxfield.domain.dates import read_day
    from dxfield.i18n import about

    with about(field):
        return read_day(value, clock.today()).isoformat()


def report_edit(record: Any, changed: bool, *, as_json: bool) -> None:
    """What an `edit` verb prints: the record (--json), or whether a new revision was made."""
    if as_json:
        print_json(record)
    elif changed:
        echo(_("updated {id}").format(id=visible(record.id)))
    else:
        echo(_("nothing changed: {id}").format(id=visible(record.id)))


def report_delete(record_id: str) -> None:
    """What a `delete` verb prints."""
    echo(_("deleted {id}").format(id=visible(record_id)))


def revision_text(names: dict[str, str], hlc: str, device_id: str) -> str:
    """A revision as a person reads it: when and on which device (`2024-07-17 10:02 JST
    kami-liaison`), never its hash. `names`: the store's `local_state.device_names` (a device it
    does not know shows as its id)."""
    from dxfield.store.hlc import REFERENCE_HLC, stamped_at

    if hlc == REFERENCE_HLC:
        when = _("reference data")
    else:
        at = stamped_at(hlc)
        when = _("(unreadable time)") if at is None else f"{at:%Y-%m-%d %H:%M} JST"
    return f"{when} {visible(names.get(device_id, device_id))}"


@contextmanager
def progress_bar(label: str, total: int, *, percent: bool = False) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal, yielding a function that advances it (by
    one, or by as many steps as it is given); nothing (None) when piped or in scripts. It shows
    the steps done of the total, or (`percent`: steps that mean nothing to a person, such as
    bytes) a percentage."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn() if percent else MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        _SHOWN.append(progress)
        try:
            yield lambda steps=1: progress.advance(task, steps)
        finally:
            _SHOWN.remove(progress)


_SHOWN: list[Any] = []
"""The progress bars on screen (`progress_bar`), the newest last."""
