"""The python task in the window: the script field (Browse…, New from template… that writes the starter
script and opens it in the editor, Open in editor), a bad script refused at the field before anything runs,
the combined table opened from the summary bar, and a recipe's script shown before it first runs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton

from tests.core.python_kit import TOTALS, sales_folder, write_script
from tests.gui.test_recipes import finish, write_recipe
from tests.gui.test_window import BATCH_TIMEOUT_MS, child, pick, set_output
from xlbatch.gui import desktop, dialogs
from xlbatch.script_template import STARTER
from xlbatch.user_script import check_script


@pytest.fixture
def edited(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the window asked the desktop to open in an editor."""
    opened: list[str] = []
    monkeypatch.setattr(desktop, "edit_file", lambda path: opened.append(str(path)) or True)
    return opened


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    """The recipe scripts the window asked about (and says yes to)."""
    questions: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        dialogs, "confirm_recipe_script", lambda _w, script, warning: questions.append((script, warning)) or True
    )
    return questions


def _script_edit(window) -> QLineEdit:
    return child(window, QLineEdit, "param_script_path")


def test_new_from_template_writes_the_starter_and_opens_it(window, tmp_path, monkeypatch, edited, qtbot) -> None:
    pick(window, "taskCombo", "python")
    target = tmp_path / "scripts" / "mine"  # without .py: the suffix is added
    target.parent.mkdir()
    monkeypatch.setattr(dialogs, "ask_new_script_path", lambda _w, _folder: str(target) + ".py")
    qtbot.mouseClick(child(window, QPushButton, "param_script_new"), Qt.MouseButton.LeftButton)
    written = target.with_suffix(".py")
    assert written.read_text(encoding="utf-8") == STARTER
    assert _script_edit(window).text() == str(written)
    assert edited == [str(written)]
    assert window.task_panel.valid  # the starter passes the task's own checks
    assert check_script(str(written)).function == "process"
    editor = child(window, QPushButton, "param_script_edit")
    assert editor.isEnabled()
    qtbot.mouseClick(editor, Qt.MouseButton.LeftButton)
    assert edited == [str(written), str(written)]
    # Asked again for the same name: the script is never overwritten, the field says why.
    qtbot.mouseClick(child(window, QPushButton, "param_script_new"), Qt.MouseButton.LeftButton)
    error = window.task_panel.param_form.error_labels["script"]
    assert "exists already" in error.text() and written.read_text(encoding="utf-8") == STARTER


def test_a_bad_script_is_refused_at_the_field(window, inputs, tmp_path, monkeypatch, qtbot) -> None:
    window.add_paths([inputs])
    pick(window, "taskCombo", "python")
    start = child(window, QPushButton, "startButton")
    bad = write_script(tmp_path, "def process(df, context):\n    return df[\n", "bad.py")
    monkeypatch.setattr(dialogs, "ask_script_path", lambda _w, _folder, extensions: str(bad))
    qtbot.mouseClick(child(window, QPushButton, "param_script_browse"), Qt.MouseButton.LeftButton)
    error = window.task_panel.param_form.error_labels["script"]
    assert error.isVisible() and "syntax error at line 2" in error.text()
    assert not start.isEnabled() and "syntax error at line 2" in window.start_hint.text()
    assert child(window, QPushButton, "param_script_edit").isEnabled()  # the file exists: it can be edited
    wrong = write_script(tmp_path, "def process(df):\n    return df\n", "wrong.py")
    edit = _script_edit(window)
    edit.selectAll()
    qtbot.keyClicks(edit, str(wrong))
    assert "must take two arguments" in error.text() and not start.isEnabled()
    edit.selectAll()
    qtbot.keyClicks(edit, str(write_script(tmp_path, TOTALS, "good.py")))
    assert not error.isVisible() and start.isEnabled()


def test_the_combined_table_opens_from_the_summary_bar(window, tmp_path, recorder, qtbot) -> None:
    window.add_paths([sales_folder(tmp_path / "in", 3)])
    pick(window, "taskCombo", "python")
    form = window.task_panel.param_form
    form.set_value("script", str(write_script(tmp_path, TOTALS)))
    form.set_value("output", "combined")
    set_output(qtbot, window, tmp_path / "out")
    report = finish(qtbot, window)
    assert report["counts"]["ok"] == 3
    button = child(window, QPushButton, "openTableButton")
    assert button.isVisible() and button.text() == "Open combined.xlsx"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert recorder.opened == [str(tmp_path / "out" / "combined.xlsx")]


def test_a_recipes_script_is_shown_before_it_runs(window, tmp_path, asked, qtbot) -> None:
    sales_folder(tmp_path / "in", 2)
    script = write_script(tmp_path, TOTALS, "totals.py")
    recipe = write_recipe(
        tmp_path / "job.yaml", task="python", params={"script": "totals.py"}, inputs=["in"], output="out",
        script_sha256="0" * 64,  # not the script's: it changed since the recipe was saved
    )
    assert window.open_recipe(recipe)
    report = finish(qtbot, window)
    assert report["counts"]["ok"] == 2
    assert len(asked) == 1 and asked[0][0] == str(script.resolve())
    assert "changed since the recipe was saved" in (asked[0][1] or "")
    finish(qtbot, window)
    assert len(asked) == 1  # asked once: the second run goes ahead


def test_saying_no_to_a_recipes_script_runs_nothing(window, tmp_path, monkeypatch, qtbot) -> None:
    sales_folder(tmp_path / "in", 1)
    write_script(tmp_path, TOTALS, "totals.py")
    recipe = write_recipe(tmp_path / "job.yaml", task="python", params={"script": "totals.py"}, inputs=["in"],
                          output="out")
    monkeypatch.setattr(dialogs, "confirm_recipe_script", lambda *_args: False)
    assert window.open_recipe(recipe)
    assert window.start_batch() is False
    assert not window.is_running() and not (tmp_path / "out").exists()
    other = write_script(tmp_path, TOTALS, "mine.py")  # a script the user picks here runs without a question
    window.task_panel.param_form.set_value("script", str(other))
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        assert window.start_batch() is True
