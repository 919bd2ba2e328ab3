"""The main window: pick files, a task and how to run it, start, watch, cancel, and see what failed.

Layout: the Files / Errors / Log tabs on the left with the overall progress and the end-of-batch
summary under them; the task, its settings and the run settings on the right with Start and Cancel;
live CPU and memory gauges in the status bar.

A batch's settings are what the window shows layered over the user's settings file, exactly as the
command line does it (`core.recipe.resolve_spec`): the file decides what the window leaves open (the
cache, the memory guard, the worker limit, the backend set for a task while the window says Auto, the
time limit while the window says No limit). The batch is planned and run by a `BatchRun` on its own
thread. Its events are collected there and applied to the models every 100 ms in one pass, which keeps
the window responsive with 10,000 files.

Recipes (File > Open recipe… / Save recipe…) hold a set-up to run again here or with
`xlbatch run --recipe FILE`. The window owns one warm process pool (`PoolCache`) for its lifetime:
every batch borrows it, and it is started in the background as soon as files are added for a task
that will use it, so a batch's first result does not wait for worker processes to start.
"""

from __future__ import annotations

import dataclasses
import html
import os
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.atomic import atomic_path
from core.cancel import FINISH, NOW
from core.discovery import DEFAULT_PATTERNS, discover
from core.events import BatchStarted, Event, FileFinished
from core.executors import BACKEND_TITLES, Choice, available_backends, choose, default_workers, shutdown_pools
from core.executors.pools import PoolCache
from core.params import InvalidParams
from core.recipe import Recipe, load_recipe, recipe_from_spec, resolve_spec, save_recipe
from core.report import Report
from core.resources import samples_dir
from core.runner import DEFAULT_OUT_DIR, REPORT_NAME, UNCHANGED, BatchSpec, Plan
from core.settings import Settings, SettingsError, default_path, load_settings
from core.tasks import TASKS, Task, load_plugins
from core.writing import CsvTableWriter, XlsxTableWriter
from gui import (
    desktop,
    dialogs,
    eventlog,
)
from gui.controller import BatchRun, Planned, Refused
from gui.delegates import TaskItemDelegate
from gui.files_view import FilesView
from gui.formatting import RateMeter, format_duration, format_size, plural, progress_text
from gui.gauges import CpuGauge, RamGauge, Sample, SystemMonitor
from gui.models import (
    COL_ADVICE,
    COL_FILE,
    COL_FOLDER,
    COL_KIND,
    COL_MESSAGE,
    COL_NAME,
    COL_SIZE,
    COL_STATUS,
    COL_TIME,
    COL_TYPE,
    RUNNING,
    ErrorsModel,
    FilesModel,
    PathRole,
)
from gui.param_form import ParamForm
from gui.settings import AppSettings

PUMP_MS = 100  # how often the runner's events are applied to the window
# Folders a folder walk does not enter: earlier outputs of this app, wherever they were put.
OUTPUT_EXCLUDES = (f"{DEFAULT_OUT_DIR}/*", f"*/{DEFAULT_OUT_DIR}/*")
LOG_LIMIT = 50_000  # lines kept in the Log tab
PRESTART_DELAY_MS = 400  # settle time after the files, task or run settings change before warming a pool
RECIPE_FILTER = "xlbatch recipe (*.yaml *.yml);;All files (*)"
VERIFY_TIP = (
    "Before a file counts as done, read each output back and compare every value with what was written; "
    "a file whose output differs is listed as failed and its output removed. Costs a few percent of the time."
)
FORCE_TIP = (
    "Process every file again. Without this, files unchanged since the last run into the same output "
    "folder, with the same task and settings, are not processed again: their earlier results are kept."
)
TAB_FILES, TAB_ERRORS, TAB_LOG = range(3)


def unchanged_count(report: dict[str, Any]) -> int:
    """Files of a report skipped because they did not change since the last run."""
    return sum(1 for f in report.get("files", ()) if f.get("status") == "skipped" and f.get("reason") == UNCHANGED)


class FitScrollArea(QScrollArea):
    """A scroll area as tall as its content when there is room, scrolling only when there is not."""

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        # The content's layout changed (another task's form): let the panel re-ask our size.
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().sizeHint()
        hint = widget.sizeHint()
        return QSize(hint.width(), hint.height() + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, min(self.sizeHint().height(), 6 * self.fontMetrics().lineSpacing()))


class MainWindow(QMainWindow):
    """xlbatch's main window. `add_paths()` loads files; `batchFinished` carries report.to_dict()."""

    batchStarted = Signal()
    # Carries report.to_dict(). Declared as object: a dict signal would convert it to a QVariantMap and back.
    batchFinished = Signal(object)
    # Emitted from the prestart thread when the warm pool is ready (queued to the GUI thread).
    poolWarmed = Signal()

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("xlbatch")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.save_settings_on_close = True
        self.files = FilesModel(self)
        self.errors = ErrorsModel(self)
        self.run: BatchRun | None = None
        self.last_spec: BatchSpec | None = None
        self.last_report: dict[str, Any] | None = None
        self.last_report_path: str | None = None
        self._roots: list[str] = []  # folders the user added files from, for the default output folder
        self._inputs: list[str] = []  # the files and folders the user added, as given (for recipes)
        self._include: list[str] = []  # file filters from an opened recipe (folder walks and batches)
        self._exclude: list[str] = []
        self._engine_settings: tuple[tuple[str, int, int], Settings] | None = None  # (file identity, settings)
        # One warm process pool for the window's lifetime; every batch borrows it (see the module docstring).
        self.pools = PoolCache()
        self._prestart: Future[None] | None = None
        self.prestart_enabled = True
        self._closed = False
        self.compare_dialog: Any = None
        self._prestart_timer = QTimer(self)
        self._prestart_timer.setSingleShot(True)
        self._prestart_timer.setInterval(PRESTART_DELAY_MS)
        self._prestart_timer.timeout.connect(self.prestart_pool)
        self.poolWarmed.connect(self._on_pool_warmed, Qt.ConnectionType.QueuedConnection)
        self._output_user_set = False
        self._workers_user_set = False
        self._updating = False
        self._task_name: str | None = None
        self._total = 0
        self._finished = 0
        self._rate = RateMeter()
        self._pending_log: list[str] = []
        self._batch_rows: list[int] | None = None  # rows a retry sends (None: all)
        self._refused: Refused | None = None
        self._planned = False
        self._output_problem_cache: str | None = None
        self._samples_available = self._has_samples()  # looked up once: a folder walk

        load_plugins()
        self._build_actions()
        self._build_ui()
        self._build_menus()
        self._restore_settings()

        self._pump_timer = QTimer(self)
        self._pump_timer.setInterval(PUMP_MS)
        self._pump_timer.timeout.connect(self._pump)
        self.monitor = SystemMonitor(parent=self)
        self.monitor.sampled.connect(self._on_sample)
        self.monitor.sample()
        self.monitor.start()
        self._refresh_files_summary()
        self._update_auto_workers()
        self._sync_state()

    # == building the window ======================================================================
    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence
        # Ctrl+O opens a recipe (a set-up is what File > Open means here); adding files has its own keys.
        self.act_add_files = self._action(
            "Add &files…", self.choose_files, key("Ctrl+Shift+A"), "Add workbooks to the batch"
        )
        self.act_add_folder = self._action(
            "Add f&older…", self.choose_folder, key("Ctrl+Shift+O"), "Add every workbook in a folder and its subfolders"
        )
        self.act_samples = self._action(
            "Load &sample files", self.load_samples, None, "Add the sample workbooks that come with xlbatch"
        )
        self.act_remove = QAction("&Remove", self)
        self.act_remove.setShortcut(key(key.StandardKey.Delete))
        self.act_remove.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.act_remove.setStatusTip("Remove the selected files from the list")
        self.act_remove.triggered.connect(lambda _c=False: self.remove_selected())
        self.act_clear = self._action("C&lear list", self.clear_files, None, "Remove every file from the list")
        self.act_start = self._action(
            "&Start", self.start_batch, [key("Ctrl+Return"), key("Ctrl+Enter")], "Run the task on every file"
        )
        self.act_cancel = self._action("&Cancel…", self.request_cancel, key("Esc"), "Stop the batch")
        self.act_retry = self._action(
            "&Retry failed", self.retry_failed, key("Ctrl+R"), "Run the failed files again, with the same settings"
        )
        self.act_open_output = self._action(
            "Open &output folder", self.open_output_folder, key("Ctrl+E"), "Open the output folder"
        )
        self.act_report = self._action("View &report", self.show_report, key("Ctrl+I"), "Show the batch's report")
        self.act_copy_errors = QAction("&Copy", self)
        self.act_copy_errors.setShortcut(key(key.StandardKey.Copy))
        self.act_copy_errors.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.act_copy_errors.triggered.connect(lambda _c=False: self.copy_errors())
        self.act_export_errors = self._action(
            "&Export errors…", self.choose_export_errors, None, "Save the error table as an Excel or CSV file"
        )
        self.act_save_log = self._action("Save &log…", self.choose_save_log, key("Ctrl+Shift+S"), "Save the log")
        self.act_open_recipe = self._action(
            "&Open recipe…",
            self.choose_open_recipe,
            key("Ctrl+O"),
            "Load a saved set-up: task, settings, output folder and input files",
        )
        self.act_save_recipe = self._action(
            "&Save recipe…",
            self.choose_save_recipe,
            key("Ctrl+S"),
            "Save this set-up to run again, here or with: xlbatch run --recipe FILE",
        )
        self.act_compare = self._action(
            "Compare &backends…",
            self.compare_backends,
            None,
            "Time the task on a few of the listed files with each way of running, and pick the fastest",
        )
        self.act_quit = self._action("E&xit", self.close, key(key.StandardKey.Quit))
        self.act_about = self._action("&About xlbatch", lambda: dialogs.show_about(self), key("F1"))

    def _build_ui(self) -> None:
        central = QWidget(self)
        central.setObjectName("central")
        root = QVBoxLayout(central)
        root.setContentsMargins(10, 10, 10, 6)
        root.setSpacing(8)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self._build_left())
        self.splitter.addWidget(self._build_side())
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        root.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        status = self.statusBar()
        status.setObjectName("statusBar")
        status.setSizeGripEnabled(True)
        self.cpu_gauge = CpuGauge(self)
        self.ram_gauge = RamGauge(self)
        status.addPermanentWidget(self.cpu_gauge)
        status.addPermanentWidget(self.ram_gauge)
        # Dropped files go to the list wherever they land; text fields must not swallow them.
        for edit in self.findChildren(QLineEdit):
            edit.setAcceptDrops(False)

    def _button(self, text: str, name: str, action: QAction | None = None, tip: str = "") -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        if action is not None:
            button.clicked.connect(action.trigger)
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            tip = tip or action.statusTip()
            if shortcut:
                tip = f"{tip} ({shortcut})" if tip else shortcut
        if tip:
            button.setToolTip(tip)
        return button

    def _build_left(self) -> QWidget:
        left = QWidget(self)
        layout = QVBoxLayout(left)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.tabs = QTabWidget(left)
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self._build_files_tab(), "Files")
        self.tabs.addTab(self._build_errors_tab(), "Errors")
        self.tabs.addTab(self._build_log_tab(), "Log")
        layout.addWidget(self.tabs, 1)

        # Overall progress.
        progress = QFrame(left)
        progress.setObjectName("progressPanel")
        p_layout = QVBoxLayout(progress)
        p_layout.setContentsMargins(10, 8, 10, 8)
        p_layout.setSpacing(4)
        row = QHBoxLayout()
        self.progress_label = QLabel("Not started", progress)
        self.progress_label.setObjectName("progressLabel")
        self.counts_label = QLabel("", progress)
        self.counts_label.setObjectName("countsLabel")
        row.addWidget(self.progress_label, 1)
        row.addWidget(self.counts_label)
        p_layout.addLayout(row)
        self.overall = QProgressBar(progress)
        self.overall.setObjectName("overallProgress")
        self.overall.setRange(0, 1)
        self.overall.setValue(0)
        self.overall.setTextVisible(False)
        self.overall.setFixedHeight(10)
        self.overall.setAccessibleName("Overall progress")
        p_layout.addWidget(self.overall)
        layout.addWidget(progress)

        # What happened, once a batch ends.
        self.summary = QFrame(left)
        self.summary.setObjectName("summaryPanel")
        s_layout = QHBoxLayout(self.summary)
        s_layout.setContentsMargins(10, 6, 8, 6)
        s_layout.setSpacing(8)
        self.summary_icon = QLabel(self.summary)
        self.summary_icon.setFixedSize(22, 22)
        self.summary_label = QLabel("", self.summary)
        self.summary_label.setObjectName("summaryLabel")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_output_button = self._button("Open output folder", "openOutputButton", self.act_open_output)
        self.retry_button = self._button("Retry failed", "retryFailedButton", self.act_retry)
        self.report_button = self._button("View report", "reportButton", self.act_report)
        s_layout.addWidget(self.summary_icon)
        s_layout.addWidget(self.summary_label, 1)
        s_layout.addWidget(self.open_output_button)
        s_layout.addWidget(self.retry_button)
        s_layout.addWidget(self.report_button)
        self.summary.hide()
        layout.addWidget(self.summary)
        return left

    def _build_files_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.add_files_button = self._button("Add files…", "addFilesButton", self.act_add_files)
        self.add_files_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self.add_folder_button = self._button("Add folder…", "addFolderButton", self.act_add_folder)
        self.add_folder_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        self.remove_button = self._button("Remove", "removeButton", self.act_remove, "Remove the selected files (Del)")
        self.clear_button = self._button("Clear", "clearButton", self.act_clear)
        self.samples_button = self._button("Load sample files", "samplesButton", self.act_samples)
        for widget in (self.add_files_button, self.add_folder_button, self.remove_button, self.clear_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.samples_button)
        layout.addLayout(bar)

        self.files_view = FilesView(tab)
        view = self.files_view
        view.setObjectName("filesView")
        view.setModel(self.files)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.verticalHeader().hide()
        # Fixed row heights and no resize-to-contents: both would visit all 10,000 rows.
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_FOLDER, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        metrics = view.fontMetrics()
        em = metrics.horizontalAdvance("M")
        view.setColumnWidth(COL_NAME, 18 * em)
        view.setColumnWidth(COL_SIZE, metrics.horizontalAdvance("1023.9 KB") + 24)
        view.setColumnWidth(COL_TYPE, metrics.horizontalAdvance("Excel 97-2003 workbook") + 16)
        view.setColumnWidth(COL_STATUS, metrics.horizontalAdvance("Will be skipped") + 40)
        view.setColumnWidth(COL_TIME, metrics.horizontalAdvance("10 min 00 s") + 20)
        header.setMinimumSectionSize(4 * em)
        view.addAction(self.act_remove)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._files_menu)
        view.doubleClicked.connect(self._reveal_file_row)
        view.selectionModel().selectionChanged.connect(lambda *_: self._sync_state())
        view.setToolTip("")
        layout.addWidget(view, 1)

        self.files_summary = QLabel("", tab)
        self.files_summary.setObjectName("filesSummary")
        layout.addWidget(self.files_summary)
        return tab

    def _build_errors_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        bar = QHBoxLayout()
        hint = QLabel("Double-click a row to show the file in its folder.", tab)
        hint.setObjectName("hintLabel")
        self.copy_errors_button = self._button(
            "Copy", "copyErrorsButton", self.act_copy_errors, "Copy the rows (Ctrl+C)"
        )
        self.export_errors_button = self._button("Export…", "exportErrorsButton", self.act_export_errors)
        bar.addWidget(hint, 1)
        bar.addWidget(self.copy_errors_button)
        bar.addWidget(self.export_errors_button)
        layout.addLayout(bar)
        view = QTableView(tab)
        self.errors_view = view
        view.setObjectName("errorsView")
        view.setModel(self.errors)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setShowGrid(False)
        # Two wrapped lines per row show most messages whole; fixed heights keep 10,000 rows cheap.
        view.setWordWrap(True)
        view.verticalHeader().hide()
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().lineSpacing() * 2 + 12)
        header = view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_MESSAGE, QHeaderView.ResizeMode.Stretch)
        metrics = view.fontMetrics()
        em = metrics.horizontalAdvance("M")
        view.setColumnWidth(COL_FILE, 15 * em)
        view.setColumnWidth(COL_KIND, metrics.horizontalAdvance("Password-protected") + 20)
        view.setColumnWidth(COL_ADVICE, 28 * em)
        view.addAction(self.act_copy_errors)
        view.doubleClicked.connect(self._reveal_error_row)
        view.selectionModel().currentRowChanged.connect(self._show_error_detail)
        layout.addWidget(view, 1)
        # The selected error in full: the table cells cut long messages.
        self.error_detail = QLabel("Select a row to read its whole message.", tab)
        self.error_detail.setObjectName("errorDetail")
        self.error_detail.setWordWrap(True)
        self.error_detail.setTextFormat(Qt.TextFormat.RichText)
        self.error_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_detail.setMinimumHeight(metrics.lineSpacing() * 3 + 16)
        self.error_detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error_detail)
        return tab

    def _show_error_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or current.row() >= self.errors.rowCount():
            self.error_detail.setText("Select a row to read its whole message.")
            return
        row = self.errors.row(current.row())
        self.error_detail.setText(
            f"<b>{html.escape(row.name)}</b> &nbsp;<span style='color:#6b7280'>"
            f"{html.escape(os.path.dirname(row.path))}</span><br>"
            f"{html.escape(row.message)}<br><b>What to do:</b> {html.escape(row.advice)}"
        )

    def _build_log_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        self.log_view = QPlainTextEdit(tab)
        self.log_view.setObjectName("logView")
        self.log_view.setReadOnly(True)
        self.log_view.setAcceptDrops(False)
        self.log_view.setMaximumBlockCount(LOG_LIMIT)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.log_view, 1)
        bar = QHBoxLayout()
        bar.addStretch(1)
        self.save_log_button = self._button("Save log…", "saveLogButton", self.act_save_log)
        clear = self._button("Clear log", "clearLogButton", tip="Empty the log")
        clear.clicked.connect(self.log_view.clear)
        bar.addWidget(clear)
        bar.addWidget(self.save_log_button)
        layout.addLayout(bar)
        return tab

    def _build_side(self) -> QWidget:
        side = QWidget(self)
        side.setObjectName("sidePanel")
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        # -- task ------------------------------------------------------------------------------
        self.task_box = QGroupBox("Task", side)
        t_layout = QVBoxLayout(self.task_box)
        t_layout.setSpacing(6)
        self.task_combo = QComboBox(self.task_box)
        self.task_combo.setObjectName("taskCombo")
        self.task_combo.setAccessibleName("Task")
        self.task_combo.setItemDelegate(TaskItemDelegate(self.task_combo))
        self.task_combo.view().setMinimumWidth(460)  # room for the descriptions
        for name, task in TASKS.items():
            self.task_combo.addItem(task.title or name, name)
            self.task_combo.setItemData(self.task_combo.count() - 1, task.description, Qt.ItemDataRole.ToolTipRole)
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        t_layout.addWidget(self.task_combo)
        self.task_description = QLabel("", self.task_box)
        self.task_description.setObjectName("taskDescription")
        self.task_description.setWordWrap(True)
        t_layout.addWidget(self.task_description)
        line = QFrame(self.task_box)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")
        t_layout.addWidget(line)
        self.param_form = ParamForm()
        self.param_form.changed.connect(self._sync_state)
        self.param_form.validityChanged.connect(lambda _v: self._sync_state())
        scroll = FitScrollArea(self.task_box)
        self.param_scroll = scroll
        scroll.setObjectName("paramScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder = QWidget()
        holder.setObjectName("paramHolder")
        h_layout = QVBoxLayout(holder)
        h_layout.setContentsMargins(0, 0, 4, 0)
        h_layout.addWidget(self.param_form)
        h_layout.addStretch(1)
        scroll.setWidget(holder)
        t_layout.addWidget(scroll, 1)
        # Boxes as tall as their content; spare height goes between them and Start, not into a box.
        layout.addWidget(self.task_box)

        # -- run settings ----------------------------------------------------------------------
        self.run_box = QGroupBox("Run settings", side)
        form = QFormLayout(self.run_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        self.workers_spin = QSpinBox(self.run_box)
        self.workers_spin.setObjectName("workersSpin")
        self.workers_spin.setRange(1, 256)
        self.workers_spin.setAccessibleName("Workers")
        self.workers_spin.setToolTip(
            "How many files run at the same time. The automatic number suits the task and this computer."
        )
        self.workers_spin.valueChanged.connect(self._on_workers_changed)
        self.workers_auto = QToolButton(self.run_box)
        self.workers_auto.setObjectName("workersAutoButton")
        self.workers_auto.setText("Auto")
        self.workers_auto.setToolTip("Go back to the automatic number of workers")
        self.workers_auto.clicked.connect(self._reset_workers)
        self.workers_note = QLabel("automatic", self.run_box)
        self.workers_note.setObjectName("hintLabel")
        workers_row = QHBoxLayout()
        workers_row.addWidget(self.workers_spin)
        workers_row.addWidget(self.workers_auto)
        workers_row.addWidget(self.workers_note, 1)
        form.addRow("Workers", workers_row)

        self.backend_combo = QComboBox(self.run_box)
        self.backend_combo.setObjectName("backendCombo")
        self.backend_combo.setAccessibleName("Backend")
        self.backend_combo.setToolTip(
            "How the files are run in parallel.\nAuto: the backend your settings file names for this task, "
            "if any; otherwise what suits the task and the files."
        )
        for name in available_backends():
            self.backend_combo.addItem(BACKEND_TITLES.get(name, name), name)
        self.backend_combo.currentIndexChanged.connect(lambda _i: self._run_settings_changed())
        form.addRow("Backend", self.backend_combo)
        self.auto_hint = QLabel("", self.run_box)
        self.auto_hint.setObjectName("hintLabel")
        form.addRow(self.auto_hint)

        self.output_edit = QLineEdit(self.run_box)
        self.output_edit.setObjectName("outputEdit")
        self.output_edit.setAccessibleName("Output folder")
        self.output_edit.setPlaceholderText(f"…/{DEFAULT_OUT_DIR}")
        self.output_edit.setToolTip("Where the results go. Your input files are never changed.")
        self.output_edit.textEdited.connect(self._on_output_edited)
        self.output_edit.textChanged.connect(lambda _t: self._sync_state())
        browse = QPushButton("Browse…", self.run_box)
        browse.setObjectName("browseOutputButton")
        browse.setToolTip("Choose the output folder")
        browse.clicked.connect(self.choose_output)
        self.browse_button = browse
        out_row = QHBoxLayout()
        out_row.addWidget(self.output_edit, 1)
        out_row.addWidget(browse)
        form.addRow("Output folder", out_row)

        self.timeout_spin = QSpinBox(self.run_box)
        self.timeout_spin.setObjectName("timeoutSpin")
        self.timeout_spin.setRange(0, 24 * 3600)
        self.timeout_spin.setSingleStep(10)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setSpecialValueText("No limit")
        self.timeout_spin.setAccessibleName("Time limit per file")
        self.timeout_spin.setToolTip(
            "A file that runs longer than this is stopped and listed as failed. "
            "0 = the limit in your settings file, if it sets one; otherwise no limit."
        )
        form.addRow("Time limit per file", self.timeout_spin)

        self.force_check = QCheckBox("Re-run everything", self.run_box)
        self.force_check.setObjectName("forceCheck")
        self.force_check.setToolTip(FORCE_TIP)
        form.addRow(self.force_check)

        self.verify_check = QCheckBox("Check outputs", self.run_box)
        self.verify_check.setObjectName("verifyCheck")
        self.verify_check.setChecked(True)
        self.verify_check.setToolTip(VERIFY_TIP)
        form.addRow(self.verify_check)

        # File filters come from an opened recipe; shown (with a way to drop them) only when set.
        self.filter_label = QLabel("", self.run_box)
        self.filter_label.setObjectName("filterLabel")
        self.filter_label.setWordWrap(True)
        self.filter_clear = QToolButton(self.run_box)
        self.filter_clear.setObjectName("filterClearButton")
        self.filter_clear.setText("Clear")
        self.filter_clear.setToolTip("Stop filtering the files by name")
        self.filter_clear.clicked.connect(lambda: self.set_filters([], []))
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.filter_label, 1)
        filter_row.addWidget(self.filter_clear)
        self.filter_row_label = QLabel("File filter", self.run_box)
        form.addRow(self.filter_row_label, filter_row)
        self._run_form = form
        self._filter_row = filter_row
        layout.addWidget(self.run_box)
        layout.addStretch(1)

        # -- start / cancel --------------------------------------------------------------------
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.start_button = self._button("Start", "startButton", self.act_start)
        self.start_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.start_button.setDefault(False)
        self.start_button.setMinimumHeight(34)
        self.cancel_button = self._button("Cancel", "cancelButton", self.act_cancel)
        self.cancel_button.setMinimumHeight(34)
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        layout.addLayout(buttons)
        self.start_hint = QLabel("", side)
        self.start_hint.setObjectName("hintLabel")
        self.start_hint.setWordWrap(True)
        layout.addWidget(self.start_hint)
        side.setMinimumWidth(330)
        side.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        return side

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_open_recipe)
        file_menu.addAction(self.act_save_recipe)
        file_menu.addSeparator()
        for action in (self.act_add_files, self.act_add_folder, self.act_samples):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.act_remove)
        file_menu.addAction(self.act_clear)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export_errors)
        file_menu.addAction(self.act_save_log)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        batch_menu = bar.addMenu("&Batch")
        for action in (self.act_start, self.act_cancel):
            batch_menu.addAction(action)
        batch_menu.addSeparator()
        for action in (self.act_retry, self.act_open_output, self.act_report):
            batch_menu.addAction(action)
        batch_menu.addSeparator()
        batch_menu.addAction(self.act_compare)
        view_menu = bar.addMenu("&View")
        for i, title in enumerate(("&Files", "&Errors", "&Log")):
            action = QAction(title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _c=False, i=i: self.tabs.setCurrentIndex(i))
            self.addAction(action)
            view_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_about)

    # == settings =================================================================================
    def _restore_settings(self) -> None:
        s = self.settings
        self._updating = True
        try:
            index = self.task_combo.findData(s.task) if s.task else -1
            self.task_combo.setCurrentIndex(index if index >= 0 else 0)
            backend = self.backend_combo.findData(s.backend)
            self.backend_combo.setCurrentIndex(backend if backend >= 0 else 0)
            self.timeout_spin.setValue(s.timeout)
            verify = s.verify
            self.verify_check.setChecked(verify if verify is not None else self._settings_verify())
            if s.workers > 0:
                self._workers_user_set = True
                self.workers_spin.setValue(s.workers)
        finally:
            self._updating = False
        self._on_task_changed(self.task_combo.currentIndex())
        self.set_filters([], [])
        geometry = s.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self._default_geometry()
        state = s.window_state()
        if state is not None:
            self.restoreState(state)
        splitter = s.splitter()
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([self.width() - 400, 400])

    def _default_geometry(self) -> None:
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)
        width = min(1280, int(available.width() * 0.92))
        height = min(800, int(available.height() * 0.92))
        self.resize(width, height)
        self.move(available.center() - QPoint(width // 2, height // 2))

    def save_settings(self) -> None:
        s = self.settings
        task = self.current_task_name()
        if task:
            s.task = task
            s.set_params(task, self.param_form.values())
        s.backend = self.current_backend()
        s.workers = self.workers_spin.value() if self._workers_user_set else 0
        s.timeout = self.timeout_spin.value()
        s.verify = self.verify_check.isChecked()
        s.save_window(self.saveGeometry(), self.saveState(), self.splitter.saveState())
        s.sync()

    # == files ====================================================================================
    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Add files and folders (searched recursively for workbooks); return how many files were added."""
        if self.is_running():
            self.statusBar().showMessage("Files cannot be added while a batch is running.", 5000)
            return 0
        given = [Path(p).expanduser() for p in paths]
        if not given:
            return 0
        folders = [p for p in given if p.is_dir()]
        files = [p for p in given if not p.is_dir()]
        output = self.output_edit.text().strip() or None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            found = []
            if folders:
                found += discover(
                    folders, include=self._include, exclude=[*OUTPUT_EXCLUDES, *self._exclude], out_dir=output
                ).files
            if files:
                found += discover(files).files
            entries = []
            missing = []
            for item in found:
                if item.missing:
                    missing.append(str(item.path))
                    continue
                try:
                    size = item.path.stat().st_size
                except OSError:
                    size = 0
                entries.append((str(item.path), size, item.skip_reason))
            added = self.files.add_files(entries)
        finally:
            QApplication.restoreOverrideCursor()
        for path in given:
            root = str((path if path.is_dir() else path.parent).resolve())
            if path.exists() and root not in self._roots:
                self._roots.append(root)
            if path.exists() and str(path.resolve()) not in self._inputs:
                self._inputs.append(str(path.resolve()))
        skipped = sum(1 for e in entries if e[2])
        message = f"Added {plural(added, 'file')}"
        if skipped:
            message += f" ({skipped:,} will be skipped: Excel lock files or hidden files)"
        if len(entries) > added:
            message += f"; {len(entries) - added:,} already in the list"
        if missing:
            message += f"; {plural(len(missing), 'path')} not found"
        if not entries and folders and not missing:
            patterns = ", ".join(p.lstrip("*") for p in DEFAULT_PATTERNS)
            message = f"No workbooks found in {', '.join(str(f) for f in folders)} (looked for {patterns})"
        self.statusBar().showMessage(message + ".", 8000)
        self._log(message + ".")
        self._files_changed()
        return added

    def choose_files(self) -> None:
        patterns = " ".join(DEFAULT_PATTERNS)
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Add files",
            self.settings.folder("files"),
            f"Workbooks ({patterns});;All files (*)",
        )
        if names:
            self.settings.set_folder("files", str(Path(names[0]).parent))
            self.add_paths(names)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add folder", self.settings.folder("folder"))
        if folder:
            self.settings.set_folder("folder", folder)
            self.add_paths([folder])

    def load_samples(self) -> None:
        folder = samples_dir()
        if not self._has_samples():
            dialogs.show_error(self, "No sample files", f"No sample workbooks were found in {folder}.")
            return
        self.add_paths([folder])

    @staticmethod
    def _has_samples() -> bool:
        folder = samples_dir()
        try:
            return folder.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in folder.rglob("*"))
        except OSError:
            return False

    def remove_selected(self) -> None:
        if self.is_running():
            return
        rows = [index.row() for index in self.files_view.selectionModel().selectedRows()]
        if rows:
            removed = self.files.remove_rows(rows)
            self.statusBar().showMessage(f"Removed {plural(removed, 'file')}.", 4000)
            self._prune_roots()
            self._files_changed()

    def clear_files(self) -> None:
        if self.is_running():
            return
        self.files.clear()
        self._roots.clear()
        self._inputs.clear()
        self.summary.hide()
        self._reset_progress()
        self._files_changed()

    def _prune_roots(self) -> None:
        paths = self.files.paths()
        self._roots = [r for r in self._roots if any(p.startswith(r.rstrip(os.sep) + os.sep) for p in paths)]

    def _files_changed(self) -> None:
        self._refresh_files_summary()
        self._update_default_output()
        self._update_auto_workers()
        self._sync_state()
        self._schedule_prestart()

    def _refresh_files_summary(self) -> None:
        count = self.files.rowCount()
        text = f"{plural(count, 'file')}, {format_size(self.files.total_size)}" if count else "No files yet"
        self.files_summary.setText(text)
        self.tabs.setTabText(TAB_FILES, f"Files ({count:,})" if count else "Files")

    def _files_menu(self, pos: QPoint) -> None:
        index = self.files_view.indexAt(pos)
        menu = QMenu(self)
        if index.isValid():
            path = self.files.data(index, PathRole)
            menu.addAction("Show in folder", lambda: desktop.reveal_file(path))
            menu.addAction("Open", lambda: desktop.open_path(path))
            menu.addSeparator()
        menu.addAction(self.act_remove)
        menu.addAction(self.act_clear)
        menu.exec(self.files_view.viewport().mapToGlobal(pos))

    def _reveal_file_row(self, index: QModelIndex) -> None:
        desktop.reveal_file(self.files.data(index, PathRole))

    # == drag and drop ============================================================================
    @staticmethod
    def _dropped_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
        data = event.mimeData()
        if not data.hasUrls():
            return []
        return [url.toLocalFile() for url in data.urls() if url.isLocalFile() and url.toLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self.is_running() and self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if not self.is_running() and self._dropped_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_paths(event)
        if paths and not self.is_running():
            event.acceptProposedAction()
            self.tabs.setCurrentIndex(TAB_FILES)
            self.add_paths(paths)
        else:
            event.ignore()

    # == task and run settings ====================================================================
    def current_task_name(self) -> str | None:
        data = self.task_combo.currentData()
        return data if isinstance(data, str) else None

    def current_task(self) -> type[Task] | None:
        name = self.current_task_name()
        return TASKS.get(name) if name else None

    def current_backend(self) -> str:
        data = self.backend_combo.currentData()
        return data if isinstance(data, str) else "auto"

    def _on_task_changed(self, _index: int) -> None:
        if self._updating:
            return
        if self._task_name and self._task_name in TASKS:
            self.settings.set_params(self._task_name, self.param_form.values())
        task = self.current_task()
        self._task_name = task.name if task else None
        self.task_description.setText(task.description if task else "")
        self.task_combo.setToolTip(task.description if task else "")
        self.param_form.set_task(task, self.settings.params(task.name) if task else None)
        for edit in self.param_form.findChildren(QLineEdit):
            edit.setAcceptDrops(False)
        self.param_scroll.updateGeometry()
        self._update_auto_workers()
        self._sync_state()
        self._schedule_prestart()

    def _runnable_sizes(self) -> list[int]:
        return [self.files.row(r).size for r in range(self.files.rowCount()) if not self.files.row(r).skip_reason]

    def engine_settings(self) -> Settings:
        """The user's settings file (re-read when it changed); raises SettingsError if it is not valid."""
        path = default_path()
        try:
            stat = path.stat()
            identity: tuple[str, int, int] = (str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            identity = (str(path), -1, -1)
        cached = self._engine_settings
        if cached is not None and cached[0] == identity:
            return cached[1]
        settings = load_settings()
        self._engine_settings = (identity, settings)
        return settings

    def _settings_for_display(self) -> Settings:
        """The settings for hints; a bad file counts as none here (Start says what is wrong with it)."""
        try:
            return self.engine_settings()
        except SettingsError:
            return Settings()

    def effective_backend(self) -> tuple[str, str]:
        """The backend a batch would ask for, and why: the combo, or with Auto the settings file's choice
        for this task (which may itself be auto)."""
        backend = self.current_backend()
        task = self.current_task_name()
        if backend != "auto" or not task:
            return backend, "chosen by you"
        settings = self._settings_for_display()
        chosen, origin = settings.backend_for(task)
        if origin == "default":
            return chosen, ""
        if task in settings.get("parallelization.backends"):
            return chosen, "set for this task in your settings file"
        return chosen, "the default backend in your settings file"

    def auto_choice(self) -> Choice | None:
        """What the engine will pick with the current files, task and settings (None: no task)."""
        task = self.current_task()
        if task is None:
            return None
        sizes = self._runnable_sizes()
        settings = self._settings_for_display()
        backend, why = self.effective_backend()
        workers = self.workers_spin.value() if self._workers_user_set else None
        if backend == "auto":
            if not sizes:
                choice = Choice("auto", default_workers(task.kind), "")
            else:
                # As the engine decides it: a warm pool makes processes worth it for smaller batches.
                warm = self.pools.warm("processes", workers or default_workers(task.kind, len(sizes)))
                choice = choose(
                    task.kind,
                    sizes,
                    workers,
                    warm_pool=warm,
                    available=available_backends(),
                    cost=task.work_cost(self.param_form.values()),
                )
        elif backend == "sequential":
            return Choice("sequential", 1, "one file at a time" + (f"; {why}" if why != "chosen by you" else ""))
        else:
            choice = Choice(backend, workers or default_workers(task.kind, len(sizes) or None), why)
        limit = settings.max_workers(task.kind)
        if workers is None and limit and choice.workers > limit and choice.backend != "sequential":
            choice = Choice(choice.backend, limit, f"{choice.reason} (limited to {limit} by your settings file)")
        return choice

    def _update_auto_workers(self) -> None:
        self._update_settings_hints()
        choice = self.auto_choice()
        if choice is None:
            return
        backend = self.current_backend()
        self._updating = True
        try:
            if not self._workers_user_set or backend == "sequential":
                self.workers_spin.setValue(choice.workers)
        finally:
            self._updating = False
        self.workers_spin.setEnabled(backend != "sequential" and not self.is_running())
        self.workers_auto.setEnabled(self._workers_user_set and backend != "sequential" and not self.is_running())
        self.workers_note.setText(
            "one at a time" if backend == "sequential" else ("your choice" if self._workers_user_set else "automatic")
        )
        # One short line (a long wrapped reason would crowd the panel); the reason is its tooltip.
        if backend == "auto":
            if choice.backend == "auto" and self.effective_backend()[0] == "auto":
                self.auto_hint.setText("Auto picks how to run once files are added.")
                self.auto_hint.setToolTip("")
            else:
                title = BACKEND_TITLES.get(choice.backend, choice.backend).split(" (")[0]
                self.auto_hint.setText(f"Auto will use: {title}, {plural(choice.workers, 'worker')}")
                self.auto_hint.setToolTip(f"Why: {choice.reason}.")
        else:
            self.auto_hint.setText("")
            self.auto_hint.setToolTip("")
        self.auto_hint.setVisible(bool(self.auto_hint.text()))

    def _settings_verify(self) -> bool:
        """The settings file's `verify` (on when there is no file or it cannot be read)."""
        return bool(self._settings_for_display().get("verify"))

    def _update_settings_hints(self) -> None:
        """What the settings file decides shows where it applies: the time limit that 0 means, and
        whether unchanged files are skipped at all."""
        settings = self._settings_for_display()
        limit = settings.get("parallelization.timeout_seconds")
        self.timeout_spin.setSpecialValueText("No limit" if limit is None else f"Settings: {limit:g} s")
        cache = bool(settings.get("cache.enabled"))
        self.force_check.setEnabled(cache)  # the whole box is disabled while a batch runs
        self.force_check.setToolTip(
            FORCE_TIP if cache else "Every file is processed every time: your settings file turns the cache off."
        )

    def _on_workers_changed(self, _value: int) -> None:
        if self._updating:
            return
        self._workers_user_set = True
        self._run_settings_changed()

    def _reset_workers(self) -> None:
        self._workers_user_set = False
        self._run_settings_changed()

    def _run_settings_changed(self) -> None:
        self._update_auto_workers()
        self._schedule_prestart()

    def set_filters(self, include: Iterable[str], exclude: Iterable[str]) -> None:
        """File name filters (from a recipe): which files a folder walk and the batch take."""
        self._include, self._exclude = list(include), list(exclude)
        parts = []
        if self._include:
            parts.append("only " + ", ".join(self._include))
        if self._exclude:
            parts.append("not " + ", ".join(self._exclude))
        self.filter_label.setText("; ".join(parts))
        self.filter_label.setToolTip(
            "Files in added folders must match these name patterns; the batch leaves out files matching "
            "the 'not' patterns."
        )
        self._run_form.setRowVisible(self.filter_row_label, bool(parts))

    @property
    def filters(self) -> tuple[list[str], list[str]]:
        return list(self._include), list(self._exclude)

    def _default_output(self) -> str:
        roots = self._roots or sorted({str(Path(p).parent) for p in self.files.paths()[:1000]})
        if not roots:
            return ""
        try:
            common = os.path.commonpath(roots)
        except ValueError:  # different drives
            common = roots[0]
        return os.path.join(common, DEFAULT_OUT_DIR)

    def _update_default_output(self) -> None:
        if not self._output_user_set:
            self.output_edit.setText(self._default_output())

    def _on_output_edited(self, text: str) -> None:
        self._output_user_set = bool(text.strip())

    def choose_output(self) -> None:
        start = self.output_edit.text() or self.settings.folder("output")
        folder = QFileDialog.getExistingDirectory(self, "Output folder", start)
        if folder:
            self.settings.set_folder("output", folder)
            self.set_output_folder(folder)

    def set_output_folder(self, folder: str) -> None:
        self._output_user_set = bool(folder)
        self.output_edit.setText(folder)

    def output_problem(self) -> str | None:
        """Why the output folder cannot be used, or None. Checked here because the engine only sees
        the files (not the folders the user picked), so its own "output is an input folder" rule
        cannot catch a folder the files came from."""
        text = self.output_edit.text().strip()
        if not text:
            return "Choose an output folder to start."
        folder = Path(text).expanduser()
        try:
            resolved = str(folder.resolve())
        except OSError:
            return None
        if resolved in self._roots:
            return "The output folder is one of the input folders; choose a separate output folder."
        if folder.exists() and not folder.is_dir():
            return "The output folder is a file; choose a folder."
        return None

    def build_spec(self, paths: list[str] | None = None) -> BatchSpec:
        """The batch Start would run: the window's values over the settings file, as the CLI does it.

        Auto in the backend combo passes no backend, so a backend the settings file sets for the task
        applies; a time limit of 0 passes none, so the settings file's limit applies. Raises SettingsError
        if the settings file is not valid, InvalidParams if there is no task.
        """
        backend = self.current_backend()
        timeout = float(self.timeout_spin.value())
        return resolve_spec(
            self.engine_settings(),
            None,
            task=self.current_task_name() or "",
            paths=self.files.paths() if paths is None else paths,
            out=self.output_edit.text().strip(),
            params=self.param_form.values(),
            backend=None if backend == "auto" else backend,
            workers=self.workers_spin.value() if self._workers_user_set and backend != "sequential" else None,
            timeout=timeout if timeout > 0 else None,
            include=self._include,
            exclude=self._exclude,
            force=self.force_check.isChecked(),
            verify=self.verify_check.isChecked(),
        )

    def _spec_or_explain(self, title: str) -> BatchSpec | None:
        """build_spec(), or None after telling the user why it cannot be built."""
        try:
            return self.build_spec()
        except SettingsError as exc:
            dialogs.show_error(
                self, title, f"Your settings file has a problem: {exc} Correct it, or delete it to use the defaults."
            )
        except InvalidParams as exc:
            dialogs.show_error(self, title, str(exc))
        return None

    # == recipes ==================================================================================
    def choose_open_recipe(self) -> None:
        if self.is_running():
            return
        name, _ = QFileDialog.getOpenFileName(self, "Open recipe", self.settings.folder("recipe"), RECIPE_FILTER)
        if name:
            self.settings.set_folder("recipe", str(Path(name).parent))
            self.open_recipe(name)

    def open_recipe(self, path: str | os.PathLike[str]) -> bool:
        """Load a recipe: task, its settings, file filters, run settings, output folder; add its inputs."""
        if self.is_running():
            return False
        title = "The recipe cannot be opened"
        try:
            recipe = load_recipe(path)
        except SettingsError as exc:  # RecipeError, or a file that is not YAML at all
            dialogs.show_error(self, title, str(exc))
            return False
        name = Path(path).name
        task = TASKS.get(recipe.task)
        if task is None:
            dialogs.show_error(
                self,
                title,
                f"Recipe {name} runs the task '{recipe.task}', which this version of xlbatch does not have.",
            )
            return False
        known = {p.name for p in task.params}
        unknown = [key for key in recipe.params if key not in known]
        if unknown:
            dialogs.show_error(
                self,
                title,
                f"Recipe {name} sets '{unknown[0]}', which the task '{task.title or task.name}' does not have.",
            )
            return False
        if recipe.backend is not None and self.backend_combo.findData(recipe.backend) < 0:
            dialogs.show_error(
                self, title, f"Recipe {name} runs on '{recipe.backend}', which this version of xlbatch does not offer."
            )
            return False
        index = self.task_combo.findData(task.name)
        if index != self.task_combo.currentIndex():
            self.task_combo.setCurrentIndex(index)  # saves the old task's values, builds the new form
        # The recipe's values over the task's defaults, not over what was last typed for this task.
        self.param_form.set_task(task, {**{p.name: p.default for p in task.params}, **recipe.params})
        for edit in self.param_form.findChildren(QLineEdit):
            edit.setAcceptDrops(False)
        self.param_scroll.updateGeometry()  # the rebuilt form may be taller: let the panel re-ask its size
        self.backend_combo.setCurrentIndex(self.backend_combo.findData(recipe.backend or "auto"))
        if recipe.workers is not None:
            self._updating = True
            try:
                self.workers_spin.setValue(recipe.workers)
            finally:
                self._updating = False
            self._workers_user_set = True
        else:
            self._workers_user_set = False
        self.timeout_spin.setValue(int(-(-recipe.timeout // 1)) if recipe.timeout else 0)  # whole seconds, up
        if recipe.verify is not None:
            self.verify_check.setChecked(recipe.verify)
        self.set_filters(recipe.include, recipe.exclude)
        if recipe.output:
            self.set_output_folder(recipe.output)
        added = self.add_paths(recipe.inputs) if recipe.inputs else 0
        self._run_settings_changed()
        self._sync_state()
        message = f"Opened recipe {name}: {task.title or task.name}"
        message += f", {plural(added, 'file')} added." if recipe.inputs else "; add files to run it."
        self.statusBar().showMessage(message, 8000)
        self._log(message)
        return True

    def choose_save_recipe(self) -> None:
        task = self.current_task_name() or "recipe"
        start = self.settings.folder("recipe") or (self._roots[0] if self._roots else str(Path.home()))
        name, _ = QFileDialog.getSaveFileName(self, "Save recipe", str(Path(start) / f"{task}.yaml"), RECIPE_FILTER)
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".yaml", ".yml"):
            path = path.with_name(path.name + ".yaml")
        self.settings.set_folder("recipe", str(path.parent))
        self.save_recipe(path)

    def current_recipe(self) -> Recipe | None:
        """The recipe of the batch Start would run (None, after saying why, if there is none)."""
        if not self.param_form.valid:
            dialogs.show_error(self, "The recipe cannot be saved", "Correct the task setting shown in red first.")
            return None
        spec = self._spec_or_explain("The recipe cannot be saved")
        if spec is None:
            return None
        recipe = recipe_from_spec(spec)
        # What the window says, not what the settings file filled in: Auto and No limit stay open in the
        # recipe, so the settings file decides them wherever it runs, as it does here.
        recipe.backend = None if self.current_backend() == "auto" else self.current_backend()
        recipe.timeout = float(self.timeout_spin.value()) or None
        recipe.output = recipe.output if self.output_edit.text().strip() else None
        recipe.inputs = self.recipe_inputs()
        return recipe

    def recipe_inputs(self) -> list[str]:
        """The files and folders the user added, if they still give exactly the listed files (as the
        engine will find them); otherwise (some were removed from the list) the listed files."""
        files = self.files.paths()
        given = [p for p in self._inputs if Path(p).exists()]
        if given and any(Path(p).is_dir() for p in given):
            output = self.output_edit.text().strip() or None
            found = discover(given, self._include, self._exclude, output).files
            if {str(f.path) for f in found} == set(files):
                return given
        elif given and set(given) == set(files):
            return given
        return files

    def save_recipe(self, path: str | os.PathLike[str]) -> Path | None:
        recipe = self.current_recipe()
        if recipe is None:
            return None
        try:
            saved = save_recipe(recipe, path)
        except OSError as exc:
            dialogs.show_error(self, "Saving failed", f"The recipe could not be saved to {path}: {exc}")
            return None
        self.statusBar().showMessage(f"Saved the recipe to {saved}. Run it with: xlbatch run --recipe {saved}", 8000)
        self._log(f"Saved the recipe to {saved}.")
        return saved

    # == comparing backends =======================================================================
    def compare_backends(self) -> Any:
        """Open Batch > Compare backends… on the listed files (returns the dialog, already shown)."""
        from gui.compare import CompareDialog

        task = self.current_task()
        rows = (self.files.row(r) for r in range(self.files.rowCount()))
        paths = [row.path for row in rows if not row.skip_reason]
        if self.is_running() or task is None:
            return None
        if not paths:
            dialogs.show_error(self, "Nothing to compare", "Add some workbooks first: the comparison runs on them.")
            return None
        if not self.param_form.valid:
            dialogs.show_error(self, "Nothing to compare", "Correct the task setting shown in red first.")
            return None
        dialog = CompareDialog(task.name, self.param_form.values(), paths, self, task_title=task.title or task.name)
        dialog.winnerChosen.connect(self.use_backend)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: setattr(self, "compare_dialog", None))
        self.compare_dialog = dialog
        dialog.open()
        return dialog

    def use_backend(self, backend: str, workers: int) -> None:
        """Run the next batches on `backend` with `workers` (what Compare backends' winner sets)."""
        index = self.backend_combo.findData(backend)
        if index < 0:
            return
        self.backend_combo.setCurrentIndex(index)
        if backend != "sequential":
            self._updating = True
            try:
                self.workers_spin.setValue(workers)
            finally:
                self._updating = False
            self._workers_user_set = True
        self._run_settings_changed()
        self.statusBar().showMessage(
            f"Backend set to {BACKEND_TITLES.get(backend, backend)}"
            + (f" with {plural(workers, 'worker')}." if backend != "sequential" else "."),
            8000,
        )

    # == warm pool ================================================================================
    def _schedule_prestart(self) -> None:
        if self.prestart_enabled and not self.is_running():
            self._prestart_timer.start()

    def prestart_target(self) -> int | None:
        """How many worker processes the next batch would take from a warm pool; None if it would not
        use one (an I/O-bound task, another backend, no files, a batch too small even for a warm pool)."""
        task = self.current_task()
        sizes = self._runnable_sizes()
        if task is None or task.kind != "cpu" or not sizes or "processes" not in available_backends():
            return None
        try:
            settings = self.engine_settings()
        except SettingsError:
            return None
        backend, _why = self.effective_backend()
        workers = self.workers_spin.value() if self._workers_user_set else None
        if backend == "processes":
            count = workers or default_workers(task.kind, len(sizes))
        elif backend == "auto":
            choice = choose(
                task.kind,
                sizes,
                workers,
                warm_pool=True,
                available=available_backends(),
                cost=task.work_cost(self.param_form.values()),
            )
            if choice.backend != "processes":
                return None
            count = choice.workers
        else:
            return None
        limit = settings.max_workers(task.kind)
        if workers is None and limit and count > limit:
            count = limit
        return count

    def prestart_pool(self) -> Future[None] | None:
        """Start the next batch's process pool in the background (never blocking the window)."""
        if not self.prestart_enabled or self.is_running() or self._closed:
            return None
        count = self.prestart_target()
        if count is None or self.pools.warm("processes", count):
            return None
        pending = self._prestart
        if pending is not None and not pending.done():
            self._prestart_timer.start()  # one start at a time: look again when this one is done
            return pending
        future = self.pools.prestart("processes", count)
        self._prestart = future
        future.add_done_callback(self._prestart_done)
        self._log(f"Starting {plural(count, 'worker process', 'worker processes')} in the background.")
        return future

    def _prestart_done(self, _future: Future[None]) -> None:
        # On the prestart thread: touch no widget. A window closed meanwhile ends the pool now.
        if self._closed:
            self.pools.shutdown()
            return
        try:
            self.poolWarmed.emit()
        except RuntimeError:  # the window's C++ side is gone
            self.pools.shutdown()

    @Slot()
    def _on_pool_warmed(self) -> None:
        if not self._closed and not self.is_running():
            self._update_auto_workers()

    def release_pools(self, wait_seconds: float = 0.0) -> None:
        """End the warm pool and joblib's idle workers (on close). With `wait_seconds`, first let a pool
        still starting finish, so that no worker process outlives the app."""
        self._closed = True
        self._prestart_timer.stop()
        pending = self._prestart
        if pending is not None and not pending.done() and wait_seconds > 0:
            from concurrent.futures import wait

            wait([pending], timeout=wait_seconds)
        self.pools.shutdown()
        shutdown_pools()

    # == running ==================================================================================
    def is_running(self) -> bool:
        return self.run is not None and self.run.running

    def start_batch(self, spec: BatchSpec | None = None, rows: list[int] | None = None) -> bool:
        """Start a batch (by default every listed file with the current settings); False if it cannot.

        The controller thread plans it first; a refusal (say, the output folder is an input folder)
        comes back through the event queue and is shown then, before any file runs.
        """
        if self.is_running() or (spec is None and not self.act_start.isEnabled()):
            return False
        if spec is None:
            spec = self._spec_or_explain("The batch cannot start")
            if spec is None:
                return False
        self._prestart_timer.stop()
        self._batch_rows = rows
        self.last_spec = spec
        self.last_report = None
        self.last_report_path = None
        self._total = len(spec.paths)
        self._finished = 0
        self._rate = RateMeter()
        self._refused = None
        self._planned = False
        self.overall.setRange(0, 0)  # busy until the plan is known
        self.summary.hide()
        self.progress_label.setText("Preparing…")
        self.counts_label.setText("")
        self.run = BatchRun(spec, self, pools=self.pools, prestart=self._prestart)
        self.run.finished.connect(self._on_batch_finished)
        self._pump_timer.start()
        self.run.start()
        task = TASKS.get(spec.task)
        title = (task.title or task.name) if task else spec.task
        self.statusBar().showMessage(f"Running '{title}' on {plural(len(spec.paths), 'file')}…")
        self._sync_state()
        self.batchStarted.emit()
        return True

    def _on_planned(self, plan: Plan) -> None:
        """The batch's files are known: tie them to rows and reset what the last batch showed."""
        left_out = self.files.begin_batch([str(f.path) for f in plan.discovery.files], self._batch_rows)
        for row in left_out:
            self._log(f"Left out: {self.files.row(row).name} is inside the output folder.", "warning")
        self.errors.clear()
        self._refresh_errors_tab()
        self._total = len(plan.discovery.files)
        self._planned = True
        self.overall.setRange(0, max(1, self._total))
        self.overall.setValue(0)
        self.progress_label.setText(progress_text(0, self._total, 0.0))

    def _on_refused(self, refused: Refused) -> None:
        self._refused = refused
        if refused.param and refused.param in self.param_form.editors:
            self.param_form.show_error(refused.param, refused.message)
        self._log(f"Not started: {refused.message}", "warning")

    def retry_failed(self) -> bool:
        """Run again only the files that failed in the last batch, with that batch's settings."""
        if self.is_running() or self.last_spec is None or self.last_report is None:
            return False
        failed = [f["path"] for f in self.last_report["files"] if f["status"] == "failed"]
        if not failed:
            return False
        rows = [r for r in (self.files.row_of(p) for p in failed) if r >= 0]
        spec = dataclasses.replace(self.last_spec, paths=failed)
        self._log(f"Retrying {plural(len(failed), 'failed file')}.")
        return self.start_batch(spec, rows)

    def request_cancel(self) -> None:
        """Cancel (Esc): ask whether to finish the running files or stop now."""
        if not self.is_running() or self.run is None:
            return
        mode = self.run.cancel_mode
        if mode == NOW:
            return
        running = len(self.files.rows_with_status(RUNNING))
        answer = dialogs.ask_cancel_mode(self, running, escalate_only=mode == FINISH)
        if answer is not None:
            self.cancel_batch(answer)

    def cancel_batch(self, mode: str = FINISH) -> None:
        if not self.is_running() or self.run is None:
            return
        self.run.stop(mode)
        if mode == FINISH:
            self._log("Cancel requested: the running files finish, no new file starts.")
            self.progress_label.setText("Cancelling: finishing the running files…")
            self.cancel_button.setText("Stop now")
        else:
            self._log("Stop requested: stopping the running files now.")
            self.progress_label.setText("Stopping…")
        self._sync_state()

    def _pump(self) -> None:
        run = self.run
        if run is None:
            return
        events = run.take_events()
        if events:
            self._apply_events(events)
        self.files.refresh_running()
        if self._planned and not run.token.requested:
            self.progress_label.setText(progress_text(self._finished, self._total, self._rate.rate()))
        self._flush_log()

    def _apply_events(self, items: list[Any]) -> None:
        """Apply queued items in order: the plan's verdict first, then the runner's events in one pass."""
        events: list[Event] = []
        for item in items:
            if isinstance(item, Planned | Refused):
                if events:  # never the case today (the verdict comes first), but keep the order
                    self._apply_runner_events(events)
                    events = []
                if isinstance(item, Planned):
                    self._on_planned(item.plan)
                else:
                    self._on_refused(item)
            else:
                events.append(item)
        if events:
            self._apply_runner_events(events)

    def _apply_runner_events(self, events: list[Event]) -> None:
        self.files.apply(events)
        new_errors = []
        finished = 0
        for event in events:
            if isinstance(event, FileFinished):
                finished += 1
                if event.outcome.status == "failed" and event.outcome.error is not None:
                    new_errors.append((event.path, event.outcome.error))
            elif isinstance(event, BatchStarted):
                self._total = event.total
                self.overall.setRange(0, max(1, event.total))
            text = eventlog.describe(event)
            if text is not None:
                self._pending_log.append(text)
        if finished:
            self._finished += finished
            self._rate.add(finished)
            self.overall.setValue(self._finished)
            self.setWindowTitle(f"xlbatch – {self._finished:,} of {self._total:,}")
        if new_errors:
            self.errors.add_errors(new_errors)
            self._refresh_errors_tab()
        counts = self.files.status_counts() if finished else None
        if counts is not None:
            self.counts_label.setText(self._counts_text(counts))

    @staticmethod
    def _counts_text(counts: dict[str, int]) -> str:
        parts = [f"{counts['done']:,} done"]
        if counts["failed"]:
            parts.append(f"{counts['failed']:,} failed")
        if counts["skipped"]:
            parts.append(f"{counts['skipped']:,} skipped")
        if counts["unchanged"]:
            parts.append(f"{counts['unchanged']:,} unchanged")
        if counts["cancelled"]:
            parts.append(f"{counts['cancelled']:,} cancelled")
        return " · ".join(parts)

    def _on_batch_finished(self, report: Report | None) -> None:
        run = self.run
        if run is not None:
            events = run.take_events()
            if events:
                self._apply_events(events)
            run.join(10_000)
        self._pump_timer.stop()
        self.files.finish_batch()
        self.cancel_button.setText("Cancel")
        self.setWindowTitle("xlbatch")
        if report is None and self._refused is not None:
            # Nothing ran: the rows keep what they showed; say why, where it can be fixed.
            self.overall.setRange(0, 1)
            self.overall.setValue(0)
            self.progress_label.setText("Not started")
            self.statusBar().showMessage("The batch could not start.", 8000)
            self._flush_log()
            self._sync_state()
            dialogs.show_error(self, "The batch cannot start", self._refused.message)
            return
        if report is None:
            error = run.error if run is not None else "unknown error"
            self._log(f"The batch stopped because of an internal error:\n{error}", "warning")
            self.progress_label.setText("Stopped by an internal error")
            self._show_summary(None)
            self._flush_log()
            self._sync_state()
            return
        data = report.to_dict()
        self.last_report = data
        report_path = Path(report.out_dir) / REPORT_NAME
        self.last_report_path = str(report_path) if report_path.exists() else None
        self.overall.setValue(self.overall.maximum())
        self.progress_label.setText(
            f"{'Cancelled' if report.cancelled else 'Finished'}: {plural(len(report.files), 'file')} "
            f"in {format_duration(report.seconds)}"
        )
        self.counts_label.setText(self._counts_text(self.files.status_counts()))
        self._show_summary(data)
        self._flush_log()
        self._sync_state()
        self.statusBar().showMessage("The batch has finished.", 8000)
        QApplication.alert(self)
        self.batchFinished.emit(data)

    def _show_summary(self, data: dict[str, Any] | None) -> None:
        style = self.style()
        if data is None:
            icon = QStyle.StandardPixmap.SP_MessageBoxCritical
            self.summary_label.setText("<b>The batch stopped because of an internal error.</b> Details are in the Log.")
            self.summary.setProperty("state", "error")
        else:
            counts = data["counts"]
            # The engine counts files skipped as unchanged among the skipped; here they are told apart.
            unchanged = unchanged_count(data)
            parts = [f"{counts['ok']:,} done", f"{counts['failed']:,} failed"]
            if counts["skipped"] - unchanged:
                parts.append(f"{counts['skipped'] - unchanged:,} skipped")
            if unchanged:
                parts.append(f"{unchanged:,} unchanged")
            if counts["cancelled"]:
                parts.append(f"{counts['cancelled']:,} cancelled")
            head = "Cancelled" if data["cancelled"] else "Finished"
            self.summary_label.setText(
                f"<b>{head} in {format_duration(float(data['seconds']))}</b> &nbsp;·&nbsp; {', '.join(parts)}"
            )
            bad = counts["failed"] or data["cancelled"]
            icon = QStyle.StandardPixmap.SP_MessageBoxWarning if bad else QStyle.StandardPixmap.SP_DialogApplyButton
            self.summary.setProperty("state", "warning" if bad else "ok")
            self.retry_button.setText(f"Retry {counts['failed']:,} failed" if counts["failed"] else "Retry failed")
            self.summary_label.setToolTip(
                f"{unchanged:,} {'file was' if unchanged == 1 else 'files were'} not processed again: "
                "unchanged since the last run; the earlier results are kept. Tick Re-run everything to "
                "process every file."
                if unchanged
                else ""
            )
        self.summary_icon.setPixmap(style.standardIcon(icon).pixmap(QSize(20, 20)))
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        self.summary.show()

    def _reset_progress(self) -> None:
        self.overall.setRange(0, 1)
        self.overall.setValue(0)
        self.progress_label.setText("Not started")
        self.counts_label.setText("")

    # == results ==================================================================================
    def output_folder(self) -> str:
        if self.last_report is not None and self.last_report.get("out_dir"):
            return str(self.last_report["out_dir"])
        return self.output_edit.text().strip()

    def open_output_folder(self) -> None:
        folder = self.output_folder()
        if folder and Path(folder).is_dir():
            desktop.open_path(folder)
        else:
            self.statusBar().showMessage("The output folder does not exist yet.", 5000)

    def show_report(self) -> None:
        if self.last_report is None:
            return
        dialog = dialogs.ReportDialog(self.last_report, self.last_report_path, self)
        dialog.exec()

    def _refresh_errors_tab(self) -> None:
        count = self.errors.rowCount()
        if not count:
            self.error_detail.setText("Select a row to read its whole message.")
        self.tabs.setTabText(TAB_ERRORS, f"Errors ({count:,})" if count else "Errors")
        self._sync_state()

    def _reveal_error_row(self, index: QModelIndex) -> None:
        desktop.reveal_file(self.errors.data(index, PathRole))

    def copy_errors(self) -> int:
        """Copy the selected error rows (all rows if none is selected) as tab-separated text."""
        selection = self.errors_view.selectionModel()
        rows = [i.row() for i in selection.selectedRows()] if selection is not None else []
        header, body = self.errors.table(rows or None)
        text = "\n".join(
            "\t".join(str(v).replace("\t", " ").replace("\n", " ") for v in row) for row in [header, *body]
        )
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied {plural(len(body), 'error row')}.", 4000)
        return len(body)

    def choose_export_errors(self) -> None:
        start = self.settings.folder("export") or self.output_folder() or str(Path.home())
        name, chosen = QFileDialog.getSaveFileName(
            self,
            "Export errors",
            str(Path(start) / "errors.xlsx"),
            "Excel workbook (*.xlsx);;CSV file (*.csv)",
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_suffix(".csv" if "csv" in chosen.lower() else ".xlsx")
        self.settings.set_folder("export", str(path.parent))
        try:
            self.export_errors(path)
        except OSError as exc:
            dialogs.show_error(self, "Export failed", f"The errors could not be saved to {path}: {exc}")

    def export_errors(self, path: str | os.PathLike[str]) -> Path:
        """Write the error table to .xlsx or .csv (by the suffix), atomically."""
        target = Path(path)
        header, body = self.errors.table()
        with atomic_path(target) as tmp:
            if target.suffix.lower() == ".csv":
                with CsvTableWriter(tmp) as writer:
                    writer.write_row(header)
                    for row in body:
                        writer.write_row(row)
            else:
                with XlsxTableWriter(tmp) as writer:
                    writer.add_sheet("Errors", header)
                    for row in body:
                        writer.write_row(row)
        self.statusBar().showMessage(f"Saved {plural(len(body), 'error row')} to {target}.", 6000)
        return target

    def choose_save_log(self) -> None:
        start = self.settings.folder("log") or self.output_folder() or str(Path.home())
        name, _ = QFileDialog.getSaveFileName(
            self, "Save log", str(Path(start) / "xlbatch-log.txt"), "Text file (*.txt);;All files (*)"
        )
        if name:
            self.settings.set_folder("log", str(Path(name).parent))
            try:
                self.save_log(name)
            except OSError as exc:
                dialogs.show_error(self, "Saving failed", f"The log could not be saved to {name}: {exc}")

    def save_log(self, path: str | os.PathLike[str]) -> Path:
        self._flush_log()
        target = Path(path)
        with atomic_path(target) as tmp:
            tmp.write_text(self.log_view.toPlainText() + "\n", encoding="utf-8")
        return target

    # == log ======================================================================================
    def _log(self, text: str, level: str = "info") -> None:
        self._pending_log.append(eventlog.line(text, level=level))
        if not self._pump_timer.isActive():
            self._flush_log()

    def _flush_log(self) -> None:
        if self._pending_log:
            # One append for the lot: one layout pass however many lines arrived.
            self.log_view.appendPlainText("\n".join(self._pending_log))
            self._pending_log.clear()

    # == gauges ===================================================================================
    def _on_sample(self, sample: Sample) -> None:
        self.cpu_gauge.update_sample(sample, self.monitor)
        self.ram_gauge.update_sample(sample, self.monitor)

    # == state ====================================================================================
    def _sync_state(self) -> None:
        running = self.is_running()
        has_files = self.files.rowCount() > 0
        valid = self.param_form.valid
        has_task = self.current_task() is not None
        # No file-system calls while a batch runs: each one can wait on the controller thread's GIL.
        output_problem = self._output_problem_cache if running else self.output_problem()
        self._output_problem_cache = output_problem
        output = output_problem is None
        if bool(self.output_edit.property("invalid")) != (not output and bool(self.output_edit.text().strip())):
            self.output_edit.setProperty("invalid", not output and bool(self.output_edit.text().strip()))
            self.output_edit.style().unpolish(self.output_edit)
            self.output_edit.style().polish(self.output_edit)
        can_start = not running and has_files and valid and has_task and output
        self.act_start.setEnabled(can_start)
        self.start_button.setEnabled(can_start)
        self.act_cancel.setEnabled(running and (self.run is None or self.run.cancel_mode != NOW))
        self.cancel_button.setEnabled(self.act_cancel.isEnabled())
        for action, button in (
            (self.act_add_files, self.add_files_button),
            (self.act_add_folder, self.add_folder_button),
            (self.act_clear, self.clear_button),
        ):
            action.setEnabled(not running)
            button.setEnabled(not running and (action is not self.act_clear or has_files))
        selected = self.files_view.selectionModel().hasSelection()
        self.act_remove.setEnabled(not running and selected)
        self.remove_button.setEnabled(not running and selected)
        samples = not running and self._samples_available
        self.act_samples.setEnabled(samples)
        self.samples_button.setEnabled(samples)
        self.task_box.setEnabled(not running)
        self.run_box.setEnabled(not running)
        report = self.last_report
        failed = bool(report and report["counts"]["failed"])
        self.act_retry.setEnabled(not running and failed and self.last_spec is not None)
        self.retry_button.setEnabled(self.act_retry.isEnabled())
        self.act_report.setEnabled(report is not None)
        self.report_button.setEnabled(report is not None)
        self.act_open_output.setEnabled(not running and bool(self.output_folder()))
        self.act_compare.setEnabled(not running and has_files and valid and has_task)
        self.act_open_recipe.setEnabled(not running)
        self.act_save_recipe.setEnabled(not running and has_task)
        self.open_output_button.setEnabled(self.act_open_output.isEnabled())
        has_errors = self.errors.rowCount() > 0
        self.act_copy_errors.setEnabled(has_errors)
        self.copy_errors_button.setEnabled(has_errors)
        self.act_export_errors.setEnabled(has_errors)
        self.export_errors_button.setEnabled(has_errors)
        if running:
            hint = "Press Esc or Cancel to stop the batch."
        elif not has_task:
            hint = "No task is available."
        elif not has_files:
            hint = "Add workbooks to start: Add files…, Add folder…, or drop them on this window."
        elif not valid:
            hint = "Correct the task setting shown in red to start."
        elif output_problem is not None:
            hint = output_problem
        else:
            hint = f"Ready to run on {plural(self.files.rowCount(), 'file')}. Ctrl+Enter starts."
        self.start_hint.setText(hint)
        self.start_button.setToolTip(hint if not can_start else "Run the task on every file (Ctrl+Enter)")

    # == closing ==================================================================================
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running() and self.run is not None:
            if not dialogs.confirm_close_during_batch(self):
                event.ignore()
                return
            self._log("Closing: stopping the batch now.")
            self.run.stop(NOW)
            # The runner stops at its next tick and its backend shutdown kills worker processes.
            self.run.join()
        self._pump_timer.stop()
        self.release_pools()
        self.monitor.stop()
        if self.save_settings_on_close:
            self.save_settings()
        super().closeEvent(event)

    def select_rows(self, rows: Iterable[int]) -> None:
        """Select file rows (keyboard users and tests: then Del removes them)."""
        selection = self.files_view.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            selection.select(self.files.index(row, COL_NAME), flags)
