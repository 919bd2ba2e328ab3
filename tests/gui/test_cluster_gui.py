"""The "Dask cluster" backend in the window: its address row, the connection test (a LocalCluster on
127.0.0.1), a batch on it, and the files table naming the worker that ran each file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTableWidget

pytest.importorskip("distributed", reason="the dask backend needs distributed (a dependency of xlbatch)")

from tests.gui.test_window import BATCH_TIMEOUT_MS, GOOD, child, pick, set_output, start  # noqa: E402
from xlbatch.gui.cluster_dialog import ClusterDialog  # noqa: E402
from xlbatch.gui.models import COL_WORKER, DONE  # noqa: E402

SHOTS = os.environ.get("XLBATCH_SHOTS")  # a folder: save what the tests show, to look at


def _shot(widget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / name))


def test_the_cluster_row_shows_with_the_dask_backend_only(window) -> None:
    run = window.run_settings
    row = child(window, QLineEdit, "clusterEdit")
    assert not row.isVisibleTo(window)
    pick(window, "backendCombo", "dask")
    assert row.isVisibleTo(window) and child(window, QPushButton, "testClusterButton").isVisibleTo(window)
    assert run.spec_fields()["cluster"] is None  # empty: the settings file's cluster, else this computer
    row.setText("tcp://127.0.0.1:8786")
    assert run.spec_fields()["cluster"] == "tcp://127.0.0.1:8786"
    _shot(window, "window-dask.png")
    pick(window, "backendCombo", "processes")
    assert not row.isVisibleTo(window) and "cluster" not in run.spec_fields()


def test_test_connection_lists_the_workers_with_cores_and_memory(qtbot) -> None:
    dialog = ClusterDialog("local:2")
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.findChild(QTableWidget, "clusterWorkers")
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=60_000)
    status = dialog.findChild(QLabel, "clusterStatus").text()
    assert status.startswith("Connected: 2 Dask worker(s) with 2 thread(s) on 1 machine(s), this computer")
    for row in range(2):
        assert table.item(row, 0).text().startswith("tcp://127.0.0.1:")
        assert table.item(row, 2).text() == "1"  # cores: one thread per worker
        assert table.item(row, 3).text().endswith(("MB", "GB"))
    # A LocalCluster starts no dashboard unless asked: nothing to open.
    assert not dialog.findChild(QPushButton, "openDashboardButton").isEnabled()
    _shot(dialog, "cluster-dialog.png")


def test_an_unreachable_cluster_says_so_in_the_dialog(qtbot) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog = ClusterDialog(f"tcp://127.0.0.1:{port}")
    qtbot.addWidget(dialog)
    status = dialog.findChild(QLabel, "clusterStatus")
    qtbot.waitUntil(lambda: status.text().startswith("Cannot reach"), timeout=30_000)
    assert f"tcp://127.0.0.1:{port}" in status.text()


# Before, the thread's late answer reached for the deleted dialog and died with "Internal C++ object
# already deleted": such an exception in a thread fails this test.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dialog_closed_before_the_cluster_answers_takes_the_late_answer_safely(qtbot, monkeypatch) -> None:
    """The connection runs on its own thread and may answer after the user closed the dialog: the answer
    must go nowhere, not to a deleted window (which crashed the app)."""
    import threading

    from xlbatch.executors import dask_cluster

    answered = threading.Event()

    def slow_refusal(address: str, *args: object) -> None:
        threading.Event().wait(0.5)
        answered.set()
        raise dask_cluster.ClusterError(f"Cannot reach {address}.")

    monkeypatch.setattr(dask_cluster, "connect", slow_refusal)
    dialog = ClusterDialog("tcp://127.0.0.1:1")
    dialog.show()
    dialog.close()
    dialog.deleteLater()
    del dialog
    qtbot.wait(50)  # the dialog is gone
    qtbot.waitUntil(answered.is_set, timeout=5_000)
    qtbot.wait(200)  # the late answer is delivered (or dropped) here


def test_a_batch_on_the_cluster_shows_each_files_worker(window, inputs, qtbot, tmp_path) -> None:
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    pick(window, "backendCombo", "dask")
    child(window, QLineEdit, "clusterEdit").setText("local:2")
    set_output(qtbot, window, tmp_path / "out")
    start(qtbot, window)
    qtbot.waitUntil(lambda: not window.is_running(), timeout=BATCH_TIMEOUT_MS)
    model = window.files
    done = [model.row(r) for r in range(model.rowCount()) if model.row(r).status == DONE]
    assert {row.name for row in done} == GOOD
    for r in range(model.rowCount()):
        if model.row(r).status == DONE:
            shown = model.data(model.index(r, COL_WORKER))
            assert shown.startswith("127.0.0.1:"), shown  # the worker's host:port
            assert model.data(model.index(r, COL_WORKER), 3).startswith("tcp://127.0.0.1:")  # tooltip: all of it
    _shot(window, "window-dask-done.png")
