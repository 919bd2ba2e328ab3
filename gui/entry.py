"""Entry points of the installed program: `xlbatch` (the CLI; no command opens the app) and `xlbatch-gui`.

Kept light on purpose: worker processes started with `spawn` re-import the main module, and must not
pay for Qt. PySide6 is imported only when the window is really opened.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence


def launch_gui(
    paths: list[str],
    screenshot: str | None = None,
    *,
    recipe: str | None = None,
    start: bool = False,
    exit_when_done: bool = False,
) -> int:
    from xlbatch.gui.app import run_gui
    from xlbatch.gui.launch import LaunchRequest

    return run_gui(paths, screenshot, LaunchRequest(recipe, start, exit_when_done))


def main(argv: Sequence[str] | None = None) -> int:
    multiprocessing.freeze_support()
    from xlbatch.cli import main as cli_main

    return cli_main(argv, gui_launcher=launch_gui)


def gui_main() -> int:
    # `xlbatch-gui [PATH...] [--screenshot FILE] [--recipe FILE [--start [--exit-when-done]]]`: the window,
    # with no console on Windows.
    multiprocessing.freeze_support()
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
