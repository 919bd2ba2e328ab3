"""GUI test set-up: isolated settings, test-only tasks, no modal boxes, small input folders, a window.

QT_QPA_PLATFORM=offscreen is set by tests/conftest.py before any QApplication exists.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import xlsxwriter
from PySide6.QtCore import QSettings

from tests.gui.tasks_for_tests import FormTask, PidTask, SlowTask
from xlbatch.cancel import NOW
from xlbatch.tasks.registry import TASKS, register, unregister

TEXT_AS_XLSX = "Meeting notes\n- send the figures\n- book the room\n"


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path: Path, isolated_settings: Path) -> Iterator[Path]:
    """Every QSettings the app opens is an INI file below this test's tmp_path.

    Named apart from tests/conftest.py's `isolated_settings` (the engine's settings file, XLBATCH_CONFIG),
    which it requests: a fixture of the same name here would replace that one for every GUI test."""
    folder = tmp_path / "settings"
    previous = QSettings.defaultFormat()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.SystemScope, str(tmp_path / "settings-system"))
    yield folder
    QSettings.setDefaultFormat(previous)


@pytest.fixture(autouse=True)
def app_state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's kept file list and unfinished batch (xlbatch.gui.last_batch) live below this test's tmp_path."""
    from xlbatch.gui import last_batch

    folder = tmp_path / "app-state"
    monkeypatch.setattr(last_batch, "state_folder", lambda: folder)
    return folder


@pytest.fixture(autouse=True)
def test_tasks() -> Iterator[None]:
    """Register the test-only tasks for the test, and remove them after it (other suites list tasks)."""
    added = [cls for cls in (SlowTask, FormTask, PidTask) if cls.name not in TASKS]
    for cls in added:
        register(cls)
    yield
    for cls in added:
        unregister(cls.name)


class Recorder:
    """What the window asked the user or the desktop, instead of modal boxes and file managers."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.opened: list[str] = []
        self.revealed: list[str] = []
        self.cancel_answer: str | None = None
        self.cancel_questions: list[tuple[int, bool]] = []
        self.close_answer = True
        self.close_questions = 0
        self.restore_answer = False
        self.restore_questions: list[tuple[int, str]] = []


@pytest.fixture(autouse=True)
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    from xlbatch.gui import desktop, dialogs

    rec = Recorder()

    def ask_cancel(_parent: Any, running: int, escalate_only: bool = False) -> str | None:
        rec.cancel_questions.append((running, escalate_only))
        return rec.cancel_answer

    def confirm_close(_parent: Any) -> bool:
        rec.close_questions += 1
        return rec.close_answer

    def ask_restore(_parent: Any, files: int, text: str) -> bool:
        rec.restore_questions.append((files, text))
        return rec.restore_answer

    monkeypatch.setattr(dialogs, "show_error", lambda _p, title, text: rec.errors.append((title, text)))
    monkeypatch.setattr(dialogs, "ask_restore_batch", ask_restore)
    monkeypatch.setattr(dialogs, "ask_cancel_mode", ask_cancel)
    monkeypatch.setattr(dialogs, "confirm_close_during_batch", confirm_close)
    monkeypatch.setattr(desktop, "open_path", lambda path: rec.opened.append(str(path)) or True)
    monkeypatch.setattr(desktop, "reveal_file", lambda path: rec.revealed.append(str(path)) or True)
    return rec


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return path


def ledger_rows(n: int, seed: int) -> list[list[Any]]:
    return [["Region", "Amount"]] + [
        [("North", "South", "East")[(i + seed) % 3], (i + 1) * (seed + 2)] for i in range(n)
    ]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A folder with three good workbooks (two xlsx, one csv, one in a subfolder) and a text file named .xlsx."""
    root = tmp_path / "inputs"
    (root / "east").mkdir(parents=True)
    write_xlsx(root / "alpha.xlsx", ledger_rows(5, 1))
    write_xlsx(root / "east" / "beta.xlsx", ledger_rows(7, 2))
    (root / "gamma.csv").write_text("Region,Amount\r\nWest,10\r\nWest,20\r\n", encoding="utf-8")
    (root / "notes.xlsx").write_text(TEXT_AS_XLSX, encoding="utf-8")
    return root


@pytest.fixture
def slow_inputs(tmp_path: Path) -> Path:
    """Six small csv files for the slow task (their content does not matter to it)."""
    root = tmp_path / "slow"
    root.mkdir()
    for i in range(6):
        (root / f"file-{i}.csv").write_text(f"a,b\r\n{i},{i * 2}\r\n", encoding="utf-8")
    return root


def worker_children() -> list[psutil.Process]:
    """Child processes of this test process, except multiprocessing's resource tracker, which by design
    lives as long as its parent (it is not a worker and holds no work)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("resource_tracker" in part for part in child.cmdline()):
                continue
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            found.append(child)
    return found


@pytest.fixture
def window(qtbot: Any) -> Iterator[Any]:
    from xlbatch.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    # Never leave a batch thread behind, whatever the test did.
    if win.run is not None:
        win.run.stop(NOW)
        assert win.run.join(), "the controller thread did not end"
    win.monitor.stop()
    assert not any(t.name == "xlbatch-gauges" for t in threading.enumerate()), "the gauge sampler thread is still alive"
