"""One file in full: what double-clicking a row of the file table opens.

The dialog shows the file's name, folder, status and time; what happened in plain words and what to do
about it; the technical detail the table leaves out; the warnings and the outputs of its last run. Its
buttons: Open file location (the file selected in its folder), Copy (everything as text, for a mail or a
ticket) and Retry this file (this file alone again, with the last batch's settings, processed even if
unchanged). `details_text()` is the same content as plain text, and is what Copy puts on the clipboard.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from xlbatch.errors import ADVICE
from xlbatch.gui import desktop
from xlbatch.gui.formatting import format_duration, format_size
from xlbatch.gui.models import DONE, FAILED, KIND_TITLES, READY, STATUS_TEXT, UNCHANGED, FileRow

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow


def what_happened(row: FileRow) -> str:
    """The file's last outcome in one sentence."""
    if row.status == FAILED:
        return row.note or "The file could not be processed."
    if row.status == DONE:
        return "Processed" + (" with warnings (below)." if row.warnings else " without problems.")
    if row.status == READY:
        return row.skip_reason or "Not run yet."
    if row.status == UNCHANGED:
        return row.note
    return row.note or STATUS_TEXT[row.status] + "."


def details_text(row: FileRow) -> str:
    """Everything the dialog shows, as plain text."""
    lines = [row.name, f"Folder: {row.folder}", f"Size: {format_size(row.size)} ({row.type})"]
    status = STATUS_TEXT[row.status] + (f" in {format_duration(row.seconds)}" if row.seconds is not None else "")
    lines.append(f"Status: {status}")
    if row.kind:
        lines.append(f"Problem: {KIND_TITLES.get(row.kind, row.kind)} ({row.kind})")
    lines.append(f"What happened: {what_happened(row)}")
    if row.kind and ADVICE.get(row.kind):
        lines.append(f"What to do: {ADVICE[row.kind]}")
    if row.detail:
        lines += ["Technical detail:", row.detail]
    if row.warnings:
        lines += [f"Warnings ({len(row.warnings)}):", *(f"- {w}" for w in row.warnings)]
    if row.outputs:
        lines += [f"Outputs ({len(row.outputs)}):", *(f"- {o}" for o in row.outputs)]
    return "\n".join(lines)


def retry_file(window: MainWindow, path: str) -> bool:
    """Run one file again (see BatchSession.retry_file_spec); False if a batch runs or it cannot start."""
    if window.is_running():
        return False
    retry = window.session.retry_file_spec(path)
    return retry is not None and window.start_batch(*retry)


class FileDetailsDialog(QDialog):
    """The details of one row of the window's file table."""

    def __init__(self, window: MainWindow, row: FileRow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("fileDetailsDialog")
        self.setWindowTitle(f"{row.name} – details")
        self.window_ = window
        self.row = row
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(self._summary(row))
        if row.detail:
            layout.addWidget(self._section("Technical detail"))
            detail = QPlainTextEdit(row.detail, self)
            detail.setObjectName("detailText")
            detail.setReadOnly(True)
            detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
            detail.setMaximumHeight(detail.fontMetrics().lineSpacing() * 8 + 12)
            layout.addWidget(detail)
        for title, items, name in (("Warnings", row.warnings, "warningsList"), ("Outputs", row.outputs, "outputsList")):
            if items:
                layout.addWidget(self._section(f"{title} ({len(items)})"))
                listing = QListWidget(self)
                listing.setObjectName(name)
                listing.addItems(list(items))
                listing.setWordWrap(True)
                listing.setMaximumHeight(listing.fontMetrics().lineSpacing() * 6 + 12)
                if name == "outputsList":
                    listing.setToolTip("Double-click an output to open it")
                    listing.itemDoubleClicked.connect(lambda item: desktop.open_path(item.text()))
                layout.addWidget(listing)
        layout.addStretch(1)
        layout.addWidget(self._buttons(row))
        self.resize(max(560, self.sizeHint().width()), self.sizeHint().height())

    def _section(self, title: str) -> QLabel:
        label = QLabel(f"<b>{html.escape(title)}</b>", self)
        return label

    def _summary(self, row: FileRow) -> QLabel:
        status = STATUS_TEXT[row.status] + (f" in {format_duration(row.seconds)}" if row.seconds is not None else "")
        parts = [
            f"<b style='font-size:115%'>{html.escape(row.name)}</b>",
            f"<span style='color:#6b7280'>{html.escape(row.folder)} · {format_size(row.size)} · "
            f"{html.escape(row.type)}</span>",
            f"<b>Status:</b> {html.escape(status)}"
            + (f" · {html.escape(KIND_TITLES.get(row.kind, row.kind))}" if row.kind else ""),
            f"<b>What happened:</b> {html.escape(what_happened(row))}",
        ]
        if row.kind and ADVICE.get(row.kind):
            parts.append(f"<b>What to do:</b> {html.escape(ADVICE[row.kind])}")
        label = QLabel("<br>".join(parts), self)
        label.setObjectName("detailSummary")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _buttons(self, row: FileRow) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        actions = (
            ("Open file location", "openLocationButton", lambda: desktop.reveal_file(row.path)),
            ("Copy", "copyDetailsButton", self.copy),
            ("Retry this file", "retryFileButton", self.retry),
        )
        for text, name, slot in actions:
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.setAutoDefault(False)
            button.clicked.connect(slot)
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        retry = buttons.findChild(QPushButton, "retryFileButton")
        running = self.window_.is_running()
        retry.setEnabled(not running)
        retry.setToolTip(
            "A batch is running." if running else "Run this file again with the last batch's settings"
        )
        return buttons

    def copy(self) -> str:
        text = details_text(self.row)
        QGuiApplication.clipboard().setText(text)
        return text

    def retry(self) -> None:
        if retry_file(self.window_, self.row.path):
            self.accept()


def show_file_details(window: MainWindow, row: int) -> FileDetailsDialog | None:
    """Open the details of the file table's `row` (returns the dialog, already shown)."""
    if not 0 <= row < window.files.rowCount():
        return None
    dialog = FileDetailsDialog(window, window.files.row(row))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
