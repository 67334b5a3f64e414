"""`dxfield hub`: what only the prefecture's hub decides (which bundles it still takes)."""

from typing import Annotated

import typer

from dxfield.cli.common import JsonOption, echo, print_json, store_of
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.i18n import _

hub_app = typer.Typer(
    cls=LocalizedGroup,
    help="The hub's decisions: until when it takes bundles from laptops not yet upgraded.",
    no_args_is_help=True,
)


@hub_app.command("accept-v1", cls=LocalizedCommand)
def hub_accept_v1(
    ctx: typer.Context,
    until: Annotated[
        str | None,
        typer.Option("--until", help="The last day (Japan's) to take them, e.g. 2027-03-31."),
    ] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Take them no longer.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Take bundles from laptops still on the previous format (1) until a date; without an
    option, say until when."""
    from dxfield.domain.dates import parse_date
    from dxfield.sync.bundle import accept_format_1_until, format_1_window

    store = store_of(ctx)
    if stop:
        window = accept_format_1_until(store, None)
    elif until is not None:
        window = accept_format_1_until(store, parse_date(until))
    else:
        window = format_1_window(store)
    if as_json:
        print_json({"accept_format_1_until": window.isoformat() if window else None})
    elif window is None:
        echo(_("the hub takes no bundles in the previous format (1)"))
    else:
        echo(
            _("the hub takes bundles in the previous format (1) until {date}").format(
                date=window.isoformat()
            )
        )


@hub_app.command("rotate-key", cls=LocalizedCommand)
def hub_rotate_key(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Give the hub new keys: the new card is signed by the old key, so laptops follow it; what
    the hub signed and attested is signed again."""
    from dxfield.domain.visible import visible
    from dxfield.sync.rotation import rotate_hub_key

    done = rotate_hub_key(store_of(ctx))
    if as_json:
        print_json(done)
        return
    echo(
        _("the hub's key was rotated: new key fingerprint {fingerprint} (was {previous})").format(
            fingerprint=done.card.fingerprint, previous=done.previous_fingerprint
        )
    )
    echo(
        _(
            "signed again: {signed} revisions, attested again: {attested}; roster {serial}; "
            "the old key file is kept at {path}: destroy it once every laptop has synced"
        ).format(
            signed=done.signed,
            attested=done.attested,
            serial=done.roster_serial,
            path=visible(str(done.old_key_file)),
        )
    )
