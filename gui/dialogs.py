"""The window's small dialogs: how to cancel, whether to close during a batch, whether to restore the last
batch, the report, About.

Each question is a module-level function returning the answer, so tests can replace it and the
window never blocks a test on a modal box.
"""

from __future__ import annotations

import html
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from xlbatch.cancel import FINISH, NOW
from xlbatch.gui import (
    desktop,
)
from xlbatch.gui.formatting import format_duration
from xlbatch.runner import UNCHANGED

APP_NAME = "xlbatch"


def app_version() -> str:
    try:
        return metadata.version("xlbatch")
    except metadata.PackageNotFoundError:
        from xlbatch import __version__

        return __version__


def ask_cancel_mode(parent: QWidget, running: int, escalate_only: bool = False) -> str | None:
    """Ask how to cancel: FINISH (running files finish, no new ones), NOW, or None to keep going."""
    box = QMessageBox(parent)
    box.setWindowTitle("Cancel the batch")
    box.setIcon(QMessageBox.Icon.Question)
    if escalate_only:
        box.setText("The batch is already finishing the files that were running.")
        box.setInformativeText("Stop them now? Their results will not be kept.")
    else:
        box.setText("How do you want to cancel?")
        box.setInformativeText(
            f"{running} file{'s are' if running != 1 else ' is'} running now.\n\n"
            "Finish running files: let them finish and start no more.\n"
            "Stop now: stop them at once; their results are not kept."
        )
    finish = None
    if not escalate_only:
        finish = box.addButton("Finish running files", QMessageBox.ButtonRole.AcceptRole)
    now = box.addButton("Stop now", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(finish or keep)
    box.setEscapeButton(keep)
    box.exec()
    clicked = box.clickedButton()
    if clicked is finish and finish is not None:
        return FINISH
    if clicked is now:
        return NOW
    return None


def confirm_close_during_batch(parent: QWidget) -> bool:
    answer = QMessageBox.question(
        parent,
        "A batch is running",
        "A batch is still running. Stop it and close xlbatch?\n\n"
        "Files that are running now are stopped; finished files keep their results.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def confirm_recipe_script(parent: QWidget, script: str, warning: str | None) -> bool:
    """Before a recipe's script first runs here: its path, and that it is code running with the user's rights."""
    text = (
        f"This recipe runs the Python script\n\n{script}\n\non every file. A script is a program: it runs with "
        "your rights and can do anything you can. Run it only if you know where it comes from."
    )
    if warning:
        text += f"\n\n{warning}"
    answer = QMessageBox.question(
        parent,
        "Run the recipe's script?",
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_new_script_path(parent: QWidget, folder: str) -> str:
    """Where to write a new script from the template ("" when the user cancels)."""
    from PySide6.QtWidgets import QFileDialog

    name, _ = QFileDialog.getSaveFileName(
        parent, "New script from template", str(Path(folder) / "my_function.py"), "Python script (*.py)"
    )
    if name and not name.lower().endswith(".py"):
        name += ".py"
    return name


def ask_script_path(parent: QWidget, folder: str, extensions: tuple[str, ...]) -> str:
    """An existing file to pick for a file setting ("" when the user cancels)."""
    from PySide6.QtWidgets import QFileDialog

    patterns = " ".join(f"*{e}" for e in extensions)
    filters = f"Files ({patterns});;All files (*)" if patterns else "All files (*)"
    name, _ = QFileDialog.getOpenFileName(parent, "Choose a file", folder, filters)
    return name


def ask_restore_batch(parent: QWidget, files: int, text: str) -> bool:
    """Ask whether to restore (and continue) the batch the last session left unfinished."""
    box = QMessageBox(parent)
    box.setWindowTitle("Restore the last batch")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(f"Restore the last batch ({files:,} file{'s' if files != 1 else ''})?")
    box.setInformativeText(text)
    restore = box.addButton("Restore and continue", QMessageBox.ButtonRole.AcceptRole)
    empty = box.addButton("Start empty", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(empty)
    box.exec()
    return box.clickedButton() is restore


def show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


class ReportDialog(QDialog):
    """The batch's report: a summary in words and the full report.json, with a button to open it."""

    def __init__(self, report: dict[str, Any], report_path: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportDialog")
        self.setWindowTitle("Batch report")
        self.resize(720, 560)
        counts = report.get("counts", {})
        unchanged = sum(
            1 for f in report.get("files", ()) if f.get("status") == "skipped" and f.get("reason") == UNCHANGED
        )
        summary = QLabel(self)
        summary.setWordWrap(True)
        summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lines = [
            f"<b>{report.get('task', '')}</b> on {counts.get('total', 0)} files in "
            f"{format_duration(float(report.get('seconds', 0)))}" + (" (cancelled)" if report.get("cancelled") else ""),
            f"Done {counts.get('ok', 0)}, failed {counts.get('failed', 0)}, "
            f"skipped {counts.get('skipped', 0) - unchanged}, unchanged {unchanged}, "
            f"cancelled {counts.get('cancelled', 0)}.",
            f"Ran on <i>{report.get('backend', '')}</i> with {report.get('workers', '')} workers: "
            f"{report.get('backend_reason', '')}.",
        ]
        summary.setText("<br>".join(lines))
        text = QPlainTextEdit(self)
        text.setObjectName("reportText")
        text.setReadOnly(True)
        text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        text.setPlainText(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        if report_path:
            open_button = QPushButton("Open report.json", self)
            open_button.clicked.connect(lambda: desktop.open_path(report_path))
            buttons.addButton(open_button, QDialogButtonBox.ButtonRole.ActionRole)
        copy = QPushButton("Copy", self)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(text.toPlainText()))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(text, 1)
        layout.addWidget(buttons)


def about_text() -> str:
    from xlbatch.tasks import TASKS

    titles = ", ".join(html.escape(task.title or name) for name, task in TASKS.items())
    return (
        f"<h3>{APP_NAME} {app_version()}</h3>"
        "<p>Runs one task over many Excel workbooks at once, using every core of this computer. "
        "Your input files are never changed.</p>"
        f"<p>Tasks: {titles}.</p>"
        f"<p style='color:#666'>Python {platform.python_version()} · Qt {qVersion()} · "
        f"PySide6 {pyside_version} · {platform.system()} {platform.release()}</p>"
        f"<p style='color:#666'>{sys.executable}</p>"
    )


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, f"About {APP_NAME}", about_text())
