"""`dxfield template`: the note a new activity of each kind starts with (synced records)."""

from pathlib import Path
from typing import Annotated

import typer

from dxfield.cli.common import JsonOption, echo, print_json, store_of, table, ui_language
from dxfield.cli.localized import LocalizedCommand, LocalizedGroup
from dxfield.domain.visible import visible
from dxfield.i18n import N_, _

template_app = typer.Typer(
    cls=LocalizedGroup,
    help="Note templates: the note a new activity of each kind starts with (synced).",
    no_args_is_help=True,
)

KindArg = Annotated[str, typer.Argument(metavar=N_("KIND"), help="The activity kind.")]


def _kind(text: str) -> str:
    from dxfield.domain.enums import ActivityKind

    return ActivityKind.parse_field(text, "kind").value


@template_app.command("list", cls=LocalizedCommand)
def template_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every kind's template: saved (synced) or built in."""
    from dxfield.domain.enums import ActivityKind
    from dxfield.store.note_templates import template_states

    states = template_states(store_of(ctx))
    if as_json:
        print_json(states)
        return
    lang = ui_language()
    rows = []
    for state in states:
        source = _("saved") if state.saved else _("built in")
        first = next((line for line in state.text.splitlines() if line.strip()), "")
        shown = first if first else _("(none)")
        lines = len(state.text.splitlines())
        rows.append([ActivityKind(state.kind).label(lang), state.kind, source, str(lines), shown])
    table([_("kind"), _("key"), _("template"), _("lines"), _("first line")], rows)


@template_app.command("show", cls=LocalizedCommand)
def template_show(ctx: typer.Context, kind: KindArg) -> None:
    """Print one kind's template as a new note starts with it."""
    from dxfield.store.note_templates import note_template

    text = note_template(store_of(ctx), _kind(kind))
    if text:
        typer.echo(visible(text, multiline=True), nl=not text.endswith("\n"))


@template_app.command("set", cls=LocalizedCommand)
def template_set(
    ctx: typer.Context,
    kind: KindArg,
    file: Annotated[
        Path,
        typer.Option("--file", help="A UTF-8 text file: the template (empty: no template)."),
    ],
) -> None:
    """Save a kind's template from a file; it syncs like any record."""
    from dxfield.store.files import read_text_file
    from dxfield.store.note_templates import set_note_template

    value = _kind(kind)
    if set_note_template(store_of(ctx), value, read_text_file(file)):
        echo(_("saved the template of {kind}").format(kind=_kind_label(value)))
    else:
        echo(_("nothing changed: {id}").format(id=_kind_label(value)))


@template_app.command("reset", cls=LocalizedCommand)
def template_reset(ctx: typer.Context, kind: KindArg) -> None:
    """Go back to a kind's built-in template (the saved one is deleted, and can be restored)."""
    from dxfield.store.note_templates import reset_note_template

    value = _kind(kind)
    if reset_note_template(store_of(ctx), value):
        echo(_("back to the built-in template of {kind}").format(kind=_kind_label(value)))
    else:
        echo(_("nothing changed: {id}").format(id=_kind_label(value)))


def _kind_label(value: str) -> str:
    """A kind as the person reads it: its label in the interface's language (会議)."""
    from dxfield.domain.enums import ActivityKind

    return visible(ActivityKind(value).label(ui_language()))
