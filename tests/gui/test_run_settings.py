"""The run settings' checkboxes: each sets the BatchSpec field it names, and a remembered one comes back
after a restart. Shown with a checkbox added the way a new run setting is added (one TOGGLES line)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox

import xlbatch.gui.run_settings as run_settings
from tests.gui.test_window import child
from xlbatch.gui.main_window import MainWindow
from xlbatch.gui.run_settings import TOGGLES, Toggle
from xlbatch.gui.settings import AppSettings

RESUME = Toggle("resume", "Keep what an interrupted run finished", "resumeCheck", "tip", remembered=True)


def test_a_checkbox_sets_its_batch_field_and_a_remembered_one_survives_a_restart(
    qtbot, monkeypatch, inputs, tmp_path
):
    monkeypatch.setattr(run_settings, "TOGGLES", (*TOGGLES, RESUME))
    window = MainWindow()
    qtbot.addWidget(window)
    try:
        window.add_paths([inputs])
        window.set_output_folder(str(tmp_path / "out"))
        box = child(window, QCheckBox, "resumeCheck")
        assert not box.isChecked() and window.build_spec().resume is False
        box.setChecked(True)
        child(window, QCheckBox, "forceCheck").setChecked(True)
        spec = window.build_spec()
        assert spec.resume is True and spec.force is True
    finally:
        window.monitor.stop()
        window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert child(again, QCheckBox, "resumeCheck").isChecked()
        assert not child(again, QCheckBox, "forceCheck").isChecked()  # not remembered: off at every start
    finally:
        again.monitor.stop()
    assert AppSettings().flag("resume", False) is True


def test_flags_survive_odd_stored_values(qapp):
    settings = AppSettings()
    settings.set_flag("verify", False)
    assert settings.flag("verify", True) is False
    settings.qs.setValue("batch/verify", "not a flag")
    assert settings.flag("verify", True) is True
