"""`dxfield export`, `dxfield import` and `dxfield conflicts`: carrying the log between devices."""

from pathlib import Path
from typing import Annotated

import typer

from dxfield.cli.common import (
    JsonOption,
    echo,
    print_json,
    progress_bar,
    store_of,
    waiting_for_writer,
)
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, ngettext


def export_command(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="The bundle file to write (*.dxb).")],
    recipient: Annotated[
        str, typer.Option("--recipient", help="The registered device it is for (name or id).")
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Every revision, not only those since the last one.")
    ] = False,
    no_encrypt: Annotated[
        bool, typer.Option("--no-encrypt", help="Leave it unencrypted (signed only).")
    ] = False,
    max_size: Annotated[
        str | None,
        typer.Option(
            "--max-size",
            metavar=N_("SIZE"),
            help="Split it into numbered bundles of at most this size (50M, 1G) that import in "
            "any order.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a signed bundle, encrypted to one registered device."""
    from dxfield.store.attachments import size_text
    from dxfield.sync.bundle import export_bundle, parse_size

    limit = parse_size(max_size) if max_size is not None else None
    if no_encrypt:
        echo(_("warning: not encrypted; anyone holding the file can read it"))
    with progress_bar(_("writing the bundle"), 1) as advance:
        result = export_bundle(
            store_of(ctx), to, recipient, full=full, encrypt=not no_encrypt, max_size=limit
        )
        if advance:
            advance()
    if as_json:
        print_json(result)
        return
    if len(result.parts) > 1:
        echo(
            _("split into {count} bundles that import in any order: {names}").format(
                count=len(result.parts),
                names=_(", ").join(visible(p.name) for p in result.parts),
            )
        )
    path, recipient_name = visible(str(result.path)), visible(result.recipient)
    values = {
        "path": path,
        "recipient": recipient_name,
        # What the recipient lacks: purges it has are carried again but not counted.
        "count": result.new,
        "size": f"{result.bytes:,}",
    }
    if result.nothing_new and not result.full:
        line = _("wrote {path}: for {recipient}, nothing new since the last bundle, {size} bytes")
    elif result.full:
        line = ngettext(
            "wrote {path}: for {recipient}, {count} revision, {size} bytes (everything)",
            "wrote {path}: for {recipient}, {count} revisions, {size} bytes (everything)",
            result.new,
        )
    else:
        line = ngettext(
            "wrote {path}: for {recipient}, {count} revision, {size} bytes",
            "wrote {path}: for {recipient}, {count} revisions, {size} bytes",
            result.new,
        )
    echo(line.format(**values))
    if result.blobs:
        echo(
            ngettext(
                "attachments: {count} sent, {size}",
                "attachments: {count} sent, {size}",
                result.blobs,
            ).format(count=result.blobs, size=size_text(result.blob_bytes))
        )
    if result.missing_blobs:
        echo(
            ngettext(
                "not sent: {count} attachment's bytes, which this store does not keep "
                "(dxfield check lists them)",
                "not sent: {count} attachments' bytes, which this store does not keep "
                "(dxfield check lists them)",
                result.missing_blobs,
            ).format(count=result.missing_blobs)
        )
    if result.oversized:
        echo(
            ngettext(
                "{count} bundle is larger than --max-size: it holds one attachment larger "
                "than that, alone",
                "{count} bundles are larger than --max-size: each holds one attachment larger "
                "than that, alone",
                result.oversized,
            ).format(count=result.oversized)
        )
    if result.unsent:
        echo(
            ngettext(
                "not sent: {count} revision that neither its author signed nor the hub "
                "attested (its author sends it)",
                "not sent: {count} revisions that neither their authors signed nor the hub "
                "attested (their authors send them)",
                result.unsent,
            ).format(count=result.unsent)
        )


def import_command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar=N_("FILE"), help="Bundle files.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Verify, decrypt and merge bundles, each all or nothing."""
    from dxfield.sync.bundle import import_bundle

    store = store_of(ctx)
    results = []
    with progress_bar(_("reading the bundles"), len(files)) as advance:
        for path in files:
            results.append(import_bundle(store, path, dry_run=dry_run, waiting=waiting_for_writer))
            if advance:
                advance()
    if as_json:
        print_json(results)
        return
    for r in results:
        source = f"{visible(str(r.path))} ({visible(r.sender)})"
        line = _(
            "{source}: new {new}, updated {updated}, unchanged {unchanged}, "
            "conflicting {conflicting}"
        ).format(
            source=source,
            new=r.new,
            updated=r.updated,
            unchanged=r.unchanged,
            conflicting=r.conflicting,
        )
        if r.skewed:
            line += _(", clock skew {count}").format(count=r.skewed)
        if r.blobs:
            line += _(", attachments {count}").format(count=r.blobs)
        if r.purged:
            line += _(", left out (purged attachments) {count}").format(count=r.purged)
        if r.ignored_blobs:
            line += _(", attachments no record names (not kept) {count}").format(
                count=r.ignored_blobs
            )
        if r.format == 1:
            line += ngettext(
                "; in the previous format: {count} revision came unsigned and the hub attested it",
                "; in the previous format: {count} revisions came unsigned and the hub attested "
                "them",
                r.unsigned,
            ).format(count=r.unsigned)
        if r.dry_run:
            line += _(" (dry run: nothing written)")
        echo(line)


conflicts_app = typer.Typer(
    cls=LocalizedGroup,
    help="Records changed on two devices at once: both versions are kept until you choose.",
    no_args_is_help=True,
)


@conflicts_app.command("list", cls=LocalizedCommand)
def conflicts_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every record with more than one live version."""
    from dxfield.cli.common import table
    from dxfield.store.conflicts import list_conflicts

    found = list_conflicts(store_of(ctx))
    if as_json:
        print_json(found)
        return
    if not found:
        echo(_("no conflicts"))
        return
    table(
        [_("kind"), _("record"), _("versions"), _("differs in"), "ID"],
        [
            [c.entity, c.label, str(len(c.versions)), ", ".join(c.differing_fields), c.entity_id]
            for c in found
        ],
    )


@conflicts_app.command("show", cls=LocalizedCommand)
def conflicts_show(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    as_json: JsonOption = False,
) -> None:
    """The versions side by side, field by field (the fields that differ marked)."""
    import json

    from dxfield.cli.common import table
    from dxfield.store.conflicts import get_conflict

    conflict = get_conflict(store_of(ctx), record_id)
    if as_json:
        print_json({**conflict.__dict__, "differing_fields": conflict.differing_fields})
        return
    echo(f"{visible(conflict.entity)} {visible(conflict.entity_id)}  {visible(conflict.label)}")
    differs = set(conflict.differing_fields)
    headers = [_("field")] + [
        (_("shown {version}") if v.winner else _("other {version}")).format(version=v.rev_id[-8:])
        for v in conflict.versions
    ]
    names = sorted({k for v in conflict.versions for k in v.data} - {"created_at"})
    rows = []
    for name in names:
        values = [v.data.get(name) for v in conflict.versions]
        cells = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
        rows.append([("* " if name in differs else "  ") + name, *cells])
    table(headers, rows)
    echo("")
    echo(_("* differs. Keep one: dxfield conflicts resolve ID --keep VERSION"))


@conflicts_app.command("resolve", cls=LocalizedCommand)
def conflicts_resolve(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    keep: Annotated[
        str, typer.Option("--keep", help="The version to keep (its id, or its last characters).")
    ],
) -> None:
    """Keep one version; the resolution syncs like any change."""
    from dxfield.store.conflicts import resolve_conflict

    rev = resolve_conflict(store_of(ctx), record_id, keep=keep)
    shown = f"{visible(record_id)} → {visible(rev)}"
    echo(_("resolved: {change}").format(change=shown))
