"""The real main window, driven the way a user drives it: add files, pick a task, start, wait, look.

Batches run on the real engine. Expected results come from the files each test writes (three good
workbooks and one text file named .xlsx), never from the code under test.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
)

from tests.gui.conftest import worker_children
from tests.gui.tasks_for_tests import SlowTask
from xlbatch.errors import ADVICE
from xlbatch.executors import BACKEND_TITLES, available_backends
from xlbatch.gui.main_window import MainWindow
from xlbatch.gui.models import CANCELLED, COL_ADVICE, COL_FILE, COL_KIND, DONE, FAILED, RUNNING, KindRole
from xlbatch.plan import DEFAULT_OUT_DIR
from xlbatch.report_layout import file_uri

BATCH_TIMEOUT_MS = 60_000
GOOD = {"alpha.xlsx", "beta.xlsx", "gamma.csv"}
BROKEN = "notes.xlsx"


def child(window: MainWindow, cls, name: str):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name!r}"
    return widget


def pick(window: MainWindow, combo_name: str, data: str) -> None:
    combo = child(window, QComboBox, combo_name)
    index = combo.findData(data)
    assert index >= 0, f"{data!r} not offered in {combo_name}"
    combo.setCurrentIndex(index)


def statuses(window: MainWindow) -> dict[str, str]:
    model = window.files
    return {model.row(r).name: model.row(r).status for r in range(model.rowCount())}


def set_output(qtbot, window: MainWindow, folder: Path) -> None:
    edit = child(window, QLineEdit, "outputEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, str(folder))
    assert edit.text() == str(folder)


def start(qtbot, window: MainWindow) -> None:
    button = child(window, QPushButton, "startButton")
    assert button.isEnabled(), window.start_hint.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def start_slow(qtbot, window: MainWindow, folder: Path, out: Path, backend: str, steps: int, workers: int = 2) -> None:
    window.add_paths([folder])
    pick(window, "taskCombo", SlowTask.name)
    window.task_panel.param_form.editors["steps"].setValue(steps)
    pick(window, "backendCombo", backend)
    child(window, QSpinBox, "workersSpin").setValue(workers)
    set_output(qtbot, window, out)
    with qtbot.waitSignal(window.batchStarted, timeout=5000):
        start(qtbot, window)


def running_rows(window: MainWindow) -> list[int]:
    return window.files.rows_with_status(RUNNING)


# -- the whole journey ------------------------------------------------------------------------------
def test_summarize_with_a_broken_file(window, inputs, qtbot, monkeypatch, tmp_path, recorder, frozen_inputs):
    frozen_inputs.append(inputs)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(inputs))
    qtbot.mouseClick(child(window, QPushButton, "addFolderButton"), Qt.MouseButton.LeftButton)

    view = child(window, QTableView, "filesView")
    assert view.model().rowCount() == 4
    assert set(statuses(window)) == GOOD | {BROKEN}
    assert window.files.total_size == sum(p.stat().st_size for p in inputs.rglob("*") if p.is_file())
    assert "4 files" in window.files_panel.summary_label.text()
    # The output folder defaults to the inputs' folder + xlbatch-output.
    assert child(window, QLineEdit, "outputEdit").text() == str(inputs.resolve() / DEFAULT_OUT_DIR)

    pick(window, "taskCombo", "summarize")
    out = tmp_path / "out"
    set_output(qtbot, window, out)
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        start(qtbot, window)
    report = finished.args[0]

    assert report["counts"]["total"] == 4
    assert report["counts"]["ok"] == 3 and report["counts"]["failed"] == 1
    assert {Path(f["path"]).name for f in report["files"] if f["status"] == "ok"} == GOOD
    assert statuses(window) == {**dict.fromkeys(GOOD, DONE), BROKEN: FAILED}
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["counts"] == report["counts"]
    assert child(window, QProgressBar, "overallProgress").value() == 4

    # The error table: one row, in plain words, with the advice for its kind.
    errors = child(window, QTableView, "errorsView").model()
    assert errors.rowCount() == 1
    assert errors.data(errors.index(0, COL_FILE)) == BROKEN
    assert errors.data(errors.index(0, COL_KIND), KindRole) == "not_a_workbook"
    assert errors.data(errors.index(0, COL_ADVICE)) == ADVICE["not_a_workbook"]
    assert window.tabs.tabText(1) == "Errors (1)"

    log = child(window, QPlainTextEdit, "logView").toPlainText()
    assert "Started 'summarize' on 4 files" in log
    assert f"Failed: {BROKEN}" in log and "Finished after" in log

    # The end-of-batch summary and its buttons.
    assert window.summary.isVisible() and "3 done, 1 failed" in window.summary.label.text()
    qtbot.mouseClick(child(window, QPushButton, "openOutputButton"), Qt.MouseButton.LeftButton)
    assert recorder.opened == [str(out.resolve())]
    assert child(window, QPushButton, "retryFailedButton").isEnabled()

    # Double-click an error: its file is shown in its folder.
    errors_view = child(window, QTableView, "errorsView")
    window.tabs.setCurrentIndex(1)
    rect = errors_view.visualRect(errors.index(0, COL_FILE))
    # A real double-click is press, release, double-click: the view needs the press to know the item.
    qtbot.mouseClick(errors_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(errors_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert recorder.revealed == [str((inputs / BROKEN).resolve())]
    # The selected error is shown whole below the table.
    message = report["files"][[Path(f["path"]).name for f in report["files"]].index(BROKEN)]["error"]["message"]
    detail = window.errors_panel.detail.text()
    assert BROKEN in detail and ADVICE["not_a_workbook"] in detail
    assert message.replace("'", "&#x27;") in detail or message in detail


def test_errors_export_and_copy(window, inputs, qtbot, tmp_path):
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    set_output(qtbot, window, tmp_path / "out")
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        start(qtbot, window)
    broken = str((inputs / BROKEN).resolve())

    window.export_errors(tmp_path / "errors.csv")
    with open(tmp_path / "errors.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:6] == ["File", "Folder", "Problem", "Kind", "What happened", "What to do"]
    assert len(rows) == 2
    assert rows[1][0] == BROKEN and rows[1][1] == str(Path(broken).parent)
    assert rows[1][3] == "not_a_workbook" and rows[1][5] == ADVICE["not_a_workbook"]

    window.export_errors(tmp_path / "errors.xlsx")
    book = openpyxl.load_workbook(tmp_path / "errors.xlsx", read_only=True)
    sheet_rows = [list(r) for r in book["Errors"].iter_rows(values_only=True)]
    book.close()
    assert [str(v) for v in sheet_rows[1][:4]] == rows[1][:4]
    link = openpyxl.load_workbook(tmp_path / "errors.xlsx")["Errors"]["A2"].hyperlink
    assert link is not None and link.target == file_uri(broken)  # the name links to the file

    saved = window.save_log(tmp_path / "log.txt").read_text(encoding="utf-8")
    assert "Started 'summarize' on 4 files" in saved and f"Failed: {BROKEN}" in saved

    assert window.copy_errors() == 1
    copied = QGuiApplication.clipboard().text().splitlines()
    assert copied[0].startswith("File\tFolder\tProblem\tKind") and copied[1].startswith(f"{BROKEN}\t")


def test_retry_failed_reruns_only_the_failed_file(window, inputs, qtbot, tmp_path):
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    set_output(qtbot, window, tmp_path / "out")
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        start(qtbot, window)
    # The user fixes the broken file (it really was a CSV), then retries.
    (inputs / BROKEN).unlink()
    (inputs / BROKEN).write_bytes((inputs / "alpha.xlsx").read_bytes())
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as retried:
        qtbot.mouseClick(child(window, QPushButton, "retryFailedButton"), Qt.MouseButton.LeftButton)
    report = retried.args[0]
    assert [Path(f["path"]).name for f in report["files"]] == [BROKEN]
    assert report["counts"]["ok"] == 1
    assert statuses(window) == dict.fromkeys(GOOD | {BROKEN}, DONE)
    assert window.errors.rowCount() == 0 and window.tabs.tabText(1) == "Errors"
    assert not child(window, QPushButton, "retryFailedButton").isEnabled()


def test_an_input_folder_is_refused_as_output_folder(window, inputs, qtbot):
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    set_output(qtbot, window, inputs)
    assert not child(window, QPushButton, "startButton").isEnabled()
    assert "one of the input folders" in window.start_hint.text()
    assert child(window, QLineEdit, "outputEdit").property("invalid") is True
    set_output(qtbot, window, inputs / "results")
    assert child(window, QPushButton, "startButton").isEnabled()


def test_a_batch_the_engine_refuses_says_why_and_runs_nothing(window, inputs, qtbot, recorder):
    from tests.gui.tasks_for_tests import FormTask

    window.add_paths([inputs])
    pick(window, "taskCombo", FormTask.name)
    spec = window.build_spec()
    # A batch started from code (as Retry does) with values the form would not have let through.
    bad = dataclasses.replace(spec, params={**spec.params, "low": 9, "high": 2})
    assert window.start_batch(bad)
    qtbot.waitUntil(lambda: not window.is_running(), timeout=BATCH_TIMEOUT_MS)
    assert len(recorder.errors) == 1 and "cannot be above" in recorder.errors[0][1]
    assert window.task_panel.param_form.error_param == "low"  # shown at its field
    assert set(statuses(window).values()) == {"ready"}
    assert window.last_report is None and not window.summary.isVisible()
    assert "Not started" in child(window, QPlainTextEdit, "logView").toPlainText()
    assert not Path(spec.out_dir).exists()


# -- files ------------------------------------------------------------------------------------------
def test_add_files_remove_with_delete_and_clear(window, inputs, qtbot, monkeypatch):
    chosen = [str(inputs / "alpha.xlsx"), str(inputs / "gamma.csv"), str(inputs / "east" / "beta.xlsx")]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (chosen, ""))
    qtbot.mouseClick(child(window, QPushButton, "addFilesButton"), Qt.MouseButton.LeftButton)
    assert [window.files.row(r).name for r in range(3)] == ["alpha.xlsx", "gamma.csv", "beta.xlsx"]
    # Adding the same file again does not list it twice.
    window.add_paths([inputs / "alpha.xlsx"])
    assert window.files.rowCount() == 3

    view = child(window, QTableView, "filesView")
    window.activateWindow()
    view.setFocus()
    window.select_rows([1])
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert [window.files.row(r).name for r in range(2)] == ["alpha.xlsx", "beta.xlsx"]
    qtbot.mouseClick(child(window, QPushButton, "clearButton"), Qt.MouseButton.LeftButton)
    assert window.files.rowCount() == 0
    assert not child(window, QPushButton, "startButton").isEnabled()


def test_folder_walk_skips_earlier_outputs_and_lists_lock_files(window, inputs):
    earlier = inputs / DEFAULT_OUT_DIR
    earlier.mkdir()
    (earlier / "summary.xlsx").write_bytes((inputs / "alpha.xlsx").read_bytes())
    (inputs / "~$alpha.xlsx").write_bytes(b"\x00" * 165)
    (inputs / "readme.txt").write_text("not a workbook pattern", encoding="utf-8")
    window.add_paths([inputs])
    listed = statuses(window)
    assert set(listed) == GOOD | {BROKEN, "~$alpha.xlsx"}
    row = window.files.row_of(str((inputs / "~$alpha.xlsx").resolve()))
    assert window.files.data(window.files.index(row, 4)) == "Will be skipped"


def test_drop_files_and_folders_anywhere(window, inputs):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(inputs / "east")), QUrl.fromLocalFile(str(inputs / "gamma.csv"))])
    for target in (child(window, QTableView, "filesView").viewport(), window.cpu_gauge):
        pos = QPointF(target.rect().center())
        enter = QDragEnterEvent(  # Qt declares the drag-enter position as QPoint, the drop's as QPointF
            target.rect().center(),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(target, enter)
        assert enter.isAccepted()
        drop = QDropEvent(
            pos, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(target, drop)
    assert sorted(statuses(window)) == ["beta.xlsx", "gamma.csv"]


def test_load_sample_files(qtbot, monkeypatch, tmp_path):
    import xlbatch.gui.main_window as main_window

    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "sample.csv").write_text("a,b\r\n1,2\r\n", encoding="utf-8")
    monkeypatch.setattr(main_window, "samples_dir", lambda: samples)
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        button = child(window, QPushButton, "samplesButton")
        assert button.isEnabled()
        button.click()
        assert statuses(window) == {"sample.csv": "ready"}
    finally:
        window.monitor.stop()


def test_no_sample_files_disables_the_button(qtbot, monkeypatch, tmp_path):
    import xlbatch.gui.main_window as main_window

    monkeypatch.setattr(main_window, "samples_dir", lambda: tmp_path / "missing")
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        assert not child(window, QPushButton, "samplesButton").isEnabled()
    finally:
        window.monitor.stop()


# -- run settings -----------------------------------------------------------------------------------
def test_backends_and_automatic_workers(window, inputs):
    combo = child(window, QComboBox, "backendCombo")
    offered = [combo.itemData(i) for i in range(combo.count())]
    assert offered[0] == "auto" and combo.itemText(0) == BACKEND_TITLES["auto"]
    assert offered == list(available_backends())
    spin = child(window, QSpinBox, "workersSpin")
    window.add_paths([inputs])
    pick(window, "taskCombo", SlowTask.name)  # an I/O task: auto picks threads
    choice = window.auto_choice()
    assert choice is not None and choice.backend == "threads"
    assert spin.value() == choice.workers
    assert window.build_spec().workers is None  # automatic: the engine decides
    spin.setValue(3)
    assert window.build_spec().workers == 3
    window.run_settings.workers_auto.click()
    assert spin.value() == choice.workers and window.build_spec().workers is None
    pick(window, "backendCombo", "sequential")
    assert spin.value() == 1 and not spin.isEnabled()


# -- cancelling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["threads", "sequential"])
def test_cancel_finish_lets_running_files_finish(window, slow_inputs, qtbot, tmp_path, recorder, backend):
    workers = 2 if backend == "threads" else 1
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", backend, steps=20, workers=workers)
    qtbot.waitUntil(lambda: len(running_rows(window)) == workers, timeout=10_000)
    running = {window.files.row(r).path for r in running_rows(window)}
    recorder.cancel_answer = "finish"
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        qtbot.mouseClick(child(window, QPushButton, "cancelButton"), Qt.MouseButton.LeftButton)
    assert recorder.cancel_questions == [(workers, False)]
    report = finished.args[0]
    assert report["cancelled"] is True
    by_status = {f["path"]: f["status"] for f in report["files"]}
    assert {p for p, s in by_status.items() if s == "ok"} == running
    assert {p for p, s in by_status.items() if s == "cancelled"} == set(by_status) - running
    assert [window.files.row(window.files.row_of(p)).status for p in sorted(running)] == [DONE] * workers
    assert window.files.status_counts()[CANCELLED] == 6 - workers
    assert "Cancelled" in window.summary.label.text()


def test_cancel_now_stops_running_files(window, slow_inputs, qtbot, tmp_path, recorder):
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "threads", steps=2000)  # 100 s per file
    qtbot.waitUntil(lambda: len(running_rows(window)) == 2, timeout=10_000)
    recorder.cancel_answer = "now"
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # Esc is Cancel
    report = finished.args[0]
    assert report["counts"]["cancelled"] == 6 and report["counts"]["ok"] == 0
    assert window.files.status_counts()[CANCELLED] == 6
    assert not window.is_running()


def test_keep_running_when_the_cancel_question_is_declined(window, slow_inputs, qtbot, tmp_path, recorder):
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "threads", steps=2000)
    qtbot.waitUntil(lambda: len(running_rows(window)) == 2, timeout=10_000)
    recorder.cancel_answer = None
    qtbot.mouseClick(child(window, QPushButton, "cancelButton"), Qt.MouseButton.LeftButton)
    assert window.is_running() and window.run is not None and window.run.cancel_mode is None
    # Finish first, then escalate: the second question only offers stopping now.
    window.cancel_batch("finish")
    recorder.cancel_answer = "now"
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        qtbot.mouseClick(child(window, QPushButton, "cancelButton"), Qt.MouseButton.LeftButton)
    assert recorder.cancel_questions[-1] == (2, True)


def test_cancel_now_on_processes_leaves_no_worker(window, slow_inputs, qtbot, tmp_path, recorder):
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "processes", steps=2000)
    qtbot.waitUntil(lambda: len(running_rows(window)) >= 1, timeout=30_000)
    assert worker_children(), "the batch should run in worker processes"
    recorder.cancel_answer = "now"
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        qtbot.mouseClick(child(window, QPushButton, "cancelButton"), Qt.MouseButton.LeftButton)
    assert finished.args[0]["counts"]["ok"] == 0
    qtbot.waitUntil(lambda: not worker_children(), timeout=10_000)


def test_closing_during_a_batch_asks_then_stops_and_leaves_no_worker(window, slow_inputs, qtbot, tmp_path, recorder):
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "processes", steps=2000)
    qtbot.waitUntil(lambda: len(running_rows(window)) >= 1, timeout=30_000)
    recorder.close_answer = False
    window.close()
    assert recorder.close_questions == 1 and window.isVisible() and window.is_running()
    recorder.close_answer = True
    window.close()
    assert recorder.close_questions == 2 and not window.isVisible()
    assert window.run is not None and window.run.join(0)  # the controller thread has ended
    qtbot.waitUntil(lambda: not worker_children(), timeout=10_000)


# -- settings ---------------------------------------------------------------------------------------
def test_settings_survive_a_restart(window, inputs, qtbot, monkeypatch):
    from tests.gui.tasks_for_tests import FormTask

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(inputs))
    qtbot.mouseClick(child(window, QPushButton, "addFolderButton"), Qt.MouseButton.LeftButton)
    pick(window, "taskCombo", FormTask.name)
    window.task_panel.param_form.editors["count"].setValue(7)
    window.task_panel.param_form.editors["label"].setText("quarterly")
    window.task_panel.param_form.editors["columns"].setText("Region, Amount")
    pick(window, "backendCombo", "threads")
    child(window, QSpinBox, "workersSpin").setValue(3)
    child(window, QSpinBox, "timeoutSpin").setValue(30)
    # The offscreen screen is 800 x 800: a restored width is clamped to it, so the height tells (the
    # default height would be 92% of the screen).
    window.resize(window.width(), 640)
    window.close()

    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda _p, _t, start="", *a: asked.append(start) or "")
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert again.current_task_name() == FormTask.name
        values = again.task_panel.param_form.values()
        assert (values["count"], values["label"], values["columns"]) == (7, "quarterly", "Region, Amount")
        assert again.current_backend() == "threads"
        assert child(again, QSpinBox, "workersSpin").value() == 3
        assert child(again, QSpinBox, "timeoutSpin").value() == 30
        assert again.height() == 640
        again.choose_folder()
        assert asked == [str(inputs)]  # the folder dialog opens where the user was last time
    finally:
        again.monitor.stop()


def test_the_window_names_its_parts(window):
    names = {
        "filesView": QTableView,
        "addFilesButton": QPushButton,
        "addFolderButton": QPushButton,
        "taskCombo": QComboBox,
        "workersSpin": QSpinBox,
        "backendCombo": QComboBox,
        "outputEdit": QLineEdit,
        "startButton": QPushButton,
        "cancelButton": QPushButton,
        "overallProgress": QProgressBar,
        "errorsView": QTableView,
        "logView": QPlainTextEdit,
        "openOutputButton": QPushButton,
        "retryFailedButton": QPushButton,
    }
    for name, cls in names.items():
        child(window, cls, name)
    assert window.findChild(object, "cpuGauge") is not None
    assert window.findChild(object, "ramGauge") is not None
    task_combo = child(window, QComboBox, "taskCombo")
    from xlbatch.tasks import TASKS

    assert {task_combo.itemData(i) for i in range(task_combo.count())} == set(TASKS)
    assert window.findChild(QPushButton, "startButton").toolTip()


def test_the_tab_key_goes_through_the_window_in_reading_order(window):
    """Left column first (the tabs, the file list's buttons, the list), then the task and the run settings
    top to bottom, then Start and Cancel; the tab bar has the focus when the window opens."""
    assert QApplication.focusWidget() is window.findChild(QTabWidget, "tabs").tabBar()
    order = []
    widget = window.nextInFocusChain()
    while widget is not window:
        if widget.objectName() and widget.isVisibleTo(window) and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            order.append(widget.objectName())
        widget = widget.nextInFocusChain()
    assert order == [
        "tabs",
        "qt_tabwidget_tabbar",
        "addFilesButton",
        "addFolderButton",
        "removeButton",
        "clearButton",
        "samplesButton",
        "statusFilter",
        "fileSearch",
        "filesView",
        "taskCombo",
        "paramScroll",
        "workersSpin",
        "qt_spinbox_lineedit",
        "workersAutoButton",
        "backendCombo",
        "outputEdit",
        "browseOutputButton",
        "timeoutSpin",
        "qt_spinbox_lineedit",
        "forceCheck",
        "verifyCheck",
        "openWhenDoneCheck",
        "startButton",
        "cancelButton",
    ]
