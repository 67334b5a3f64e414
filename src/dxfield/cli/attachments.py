"""`dxfield attach`, `attachments`, `attachment save`, `detach` and `prune`: files on records.

Each file given to `attach` is attached or refused on its own (one line each); the exit code is 1
when any was refused. Names and captions are printed escaped, as every verb prints user text.
"""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dxfield.cli.common import JsonOption, echo, print_json, store_of, table
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, ngettext

attachment_app = typer.Typer(
    cls=LocalizedGroup, help="One attached file: save a copy of it.", no_args_is_help=True
)


def _error_line(message: str) -> None:
    lines = visible(message.strip(), multiline=True).splitlines()
    sys.stderr.write(_("error: {message}").format(message=lines[0] if lines else "") + "\n")


def attach_command(
    ctx: typer.Context,
    owner_id: Annotated[
        str,
        typer.Argument(
            metavar=N_("ID"), help="The activity or finding (its id or a unique part of it)."
        ),
    ],
    files: Annotated[list[Path], typer.Argument(metavar=N_("FILE"), help="The files to attach.")],
    caption: Annotated[
        str, typer.Option("--caption", help="A caption for the files (a photo's subject).")
    ] = "",
    keep_metadata: Annotated[
        bool,
        typer.Option(
            "--keep-metadata",
            help="Keep what the files say about where and by whom they were made (a photo's "
            "location and camera, a document's authors): removed otherwise.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Attach files (photos, PDF, Word, Excel, PowerPoint, text; at most 50 MB each) to an
    activity or a finding. A photo loses its location and camera details, a document its
    authors, unless --keep-metadata."""
    from dxfield.i18n import LocalizedError
    from dxfield.store.attachments import attach, size_text

    store = store_of(ctx)
    results: list[dict[str, Any]] = []
    failed = 0
    for path in files:
        try:
            attached = attach(store, owner_id, path, caption=caption, keep_metadata=keep_metadata)
        except LocalizedError as exc:
            failed += 1
            results.append({"file": str(path), "error": exc.message()})
            if not as_json:
                _error_line(exc.message())
            continue
        record = attached.record
        results.append({"file": str(path), "attachment": record, "notes": attached.notes})
        if not as_json:
            echo(
                _("attached {name} ({size}): {id}").format(
                    name=visible(record.file_name), size=size_text(record.size), id=record.id
                )
            )
            for note in attached.notes:
                echo(f"  {visible(note)}")
    if as_json:
        print_json(results)
    if failed:
        raise typer.Exit(1)


def attachments_command(
    ctx: typer.Context,
    owner_id: Annotated[
        str,
        typer.Argument(
            metavar=N_("ID"), help="The activity or finding (its id or a unique part of it)."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """List the files attached to an activity or a finding, oldest first."""
    from dxfield.store.attachments import attachments_of
    from dxfield.store.purges import purged_of_owner
    from dxfield.sync.authors import names_here

    store = store_of(ctx)
    found = attachments_of(store, owner_id)  # refuses an id that names no activity or finding
    if as_json:
        print_json(found)
        return
    purged = purged_of_owner(store, owner_id, names_here(store))
    if not found and not purged:
        echo(_("no attachments"))
        return
    if found:
        _table(found)
    for note in purged:  # what is left of a purged file: the fact, when, by whom, why
        echo(visible(note.line()) + f"  ({note.attachment_id})")


def _table(found: list[Any]) -> None:
    """The live attachments, one row each."""
    from dxfield.store.attachments import size_text

    table(
        [_("name"), _("type"), _("size"), _("caption"), _("taken at"), "SHA-256", "ID"],
        [
            [
                a.file_name,
                a.media_type,
                size_text(a.size),
                a.caption,
                (a.taken_at or "").replace("T", " "),
                a.sha256,
                a.id,
            ]
            for a in found
        ],
    )


@attachment_app.command("save", cls=LocalizedCommand)
def attachment_save(
    ctx: typer.Context,
    attachment_id: Annotated[
        str, typer.Argument(metavar=N_("ATT"), help="The attachment (its id or a unique part).")
    ],
    out: Annotated[Path, typer.Option("--out", help="The file to write the copy to.")],
    force: Annotated[
        bool, typer.Option("--force", help="Write over a file that already exists.")
    ] = False,
) -> None:
    """Save a copy of an attached file (checked against its SHA-256 as it is written)."""
    from dxfield.store.attachments import save_copy

    written = save_copy(store_of(ctx), attachment_id, out, force=force)
    echo(_("wrote {path}").format(path=visible(str(written))))


def detach_command(
    ctx: typer.Context,
    attachment_id: Annotated[
        str, typer.Argument(metavar=N_("ATT"), help="The attachment (its id or a unique part).")
    ],
) -> None:
    """Remove a file from its activity or finding (a deletion: its history stays, and its
    content until `dxfield prune` finds nothing uses it)."""
    from dxfield.store.attachments import detach

    gone = detach(store_of(ctx), attachment_id)
    echo(_("detached {name}: {id}").format(name=visible(gone.file_name), id=gone.id))


def prune_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove attached files' content that no record uses any more (a detached file's, when no
    other attachment has the same content) and temporary files left by an interrupted attach or
    import."""
    from dxfield.store.attachments import size_text
    from dxfield.store.maintenance import prune

    result = prune(store_of(ctx), dry_run=dry_run)
    if as_json:
        print_json(result)
        return
    count = len(result.orphans) + len(result.temp_files) + len(result.thumbnails)
    if dry_run:
        line = ngettext(
            "would remove {count} file, {size} (dry run; nothing was removed)",
            "would remove {count} files, {size} (dry run; nothing was removed)",
            count,
        )
    else:
        line = ngettext("removed {count} file, {size}", "removed {count} files, {size}", count)
    echo(line.format(count=count, size=size_text(result.freed)))
    if result.moved:
        moved = ngettext(
            "moved {count} attached content from this data folder into the hub's database",
            "moved {count} attached contents from this data folder into the hub's database",
            len(result.moved),
        )
        if dry_run:
            moved = ngettext(
                "would move {count} attached content from this data folder into the hub's database",
                "would move {count} attached contents from this data folder into the hub's "
                "database",
                len(result.moved),
            )
        echo(moved.format(count=len(result.moved)))
