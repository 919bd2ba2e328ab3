"""The smoke test's batch through the real window of the windowed program, as a desktop shortcut runs it.

    xlbatch --recipe monthly.yaml --start --exit-when-done          (xlbatch.exe under Wine)

The recipe holds the smoke test's batch (ledgers with known content and three hostile workbooks) on the
`processes` backend with 2 workers. The window opens on a display (a private Xvfb through the platform's
real windowing plugin: xcb on Linux, qwindows.dll under Wine; the desktop on Windows), starts the batch
at once and closes when it ends. Checked: the exit status is the command line's (1: three files fail),
the report is right file by file, the files ran in worker processes (more than one copy of the program
ran, never more than the window and its workers), and no copy of the program is left afterwards.

This is where a windowed program differs from the console one: no console (sys.stdout is None), and
every worker is the windowed executable started again (multiprocessing's freeze_support must run first).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smoke import Smoke

LEFT_BEHIND_WAIT = 30.0  # seconds for the program's processes to end after the window closed


def write_recipe(smoke: Smoke, folder: Path, out: Path, workers: int) -> Path:
    """The batch as a recipe (JSON is YAML too), paths as the program sees them."""
    recipe = {
        "xlbatch_recipe": 1,
        "task": "summarize",
        "inputs": [smoke.arg_path(folder)],
        "backend": "processes",
        "workers": workers,
        "output": smoke.arg_path(out),
    }
    path = smoke.work / "monthly.yaml"
    path.write_text(json.dumps(recipe, indent=2), encoding="utf-8")
    return path


def program_environment(smoke: Smoke, display: str | None) -> dict[str, str]:
    """A display, and (natively) settings and app data in the work folder: the user's stay untouched."""
    env: dict[str, str] = {}
    if display is not None:
        env["DISPLAY"] = display
        if not smoke.wine_run:
            env["QT_QPA_PLATFORM"] = "xcb"
    if not smoke.wine_run:  # under Wine the prefix is the program's own user profile already
        home = smoke.work / "window-home"
        env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
        env["XLBATCH_CONFIG"] = str(home / "settings.yaml")
    return env


def left_behind(program: Path, before: set[int], seconds: float) -> list[Any]:
    """Processes of the program started during the run and still there after `seconds`."""
    from smoke import program_processes

    deadline = time.monotonic() + seconds
    while True:
        alive = [p for p in program_processes(program) if p.pid not in before]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


def check_window_batch(smoke: Smoke, folder: Path, expected: dict[str, tuple[int, int, float]]) -> None:
    import psutil
    from smoke import WORKERS, ProcessWatch, WindowProbeUnavailable, read_json, report_problems

    name = "batch through the window (--recipe --start --exit-when-done)"
    out = smoke.work / "window-run"
    recipe = write_recipe(smoke, folder, out, WORKERS)
    try:
        display = None if os.name == "nt" else smoke.display()
    except WindowProbeUnavailable as exc:
        smoke.check(name, False, str(exc))
        return
    before = set(psutil.pids())
    watch = ProcessWatch(smoke.gui)
    watch.start()
    try:
        args = ["--recipe", smoke.arg_path(recipe), "--start", "--exit-when-done"]
        result = smoke.run(smoke.gui, args, env_extra=program_environment(smoke, display))
    finally:
        watch.stop()
        smoke.close()
    problems = [] if result.rc == 1 else [f"exit {result.rc}, expected 1 (three files fail)"]
    problems += report_problems(read_json(out / "report.json"), expected, "processes")
    windows = bool(smoke.wine_run) or os.name == "nt"
    limit = 1 + WORKERS + (0 if windows else 1) + (1 if smoke.onefile else 0)
    if not 2 <= watch.max_count <= limit:
        copies = f"{watch.max_count} copies of {smoke.gui.name} at once (expected 2..{limit})"
        problems.append(f"{copies}: {watch.max_snapshot}")
    left = left_behind(smoke.gui, before, LEFT_BEHIND_WAIT)
    if left:
        problems.append(f"still running after the window closed: {[p.pid for p in left]}")
        for process in left:
            process.kill()
    report = read_json(out / "report.json")
    detail = f"exit {result.rc}, {report.get('counts')}, at most {watch.max_count} processes, none left"
    if not smoke.check(name, not problems, "; ".join(problems) or detail, result.seconds):
        smoke.show(result)
