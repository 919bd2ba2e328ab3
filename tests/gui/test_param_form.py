"""The parameter form: built from a task's specs, validated by the task, and gating Start in the window."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QPushButton, QSpinBox

from tests.gui.tasks_for_tests import FormTask
from xlbatch.gui.param_form import ParamForm
from xlbatch.params import InvalidParams
from xlbatch.tasks import TASKS


def test_one_editor_per_parameter_by_type(qtbot):
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_task(FormTask)
    kinds = {name: type(editor) for name, editor in form.editors.items()}
    assert kinds == {
        "flag": QCheckBox,
        "mode": QComboBox,
        "count": QSpinBox,
        "ratio": QDoubleSpinBox,
        "limit": QLineEdit,  # a number without a default may stay empty
        "label": QLineEdit,
        "columns": QLineEdit,
        "low": QSpinBox,
        "high": QSpinBox,
    }
    count = form.editors["count"]
    assert (count.minimum(), count.maximum()) == (1, 10)
    ratio = form.editors["ratio"]
    assert (ratio.minimum(), ratio.maximum()) == (0.0, 1.0)
    mode = form.editors["mode"]
    assert [mode.itemData(i) for i in range(mode.count())] == ["fast", "careful"]
    for param in FormTask.params:
        assert form.editors[param.name].toolTip() == param.help
        assert form.editors[param.name].objectName() == f"param_{param.name}"


def test_values_are_what_the_task_accepts(qtbot):
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_task(FormTask)
    assert form.valid
    form.editors["columns"].setText("Region, Amount ,, Date")
    form.editors["mode"].setCurrentIndex(1)
    form.editors["limit"].setText("12")
    checked = FormTask.validate(form.values())
    assert checked["columns"] == ["Region", "Amount", "Date"]
    assert checked["mode"] == "careful"
    assert checked["limit"] == 12
    assert checked["flag"] is True
    form.editors["limit"].setText("")
    assert FormTask.validate(form.values())["limit"] is None


def test_a_bad_value_is_shown_at_its_field(qtbot):
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_task(FormTask)
    form.show()
    with qtbot.waitSignal(form.validityChanged) as blocker:
        form.editors["label"].setText("   ")
    assert blocker.args == [False]
    label_error = form.error_labels["label"]
    assert "label" in label_error.text().lower() and label_error.isVisibleTo(form)
    assert form.editors["label"].property("invalid") is True
    assert not form.error_labels["count"].isVisibleTo(form)
    form.editors["limit"].setText("many")
    # The first refusal the task raises is shown; fixing the label moves it to the next bad field.
    form.editors["label"].setText("ok")
    assert form.error_param == "limit"
    assert form.error_labels["limit"].isVisibleTo(form)
    assert not form.error_labels["label"].isVisibleTo(form)
    form.editors["limit"].setText("3")
    assert form.valid and form.error is None


def test_remembered_values_are_applied_and_misfits_ignored(qtbot):
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_task(FormTask, {"count": 7, "mode": "CAREFUL", "flag": "false", "columns": ["X", "Y"], "gone": 1})
    values = form.values()
    assert values["count"] == 7
    assert values["mode"] == "careful"
    assert values["flag"] is False
    assert values["columns"] == "X, Y"
    assert "gone" not in values


def test_every_registered_task_gets_a_form_that_starts_from_its_defaults(qtbot):
    """Whatever the task, the untouched form means exactly what the task's defaults mean."""
    form = ParamForm()
    qtbot.addWidget(form)
    for task in TASKS.values():
        form.set_task(task)
        assert set(form.editors) == {p.name for p in task.params}
        try:
            expected = task.validate({p.name: p.default for p in task.params})
        except InvalidParams as exc:  # some tasks need a choice before they can run (split: how)
            assert not form.valid, task.name
            assert form.error_param == exc.param, task.name  # the same field is flagged
        else:
            assert form.valid, f"{task.name}: {form.error}"
            assert task.validate(form.values()) == expected, task.name


def test_window_disables_start_until_the_value_is_fixed(window, inputs, qtbot):
    window.add_paths([inputs])
    combo = window.findChild(QComboBox, "taskCombo")
    combo.setCurrentIndex(combo.findData(FormTask.name))
    start = window.findChild(QPushButton, "startButton")
    assert start.isEnabled()
    low = window.task_panel.param_form.editors["low"]
    high = window.task_panel.param_form.editors["high"]
    high.setValue(3)
    low.setValue(5)  # low above high: the task's own cross-check refuses it
    assert not start.isEnabled()
    error = window.task_panel.param_form.error_labels["low"]
    assert error.isVisible() and "cannot be above" in error.text()
    assert "red" in window.start_hint.text()
    low.selectAll()
    qtbot.keyClicks(low, "2")  # the user types a new value
    assert low.value() == 2
    assert start.isEnabled()
    assert not error.isVisible()
