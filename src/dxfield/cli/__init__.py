"""The `dxfield` command: alone it opens the app; every verb is scriptable, and reads take --json.

Only typer is imported at module level: the store, pydantic and SQLAlchemy are imported inside the
commands that need them (about 0.3 s together), so `dxfield --help` stays as quick as typer itself.
Errors a user can cause print one `error:` line on stderr and exit non-zero; nothing is written.

The CLI modules do without `from __future__ import annotations`: Typer reads the signature of
each command a run builds (`command_for`: the verb called, or the root's list without them), and
string annotations would have to be eval'd one by one.
"""

import copy
import inspect
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from dxfield.cli.attachments import (
    attach_command,
    attachment_app,
    attachments_command,
    detach_command,
    prune_command,
)
from dxfield.cli.common import (
    ActivityDateOpt,
    InitiativeOpt,
    JsonOption,
    Settings,
    echo,
    jsonable,
    print_json,
    report_delete,
    report_edit,
    revision_text,
    settings_of,
    store_of,
    table,
    ui_language,
)
from dxfield.cli.followups import action_app, finding_app
from dxfield.cli.hub import hub_app
from dxfield.cli.keys import keys_app
from dxfield.cli.localized import (
    LocalizedCommand,
    LocalizedGroup,
    language_in,
    localize,
    usage_error,
)
from dxfield.cli.minutes import minutes_command
from dxfield.cli.purge import purge_command
from dxfield.cli.report import programme_app, report_command
from dxfield.cli.sync import conflicts_app, export_command, import_command
from dxfield.cli.tables import export_table_command, import_table_command
from dxfield.cli.templates import template_app
from dxfield.cli.tracks import stage_model_app, track_app
from dxfield.cli.versions import deleted_command, restore_command, revert_command
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, ngettext, problems

PROBLEMS = problems(
    {
        "cli.lang_unknown": N_("the language is ja or en, not {value}"),
        "cli.role_unknown": N_("the role is one of: {choices}"),
        "cli.empty": N_("must not be empty"),
        "cli.query_empty": N_("the search query is empty"),
        "cli.stdin_not_utf8": N_("standard input is not UTF-8 text"),
        "cli.import_only_activities": N_("only activities can be imported"),
        "cli.kind_unknown": N_("no kind {value} (one of: {choices})"),
        "cli.role_on_hub": N_(
            "on a hub in PostgreSQL the role is not chosen: the account that set the hub up "
            "is the hub, everyone else works on it as staff ({device} is {role})"
        ),
    }
)

if TYPE_CHECKING:
    from dxfield.store.engine import Store

app = typer.Typer(
    cls=LocalizedGroup,
    name="dxfield",
    help="Field log for regional DX work. Run without a command to open the app.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
activity_app = typer.Typer(
    cls=LocalizedGroup, help="Log, change and read activities.", no_args_is_help=True
)
org_app = typer.Typer(
    cls=LocalizedGroup,
    help="Organizations: municipalities, providers, communities.",
    no_args_is_help=True,
)
initiative_app = typer.Typer(
    cls=LocalizedGroup, help="Initiatives of municipalities.", no_args_is_help=True
)
config_app = typer.Typer(
    cls=LocalizedGroup,
    help="Settings kept on this computer: the language of the interface.",
    no_args_is_help=True,
)
app.add_typer(activity_app, name="activity")
app.add_typer(org_app, name="org")
app.add_typer(initiative_app, name="initiative")
app.add_typer(finding_app, name="finding")
app.add_typer(action_app, name="action")
app.add_typer(stage_model_app, name="stage-model")
app.add_typer(track_app, name="track")
app.add_typer(template_app, name="template")
app.add_typer(keys_app, name="keys")
app.add_typer(hub_app, name="hub")
app.command("export", cls=LocalizedCommand)(export_command)
app.command("import", cls=LocalizedCommand)(import_command)
app.add_typer(conflicts_app, name="conflicts")
app.command("export-table", cls=LocalizedCommand)(export_table_command)
app.command("import-table", cls=LocalizedCommand)(import_table_command)
app.command("report", cls=LocalizedCommand)(report_command)
app.command("minutes", cls=LocalizedCommand)(minutes_command)
app.command("purge", cls=LocalizedCommand)(purge_command)
app.add_typer(programme_app, name="programme")
app.command("attach", cls=LocalizedCommand)(attach_command)
app.command("attachments", cls=LocalizedCommand)(attachments_command)
app.add_typer(attachment_app, name="attachment")
app.command("detach", cls=LocalizedCommand)(detach_command)
app.command("prune", cls=LocalizedCommand)(prune_command)
app.command("restore", cls=LocalizedCommand)(restore_command)
app.command("revert", cls=LocalizedCommand)(revert_command)
app.command("deleted", cls=LocalizedCommand)(deleted_command)
app.add_typer(config_app, name="config")


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory (default: $DXFIELD_DATA_DIR or the "
            "platform's user data directory).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of the interface: ja or en.")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="A hub's PostgreSQL database, as postgresql://host/name (default: "
            "$DXFIELD_DATABASE_URL; without either, the store file in the data directory). "
            "The password goes in ~/.pgpass, never here.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Open the app when no command is given."""
    from dxfield.i18n import LocalizedError, quote, set_language

    try:
        set_language(lang)
    except ValueError:
        raise LocalizedError("cli.lang_unknown", value=quote(lang)) from None
    ctx.obj = Settings(data_dir, database)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        _open_app(ctx.obj.data_dir, database)


def _open_app(data_dir: Path, database: str | None = None) -> None:
    from dxfield.store.engine import database_for
    from dxfield.tui.images import begin_detection

    begin_detection()  # what the terminal can draw, asked while the app's modules load

    address = database_for(data_dir, database)
    if address:  # a wrong address is one line here, not a screen of the app
        from dxfield.store.postgres import hub_url

        hub_url(address)
    from dxfield.tui.app import run_app  # Textual loads only when the app opens.

    run_app(data_dir, database)


# ---------------------------------------------------------------------------------------------
# init, demo


@app.command(cls=LocalizedCommand)
def init(
    ctx: typer.Context,
    device_name: Annotated[
        str | None, typer.Option("--device-name", help="A name for this device.")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="field (a laptop) or hub (the prefecture's merge point)."),
    ] = None,
) -> None:
    """Create the store (if needed), name this device, and make its keys."""
    from dxfield.i18n import LocalizedError
    from dxfield.store.authorship import upgrade
    from dxfield.store.local_state import set_device_role
    from dxfield.sync.keys import CHOSEN_ROLES, own_card

    if device_name is not None and not device_name.strip():
        raise LocalizedError("cli.empty", field="device_name")
    if role is not None and role not in CHOSEN_ROLES:
        raise LocalizedError("cli.role_unknown", choices=", ".join(CHOSEN_ROLES))
    store = settings_of(ctx).store(
        device_name=device_name.strip() if device_name else None, create=True
    )
    if role is not None and role != store.device.role:
        if store.shared:  # the hub's device is the account that made it; a colleague is staff
            raise LocalizedError(
                "cli.role_on_hub", device=store.device.name, role=store.device.role
            )
        set_device_role(store, role)
    card = own_card(store)
    # The store is opened before its keys exist, so the open could not sign this device's
    # revisions or note that it did (store/authorship.py): done now, the store is left whole,
    # and a hub's first commands do not each take the write lock to find nothing to do.
    upgrade(store)
    path, name = visible(store.location), visible(store.device.name)
    echo(_("store: {path}").format(path=path))
    echo(
        _("device: {name} ({id}) role: {role}").format(
            name=name, id=store.device.id, role=store.device.role
        )
    )
    echo(_("key fingerprint: {fingerprint}").format(fingerprint=card.fingerprint))


@app.command(cls=LocalizedCommand)
def demo(
    ctx: typer.Context,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Load only; do not open the app.")
    ] = False,
    reset: Annotated[bool, typer.Option("--reset", help="Start the demo store afresh.")] = False,
) -> None:
    """A demo store filled with Hyogo's R6 regional DX programme, opened in the app."""
    from dxfield.demo.service import prepare_demo
    from dxfield.paths import demo_data_dir

    data_dir = demo_data_dir(settings_of(ctx).data_dir_option)
    counts = prepare_demo(data_dir, reset=reset)
    total = sum(counts.values())
    shown = visible(str(data_dir))
    echo(
        ngettext(
            "demo store: {path} ({count} record)", "demo store: {path} ({count} records)", total
        ).format(path=shown, count=total)
    )
    if not no_open:
        _open_app(data_dir, database="")  # the demo is always its own file, never a hub


# ---------------------------------------------------------------------------------------------
# activities

Title = Annotated[str | None, typer.Option("--title", help="Title.")]
Kind = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="meeting, workshop, hearing, briefing, site_visit, training, "
        "consultation, survey, trial or other.",
    ),
]
Municipality = Annotated[
    str | None, typer.Option("--municipality", help="Municipality name or local government code.")
]
Notes = Annotated[str | None, typer.Option("--notes", help="Notes (Markdown).")]
Location = Annotated[str | None, typer.Option("--location", help="Where it took place.")]
Areas = Annotated[
    list[str] | None,
    typer.Option("--area", help="Support area (vision, talent, implementation); repeatable."),
]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="A tag; repeatable.")]
Participant = Annotated[
    list[str] | None,
    typer.Option(
        "--participant",
        help="A participating organization (name, code or id); repeatable. "
        "A community's activities are those it took part in.",
    ),
]
HeadCount = Annotated[int | None, typer.Option("--head-count", help="How many took part.")]
ParticipantsText = Annotated[
    str | None, typer.Option("--participants-text", help="Who took part, in words.")
]


def _activity_text(store: "Store", record: Any) -> None:
    from dxfield.domain.dates import format_date
    from dxfield.store.activities import activity_names
    from dxfield.sync.authors import names_here

    names = activity_names(store, record)
    head_count = record.participants.head_count
    lines = [
        ("ID", record.id),
        (_("title"), record.title),
        (_("kind"), record.kind.label(ui_language())),
        (_("date"), format_date(record.date, record.date_precision, ui_language())),
        (_("municipality"), names.municipality),
        (_("initiative"), names.initiative),
        (_("taking part"), _(", ").join(names.participants)),
        (_("head count"), "" if head_count is None else str(head_count)),
        (_("participants"), record.participants.text),
        (_("location"), record.location),
        (_("areas"), _(", ").join(a.label(ui_language()) for a in record.areas)),
        (_("tags"), _(", ").join(record.tags)),
        (_("last change"), revision_text(names_here(store), record.hlc, record.device_id)),
    ]
    for label, value in lines:
        if value:
            echo(f"{label}: {visible(value)}")
    if record.notes:
        echo("")
        echo(record.notes)  # notes keep their lines
    _attachment_lines(store, record.id)


def _attachment_lines(store: "Store", owner_id: str) -> None:
    """The files attached to a record, one line each: name, size, caption."""
    from dxfield.store.attachments import attachments_of, size_text
    from dxfield.store.purges import purged_of_owner
    from dxfield.sync.authors import names_here

    found = attachments_of(store, owner_id)
    purged = purged_of_owner(store, owner_id, names_here(store))
    if not found and not purged:
        return
    echo("")
    echo(_("attached files: {count}").format(count=len(found)))
    for attachment in found:
        parts = [visible(attachment.file_name), size_text(attachment.size)]
        if attachment.caption:
            parts.append(visible(attachment.caption))
        echo("  " + "  ".join(parts) + f"  ({attachment.id[-8:]})")
    for note in purged:  # what is left of a purged file: the fact, when, by whom, why
        echo("  " + visible(note.line()) + f"  ({note.attachment_id[-8:]})")


@activity_app.command("add", cls=LocalizedCommand)
def activity_add(
    ctx: typer.Context,
    title: Title = None,
    kind: Kind = None,
    date: ActivityDateOpt = None,
    municipality: Municipality = None,
    initiative: InitiativeOpt = None,
    notes: Notes = None,
    location: Location = None,
    area: Areas = None,
    tag: Tags = None,
    participant: Participant = None,
    head_count: HeadCount = None,
    participants_text: ParticipantsText = None,
    as_json: JsonOption = False,
) -> None:
    """Log an activity; prints its id."""
    from dxfield import clock
    from dxfield.store.activities import add_activity
    from dxfield.store.activity_entry import activity_input

    record = add_activity(
        store_of(ctx),
        activity_input(
            title=title if title is not None else "",
            kind=kind,
            date=date,
            municipality=municipality,
            initiative=initiative,
            notes=notes,
            location=location,
            areas=area,
            tags=tag,
            participants=participant,
            head_count=head_count,
            participants_text=participants_text,
            today=clock.today(),
        ),
    )
    if as_json:
        print_json(record)
    else:
        typer.echo(record.id)


@activity_app.command("edit", cls=LocalizedCommand)
def activity_edit(
    ctx: typer.Context,
    activity_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    title: Title = None,
    kind: Kind = None,
    date: ActivityDateOpt = None,
    municipality: Municipality = None,
    initiative: InitiativeOpt = None,
    notes: Notes = None,
    location: Location = None,
    area: Areas = None,
    tag: Tags = None,
    participant: Participant = None,
    head_count: HeadCount = None,
    participants_text: ParticipantsText = None,
    as_json: JsonOption = False,
) -> None:
    """Change an activity's fields (only those given)."""
    from dxfield import clock
    from dxfield.store.activities import edit_activity
    from dxfield.store.activity_entry import activity_input

    record, changed = edit_activity(
        store_of(ctx),
        activity_id,
        activity_input(
            title=title,
            kind=kind,
            date=date,
            municipality=municipality,
            initiative=initiative,
            notes=notes,
            location=location,
            areas=area,
            tags=tag,
            participants=participant,
            head_count=head_count,
            participants_text=participants_text,
            today=clock.today(),
        ),
    )
    report_edit(record, changed, as_json=as_json)


@activity_app.command("delete", cls=LocalizedCommand)
def activity_delete(
    ctx: typer.Context, activity_id: Annotated[str, typer.Argument(metavar=N_("ID"))]
) -> None:
    """Delete an activity (a tombstone: its history stays and it syncs)."""
    from dxfield.store.activities import delete_activity

    full = delete_activity(store_of(ctx), activity_id)
    report_delete(full)


@activity_app.command("show", cls=LocalizedCommand)
def activity_show(
    ctx: typer.Context,
    activity_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    as_json: JsonOption = False,
) -> None:
    """Show one activity."""
    from dxfield.store.activities import get_activity

    store = store_of(ctx)
    record = get_activity(store, activity_id)
    if as_json:
        # The record as stored, and the organizations taking part by name (the head count is
        # the record's participants.head_count).
        from dxfield.store.activities import activity_names

        names = activity_names(store, record).participants
        ids = record.participants.organization_ids
        data = jsonable(record)
        data["taking_part"] = [{"id": i, "name": n} for i, n in zip(ids, names, strict=True)]
        from dxfield.store.attachments import attachments_of

        data["attachments"] = jsonable(attachments_of(store, record.id))
        print_json(data)
    else:
        _activity_text(store, record)


@activity_app.command("list", cls=LocalizedCommand)
def activity_list(
    ctx: typer.Context,
    municipality: Municipality = None,
    kind: Kind = None,
    area: Annotated[str | None, typer.Option("--area", help="Support area.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Tag.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last date.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List activities, newest first."""
    from dxfield.domain.dates import format_date, parse_date
    from dxfield.domain.enums import ActivityKind, SupportArea
    from dxfield.i18n import about

    settings = settings_of(ctx)
    # Without a municipality or a tag to look up, a store that needs nothing done at open is
    # read without SQLAlchemy (store/light.py); the Store otherwise, opened first as always.
    light = settings.light() if municipality is None and tag is None else None
    store = None if light is not None else settings.store()
    municipality_id = None
    if municipality:
        from dxfield.store.organizations import resolve_municipality

        municipality_id = resolve_municipality(settings.store(), municipality)

    def day(value: str | None, field: str) -> Any:
        with about(field):
            return parse_date(value) if value else None

    chosen_kind = ActivityKind.parse_field(kind, "kind") if kind else None
    chosen_area = SupportArea.parse_field(area, "area") if area else None
    first, last = day(date_from, "date"), day(date_to, "date")
    rows = None
    if light is not None:
        rows = light.activities(
            kind=chosen_kind, area=chosen_area, date_from=first, date_to=last, limit=limit
        )
    if rows is None:
        from dxfield.store.activities import ActivityFilter, list_activities

        filters = ActivityFilter(
            municipality_id=municipality_id,
            kind=chosen_kind,
            area=chosen_area,
            tag=tag,
            date_from=first,
            date_to=last,
        )
        rows = list_activities(store or settings.store(), filters, limit=limit)
    if as_json:
        print_json(rows)
        return
    lang = ui_language()
    table(
        [_("date"), _("municipality"), _("kind"), _("title"), "ID"],
        [
            [
                format_date(r.date, r.date_precision, lang),
                r.municipality,
                r.kind.label(lang),
                r.title,
                r.id,
            ]
            for r in rows
        ],
    )


# ---------------------------------------------------------------------------------------------
# organizations and initiatives


@org_app.command("list", cls=LocalizedCommand)
def org_list(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List organizations in the order of their kana reading."""
    from dxfield.domain.enums import OrgKind
    from dxfield.store.organizations import list_organizations

    kinds = [OrgKind.parse_field(kind, "kind")] if kind else None
    orgs = list_organizations(store_of(ctx), kinds=kinds)
    if as_json:
        print_json(orgs)
        return
    from dxfield.domain.readings import guess_reading

    lang = ui_language()

    def reading(name: str, kana: str | None) -> str:
        # A reading nobody gave is the one pick lists guess: shown so, to be set where wrong.
        return kana or _("{reading} (guessed)").format(reading=guess_reading(name))

    table(
        [_("name"), _("kana"), _("kind"), _("code"), "ID"],
        [[o.name, reading(o.name, o.kana), o.kind.label(lang), o.code or "", o.id] for o in orgs],
    )


@org_app.command("add", cls=LocalizedCommand)
def org_add(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="prefecture, municipality, provider, "
            "community, school, business, agency or other.",
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Name.")],
    kana: Annotated[str | None, typer.Option("--kana", help="Reading in kana.")] = None,
    code: Annotated[str | None, typer.Option("--code", help="Local government code.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Parent: name or code.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an organization (a community has its municipality as parent)."""
    from dxfield.store.organizations import add_organization

    org = add_organization(store_of(ctx), kind=kind, name=name, kana=kana, code=code, parent=parent)
    if as_json:
        print_json(org)
    else:
        typer.echo(org.id)


@org_app.command("edit", cls=LocalizedCommand)
def org_edit(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(metavar=N_("ORG"), help="Name, code or id.")],
    kana: Annotated[
        str,
        typer.Option(
            "--kana",
            help="Reading in kana, where the one guessed from the name is wrong ('' for the guess).",
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Set an organization's reading, by which pick lists find it (kana and romaji)."""
    from dxfield.store.organizations import set_reading

    found, changed = set_reading(store_of(ctx), org, kana)
    report_edit(found, changed, as_json=as_json)


@org_app.command("import", cls=LocalizedCommand)
def org_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar=N_("FILE"), help="CSV with columns code,name,kana,kind.")
    ],
) -> None:
    """Load a prefecture's municipalities from a CSV (same form as the bundled Hyogo list)."""
    from dxfield.store.organizations import import_organizations

    added, existing = import_organizations(store_of(ctx), file)
    echo(_("added {added}, already present {existing}").format(added=added, existing=existing))


@initiative_app.command("list", cls=LocalizedCommand)
def initiative_list(
    ctx: typer.Context,
    municipality: Municipality = None,
    as_json: JsonOption = False,
) -> None:
    """List initiatives with their theme and providers."""
    from dxfield.domain.enums import ProviderRole
    from dxfield.store.followups import list_initiatives

    items = list_initiatives(store_of(ctx), municipality=municipality)
    if as_json:
        print_json(
            [
                {
                    **s.initiative.model_dump(mode="json"),
                    "municipality": s.municipality,
                    "provider_names": [{"name": n, "role": r} for n, r in s.providers],
                }
                for s in items
            ]
        )
        return
    lang = ui_language()
    table(
        [_("municipality"), _("theme"), _("initiative"), _("providers"), "ID"],
        [
            [
                s.municipality,
                s.initiative.theme,
                s.initiative.title,
                _(", ").join(f"{n}({ProviderRole(r).label(lang)})" for n, r in s.providers),
                s.initiative.id,
            ]
            for s in items
        ],
    )


# ---------------------------------------------------------------------------------------------
# history, search, dump, backup, check


@app.command(cls=LocalizedCommand)
def history(
    ctx: typer.Context,
    record_id: Annotated[str, typer.Argument(metavar=N_("ID"))],
    as_json: JsonOption = False,
) -> None:
    """Every change of a record: when, on which device (verified or not), what changed."""
    from dxfield.store.maintenance import record_history
    from dxfield.store.purges import purges_of
    from dxfield.sync.authors import VERDICTS, authorship_here, names_here

    store = store_of(ctx)
    entity, revisions = record_history(store, record_id)
    authorship = authorship_here(store, revisions)
    names = names_here(store)
    ids = {rev["entity_id"] for rev in revisions} if entity == "attachment" else set()
    purged = next(iter(purges_of(store, ids, names).values()), None)
    if as_json:
        for rev in revisions:
            rev["author"] = authorship[rev["rev_id"]].author
            rev["authorship"] = authorship[rev["rev_id"]].verdict
        found: dict[str, Any] = {"entity": entity, "revisions": revisions}
        if purged is not None:
            found["purged"] = {
                "by": purged.purge.device_id,
                "by_name": purged.author,
                "at": purged.purge.created_at,
                "reason": purged.purge.reason,
            }
        print_json(found)
        return
    from dxfield.i18n import field_label

    if purged is not None:  # first: what is left of it says little
        echo(purged.line())
    for rev in revisions:
        # When and who first; the version's id last, for `revert --to`.
        when_who = revision_text(names, rev["hlc"], rev["device_id"])
        verdict = authorship[rev["rev_id"]].verdict
        if verdict in VERDICTS:
            line = _("{when_who}, {authorship}  (version {rev})").format(
                when_who=when_who, authorship=_(VERDICTS[verdict]), rev=visible(rev["rev_id"])
            )
        else:  # reference data or the demo's, the same everywhere
            line = _("{when_who}  (version {rev})").format(
                when_who=when_who, rev=visible(rev["rev_id"])
            )
        echo(line)
        if rev["deleted"]:
            echo(_("  deleted"))
        elif rev["restored"]:
            echo(_("  restored"))
        else:
            changed = _(", ").join(visible(field_label(name)) for name in rev["changed"])
            echo((_("  changed: ")) + changed)


@app.command(cls=LocalizedCommand)
def search(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(metavar=N_("TERM"), help="Terms; all must match.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Search activity titles, notes and locations, findings and actions."""
    from dxfield.i18n import LocalizedError

    if not " ".join(query).strip():
        raise LocalizedError("cli.query_empty")
    settings = settings_of(ctx)
    light = settings.light()  # store/light.py: without SQLAlchemy when the store needs nothing
    found = light.search(" ".join(query), limit=limit) if light is not None else None
    if found is None:
        from dxfield.store.search import search as run_search

        found = run_search(settings.store(), " ".join(query), limit=limit)
    total, hits = found
    if as_json:
        print_json({"total": total, "hits": hits})
        return
    from dxfield.store.kinds import label

    lang = "ja" if ui_language() == "ja" else "en"
    table(
        [_("type"), _("date"), _("title"), "ID"],
        [
            [
                label(h.entity, lang),
                h.date.isoformat() if h.date else "",
                h.title,
                h.id,
            ]
            for h in hits
        ],
    )
    if total > len(hits):
        more = total - len(hits)
        echo(ngettext("and {count} more", "and {count} more", more).format(count=more))


@app.command(cls=LocalizedCommand)
def dump(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Canonical JSON of every synced record (identical stores print identical bytes)."""
    from dxfield.store.maintenance import dump_text, write_atomically

    store = store_of(ctx)
    text = dump_text(store)
    if out is None and sys.stdout.isatty():
        # On a terminal a person reads it: the C1 and bidi controls JSON leaves raw are shown.
        # Piped or written to a file it is the data, byte for byte.
        text = visible(text, multiline=True)
    data = text.encode("utf-8")
    if out is None:
        # Bytes, not text: UTF-8 with LF on every platform, so identical stores print identically.
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_atomically(store, out, data)


@app.command(cls=LocalizedCommand)
def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="The backup file to write.")],
) -> None:
    """A consistent copy of the store and this device's keys, in one owner-only file."""
    from dxfield.store.backups import backup as run_backup

    result = run_backup(store_of(ctx), out)
    shown = visible(str(out))
    size = f"{result.bytes:,}"
    if result.keys:
        echo(
            _("backup: {path} ({size} bytes, with the device's keys)").format(path=shown, size=size)
        )
    else:
        echo(_("backup: {path} ({size} bytes)").format(path=shown, size=size))
    if result.blobs:
        echo(_("attached files' content in it: {count}").format(count=result.blobs))
    if result.keys_problem is not None:
        echo(
            _("warning: the device's keys were not saved: {problem}").format(
                problem=result.keys_problem.message()
            )
        )
    if result.blobs_left_out:
        echo(
            _(
                "warning: the content of {count} attached files is missing or damaged here and "
                "is not in the backup (`dxfield check` lists them)"
            ).format(count=len(result.blobs_left_out))
        )


@app.command("restore-backup", cls=LocalizedCommand)
def restore_backup(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar=N_("FILE"), help="A file `dxfield backup` wrote.")
    ],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Replace a store that is there (it is kept under a dated name)."
        ),
    ] = False,
) -> None:
    """Put a backup's store and device keys back into the data folder."""
    from dxfield.store.backups import refuse_on_hub
    from dxfield.store.backups import restore_backup as run_restore

    settings = settings_of(ctx)
    refuse_on_hub(settings.data_dir, settings.database)
    result = run_restore(settings.data_dir, file, replace=replace)
    keys = {
        "restored": _("keys restored"),
        "kept": _("the keys there kept"),
        "none": _("no keys"),
    }[result.keys]
    echo(
        _("restored {file} into {path}: device {name} ({id}), {keys}").format(
            file=visible(str(file)),
            path=visible(str(result.path)),
            name=visible(result.device_name),
            id=visible(result.device_id),
            keys=keys,
        )
    )
    if result.keys != "none":
        from dxfield.sync.keys import own_card

        fingerprint = own_card(store_of(ctx)).fingerprint
        echo(_("key fingerprint: {fingerprint}").format(fingerprint=fingerprint))
    else:
        echo(
            _(
                "the backup holds no keys: new ones are made when first needed (the other "
                "devices must then register this device's new card)"
            )
        )
    if result.blobs:
        echo(_("attached files' content restored: {count}").format(count=result.blobs))
    for moved in result.moved_aside:
        echo(_("the file that was there is kept as {path}").format(path=visible(str(moved))))


@app.command(cls=LocalizedCommand)
def check(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Integrity check, schema version and counts; exits 1 when something is wrong."""
    from dxfield.store.maintenance import check as run_check

    report = run_check(store_of(ctx))
    if as_json:
        print_json({**jsonable(report), "ok": report.ok})
    else:
        from dxfield.store.records import ENTITIES, label

        echo(_("store: {path}").format(path=visible(str(report.path))))
        echo(
            _("device: {name} ({id})").format(
                name=visible(report.device_name), id=visible(report.device_id)
            )
        )
        echo(f"integrity_check: {visible(str(report.integrity))}")
        echo(
            _("schema: {revision} (head {head})").format(
                revision=report.schema_revision, head=report.schema_head
            )
        )
        echo(_("changes recorded: {count}").format(count=report.revisions))
        echo(_("changes with a clock far ahead: {count}").format(count=report.clock_skew))
        echo(_("conflicts (two devices changed a record): {count}").format(count=report.conflicts))
        keys = {"ok": "ok", "none": _("none yet")}
        echo(_("keys: {state}").format(state=keys.get(report.keys, report.keys_problem)))
        for entity, tally in report.counts.items():
            shown = label(entity, ui_language()) if entity in ENTITIES else visible(entity)
            echo(
                _("  {entity}: {live} (+{deleted} deleted)").format(
                    entity=shown, live=tally["live"], deleted=tally["deleted"]
                )
            )
        for finding in report.findings:
            echo(_("problem: {problem}").format(problem=finding.message(ui_language())))
        _blob_lines(report.blobs)
        if report.findings:
            count = len(report.findings)
            echo(
                ngettext("{count} problem found", "{count} problems found", count).format(
                    count=count
                )
            )
    if not report.ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# config


@config_app.command("set", cls=LocalizedCommand)
def config_set(
    name: Annotated[str, typer.Argument(metavar=N_("NAME"), help="The setting: lang.")],
    value: Annotated[str, typer.Argument(metavar=N_("VALUE"), help="Its value: ja or en.")],
) -> None:
    """Save a setting on this computer (lang: the language of the interface, ja or en)."""
    from dxfield.settings import set_value

    path = set_value(name, value)
    echo(
        _("saved {name} = {value} in {path}").format(
            name=name, value=value, path=visible(str(path))
        )
    )


@config_app.command("unset", cls=LocalizedCommand)
def config_unset(
    name: Annotated[str, typer.Argument(metavar=N_("NAME"), help="The setting: lang.")],
) -> None:
    """Forget a setting: for lang, the locale chooses the language again."""
    from dxfield.settings import unset_value

    unset_value(name)
    echo(_("{name} is no longer set").format(name=name))


@config_app.command("show", cls=LocalizedCommand)
def config_show(as_json: JsonOption = False) -> None:
    """The settings saved on this computer, and the language in use."""
    from dxfield.settings import load, settings_path

    values = load()
    if as_json:
        print_json({"file": settings_path(), "settings": values, "language": ui_language()})
        return
    echo(_("settings file: {path}").format(path=visible(str(settings_path()))))
    unset = _("(not set)")
    echo(f"lang = {values.get('lang', unset)}")
    echo(_("language in use: {lang}").format(lang=ui_language()))


def _blob_lines(found: Any) -> None:
    """What `check` says of the attached files' content (maintenance.BlobReport)."""
    from dxfield.store.attachments import size_text

    echo(
        _("attached files' content: {count} kept, {size}, each checked against its SHA-256").format(
            count=found.kept, size=size_text(found.size)
        )
    )
    for sha256 in found.damaged:
        echo(
            _("problem: the attached content {sha256} is damaged (it does not match its SHA-256)")
            .format(sha256=sha256)
        )  # fmt: skip
    for sha256 in found.missing:
        echo(_("problem: the attached content {sha256} is missing").format(sha256=sha256))
    if found.orphans:
        echo(
            ngettext(
                "{count} attached content no record uses (`dxfield prune` removes it)",
                "{count} attached contents no record uses (`dxfield prune` removes them)",
                len(found.orphans),
            ).format(count=len(found.orphans))
        )
    for name in found.temp_files:
        echo(
            _("temporary file left over: {path} (`dxfield prune` removes it)").format(
                path=visible(name)
            )
        )
    for name in found.thumbnails:
        echo(
            _("thumbnail of a file no longer here: {path} (`dxfield prune` removes it)").format(
                path=visible(name)
            )
        )
    if getattr(found, "in_folder", None):
        echo(
            ngettext(
                "{count} attached content is in this data folder, not in the hub's database "
                "(`dxfield prune` moves it there)",
                "{count} attached contents are in this data folder, not in the hub's database "
                "(`dxfield prune` moves them there)",
                len(found.in_folder),
            ).format(count=len(found.in_folder))
        )


# ---------------------------------------------------------------------------------------------
# entry point


def _fail(message: str, code: int = 1) -> NoReturn:
    # A message may quote a value from the user or a bundle: its controls are shown, not obeyed
    # (escaped first, so only a newline can end the line, not a CR or a U+2028 in the value).
    lines = visible(message.strip(), multiline=True).splitlines()
    first_line = lines[0] if lines else _("failed")
    sys.stderr.write(_("error: {message}").format(message=first_line) + "\n")
    raise SystemExit(code)


def help_messages() -> list[str]:
    """Every help text of the command line (verbs, groups, options, arguments), as written in
    the code: the catalogue's entries for the CLI's help (see scripts/catalog.py)."""
    found: list[str] = []

    def walk(command: Any) -> None:
        for text in (command.help, command.short_help, command.epilog):
            if text:
                found.append(text)
        for param in command.params:
            text = getattr(param, "help", None)
            if text:
                found.append(text)
        if hasattr(command, "list_commands"):  # a group (typer vendors click: match by shape)
            context = typer.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None:
                    walk(sub)

    walk(typer.main.get_command(app))
    return list(dict.fromkeys(found))


def _os_problem(exc: OSError) -> str:
    """A file the system refused, in the user's language (the system's own words only for the
    rare errors not listed here)."""
    import errno

    messages = {
        errno.ENOENT: N_("there is no such file or folder: {path}"),
        errno.EACCES: N_("not allowed to use {path}"),
        errno.EPERM: N_("not allowed to use {path}"),
        errno.EEXIST: N_("{path} is already there"),
        errno.EISDIR: N_("{path} is a folder, not a file"),
        errno.ENOTDIR: N_("a part of {path} is not a folder"),
        errno.ENOSPC: N_("the disk is full: {path}"),
        errno.EROFS: N_("{path} is on a disk that cannot be written"),
    }
    path = visible(str(exc.filename)) if exc.filename is not None else ""
    message = messages.get(exc.errno or 0)
    if message is not None and path:
        return _(message).format(path=path)
    return f"{exc.strerror or exc}: {path}".rstrip(": ")


def _set_language(args: list[str]) -> None:
    """The language, known before click formats any help: `--lang`, then (in `current_language`)
    `DXFIELD_LANG`, the saved setting and the locale."""
    from dxfield.i18n import SUPPORTED, set_language, set_saved_language
    from dxfield.settings import saved_language

    chosen = language_in(args)
    set_language(chosen if chosen in SUPPORTED else None)
    set_saved_language(saved_language())


INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells give it)."""


def fail_for(exc: BaseException) -> NoReturn:
    """Exit as the command line does on `exc` (raised by a command, or by the app opened
    without one, see dxfield/launch.py): one `error:` line, or the exit code asked for."""
    from dxfield.i18n import LocalizedError

    if isinstance(exc, LocalizedError):
        _fail(exc.message())
    if isinstance(exc, (typer.Exit, SystemExit)):
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        raise SystemExit(code) from None
    if isinstance(exc, (typer.Abort, KeyboardInterrupt)):
        _fail(_("aborted"), INTERRUPTED)
    if isinstance(exc, OSError):
        _fail(_os_problem(exc))
    if os.environ.get("DXFIELD_DEBUG"):
        raise exc
    _fail(
        _("unexpected {kind}: {problem} (set DXFIELD_DEBUG=1 for details)").format(
            kind=type(exc).__name__, problem=exc
        ),
        70,
    )


# -- the commands a run builds ---------------------------------------------------------------
#
# Typer builds a command's click parameters from its function's signature, at each start, for
# every command it is given: 69 of them took a quarter of `dxfield --help` (some 25 ms). A run
# is given the part of the tree its arguments name (the root's options and one verb or group);
# the root's own help, which lists every verb and group by its first sentence only, is given
# them without their parameters and verbs. Anything else (no verb named that way, shell completion) builds
# the whole tree, so click says what it would have said.

_ROOT_VALUES = frozenset({"--data-dir", "--lang", "--database"})
"""The root's options that take a value (`main_callback`'s; a test holds them to it)."""


def _entry_name(entry: Any) -> str | None:
    """The name a registered command or group is called by."""
    if isinstance(entry, typer.models.CommandInfo):
        if entry.name:
            return str(entry.name)
        return typer.main.get_command_name(entry.callback.__name__) if entry.callback else None
    return entry.name or (entry.typer_instance.info.name if entry.typer_instance else None)


def _named_verb(args: Sequence[str]) -> str | None:
    """The verb or group the arguments call (the first argument that is neither one of the
    root's options nor its value); "" when they call none (or ask for the root's help, which
    click shows before any verb); None when they cannot be read so (an option the root does
    not know)."""
    expects_value = False
    for arg in args:
        if expects_value:
            expects_value = False
        elif arg in _ROOT_VALUES:
            expects_value = True
        elif arg == "--help":
            return ""  # the root's own help, whatever follows
        elif arg.split("=", 1)[0] in _ROOT_VALUES:
            continue
        elif arg.startswith("-"):
            return None  # `--`, or an unknown option: click says what it is
        else:
            return arg
    return ""


def _shell(entry: Any) -> Any:
    """`entry` as the root's help lists it: its name and help; a group without its verbs, a
    verb without its parameters."""
    shell = copy.copy(entry)
    if isinstance(entry, typer.models.CommandInfo):
        shell.name = _entry_name(entry)
        shell.help = entry.help or (inspect.getdoc(entry.callback) if entry.callback else None)
        shell.callback = _listed
        return shell
    shell.typer_instance = copy.copy(entry.typer_instance)
    shell.typer_instance.registered_commands = []
    shell.typer_instance.registered_groups = []
    return shell


def _listed() -> None:
    """A verb as the root's help lists it (never run: the root's help ends the run)."""


def command_for(args: Sequence[str]) -> Any:
    """The click command `args` run: the part of `app` they call, built and localized."""
    verb = _named_verb(args)
    part = copy.copy(app)
    if verb == "" and not os.environ.get("_DXFIELD_COMPLETE"):
        part.registered_commands = [_shell(command) for command in app.registered_commands]
        part.registered_groups = [_shell(group) for group in app.registered_groups]
    elif verb:
        part.registered_commands = [c for c in app.registered_commands if _entry_name(c) == verb]
        part.registered_groups = [g for g in app.registered_groups if _entry_name(g) == verb]
        if not part.registered_commands and not part.registered_groups:
            part = app  # no such verb: click suggests among all of them
    else:
        part = app
    return localize(typer.main.get_command(part))


def main(argv: list[str] | None = None) -> None:
    """Run the command line; turn every expected failure into one `error:` line."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    args = sys.argv[1:] if argv is None else list(argv)
    _set_language(args)
    command = command_for(args)
    try:
        result = command.main(args=args, prog_name="dxfield", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        sys.stderr.write(f"{exc.format_message()}\n")  # `dxfield activity`: show its help
        raise SystemExit(2) from None
    except UsageError as exc:
        _fail(usage_error(exc), exc.exit_code)
    except ClickException as exc:
        _fail(" ".join(exc.format_message().split()), exc.exit_code)
    except Exception as exc:
        fail_for(exc)
    except (SystemExit, KeyboardInterrupt) as exc:
        fail_for(exc)
    # Without standalone mode, click returns the code of `typer.Exit` instead of exiting; and
    # Typer turns Ctrl-C (anywhere: parsing, the command, the store's closing) into that of
    # 130, said here in one line as any other stop (no command of ours exits 130 itself).
    if result == INTERRUPTED:
        _fail(_("aborted"), INTERRUPTED)
    if isinstance(result, int) and result:
        raise SystemExit(result)


if __name__ == "__main__":  # pragma: no cover
    main()
