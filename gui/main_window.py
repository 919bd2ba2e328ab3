"""The main window: pick files, a task and how to run it, start, watch, cancel, and see what failed.

Layout: the Files / Errors / Log tabs on the left with the overall progress and the end-of-batch
summary under them; the task, its settings and the run settings on the right with Start and Cancel;
live CPU and memory gauges in the status bar.

The window is made of parts, one module each, and only composes and wires them here:

    WindowActions    xlbatch.gui.actions         every command as a QAction, and the menus
    FilesPanel       xlbatch.gui.files_panel     Files tab: the list, Add files/folder, samples, Remove, drops
    ErrorsPanel      xlbatch.gui.errors_panel    Errors tab: the rows, the selected one in full, Copy, Export
    LogPanel         xlbatch.gui.log_panel       Log tab
    ProgressPanel    xlbatch.gui.progress_panel  the overall progress; SummaryPanel: how the last batch ended
    TaskPanel        xlbatch.gui.task_panel      the task and its settings form
    RunSettingsPanel xlbatch.gui.run_settings    workers, backend, output folder, time limit, checkboxes, filters
    BatchSetup       xlbatch.gui.batch_setup     what Start would run: the BatchSpec and the engine's choice
    BatchSession     xlbatch.gui.batch_session   running a batch: events to the tables, cancel, retry, the end
    RecipeActions    xlbatch.gui.recipes         File > Open recipe… / Save recipe…
    WarmPool         xlbatch.gui.warm_pool       prestarting the next batch's worker processes
    BatchFinishing   xlbatch.gui.finishing       a batch's end: one notification, the output folder
    LastBatch        xlbatch.gui.last_batch      the list and a running batch kept for the next start
    (dialogs)        xlbatch.gui.file_details    a file's details, on double-click

How they are wired: no part touches another's widgets. Each action is bound to the part that carries it
out (`_bind_actions`); a button follows its action's enabled state, so `sync_state()`, run after every
change, enables the commands and every part follows. Parts report through signals (`_connect_parts`):
the files panel's `changed`, the task panel's `taskChanged` and the run settings' `changed` make the
window ask again what the engine will run (`auto_choice()`: `xlbatch.executors.choice.decide`, the plan's
own decision) and schedule the warm pool; tab titles, status messages and log lines arrive as signals,
and the session's `stateChanged`, `started` and `finished` become the window's state and signals.
BatchSetup, BatchSession and RecipeActions act on the parts through the parts' own methods.

A batch's settings are what the window shows layered over the user's settings file, exactly as the
command line does it (`xlbatch.recipe.resolve_spec`). The batch is planned and run by a `BatchRun` on its
own thread; its events are applied to the models every 100 ms in one pass, which keeps the window
responsive with 10,000 files. The window owns one warm process pool (`PoolCache`) for its lifetime:
every batch borrows it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from xlbatch.bundle import samples_dir
from xlbatch.cancel import FINISH, NOW
from xlbatch.executors import BACKEND_TITLES, Choice
from xlbatch.executors.pools import PoolCache
from xlbatch.gui import dialogs
from xlbatch.gui.actions import WindowActions, build_menus
from xlbatch.gui.batch_session import BatchSession
from xlbatch.gui.batch_setup import BatchSetup
from xlbatch.gui.controller import BatchRun
from xlbatch.gui.errors_panel import ErrorsPanel
from xlbatch.gui.file_details import show_file_details
from xlbatch.gui.files_panel import FilesPanel
from xlbatch.gui.finishing import BatchFinishing
from xlbatch.gui.formatting import plural
from xlbatch.gui.gauges import CpuGauge, GaugeFit, RamGauge, Sample, SystemMonitor
from xlbatch.gui.last_batch import LastBatch
from xlbatch.gui.log_panel import LogPanel
from xlbatch.gui.models import ErrorsModel, FilesModel
from xlbatch.gui.progress_panel import ProgressPanel, SummaryPanel, main_table
from xlbatch.gui.recipes import RecipeActions
from xlbatch.gui.run_settings import RunSettingsPanel
from xlbatch.gui.settings import AppSettings
from xlbatch.gui.start_hint import StartHint, start_hint
from xlbatch.gui.task_panel import TaskPanel
from xlbatch.gui.warm_pool import WarmPool
from xlbatch.gui.widgets import VerticalScrollArea, action_button
from xlbatch.plan import BatchSpec
from xlbatch.recipe import Recipe
from xlbatch.settings import Settings
from xlbatch.tasks import load_plugins

TAB_FILES, TAB_ERRORS = range(2)  # the positions of the tabs whose titles show counts


class MainWindow(QMainWindow):
    """xlbatch's main window. `add_paths()` loads files; `batchFinished` carries report.to_dict()."""

    batchStarted = Signal()
    # Carries report.to_dict(). Declared as object: a dict signal would convert it to a QVariantMap and back.
    batchFinished = Signal(object)

    def __init__(self, settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("xlbatch")
        self.settings = settings or AppSettings()
        self.save_settings_on_close = True
        self.files = FilesModel(self)
        self.errors = ErrorsModel(self)
        self.compare_dialog: Any = None
        self._output_problem: str | None = None  # kept while a batch runs (no file-system calls then)

        load_plugins()
        self._build_parts()
        self._build_ui()
        build_menus(self.menuBar(), self.commands, self, self.tabs.setCurrentIndex)
        self._bind_actions()
        self._connect_parts()
        self._restore_settings()

        self.monitor = SystemMonitor(parent=self)
        self.monitor.sampled.connect(self._on_sample)
        self.monitor.sample()
        self.monitor.start()
        self.files_panel.refresh()
        self._update_auto_workers()
        self.sync_state()

    # == the parts ================================================================================
    def _build_parts(self) -> None:
        # The parts are created without a parent: the layouts take them in reading order, which is
        # also the Tab key's order (a widget joins the window's focus chain when it joins the window).
        self.commands = WindowActions(self)
        running = self.is_running
        self.files_panel = FilesPanel(
            self.files,
            self.commands,
            self.settings,
            busy=running,
            output_folder=lambda: self.run_settings.output_text(),
            samples_folder=samples_dir,
        )
        self.errors_panel = ErrorsPanel(self.errors, self.commands, self.settings, export_folder=self.output_folder)
        self.log_panel = LogPanel(self.commands, self.settings, save_folder=self.output_folder)
        self.progress = ProgressPanel()
        self.summary = SummaryPanel(self.commands)
        self.task_panel = TaskPanel(self.settings, sample_files=lambda: self.files_panel.runnable_paths())
        self.run_settings = RunSettingsPanel(self.settings)
        self.recipes = RecipeActions(self)
        self.session = BatchSession(self)
        self.setup = BatchSetup(self)
        # One warm process pool for the window's lifetime; every batch borrows it.
        self.pools = PoolCache()
        self.warm_pool = WarmPool(self.pools, self.prestart_target, running, self)
        self.finishing = BatchFinishing(self)
        self.last_batch = LastBatch(self)  # offers the last session's list or batch once the window shows

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
        # On a screen smaller than the window can be laid out in (1024 x 700 at 150%), scroll, never cut.
        outer = QScrollArea(self)
        outer.setObjectName("centralScroll")
        outer.setWidgetResizable(True)
        outer.setFrameShape(QFrame.Shape.NoFrame)
        outer.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        outer.setWidget(central)
        self.setCentralWidget(outer)

        status = self.statusBar()
        status.setObjectName("statusBar")
        status.setSizeGripEnabled(True)
        self.cpu_gauge = CpuGauge(self)
        self.ram_gauge = RamGauge(self)
        self.gauge_fit = GaugeFit(status, [self.cpu_gauge, self.ram_gauge])
        # Dropped files go to the list wherever they land; text fields must not swallow them.
        for edit in self.findChildren(QLineEdit):
            edit.setAcceptDrops(False)

    def _build_left(self) -> QWidget:
        left = QWidget(self)
        layout = QVBoxLayout(left)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.tabs = QTabWidget(left)
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self.files_panel, "Files")
        self.tabs.addTab(self.errors_panel, "Errors")
        self.tabs.addTab(self.log_panel, "Log")
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        return left

    def _build_side(self) -> QWidget:
        side = QWidget(self)
        side.setObjectName("sidePanel")
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        # Boxes as tall as their content; spare height goes between them and Start, not into a box. On a
        # short screen the boxes scroll and Start stays in view.
        boxes = QWidget(side)
        boxes.setObjectName("sideBoxes")
        box_layout = QVBoxLayout(boxes)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(8)
        box_layout.addWidget(self.task_panel)
        box_layout.addWidget(self.run_settings)
        box_layout.addStretch(1)
        scroll = VerticalScrollArea(boxes, side)
        scroll.setObjectName("sideScroll")
        layout.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.start_button = action_button(side, "Start", "startButton", self.commands.start)
        self.start_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.start_button.setDefault(False)
        self.start_button.setMinimumHeight(34)
        self.cancel_button = action_button(side, "Cancel", "cancelButton", self.commands.cancel)
        self.cancel_button.setMinimumHeight(34)
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        layout.addLayout(buttons)
        self.start_hint = StartHint(side)
        self.start_hint.goToSetting.connect(self.task_panel.focus_error)
        layout.addWidget(self.start_hint)
        side.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        return side

    def _bind_actions(self) -> None:
        a, files, recipes = self.commands, self.files_panel, self.recipes
        WindowActions.bind(
            {
                a.add_files: files.choose_files,
                a.add_folder: files.choose_folder,
                a.samples: files.load_samples,
                a.remove: files.remove_selected,
                a.clear: files.clear,
                a.start: self.start_batch,
                a.cancel: self.request_cancel,
                a.retry: self.retry_failed,
                a.open_output: self.session.open_output_folder,
                a.report: self.session.show_report,
                a.open_table: self.session.open_table,
                a.copy_errors: self.errors_panel.copy_errors,
                a.export_errors: self.errors_panel.choose_export_errors,
                a.save_log: self.log_panel.choose_save_log,
                a.open_recipe: recipes.choose_open_recipe,
                a.save_recipe: recipes.choose_save_recipe,
                a.compare: self.compare_backends,
                a.quit: self.close,
                a.about: lambda: dialogs.show_about(self),
            }
        )

    def _connect_parts(self) -> None:
        files, errors, log = self.files_panel, self.errors_panel, self.log_panel
        files.changed.connect(self._files_changed)
        files.cleared.connect(self._files_cleared)
        files.selectionChanged.connect(self.sync_state)
        files.titleChanged.connect(lambda title: self.tabs.setTabText(TAB_FILES, title))
        files.dropReceived.connect(lambda: self.tabs.setCurrentIndex(TAB_FILES))
        files.detailsRequested.connect(lambda row: show_file_details(self, row))
        files.take_drops_on(self)
        errors.changed.connect(self.sync_state)
        errors.titleChanged.connect(lambda title: self.tabs.setTabText(TAB_ERRORS, title))
        for part in (files, errors):
            part.message.connect(self._show_message)
        files.logged.connect(log.log)
        self.warm_pool.logged.connect(log.log)
        self.warm_pool.warmed.connect(self._on_pool_warmed, Qt.ConnectionType.QueuedConnection)
        self.task_panel.taskChanged.connect(self._task_changed)
        self.task_panel.paramsChanged.connect(self.sync_state)
        self.run_settings.changed.connect(self._run_settings_changed)
        self.run_settings.outputChanged.connect(self.sync_state)
        self.run_settings.filtersCleared.connect(lambda: self.set_filters([], []))
        self.session.stateChanged.connect(self.sync_state)
        self.session.started.connect(self.batchStarted)
        self.session.finished.connect(self.batchFinished)

    def _show_message(self, text: str, milliseconds: int) -> None:
        self.statusBar().showMessage(text, milliseconds)

    # == what changed =============================================================================
    def _files_changed(self) -> None:
        self.run_settings.set_default_output(self.files_panel.default_output())
        self._update_auto_workers()
        self.sync_state()
        self.warm_pool.schedule()

    def _files_cleared(self) -> None:
        self.summary.hide()
        self.progress.reset()

    def _task_changed(self) -> None:
        self._update_auto_workers()
        self.sync_state()
        self.warm_pool.schedule()

    def _run_settings_changed(self) -> None:
        self._update_auto_workers()
        self.warm_pool.schedule()

    # == settings =================================================================================
    def _restore_settings(self) -> None:
        self.run_settings.restore(lambda key: self.setup.settings_for_display().get(key))
        self.task_panel.restore()
        self.set_filters([], [])
        s = self.settings
        geometry = s.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self._default_geometry()
        state = s.window_state()
        if state is not None:
            self.restoreState(state)
        splitter = s.splitter()
        if splitter is None or not self.splitter.restoreState(splitter):
            # The settings as wide as they like up to 400 px, but never more than 40%: the list comes first.
            side = max(self.splitter.widget(1).minimumSizeHint().width(), min(400, int(self.width() * 0.4)))
            self.splitter.setSizes([self.width() - side, side])

    def _default_geometry(self) -> None:
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)
        width = min(1280, int(available.width() * 0.92))
        height = min(800, int(available.height() * 0.92))
        self.resize(width, height)
        self.move(available.center() - QPoint(width // 2, height // 2))

    def save_settings(self) -> None:
        self.task_panel.save()
        self.run_settings.save()
        self.settings.save_window(self.saveGeometry(), self.saveState(), self.splitter.saveState())
        self.settings.sync()

    # == files, task and run settings (delegated to the parts) ====================================
    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Add files and folders (searched recursively for workbooks); return how many files were added."""
        return self.files_panel.add_paths(paths)

    def choose_folder(self) -> None:
        self.files_panel.choose_folder()

    def remove_selected(self) -> None:
        self.files_panel.remove_selected()

    def select_rows(self, rows: Iterable[int]) -> None:
        """Select file rows (keyboard users and tests: then Del removes them)."""
        self.files_panel.select_rows(rows)

    def current_task_name(self) -> str | None:
        return self.task_panel.current_task_name()

    def current_backend(self) -> str:
        return self.run_settings.current_backend()

    def set_output_folder(self, folder: str) -> None:
        self.run_settings.set_output_folder(folder)

    def output_problem(self) -> str | None:
        """Why the output folder cannot be used (say, it is a folder the files came from), or None."""
        return self.run_settings.output_problem(self.files_panel.roots)

    def set_filters(self, include: Iterable[str], exclude: Iterable[str]) -> None:
        """File name filters (from a recipe): which files a folder walk and the batch take."""
        self.files_panel.include, self.files_panel.exclude = list(include), list(exclude)
        self.run_settings.show_filters(self.files_panel.include, self.files_panel.exclude)

    @property
    def filters(self) -> tuple[list[str], list[str]]:
        return list(self.files_panel.include), list(self.files_panel.exclude)

    def open_recipe(self, path: str | os.PathLike[str]) -> bool:
        """Load a recipe: task, its settings, file filters, run settings, output folder; add its inputs."""
        return self.recipes.open_recipe(path)

    def save_recipe(self, path: str | os.PathLike[str]) -> Path | None:
        return self.recipes.save_recipe(path)

    def current_recipe(self) -> Recipe | None:
        """The recipe of the batch Start would run (None, after saying why, if there is none)."""
        return self.recipes.current_recipe()

    def copy_errors(self) -> int:
        return self.errors_panel.copy_errors()

    def export_errors(self, path: str | os.PathLike[str]) -> Path:
        return self.errors_panel.export_errors(path)

    def save_log(self, path: str | os.PathLike[str]) -> Path:
        return self.log_panel.save_log(path)

    # == how the batch will run (xlbatch.gui.batch_setup) ================================================
    def engine_settings(self) -> Settings:
        """The user's settings file (re-read when it changed); raises SettingsError if it is not valid."""
        return self.setup.engine_settings()

    def auto_choice(self) -> Choice | None:
        """What the engine will pick with the current files, task and settings (None: no task)."""
        return self.setup.auto_choice()

    def prestart_target(self) -> int | None:
        """How many worker processes the next batch would take from a warm pool (None: it would not)."""
        return self.setup.prestart_target()

    def build_spec(self, paths: list[str] | None = None) -> BatchSpec:
        """The batch Start would run: the window's values over the settings file, as the CLI does it."""
        return self.setup.build_spec(paths)

    def spec_or_explain(self, title: str) -> BatchSpec | None:
        """build_spec(), or None after telling the user why it cannot be built."""
        return self.setup.spec_or_explain(title)

    def _update_auto_workers(self) -> None:
        self.run_settings.show_settings_file(self.setup.settings_for_display())
        choice = self.auto_choice()
        if choice is not None:
            self.run_settings.show_choice(choice, running=self.is_running())

    def compare_backends(self) -> Any:
        """Open Batch > Compare backends… on the listed files (returns the dialog, already shown)."""
        from xlbatch.gui.compare import CompareDialog

        task = self.task_panel.current_task()
        paths = self.files_panel.runnable_paths()
        if self.is_running() or task is None:
            return None
        if not paths:
            dialogs.show_error(self, "Nothing to compare", "Add some workbooks first: the comparison runs on them.")
            return None
        if not self.task_panel.valid:
            dialogs.show_error(self, "Nothing to compare", "Correct the task setting shown in red first.")
            return None
        dialog = CompareDialog(task.name, self.task_panel.values(), paths, self, task_title=task.title or task.name)
        dialog.winnerChosen.connect(self.use_backend)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _code: setattr(self, "compare_dialog", None))
        self.compare_dialog = dialog
        dialog.open()
        return dialog

    def use_backend(self, backend: str, workers: int) -> None:
        """Run the next batches on `backend` with `workers` (what Compare backends' winner sets)."""
        if not self.run_settings.select_backend(backend):
            return
        if backend != "sequential":
            self.run_settings.set_workers(workers)
        self._show_message(
            f"Backend set to {BACKEND_TITLES.get(backend, backend)}"
            + (f" with {plural(workers, 'worker')}." if backend != "sequential" else "."),
            8000,
        )

    # == the warm pool (xlbatch.gui.warm_pool) ============================================================
    @property
    def prestart_enabled(self) -> bool:
        return self.warm_pool.enabled

    @prestart_enabled.setter
    def prestart_enabled(self, enabled: bool) -> None:
        self.warm_pool.enabled = enabled

    def prestart_pool(self) -> Future[None] | None:
        """Start the next batch's process pool in the background (never blocking the window)."""
        return self.warm_pool.prestart()

    @Slot()
    def _on_pool_warmed(self) -> None:
        if not self.warm_pool.closed and not self.is_running():
            self._update_auto_workers()

    def release_pools(self, wait_seconds: float = 0.0) -> None:
        """End the warm pool and joblib's idle workers (on close); see WarmPool.release."""
        self.warm_pool.release(wait_seconds)

    # == running (xlbatch.gui.batch_session) ==============================================================
    @property
    def run(self) -> BatchRun | None:
        """The running (or last) batch's thread handle."""
        return self.session.run

    @property
    def last_spec(self) -> BatchSpec | None:
        return self.session.last_spec

    @property
    def last_report(self) -> dict[str, Any] | None:
        """The last finished batch's report.to_dict()."""
        return self.session.last_report

    def is_running(self) -> bool:
        return self.session.running

    def start_batch(self, spec: BatchSpec | None = None, rows: list[int] | None = None) -> bool:
        """Start a batch (by default every listed file with the current settings); False if it cannot.

        The controller thread plans it first; a refusal (say, the output folder is an input folder)
        comes back through the event queue and is shown then, before any file runs.
        """
        if self.is_running() or (spec is None and not self.commands.start.isEnabled()):
            return False
        spec = spec if spec is not None else self.spec_or_explain("The batch cannot start")
        if spec is None or not self.recipes.confirm_script(spec):  # a recipe's script is shown before it runs
            return False
        self.session.start(spec, rows)
        return True

    def retry_failed(self) -> bool:
        """Run again only the files that failed in the last batch, with that batch's settings."""
        retry = None if self.is_running() else self.session.retry_spec()
        return retry is not None and self.start_batch(*retry)

    def request_cancel(self) -> None:
        """Cancel (Esc): ask whether to finish the running files or stop now."""
        self.session.request_cancel()

    def cancel_batch(self, mode: str = FINISH) -> None:
        self.session.cancel(mode)

    def output_folder(self) -> str:
        return self.session.output_folder()

    def _on_sample(self, sample: Sample) -> None:
        self.cpu_gauge.update_sample(sample, self.monitor)
        self.ram_gauge.update_sample(sample, self.monitor)

    # == state ====================================================================================
    def sync_state(self) -> None:
        """Enable what can be done now (buttons follow their actions) and say what to do next."""
        running = self.is_running()
        has_files = self.files.rowCount() > 0
        valid = self.task_panel.valid
        has_task = self.task_panel.current_task() is not None
        # No file-system calls while a batch runs: each one can wait on the controller thread's GIL.
        if not running:
            self._output_problem = self.output_problem()
        problem = self._output_problem
        self.run_settings.mark_output(problem)
        can_start = not running and has_files and valid and has_task and problem is None
        report = self.last_report
        failed = bool(report and report["counts"]["failed"])
        has_errors = self.errors_panel.has_errors()
        a = self.commands
        enabled = {
            a.start: can_start,
            a.cancel: running and (self.run is None or self.run.cancel_mode != NOW),
            a.add_files: not running,
            a.add_folder: not running,
            a.clear: not running,
            a.remove: not running and self.files_panel.has_selection(),
            a.samples: not running and self.files_panel.samples_available,
            a.retry: not running and failed and self.last_spec is not None,
            a.report: report is not None,
            a.open_table: main_table(report) is not None,
            a.open_output: not running and bool(self.output_folder()),
            a.compare: not running and has_files and valid and has_task,
            a.open_recipe: not running,
            a.save_recipe: not running and has_task,
            a.copy_errors: has_errors,
            a.export_errors: has_errors,
        }
        for action, on in enabled.items():
            action.setEnabled(on)
        self.files_panel.sync(running)
        self.task_panel.setEnabled(not running)
        self.run_settings.setEnabled(not running)
        error = self.task_panel.param_form.error if has_task and not valid else None
        hint = start_hint(running, has_task, self.files.rowCount(), valid, problem, error)
        self.start_hint.show_hint(hint, bad_setting=not running and has_files and error is not None)
        self.start_button.setToolTip(hint if not can_start else "Run the task on every file (Ctrl+Enter)")

    # == closing ==================================================================================
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running():
            if not dialogs.confirm_close_during_batch(self):
                event.ignore()
                return
            self.log_panel.log("Closing: stopping the batch now.")
        self.session.stop_now()
        self.release_pools()
        self.monitor.stop()
        if self.save_settings_on_close:
            self.save_settings()
        super().closeEvent(event)
