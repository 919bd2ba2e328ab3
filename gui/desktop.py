"""Handing things to the desktop: open a folder or a file, show a file selected in its folder, or open a
text file (the user's script) in an editor.

On Windows a file is shown selected in Explorer (`explorer /select,`); elsewhere its folder is opened.
A script is opened with Windows' "edit" verb (the editor registered for .py files, else Notepad), since
"open" would run a .py file where Python is installed; on macOS in the default text editor (`open -t`).
Tests replace these functions to record calls instead of opening windows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_path(path: str | Path) -> bool:
    """Open a folder in the file manager, or a file in its program."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def reveal_file(path: str | Path) -> bool:
    """Show `path` in its folder, selected where the platform allows it."""
    target = Path(path)
    if sys.platform == "win32" and target.exists():
        # explorer's own syntax: one argument "/select," then the path; it returns 1 even on success.
        subprocess.Popen(["explorer", "/select,", str(target)])  # noqa: S603,S607
        return True
    folder = target if target.is_dir() else target.parent
    return open_path(folder)


def edit_file(path: str | Path) -> bool:
    """Open a text file in an editor, never run it (see the module's notes)."""
    target = str(path)
    if sys.platform == "win32":
        try:
            os.startfile(target, "edit")  # type: ignore[attr-defined]  # noqa: S606 - Windows only
        except OSError:  # no "edit" verb registered for the file type
            subprocess.Popen(["notepad.exe", target])  # noqa: S603,S607
        return True
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-t", target])  # noqa: S603,S607
        return True
    return open_path(target)
