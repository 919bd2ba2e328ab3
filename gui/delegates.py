"""The task picker's list items, painted in two lines: the task's title in bold over its description.

(The file table paints its own rows: see gui/files_view.py.)
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

_Index = QModelIndex | QPersistentModelIndex


class TaskItemDelegate(QStyledItemDelegate):
    """The task picker's list: each task's title in bold with its description below it."""

    DESCRIPTION_ROLE = Qt.ItemDataRole.ToolTipRole

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        main = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(main)
        muted.setAlpha(170)
        rect = option.rect.adjusted(8, 4, -8, -4)
        title_font = QFont(option.font)
        title_font.setBold(True)
        metrics = QFontMetrics(title_font)
        painter.setFont(title_font)
        painter.setPen(main)
        title = index.data(Qt.ItemDataRole.DisplayRole) or ""
        painter.drawText(rect.adjusted(0, 0, 0, -(rect.height() - metrics.height())), Qt.AlignmentFlag.AlignLeft, title)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.92))
        painter.setFont(small)
        painter.setPen(muted)
        description = index.data(self.DESCRIPTION_ROLE) or ""
        body = rect.adjusted(0, metrics.height() + 1, 0, 0)
        elided = QFontMetrics(small).elidedText(description, Qt.TextElideMode.ElideRight, body.width())
        painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, elided)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        metrics = QFontMetrics(option.font)
        return QSize(360, metrics.height() * 2 + 12)
