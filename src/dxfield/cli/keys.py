"""`dxfield keys`: this device's keys and card, and the devices it trusts."""

from pathlib import Path
from typing import Annotated

import typer

from dxfield.cli.common import JsonOption, echo, print_json, store_of, table
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _

keys_app = typer.Typer(
    cls=LocalizedGroup,
    help="Device keys: show and export this device's card, register and revoke others.",
    no_args_is_help=True,
)


@keys_app.command("show", cls=LocalizedCommand)
def keys_show(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """This device: id, name, role and key fingerprint (keys are made on first need)."""
    from dxfield.sync.keys import own_card

    card = own_card(store_of(ctx))
    if as_json:
        print_json({**card.__dict__, "fingerprint": card.fingerprint})
        return
    echo(_("device") + f": {visible(card.name)} ({visible(card.id)})")
    echo(_("role") + f": {visible(card.role)}")
    echo(_("key fingerprint: {fingerprint}").format(fingerprint=card.fingerprint))


@keys_app.command("export", cls=LocalizedCommand)
def keys_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Where to write the card (a .json file).")],
) -> None:
    """Write this device's public card, for another device to trust."""
    from dxfield.store.maintenance import write_atomically
    from dxfield.sync.keys import card_text, own_card

    store = store_of(ctx)
    card = own_card(store)
    write_atomically(store, out, card_text(card).encode())
    echo(_("device card written: {path}").format(path=visible(str(out))))
    echo(_("key fingerprint: {fingerprint}").format(fingerprint=card.fingerprint))


@keys_app.command("trust", cls=LocalizedCommand)
def keys_trust(
    ctx: typer.Context,
    card_file: Annotated[Path, typer.Argument(metavar=N_("FILE"), help="A device card.")],
    name: Annotated[str | None, typer.Option("--name", help="The name to know it by here.")] = None,
) -> None:
    """Register a device: accept the bundles it signs. Compare the fingerprint with its owner."""
    from dxfield.sync.keys import read_card_file, trust_card

    card = read_card_file(card_file)
    trusted = trust_card(store_of(ctx), card, name=name)
    who = f"{visible(trusted.name)} ({visible(trusted.card.role)}, {visible(trusted.card.id)})"
    echo(_("registered: {device}").format(device=who))
    echo(
        _("key fingerprint: {fingerprint} (check it matches their `keys show`)").format(
            fingerprint=trusted.card.fingerprint
        )
    )


@keys_app.command("list", cls=LocalizedCommand)
def keys_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The devices registered in this store (revoked ones marked)."""
    from dxfield.sync.keys import list_trusted

    devices = list_trusted(store_of(ctx))
    if as_json:
        print_json(
            [
                {
                    **d.card.__dict__,
                    "local_name": d.name,
                    "revoked": d.revoked,
                    "fingerprint": d.card.fingerprint,
                }
                for d in devices
            ]
        )
        return
    revoked = _("revoked")
    table(
        [_("name"), _("role"), _("key fingerprint"), "ID"],
        [
            [
                d.name + (f" ({revoked})" if d.revoked else ""),
                d.card.role,
                d.card.fingerprint,
                d.card.id,
            ]
            for d in devices
        ],
    )


@keys_app.command("revoke", cls=LocalizedCommand)
def keys_revoke(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(metavar=N_("ID_OR_NAME"))],
) -> None:
    """Stop accepting bundles from a device."""
    from dxfield.sync.keys import revoke

    revoked = revoke(store_of(ctx), device)
    who = f"{visible(revoked.name)} ({visible(revoked.card.id)})"
    echo(_("revoked: {device}").format(device=who))
