"""Live CPU and memory gauges: a psutil sampler thread and two custom-painted history widgets.

`SystemMonitor` samples twice a second: the machine's CPU (total and per core, from psutil's counters
since the previous call, so it never sleeps), the machine's memory, and the memory of this app together
with every process it started (`Process().children(recursive=True)`: the batch's worker processes).

Sampling runs on its own small thread, not on the GUI thread, for a measured reason: listing children
reads /proc (or asks Windows) for every process on the machine, a hundred or more system calls, and
each one releases and re-acquires the GIL. While the batch's controller thread runs Python (planning,
the task's reduce), every re-acquisition can wait a few milliseconds: on the GUI thread one sample took
up to 330 ms during a 1,000-file batch, against 2 ms when idle. The GUI thread only picks up the newest
sample every 100 ms and repaints the gauges. Children are listed every fourth sample; the samples in
between measure the known children only. Each sample's cost is recorded (`mean_cost`, `max_cost`).

`CpuGauge` and `RamGauge` paint the current value and a one-minute history line (120 samples).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
from dataclasses import dataclass, field

import psutil
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QStatusBar, QWidget

from xlbatch.gui.formatting import format_size

INTERVAL_MS = 500
DELIVER_MS = 100  # how often the GUI thread looks for a new sample (each is shown within 100 ms)
HISTORY = 120  # samples: one minute at two a second
CHILDREN_EVERY = 4  # list child processes every 4th sample (2 s); measure known ones every sample


@dataclass
class Sample:
    time: float
    cpu: float  # whole machine, percent
    per_core: list[float]
    memory_percent: float  # machine memory in use, percent
    memory_used: int
    memory_total: int
    app_bytes: int  # this app and all its child processes (resident memory)
    app_processes: int  # this app's process plus its children
    cost: float = 0.0  # seconds this sample took on the GUI thread
    children: list[int] = field(default_factory=list)


class SystemMonitor(QObject):
    """Samples the machine and this app's process tree on a thread; emits `sampled(Sample)` on the
    GUI thread, at most every `interval_ms`."""

    sampled = Signal(object)

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self._process = psutil.Process(os.getpid())
        self._children: dict[int, psutil.Process] = {}
        self._samples = 0
        self.costs: collections.deque[float] = collections.deque(maxlen=HISTORY)
        self.last: Sample | None = None
        self._newest: Sample | None = None
        self._lock = threading.Lock()  # guards _newest
        self._sampling = threading.Lock()  # one sample at a time (psutil objects are not shared)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Picks up the newest sample on the GUI thread: a lock and a None check, no system call.
        self._timer = QTimer(self)
        self._timer.setInterval(DELIVER_MS)
        self._timer.timeout.connect(self._deliver)
        psutil.cpu_percent(percpu=True)  # the first call only sets the baseline

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="xlbatch-gauges", daemon=True)
        self._thread.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2)

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def max_cost(self) -> float:
        return max(list(self.costs), default=0.0)

    @property
    def mean_cost(self) -> float:
        costs = list(self.costs)  # appended to by the sampler thread
        return sum(costs) / len(costs) if costs else 0.0

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            sample = self.take_sample()
            with self._lock:
                self._newest = sample

    def _deliver(self) -> None:
        with self._lock:
            sample, self._newest = self._newest, None
        if sample is not None:
            self.last = sample
            self.sampled.emit(sample)

    def _app_memory(self) -> tuple[int, int, list[int]]:
        total = 0
        with contextlib.suppress(psutil.Error):
            total = self._process.memory_info().rss
        # Listing children means reading every process on the machine: do it every few samples
        # only; in between, measure the children already known (workers live for the whole batch).
        self._samples += 1
        if self._samples % CHILDREN_EVERY == 1 or CHILDREN_EVERY == 1:
            try:
                current = self._process.children(recursive=True)
            except psutil.Error:
                current = []
            # Keep psutil.Process objects between samples: psutil caches per-process data in them.
            self._children = {child.pid: self._children.get(child.pid, child) for child in current}
        known = self._children
        alive = []
        for pid, child in known.items():
            try:
                total += child.memory_info().rss
                alive.append(pid)
            except psutil.Error:
                continue  # ended since it was listed
        return total, 1 + len(alive), alive

    def sample(self) -> Sample:
        """Take a sample now and show it (GUI thread: at start-up, and in tests)."""
        result = self.take_sample()
        self.last = result
        self.sampled.emit(result)
        return result

    def take_sample(self) -> Sample:
        """Measure; touches no Qt object, so any thread may call it."""
        with self._sampling:
            return self._measure()

    def _measure(self) -> Sample:
        started = time.perf_counter()
        per_core = psutil.cpu_percent(percpu=True)
        memory = psutil.virtual_memory()
        app_bytes, processes, children = self._app_memory()
        cost = time.perf_counter() - started
        self.costs.append(cost)
        result = Sample(
            time=time.time(),
            cpu=sum(per_core) / len(per_core) if per_core else 0.0,
            per_core=list(per_core),
            memory_percent=memory.percent,
            memory_used=memory.total - memory.available,
            memory_total=memory.total,
            app_bytes=app_bytes,
            app_processes=processes,
            cost=cost,
            children=children,
        )
        return result


class _HistoryGauge(QWidget):
    """A compact gauge: a title and value on the left, a one-minute history line beside them."""

    TEXT_WIDTH = 104
    HISTORY_WIDTH = 150  # the history line's width, shortened down to SHORT_HISTORY in a narrow window
    SHORT_HISTORY = 70  # still room for the memory gauge's "app 123.4 MB"

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.history_width = self.HISTORY_WIDTH
        self.value_text = "–"
        self.detail_text = ""
        # Each series: (values 0..100, colour, filled)
        self.series: list[tuple[collections.deque[float], QColor, bool]] = []
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def add_series(self, colour: str, filled: bool) -> collections.deque[float]:
        values: collections.deque[float] = collections.deque(maxlen=HISTORY)
        self.series.append((values, QColor(colour), filled))
        return values

    def extra_width(self) -> int:
        return 0

    def sizeHint(self) -> QSize:
        return QSize(self.TEXT_WIDTH + self.history_width + self.extra_width(), 38)

    def set_history_width(self, width: int) -> None:
        width = max(self.SHORT_HISTORY, min(self.HISTORY_WIDTH, width))
        if width != self.history_width:
            self.history_width = width
            self.updateGeometry()
            self.update()

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 5, 5)

        # Text block: title (small, muted) over the value (bold), detail to the right of the title.
        font = QFont(self.font())
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        bold = QFont(font)
        bold.setBold(True)
        text_rect = QRectF(8, 2, self.TEXT_WIDTH - 10, rect.height() / 2)
        painter.setFont(small)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, self.title)
        painter.setFont(bold)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        value_rect = QRectF(8, rect.height() / 2, self.TEXT_WIDTH - 10, rect.height() / 2 - 2)
        painter.drawText(value_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.value_text)

        chart = QRectF(self.TEXT_WIDTH, 5, rect.width() - self.TEXT_WIDTH - self.extra_width() - 6, rect.height() - 10)
        self._paint_history(painter, chart, palette)
        if self.detail_text:
            painter.setFont(small)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            # From after the title to the chart's right edge: a shortened history line still has it whole.
            after_title = 16 + QFontMetricsF(small).horizontalAdvance(self.title)
            area = QRectF(after_title, chart.top(), chart.right() - 4 - after_title, chart.height())
            painter.drawText(area, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, self.detail_text)
        self._paint_extra(painter, QRectF(rect.right() - self.extra_width() - 4, 5, self.extra_width(), chart.height()))
        painter.end()

    def _paint_history(self, painter: QPainter, chart: QRectF, palette: QPalette) -> None:
        grid = QColor(palette.color(QPalette.ColorRole.Mid))
        grid.setAlpha(70)
        painter.setPen(QPen(grid, 1, Qt.PenStyle.DotLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawLine(QPointF(chart.left(), chart.center().y()), QPointF(chart.right(), chart.center().y()))
        step = chart.width() / (HISTORY - 1)
        for values, colour, filled in self.series:
            if len(values) < 2:
                continue
            # Newest sample at the right edge; older ones scroll off to the left.
            start = chart.right() - (len(values) - 1) * step
            path = QPainterPath()
            for i, v in enumerate(values):
                point = QPointF(start + i * step, chart.bottom() - chart.height() * max(0.0, min(100.0, v)) / 100)
                if i == 0:
                    path.moveTo(point)
                else:
                    path.lineTo(point)
            if filled:
                area = QPainterPath(path)
                area.lineTo(chart.right(), chart.bottom())
                area.lineTo(start, chart.bottom())
                area.closeSubpath()
                fill = QColor(colour)
                fill.setAlpha(50)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(fill)
                painter.drawPath(area)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(colour, 1.5))
            painter.drawPath(path)

    def _paint_extra(self, painter: QPainter, area: QRectF) -> None:
        pass


class GaugeFit(QObject):
    """Puts the gauges at the right of the status bar and keeps room for its message at their left.

    A status bar gives its message only what its permanent widgets leave; in a narrow window (1024 px at
    150% scaling) full-width gauges would leave "Added 6 fi". The gauges' history lines get shorter first.
    """

    MESSAGE_ROOM = 300  # logical pixels: "Added 120 files." or "Saved 3 error rows to …" and some air

    def __init__(self, bar: QStatusBar, gauges: list[_HistoryGauge]) -> None:
        super().__init__(bar)
        self.bar = bar
        self.gauges = gauges
        for gauge in gauges:
            bar.addPermanentWidget(gauge)
        bar.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.bar and event.type() == QEvent.Type.Resize:
            self.fit(self.bar.width())
        return False

    def fit(self, width: int) -> None:
        """Share what `width` leaves after the message's room among the gauges' history lines."""
        fixed = sum(g.TEXT_WIDTH + g.extra_width() for g in self.gauges) + 40  # margins and the size grip
        each = (width - self.MESSAGE_ROOM - fixed) // max(1, len(self.gauges))
        for gauge in self.gauges:
            gauge.set_history_width(each)


class CpuGauge(_HistoryGauge):
    """The machine's CPU use, with one small bar per core."""

    COLOUR = "#1f7a4d"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("CPU", parent)
        self.setObjectName("cpuGauge")
        self.setAccessibleName("CPU use")
        self.history = self.add_series(self.COLOUR, True)
        self.per_core: list[float] = [0.0] * (psutil.cpu_count() or 1)

    def extra_width(self) -> int:
        return min(64, max(14, 6 * len(self.per_core)))

    def update_sample(self, sample: Sample, monitor: SystemMonitor | None = None) -> None:
        self.history.append(sample.cpu)
        resized = len(sample.per_core) != len(self.per_core)
        self.per_core = sample.per_core
        self.value_text = f"{sample.cpu:.0f} %"
        cores = ", ".join(f"{v:.0f}%" for v in sample.per_core[:32])
        tip = f"Whole machine: {sample.cpu:.0f}% CPU\nPer core ({len(sample.per_core)}): {cores}"
        if monitor is not None:
            tip += (
                f"\nSampling (on its own thread): {monitor.mean_cost * 1000:.1f} ms on average, "
                f"{monitor.max_cost * 1000:.1f} ms at most"
            )
        self.setToolTip(tip)
        if resized:
            self.updateGeometry()
        self.update()

    def _paint_extra(self, painter: QPainter, area: QRectF) -> None:
        count = len(self.per_core)
        if not count:
            return
        gap = 1.0 if count > 8 else 2.0
        width = (area.width() - gap * (count - 1)) / count
        colour = QColor(self.COLOUR)
        track = QColor(self.palette().color(QPalette.ColorRole.Mid))
        track.setAlpha(60)
        painter.setPen(Qt.PenStyle.NoPen)
        for i, value in enumerate(self.per_core):
            x = area.left() + i * (width + gap)
            painter.setBrush(track)
            painter.drawRect(QRectF(x, area.top(), width, area.height()))
            height = area.height() * max(0.0, min(100.0, value)) / 100
            painter.setBrush(colour)
            painter.drawRect(QRectF(x, area.bottom() - height, width, height))


class RamGauge(_HistoryGauge):
    """The machine's memory in use (line), and this app with its worker processes (filled area)."""

    MACHINE = "#2b6cb0"
    APP = "#c05621"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Memory", parent)
        self.setObjectName("ramGauge")
        self.setAccessibleName("Memory use")
        self.app_history = self.add_series(self.APP, True)
        self.machine_history = self.add_series(self.MACHINE, False)

    def update_sample(self, sample: Sample, monitor: SystemMonitor | None = None) -> None:
        total = max(1, sample.memory_total)
        self.machine_history.append(sample.memory_percent)
        self.app_history.append(100.0 * sample.app_bytes / total)
        self.value_text = f"{sample.memory_percent:.0f} %"
        self.detail_text = f"app {format_size(sample.app_bytes)}"
        workers = sample.app_processes - 1
        self.setToolTip(
            f"Machine: {format_size(sample.memory_used)} of {format_size(sample.memory_total)} in use "
            f"({sample.memory_percent:.0f}%)\n"
            f"This app: {format_size(sample.app_bytes)}"
            + (f" including {workers} child process{'es' if workers != 1 else ''}" if workers else "")
            + "\nLine: machine; shaded: this app"
        )
        self.update()
