"""Batch > Compare backends…: time the task on a few of the listed files with each way of running them,
draw files per second as a bar chart, and offer the fastest to the main window.

The measuring is `xlbatch.bench.compare_backends`, run on a `QThread` (each candidate is a whole batch,
seconds each, which would freeze the window); its progress comes back as a queued signal, and Cancel
sets an event the comparison checks between runs and while one runs (a run in progress is stopped and
not counted). Each run writes into a temporary folder that is deleted right after: the user's files and
output folder are never touched.

The chart is painted here (`BenchChart`): one horizontal bar per measured candidate, its length the
files per second, the fastest in the accent colour with its label in bold.
"""

from __future__ import annotations

import math
import threading
import traceback
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, QRectF, QSize, Qt, QThread, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from xlbatch.bench import (
    DEFAULT_SAMPLE,
    PARALLEL_BACKENDS,
    BenchResult,
    BenchRow,
    Candidate,
    candidates,
    compare_backends,
    recommend,
)
from xlbatch.executors import BACKEND_TITLES, available_backends, cpu_count
from xlbatch.params import InvalidParams

ACCENT = "#1f7a4d"
BAR = "#a9b8c6"
GRID = "#e5e7eb"
MUTED = "#6b7280"


def backend_title(backend: str, workers: int) -> str:
    """'Processes × 2', 'Sequential': the backend's short title and its worker count."""
    title = BACKEND_TITLES.get(backend, backend).split(" (")[0]
    return title if backend == "sequential" else f"{title} × {workers}"


def nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` grid lines up to `top`."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


class BenchChart(QWidget):
    """Files per second per candidate as horizontal bars; the fastest highlighted."""

    ROW_HEIGHT = 28
    BAR_HEIGHT = 16
    MARGIN = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("benchChart")
        self.rows: list[BenchRow] = []
        self.best: BenchRow | None = None
        self.sample = 0
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.setAccessibleName("Files per second for each way of running")

    def set_result(self, result: BenchResult | None) -> None:
        self.rows = list(result.rows) if result is not None else []
        self.best = result.best if result is not None else None
        self.sample = len(result.files) if result is not None else 0
        self.updateGeometry()
        self.update()

    # -- geometry --------------------------------------------------------------------------------
    def _axis_height(self) -> int:
        return self.fontMetrics().height() * 2 + 8

    def sizeHint(self) -> QSize:
        rows = max(len(self.rows), 3)
        return QSize(560, 2 * self.MARGIN + rows * self.ROW_HEIGHT + self._axis_height())

    def minimumSizeHint(self) -> QSize:
        return QSize(360, self.sizeHint().height())

    def _columns(self) -> tuple[float, float, float]:
        """(left of the bars, right of the bars, top of the first row)."""
        bold = QFont(self.font())
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        label_width = max((metrics.horizontalAdvance(self._label(r)) for r in self.rows), default=80)
        # The winner's value is drawn in bold: measure it so, or its end is cut off at the right edge.
        value_width = max(
            ((metrics if r is self.best else self.fontMetrics()).horizontalAdvance(self._value(r)) for r in self.rows),
            default=80,
        )
        left = self.MARGIN + label_width + 12
        right = self.width() - self.MARGIN - value_width - 10
        return left, max(left + 40, right), float(self.MARGIN)

    def _scale_top(self) -> float:
        top = max((r.files_per_second for r in self.rows if r.error is None), default=0.0)
        step = nice_step(top)
        return max(step, math.ceil(top / step) * step) if top > 0 else 1.0

    def bar_rects(self) -> list[QRectF]:
        """The drawn bar of each measured row (rows that could not run have none), in row order."""
        left, right, top = self._columns()
        scale = self._scale_top()
        rects = []
        for i, row in enumerate(self.rows):
            if row.error is not None:
                continue
            y = top + i * self.ROW_HEIGHT + (self.ROW_HEIGHT - self.BAR_HEIGHT) / 2
            width = max(2.0, (right - left) * row.files_per_second / scale)
            rects.append(QRectF(left, y, width, self.BAR_HEIGHT))
        return rects

    @staticmethod
    def _label(row: BenchRow) -> str:
        return backend_title(row.backend, row.workers)

    def _value(self, row: BenchRow) -> str:
        if row.error is not None:
            return "could not run"
        text = f"{row.files_per_second:.1f} files/s"
        if row.backend != "sequential" and row.speedup > 0:
            text += f" · {row.speedup:.2f}×"
        # Files that failed on every backend (a damaged one in the sample) are said once, below the
        # chart; a row says so only when it finished fewer files than the best one did.
        most = max((r.ok_files for r in self.rows if r.error is None), default=0)
        if row.ok_files < most:
            text += f" · only {row.ok_files} of {self.sample} done"
        return text + (" · fastest" if row is self.best else "")

    # -- painting --------------------------------------------------------------------------------
    def paintEvent(self, _event: Any) -> None:
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if not self.rows:
                painter.setPen(QColor(MUTED))
                painter.drawText(
                    self.rect(), Qt.AlignmentFlag.AlignCenter, "The files per second of each way of running show here."
                )
                return
            self._paint_chart(painter)
        finally:
            painter.end()

    def _paint_chart(self, painter: QPainter) -> None:
        left, right, top = self._columns()
        scale = self._scale_top()
        step = nice_step(scale)
        metrics = self.fontMetrics()
        bottom = top + len(self.rows) * self.ROW_HEIGHT
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        # Grid lines and their values under the chart.
        painter.setPen(QPen(QColor(GRID), 1))
        value = 0.0
        ticks = []
        while value <= scale + step / 1000:
            x = left + (right - left) * value / scale
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            ticks.append((x, value))
            value += step
        painter.setPen(QColor(MUTED))
        decimals = 0 if step >= 1 else max(0, -math.floor(math.log10(step)))
        for x, tick in ticks:
            text = f"{tick:.{decimals}f}"
            width = metrics.horizontalAdvance(text)
            painter.drawText(QPointF(x - width / 2, bottom + metrics.ascent() + 4), text)
        caption = f"files per second ({self.sample} files each run)" if self.sample else "files per second"
        painter.drawText(
            QRectF(left, bottom + metrics.height() + 4, right - left, metrics.height() + 4),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            caption,
        )
        bold = QFont(self.font())
        bold.setBold(True)
        bars = iter(self.bar_rects())
        for i, row in enumerate(self.rows):
            y = top + i * self.ROW_HEIGHT
            line = QRectF(self.MARGIN, y, left - self.MARGIN - 12, self.ROW_HEIGHT)
            winner = row is self.best
            painter.setFont(bold if winner else self.font())
            painter.setPen(text_colour)
            painter.drawText(line, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._label(row))
            painter.setFont(self.font())
            value_x = left
            if row.error is None:
                bar = next(bars)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(ACCENT if winner else BAR))
                painter.drawRoundedRect(bar, 3, 3)
                value_x = bar.right()
                painter.setPen(QColor(ACCENT) if winner else text_colour)
                if winner:
                    painter.setFont(bold)
            else:
                painter.setPen(QColor(MUTED))
                italic = QFont(self.font())
                italic.setItalic(True)
                painter.setFont(italic)
            painter.drawText(
                QRectF(value_x + 8, y, self.width() - value_x - 8, self.ROW_HEIGHT),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self._value(row),
            )
            painter.setFont(self.font())

    # -- tooltips --------------------------------------------------------------------------------
    def row_at(self, y: float) -> BenchRow | None:
        _left, _right, top = self._columns()
        index = int((y - top) // self.ROW_HEIGHT)
        return self.rows[index] if 0 <= index < len(self.rows) and y >= top else None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            row = self.row_at(event.position().y())
            if row is None:
                QToolTip.hideText()
            elif row.error is not None:
                QToolTip.showText(event.globalPos(), f"{self._label(row)} could not run: {row.error}", self)
            else:
                QToolTip.showText(
                    event.globalPos(),
                    f"{self._label(row)}: {row.seconds:.2f} s for {self.sample} files, "
                    f"{row.files_per_second:.1f} files/s, {row.speedup:.2f}× sequential, {row.ok_files} done",
                    self,
                )
            return True
        return super().event(event)


class CompareWorker(QObject):
    """Runs the comparison on whatever thread it lives on; only `work()` runs there."""

    progress = Signal(int, int, str)
    done = Signal(object)  # BenchResult, or None when it failed (see `failed`)
    failed = Signal(str)

    def __init__(self, kwargs: dict[str, Any], stop: threading.Event) -> None:
        super().__init__()
        self.kwargs = kwargs
        self.stop = stop

    @Slot()
    def work(self) -> None:
        result: BenchResult | None = None
        try:
            result = compare_backends(
                **self.kwargs,
                on_progress=lambda step, steps, text: self.progress.emit(step, steps, text),
                cancel=self.stop,
            )
        except InvalidParams as exc:
            self.failed.emit(str(exc))
        except Exception:  # noqa: BLE001 - shown in the dialog; the window must never hang on it
            self.failed.emit("The comparison stopped because of an internal error:\n" + traceback.format_exc())
        # Back to the GUI thread (only this thread may push it), so the dialog can free it there.
        app = QCoreApplication.instance()
        if app is not None:
            self.moveToThread(app.thread())
        self.done.emit(result)


class CompareDialog(QDialog):
    """Choose what to compare, run it off the GUI thread, see the chart, use the winner."""

    # (backend, workers) of the fastest candidate, when the user clicks "Use the winner".
    winnerChosen = Signal(str, int)
    # The comparison ended: its BenchResult, or None if it could not run.
    comparisonFinished = Signal(object)

    def __init__(
        self,
        task: str,
        params: dict[str, Any],
        paths: Sequence[str],
        parent: QWidget | None = None,
        *,
        task_title: str = "",
        cores: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("compareDialog")
        self.setWindowTitle("Compare backends")
        self.task = task
        self.params = dict(params)
        self.paths = list(paths)
        self.cores = cores or cpu_count()
        self.result: BenchResult | None = None
        self.error: str | None = None
        # Kept (not deleteLater'd) until the next comparison replaces them: they are Python-owned, and
        # dropping the last reference while Qt also deletes them would free them twice.
        self._thread: QThread | None = None
        self._worker: CompareWorker | None = None
        self._running = False
        self._stop = threading.Event()

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self._build_choices(layout, task_title or task)
        self._build_results(layout)
        layout.addLayout(self._build_buttons())
        # As tall as the content; the chart's rows make it grow when the results come in.
        self.resize(760, self.sizeHint().height())

    def _build_choices(self, layout: QVBoxLayout, task_title: str) -> None:
        """What the comparison says it does, how many files to time, which backends to try."""
        intro = QLabel(
            f"Runs <b>{task_title}</b> on a sample of your {len(self.paths):,} listed files once with "
            "each way of running them, and shows how many files per second each one managed. Your files are "
            "not changed: the results go to a temporary folder that is deleted after each run.",
            self,
        )
        intro.setWordWrap(True)
        self.sample_spin = QSpinBox(self)
        self.sample_spin.setObjectName("sampleSpin")
        self.sample_spin.setRange(1, max(1, len(self.paths)))
        self.sample_spin.setValue(min(DEFAULT_SAMPLE, max(1, len(self.paths))))
        self.sample_spin.setToolTip(
            "How many files each run processes, spread from the smallest to the largest. More files: "
            "a truer picture, a longer wait."
        )
        sample_row = QHBoxLayout()
        sample_row.addWidget(QLabel("Files to time", self))
        sample_row.addWidget(self.sample_spin)
        sample_row.addStretch(1)
        self.backend_checks: dict[str, QCheckBox] = {}
        backends_row = QHBoxLayout()
        backends_row.addWidget(QLabel("Try", self))
        sequential = QCheckBox("Sequential", self)
        sequential.setChecked(True)
        sequential.setEnabled(False)
        sequential.setToolTip("Always measured: every speed-up is against one file at a time.")
        backends_row.addWidget(sequential)
        offered = available_backends()
        for backend in PARALLEL_BACKENDS:
            if backend not in offered:
                continue
            box = QCheckBox(BACKEND_TITLES.get(backend, backend).split(" (")[0], self)
            box.setObjectName(f"try_{backend}")
            box.setChecked(True)
            box.setToolTip(BACKEND_TITLES.get(backend, backend))
            self.backend_checks[backend] = box
            backends_row.addWidget(box)
        backends_row.addStretch(1)
        layout.addWidget(intro)
        layout.addLayout(sample_row)
        layout.addLayout(backends_row)

    def _build_results(self, layout: QVBoxLayout) -> None:
        """The progress, the chart and the recommendation."""
        self.progress = QProgressBar(self)
        self.progress.setObjectName("compareProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        self.status = QLabel("", self)
        self.status.setObjectName("compareStatus")
        self.status.setWordWrap(True)
        self.chart = BenchChart(self)
        scroll = QScrollArea(self)
        scroll.setObjectName("chartScroll")
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.chart)
        scroll.setMinimumHeight(min(self.chart.sizeHint().height() + 4, 420))
        self.chart_scroll = scroll
        self.recommendation = QLabel("", self)
        self.recommendation.setObjectName("recommendationLabel")
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.recommendation)

    def _build_buttons(self) -> QHBoxLayout:
        self.run_button = QPushButton("Run comparison", self)
        self.run_button.setObjectName("runCompareButton")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.use_button = QPushButton("Use the winner", self)
        self.use_button.setObjectName("useWinnerButton")
        self.use_button.setEnabled(False)
        self.use_button.setToolTip("Set the main window's backend and workers to the fastest one")
        self.use_button.clicked.connect(self.use_winner)
        self.cancel_button = QPushButton("Close", self)
        self.cancel_button.setObjectName("cancelCompareButton")
        self.cancel_button.clicked.connect(self._cancel_or_close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.cancel_button)
        return buttons

    # -- running ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def chosen_candidates(self) -> list[Candidate]:
        """The candidates to measure: sequential and each ticked backend at its worker counts."""
        ticked = {name for name, box in self.backend_checks.items() if box.isChecked()}
        offered = available_backends()
        return [
            c
            for c in candidates(self.cores, offered, self.sample_spin.value())
            if c.backend == "sequential" or c.backend in ticked
        ]

    def start(self) -> bool:
        if self.running:
            return False
        self.result = None
        self.error = None
        self.chart.set_result(None)
        self.recommendation.setText("")
        self.use_button.setEnabled(False)
        self._stop = threading.Event()
        kwargs = {
            "task": self.task,
            "paths": self.paths,
            "params": self.params,
            "sample": self.sample_spin.value(),
            "cores": self.cores,
            "only": self.chosen_candidates(),
        }
        thread = QThread()
        thread.setObjectName("xlbatch-compare")
        worker = CompareWorker(kwargs, self._stop)
        worker.moveToThread(thread)
        thread.started.connect(worker.work)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.progress.connect(self._on_progress)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        self._thread, self._worker = thread, worker  # the previous ones (finished) are freed here
        self._running = True
        self.progress.setRange(0, 0)
        self.status.setText("Preparing: reading the sampled files once…")
        self._set_running(True)
        thread.start()
        return True

    def cancel(self) -> None:
        if self.running:
            self._stop.set()
            self.status.setText("Stopping after the run in progress is stopped…")
            self.cancel_button.setEnabled(False)

    def _cancel_or_close(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.reject()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.sample_spin.setEnabled(not running)
        for box in self.backend_checks.values():
            box.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")
        self.cancel_button.setEnabled(True)

    @Slot(int, int, str)
    def _on_progress(self, step: int, steps: int, text: str) -> None:
        self.progress.setRange(0, max(1, steps))
        self.progress.setValue(min(step, steps))
        if step < steps:
            self.status.setText(f"Run {step + 1} of {steps}: {text}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error = message

    @Slot(object)
    def _on_done(self, result: BenchResult | None) -> None:
        if self._thread is not None:
            self._thread.wait(10_000)  # quit already: its loop ends as soon as work() returned
        self._running = False
        self.result = result
        self._set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if result is not None and not result.cancelled else 0)
        if result is None:
            self.status.setText(self.error or "The comparison could not run.")
            self.comparisonFinished.emit(None)
            return
        self.chart.set_result(result)
        self.chart_scroll.setMinimumHeight(min(self.chart.sizeHint().height() + 4, 420))
        advice = None if result.cancelled else recommend(result)
        if result.cancelled:
            self.status.setText("Cancelled: the chart shows the runs measured before the stop.")
        else:
            self.status.setText(
                f"Done: {len(result.rows)} ways of running measured on {len(result.files)} of "
                f"{result.total_files:,} files, {result.cores} CPU cores."
            )
        lines = []
        if advice is not None:
            lines.append(
                f"<b>Recommended: {backend_title(advice.backend, advice.workers)}.</b> {_escape(advice.reason)}"
            )
        elif not result.cancelled:
            lines.append("<b>No way of running could process these files.</b>")
        picks = (
            f"Auto decides while running, with up to {result.auto_workers} workers,"
            if result.auto_backend == "auto"
            else f"Auto would pick {backend_title(result.auto_backend, result.auto_workers)}"
        )
        lines.append(
            f"<span style='color:{MUTED}'>{picks} for all {result.total_files:,} files: "
            f"{_escape(result.auto_reason)}.</span>"
        )
        self.recommendation.setText("<br>".join(lines))
        self.use_button.setEnabled(self.winner() is not None)
        # Grow to show every bar and the recommendation now, not at the next layout pass.
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))
        self.comparisonFinished.emit(result)

    # -- results ---------------------------------------------------------------------------------
    def winner(self) -> tuple[str, int] | None:
        if self.result is None or self.result.cancelled:
            return None
        best = self.result.best
        return (best.backend, best.workers) if best is not None else None

    def use_winner(self) -> None:
        winner = self.winner()
        if winner is not None:
            self.winnerChosen.emit(*winner)
            self.accept()

    def done(self, code: int) -> None:  # accept, reject, Esc, the title bar's close
        if self.running:
            self._stop.set()
            if self._thread is not None:
                self._thread.wait(60_000)  # runs stop at their next event; the pool shuts down
        super().done(code)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
