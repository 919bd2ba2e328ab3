"""A batch's end: one notification when the user is elsewhere (tray message, else the taskbar), never one
per file, and the output folder opened when "When done, open the output folder" is ticked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QCheckBox

from tests.gui.test_window import BATCH_TIMEOUT_MS, pick, set_output, start_slow
from xlbatch.cancel import FINISH
from xlbatch.gui import finishing
from xlbatch.gui.finishing import finish_message
from xlbatch.gui.main_window import MainWindow


def report(ok=3, failed=0, skipped=0, cancelled=0, was_cancelled=False, seconds=12.0) -> dict:
    total = ok + failed + skipped + cancelled
    counts = {"total": total, "ok": ok, "failed": failed, "skipped": skipped, "cancelled": cancelled}
    return {"task": "summarize", "counts": counts, "cancelled": was_cancelled, "seconds": seconds}


def test_the_message_says_how_the_batch_ended():
    assert finish_message(report()) == ("Summarize workbooks: finished", "3 done of 3 files in 12 s.", False)
    title, text, bad = finish_message(report(ok=50, failed=2, skipped=1))
    assert (title, bad) == ("Summarize workbooks: 2 files failed", True)
    assert text == "50 done, 2 failed, 1 skipped of 53 files in 12 s."
    title, _text, bad = finish_message(report(ok=1, cancelled=4, was_cancelled=True))
    assert (title, bad) == ("Summarize workbooks: cancelled", True)


@pytest.fixture
def alerts(monkeypatch) -> list:
    calls: list = []
    monkeypatch.setattr(finishing, "alert", lambda window: calls.append(window))
    return calls


def run_summary(window, inputs, qtbot, out):
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    set_output(qtbot, window, out)
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        window.start_batch()


@pytest.mark.parametrize("tray", [False, True])
def test_one_notification_per_batch_when_the_window_is_not_active(
    window, inputs, qtbot, tmp_path, monkeypatch, alerts, tray
):
    monkeypatch.setattr(finishing, "tray_available", lambda: tray)
    monkeypatch.setattr(window.finishing, "window_active", lambda: False)
    run_summary(window, inputs, qtbot, tmp_path / "out")  # four files, one of them failing
    channel = "tray" if tray else "taskbar"
    assert window.finishing.notified == [(channel, "Summarize workbooks: 1 file failed")]
    assert alerts == ([] if tray else [window])
    if tray:
        assert window.finishing.tray is not None and window.finishing.tray.isVisible()
        QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))  # the user comes back
        assert not window.finishing.tray.isVisible()


def test_no_notification_while_the_user_watches_the_window(window, inputs, qtbot, tmp_path, monkeypatch, alerts):
    monkeypatch.setattr(window.finishing, "window_active", lambda: True)
    run_summary(window, inputs, qtbot, tmp_path / "out")
    assert window.finishing.notified == [] and alerts == []


def test_when_done_the_output_folder_opens_if_asked_and_the_choice_is_remembered(
    window, inputs, qtbot, tmp_path, recorder
):
    box = window.findChild(QCheckBox, "openWhenDoneCheck")
    assert box is not None and not box.isChecked()
    run_summary(window, inputs, qtbot, tmp_path / "first")
    assert recorder.opened == []
    box.setChecked(True)
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        window.retry_failed()
    assert recorder.opened == [str((tmp_path / "first").resolve())]
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.findChild(QCheckBox, "openWhenDoneCheck").isChecked()
    again.close()


def test_a_cancelled_batch_does_not_open_the_output_folder(window, slow_inputs, qtbot, tmp_path, recorder):
    window.findChild(QCheckBox, "openWhenDoneCheck").setChecked(True)
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "threads", steps=40)
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        window.cancel_batch(FINISH)
    assert finished.args[0]["cancelled"] and recorder.opened == []
