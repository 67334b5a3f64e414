"""`dxfield export-table` and `dxfield import-table`: the log in and out of Excel."""

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from dxfield.cli.common import echo, progress_bar, store_of, waiting_for_writer
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, ngettext

Format = Annotated[str, typer.Option("--format", help="csv or xlsx.")]


def export_table_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The file to write (default: a new file in the documents folder).",
        ),
    ] = None,
    fmt: Format = "csv",
    what: Annotated[
        str | None,
        typer.Option(
            "--what",
            help="activities, findings, actions or tracks (an XLSX without it: all four).",
        ),
    ] = None,
    include_personal: Annotated[
        bool,
        typer.Option("--include-personal", help="Keep the free-text participants (names)."),
    ] = False,
) -> None:
    """Write a table as CSV (UTF-8 with a BOM, for Excel) or XLSX (a sheet per table)."""
    from dxfield.report.tables import export_table

    if out is None:
        from dxfield import clock
        from dxfield.paths import documents_dir

        folder = documents_dir()
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"dxfield-{what or 'tables'}-{clock.file_stamp()}.{fmt.lower()}"
    counts = export_table(store_of(ctx), out, what=what, fmt=fmt, include_personal=include_personal)
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    shown = visible(str(out))
    echo(_("wrote {path}: {summary}").format(path=shown, summary=summary))


def import_table_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(metavar=N_("FILE"))],
    fmt: Format = "csv",
    what: Annotated[str, typer.Option("--what", help="activities.")] = "activities",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row; write nothing.")
    ] = False,
) -> None:
    """Bring activities in from a CSV or XLSX shaped as export-table writes it: all or none.
    A row whose id is an activity of the store updates it instead of adding a copy."""
    from dxfield.i18n import LocalizedError
    from dxfield.report.table_import import import_table

    if what != "activities":
        raise LocalizedError("cli.import_only_activities", field="what")
    with ExitStack() as stack:
        shown: list[ExitStack] = []  # the bar on screen: one at a time (Rich shows one)

        def bar(phase: str, total: int) -> Any:
            if shown:  # the check is done: its bar gives way to the writing's
                shown.pop().close()
            phase_stack = stack.enter_context(ExitStack())
            shown.append(phase_stack)
            if phase == "check":  # the table's size (a CSV's bytes): a percentage
                return phase_stack.enter_context(
                    progress_bar(_("checking the table"), total, percent=True)
                )
            return phase_stack.enter_context(progress_bar(_("writing the activities"), total))

        counts = import_table(
            store_of(ctx),
            path,
            fmt=fmt,
            dry_run=dry_run,
            progress=bar,
            waiting=waiting_for_writer,
        )
    rows = counts.added + counts.updated + counts.unchanged
    tally = _("{added} added, {updated} updated, {unchanged} unchanged").format(
        added=counts.added, updated=counts.updated, unchanged=counts.unchanged
    )
    if dry_run:
        line = ngettext(
            "{count} row, all valid (dry run): {tally}",
            "{count} rows, all valid (dry run): {tally}",
            rows,
        )
    else:
        line = ngettext(
            "imported {count} activity: {tally}", "imported {count} activities: {tally}", rows
        )
    echo(line.format(count=rows, tally=tally))
