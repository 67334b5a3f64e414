"""`dxfield minutes`: the minutes (議事録) of activities as Word, HTML or Markdown."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dxfield.cli.common import echo, store_of
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, ngettext, quote

if TYPE_CHECKING:
    from dxfield.report.minutes import Minutes


def _warn_about_photos(minutes: "Minutes") -> None:
    """A line on standard error for each photo the minutes cannot show (standard output may be
    the document itself)."""
    for entry, photo in minutes.problems:
        if photo.problem == "missing":
            message = _(
                "warning: the photo {name} ({id}) of {activity} is not on this device (its "
                "bundle may not have come yet); the minutes say so in its place"
            )
        elif photo.problem == "damaged":
            message = _(
                "warning: the photo {name} ({id}) of {activity} kept here is damaged (it does "
                "not match its SHA-256); the minutes say so in its place"
            )
        else:
            message = _(
                "warning: the photo {name} ({id}) of {activity} cannot be read as an image; "
                "the minutes say so in its place"
            )
        text = message.format(
            name=quote(photo.file_name, 80), id=photo.attachment_id, activity=quote(entry.title, 80)
        )
        typer.echo(visible(text), err=True)


def minutes_command(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar=N_("ID"), help="Activities (ids or unique prefixes).", show_default=False
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="docx, html or md.")] = "docx",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The file to write (- for standard output; default: a new file in the "
            "documents folder, named by the date and title).",
        ),
    ] = None,
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", help="Every activity of this municipality (with --month)."),
    ] = None,
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="The month to take them from (2024-10, or as --date takes it), or a fiscal "
            "year (FY2024).",
        ),
    ] = None,
    include_personal: Annotated[
        bool,
        typer.Option(
            "--include-personal",
            help="Keep personal information: participants' names, who owns each action.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write over a file that already exists.")
    ] = False,
    no_photos: Annotated[
        bool,
        typer.Option(
            "--no-photos",
            help="Leave the photos out (by default they are in, as the meeting's record, with "
            "or without personal information).",
        ),
    ] = False,
) -> None:
    """Write the minutes (議事録) of one activity or several, in date order, as one document."""
    from dxfield.i18n import LocalizedError
    from dxfield.report.minutes import (
        build_minutes,
        check_format,
        file_name,
        select_activities,
        write_minutes,
    )

    fmt = check_format(fmt)
    if ids and (municipality or month):
        raise LocalizedError("minutes.ids_and_month")
    if bool(municipality) != bool(month):
        raise LocalizedError("minutes.month_needs_municipality")
    if not ids and not municipality:
        raise LocalizedError("minutes.nothing_asked")
    store = store_of(ctx)
    scope = ""
    if municipality and month:
        ids, scope = select_activities(store, municipality, month)
    minutes = build_minutes(
        store,
        ids or [],
        include_personal=include_personal,
        scope=scope,
        photos=not no_photos,
        images=fmt != "md",  # Markdown lists the photos: no copy of them is made
    )
    _warn_about_photos(minutes)
    if out is not None and str(out) == "-":  # the document itself, as written (piped on)
        import sys

        from dxfield.report.minutes import render

        sys.stdout.buffer.write(render(minutes, fmt))
        sys.stdout.flush()
        return
    if out is None:
        from dxfield.paths import documents_dir

        folder = documents_dir()
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / file_name(minutes, fmt)
    write_minutes(store, minutes, out, fmt, force=force)
    count = len(minutes.entries)
    echo(
        ngettext(
            "wrote {path}: minutes of {count} activity",
            "wrote {path}: minutes of {count} activities",
            count,
        ).format(path=visible(str(out)), count=count)
    )
