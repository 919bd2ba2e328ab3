"""Handing things to the desktop: open a folder or a file, or show a file selected in its folder.

On Windows a file is shown selected in Explorer (`explorer /select,`); elsewhere its folder is opened.
Tests replace these functions to record calls instead of opening windows.
"""

from __future__ import annotations

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
