"""`dxfield report` (the prefecture's report, Markdown or HTML) and `dxfield programme` (its
title and overview)."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dxfield.cli.common import JsonOption, echo, print_json, store_of
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import _, ngettext, quote

if TYPE_CHECKING:
    from dxfield.report.content import Report

programme_app = typer.Typer(
    cls=LocalizedGroup,
    help="The programme the report is about: its title, overview and fiscal year.",
    no_args_is_help=True,
)


def _warn_about_photos(report: "Report") -> None:
    """A line on standard error for each photo left out of the report (standard output may be
    the report itself)."""
    for problem in report.photo_problems:
        if problem.problem == "missing":
            message = _(
                "warning: the photo {name} ({id}) of {municipality} is not on this device (its "
                "bundle may not have come yet); the report shows another or none"
            )
        elif problem.problem == "damaged":
            message = _(
                "warning: the photo {name} ({id}) of {municipality} kept here is damaged (it "
                "does not match its SHA-256); the report shows another or none"
            )
        else:
            message = _(
                "warning: the photo {name} ({id}) of {municipality} cannot be read as an image; "
                "the report shows another or none"
            )
        text = message.format(
            name=quote(problem.file_name, 80),
            id=problem.attachment_id,
            municipality=problem.municipality,
        )
        typer.echo(visible(text), err=True)


def report_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The file to write (- or none: print the Markdown)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="md or html (by default, from the file name)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Report as of this day (default: today, or the fiscal year's end)."
        ),
    ] = None,
    municipality: Annotated[
        list[str] | None,
        typer.Option("--municipality", help="Only this municipality (name or code); repeatable."),
    ] = None,
    fiscal_year: Annotated[
        int | None,
        typer.Option(
            "--fiscal-year", help="The fiscal year, e.g. 2024 (default: the programme's)."
        ),
    ] = None,
    include_personal: Annotated[
        bool,
        typer.Option(
            "--include-personal",
            help="Keep personal information: participants' names, notes, owners of actions.",
        ),
    ] = False,
    with_photos: Annotated[
        bool,
        typer.Option(
            "--with-photos",
            help="Show one or two photos of each municipality's latest activities (in HTML "
            "inside the file; Markdown lists them).",
        ),
    ] = False,
) -> None:
    """Write the prefecture's report from the log, shaped like its own document."""
    from dxfield.report.content import build_report, make_scope
    from dxfield.report.render import format_of, render, write_report

    store = store_of(ctx)
    scope = make_scope(
        store,
        as_of=as_of,
        fiscal_year=fiscal_year,
        municipalities=municipality or (),
        include_personal=include_personal,
        with_photos=with_photos,
    )
    if out is None or str(out) == "-":
        fmt = (fmt or "md").lower()
        report = build_report(store, scope, images=fmt == "html")
        _warn_about_photos(report)
        text = render(report, fmt)
        if sys.stdout.isatty():  # a person reads it; piped, it is the document, as written
            text = visible(text, multiline=True)
        typer.echo(text, nl=False)
        return
    report = write_report(store, scope, out, format_of(out, fmt))
    _warn_about_photos(report)
    count = len(report.sections)
    shown = visible(str(out))
    echo(
        _("wrote {path}: fiscal year {fiscal_year}, as of {as_of}").format(
            path=shown, fiscal_year=scope.fiscal_year, as_of=scope.as_of.isoformat()
        )
    )
    echo(
        ngettext("{count} municipality", "{count} municipalities", count).format(count=count)
        + ", "
        + ngettext("{count} activity", "{count} activities", report.activity_count).format(
            count=report.activity_count
        )
    )


@programme_app.command("show", cls=LocalizedCommand)
def programme_show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the programme's title, fiscal year and overview."""
    from dxfield.store.programme import get_programme

    programme = get_programme(store_of(ctx))
    if as_json:
        print_json(programme)
        return
    echo(visible(programme.title))
    if programme.fiscal_year:
        echo(_("fiscal_year: {year}").format(year=programme.fiscal_year))
    if programme.overview:
        echo("")
        echo(programme.overview)  # keeps its lines


@programme_app.command("set", cls=LocalizedCommand)
def programme_set(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Option("--title", help="The report's title.")] = None,
    overview_file: Annotated[
        Path | None,
        typer.Option(
            "--overview-file", help="A UTF-8 text file holding the overview (- for stdin)."
        ),
    ] = None,
    fiscal_year: Annotated[
        str | None,
        typer.Option("--fiscal-year", help="The programme's fiscal year (empty to clear)."),
    ] = None,
) -> None:
    """Set the programme's title, overview or fiscal year (what is not given stays)."""
    from dxfield.i18n import LocalizedError, about
    from dxfield.store.maintenance import read_text_file
    from dxfield.store.programme import set_programme

    overview = None
    if overview_file is not None:
        with about("overview"):
            if str(overview_file) == "-":
                try:
                    overview = sys.stdin.buffer.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise LocalizedError("cli.stdin_not_utf8") from None
            else:
                overview = read_text_file(overview_file)
    programme = set_programme(
        store_of(ctx),
        title=title,
        overview=overview,
        fiscal_year=fiscal_year or None,
        clear_fiscal_year=fiscal_year == "",
    )
    title = visible(programme.title)
    echo(_("programme updated: {title}").format(title=title))
