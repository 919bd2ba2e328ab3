"""A file's details (double-click in the file table): the message and technical detail, warnings and
outputs, and the buttons Open file location, Copy and Retry this file."""

from __future__ import annotations

import html

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QListWidget, QPlainTextEdit, QPushButton

from tests.gui.test_window import BATCH_TIMEOUT_MS, BROKEN, pick, set_output
from xlbatch.errors import ADVICE
from xlbatch.gui.file_details import FileDetailsDialog, details_text, show_file_details
from xlbatch.gui.models import DONE, FAILED, FileRow


def row_named(window, name: str) -> int:
    return next(r for r in range(window.files.rowCount()) if window.files.row(r).name == name)


def run(window, qtbot, task: str, out):
    pick(window, "taskCombo", task)
    set_output(qtbot, window, out)
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        window.start_batch()
    return finished.args[0]


def button(dialog: FileDetailsDialog, name: str) -> QPushButton:
    found = dialog.findChild(QPushButton, name)
    assert found is not None, name
    return found


def test_details_text_holds_everything_the_dialog_shows():
    row = FileRow("/d/q1.xlsx", "q1.xlsx", "/d", 2048, "Excel workbook", status=FAILED, seconds=1.25)
    row.note, row.kind, row.detail = "The file is damaged.", "corrupt", "zlib.error: invalid stored block"
    row.warnings, row.outputs = ("Data!B5 holds #N/A",), ("/out/q1.csv",)
    text = details_text(row)
    for part in ("q1.xlsx", "Folder: /d", "Status: Failed in 1.2 s", "Damaged file (corrupt)", "The file is damaged.",
                 ADVICE["corrupt"], "zlib.error: invalid stored block", "Warnings (1):", "- Data!B5 holds #N/A",
                 "Outputs (1):", "- /out/q1.csv"):  # fmt: skip
        assert part in text, part
    done = FileRow("/d/ok.xlsx", "ok.xlsx", "/d", 10, "Excel workbook", status=DONE)
    assert "Processed without problems." in details_text(done) and "What to do" not in details_text(done)


def test_a_failed_file_shows_why_copies_reveals_and_retries(window, inputs, qtbot, tmp_path, recorder):
    window.add_paths([inputs])
    report = run(window, qtbot, "summarize", tmp_path / "out")
    error = next(f["error"] for f in report["files"] if f["status"] == "failed")
    assert error["kind"] == "not_a_workbook" and error["detail"]
    dialog = show_file_details(window, row_named(window, BROKEN))
    assert dialog is not None and dialog.isVisible()
    summary = dialog.findChild(object, "detailSummary").text()
    assert BROKEN in summary and html.escape(error["message"]) in summary and ADVICE["not_a_workbook"] in summary
    assert dialog.findChild(QPlainTextEdit, "detailText").toPlainText() == error["detail"]  # the technical text

    qtbot.mouseClick(button(dialog, "copyDetailsButton"), Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith(BROKEN) and f"Technical detail:\n{error['detail']}" in copied
    assert error["message"] in copied
    qtbot.mouseClick(button(dialog, "openLocationButton"), Qt.MouseButton.LeftButton)
    assert recorder.revealed == [str((inputs / BROKEN).resolve())]

    # The user repairs the file (it was meant to be a workbook) and retries it from here.
    (inputs / BROKEN).write_bytes((inputs / "alpha.xlsx").read_bytes())
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as retried:
        qtbot.mouseClick(button(dialog, "retryFileButton"), Qt.MouseButton.LeftButton)
    report = retried.args[0]
    assert [f["path"] for f in report["files"]] == [str((inputs / BROKEN).resolve())]
    assert report["counts"]["ok"] == 1 and window.files.row(row_named(window, BROKEN)).status == DONE
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()  # closed once the retry started


def test_a_done_file_lists_its_outputs_and_runs_again_even_unchanged(window, inputs, qtbot, tmp_path, recorder):
    window.add_paths([inputs / "alpha.xlsx", inputs / "gamma.csv"])
    run(window, qtbot, "convert", tmp_path / "out")
    dialog = show_file_details(window, row_named(window, "gamma.csv"))
    outputs = dialog.findChild(QListWidget, "outputsList")
    assert outputs is not None and outputs.count() == 1 and outputs.item(0).text().endswith("gamma.xlsx")
    outputs.itemDoubleClicked.emit(outputs.item(0))
    assert recorder.opened == [outputs.item(0).text()]
    # Retry this file: it runs again although nothing changed (the cache would skip it as unchanged).
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as retried:
        qtbot.mouseClick(button(dialog, "retryFileButton"), Qt.MouseButton.LeftButton)
    files = retried.args[0]["files"]
    assert [(f["status"], f["reason"]) for f in files] == [("ok", None)]
    assert window.files.row(row_named(window, "alpha.xlsx")).status == DONE  # the other row keeps its state


def test_retry_is_off_while_a_batch_runs(window, slow_inputs, qtbot, tmp_path):
    from tests.gui.test_window import start_slow

    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "threads", steps=400)
    dialog = show_file_details(window, 0)
    assert not button(dialog, "retryFileButton").isEnabled()
    dialog.close()
