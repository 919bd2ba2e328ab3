"""The extract task's field builder: pick the fields on a sample workbook instead of typing their syntax.

The dialog shows a sample workbook's sheets as a grid (read through the engine's reader). Clicking a
cell adds a field for that cell (`Total=Invoice!E22`); with "the clicked cell is a label" chosen,
clicking a label adds a field for the value to its right, or below it (`Total=label:Total:`), which
finds the value even when a copy of the form has it a row or a column further. Each field is named after
the text beside it (the name can be edited) and shows the value it would extract from the sample,
worked out by the extract task's own code (`xlbatch.gui.sample_sheets.preview_fields`). OK puts the
fields into the task's settings.

`BUILDERS` says which task parameter gets a builder: the Task box shows the button for those.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTabBar,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from xlbatch.discovery import DEFAULT_PATTERNS
from xlbatch.gui.sample_sheets import (
    Sample,
    SampleError,
    SheetModel,
    cell_field,
    clean_name,
    label_field,
    preview_fields,
    read_sample,
    suggest_name,
)

BUILDERS = {"extract": "fields"}  # task -> its parameter the builder fills
MAX_SAMPLES = 50  # listed files offered as samples
PROBLEM = QColor("#b3261e")
COL_NAME, COL_WHERE, COL_VALUE = range(3)


class FieldBuilderDialog(QDialog):
    """Pick fields on a sample; `fields()` is the list for the task's parameter."""

    def __init__(self, fields: Sequence[str], samples: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldBuilder")
        self.setWindowTitle("Pick the fields on a sample workbook")
        self.sample: Sample | None = None
        self._fields = [f for f in fields if f.strip()]
        self._updating = False
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_sample_row(samples))
        self.sheet_tabs = QTabBar(self)
        self.sheet_tabs.setObjectName("sheetTabs")
        self.sheet_tabs.setDocumentMode(True)
        self.sheet_tabs.setExpanding(False)
        self.sheet_tabs.currentChanged.connect(self._show_sheet)
        layout.addWidget(self.sheet_tabs)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._build_grid())
        splitter.addWidget(self._build_fields())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._fit_to_screen(960, 700)
        if samples:
            self.open_sample(samples[0])
        self._refresh_fields()

    def _fit_to_screen(self, width: int, height: int) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry()
            width, height = min(width, int(room.width() * 0.9)), min(height, int(room.height() * 0.9))
        self.resize(width, height)

    # -- building ----------------------------------------------------------------------------------
    def _build_sample_row(self, samples: Sequence[str]) -> QHBoxLayout:
        self.sample_combo = QComboBox(self)
        self.sample_combo.setObjectName("sampleCombo")
        self.sample_combo.setAccessibleName("Sample workbook")
        for path in list(samples)[:MAX_SAMPLES]:
            self.sample_combo.addItem(Path(path).name, path)
            self.sample_combo.setItemData(self.sample_combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.sample_combo.activated.connect(lambda i: self.open_sample(self.sample_combo.itemData(i)))
        choose = QPushButton("Choose…", self)
        choose.setObjectName("chooseSampleButton")
        choose.setAutoDefault(False)
        choose.clicked.connect(self._choose_sample)
        row = QHBoxLayout()
        row.addWidget(QLabel("Sample workbook", self))
        row.addWidget(self.sample_combo, 1)
        row.addWidget(choose)
        return row

    def _build_grid(self) -> QWidget:
        holder = QWidget(self)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        self.cell_mode = QRadioButton("Clicking a cell takes that cell", holder)
        self.cell_mode.setObjectName("cellMode")
        self.label_mode = QRadioButton("The clicked cell is a label: take the value to its right, or below it", holder)
        self.label_mode.setObjectName("labelMode")
        self.label_mode.setToolTip("Finds the value even where a copy of the form has it a row or a column further")
        self.cell_mode.setChecked(True)
        modes = QHBoxLayout()
        modes.addWidget(self.cell_mode)
        modes.addWidget(self.label_mode)
        modes.addStretch(1)
        box.addLayout(modes)
        self.grid = QTableView(holder)
        self.grid.setObjectName("sampleGrid")
        self.grid.setModel(SheetModel())
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setWordWrap(False)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.grid.verticalHeader().setDefaultSectionSize(self.grid.fontMetrics().height() + 8)
        self.grid.clicked.connect(self.pick_cell)
        box.addWidget(self.grid, 1)
        self.message = QLabel("", holder)
        self.message.setObjectName("hintLabel")
        self.message.setWordWrap(True)
        box.addWidget(self.message)
        return holder

    def _build_fields(self) -> QWidget:
        holder = QWidget(self)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 3, holder)
        self.table.setObjectName("fieldsTable")
        self.table.setHorizontalHeaderLabels(["Field name", "Where", "Value in the sample"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_VALUE, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(COL_NAME, 170)
        self.table.setColumnWidth(COL_WHERE, 220)
        self.table.itemChanged.connect(self._name_edited)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * 4 + 30)
        remove = QPushButton("Remove", holder)
        remove.setObjectName("removeFieldButton")
        remove.setAutoDefault(False)
        remove.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(QLabel("Fields (double-click a name to change it)", holder), 1)
        row.addWidget(remove)
        box.addLayout(row)
        box.addWidget(self.table, 1)
        return holder

    # -- the sample --------------------------------------------------------------------------------
    def _choose_sample(self) -> None:
        patterns = " ".join(DEFAULT_PATTERNS)
        start = self.sample_combo.currentData() or ""
        folder = str(Path(start).parent)
        name, _ = QFileDialog.getOpenFileName(self, "Sample workbook", folder, f"Workbooks ({patterns})")
        if name:
            self.sample_combo.addItem(Path(name).name, name)
            self.sample_combo.setCurrentIndex(self.sample_combo.count() - 1)
            self.open_sample(name)

    def open_sample(self, path: str) -> bool:
        """Read `path` and show its sheets; False (saying why) if it cannot be read."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            sample = read_sample(path)
        except SampleError as exc:
            self.message.setText(f"{Path(path).name} cannot be used as a sample: {exc}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.sample = sample
        index = self.sample_combo.findData(path)
        if index >= 0:
            self.sample_combo.setCurrentIndex(index)
        while self.sheet_tabs.count():
            self.sheet_tabs.removeTab(0)
        for sheet in sample.sheets:
            self.sheet_tabs.addTab(sheet.name)
        self._show_sheet(0)
        self._refresh_fields()
        return True

    def _show_sheet(self, index: int) -> None:
        if self.sample is None or not 0 <= index < len(self.sample.sheets):
            return
        sheet = self.sample.sheets[index]
        self.grid.setModel(SheetModel(sheet, self.grid))
        # Columns as wide as their text (a sample is small), within reason: long texts are cut, tooltips show them.
        self.grid.resizeColumnsToContents()
        limit = 24 * self.grid.fontMetrics().horizontalAdvance("M")
        for column in range(self.grid.model().columnCount()):
            self.grid.setColumnWidth(column, max(60, min(limit, self.grid.columnWidth(column))))
        self.message.setText(
            "Click the cell that holds a value, or choose 'label' above and click the text next to it."
            + (f" Only the first rows and columns of '{sheet.name}' are shown." if sheet.cut else "")
        )

    # -- picking -----------------------------------------------------------------------------------
    def pick_cell(self, index: QModelIndex) -> str | None:
        """Add the field for the clicked cell (as the mode says); returns it, or None after saying why."""
        model = self.grid.model()
        if self.sample is None or not isinstance(model, SheetModel) or model.sheet is None or not index.isValid():
            return None
        rows, value = model.sheet.rows, model.value(index.row(), index.column())
        try:
            if self.label_mode.isChecked():
                if not isinstance(value, str):
                    raise ValueError("Pick a cell with text in it: the label next to the value.")
                field = label_field(self._unique(clean_name(value) or "Field"), value)
            else:
                name = self._unique(suggest_name(rows, index.row(), index.column()))
                field = cell_field(name, model.sheet.name, index.row(), index.column())
        except ValueError as exc:
            self.message.setText(str(exc))
            return None
        self._fields.append(field)
        self._refresh_fields()
        self.message.setText(f"Added {field}.")
        return field

    def _unique(self, name: str) -> str:
        taken = {f.partition("=")[0].strip().casefold() for f in self._fields}
        if name.casefold() == "source file":  # the extracted table's first column
            name = f"{name} field"
        candidate, n = name, 2
        while candidate.casefold() in taken:
            candidate, n = f"{name} {n}", n + 1
        return candidate

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            del self._fields[row]
        self._refresh_fields()

    def _name_edited(self, item: QTableWidgetItem) -> None:
        if self._updating or item.column() != COL_NAME:
            return
        row = item.row()
        old_name, _sep, where = self._fields[row].partition("=")
        self._fields[row] = f"{clean_name(item.text()) or old_name}={where}"
        self._refresh_fields()

    # -- the fields and their values -----------------------------------------------------------------
    def fields(self) -> list[str]:
        return list(self._fields)

    def _refresh_fields(self) -> None:
        previews = preview_fields(self.sample.source, self._fields) if self.sample is not None else []
        self._updating = True
        try:
            self.table.setRowCount(len(self._fields))
            for row, field in enumerate(self._fields):
                name, _sep, where = field.partition("=")
                preview = previews[row] if previews else None
                value = preview.value if preview else ""
                problem = preview.problem if preview else "Open a sample to see the value."
                cells = (name.strip(), where.strip(), value or problem)
                for column, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if column != COL_NAME:
                        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    if column == COL_VALUE and not value:
                        item.setForeground(PROBLEM)
                        item.setToolTip(problem)
                    self.table.setItem(row, column, item)
        finally:
            self._updating = False

    def value_texts(self) -> list[str]:
        """What the Value column shows, row by row (the value, or why there is none)."""
        return [self.table.item(row, COL_VALUE).text() for row in range(self.table.rowCount())]
