"""`dxfield export`, `dxfield import` and `dxfield conflicts`: carrying the log between devices."""

from pathlib import Path
from typing import Annotated

import typer

from dxfield.cli.common import JsonOption, echo, print_json, progress_bar, say, store_of
from dxfield.domain.visible import visible


def export_command(
    ctx: typer.Context,
    to: Annotated[Path, typer.Option("--to", help="The bundle file to write (*.dxb).")],
    recipient: Annotated[
        str, typer.Option("--recipient", help="The trusted device it is for (name or id).")
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Every revision, not only those since the last one.")
    ] = False,
    no_encrypt: Annotated[
        bool, typer.Option("--no-encrypt", help="Leave it unencrypted (signed only).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a signed bundle, encrypted to one trusted device."""
    from dxfield.sync.bundle import export_bundle

    if no_encrypt:
        say(
            "警告: 暗号化しません。ファイルを持つ誰でも内容を読めます",
            "warning: not encrypted; anyone holding the file can read it",
        )
    with progress_bar("export", 1) as advance:
        result = export_bundle(store_of(ctx), to, recipient, full=full, encrypt=not no_encrypt)
        if advance:
            advance()
    if as_json:
        print_json(result)
        return
    path, recipient_name = visible(str(result.path)), visible(result.recipient)
    say(
        f"{path} に書き出しました: {recipient_name} 宛て、リビジョン {result.revisions}件、"
        f"{result.bytes:,} バイト{'(全件)' if result.full else ''}",
        f"wrote {path}: for {recipient_name}, {result.revisions} revisions, "
        f"{result.bytes:,} bytes{' (full)' if result.full else ''}",
    )


def import_command(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Bundle files.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count; write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Verify, decrypt and merge bundles, each all or nothing."""
    from dxfield.sync.bundle import import_bundle

    store = store_of(ctx)
    results = []
    with progress_bar("import", len(files)) as advance:
        for path in files:
            results.append(import_bundle(store, path, dry_run=dry_run))
            if advance:
                advance()
    if as_json:
        print_json(results)
        return
    for r in results:
        note = "(試行のみ、書き込みなし)" if r.dry_run else ""
        note_en = " (dry run: nothing written)" if r.dry_run else ""
        source = f"{visible(str(r.path))} ({visible(r.sender)})"
        say(
            f"{source}: 新規 {r.new}、更新 {r.updated}、変更なし {r.unchanged}、"
            f"競合 {r.conflicting}" + (f"、時刻ずれ {r.skewed}" if r.skewed else "") + note,
            f"{source}: new {r.new}, updated {r.updated}, unchanged {r.unchanged}, "
            f"conflicting {r.conflicting}"
            + (f", clock skew {r.skewed}" if r.skewed else "")
            + note_en,
        )


conflicts_app = typer.Typer(
    help="Records changed on two devices at once: both versions are kept until you choose.",
    no_args_is_help=True,
)


@conflicts_app.command("list")
def conflicts_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every record with more than one live version."""
    from dxfield.cli.common import table
    from dxfield.store.conflicts import list_conflicts

    found = list_conflicts(store_of(ctx))
    if as_json:
        print_json(found)
        return
    if not found:
        say("競合はありません", "no conflicts")
        return
    table(
        [
            ("種類", "kind"),
            ("記録", "record"),
            ("版", "versions"),
            ("違う項目", "differs in"),
            ("ID", "id"),
        ],
        [
            [c.entity, c.label, str(len(c.versions)), ", ".join(c.differing_fields), c.entity_id]
            for c in found
        ],
    )


@conflicts_app.command("show")
def conflicts_show(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID")],
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
    headers = [("項目", "field")] + [
        (
            f"{'表示中' if v.winner else '別の版'} {v.rev_id[-8:]}",
            f"{'shown' if v.winner else 'other'} {v.rev_id[-8:]}",
        )
        for v in conflict.versions
    ]
    names = sorted({k for v in conflict.versions for k in v.data} - {"created_at"})
    rows = []
    for name in names:
        values = [v.data.get(name) for v in conflict.versions]
        cells = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
        rows.append([("* " if name in differs else "  ") + name, *cells])
    table(headers, rows)
    say(
        "\n* 違う項目。残す版を選ぶ: dxfield conflicts resolve ID --keep 版",
        "\n* differs. Keep one: dxfield conflicts resolve ID --keep VERSION",
    )


@conflicts_app.command("resolve")
def conflicts_resolve(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar="ID")],
    keep: Annotated[
        str, typer.Option("--keep", help="The version to keep (its id, or its last characters).")
    ],
) -> None:
    """Keep one version; the resolution syncs like any change."""
    from dxfield.store.conflicts import resolve_conflict

    rev = resolve_conflict(store_of(ctx), record_id, keep=keep)
    shown = f"{visible(record_id)} → {visible(rev)}"
    say(f"解決しました: {shown}", f"resolved: {shown}")
