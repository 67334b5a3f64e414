"""The `dxfield` command's entry point. Alone, it opens the app without loading the command
line: Typer, its commands and the pydantic it builds them with cost a fifth of the app's start
(issue 18: the first screen within 1.5x a hello-world Textual app). Anything else, arguments or
a hub's database in `DXFIELD_DATABASE_URL`, goes to `dxfield.cli.main`, as before.

Only the standard library and the modules the app opens with anyway are imported here.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run `dxfield`: the app when no argument is given, else the command line."""
    from dxfield.paths import ENV_DATABASE

    args = sys.argv[1:] if argv is None else list(argv)
    if args or os.environ.get(ENV_DATABASE):
        from dxfield.cli import main as cli_main

        cli_main(args)
        return
    try:
        _open_app()
    except BaseException as exc:  # said as the command line says it (one `error:` line)
        from dxfield.cli import fail_for

        fail_for(exc)


def _open_app() -> None:
    """What `dxfield` with no command does (`dxfield.cli.main_callback`), for the file store."""
    from dxfield.tui.images import begin_detection

    begin_detection()  # what the terminal can draw (pictures), asked while the app loads
    from dxfield.i18n import set_language, set_saved_language
    from dxfield.paths import resolve_data_dir
    from dxfield.settings import saved_language

    set_language(None)
    set_saved_language(saved_language())
    data_dir = resolve_data_dir(None)
    from dxfield.tui.app import run_app

    run_app(data_dir, None)


if __name__ == "__main__":  # pragma: no cover
    main()
