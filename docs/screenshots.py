"""Pictures of the window, rendered offscreen, to look at and for the README.

    python docs/screenshots.py sizes OUT_DIR
        the window as it first opens on screens of 1024x700, 1366x768 and 1920x1080, at 100% and at 150%
        scaling (QT_SCALE_FACTOR=1.5), with the bundled samples listed: OUT_DIR/<screen>@<scale>.png;
        add --task NAME to show another task's settings, --batch to show it after a batch
    python docs/screenshots.py readme docs/screenshot.png --folder "/home/maria/Documents/Finance/Month-end 2026-11"
        a running batch for the README: 36 sales ledgers and one damaged workbook written into FOLDER
        (removed again afterwards), captured once most files are done and one has failed, while the
        others still run and the gauges move

Each picture is rendered by a fresh process with Qt's offscreen platform given a screen of that size,
so the window opens at the size and in the layout a user with that screen gets. The app's settings and
kept file list go to a temporary folder: the pictures change nothing the user's app remembers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCREENS = ((1024, 700), (1366, 768), (1920, 1080))
SCALES = (1.0, 1.5)
README_LEDGERS = 36
README_BROKEN = "Sales South 2026-02 (old copy).xlsx"  # sorts among the others: in view with them


def render(out: Path, screen: tuple[int, int], scale: float, extra: list[str]) -> int:
    """Run this script's `_render` in a new process with a screen of `screen` pixels at `scale`."""
    with tempfile.TemporaryDirectory(prefix="xlbatch-shot-") as tmp:
        config = Path(tmp) / "screen.json"
        width, height = screen
        screens = [{"name": "screen", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96}]
        config.write_text(json.dumps({"screens": screens}), encoding="utf-8")
        env = dict(
            os.environ,
            QT_QPA_PLATFORM=f"offscreen:configfile={config}",
            QT_SCALE_FACTOR=str(scale),
            XDG_CONFIG_HOME=str(Path(tmp) / "config"),
            XDG_DATA_HOME=str(Path(tmp) / "data"),
            XLBATCH_CONFIG=str(Path(tmp) / "settings.yaml"),
        )
        if "--running" not in extra:  # the README's batch writes beside its files, under a realistic name
            extra = [*extra, "--out", str(Path(tmp) / "out")]
        command = [sys.executable, str(Path(__file__).resolve()), "_render", str(out), *extra]
        return subprocess.run(command, env=env, cwd=ROOT, timeout=600, check=False).returncode


def sizes(out_dir: Path, extra: list[str]) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for screen in SCREENS:
        for scale in SCALES:
            target = out_dir / f"{screen[0]}x{screen[1]}@{scale:g}.png"
            failed += render(target, screen, scale, [str(ROOT / "resources" / "samples"), *extra]) != 0
            print(target)
    return 1 if failed else 0


def readme(target: Path, folder: Path) -> int:
    """Write the README's batch into `folder`, render it running, and remove what was written."""
    sys.path.insert(0, str(ROOT))
    from tests import corpus

    made = folder  # the topmost folder this creates, removed again at the end
    while not made.parent.exists():
        made = made.parent
    made_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    regions = ("North", "South", "East", "West")
    for i in range(README_LEDGERS):
        month = 1 + i // len(regions)
        name = f"Sales {regions[i % len(regions)]} 2026-{month:02d}.xlsx"
        written.append(corpus.make_ledger(folder / name, rows=30_000 + 2_000 * (i % 7), seed=i))
    written.append(corpus.make_truncated_xlsx(folder, README_BROKEN))
    try:
        return render(target, (1366, 768), 1.0, [str(folder), "--task", "summarize", "--running"])
    finally:
        for path in written:
            path.unlink(missing_ok=True)
        shutil.rmtree(folder / "xlbatch-output", ignore_errors=True)
        if made_folder:
            shutil.rmtree(made, ignore_errors=True)


def wait_for(condition: Any, seconds: float) -> bool:
    """Run the event loop until `condition()` holds (True) or `seconds` pass (False)."""
    import time

    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    return True


def render_window(
    target: Path, paths: list[str], task: str | None, batch: bool, running: bool, out: str | None
) -> int:
    """The window with `paths` listed (and `task` picked), after a batch or during one, saved to `target`."""
    import time

    from xlbatch.cancel import NOW
    from xlbatch.gui.app import make_app

    app = make_app()
    from xlbatch.gui.main_window import MainWindow

    window = MainWindow()
    window.last_batch.enabled = False
    window.save_settings_on_close = False
    window.add_paths(paths)
    if out:
        window.set_output_folder(out)
    if task:
        window.task_panel.combo.setCurrentIndex(window.task_panel.combo.findData(task))
    window.show()
    started = time.monotonic()
    wait_for(lambda: time.monotonic() - started > 0.7, 5)  # laid out, painted, a gauge sample taken
    if batch or running:
        if running:  # two worker processes: the gauges have something to show
            window.run_settings.select_backend("processes")
            window.run_settings.set_workers(2)
        window.start_batch()
        files = window.files

        def far_enough() -> bool:
            counts = files.status_counts()
            return counts["failed"] >= 1 and counts["done"] >= 0.6 * files.rowCount() and counts["running"] >= 1

        wait_for(far_enough if running else lambda: not window.is_running(), 300)
        wait_for(lambda: False, 0.2)  # the next pump brings the rows up to date
        running_rows = files.rows_with_status("running")
        if running_rows:  # the files that run now at the foot of the list, with the failed one above
            view = window.files_panel.view
            view.scrollTo(view.model().index(running_rows[-1], 0), view.ScrollHint.PositionAtBottom)
    window.monitor.sample()
    app.processEvents()
    target.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(target))
    window.cancel_batch(NOW)
    wait_for(lambda: not window.is_running(), 60)
    window.close()
    window.release_pools(wait_seconds=10.0)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    shots = commands.add_parser("sizes", help="the window on three screens at two scales")
    shots.add_argument("out_dir", type=Path)
    shots.add_argument("--task", help="the task to show (default: the first)")
    shots.add_argument("--batch", action="store_true", help="after running the task on the samples")
    picture = commands.add_parser("readme", help="the README's picture of a running batch")
    picture.add_argument("target", type=Path)
    picture.add_argument("--folder", type=Path, required=True, help="where to write the batch (a realistic name)")
    inner = commands.add_parser("_render")  # one picture, in the process render() starts
    inner.add_argument("target", type=Path)
    inner.add_argument("paths", nargs="*")
    inner.add_argument("--task")
    inner.add_argument("--batch", action="store_true")
    inner.add_argument("--running", action="store_true")
    inner.add_argument("--out", help="the output folder (default: beside the files)")
    args = parser.parse_args(argv)
    if args.command == "sizes":
        extra = (["--task", args.task] if args.task else []) + (["--batch"] if args.batch else [])
        return sizes(args.out_dir, extra)
    if args.command == "readme":
        return readme(args.target, args.folder)
    return render_window(args.target, args.paths, args.task, batch=args.batch, running=args.running, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
