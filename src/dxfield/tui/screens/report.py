"""Report: the prefecture's report previewed as Markdown for a chosen scope, and written out.

The scope is the as-of date, the fiscal year, which municipalities (none chosen: all), whether
personal information goes in and whether photos do (the CLI's `--with-photos`: one or two of each
municipality's latest activities; the preview lists them, as the Markdown file does, and the
HTML file holds their small copies, made only when it is written). Every change rebuilds the preview in a worker (listing ten activities of each kind; a hub's
year of activities as widgets would be slow); the status says the report is ready only once its
preview is on screen (Markdown's widgets take a second or more to mount and lay out, during
which the status still says it is building). ctrl+s writes the whole Markdown and HTML into the
chosen folder, named by the as-of date (and the municipalities, when some are chosen): by default
the platform's documents folder (`dxfield.paths.documents_dir`), then the folder last written to
from this screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Markdown, SelectionList

from dxfield.domain.visible import visible
from dxfield.i18n import N_, LocalizedError, _, ngettext, pgettext
from dxfield.paths import documents_dir
from dxfield.tui.screens.base import DxScreen
from dxfield.tui.text import display_path, error_text, plain_options

if TYPE_CHECKING:
    from dxfield.report.content import Report

LAST_FOLDER = "report.last_folder"
PREVIEW_LIMIT = 10
"""Activities of each kind the preview lists (the written files list all)."""


class ReportScreen(DxScreen):
    """The report for a scope, previewed, and written as Markdown and HTML."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "write", N_("Write"), id="report-write"),
        Binding("r", "reload", N_("Reload"), id="reload-report"),
    ]

    AUTO_FOCUS = "#report-preview"

    def __init__(self) -> None:
        super().__init__()
        self._report: Report | None = None
        self._generation = 0
        """Counts the builds asked for: a late result of an earlier one is dropped."""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="report"):
            with Horizontal(classes="report-row"):
                yield Label(_("As of"), classes="report-label")
                yield Input(placeholder=_("empty: today"), id="report-as-of")
                yield Label(_("Fiscal year"), classes="report-label")
                yield Input(placeholder="2024", id="report-year", type="integer")
                yield Checkbox(_("Include personal information"),
                               id="report-personal")  # fmt: skip
            with Horizontal(id="report-body"):
                with Vertical(id="report-side"):
                    yield Label(_("Municipalities (none: all)"),
                                classes="report-label")  # fmt: skip
                    yield SelectionList[str](id="report-places")
                    yield Checkbox(_("Include photos"), id="report-photos")
                with VerticalScroll(id="report-preview"):
                    yield Markdown("", id="report-markdown")
            with Horizontal(classes="report-row"):
                yield Label(_("Folder"), classes="report-label")
                yield Input(placeholder=pgettext("placeholder", "Folder"), id="report-folder")
                yield Button(_("Write (ctrl+s)"), id="report-write",
                             variant="primary")  # fmt: skip
            yield Label("", id="report-message")

    def on_mount(self) -> None:
        self.sub_title = _("Report")
        self._load_choices()

    @work(thread=True, exclusive=True, group="report-choices", exit_on_error=False)
    def _load_choices(self) -> None:
        """The municipalities with initiatives, the programme's year and the last folder."""
        from dxfield.store.followups import list_initiatives
        from dxfield.store.local_state import get_setting
        from dxfield.store.programme import get_programme

        places: dict[str, str] = {}
        for summary in list_initiatives(self.store):
            places.setdefault(summary.initiative.municipality_id, summary.municipality)
        year = get_programme(self.store).fiscal_year
        folder = get_setting(self.store, LAST_FOLDER, None) or str(documents_dir())
        self.app.call_from_thread(self._show_choices, places, year, folder)

    def _show_choices(self, places: dict[str, str], year: int | None, folder: str) -> None:
        choices = self.query_one("#report-places", SelectionList)
        choices.clear_options()
        choices.add_options(plain_options([(name, key) for key, name in places.items()]))
        if year and not self.query_one("#report-year", Input).value:
            self.query_one("#report-year", Input).value = str(year)
        if not self.query_one("#report-folder", Input).value:
            self.query_one("#report-folder", Input).value = display_path(folder)
        self.action_reload()

    # -- the preview -----------------------------------------------------------------------------

    @on(Input.Submitted, "#report-as-of, #report-year")
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    def action_reload(self) -> None:
        """Rebuild the preview for the scope as it is now set."""
        as_of = self.query_one("#report-as-of", Input).value.strip()
        year_text = self.query_one("#report-year", Input).value.strip()
        places = list(self.query_one("#report-places", SelectionList).selected)
        personal = self.query_one("#report-personal", Checkbox).value
        photos = self.query_one("#report-photos", Checkbox).value
        self._generation += 1
        self._report = None  # nothing is written until this scope's report is built
        self._say(_("Building…"))
        self._build(self._generation, as_of, year_text, places, personal, photos)

    @work(thread=True, exclusive=True, group="report-build", exit_on_error=False)
    def _build(
        self,
        generation: int,
        as_of: str,
        year_text: str,
        places: list[str],
        personal: bool,
        photos: bool,
    ) -> None:
        from dxfield.report.content import build_report, make_scope
        from dxfield.report.render import render_markdown

        try:
            year = int(year_text) if year_text else None
            scope = make_scope(
                self.store,
                as_of=as_of or None,
                fiscal_year=year,
                municipalities=places,
                include_personal=personal,
                with_photos=photos,
                today=self.dx.today,
            )
            # As the CLI builds Markdown: the photos chosen, no copy of them made.
            report = build_report(self.store, scope, images=False)
            text = render_markdown(report, preview_limit=PREVIEW_LIMIT)
        except (LocalizedError, ValueError) as exc:
            self.app.call_from_thread(self._failed, generation, error_text(exc))
            return
        self.app.call_from_thread(self._show, generation, report, text)

    def _failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._say(message, error=True)

    def _show(self, generation: int, report: Report, text: str) -> None:
        if generation != self._generation:  # the scope changed while this one was built
            return
        self.run_worker(
            self._show_preview(generation, report, text),
            group="report-preview",
            exclusive=True,
            exit_on_error=False,
        )

    async def _show_preview(self, generation: int, report: Report, text: str) -> None:
        # The file keeps the data as it is; the preview shows its controls (as `\<ESC>`, which
        # Markdown shows as <ESC>; a bare <ESC> would be read as an HTML tag and vanish).
        preview = visible(text, multiline=True, markdown=True)
        await self.query_one("#report-markdown", Markdown).update(preview)
        if generation != self._generation:
            return
        self._report = report
        # Ready once the preview has been laid out and painted, not before.
        self.call_after_refresh(self._ready, generation, report)

    def _ready(self, generation: int, report: Report) -> None:
        if generation != self._generation:
            return
        municipalities = len(report.sections)
        self._say(
            _("FY{year} as of {date}: {municipalities}, {activities}").format(
                year=report.scope.fiscal_year,
                date=report.scope.as_of.isoformat(),
                municipalities=ngettext(
                    "{count} municipality", "{count} municipalities", municipalities
                ).format(count=municipalities),
                activities=ngettext(
                    "{count} activity", "{count} activities", report.activity_count
                ).format(count=report.activity_count),
            )
        )

    # -- writing ---------------------------------------------------------------------------------

    @on(Button.Pressed, "#report-write")
    def action_write(self) -> None:
        """Write the previewed report as Markdown and HTML into the folder."""
        if self._report is None:
            self._say(
                _("The report for this scope is not ready (or the scope has a mistake)"),
                error=True,
            )
            return
        folder = Path(self.query_one("#report-folder", Input).value.strip()).expanduser()
        self._write(self._report, folder)

    @work(thread=True, exclusive=True, group="report-write", exit_on_error=False)
    def _write(self, report: Report, folder: Path) -> None:
        from dxfield.report.render import render_html, render_markdown, report_file_stem
        from dxfield.store import maintenance
        from dxfield.store.local_state import set_setting

        if folder == documents_dir():  # the default: made when missing
            folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            message = _("There is no folder {folder}").format(folder=display_path(str(folder)))
            self.app.call_from_thread(self._say, message, error=True)
            return
        try:
            if report.scope.with_photos:
                # The HTML file holds the photos' copies (made now, as the CLI's --with-photos
                # makes them for HTML); both files from this one build, so they show the same.
                from dxfield.report.content import build_report

                report = build_report(self.store, report.scope, images=True)
            stem = report_file_stem(report)
            written = []
            files = ((".md", render_markdown(report)), (".html", render_html(report)))
            for suffix, text in files:
                out = folder / f"{stem}{suffix}"
                maintenance.write_atomically(self.store, out, text.encode("utf-8"))
                written.append(out)
            set_setting(self.store, LAST_FOLDER, str(folder))
        except Exception as exc:
            self.app.call_from_thread(self._say, error_text(exc), error=True)
            return
        shown = _(", ").join(display_path(str(p)) for p in written)
        message = _("Wrote {files}").format(files=shown)
        if count := len(report.photo_problems):
            message += ngettext(
                " ({count} photo could not be used: its file is missing here or damaged)",
                " ({count} photos could not be used: their files are missing here or damaged)",
                count,
            ).format(count=count)
        self.app.call_from_thread(self._say, message)

    def _say(self, message: str, *, error: bool = False) -> None:
        self.query_one("#report-message", Label).update(
            Text(visible(message), style="bold red" if error else "")
        )
