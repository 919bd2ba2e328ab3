"""`xlbatch gui --recipe FILE --start --exit-when-done`: the window opens the recipe, starts it at once and
closes after it, with the exit status `xlbatch run --recipe FILE` gives (0/1/2/130)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.gui.conftest import worker_children
from tests.gui.tasks_for_tests import SlowTask
from xlbatch.gui.launch import LaunchRequest, RecipeLaunch
from xlbatch.gui.models import DONE

ROOT = Path(__file__).resolve().parents[2]
GOOD = ("alpha.xlsx", "gamma.csv")


def write_recipe(path: Path, inputs: list[Path], out: Path, task: str = "summarize", **extra) -> Path:
    recipe = {"xlbatch_recipe": 1, "task": task, "inputs": [str(p) for p in inputs], "output": str(out), **extra}
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def launch(window, recipe: Path | str, exit_when_done: bool = True) -> RecipeLaunch:
    return RecipeLaunch(window, LaunchRequest(str(recipe), start=True, exit_when_done=exit_when_done))


@pytest.mark.parametrize(("files", "expected"), [(GOOD, 0), ((*GOOD, "notes.xlsx"), 1)])
def test_the_recipe_runs_at_once_and_the_window_closes_with_the_cli_exit_status(
    window, inputs, qtbot, tmp_path, files, expected
):
    recipe = write_recipe(tmp_path / "monthly.yaml", [inputs / name for name in files], tmp_path / "out")
    started = launch(window, recipe)
    assert started.begin() and window.is_running()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert started.result(0) == expected
    report = (tmp_path / "out" / "report.json").read_text(encoding="utf-8")
    assert f'"total": {len(files)}' in report
    assert window.save_settings_on_close is False and window.last_batch.enabled is False


def test_without_exit_when_done_the_window_stays_after_the_batch(window, inputs, qtbot, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [inputs / "alpha.xlsx"], tmp_path / "out")
    started = launch(window, recipe, exit_when_done=False)
    with qtbot.waitSignal(window.batchFinished, timeout=60_000):
        assert started.begin()
    qtbot.wait(50)
    assert window.isVisible() and window.files.row(0).status == DONE
    assert started.exit_code == 0 and started.result(0) == 0  # the window's own exit status then


def test_a_recipe_that_cannot_open_or_start_exits_2(window, inputs, tmp_path, recorder):
    started = launch(window, tmp_path / "missing.yaml")
    assert not started.begin() and started.result(0) == 2
    assert recorder.errors[-1][0] == "The recipe cannot be opened"
    empty = write_recipe(tmp_path / "empty.yaml", [], tmp_path / "out")
    started = launch(window, empty)
    assert not started.begin() and started.result(0) == 2
    assert recorder.errors[-1][0] == "The batch cannot start" and "Add workbooks" in recorder.errors[-1][1]


def test_a_recipe_whose_settings_are_refused_exits_2(window, inputs, qtbot, tmp_path, recorder, monkeypatch):
    from tests.gui.tasks_for_tests import FormTask

    bad = {"low": 9, "high": 2}
    recipe = write_recipe(tmp_path / "r.yaml", [inputs / "alpha.xlsx"], tmp_path / "out", FormTask.name, params=bad)
    started = launch(window, recipe)
    assert not started.begin() and started.result(0) == 2  # the form refuses it: Start stays off
    assert "setting shown in red" in recorder.errors[-1][1]
    # Settings only the engine refuses (it plans the batch on the controller thread): nothing runs, exit 2.
    good = write_recipe(tmp_path / "good.yaml", [inputs / "alpha.xlsx"], tmp_path / "out", FormTask.name)
    started = launch(window, good)
    spec = window.setup.build_spec
    def refused_spec(paths=None):
        good_spec = spec(paths)
        return dataclasses.replace(good_spec, params={**good_spec.params, **bad})

    monkeypatch.setattr(window.setup, "build_spec", refused_spec)
    assert started.begin()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert started.result(0) == 2 and "cannot be above" in recorder.errors[-1][1], recorder.errors
    assert not (tmp_path / "out" / "report.json").exists()


def test_closing_the_window_during_the_batch_exits_130_and_leaves_no_worker(
    window, slow_inputs, qtbot, tmp_path, recorder
):
    recipe = write_recipe(
        tmp_path / "slow.yaml", [slow_inputs], tmp_path / "out", task=SlowTask.name, backend="processes", workers=2,
        params={"steps": 2000},
    )  # fmt: skip
    started = launch(window, recipe)
    assert started.begin()
    qtbot.waitUntil(lambda: window.files.status_counts()["running"] >= 1, timeout=30_000)
    recorder.close_answer = True
    window.close()
    assert started.result(0) == 130
    qtbot.waitUntil(lambda: not worker_children(), timeout=10_000)


def test_the_command_line_runs_a_recipe_through_the_window(inputs, tmp_path):
    """The real program, as a shortcut starts it: a separate process, offscreen, its own settings."""
    recipe = write_recipe(tmp_path / "monthly.yaml", [inputs], tmp_path / "out", backend="processes", workers=2)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    script = "import sys; from xlbatch.gui.entry import main; sys.exit(main(sys.argv[1:]))"
    args = ["gui", "--recipe", str(recipe), "--start", "--exit-when-done"]
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, timeout=180)
    assert done.returncode == 1, done.stderr.decode(errors="replace")[-2000:]  # notes.xlsx is not a workbook
    report = yaml.safe_load((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["backend"] == "processes" and report["counts"]["ok"] == 3 and report["counts"]["failed"] == 1
    assert not (tmp_path / "cfg" / "xlbatch").exists()  # a batch run from a shortcut leaves no settings behind
