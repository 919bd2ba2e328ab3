"""One backend choice: what the window previews ("Auto will use: …"), what it prestarts, and what the
runner's plan then runs are the same decision (`xlbatch.executors.choice.decide`) on the same inputs.

Each case sets the window up as a user would, then asks the window (`auto_choice()`) and the plan of
the batch Start would run (`plan_batch(window.build_spec())`) with the same pool, and expects the same
backend, worker count and reason. The pool is a stand-in that is warm for one worker count only, so a
preview that asked about another count than the plan (as the window once did, before the settings'
worker limit) gives another answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QSpinBox, QToolButton

from tests.gui.tasks_for_tests import PidTask, SlowTask
from tests.gui.test_window import child, pick
from xlbatch.executors import Choice, cpu_count
from xlbatch.executors.choice import USER_CHOICE, is_adaptive
from xlbatch.gui.run_choice import ChoiceInputs, effective_backend, prestart_count, preview
from xlbatch.plan import plan_batch
from xlbatch.settings import Settings, load_settings
from xlbatch.tasks import get_task

FILE_BYTES = 100_000  # four of these: one at a time beats a cold pool, a warm pool beats one at a time
MULTI_CORE = cpu_count() > 1


class Pools:
    """A PoolCache stand-in: warm for `count` worker processes only (None: never warm)."""

    def __init__(self, count: int | None = None) -> None:
        self.count = count
        self.asked: list[int] = []

    def warm(self, name: str, workers: int) -> bool:
        self.asked.append(workers)
        return name == "processes" and workers == self.count


class AlwaysWarm:
    def warm(self, _name: str, _workers: int) -> bool:
        return True


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(4):
        (folder / f"part-{i}.csv").write_bytes(b"a,b\r\n" + b"1,2\r\n" * ((FILE_BYTES - 5) // 5))
    return folder


def set_up(window, folder: Path, out: Path, task: str, backend: str = "auto", workers: int | None = None) -> None:
    window.prestart_enabled = False
    window.add_paths([folder])
    pick(window, "taskCombo", task)
    pick(window, "backendCombo", backend)
    if workers is not None:
        child(window, QSpinBox, "workersSpin").setValue(workers)
    elif window.run_settings.workers_user_set:
        child(window, QToolButton, "workersAutoButton").click()  # back to the automatic count
    window.set_output_folder(str(out))


def both(window, monkeypatch, pools: Pools) -> tuple[Choice, Choice]:
    """(the window's preview, the plan's choice) with the same pool."""
    monkeypatch.setattr(window.pools, "warm", pools.warm)
    preview_choice = window.auto_choice()
    plan_choice = plan_batch(window.build_spec(), pools=pools).choice  # type: ignore[arg-type]
    assert preview_choice is not None
    return preview_choice, plan_choice


CASES = {
    # name: (task, backend, user's workers, settings file, the one warm pool size)
    "auto, no warm pool": (PidTask.name, "auto", None, "", None),
    "auto, warm pool": (PidTask.name, "auto", None, "", cpu_count()),
    "auto, the user's worker count, warm pool of that size": (PidTask.name, "auto", 3, "", 3),
    "auto, the settings' worker limit, warm pool of that size": (
        PidTask.name,
        "auto",
        None,
        "parallelization:\n  max_workers: {cpu_bound: 1}\n",
        1,
    ),
    "an I/O task": (SlowTask.name, "auto", None, "", None),
    "an I/O task under the settings' worker limit": (
        SlowTask.name,
        "auto",
        None,
        "parallelization:\n  max_workers: {io_bound: 2}\n",
        None,
    ),
    "sequential": (PidTask.name, "sequential", None, "", cpu_count()),
    "threads with the user's worker count": (PidTask.name, "threads", 3, "", None),
    "processes, automatic workers under the settings' limit": (
        PidTask.name,
        "processes",
        None,
        "parallelization:\n  max_workers: {cpu_bound: 1}\n",
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_window_previews_what_the_plan_runs(window, batch, tmp_path, isolated_settings, monkeypatch, case):
    task, backend, workers, settings_text, warm = CASES[case]
    isolated_settings.write_text(settings_text or "{}\n", encoding="utf-8")
    set_up(window, batch, tmp_path / "out", task, backend, workers)
    shown, planned = both(window, monkeypatch, Pools(warm))
    assert (shown.backend, shown.workers, shown.reason) == (planned.backend, planned.workers, planned.reason)
    # The window runs what it previewed.
    assert window.build_spec().workers == (workers if backend != "sequential" else None)


@pytest.mark.skipif(not MULTI_CORE, reason="one core: auto runs one file at a time whatever the pool")
def test_the_cases_take_the_branches_they_name(window, batch, tmp_path, isolated_settings, monkeypatch):
    """The cases above would all agree if every choice were the same: check they are not."""
    set_up(window, batch, tmp_path / "out", PidTask.name)
    cold, _ = both(window, monkeypatch, Pools(None))
    warm, _ = both(window, monkeypatch, Pools(cpu_count()))
    assert is_adaptive(cold) and warm.backend == "processes"  # no pool waiting: auto decides while running
    isolated_settings.write_text("parallelization:\n  max_workers: {cpu_bound: 1}\n", encoding="utf-8")
    pools = Pools(1)
    capped, planned = both(window, monkeypatch, pools)
    # The limit counts before the pool is asked: a pool of one worker is what this batch would borrow.
    assert set(pools.asked) == {1}
    assert (capped.backend, capped.workers) == ("processes", 1) == (planned.backend, planned.workers)
    assert "limited to 1 workers by the settings" in capped.reason


def test_prestart_starts_the_pool_the_plan_would_borrow(window, batch, tmp_path):
    """The prestart asks the plan's question with a warm pool assumed: would this batch run on processes,
    and with how many? (An I/O task the user put on processes borrows the pool too.)"""
    targets = []
    for task, backend, workers in (
        (PidTask.name, "auto", None),
        (PidTask.name, "processes", 2),
        (SlowTask.name, "processes", None),
        (PidTask.name, "threads", None),
        (SlowTask.name, "auto", None),
    ):
        set_up(window, batch, tmp_path / "out", task, backend, workers)
        planned = plan_batch(window.build_spec(), pools=AlwaysWarm()).choice  # type: ignore[arg-type]
        expected = planned.workers if planned.backend == "processes" else None
        assert window.prestart_target() == expected, (task, backend, workers)
        targets.append(expected)
    assert targets[1:] == [2, 4, None, None]  # 4: the automatic count of an I/O task, one per file here


def test_a_backend_the_settings_file_names_is_explained_as_such(
    window, batch, tmp_path, isolated_settings, monkeypatch
):
    """The plan only sees the backend (it says "chosen by the user"); the window knows where it came from."""
    isolated_settings.write_text(f"parallelization:\n  backends: {{{PidTask.name}: threads}}\n", encoding="utf-8")
    set_up(window, batch, tmp_path / "out", PidTask.name)
    shown, planned = both(window, monkeypatch, Pools(None))
    assert (shown.backend, shown.workers) == (planned.backend, planned.workers) == ("threads", cpu_count())
    assert shown.reason == "set for this task in your settings file" and planned.reason == USER_CHOICE


# -- xlbatch.gui.run_choice without a window ----------------------------------------------------------------
def inputs(sizes: list[int], backend: str = "auto", workers: int | None = None, settings: Settings | None = None):
    return ChoiceInputs(get_task("summarize"), sizes, backend, workers, {}, settings or Settings())


def test_with_no_files_nothing_is_decided_yet():
    choice = preview(inputs([]), warm_pool=None)
    assert choice.backend == "auto" and choice.workers == cpu_count()
    assert preview(inputs([], "sequential"), warm_pool=None).workers == 1
    assert preview(inputs([], "threads", 5), warm_pool=None).workers == 5
    assert prestart_count(inputs([])) is None


def test_effective_backend_says_where_the_backend_comes_from(tmp_path):
    assert effective_backend("threads", "summarize", Settings()) == ("threads", USER_CHOICE)
    assert effective_backend("auto", "summarize", Settings()) == ("auto", "")
    file = tmp_path / "settings.yaml"
    file.write_text("parallelization:\n  default_backend: threads\n  backends: {convert: processes}\n")
    settings = load_settings(file)
    assert effective_backend("auto", "convert", settings) == ("processes", "set for this task in your settings file")
    assert effective_backend("auto", "summarize", settings) == ("threads", "the default backend in your settings file")
    assert effective_backend("sequential", "convert", settings) == ("sequential", USER_CHOICE)


def test_the_window_does_not_keep_the_outputs_tables(window, batch, tmp_path):
    """report.tables is for the Python API: a batch from the window does not read its combined workbook
    back a second time to keep it."""
    set_up(window, batch, tmp_path / "out", "combine")
    assert window.build_spec().keep_tables is False
