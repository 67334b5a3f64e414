"""What the command's modules share: the store of this invocation, JSON and table output."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from dxfield.store.engine import Store

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class Settings:
    """Global options, kept on the Typer context."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir_option = data_dir
        self._store: Store | None = None

    @property
    def data_dir(self) -> Path:
        """The data directory this invocation works in."""
        from dxfield.paths import resolve_data_dir

        return resolve_data_dir(self.data_dir_option)

    def close(self) -> None:
        """Close the store if this invocation opened it."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def store(self, *, device_name: str | None = None) -> "Store":
        """The store, opened once per invocation."""
        if self._store is None:
            from dxfield.store.engine import Store

            self._store = Store.open(self.data_dir, device_name=device_name)
        return self._store


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def store_of(ctx: typer.Context) -> "Store":
    return settings_of(ctx).store()


def print_json(value: Any) -> None:
    import json

    typer.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=2, sort_keys=True))


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


def say(ja: str, en: str) -> None:
    typer.echo(ja if ui_language() == "ja" else en)


def table(headers: list[tuple[str, str]], rows: list[list[str]]) -> None:
    """Print rows under headers, aligned for full-width text (rich measures East Asian widths)."""
    from rich.console import Console
    from rich.table import Table

    ja = ui_language() == "ja"
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for header_ja, header_en in headers:
        table.add_column(header_ja if ja else header_en, overflow="fold")
    for row in rows:
        table.add_row(*row)
    # Piped output is never wrapped, so scripts and grep see one record per line.
    width = None if sys.stdout.isatty() else 10_000
    Console(width=width, soft_wrap=False, highlight=False).print(table)


DateOpt = Annotated[
    str | None, typer.Option("--date", help="2024-07-17, 2024/7/17, 令和6年7月17日 or R6.7.17.")
]
InitiativeOpt = Annotated[str | None, typer.Option("--initiative", help="Initiative id.")]


def report_edit(record: Any, changed: bool, *, as_json: bool) -> None:
    """What an `edit` verb prints: the record (--json), or whether a new revision was made."""
    if as_json:
        print_json(record)
    elif changed:
        say(f"更新しました: {record.id} ({record.rev})", f"updated {record.id} ({record.rev})")
    else:
        say(f"変更はありません: {record.id}", f"nothing changed: {record.id}")


def report_delete(record_id: str) -> None:
    """What a `delete` verb prints."""
    say(f"削除しました: {record_id}", f"deleted {record_id}")


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Any]:
    """A progress bar on stderr when it is a terminal, yielding a function that advances it by
    one; nothing (None) when piped or in scripts."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
