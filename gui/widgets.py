"""Small widget helpers the window's parts share: a push button bound to an action, a scroll area as tall
as its content, a scroll area that scrolls only up and down, a row of buttons that wraps onto a second
line when narrow, and re-applying the style sheet after a dynamic property changed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QLayout, QLayoutItem, QPushButton, QScrollArea, QWidget


def action_button(
    parent: QWidget, text: str, name: str, action: QAction | None = None, tip: str = "", *, follow: bool = True
) -> QPushButton:
    """A push button named `name` that triggers `action`; its tooltip names the action's shortcut.

    With `follow`, the button is enabled exactly when the action is, so a part's buttons never need
    enabling apart from the window's commands (pass follow=False for a button with a rule of its own)."""
    button = QPushButton(text, parent)
    button.setObjectName(name)
    if action is not None:
        button.clicked.connect(action.trigger)
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        tip = tip or action.statusTip()
        if shortcut:
            tip = f"{tip} ({shortcut})" if tip else shortcut
        if follow:
            button.setEnabled(action.isEnabled())
            action.enabledChanged.connect(button.setEnabled)  # a bound slot: gone with the button
    if tip:
        button.setToolTip(tip)
    return button


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property (state, invalid) changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


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


class VerticalScrollArea(QScrollArea):
    """A scroll area that scrolls only up and down: as wide as its content needs (its minimum width is the
    content's, so nothing in it is ever cut at the side), and as short as a few lines when the window is
    short, scrolling then instead of pushing the window past the screen."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the content takes the focus, not the area
        self.setWidget(content)
        content.installEventFilter(self)

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def _bar(self) -> int:
        return self.verticalScrollBar().sizeHint().width()

    def sizeHint(self) -> QSize:
        hint = self.widget().sizeHint()
        return QSize(hint.width() + self._bar(), hint.height())

    def minimumSizeHint(self) -> QSize:
        # Room for the scroll bar that appears when the window is shorter than the content.
        width = self.widget().minimumSizeHint().width() + self._bar()
        return QSize(width, min(self.widget().sizeHint().height(), 8 * self.fontMetrics().lineSpacing()))


class FlowLayout(QLayout):
    """Widgets in a row, left to right, going on to the next line when the row is too narrow (the layout
    of Qt's flow layout example): a bar of buttons that never forces its window wider than one button."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        visible = [i for i in self._items if not i.isEmpty()]
        width = sum(i.sizeHint().width() for i in visible) + self._spacing * max(0, len(visible) - 1)
        return QSize(width, max((i.sizeHint().height() for i in visible), default=0))

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place the items line by line (each centred in its line's height); returns the height used."""
        lines: list[list[tuple[QLayoutItem, int]]] = [[]]
        x = rect.x()
        for item in self._items:
            if item.isEmpty():
                continue
            width = item.sizeHint().width()
            if lines[-1] and x + width > rect.right() + 1:
                lines.append([])
                x = rect.x()
            lines[-1].append((item, x))
            x += width + self._spacing
        y = rect.y()
        for line in lines:
            height = max((item.sizeHint().height() for item, _x in line), default=0)
            for item, left in line:
                hint = item.sizeHint()
                if move:
                    item.setGeometry(QRect(QPoint(left, y + (height - hint.height()) // 2), hint))
            y += height + self._spacing
        return max(0, y - self._spacing - rect.y())


def minimum_height_changed(widget: QWidget) -> None:
    """Tell every widget from `widget` up to its window that its minimum height changed.

    A QTabWidget (no layout of its own) keeps its page's old minimum height until it is told, and so
    would the column holding it: the window would lay one widget over another instead of scrolling."""
    current: QWidget | None = widget
    while current is not None and not current.isWindow():
        current.updateGeometry()
        current = current.parentWidget()


class FlowBar(QWidget):
    """A FlowLayout (`flow`) in a widget that asks for the height its lines take at its width.

    A layout's own minimum height is one line: in a window too short for everything (1024 x 700 at 150%
    after a batch) the rows below would be laid over the bar's second line. Asking for the real height
    makes the window scroll instead (its central scroll area)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self.flow = FlowLayout(self, spacing)
        self._lines_height = 0

    def minimumSizeHint(self) -> QSize:
        return QSize(self.flow.minimumSize().width(), self.flow.heightForWidth(max(1, self.width())))

    def sizeHint(self) -> QSize:
        return QSize(self.flow.sizeHint().width(), self.minimumSizeHint().height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        height = self.flow.heightForWidth(self.width())
        if height != self._lines_height:  # a line more or less: the layouts above must make room
            self._lines_height = height
            minimum_height_changed(self)

