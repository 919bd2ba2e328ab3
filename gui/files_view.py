"""The file table's view: a QTableView that paints its visible rows itself, in one pass.

Why not a delegate: Qt calls a delegate (or the model's `data()`, seven roles per cell) once per cell,
each time a call from C++ into Python that must take the GIL. While the batch's controller thread runs
Python (planning, a task's reduce), each of those takes up to the interpreter's switch interval, and a
repaint of 20 rows x 6 columns stalled the window for over 100 ms. Here the whole visible area is one
Python call: rows are read straight from `FilesModel`, text and status marks drawn with QPainter.
Everything else (scrolling, selection, keyboard, header, tooltips through `data()`) is QTableView's.

The view may show the model through `xlbatch.gui.files_filter.FilesFilter` (a status filter and a search):
view rows are then mapped to the model's rows, one call per visible row. When the list is empty, the view
says how to add files; when the filter hides every row, it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QTableView, QWidget

from xlbatch.gui.files_filter import FilesFilter
from xlbatch.gui.models import (
    CANCELLED,
    COL_FOLDER,
    COL_SIZE,
    COL_STATUS,
    COL_TIME,
    DONE,
    FAILED,
    QUEUED,
    READY,
    RUNNING,
    SKIPPED,
    UNCHANGED,
    FileRow,
    FilesModel,
)

STATUS_COLOURS = {
    READY: "#8a9099",
    QUEUED: "#8a9099",
    RUNNING: "#2b6cb0",
    DONE: "#1f7a4d",
    FAILED: "#c0392b",
    SKIPPED: "#8a9099",
    UNCHANGED: "#8a9099",
    CANCELLED: "#b7791f",
}
ACCENT = "#2e8b57"
PADDING = 6
HINT = "Drop Excel files or folders here\nor use Add files… / Add folder…"
NO_MATCH = "No file matches the filter.\nChoose Show: All, or clear the search."


@dataclass(frozen=True)
class ColumnPlan:
    """How the columns share the view's width: each at its preferred width while they fit; when they do
    not, the columns in `shrink` give up width in that order down to their minimums, and if even that
    is too wide, the columns in `drop` are hidden. `stretch` takes what is left over."""

    preferred: dict[int, int]
    minimum: dict[int, int]
    shrink: tuple[int, ...]
    drop: tuple[int, ...]
    stretch: int


def fit_columns(available: int, plan: ColumnPlan) -> tuple[dict[int, int], set[int]]:
    """The width of every column but the stretching one, and the columns to hide, for `available` pixels."""
    hidden: set[int] = set()
    widths = dict(plan.preferred)
    for dropping in (None, *plan.drop):
        if dropping is not None:
            hidden.add(dropping)
        widths = {c: w for c, w in plan.preferred.items() if c not in hidden}
        excess = sum(widths.values()) - available
        for column in plan.shrink:
            if excess <= 0:
                break
            if column in widths:
                cut = min(excess, widths[column] - plan.minimum.get(column, widths[column]))
                widths[column] -= cut
                excess -= cut
        if excess <= 0:
            break
    widths.pop(plan.stretch, None)
    return widths, hidden


class FilesView(QTableView):
    """Shows a `FilesModel`; paints rows itself (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column_plan: ColumnPlan | None = None
        self.colours = {status: QColor(colour) for status, colour in STATUS_COLOURS.items()}
        self.accent = QColor(ACCENT)
        self.bar_border = QPen(QColor("#b9c3cc"), 1)
        self.bar_base = QColor("#ffffff")
        self.bar_text = QColor("#1b1b1b")
        self.focus_pen = QPen(QColor(ACCENT), 1)

    def set_column_plan(self, plan: ColumnPlan) -> None:
        self.column_plan = plan
        self.fit_columns()

    def fit_columns(self) -> None:
        """Give the columns the view's width (see ColumnPlan); widths set by hand last until the next resize."""
        plan = self.column_plan
        if plan is None:
            return
        widths, hidden = fit_columns(self.viewport().width(), plan)
        header = self.horizontalHeader()
        for column in plan.preferred:
            header.setSectionHidden(column, column in hidden)
        for column, width in widths.items():
            self.setColumnWidth(column, width)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def files_model(self) -> FilesModel | None:
        model = self.model()
        if isinstance(model, FilesFilter):
            return model.files
        return model if isinstance(model, FilesModel) else None

    def paintEvent(self, event: Any) -> None:
        model = self.files_model()
        if model is None:
            super().paintEvent(event)
            return
        painter = QPainter(self.viewport())
        try:
            if model.rowCount() == 0:
                self._paint_hint(painter, HINT)
            elif self.model().rowCount() == 0:
                self._paint_hint(painter, NO_MATCH)
            else:
                self._paint_rows(painter, model, event.rect())
        finally:
            painter.end()

    def _paint_hint(self, painter: QPainter, text: str) -> None:
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        painter.setFont(font)
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, text)

    def _paint_rows(self, painter: QPainter, model: FilesModel, area: QRect) -> None:
        first = self.rowAt(area.top())
        if first < 0:
            return  # the area lies below the last row
        last = self.rowAt(area.bottom())
        if last < 0:
            last = self.model().rowCount() - 1
        header = self.horizontalHeader()
        columns = []
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            if header.isSectionHidden(logical):
                continue
            x, width = header.sectionViewportPosition(logical), header.sectionSize(logical)
            if x + width >= area.left() and x <= area.right():
                columns.append((logical, x, width))
        palette = self.palette()
        group = QPalette.ColorGroup.Active if self.isEnabled() else QPalette.ColorGroup.Disabled
        base_text = palette.color(group, QPalette.ColorRole.Text)
        selected_text = palette.color(group, QPalette.ColorRole.HighlightedText)
        highlight = palette.color(group, QPalette.ColorRole.Highlight)
        alternate = palette.color(group, QPalette.ColorRole.AlternateBase)
        width = self.viewport().width()
        selection = self.selectionModel()
        metrics = QFontMetrics(self.font())
        painter.setFont(self.font())
        current = self.currentIndex()
        shown = self.model()
        source_row = shown.source_row if isinstance(shown, FilesFilter) else None
        for r in range(first, last + 1):
            y, height = self.rowViewportPosition(r), self.rowHeight(r)
            selected = selection is not None and selection.isRowSelected(r, QModelIndex())
            if selected:
                painter.fillRect(QRect(0, y, width, height), highlight)
            elif self.alternatingRowColors() and r % 2:
                painter.fillRect(QRect(0, y, width, height), alternate)
            row = model.row(r if source_row is None else source_row(r))
            text_colour = selected_text if selected else base_text
            for column, x, column_width in columns:
                cell = QRect(x + PADDING, y, column_width - 2 * PADDING, height)
                if column == COL_STATUS:
                    self._paint_status(painter, metrics, model, row, cell, selected, text_colour)
                    continue
                text = model.display_text(row, column)
                if not text:
                    continue
                # A folder is known by its last names: "…/Finance/2026" rather than "C:\Us…2026".
                mode = Qt.TextElideMode.ElideLeft if column == COL_FOLDER else Qt.TextElideMode.ElideRight
                align = Qt.AlignmentFlag.AlignVCenter | (
                    Qt.AlignmentFlag.AlignRight if column in (COL_SIZE, COL_TIME) else Qt.AlignmentFlag.AlignLeft
                )
                painter.setPen(text_colour)
                painter.drawText(cell, align, metrics.elidedText(text, mode, cell.width()))
            if self.hasFocus() and current.isValid() and current.row() == r:
                painter.setPen(self.focus_pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRect(0, y, width - 1, height - 1))

    def _paint_status(
        self,
        painter: QPainter,
        metrics: QFontMetrics,
        model: FilesModel,
        row: FileRow,
        cell: QRect,
        selected: bool,
        text: QColor,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(cell)
        if row.status == RUNNING:
            fraction = row.fraction
            bar = QRectF(area.left(), area.center().y() - 7, area.width(), 14)
            painter.setPen(self.bar_border)
            painter.setBrush(self.bar_base)
            painter.drawRoundedRect(bar, 3, 3)
            if fraction > 0:
                fill = QRectF(bar.left(), bar.top(), max(4.0, bar.width() * min(1.0, fraction)), bar.height())
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(self.accent)
                painter.drawRoundedRect(fill.adjusted(1, 1, -1, -1), 2, 2)
            font = QFont(self.font())
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
            painter.setFont(font)
            painter.setPen(self.bar_text)
            # Tasks that cannot know a file's length report 0 with a message ("Sales: row 4,000").
            label = f"{fraction * 100:.0f}%" if fraction > 0 else (row.note or "Running")
            small = QFontMetrics(font)
            painter.drawText(
                bar.adjusted(4, 0, -4, 0),
                Qt.AlignmentFlag.AlignCenter,
                small.elidedText(label, Qt.TextElideMode.ElideRight, int(bar.width()) - 8),
            )
        else:
            colour = self.colours.get(row.status, self.colours[READY])
            dot = QRectF(area.left(), area.center().y() - 4, 8, 8)
            if row.status in (READY, QUEUED):
                painter.setPen(QPen(colour, 1.4))
                painter.setBrush(Qt.BrushStyle.NoBrush)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colour)
            painter.drawEllipse(dot)
            # Failed stands out in its colour; unchanged is greyed, as it was not processed this time.
            painter.setPen(colour if row.status in (FAILED, UNCHANGED) and not selected else text)
            label = model.display_text(row, COL_STATUS)
            text_rect = area.adjusted(14, 0, 0, 0)
            elided = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(text_rect.width()))
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
        painter.restore()
