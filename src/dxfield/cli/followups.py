"""`dxfield finding` and `dxfield action`: what was learned, and the next steps."""

from typing import Annotated

import typer

from dxfield.cli.common import (
    DateOpt,
    InitiativeOpt,
    JsonOption,
    echo,
    print_json,
    report_delete,
    report_edit,
    store_of,
    table,
    typed_day,
    ui_language,
)
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _

finding_app = typer.Typer(
    cls=LocalizedGroup, help="Findings: outcomes, insights, factors, issues.", no_args_is_help=True
)
action_app = typer.Typer(
    cls=LocalizedGroup, help="Actions: the next steps agreed.", no_args_is_help=True
)


@finding_app.command("add", cls=LocalizedCommand)
def finding_add(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option("--kind", help="outcome, insight, success_factor, failure_factor or issue."),
    ],
    text: Annotated[str, typer.Option("--text", help="What was found.")],
    initiative: InitiativeOpt = None,
    activity: Annotated[str | None, typer.Option("--activity", help="Source activity id.")] = None,
    area: Annotated[str | None, typer.Option("--area", help="Support area.")] = None,
    date: DateOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Record a finding."""
    from dxfield.store.followups import add_finding

    finding = add_finding(
        store_of(ctx),
        kind=kind,
        text=text,
        initiative=initiative,
        activity=activity,
        area=area,
        date=typed_day(date, "date"),
    )
    if as_json:
        print_json(finding)
    else:
        typer.echo(finding.id)


@finding_app.command("edit", cls=LocalizedCommand)
def finding_edit(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    kind: Annotated[str | None, typer.Option("--kind", help="New kind.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="New text.")] = None,
    initiative: Annotated[
        str | None, typer.Option("--initiative", help="Initiative id ('' for none).")
    ] = None,
    activity: Annotated[
        str | None, typer.Option("--activity", help="Source activity id ('' for none).")
    ] = None,
    area: Annotated[str | None, typer.Option("--area", help="Support area ('' for none).")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date ('' for none).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a finding; only the options given change."""
    from dxfield.store.followups import edit_finding

    finding, changed = edit_finding(
        store_of(ctx),
        finding_id,
        kind=kind,
        text=text,
        initiative=initiative,
        activity=activity,
        area=area,
        date=typed_day(date, "date"),
    )
    report_edit(finding, changed, as_json=as_json)


@finding_app.command("delete", cls=LocalizedCommand)
def finding_delete(
    ctx: typer.Context, finding_id: Annotated[str, typer.Argument(metavar=N_("ID"))]
) -> None:
    """Delete a finding (its history stays)."""
    from dxfield.store.records import delete

    full = delete(store_of(ctx), "finding", finding_id)
    report_delete(full)


@finding_app.command("list", cls=LocalizedCommand)
def finding_list(
    ctx: typer.Context,
    initiative: InitiativeOpt = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    area: Annotated[str | None, typer.Option("--area", help="Only this support area.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List findings."""
    from dxfield.store.followups import list_findings

    items = list_findings(store_of(ctx), initiative=initiative, kind=kind, area=area)
    if as_json:
        print_json(items)
        return
    lang = ui_language()
    table(
        [_("kind"), _("area"), _("text"), "ID"],
        [[f.kind.label(lang), f.area.label(lang) if f.area else "", f.text, f.id] for f in items],
    )


@action_app.command("add", cls=LocalizedCommand)
def action_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Option("--text", help="The next step.")],
    initiative: InitiativeOpt = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who does it.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date (default today).")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="planned, in_progress, done or dropped.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record an action: a next step agreed."""
    from dxfield.store.followups import add_action

    action = add_action(
        store_of(ctx),
        text=text,
        initiative=initiative,
        owner=owner,
        due=typed_day(due, "due"),
        as_of=as_of,
        status=status,
    )
    if as_json:
        print_json(action)
    else:
        typer.echo(action.id)


@action_app.command("list", cls=LocalizedCommand)
def action_list(
    ctx: typer.Context,
    initiative: InitiativeOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only planned or in progress.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List actions, due soonest first; overdue ones are marked."""
    from dxfield.store.followups import list_actions

    items = list_actions(store_of(ctx), initiative=initiative, status=status, open_only=open_only)
    if as_json:
        print_json([{**i.action.model_dump(mode="json"), "overdue": i.overdue} for i in items])
        return
    lang = ui_language()
    overdue = _("OVERDUE", lang)
    table(
        [_("status"), _("due"), _("text"), "ID"],
        [
            [
                i.action.status.label(lang) + (f" {overdue}" if i.overdue else ""),
                i.action.due.isoformat() if i.action.due else "",
                i.action.text,
                i.action.id,
            ]
            for i in items
        ],
    )


@action_app.command("edit", cls=LocalizedCommand)
def action_edit(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    text: Annotated[str | None, typer.Option("--text", help="New text.")] = None,
    initiative: Annotated[
        str | None, typer.Option("--initiative", help="Initiative id ('' for none).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who does it.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date ('' for none).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="As-of date.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="planned, in_progress, done or dropped.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Change an action; only the options given change."""
    from dxfield.store.followups import edit_action

    action, changed = edit_action(
        store_of(ctx),
        action_id,
        text=text,
        initiative=initiative,
        owner=owner,
        due=typed_day(due, "due"),
        as_of=as_of,
        status=status,
    )
    report_edit(action, changed, as_json=as_json)


@action_app.command("delete", cls=LocalizedCommand)
def action_delete(
    ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar=N_("ID"))]
) -> None:
    """Delete an action (its history stays)."""
    from dxfield.store.records import delete

    full = delete(store_of(ctx), "action", action_id)
    report_delete(full)


@action_app.command("done", cls=LocalizedCommand)
def action_done(
    ctx: typer.Context, action_id: Annotated[str, typer.Argument(metavar=N_("ID"))]
) -> None:
    """Mark an action done."""
    from dxfield.store.followups import complete_action

    action, changed = complete_action(store_of(ctx), action_id)
    shown = visible(action.id)
    if changed:
        echo(_("done: {id}").format(id=shown))
    else:
        echo(_("already done: {id}").format(id=shown))
