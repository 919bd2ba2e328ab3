"""Batch > Compare backends…: the dialog measures on a sample of the listed files off the GUI thread,
draws one bar per measured way of running, and "Use the winner" sets the main window's run settings.

Kept small: four tiny files, two of them sampled, threads only besides the sequential baseline.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QProgressBar, QPushButton, QSpinBox

from tests.gui.test_window import pick
from xlbatch.bench import candidates
from xlbatch.executors import available_backends
from xlbatch.gui.compare import BenchChart, CompareDialog, nice_step

TIMEOUT_MS = 60_000


def only_threads(dialog: CompareDialog) -> None:
    for name, box in dialog.backend_checks.items():
        box.setChecked(name == "threads")


def test_compare_backends_draws_a_bar_per_run_and_uses_the_winner(window, inputs, qtbot, frozen_inputs):
    frozen_inputs.append(inputs)
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    assert window.commands.compare.isEnabled()
    window.commands.compare.trigger()
    dialog = window.compare_dialog
    assert isinstance(dialog, CompareDialog) and dialog.isVisible()
    only_threads(dialog)
    dialog.findChild(QSpinBox, "sampleSpin").setValue(2)
    expected = [c for c in candidates(dialog.cores, available_backends(), 2) if c.backend in ("sequential", "threads")]
    assert dialog.chosen_candidates() == expected

    with qtbot.waitSignal(dialog.comparisonFinished, timeout=TIMEOUT_MS) as finished:
        qtbot.mouseClick(dialog.findChild(QPushButton, "runCompareButton"), Qt.MouseButton.LeftButton)
        assert dialog.running and not dialog.findChild(QPushButton, "runCompareButton").isEnabled()
    result = finished.args[0]
    assert result is not None and not result.cancelled
    assert [(r.backend, r.workers) for r in result.rows] == [(c.backend, c.workers) for c in expected]
    assert len(result.files) == 2
    measured = [r for r in result.rows if r.error is None]
    assert measured and all(r.ok_files + r.failed_files == 2 for r in measured)

    chart = dialog.findChild(BenchChart, "benchChart")
    assert chart.rows == result.rows
    bars = chart.bar_rects()
    assert len(bars) == len(measured)
    # Longer bar, more files per second: the widths follow the measured figures.
    fastest = max(range(len(measured)), key=lambda i: measured[i].files_per_second)
    assert bars[fastest].width() == max(b.width() for b in bars)
    assert not chart.grab().isNull()
    progress = dialog.findChild(QProgressBar, "compareProgress")
    assert progress.value() == progress.maximum()
    assert "Recommended" in dialog.recommendation.text()

    best = result.best
    assert dialog.winner() == (best.backend, best.workers)
    qtbot.mouseClick(dialog.findChild(QPushButton, "useWinnerButton"), Qt.MouseButton.LeftButton)
    assert window.compare_dialog is None  # closed
    assert window.current_backend() == best.backend
    if best.backend != "sequential":
        assert window.run_settings.workers_spin.value() == best.workers and window.build_spec().workers == best.workers
    else:
        assert window.run_settings.workers_spin.value() == 1 and not window.run_settings.workers_spin.isEnabled()
    assert not dialog.isVisible()


def test_cancelling_a_comparison_keeps_what_was_measured(window, slow_inputs, qtbot):
    from tests.gui.tasks_for_tests import SlowTask

    window.add_paths([slow_inputs])
    pick(window, "taskCombo", SlowTask.name)
    window.task_panel.param_form.editors["steps"].setValue(2000)  # 100 s per file: only a cancel ends it soon
    dialog = window.compare_backends()
    only_threads(dialog)
    dialog.findChild(QSpinBox, "sampleSpin").setValue(1)
    with qtbot.waitSignal(dialog.comparisonFinished, timeout=TIMEOUT_MS) as finished:
        dialog.start()
        qtbot.waitUntil(lambda: "Run 1 of" in dialog.status.text(), timeout=TIMEOUT_MS)
        qtbot.mouseClick(dialog.findChild(QPushButton, "cancelCompareButton"), Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert result is not None and result.cancelled and result.rows == []
    assert dialog.chart.bar_rects() == [] and not dialog.findChild(QPushButton, "useWinnerButton").isEnabled()
    assert dialog.findChild(QPushButton, "cancelCompareButton").text() == "Close"
    assert all(box.isEnabled() for box in dialog.findChildren(QCheckBox) if box.objectName().startswith("try_"))


def test_nothing_to_compare_without_files(window, recorder):
    pick(window, "taskCombo", "summarize")
    assert not window.commands.compare.isEnabled()
    assert window.compare_backends() is None
    assert recorder.errors and recorder.errors[-1][0] == "Nothing to compare"


def test_chart_scale_steps_are_round():
    assert [nice_step(v) for v in (0.9, 7.3, 40, 260)] == [0.5, 2, 10, 100]
