"""The Log tab: what happened, one timestamped line each, with Save log… and Clear log.

While a batch runs, lines are held and appended together when the window applies the batch's events
(about ten times a second): one layout pass for many lines, however fast the files finish.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPlainTextEdit, QVBoxLayout, QWidget

from xlbatch.atomic import atomic_path
from xlbatch.gui import dialogs, eventlog
from xlbatch.gui.actions import WindowActions
from xlbatch.gui.settings import AppSettings
from xlbatch.gui.widgets import action_button

LOG_LIMIT = 50_000  # lines kept in the Log tab


class LogPanel(QWidget):
    """The Log tab. `log()` adds a line; with `hold` set, lines wait for `flush()`."""

    def __init__(
        self,
        actions: WindowActions,
        settings: AppSettings,
        *,
        save_folder: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._save_folder = save_folder  # where Save log… opens when it has not been used yet
        self.hold = False  # a batch is running: lines wait for the next flush()
        self._pending: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(6)
        self.view = QPlainTextEdit(self)
        self.view.setObjectName("logView")
        self.view.setReadOnly(True)
        self.view.setAcceptDrops(False)
        self.view.setMaximumBlockCount(LOG_LIMIT)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.view, 1)
        bar = QHBoxLayout()
        bar.addStretch(1)
        self.save_button = action_button(self, "Save log…", "saveLogButton", actions.save_log)
        clear = action_button(self, "Clear log", "clearLogButton", tip="Empty the log")
        clear.clicked.connect(self.view.clear)
        bar.addWidget(clear)
        bar.addWidget(self.save_button)
        layout.addLayout(bar)

    def log(self, text: str, level: str = "info") -> None:
        """Add a line with the time and, for warnings, a mark."""
        self.append(eventlog.line(text, level=level))

    def append(self, line: str) -> None:
        """Add a line as it is (already stamped, e.g. by `eventlog.describe`)."""
        self._pending.append(line)
        if not self.hold:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            # One append for the lot: one layout pass however many lines arrived.
            self.view.appendPlainText("\n".join(self._pending))
            self._pending.clear()

    def choose_save_log(self) -> None:
        start = self.settings.folder("log") or self._save_folder() or str(Path.home())
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
        self.flush()
        target = Path(path)
        with atomic_path(target) as tmp:
            tmp.write_text(self.view.toPlainText() + "\n", encoding="utf-8")
        return target
