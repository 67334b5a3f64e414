"""`dxfield stage-model` and `dxfield track`: consensus-building, stage by stage."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dxfield.cli.common import (
    DateOpt,
    InitiativeOpt,
    JsonOption,
    echo,
    print_json,
    store_of,
    table,
    typed_day,
    ui_language,
)
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from dxfield.domain.records import Stage, StageModelRead
    from dxfield.store.tracks import TimelineEntry, TrackSummary

stage_model_app = typer.Typer(
    cls=LocalizedGroup,
    help="Stage models: the steps a community goes through (Toyooka's four are built in).",
    no_args_is_help=True,
)
track_app = typer.Typer(
    cls=LocalizedGroup,
    help="Consensus-building: one community followed through a stage model.",
    no_args_is_help=True,
)

ModelOpt = Annotated[
    str | None, typer.Option("--model", help="Stage model key or id (default: Toyooka's).")
]


def _label(stage: "Stage") -> str:
    return stage.label if ui_language() == "ja" or not stage.label_en else stage.label_en


def _model_name(model: "StageModelRead") -> str:
    return model.name if ui_language() == "ja" or not model.name_en else model.name_en


def _stage_text(summary: "TrackSummary") -> str:
    stage = summary.stage
    if stage is None:
        return _("not started")
    return f"{summary.stage_index + 1}/{len(summary.model.stages)} {_label(stage)}"


def _summary_json(summary: "TrackSummary") -> dict[str, Any]:
    return {
        **summary.track.model_dump(mode="json"),
        "community": summary.community,
        "municipality": summary.municipality,
        "initiative": summary.initiative_title,
        "model_key": summary.model.key,
        "stage_index": summary.stage_index,
        "since": summary.since.isoformat() if summary.since else None,
        "days_in_stage": summary.days_in_stage,
        "last_activity": (
            {
                "id": summary.last_activity.id,
                "date": summary.last_activity.date.isoformat(),
                "title": summary.last_activity.title,
            }
            if summary.last_activity
            else None
        ),
    }


# -- stage models --------------------------------------------------------------------------------


@stage_model_app.command("list", cls=LocalizedCommand)
def stage_model_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List stage models and their stages."""
    from dxfield.store.tracks import list_stage_models

    models = list_stage_models(store_of(ctx))
    if as_json:
        print_json(models)
        return
    table(
        [_("key"), _("name"), _("stages"), "ID"],
        [[m.key, _model_name(m), " → ".join(f"{s.key}" for s in m.stages), m.id] for m in models],
    )


@stage_model_app.command("show", cls=LocalizedCommand)
def stage_model_show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(metavar=N_("KEY_OR_ID"))],
    as_json: JsonOption = False,
) -> None:
    """Show a stage model: each stage's description and exit criteria."""
    from dxfield.store.tracks import get_stage_model

    record = get_stage_model(store_of(ctx), model)
    if as_json:
        print_json(record)
        return
    echo(f"{visible(_model_name(record))} ({visible(record.key)})")
    ja = ui_language() == "ja"  # the model's texts are data, kept in Japanese and maybe English
    for number, stage in enumerate(record.stages, 1):
        description = stage.description if ja or not stage.description_en else stage.description_en
        criteria = (
            stage.exit_criteria if ja or not stage.exit_criteria_en else stage.exit_criteria_en
        )
        echo(f"\n{number}. {visible(_label(stage))} [{visible(stage.key)}]")
        if description:  # multi-line texts keep their lines
            echo(f"   {description}")
        if criteria:
            echo("   " + _("Exit criteria") + f": {criteria}")


@stage_model_app.command("add", cls=LocalizedCommand)
def stage_model_add(
    ctx: typer.Context,
    from_file: Annotated[
        Path,
        typer.Option("--from-file", help="A TOML file: key, name, name_en, [[stages]]."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Define a stage model (say, a counter DX rollout) from a TOML file."""
    from dxfield.store.tracks import add_stage_model, read_stage_model_file

    record = add_stage_model(store_of(ctx), read_stage_model_file(from_file))
    if as_json:
        print_json(record)
    else:
        key, count, record_id = visible(record.key), len(record.stages), visible(record.id)
        echo(
            ngettext(
                "stage model added: {key} ({count} stage) {id}",
                "stage model added: {key} ({count} stages) {id}",
                count,
            ).format(key=key, count=count, id=record_id)
        )


# -- tracks --------------------------------------------------------------------------------------


@track_app.command("add", cls=LocalizedCommand)
def track_add(
    ctx: typer.Context,
    community: Annotated[str, typer.Option("--community", help="The community: name, code or id.")],
    model: ModelOpt = None,
    initiative: InitiativeOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Start following a community through a stage model."""
    from dxfield.store.tracks import add_track

    track = add_track(store_of(ctx), community=community, model=model, initiative=initiative)
    if as_json:
        print_json(track)
    else:
        typer.echo(track.id)


@track_app.command("list", cls=LocalizedCommand)
def track_list(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="Only this stage model.")] = None,
    initiative: InitiativeOpt = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this municipality.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List each community's stage, since when, and its last activity."""
    from dxfield.store.tracks import list_tracks

    items = list_tracks(
        store_of(ctx), model=model, initiative=initiative, municipality=municipality
    )
    if as_json:
        print_json([_summary_json(s) for s in items])
        return
    table(
        [_("community"), _("municipality"), _("stage"), _("days"), _("last activity"), "ID"],
        [
            [
                s.community,
                s.municipality,
                _stage_text(s),
                "" if s.days_in_stage is None else str(s.days_in_stage),
                f"{s.last_activity.date} {s.last_activity.title}" if s.last_activity else "",
                s.track.id,
            ]
            for s in items
        ],
    )


def _timeline_line(entry: "TimelineEntry", summary: "TrackSummary") -> str:
    stages = {s.key: s for s in summary.model.stages}
    if entry.move is not None:
        move = entry.move
        before = _label(stages[move.from_stage]) if move.from_stage in stages else "—"
        after = _label(stages[move.to_stage]) if move.to_stage in stages else move.to_stage
        line = f"{move.date}  ▶ {visible(before)} → {visible(after)}"
        if move.note:
            first_line = move.note.split("\n")[0]
            line += f"  {visible(first_line)}"
        if move.evidence_ids:
            line += "  (" + _("evidence") + f" {len(move.evidence_ids)})"
        return line
    assert entry.activity is not None
    activity = entry.activity
    mark = "*" if entry.evidence else " "
    kind = activity.kind.label(ui_language())
    return f"{activity.date}  {mark} {kind}  {visible(activity.title)}"


@track_app.command("show", cls=LocalizedCommand)
def track_show(
    ctx: typer.Context,
    track: Annotated[str, typer.Argument(metavar=N_("TRACK"), help="Track id or community name.")],
    as_json: JsonOption = False,
) -> None:
    """A track's stage and its timeline: stage moves and activities, newest first."""
    from dxfield.store.tracks import timeline

    summary, entries = timeline(store_of(ctx), track)
    if as_json:
        print_json(
            {
                **_summary_json(summary),
                "timeline": [
                    {"date": e.date.isoformat(), "kind": e.kind, "move": e.move}
                    if e.move
                    else {
                        "date": e.date.isoformat(),
                        "kind": e.kind,
                        "activity_id": e.activity.id if e.activity else None,
                        "title": e.activity.title if e.activity else None,
                        "evidence": e.evidence,
                    }
                    for e in entries
                ],
            }
        )
        return
    echo(
        f"{visible(summary.community)}  {visible(summary.municipality)}"
        f"  ({visible(_model_name(summary.model))})"
    )
    days = (
        ""
        if summary.days_in_stage is None
        else (_("  day {days_in_stage}").format(days_in_stage=summary.days_in_stage))
    )
    echo(_("Stage") + f": {visible(_stage_text(summary))}{days}")
    echo(f"ID: {visible(summary.track.id)}\n")
    for entry in entries:
        echo(_timeline_line(entry, summary))
    if not entries:
        echo(_("(nothing recorded yet)"))


@track_app.command("move", cls=LocalizedCommand)
def track_move(
    ctx: typer.Context,
    track: Annotated[str, typer.Argument(metavar=N_("TRACK"), help="Track id or community name.")],
    to: Annotated[str, typer.Option("--to", help="The stage key to move to.")],
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="An activity that is evidence of the move; repeatable."),
    ] = None,
    date: DateOpt = None,
    note: Annotated[str, typer.Option("--note", help="Why, in a sentence.")] = "",
    no_evidence: Annotated[
        bool,
        typer.Option("--no-evidence", help="Move forward without evidence, on purpose."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Move a track to a stage, forward (with evidence) or back."""
    from dxfield.store.tracks import get_track, move_track

    store = store_of(ctx)
    move = move_track(
        store,
        track,
        to=to,
        evidence=evidence or [],
        date=typed_day(date, "date"),
        note=note,
        no_evidence=no_evidence,
    )
    if as_json:
        print_json(move)
        return
    summary = get_track(store, move.track_id)
    stages = {s.key: s for s in summary.model.stages}
    before = _label(stages[move.from_stage]) if move.from_stage in stages else "—"
    after = _label(stages[move.to_stage])
    echo(f"{visible(summary.community)}: {visible(before)} → {visible(after)} ({move.date})")


@track_app.command("undo-move", cls=LocalizedCommand)
def track_undo_move(
    ctx: typer.Context,
    track: Annotated[str, typer.Argument(metavar=N_("TRACK"), help="Track id or community name.")],
    as_json: JsonOption = False,
) -> None:
    """Take back the track's last move: it goes back to the stage it left (history keeps both)."""
    from dxfield.store.tracks import get_track, take_back_move

    store = store_of(ctx)
    move = take_back_move(store, track)
    if as_json:
        print_json(move)
        return
    summary = get_track(store, move.track_id)
    stages = {s.key: s for s in summary.model.stages}
    left = _label(stages[move.to_stage]) if move.to_stage in stages else move.to_stage
    back = _label(stages[move.from_stage]) if move.from_stage in stages else "—"
    echo(
        _(
            "{community}: the move to {left} ({date}) is taken back; the stage is {back} again"
        ).format(
            community=visible(summary.community),
            left=visible(left),
            date=move.date,
            back=visible(back),
        )
    )
