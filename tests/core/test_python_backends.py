"""The python task on every backend: the same results everywhere; a raising, hanging or exiting script fails
only its own file, on the process backends and on threads; the script is loaded once per worker, by path
or from the source the parameters carry."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.core.python_kit import TOTALS, sales_book, sales_folder, write_script
from tests.core.test_backends import DASK  # dask on a LocalCluster of 2, where distributed is installed
from tests.helpers import assert_invariants
from xlbatch.cancel import NOW, CancelToken
from xlbatch.events import FileStarted
from xlbatch.plan import BatchSpec, plan_batch
from xlbatch.runner import run_batch, run_plan

ALL_BACKENDS = ["sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib", DASK]
PROCESS_BACKENDS = ["processes", "multiprocessing", "joblib", DASK]
THREAD_BACKENDS = ["sequential", "threads", "asyncio"]

# What the script does depends on the file's name: one bad file of each kind among good ones.
FAULTS = """
    import os
    import sys
    import time

    def process(df, context):
        name = context.name
        if name.startswith("raise"):
            return df["Amount "].sum()
        if name.startswith("spin"):
            while True:
                pass
        if name.startswith("sleep"):
            time.sleep(600)
        if name.startswith("exit"):
            sys.exit(4)
        if name.startswith("die"):
            os._exit(3)
        return {"total": df["Amount"].sum()}
"""


def _combined(report) -> list[tuple[str, str, float]]:
    frame = report.tables["Combined"]
    return sorted(zip(frame["Source file"], frame["Region"], frame["Amount"], strict=True))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_every_backend_gives_the_same_tables(tmp_path: Path, backend: str, frozen_inputs: list[Path]) -> None:
    inputs = sales_folder(tmp_path / "in", 7)
    frozen_inputs.append(inputs)
    script = write_script(tmp_path, TOTALS)
    params = {"script": str(script), "output": "combined"}
    reference = run_batch(task="python", paths=[str(inputs)], out_dir=str(tmp_path / "ref"), params=params,
                          backend="sequential")
    report = run_batch(task="python", paths=[str(inputs)], out_dir=str(tmp_path / backend), params=params,
                       backend=backend, workers=2)
    assert report.backend == backend and report.counts["ok"] == 7
    assert _combined(report) == _combined(reference)
    assert len(_combined(report)) == 14
    assert (tmp_path / backend / "combined.xlsx").is_file()
    assert_invariants(report, sorted(inputs.rglob("*.xlsx")))


def _run_faults(tmp_path: Path, backend: str, names: list[str]) -> dict[str, object]:
    folder = tmp_path / "in"
    for name in ["good0", "good1", *names]:
        sales_book(folder / f"{name}.xlsx")
    report = run_batch(
        task="python",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        params={"script": str(write_script(tmp_path, FAULTS))},
        backend=backend,
        workers=2,
        timeout=3,
    )
    assert_invariants(report, sorted(folder.glob("*.xlsx")))
    return {Path(f.path).stem: f for f in report.files}


def _check_common(files: dict[str, object]) -> None:
    for good in ("good0", "good1"):
        assert files[good].status == "ok" and files[good].result == {"total": 210}, files[good].error
    raised = files["raise"].error
    assert raised.kind == "task_error"
    assert raised.message == "process() failed at line 8: KeyError 'Amount '"
    assert "Traceback" in raised.detail and 'line 8, in process' in raised.detail
    exited = files["exit"].error
    assert exited.kind == "crashed" and "sys.exit(4)" in exited.message and "only this file" in exited.message


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_faults_fail_only_their_file_on_the_process_backends(tmp_path: Path, backend: str) -> None:
    files = _run_faults(tmp_path, backend, ["raise", "exit", "die"])
    _check_common(files)
    assert files["die"].error.kind == "crashed"  # the worker process ended: only this file is blamed


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_hanging_scripts_time_out_on_the_process_backends(tmp_path: Path, backend: str) -> None:
    # Apart from the crashes above: a pool broken by a crash while another file hangs is the engine's
    # recovery (tests/core/test_backends.py), not the script's.
    files = _run_faults(tmp_path, backend, ["spin", "sleep"])
    for good in ("good0", "good1"):
        assert files[good].status == "ok" and files[good].result == {"total": 210}, files[good].error
    assert files["spin"].error.kind == "timeout"  # stopped inside the worker, which lives on
    assert files["sleep"].error.kind == "timeout"  # the worker killed at the time limit


@pytest.mark.parametrize("backend", THREAD_BACKENDS)
def test_faults_fail_only_their_file_on_threads(tmp_path: Path, backend: str) -> None:
    files = _run_faults(tmp_path, backend, ["raise", "spin", "exit"])
    _check_common(files)
    assert files["spin"].error.kind == "timeout"
    _wait_for_no_script_threads()  # the spinning function was stopped, not left running in this process


def _wait_for_no_script_threads(limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while any(t.name == "xlbatch-script-watch" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a script is still running on a thread"
        time.sleep(0.05)


def test_stop_now_stops_a_script_on_threads(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for name in ("spin0", "spin1"):
        sales_book(folder / f"{name}.xlsx")
    token = CancelToken()

    def on_event(event: object) -> None:
        if isinstance(event, FileStarted):
            threading.Timer(0.3, token.cancel, (NOW,)).start()

    report = run_batch(
        task="python", paths=[str(folder)], out_dir=str(tmp_path / "out"),
        params={"script": str(write_script(tmp_path, FAULTS))}, backend="threads", workers=2,
        on_event=on_event, cancel=token,
    )
    assert report.cancelled and report.counts["ok"] == 0
    _wait_for_no_script_threads()


# -- loading the script ------------------------------------------------------------------------------
def test_workers_run_the_checked_source_when_the_file_is_gone_or_changed(tmp_path: Path) -> None:
    inputs = sales_folder(tmp_path / "in", 2)
    script = write_script(tmp_path, "def process(df, context):\n    return {'version': 'checked'}\n")
    spec = BatchSpec(task="python", paths=[str(inputs)], out_dir=str(tmp_path / "gone"),
                     params={"script": str(script)}, backend="processes", workers=2)
    plan = plan_batch(spec)
    script.rename(tmp_path / "elsewhere.py")  # a worker that cannot see the path
    report = run_plan(plan)
    assert [f.result for f in report.files] == [{"version": "checked"}] * 2
    write_script(tmp_path, "def process(df, context):\n    return {'version': 'edited later'}\n")
    plan = plan_batch(BatchSpec(**{**spec.__dict__, "out_dir": str(tmp_path / "changed")}))
    write_script(tmp_path, "def process(df, context):\n    return {'version': 'edited after the check'}\n")
    report = run_plan(plan)
    assert [f.result for f in report.files] == [{"version": "edited later"}] * 2  # what was checked runs


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_the_script_is_loaded_once_per_worker(tmp_path: Path, backend: str) -> None:
    inputs = sales_folder(tmp_path / "in", 9)
    log = tmp_path / "loads.txt"
    script = write_script(
        tmp_path,
        f"""
        import os

        with open({str(log)!r}, "a") as handle:
            handle.write(f"{{os.getpid()}}\\n")

        def process(df, context):
            return {{"pid": os.getpid()}}
        """,
    )
    report = run_batch(task="python", paths=[str(inputs)], out_dir=str(tmp_path / "out"),
                       params={"script": str(script)}, backend=backend, workers=2)
    assert report.counts["ok"] == 9
    loads = log.read_text().split()
    assert len(loads) == len(set(loads))  # never twice in one process
    assert set(loads) == {str(f.result["pid"]) for f in report.files}  # once in every process that ran a file
