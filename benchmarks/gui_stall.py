"""How long the GUI thread is ever blocked while the window runs a 1,000-file batch.

A 10 ms QTimer records the time between its ticks; any gap well above 10 ms is time the GUI thread
could not paint or react. The batch is the real window's: 1,000 tiny csv files in a temporary folder,
the summarize task, backend auto, started with the Start button. The goal is a longest gap under
100 ms. Settings go to a temporary INI file, so the user's own settings are untouched.

    python benchmarks/gui_stall.py [--files 1000] [--backend auto]

Also printed: the time to add the files to the list and to plan the batch (both on the GUI thread),
the gaps' 50th and 99th percentiles, and what the gauges' sampling costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TICK_MS = 10
GOAL_MS = 100


def make_files(folder: Path, count: int) -> None:
    for i in range(count):
        rows = "\r\n".join(f"{r},{(i * 7 + r) % 13},Item {r}" for r in range(1, 9))
        (folder / f"book-{i:05d}.csv").write_text(f"Row,Value,Name\r\n{rows}\r\n", encoding="utf-8")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from PySide6.QtCore import QSettings

    with tempfile.TemporaryDirectory(prefix="xlbatch-stall-") as tmp:
        root = Path(tmp)
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root / "settings"))
        inputs = root / "inputs"
        inputs.mkdir()
        make_files(inputs, args.files)
        measured = run_window(inputs, root / "out", args.backend)
    print_results(args.files, *measured)
    return 0


def run_window(inputs: Path, out: Path, backend: str) -> tuple[dict, list[float], float, float, Any]:
    """Run one batch through the real window, ticking a timer on the GUI thread meanwhile: (the report,
    the gaps between ticks in ms, ms to add the files, ms to plan on Start, the gauges' monitor)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from xlbatch.gui.app import make_app
    from xlbatch.gui.main_window import MainWindow

    app = make_app()
    window = MainWindow()
    window.save_settings_on_close = False
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    started = time.perf_counter()
    window.add_paths([str(inputs)])
    add_ms = (time.perf_counter() - started) * 1000
    window.task_panel.combo.setCurrentIndex(window.task_panel.combo.findData("summarize"))
    window.run_settings.select_backend(backend)
    window.set_output_folder(str(out))
    app.processEvents()

    gaps: list[float] = []
    clock = QElapsedTimer()
    last = [0]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    reports: list[dict] = []
    loop = QEventLoop()
    window.batchFinished.connect(lambda report: (reports.append(report), loop.quit()))
    clock.start()
    last[0] = clock.nsecsElapsed()
    timer.start()
    plan_started = time.perf_counter()
    window.start_button.click()  # plans on the GUI thread, then runs on the controller thread
    plan_ms = (time.perf_counter() - plan_started) * 1000
    loop.exec()
    timer.stop()
    window.close()
    return reports[0], gaps, add_ms, plan_ms, window.monitor


def print_results(files: int, report: dict, gaps: list[float], add_ms: float, plan_ms: float, monitor: Any) -> None:
    first_gap = gaps[0] if gaps else 0.0  # the tick that waited for Start (planning) to return
    during = gaps[1:]
    print(f"files: {files:,}  task: summarize  backend: {report['backend']} x{report['workers']}")
    print(f"  ({report['backend_reason']})")
    print(f"batch: {report['seconds']:.1f} s, counts {report['counts']}")
    print(f"adding the files to the list (GUI thread, before the batch): {add_ms:.0f} ms")
    print(f"planning on Start (GUI thread): {plan_ms:.0f} ms; the first tick waited {first_gap:.0f} ms")
    if during:
        print(
            f"{TICK_MS} ms timer during the batch: {len(during):,} ticks, "
            f"median gap {statistics.median(during):.1f} ms, 99th percentile {percentile(during, 0.99):.1f} ms"
        )
    longest = max(gaps, default=0.0)
    print(
        f"gauge sampling (its own thread, not the GUI thread): {monitor.mean_cost * 1000:.2f} ms on average, "
        f"{monitor.max_cost * 1000:.2f} ms at most"
    )
    verdict = "within" if longest < GOAL_MS else "OVER"
    print(f"LONGEST GUI STALL: {longest:.0f} ms ({verdict} the {GOAL_MS} ms goal)")


if __name__ == "__main__":
    raise SystemExit(main())
