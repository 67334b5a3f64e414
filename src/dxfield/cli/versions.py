"""`dxfield restore`, `dxfield revert` and `dxfield deleted`: nothing deleted is gone."""

from typing import Annotated

import typer

from dxfield.cli.common import JsonOption, echo, print_json, store_of, table, ui_language
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _


def _said(message: str, written: object) -> None:
    from dxfield.store.records import label
    from dxfield.store.versions import Written

    assert isinstance(written, Written)
    echo(
        message.format(
            kind=label(written.entity, ui_language()),
            id=visible(written.entity_id),
            title=visible(written.label),
        )
    )


def restore_command(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar=N_("ID"), help="The deleted record's id.")],
    as_json: JsonOption = False,
) -> None:
    """Bring a deleted record back (a new version: it syncs like any change)."""
    from dxfield.store.versions import restore

    written = restore(store_of(ctx), record_id)
    if as_json:
        print_json(written)
    else:
        _said(_("restored {kind} {id} “{title}”"), written)


def revert_command(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar=N_("ID"), help="The record's id.")],
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar=N_("VERSION"), help="The version to go back to (see history)."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Make an earlier version of a record current again (a new version: it syncs)."""
    from dxfield.store.versions import revert

    written = revert(store_of(ctx), record_id, to)
    if as_json:
        print_json(written)
    else:
        _said(_("reverted {kind} {id} “{title}” to an earlier version"), written)


def deleted_command(
    ctx: typer.Context,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind (activity, finding, action, organization…)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Deleted records, the most recently deleted first (bring one back with restore)."""
    from dxfield.domain.errors import LocalizedError
    from dxfield.i18n import quote
    from dxfield.store.hlc import stamped_at
    from dxfield.store.records import ENTITIES, label
    from dxfield.store.versions import list_deleted

    if kind is not None and kind not in ENTITIES:
        raise LocalizedError(
            "cli.kind_unknown", field="kind", value=quote(kind), choices=", ".join(ENTITIES)
        )
    store = store_of(ctx)
    found = list_deleted(store, entity=kind)
    if as_json:
        print_json(found)
        return
    lang = ui_language()
    rows = []
    for item in found:
        at = stamped_at(item.deleted_hlc)
        by = store.device.name if item.deleted_by == store.device.id else item.deleted_by
        rows.append(
            [
                label(item.entity, lang),
                item.label,
                f"{at:%Y-%m-%d %H:%M}" if at else "",
                by,
                item.entity_id,
            ]
        )
    if not rows:
        echo(_("no deleted records"))
        return
    table(
        [_("kind"), _("record"), _("deleted"), _("device"), "ID"],
        rows,
    )
