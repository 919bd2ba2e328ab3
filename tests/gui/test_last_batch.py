"""The file list and an unfinished batch survive a restart or a crash (xlbatch.gui.last_batch).

A "restart" is a second window opened after the first closed, in the same test (the kept state lives
below the test's tmp_path). A crash is a window that never gets to finish its batch: closed during it
(the app then stops the files at once and keeps the batch as unfinished), or its state file copied while
the batch ran, which is what a killed app leaves.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.gui.conftest import write_xlsx
from tests.gui.tasks_for_tests import SlowTask
from tests.gui.test_window import BATCH_TIMEOUT_MS, start_slow
from xlbatch.gui.last_batch import STATE_FILE, SavedState, read_state, write_state
from xlbatch.gui.main_window import MainWindow
from xlbatch.gui.models import DONE
from xlbatch.runner import RESUMED


def new_window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_the_state_file_round_trips_and_a_damaged_one_is_ignored(tmp_path):
    path = tmp_path / STATE_FILE
    state = SavedState([("/d/a.xlsx", 10, None), ("/d/~$a.xlsx", 165, "Excel lock file")], ["/d"], ["/d"], None)
    write_state(path, state)
    assert read_state(path) == state
    for damaged in ("", "{", '{"version": 1}', '{"version": 99, "files": []}', "[1, 2]"):
        path.write_text(damaged, encoding="utf-8")
        assert read_state(path) is None, damaged
    assert read_state(tmp_path / "missing.json") is None


def test_the_file_list_comes_back_after_a_restart(window, inputs, qtbot, app_state_folder, recorder):
    window.add_paths([inputs / "alpha.xlsx", inputs / "gamma.csv"])
    qtbot.waitUntil(lambda: (app_state_folder / STATE_FILE).is_file(), timeout=5000)  # a second later
    window.add_paths([inputs / "east"])  # the last change is written when the window closes
    window.close()
    again = new_window(qtbot)
    qtbot.waitUntil(lambda: again.files.rowCount() == 3, timeout=5000)
    assert [again.files.row(r).name for r in range(3)] == ["alpha.xlsx", "gamma.csv", "beta.xlsx"]
    assert again.files_panel.default_output() == window.files_panel.default_output()
    assert recorder.restore_questions == []  # no batch was left: nothing to ask
    again.close()


def test_a_batch_closed_unfinished_is_offered_and_continues_where_it_stopped(
    window, slow_inputs, qtbot, tmp_path, recorder, app_state_folder
):
    out = tmp_path / "out"
    start_slow(qtbot, window, slow_inputs, out, "threads", steps=8)
    qtbot.waitUntil(lambda: window.files.status_counts()[DONE] >= 2, timeout=30_000)
    recorder.close_answer = True
    window.close()  # "stop it and close?" yes: the running files are stopped
    state = json.loads((app_state_folder / STATE_FILE).read_text(encoding="utf-8"))
    assert state["batch"] is not None and len(state["batch"]["spec"]["paths"]) == 6

    recorder.restore_answer = True
    again = MainWindow()
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        again.show()
    report = finished.args[0]
    assert [files for files, _text in recorder.restore_questions] == [6]
    assert "Slow test task" in recorder.restore_questions[0][1] and str(out) in recorder.restore_questions[0][1]
    assert report["counts"] == {"total": 6, "ok": 6, "failed": 0, "skipped": 0, "cancelled": 0}
    kept = [f for f in report["files"] if f["reason"] == RESUMED]
    assert len(kept) >= 2  # the files the first window finished were not run again
    assert again.current_task_name() == SlowTask.name and again.run_settings.output_text() == str(out)
    assert set(again.files.status_counts().items()) >= {(DONE, 6)}
    # The batch ended: the next start has nothing to offer but the list.
    assert json.loads((app_state_folder / STATE_FILE).read_text(encoding="utf-8"))["batch"] is None
    again.close()


def test_a_crash_during_a_batch_is_offered_and_no_starts_empty(
    window, slow_inputs, qtbot, tmp_path, recorder, app_state_folder
):
    start_slow(qtbot, window, slow_inputs, tmp_path / "out", "threads", steps=4)
    state_path = app_state_folder / STATE_FILE
    left_by_a_crash = state_path.read_bytes()  # written when the batch started: what a killed app leaves
    qtbot.waitUntil(lambda: not window.is_running(), timeout=BATCH_TIMEOUT_MS)
    window.close()
    state_path.write_bytes(left_by_a_crash)

    recorder.restore_answer = False
    again = new_window(qtbot)
    qtbot.waitUntil(lambda: len(recorder.restore_questions) == 1, timeout=5000)
    assert again.files.rowCount() == 0 and not again.is_running()
    assert read_state(state_path) == SavedState()  # forgotten: not offered again
    again.close()


def test_a_window_given_files_does_not_take_the_old_list(window, inputs, qtbot, tmp_path, app_state_folder):
    window.add_paths([inputs / "alpha.xlsx"])
    window.close()
    other = tmp_path / "other"
    other.mkdir()
    write_xlsx(other / "fresh.xlsx", [["a"], [1]])
    again = MainWindow()
    qtbot.addWidget(again)
    again.add_paths([other / "fresh.xlsx"])  # as `xlbatch gui PATH` does, before the window shows
    again.show()
    qtbot.wait(50)
    assert [again.files.row(r).name for r in range(again.files.rowCount())] == ["fresh.xlsx"]
    assert Path(again.files.row(0).path).parent == other.resolve()
    again.close()
