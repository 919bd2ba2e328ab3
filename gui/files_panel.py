"""The Files tab: the list of workbooks to run, and every way to fill it (Add files…, Add folder…, the
sample files, dropping files anywhere on the window) or empty it (Remove, Clear); a filter by status and
a search by name (`xlbatch.gui.files_filter`) to find files in a long list; a double-click asks for the
file's details.

Folders are searched as the engine searches them (`xlbatch.discovery.discover`), with the recipe's file
filters, leaving out the output folder and earlier outputs of this app. The panel remembers which
folders the files came from (for the default output folder) and what the user added, as given (a
recipe stores folders, not their files). It reports to the window through signals only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from xlbatch.discovery import DEFAULT_PATTERNS, discover
from xlbatch.gui import desktop, dialogs
from xlbatch.gui.actions import WindowActions
from xlbatch.gui.files_filter import STATUS_FILTERS, FilesFilter, filter_counts
from xlbatch.gui.files_view import ColumnPlan, FilesView
from xlbatch.gui.formatting import format_size, plural
from xlbatch.gui.models import COL_FOLDER, COL_NAME, COL_SIZE, COL_STATUS, COL_TIME, COL_TYPE, FilesModel, PathRole
from xlbatch.gui.settings import AppSettings
from xlbatch.gui.widgets import FlowBar, action_button
from xlbatch.plan import DEFAULT_OUT_DIR

# Folders a folder walk does not enter: earlier outputs of this app, wherever they were put.
OUTPUT_EXCLUDES = (f"{DEFAULT_OUT_DIR}/*", f"*/{DEFAULT_OUT_DIR}/*")
DROP_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def dropped_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
    """The local files and folders a drag carries."""
    data = event.mimeData()
    if not data.hasUrls():
        return []
    return [url.toLocalFile() for url in data.urls() if url.isLocalFile() and url.toLocalFile()]


class FilesPanel(QWidget):
    """The Files tab. `add_paths()` fills the list; `changed` says the list changed."""

    changed = Signal()  # files were added or removed
    cleared = Signal()  # the list was emptied (the last batch's progress and summary no longer apply)
    selectionChanged = Signal()
    titleChanged = Signal(str)  # the tab's title: "Files (53)"
    message = Signal(str, int)  # a status bar message and how long it shows (ms)
    logged = Signal(str)  # a line for the log
    dropReceived = Signal()  # files were dropped on the window (the window shows this tab)
    detailsRequested = Signal(int)  # a row (of the model) was double-clicked: show its details

    def __init__(
        self,
        model: FilesModel,
        actions: WindowActions,
        settings: AppSettings,
        *,
        busy: Callable[[], bool],
        output_folder: Callable[[], str],
        samples_folder: Callable[[], Path],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.files = model
        self.actions = actions
        self.settings = settings
        self._busy = busy
        self._output_folder = output_folder
        self._samples_folder = samples_folder
        self.roots: list[str] = []  # folders the user added files from, for the default output folder
        self.inputs: list[str] = []  # the files and folders the user added, as given (for recipes)
        self.include: list[str] = []  # file filters from an opened recipe (folder walks and batches)
        self.exclude: list[str] = []
        self._drop_target: QWidget | None = None
        self.samples_available = self._has_samples()  # looked up once: a folder walk
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self._build_bar())
        self.filter = FilesFilter(model, self)
        layout.addLayout(self._build_filter_bar())
        self.view = FilesView(self)
        self._set_up_view(self.view)
        layout.addWidget(self.view, 1)
        self.summary_label = QLabel("", self)
        self.summary_label.setObjectName("filesSummary")
        layout.addWidget(self.summary_label)

    # -- building ----------------------------------------------------------------------------------
    def _build_bar(self) -> FlowBar:
        a = self.actions
        bar = FlowBar(self, spacing=6)  # goes on to a second line in a narrow window
        self.add_files_button = action_button(self, "Add files…", "addFilesButton", a.add_files)
        self.add_files_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        self.add_folder_button = action_button(self, "Add folder…", "addFolderButton", a.add_folder)
        self.add_folder_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        self.remove_button = action_button(self, "Remove", "removeButton", a.remove, "Remove the selected files (Del)")
        # Clear needs files as well as an idle window: its own rule (see sync()).
        self.clear_button = action_button(self, "Clear", "clearButton", a.clear, follow=False)
        self.samples_button = action_button(self, "Load sample files", "samplesButton", a.samples)
        for widget in (
            self.add_files_button,
            self.add_folder_button,
            self.remove_button,
            self.clear_button,
            self.samples_button,
        ):
            bar.flow.addWidget(widget)
        return bar

    def _build_filter_bar(self) -> QHBoxLayout:
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName("Show files")
        self.status_filter.setToolTip("Show only the files with this status")
        for choice in STATUS_FILTERS:
            self.status_filter.addItem(choice.title, choice.key)
        self.status_filter.currentIndexChanged.connect(self._on_status_filter)
        self.search = QLineEdit(self)
        self.search.setObjectName("fileSearch")
        self.search.setAccessibleName("Search files by name")
        self.search.setPlaceholderText("Search by name")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        show = QLabel("Show", self)
        show.setBuddy(self.status_filter)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(show)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.search, 1)
        return bar

    def _on_status_filter(self, _index: int) -> None:
        key = self.status_filter.currentData()
        self.filter.set_status(key if isinstance(key, str) else "all")
        self.refresh()

    def _on_search(self, text: str) -> None:
        self.filter.set_search(text)
        self.refresh()

    def show_counts(self, counts: dict[str, int] | None = None) -> None:
        """Put each status filter's count in its title: "Failed (2)"."""
        shown = filter_counts(counts if counts is not None else self.files.status_counts())
        for i, choice in enumerate(STATUS_FILTERS):
            count = shown[choice.key]
            self.status_filter.setItemText(i, f"{choice.title} ({count:,})" if count else choice.title)

    def _column_plan(self, view: FilesView) -> ColumnPlan:
        metrics = view.fontMetrics()
        em = metrics.horizontalAdvance("M")
        preferred = {
            COL_NAME: 18 * em,
            COL_FOLDER: 12 * em,
            COL_SIZE: metrics.horizontalAdvance("1023.9 KB") + 24,
            COL_TYPE: metrics.horizontalAdvance("Excel 97-2003 workbook") + 16,
            COL_STATUS: metrics.horizontalAdvance("Will be skipped") + 40,
            COL_TIME: metrics.horizontalAdvance("10 min 00 s") + 20,
        }
        minimum = {COL_NAME: 12 * em, COL_FOLDER: 8 * em, COL_TYPE: metrics.horizontalAdvance("Excel workbook") + 16}
        # The name takes the spare width. When narrow, the type goes first (it is in the file name too),
        # then the folder (the name's tooltip has the whole path), then size and time: the status matters most.
        drop = (COL_TYPE, COL_FOLDER, COL_SIZE, COL_TIME)
        return ColumnPlan(preferred, minimum, (COL_TYPE, COL_FOLDER, COL_NAME), drop, COL_NAME)

    def _set_up_view(self, view: FilesView) -> None:
        view.setObjectName("filesView")
        view.setModel(self.filter)
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
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(4 * view.fontMetrics().horizontalAdvance("M"))
        view.set_column_plan(self._column_plan(view))
        view.addAction(self.actions.remove)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._files_menu)
        view.doubleClicked.connect(lambda index: self.detailsRequested.emit(self.filter.mapToSource(index).row()))
        view.selectionModel().selectionChanged.connect(lambda *_: self.selectionChanged.emit())
        view.setToolTip("")

    # -- adding ------------------------------------------------------------------------------------
    def add_paths(self, paths: Iterable[str | os.PathLike[str]]) -> int:
        """Add files and folders (searched recursively for workbooks); return how many files were added."""
        if self._busy():
            self.message.emit("Files cannot be added while a batch is running.", 5000)
            return 0
        given = [Path(p).expanduser() for p in paths]
        if not given:
            return 0
        folders = [p for p in given if p.is_dir()]
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            entries, missing = self._discover(folders, [p for p in given if not p.is_dir()])
            added = self.files.add_files(entries)
        finally:
            QApplication.restoreOverrideCursor()
        for path in given:
            root = str((path if path.is_dir() else path.parent).resolve())
            if path.exists() and root not in self.roots:
                self.roots.append(root)
            if path.exists() and str(path.resolve()) not in self.inputs:
                self.inputs.append(str(path.resolve()))
        message = self._added_message(added, entries, missing, folders)
        self.message.emit(message + ".", 8000)
        self.logged.emit(message + ".")
        self._changed()
        return added

    def _discover(self, folders: list[Path], files: list[Path]) -> tuple[list[tuple[str, int, str | None]], list[str]]:
        """(path, size, skip reason) of every workbook found, and the given paths that do not exist."""
        found = []
        if folders:
            output = self._output_folder().strip() or None
            excludes = [*OUTPUT_EXCLUDES, *self.exclude]
            found += discover(folders, include=self.include, exclude=excludes, out_dir=output).files
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
        return entries, missing

    @staticmethod
    def _added_message(
        added: int, entries: list[tuple[str, int, str | None]], missing: list[str], folders: list[Path]
    ) -> str:
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
        return message

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
        folder = self._samples_folder()
        if not self._has_samples():
            dialogs.show_error(self, "No sample files", f"No sample workbooks were found in {folder}.")
            return
        self.add_paths([folder])

    def _has_samples(self) -> bool:
        folder = self._samples_folder()
        try:
            return folder.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in folder.rglob("*"))
        except OSError:
            return False

    def restore_list(self, entries: list[tuple[str, int, str | None]], roots: list[str], inputs: list[str]) -> int:
        """Put back a list kept from an earlier session, as it was (no folder is searched again)."""
        added = self.files.add_files(entries)
        self.roots += [r for r in roots if r not in self.roots]
        self.inputs += [p for p in inputs if p not in self.inputs]
        self._changed()
        return added

    # -- removing ----------------------------------------------------------------------------------
    def remove_selected(self) -> None:
        if self._busy():
            return
        rows = self.filter.source_rows(self.view.selectionModel().selectedRows())
        if rows:
            removed = self.files.remove_rows(rows)
            self.message.emit(f"Removed {plural(removed, 'file')}.", 4000)
            paths = self.files.paths()
            self.roots = [r for r in self.roots if any(p.startswith(r.rstrip(os.sep) + os.sep) for p in paths)]
            self._changed()

    def clear(self) -> None:
        if self._busy():
            return
        self.files.clear()
        self.roots.clear()
        self.inputs.clear()
        self.cleared.emit()
        self._changed()

    # -- what the window asks ----------------------------------------------------------------------
    def runnable_sizes(self) -> list[int]:
        """Sizes of the listed files a batch would run (not the ones it will skip)."""
        rows = (self.files.row(r) for r in range(self.files.rowCount()))
        return [row.size for row in rows if not row.skip_reason]

    def runnable_paths(self) -> list[str]:
        rows = (self.files.row(r) for r in range(self.files.rowCount()))
        return [row.path for row in rows if not row.skip_reason]

    def default_output(self) -> str:
        """The folder the files came from (their common folder) + xlbatch-output; "" with no files."""
        roots = self.roots or sorted({str(Path(p).parent) for p in self.files.paths()[:1000]})
        if not roots:
            return ""
        try:
            common = os.path.commonpath(roots)
        except ValueError:  # different drives
            common = roots[0]
        return os.path.join(common, DEFAULT_OUT_DIR)

    def has_selection(self) -> bool:
        return self.view.selectionModel().hasSelection()

    def select_rows(self, rows: Iterable[int]) -> None:
        """Select file rows (keyboard users and tests: then Del removes them)."""
        selection = self.view.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            shown = self.filter.mapFromSource(self.files.index(row, COL_NAME))
            if shown.isValid():  # a row the filter hides cannot be selected
                selection.select(shown, flags)

    def selected_rows(self) -> list[int]:
        """The selected rows (of the model), in order."""
        return self.filter.source_rows(self.view.selectionModel().selectedRows())

    def sync(self, running: bool) -> None:
        """Enable what follows no single action (the commands themselves are the window's)."""
        self.clear_button.setEnabled(not running and self.files.rowCount() > 0)

    def refresh(self) -> None:
        """Show the list's count and size, here and in the tab's title."""
        count = self.files.rowCount()
        text = f"{plural(count, 'file')}, {format_size(self.files.total_size)}" if count else "No files yet"
        if count and self.filter.active:
            text = f"Showing {self.filter.rowCount():,} of {text}"
        self.summary_label.setText(text)
        self.titleChanged.emit(f"Files ({count:,})" if count else "Files")

    def _changed(self) -> None:
        self.show_counts()
        self.refresh()
        self.changed.emit()

    # -- the table's menu and double-click ---------------------------------------------------------
    def _files_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        if index.isValid():
            row = self.filter.mapToSource(index).row()
            path = self.files.data(self.files.index(row, COL_NAME), PathRole)
            menu.addAction("Details…", lambda: self.detailsRequested.emit(row))
            menu.addAction("Show in folder", lambda: desktop.reveal_file(path))
            menu.addAction("Open", lambda: desktop.open_path(path))
            menu.addSeparator()
        menu.addAction(self.actions.remove)
        menu.addAction(self.actions.clear)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- drag and drop -----------------------------------------------------------------------------
    def take_drops_on(self, target: QWidget) -> None:
        """Take files dropped anywhere on `target` (the window): they go to this list."""
        target.setAcceptDrops(True)
        self._drop_target = target
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: Any) -> bool:
        if watched is not self._drop_target or event.type() not in DROP_EVENTS:
            return super().eventFilter(watched, event)
        paths = dropped_paths(event)
        if not paths or self._busy():
            event.ignore()
            return True
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            self.dropReceived.emit()
            self.add_paths(paths)
        return True
