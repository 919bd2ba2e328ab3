"""`auto` deciding while running, end to end (xlbatch.adaptive_run): files that start in-process and move
to worker processes keep every guarantee on either side, and the report says what ran where and why.

The handover itself is timing-dependent (it waits for a real pool), so these tests make its decision
certain instead: the pool starts at once and, once two files have run in-process, the loop waits for it
to be up and always moves the rest. What the decision would be, from the measurements, is pinned with a
fake clock in tests/core/test_adaptive.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import tests.faulty_tasks  # noqa: F401 - registers the test-only tasks
from tests.helpers import assert_invariants, numbers_book
from xlbatch import CancelToken, run_batch
from xlbatch.events import FileFinished
from xlbatch.executors import adaptive
from xlbatch.outcome import CANCELLED, FAILED, OK
from xlbatch.timings import Timings

IN_PROCESS = 2  # files run in-process before the forced handover


@pytest.fixture
def forced_handover(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start the pool at once; after IN_PROCESS files, wait for it and move every file left to it."""
    monkeypatch.setattr(adaptive, "START_AFTER_STARTUPS", 0.0)
    monkeypatch.setattr(adaptive, "HANDOFF_MARGIN", 1e9)
    decide = adaptive.Adaptive.hand_off

    def patient(self: adaptive.Adaptive, sizes: list[int], now: float) -> str:
        if self.decision.in_process_files < IN_PROCESS:
            decide(self, sizes, now)  # starts the pool; nothing moves yet
            return adaptive.RUN
        deadline = time.monotonic() + 60
        while self.pool is not None and not self.pool.ready() and self.pool.failed() is None:
            assert time.monotonic() < deadline, "the pool did not start"
            time.sleep(0.05)
        return decide(self, sizes, time.monotonic())

    monkeypatch.setattr(adaptive.Adaptive, "hand_off", patient)


def books(folder: Path, names: list[str]) -> list[Path]:
    return [numbers_book(folder / name, n=3 + i) for i, name in enumerate(names)]


def test_files_move_to_worker_processes_and_each_settles_once(tmp_path, forced_handover, frozen_inputs):
    inputs = books(tmp_path / "in", [f"{i:02d}.xlsx" for i in range(8)])
    frozen_inputs.append(tmp_path / "in")
    finished: list[int] = []
    report = run_batch(
        task="whereabouts",
        paths=[str(tmp_path / "in")],
        out_dir=str(tmp_path / "out"),
        on_event=lambda e: finished.append(e.index) if isinstance(e, FileFinished) else None,
    )
    assert_invariants(report, inputs)
    assert report.counts["ok"] == 8 and sorted(finished) == list(range(8))
    pids = [f.result["pid"] for f in sorted(report.files, key=lambda f: f.path)]
    assert pids[:IN_PROCESS] == [os.getpid()] * IN_PROCESS  # in-process, in the batch's order
    assert os.getpid() not in pids[IN_PROCESS:] and len(set(pids[IN_PROCESS:])) >= 1
    n = report.workers
    assert report.backend == "processes" and n >= 2
    assert report.backend_reason.startswith(f"auto, decided while running: first 2 files in-process while {n} worker")
    assert f"6 files on {n} processes" in report.backend_reason
    assert any(m.startswith(f"Moved the 6 files left to {n} worker processes") for m in report.notices)
    for f in report.files:
        assert [Path(o).name for o in f.outputs] == [Path(f.path).stem + ".copy"]
        assert Path(f.outputs[0]).read_bytes() == Path(f.path).read_bytes()
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text())
    assert on_disk["backend_reason"] == report.backend_reason


def test_a_crash_after_the_handover_fails_only_its_own_file(tmp_path, forced_handover):
    books(tmp_path / "in", ["01.xlsx", "02.xlsx", "03_crash.xlsx", "04.xlsx", "05.xlsx"])
    report = run_batch(task="faulty", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"))
    status = {Path(f.path).name: (f.status, f.error.kind if f.error else None) for f in report.files}
    assert status.pop("03_crash.xlsx") == (FAILED, "crashed")
    assert set(status.values()) == {(OK, None)}
    assert report.backend == "processes"


def test_a_file_that_fails_in_process_is_one_error_row_and_the_batch_goes_on(tmp_path, forced_handover):
    books(tmp_path / "in", ["01_boom.xlsx", "02.xlsx", "03.xlsx", "04.xlsx"])
    report = run_batch(task="faulty", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"))
    assert (report.counts["ok"], report.counts["failed"]) == (3, 1)
    assert report.backend == "processes"  # the failure counted as a measurement; the rest still moved


def test_finish_requested_in_process_cancels_the_rest_and_resume_completes_them(tmp_path, forced_handover):
    books(tmp_path / "in", [f"{i:02d}_slow.xlsx" for i in range(6)])
    cancel = CancelToken()

    def on_event(event: object) -> None:
        if isinstance(event, FileFinished):
            cancel.cancel("finish")

    out = tmp_path / "out"
    params = {"slow_seconds": 0.2}
    report = run_batch(
        task="faulty", paths=[str(tmp_path / "in")], out_dir=str(out), params=params, on_event=on_event, cancel=cancel
    )
    assert report.counts["ok"] == 1 and report.counts["cancelled"] == 5
    assert report.backend == "sequential"  # nothing moved: the stop came first
    again = run_batch(task="faulty", paths=[str(tmp_path / "in")], out_dir=str(out), params=params, resume=True)
    assert again.counts["ok"] == 6
    assert sum(f.reason == "done in an earlier run (resumed)" for f in again.files) == 1


def test_stop_now_after_the_handover_leaves_no_output_of_an_unfinished_file(tmp_path, forced_handover):
    books(tmp_path / "in", [f"{i:02d}_slow.xlsx" for i in range(6)])
    cancel = CancelToken()
    seen: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, FileFinished):
            seen.append(event.index)
            if len(seen) == IN_PROCESS + 1:  # the first file done on the pool
                cancel.cancel("now")

    report = run_batch(
        task="faulty",
        paths=[str(tmp_path / "in")],
        out_dir=str(tmp_path / "out"),
        params={"slow_seconds": 0.5},
        on_event=on_event,
        cancel=cancel,
    )
    assert report.counts["ok"] >= IN_PROCESS + 1 and report.counts["cancelled"] >= 1
    assert report.counts["ok"] + report.counts["cancelled"] == 6
    listed = {o for f in report.files if f.status == OK for o in f.outputs}
    written = {str(p) for p in (tmp_path / "out").rglob("*.txt")}
    assert written == listed and len(written) == report.counts["ok"]


def test_a_small_batch_stays_in_process_and_says_why(tmp_path):
    books(tmp_path / "in", ["a.xlsx", "b.xlsx", "c.xlsx"])
    report = run_batch(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"))
    assert report.counts["ok"] == 3
    assert report.backend == "threads" and report.workers >= 2  # no pool started: files side by side
    assert report.backend_reason.startswith(
        f"auto, decided while running: all 3 files in-process, on {report.workers} threads"
    )
    assert "never exceeded the 0.6 s worker processes take to start" in report.backend_reason


def test_each_batch_calibrates_the_next_ones_prior(tmp_path, monkeypatch):
    monkeypatch.setattr("xlbatch.timings.MIN_MEASURED_SECONDS", 0.0)  # these files take milliseconds
    # The pool starts at once, so the files run one at a time: only such times calibrate.
    monkeypatch.setattr(adaptive, "START_AFTER_STARTUPS", 0.0)
    books(tmp_path / "in", ["a.xlsx", "b.xlsx", "c.xlsx"])
    run_batch(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"))
    timing = Timings().tasks["summarize"]
    assert timing.batches == 1 and timing.scale > 0
    run_batch(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out2"))
    assert Timings().tasks["summarize"].batches == 2
    assert "convert" not in Timings().tasks


def test_a_time_limit_runs_on_processes_from_the_start(tmp_path):
    books(tmp_path / "in", ["a.xlsx", "b.xlsx"])
    report = run_batch(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"), timeout=60)
    assert "decided while running" not in report.backend_reason
    assert report.counts[CANCELLED] == 0
