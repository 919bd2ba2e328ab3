"""Draw the benchmark chart (PNG) from results.json with Qt's QPainter, offscreen: no plotting library needed.

    python -m benchmarks.chart results.json results.png

One panel per task on the standard corpus: a horizontal bar per backend and worker count, its length the
speed-up over `sequential`, with a line at the core count (the most a CPU-bound task can gain) and the
seconds written on each bar. A last panel shows files per second on the tiny files and, when measured,
the pandas-loop baseline against `auto`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

WIDTH = 1100
ROW = 22
PANEL_GAP = 46
LEFT = 230
RIGHT = 120
COLOURS = {
    "sequential": "#7f7f7f",
    "threads": "#4e79a7",
    "asyncio": "#76b7b2",
    "processes": "#e15759",
    "multiprocessing": "#f28e2b",
    "joblib": "#59a14f",
    "auto": "#b07aa1",
    "pandas": "#9c755f",
}


def panels(results: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, float, str]], float]]:
    """(title, [(label, colour key, value, annotation)], reference line) for each panel."""
    cores = results["machine"]["cores"]
    out = []
    matrix = results.get("matrix", [])
    for task in results.get("tasks", {}):
        rows = [r for r in matrix if r["task"] == task and r["corpus"] == "standard"]
        if not rows:
            continue
        bars = []
        for r in rows:
            label = r["backend"] if r["workers"] is None else f"{r['backend']} x{r['workers']}"
            if r["backend"] == "auto":
                label = f"auto ({r['chosen']})"
            bars.append((label, r["backend"], r["speedup"], f"{r['seconds']:.1f} s"))
        title = f"{task}: speed-up over sequential, {rows[0]['files']} files (line: {cores} cores)"
        out.append((title, bars, float(cores)))
    tiny = [r for r in matrix if r["corpus"] == "tiny" and r["task"] == "summarize"]
    if tiny:
        bars = []
        for r in tiny:
            label = f"auto ({r['chosen']})" if r["backend"] == "auto" else f"{r['backend']} x{r['workers']}"
            bars.append((label, r["backend"], r["files"] / r["seconds"], f"{r['seconds']:.1f} s"))
        out.append((f"summarize on {tiny[0]['files']} tiny files: files per second", bars, 0.0))
    baseline = results.get("baseline")
    if baseline:
        bars = [
            ("pandas read_excel + describe", "pandas", 1.0, f"{baseline['pandas_loop_seconds']:.1f} s"),
            (
                f"xlbatch auto ({baseline['auto_choice']})",
                "auto",
                baseline["ratio"],
                f"{baseline['auto_seconds']:.1f} s",
            ),
        ]
        out.append((f"summarize {baseline['files']} files: speed-up over the pandas loop", bars, 0.0))
    return out


def draw(results: dict[str, Any], png: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPen

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    content = panels(results)
    height = 70 + sum(PANEL_GAP + ROW * len(bars) for _t, bars, _r in content) + 20
    image = QImage(WIDTH, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    title_font, label_font = QFont(), QFont()
    title_font.setPointSize(11)
    title_font.setBold(True)
    label_font.setPointSize(9)
    machine = results["machine"]
    painter.setFont(title_font)
    painter.drawText(
        QRectF(10, 8, WIDTH - 20, 24),
        Qt.AlignmentFlag.AlignLeft,
        f"xlbatch benchmarks, {machine['date']}, {machine['cores']} cores, medians of {results['repeat']} runs",
    )
    y = 50.0
    plot_width = WIDTH - LEFT - RIGHT
    for title, bars, reference in content:
        painter.setFont(title_font)
        painter.setPen(QColor("black"))
        painter.drawText(QRectF(10, y, WIDTH - 20, 22), Qt.AlignmentFlag.AlignLeft, title)
        y += 26
        top = max([v for _l, _k, v, _a in bars] + [reference, 1e-9]) * 1.08
        painter.setFont(label_font)
        for label, key, value, note in bars:
            painter.setPen(QColor("black"))
            painter.drawText(
                QRectF(10, y, LEFT - 16, ROW), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label
            )
            length = plot_width * max(value, 0.0) / top
            painter.fillRect(QRectF(LEFT, y + 3, length, ROW - 6), QColor(COLOURS.get(key, "#999999")))
            painter.drawText(
                QRectF(LEFT + length + 6, y, RIGHT + plot_width - length, ROW),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{value:.2f}  ({note})",
            )
            y += ROW
        if reference:
            x = LEFT + plot_width * reference / top
            pen = QPen(QColor("#333333"))
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(int(x), int(y - ROW * len(bars)), int(x), int(y))
        y += PANEL_GAP - 26
    painter.end()
    if not image.save(str(png)):
        raise OSError(f"could not write {png}")
    del app


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m benchmarks.chart results.json results.png", file=sys.stderr)
        return 2
    results = json.loads(Path(argv[0]).read_text())
    draw(results, Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
