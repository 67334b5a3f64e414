"""`dxfield purge`: on the hub, erase an attachment's content and personal fields everywhere."""

import sys
from typing import Annotated

import typer

from dxfield.cli.common import echo, store_of
from dxfield.domain.errors import LocalizedError
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, problems

PROBLEMS = problems(
    {
        "cli.purge_needs_yes": N_(
            "a purge cannot be taken back: add --yes to purge (nothing was purged)"
        ),
    }
)


def purge_command(
    ctx: typer.Context,
    attachment: Annotated[
        str,
        typer.Argument(
            metavar=N_("ATT"),
            help="The attachment (its id or a unique part of it).",
        ),
    ],
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why it is purged (kept with the purge, shown everywhere)."),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Purge without asking (a purge cannot be taken back).")
    ] = False,
) -> None:
    """On the hub: erase an attachment's file and personal fields in every store (a resident's
    request); the fact that it was purged, by whom, when and why is kept."""
    from dxfield.domain.records import clean_text
    from dxfield.store.purges import purge_attachment, require_hub, sharing

    store = store_of(ctx)
    require_hub(store)
    clean_text(reason, "reason", required=True)  # refused before anything is asked
    found, others = sharing(store, attachment)
    echo(
        _("purge {id} “{name}” ({size:,} bytes), attached to {owner}").format(
            id=found.id, name=found.file_name, size=found.size, owner=found.owner_id
        )
    )
    for other in others:
        echo(
            _("  and {id} “{name}”, which holds the same file").format(
                id=other.id, name=other.file_name
            )
        )
    if not yes:
        if not sys.stdin.isatty():
            raise LocalizedError("cli.purge_needs_yes")
        if not typer.confirm(_("Purge? This cannot be taken back"), default=False):
            raise typer.Exit(1)
    written = purge_attachment(store, found.id, reason)
    for purge in written:
        echo(
            _(
                "purged {id}: its file and personal fields are erased here, and everywhere the "
                "purge arrives"
            ).format(id=purge.attachment_id)
        )
    if len(written) > 1:
        echo(
            _("the attachments that held the same file were purged too ({count})").format(
                count=len(written) - 1
            )
        )
    echo(visible(_("reason: {reason}").format(reason=written[0].reason)))
