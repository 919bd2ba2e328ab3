"""The output check in the window: a "Check outputs" box in the run settings, on by default, remembered
between sessions, carried into the batch and into saved recipes, and set by an opened recipe."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QFileDialog

from tests.gui.tasks_for_tests import FormTask
from tests.gui.test_window import child, pick, set_output
from xlbatch.gui.main_window import MainWindow
from xlbatch.recipe import load_recipe


def test_the_box_is_on_by_default_and_reaches_the_batch(window, inputs) -> None:
    box = child(window, QCheckBox, "verifyCheck")
    assert box.isChecked() and box.isEnabled() and box.isVisible()
    assert window.run_settings.isAncestorOf(box)
    window.add_paths([inputs])
    assert window.build_spec().verify is True
    box.setChecked(False)
    assert window.build_spec().verify is False


def test_the_box_is_remembered(window, qtbot) -> None:
    child(window, QCheckBox, "verifyCheck").setChecked(False)
    window.save_settings()
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert not child(again, QCheckBox, "verifyCheck").isChecked()
    finally:
        again.monitor.stop()
        again.close()


def test_the_settings_file_gives_the_first_default(isolated_settings: Path, qtbot) -> None:
    isolated_settings.write_text("verify: false\n", encoding="utf-8")
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    try:
        assert not child(fresh, QCheckBox, "verifyCheck").isChecked()
    finally:
        fresh.monitor.stop()
        fresh.close()


def test_recipes_save_and_restore_the_box(window, inputs, qtbot, tmp_path, monkeypatch) -> None:
    window.add_paths([inputs])
    pick(window, "taskCombo", FormTask.name)
    set_output(qtbot, window, tmp_path / "results")
    child(window, QCheckBox, "verifyCheck").setChecked(False)
    target = tmp_path / "off.yaml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.commands.save_recipe.trigger()
    assert load_recipe(target).verify is False

    child(window, QCheckBox, "verifyCheck").setChecked(True)
    assert window.open_recipe(target)
    assert not child(window, QCheckBox, "verifyCheck").isChecked()
