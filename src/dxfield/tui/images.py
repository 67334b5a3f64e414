"""Which way the terminal draws pictures: Kitty's graphics protocol, Sixel, or coloured
half-blocks (textual-image).

textual-image asks the terminal what it can draw when its renderables are imported, reading the
answer from stdin: that works only before Textual has started (Textual then reads stdin itself).
So `begin_detection` starts the question in a thread as the app's start begins (it overlaps the
imports of Textual and the app), and `finish_detection` waits for it just before the app runs.
Without a terminal (tests, the benchmarks, a headless run) nothing is asked and pictures are
half-blocks, which every terminal and every snapshot shows the same way.

Only the standard library is imported at the top: the start must not pay for Pillow here.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.widget import Widget

_thread: threading.Thread | None = None
_chosen: Any = None  # the widget class picked by the terminal's answer, once asked


def _in_a_terminal() -> bool:
    stdout, stdin = sys.__stdout__, sys.__stdin__
    return bool(stdout and stdin and stdout.isatty() and stdin.isatty())


def _detect() -> None:
    global _chosen
    try:
        from textual_image.widget import Image

        _chosen = Image
    except Exception:  # no answer, or no Pillow: half-blocks (`image_class`)
        _chosen = None


def begin_detection() -> None:
    """Ask the terminal (in a thread) what it can draw; nothing without a terminal."""
    global _thread
    if _thread is None and _in_a_terminal():
        _thread = threading.Thread(target=_detect, name="dxfield-images", daemon=True)
        _thread.start()


def finish_detection() -> None:
    """Wait for the terminal's answer (call before the app runs: Textual then takes stdin)."""
    begin_detection()
    if _thread is not None:
        _thread.join(timeout=1.0)


def image_class() -> type[Widget]:
    """The widget that draws a picture here: what the terminal answered, else half-blocks."""
    if _chosen is not None:
        return _chosen  # type: ignore[no-any-return]
    from textual_image.widget import HalfcellImage

    return HalfcellImage
