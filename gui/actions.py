"""The window's commands as QActions (text, shortcut, status tip) and its menu bar.

The actions know nothing of what they do: the main window binds each one to the part that carries it
out (`WindowActions.bind`) and enables them as the state changes; buttons follow their action
(`xlbatch.gui.widgets.action_button`). Ctrl+O opens a recipe, since a set-up is what File > Open means here;
adding files has its own keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

KEY = QKeySequence
TAB_TITLES = ("&Files", "&Errors", "&Log")


def _action(window: QWidget, text: str, shortcut: Any = None, tip: str = "") -> QAction:
    """An action of the whole window: its shortcut works wherever the focus is."""
    action = QAction(text, window)
    if shortcut is not None:
        if isinstance(shortcut, list):
            action.setShortcuts(shortcut)
        else:
            action.setShortcut(shortcut)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    window.addAction(action)
    return action


def _view_action(window: QWidget, text: str, shortcut: QKeySequence, tip: str = "") -> QAction:
    """An action whose shortcut works only in the view it is added to (Del in the file list, Ctrl+C in
    the error table), so it does not take the key from text fields."""
    action = QAction(text, window)
    action.setShortcut(shortcut)
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    if tip:
        action.setStatusTip(tip)
    return action


class WindowActions:
    """Every command of the main window, by what it does."""

    def __init__(self, window: QWidget) -> None:
        self.add_files = _action(window, "Add &files…", KEY("Ctrl+Shift+A"), "Add workbooks to the batch")
        self.add_folder = _action(
            window, "Add f&older…", KEY("Ctrl+Shift+O"), "Add every workbook in a folder and its subfolders"
        )
        self.samples = _action(window, "Load &sample files", None, "Add the sample workbooks that come with xlbatch")
        self.remove = _view_action(
            window, "&Remove", KEY(KEY.StandardKey.Delete), "Remove the selected files from the list"
        )
        self.clear = _action(window, "C&lear list", None, "Remove every file from the list")
        self.start = _action(window, "&Start", [KEY("Ctrl+Return"), KEY("Ctrl+Enter")], "Run the task on every file")
        self.cancel = _action(window, "&Cancel…", KEY("Esc"), "Stop the batch")
        self.retry = _action(
            window, "&Retry failed", KEY("Ctrl+R"), "Run the failed files again, with the same settings"
        )
        self.open_output = _action(window, "Open &output folder", KEY("Ctrl+E"), "Open the output folder")
        self.report = _action(window, "View &report", KEY("Ctrl+I"), "Show the batch's report")
        self.open_table = _action(
            window, "Open the &table", KEY("Ctrl+T"), "Open the table the batch wrote (combined, results or summary)"
        )
        self.copy_errors = _view_action(window, "&Copy", KEY(KEY.StandardKey.Copy))
        self.export_errors = _action(window, "&Export errors…", None, "Save the error table as an Excel or CSV file")
        self.save_log = _action(window, "Save &log…", KEY("Ctrl+Shift+S"), "Save the log")
        self.open_recipe = _action(
            window,
            "&Open recipe…",
            KEY("Ctrl+O"),
            "Load a saved set-up: task, settings, output folder and input files",
        )
        self.save_recipe = _action(
            window,
            "&Save recipe…",
            KEY("Ctrl+S"),
            "Save this set-up to run again, here or with: xlbatch run --recipe FILE",
        )
        self.compare = _action(
            window,
            "Compare &backends…",
            None,
            "Time the task on a few of the listed files with each way of running, and pick the fastest",
        )
        self.quit = _action(window, "E&xit", KEY(KEY.StandardKey.Quit))
        self.about = _action(window, "&About xlbatch", KEY("F1"))

    @staticmethod
    def bind(slots: Mapping[QAction, Callable[[], Any]]) -> None:
        """Run each slot when its action is triggered (without the `checked` argument Qt passes)."""
        for action, slot in slots.items():
            action.triggered.connect(lambda _checked=False, slot=slot: slot())


def build_menus(bar: QMenuBar, actions: WindowActions, window: QWidget, show_tab: Callable[[int], None]) -> None:
    """File, Batch, View (Ctrl+1..3 show the tabs) and Help."""
    a = actions
    file_menu = bar.addMenu("&File")
    _add(file_menu, a.open_recipe, a.save_recipe, None, a.add_files, a.add_folder, a.samples, None)
    _add(file_menu, a.remove, a.clear, None, a.export_errors, a.save_log, None, a.quit)
    batch_menu = bar.addMenu("&Batch")
    _add(batch_menu, a.start, a.cancel, None, a.retry, a.open_output, a.open_table, a.report, None, a.compare)
    view_menu = bar.addMenu("&View")
    for i, title in enumerate(TAB_TITLES):
        action = QAction(title, window)
        action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
        action.triggered.connect(lambda _c=False, i=i: show_tab(i))
        window.addAction(action)
        view_menu.addAction(action)
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(a.about)


def _add(menu: Any, *items: QAction | None) -> None:
    """Add actions to a menu in order; None is a separator."""
    for item in items:
        if item is None:
            menu.addSeparator()
        else:
            menu.addAction(item)
