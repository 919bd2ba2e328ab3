"""The window's warm process pool: consecutive batches run in the same worker processes, a pool is
prestarted when files are added for a task that will use it, and closing the window leaves no worker.

Which process ran a file is told by the test-only task `gui_test_pid`, which returns its process id.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QSpinBox

from tests.gui.conftest import worker_children
from tests.gui.tasks_for_tests import PidTask, SlowTask
from tests.gui.test_window import BATCH_TIMEOUT_MS, child, pick, start


def pids(report: dict) -> set[int]:
    assert report["counts"]["ok"] == report["counts"]["total"] > 0, report["counts"]
    return {f["result"]["pid"] for f in report["files"]}


def run_to_end(qtbot, window, out: Path) -> dict:
    window.set_output_folder(str(out))
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        start(qtbot, window)
    return finished.args[0]


def test_two_batches_on_processes_run_in_the_same_worker_processes(window, slow_inputs, qtbot, tmp_path):
    window.prestart_enabled = False  # the first batch starts its pool itself
    window.add_paths([slow_inputs])
    pick(window, "taskCombo", PidTask.name)
    pick(window, "backendCombo", "processes")
    child(window, QSpinBox, "workersSpin").setValue(2)

    first = run_to_end(qtbot, window, tmp_path / "first")
    assert first["backend"] == "processes" and first["workers"] == 2
    # The pool's workers outlive the batch: kept warm. (On a busy machine one worker may have run every
    # file while the other was still starting, so the pool, not the first batch's results, is the reference.)
    pool = {p.pid for p in worker_children()}
    assert pids(first) <= pool and len(pool) == 2
    assert window.pools.warm("processes", 2)

    second = run_to_end(qtbot, window, tmp_path / "second")
    assert pids(second) <= pool

    window.close()
    qtbot.waitUntil(lambda: not worker_children(), timeout=10_000)


def test_adding_files_prestarts_the_pool_the_batch_then_uses(window, slow_inputs, qtbot, tmp_path):
    pick(window, "taskCombo", PidTask.name)
    pick(window, "backendCombo", "processes")
    child(window, QSpinBox, "workersSpin").setValue(2)
    assert not worker_children()
    window.add_paths([slow_inputs])
    assert window.prestart_target() == 2
    qtbot.waitUntil(lambda: window.pools.warm("processes", 2), timeout=30_000)
    prestarted = {p.pid for p in worker_children()}
    assert len(prestarted) >= 2

    report = run_to_end(qtbot, window, tmp_path / "out")
    assert pids(report) <= prestarted

    window.close()
    qtbot.waitUntil(lambda: not worker_children(), timeout=10_000)


def test_no_pool_is_prestarted_when_the_batch_would_not_use_one(window, slow_inputs):
    pick(window, "taskCombo", SlowTask.name)  # I/O-bound: threads
    window.add_paths([slow_inputs])
    assert window.prestart_target() is None
    pick(window, "taskCombo", PidTask.name)
    pick(window, "backendCombo", "threads")
    assert window.prestart_target() is None
    # Auto with a few tiny files: one at a time beats even a warm pool.
    pick(window, "backendCombo", "auto")
    assert window.prestart_target() is None
    assert window.prestart_pool() is None and not worker_children()


def test_closing_while_the_pool_is_starting_leaves_no_worker(window, slow_inputs, qtbot):
    pick(window, "taskCombo", PidTask.name)
    pick(window, "backendCombo", "processes")
    child(window, QSpinBox, "workersSpin").setValue(2)
    window.add_paths([slow_inputs])
    future = window.prestart_pool()  # now, not after the settle delay
    assert future is not None
    window.close()
    qtbot.waitUntil(future.done, timeout=30_000)
    qtbot.waitUntil(lambda: not worker_children(), timeout=10_000)
