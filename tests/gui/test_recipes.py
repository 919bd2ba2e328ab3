"""Recipes, the settings file and re-runs in the window: the same recipe run here and by the command line
gives the same outputs; Save then Open restores the set-up; unchanged files show as such; Re-run
everything processes them again; the settings file fills in what the window leaves open.

Expected values come from the files the tests write and from the command line's own run, never from
the window's code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import yaml
from PySide6.QtWidgets import QCheckBox, QFileDialog, QPushButton

from tests.gui.conftest import write_xlsx
from tests.gui.tasks_for_tests import FormTask, SlowTask
from tests.gui.test_window import BATCH_TIMEOUT_MS, BROKEN, GOOD, child, pick, set_output, start, statuses
from xlbatch.gui.main_window import MainWindow
from xlbatch.gui.models import COL_STATUS, DONE, FAILED, UNCHANGED, UNCHANGED_TIP
from xlbatch.recipe import load_recipe
from xlbatch.runner import REPORT_NAME

REPO = Path(__file__).resolve().parents[2]


def write_recipe(path: Path, **fields) -> Path:
    path.write_text(yaml.safe_dump({"xlbatch_recipe": 1, **fields}, sort_keys=False), encoding="utf-8")
    return path


def outputs_of(folder: Path) -> list[str]:
    """Output files below `folder`, relative, without the report and the run's state folder."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != REPORT_NAME and ".xlbatch" not in p.relative_to(folder).parts
    )


def workbook_values(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's cell values, with timing columns (headed "Time") left out: they differ per run."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheets = {}
        for sheet in book.worksheets:
            rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
            timing = {i for i, title in enumerate(rows[0] if rows else ()) if title == "Time"}
            sheets[sheet.title] = [tuple(v for i, v in enumerate(row) if i not in timing) for row in rows]
        return sheets
    finally:
        book.close()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from xlbatch.gui.entry import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def finish(qtbot, window: MainWindow) -> dict:
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS) as finished:
        start(qtbot, window)
    return finished.args[0]


# -- the same recipe, here and on the command line ---------------------------------------------------
def test_a_recipe_gives_the_same_outputs_in_the_window_and_on_the_command_line(
    window, inputs, qtbot, tmp_path, frozen_inputs
):
    frozen_inputs.append(inputs)
    recipe = write_recipe(
        tmp_path / "monthly.yaml",
        task="summarize",
        inputs=["inputs"],  # relative to the recipe's folder
        output="from-gui",
    )
    assert window.open_recipe(recipe)
    assert window.current_task_name() == "summarize"
    assert set(statuses(window)) == GOOD | {BROKEN}
    assert Path(window.run_settings.output_edit.text()) == (tmp_path / "from-gui").resolve()
    gui_report = finish(qtbot, window)

    cli_out = tmp_path / "from-cli"
    done = run_cli("run", "--recipe", str(recipe), "--out", str(cli_out), "--progress", "none")
    assert done.returncode == 1, done.stderr  # the text file named .xlsx fails in both
    cli_report = json.loads((cli_out / REPORT_NAME).read_text(encoding="utf-8"))

    gui_out = tmp_path / "from-gui"
    assert gui_report["counts"] == cli_report["counts"]
    assert gui_report["counts"]["ok"] == len(GOOD) and gui_report["counts"]["failed"] == 1
    assert {f["path"]: f["status"] for f in gui_report["files"]} == {
        f["path"]: f["status"] for f in cli_report["files"]
    }
    assert outputs_of(gui_out) == outputs_of(cli_out) != []
    for name in outputs_of(gui_out):
        if name.endswith(".xlsx"):
            assert workbook_values(gui_out / name) == workbook_values(cli_out / name), name
        else:
            assert (gui_out / name).read_bytes() == (cli_out / name).read_bytes(), name


def test_save_then_open_restores_the_set_up(window, inputs, qtbot, tmp_path, monkeypatch):
    window.add_paths([inputs])
    pick(window, "taskCombo", FormTask.name)
    window.task_panel.param_form.editors["count"].setValue(8)
    window.task_panel.param_form.editors["label"].setText("quarterly")
    window.task_panel.param_form.editors["columns"].setText("Region, Amount")
    pick(window, "backendCombo", "threads")
    window.run_settings.workers_spin.setValue(3)
    window.run_settings.timeout_spin.setValue(45)
    window.set_filters(["*.xlsx", "*.csv"], ["*draft*"])
    set_output(qtbot, window, tmp_path / "results")

    target = tmp_path / "recipes" / "form"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.commands.save_recipe.shortcut().toString() == "Ctrl+S"
    assert window.commands.open_recipe.shortcut().toString() == "Ctrl+O"
    window.commands.save_recipe.trigger()
    saved = target.with_name("form.yaml")  # the extension is added
    recipe = load_recipe(saved)
    assert recipe.task == FormTask.name
    assert recipe.inputs == [str(inputs.resolve())]  # the folder the user added, not its files
    assert (recipe.params["count"], recipe.params["label"], recipe.params["columns"]) == (
        8,
        "quarterly",
        "Region, Amount",
    )
    assert (recipe.backend, recipe.workers, recipe.timeout) == ("threads", 3, 45.0)
    assert (recipe.include, recipe.exclude) == (["*.xlsx", "*.csv"], ["*draft*"])
    assert recipe.output == str((tmp_path / "results").resolve())

    # A fresh window: the recipe brings back everything, and its folder is remembered.
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
        again.commands.open_recipe.trigger()
        assert again.current_task_name() == FormTask.name
        values = again.task_panel.param_form.values()
        assert (values["count"], values["label"], values["columns"]) == (8, "quarterly", "Region, Amount")
        assert again.current_backend() == "threads" and again.run_settings.workers_spin.value() == 3
        assert again.build_spec().workers == 3 and again.run_settings.timeout_spin.value() == 45
        assert again.filters == (["*.xlsx", "*.csv"], ["*draft*"])
        assert again.run_settings.output_edit.text() == str((tmp_path / "results").resolve())
        assert set(statuses(again)) == GOOD | {BROKEN}
        assert again.settings.folder("recipe") == str(saved.parent)
    finally:
        again.monitor.stop()
        again.close()


def test_a_recipe_keeps_the_listed_files_when_some_of_a_folder_were_removed(window, inputs, tmp_path):
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    window.select_rows([window.files.row_of(str((inputs / BROKEN).resolve()))])
    window.remove_selected()
    window.set_output_folder(str(tmp_path / "out"))
    recipe = window.current_recipe()
    assert recipe is not None
    assert sorted(Path(p).name for p in recipe.inputs) == sorted(GOOD)
    assert recipe.backend is None and recipe.timeout is None  # Auto and No limit stay open


def test_a_bad_recipe_says_why_and_changes_nothing(window, inputs, tmp_path, recorder):
    window.add_paths([inputs])
    pick(window, "taskCombo", SlowTask.name)
    newer = write_recipe(tmp_path / "newer.yaml", task="summarize")
    newer.write_text(newer.read_text(encoding="utf-8").replace("xlbatch_recipe: 1", "xlbatch_recipe: 99"))
    assert not window.open_recipe(newer)
    assert recorder.errors[-1][0] == "The recipe cannot be opened"
    assert "newer xlbatch" in recorder.errors[-1][1]
    unknown = write_recipe(tmp_path / "typo.yaml", task="summarize", ouptut="x")
    assert not window.open_recipe(unknown)
    assert "unknown key 'ouptut'" in recorder.errors[-1][1]
    no_task = write_recipe(tmp_path / "no-task.yaml", task="no_such_task")
    assert not window.open_recipe(no_task)
    assert "no_such_task" in recorder.errors[-1][1]
    assert window.current_task_name() == SlowTask.name and window.files.rowCount() == 4


# -- re-runs -----------------------------------------------------------------------------------------
def test_unchanged_files_are_shown_and_counted_apart_then_rerun_on_request(window, inputs, qtbot, tmp_path):
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    set_output(qtbot, window, tmp_path / "out")
    first = finish(qtbot, window)
    assert first["counts"]["ok"] == len(GOOD)

    # Nothing changed: the good files are not processed again; the broken one fails again.
    second = finish(qtbot, window)
    unchanged = {Path(f["path"]).name for f in second["files"] if f["reason"] == "unchanged"}
    assert unchanged == GOOD and second["counts"]["skipped"] == len(GOOD)
    assert statuses(window) == {**dict.fromkeys(GOOD, UNCHANGED), BROKEN: FAILED}
    row = window.files.row_of(str((inputs / "alpha.xlsx").resolve()))
    index = window.files.index(row, COL_STATUS)
    assert window.files.data(index) == "Unchanged"
    assert window.files.data(index, 3) == UNCHANGED_TIP  # the tooltip
    assert window.files_panel.view.colours[UNCHANGED] == window.files_panel.view.colours["skipped"]  # greyed
    summary = window.summary.label.text()
    assert "0 done, 1 failed" in summary and "skipped" not in summary and f"{len(GOOD)} unchanged" in summary
    assert f"{len(GOOD)} unchanged" in window.progress.counts_label.text()

    # The user changes one file: only that one runs again.
    write_xlsx(inputs / "alpha.xlsx", [["Region", "Amount"], ["North", 1]])
    third = finish(qtbot, window)
    assert {Path(f["path"]).name for f in third["files"] if f["status"] == "ok"} == {"alpha.xlsx"}
    assert statuses(window)["alpha.xlsx"] == DONE and statuses(window)["beta.xlsx"] == UNCHANGED

    # Re-run everything: every file is processed again.
    child(window, QCheckBox, "forceCheck").setChecked(True)
    assert window.build_spec().force is True
    fourth = finish(qtbot, window)
    assert fourth["counts"]["ok"] == len(GOOD) and fourth["counts"]["skipped"] == 0
    assert statuses(window) == {**dict.fromkeys(GOOD, DONE), BROKEN: FAILED}
    assert "unchanged" not in window.summary.label.text()


# -- the settings file -------------------------------------------------------------------------------
def test_the_settings_file_fills_in_what_the_window_leaves_open(window, slow_inputs, isolated_settings, tmp_path):
    isolated_settings.write_text(
        "parallelization:\n"
        f"  backends: {{{SlowTask.name}: sequential}}\n"
        "  max_workers: {io_bound: 3}\n"
        "  timeout_seconds: 120\n"
        "memory_guard_mb: 250\n"
        "cache: {enabled: false}\n",
        encoding="utf-8",
    )
    window.add_paths([slow_inputs])
    pick(window, "taskCombo", SlowTask.name)
    window.set_output_folder(str(tmp_path / "out"))
    spec = window.build_spec()
    # Auto in the window: the backend the settings file names for this task.
    assert spec.backend == "sequential" and spec.timeout == 120 and spec.memory_floor_mb == 250
    assert spec.cache is False and spec.max_workers == 3
    choice = window.auto_choice()
    assert choice is not None and choice.backend == "sequential"
    assert "settings file" in window.run_settings.auto_hint.toolTip()
    assert window.run_settings.timeout_spin.specialValueText() == "Settings: 120 s"  # what 0 means now
    assert not child(window, QCheckBox, "forceCheck").isEnabled()  # nothing is skipped anyway
    # What the user picks in the window wins over the file.
    pick(window, "backendCombo", "threads")
    window.run_settings.timeout_spin.setValue(30)
    spec = window.build_spec()
    assert spec.backend == "threads" and spec.timeout == 30


def test_a_broken_settings_file_is_named_at_start_and_nothing_runs(
    window, inputs, isolated_settings, tmp_path, recorder
):
    isolated_settings.write_text("parallelization:\n  default_backend: turbo\n", encoding="utf-8")
    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    window.set_output_folder(str(tmp_path / "out"))
    child(window, QPushButton, "startButton").click()
    assert not window.is_running()
    assert recorder.errors and "settings file" in recorder.errors[-1][1] and "turbo" in recorder.errors[-1][1]
    assert not (tmp_path / "out").exists()
