"""When a batch ends: one notification if the user is working elsewhere, and the output folder if asked.

One notification per batch, never one per file. When the batch ends and the window is not the active
one (the user switched to Excel or the mail while it ran), a system tray message says how it ended,
where the desktop has a tray that shows messages (Windows, most Linux desktops); elsewhere the taskbar
entry asks for attention (`QApplication.alert`) until the window is activated. Clicking the message
brings the window back; the tray icon goes away as soon as the window is active again.

With "When done, open the output folder" ticked (a run setting the app remembers), a batch that ran to
its end opens its output folder; a cancelled batch does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from xlbatch.gui import desktop
from xlbatch.gui.formatting import format_duration, plural
from xlbatch.tasks import TASKS

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow

MESSAGE_MS = 15_000  # how long the tray message shows


def finish_message(report: dict[str, Any]) -> tuple[str, str, bool]:
    """The notification's title and text for a finished batch's report, and whether something went wrong."""
    counts = report["counts"]
    task = TASKS.get(report.get("task", ""))
    what = (task.title or task.name) if task else str(report.get("task", "The batch"))
    failed = counts["failed"]
    if report.get("cancelled"):
        title = f"{what}: cancelled"
    elif failed:
        title = f"{what}: {plural(failed, 'file')} failed"
    else:
        title = f"{what}: finished"
    parts = [f"{counts['ok']:,} done"]
    for key in ("failed", "skipped", "cancelled"):
        if counts[key]:
            parts.append(f"{counts[key]:,} {key}")
    text = f"{', '.join(parts)} of {plural(counts['total'], 'file')} in {format_duration(float(report['seconds']))}."
    return title, text, bool(failed or report.get("cancelled"))


def tray_available() -> bool:
    """Whether the desktop has a system tray that shows messages."""
    return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()


def alert(window: QWidget) -> None:
    """Ask for attention on the taskbar until the window is activated."""
    QApplication.alert(window)


class BatchFinishing(QObject):
    """Connects to the window's session: notifies once per finished batch, opens the output folder."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.tray: QSystemTrayIcon | None = None
        self.notified: list[tuple[str, str]] = []  # (channel, title) of every notification given
        window.session.finished.connect(self._on_finished)
        window.installEventFilter(self)

    def window_active(self) -> bool:
        return self.window.isActiveWindow() and not self.window.isMinimized()

    def _on_finished(self, report: dict[str, Any]) -> None:
        if not self.window_active():
            self.notify(report)
        folder = Path(str(report.get("out_dir") or ""))
        if self.window.run_settings.open_when_done() and not report.get("cancelled") and folder.is_dir():
            desktop.open_path(folder)

    def notify(self, report: dict[str, Any]) -> str:
        """Tell the user the batch ended: a tray message, or the taskbar. Returns which was used."""
        title, text, bad = finish_message(report)
        if tray_available():
            tray = self._tray()
            icon = QSystemTrayIcon.MessageIcon.Warning if bad else QSystemTrayIcon.MessageIcon.Information
            tray.show()
            tray.showMessage(title, text, icon, MESSAGE_MS)
            channel = "tray"
        else:
            alert(self.window)
            channel = "taskbar"
        self.notified.append((channel, title))
        return channel

    def _tray(self) -> QSystemTrayIcon:
        if self.tray is None:
            self.tray = QSystemTrayIcon(self.window.windowIcon(), self)
            self.tray.setToolTip("xlbatch")
            self.tray.messageClicked.connect(self._bring_back)
            self.tray.activated.connect(lambda _reason: self._bring_back())
        return self.tray

    def _bring_back(self) -> None:
        w = self.window
        if w.isMinimized():
            w.showNormal()
        else:
            w.show()
        w.raise_()
        w.activateWindow()

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        # Back in the window: the message has done its job.
        if watched is self.window and event.type() == QEvent.Type.WindowActivate and self.tray is not None:
            self.tray.hide()
        return super().eventFilter(watched, event)
