"""`auto` deciding while running (xlbatch.executors.adaptive): when the pool starts and when files move to
it, pinned with a fake clock and a fake pool; and the per-task calibration it starts from (xlbatch.timings)."""

from __future__ import annotations

import json

import pytest

from xlbatch.cost import WorkCost
from xlbatch.executors.adaptive import (
    HANDOFF_MARGIN,
    MOVE,
    PROCESS_SLOWDOWN,
    RUN,
    WAIT_AT_MOST_STARTUPS,
    Adaptive,
)
from xlbatch.executors.choice import POOL_STARTUP_SECONDS, decide, is_adaptive
from xlbatch.timings import MIN_MEASURED_SECONDS, Timings

MB = 1_000_000
# One second per MB, nothing per file: the estimates below are easy to follow by hand.
COST = WorkCost(seconds_per_mb=1.0, seconds_per_file=0.0, lock_free=0.0)
FIXED = 16_384  # the bytes of each file the per-MB cost leaves out (xlbatch.cost.FIXED_BYTES)


def size(seconds: float) -> int:
    """A file that COST predicts takes this long."""
    return int(seconds * MB) + FIXED


class FakePool:
    def __init__(self) -> None:
        self.up = False
        self.why: str | None = None

    def ready(self) -> bool:
        return self.up

    def failed(self) -> str | None:
        return self.why


class Clocked:
    """An Adaptive with a fake clock (`t`) and a fake pool (started when it asks). Two workers on four
    cores unless told: spare cores, where files run in-process beside a starting pool."""

    def __init__(self, workers: int = 2, cores: int = 4, cost: WorkCost = COST) -> None:
        self.t = 100.0
        self.pool = FakePool()
        self.starts = 0
        self.adaptive = Adaptive(cost, workers, cores, POOL_STARTUP_SECONDS, self.start, began=self.t)

    def start(self) -> FakePool:
        self.starts += 1
        return self.pool

    def file_done(self, seconds_each: float, predicted: float) -> None:
        self.t += seconds_each
        self.adaptive.observe(size(predicted), seconds_each)

    def hand_off(self, *seconds: float) -> str:
        return self.adaptive.hand_off([size(s) for s in seconds], self.t)


def test_a_batch_smaller_than_the_start_up_never_starts_the_pool():
    run = Clocked()
    # Five files of 0.05 s each: 0.25 s of work in all, less than the 0.6 s start-up.
    assert run.hand_off(*[0.05] * 5) == RUN
    run.file_done(0.05, 0.05)
    assert run.hand_off(*[0.05] * 4) == RUN
    assert run.starts == 0
    run.adaptive.finish()
    assert "never exceeded the 0.6 s" in run.adaptive.decision.kept_because


def test_a_large_batch_starts_the_pool_at_once_and_moves_the_files_once_it_is_up():
    run = Clocked()
    files = [0.5] * 12
    # 6 s of work: the pool starts before any file ran, by the prior; the first file runs meanwhile
    # (0.5 s, done before the 0.6 s start-up is).
    assert run.hand_off(*files) == RUN
    assert run.starts == 1
    assert run.adaptive.decision.started_pool_at == 0.0
    run.file_done(0.5, 0.5)
    run.pool.up = True
    assert run.hand_off(*files[1:]) == MOVE
    d = run.adaptive.decision
    assert (d.in_process_files, d.pool_files, d.handed_off_at) == (1, 11, 0.5)
    assert d.in_process_per_file == pytest.approx(0.5)
    # 11 files of 0.5 s on 2 workers, with the slowdown of sharing the machine, per file.
    assert d.pool_per_file == pytest.approx((5.5 / 2 * PROCESS_SLOWDOWN + 11 * 0.0005) / 11)
    assert run.starts == 1  # started once


def test_files_queue_on_a_starting_pool_rather_than_hold_it_back():
    run = Clocked()
    files = [0.5] * 12
    assert run.hand_off(*files) == RUN  # 0.5 s here, done before the 0.6 s start-up
    run.file_done(0.5, 0.5)
    # 0.1 s of start-up left: a second file here would keep the pool waiting 0.4 s, so the files move
    # now, into the queue of the pool still starting.
    assert not run.pool.up
    assert run.hand_off(*files[1:]) == MOVE
    assert run.adaptive.decision.handed_off_at == 0.5


def test_with_no_core_spare_the_files_queue_on_the_starting_pool_once_moving_pays():
    # Two workers on two cores: their start-up takes both, so a file here would only slow it down.
    run = Clocked(cores=2)
    assert run.hand_off(*[0.5] * 12) == MOVE  # 0.5 s files fit in the 0.6 s start-up, but nothing is spare
    d = run.adaptive.decision
    assert run.starts == 1 and (d.in_process_files, d.pool_files, d.handed_off_at) == (0, 12, 0.0)
    assert d.queued_because == "their start-up took every core, so a file run in-process would have slowed it"


def test_with_no_core_spare_a_close_call_still_runs_here_and_is_measured():
    run = Clocked(cores=2)
    # 1.3 s of work: above the 0.6 s start-up, so the pool starts; but 0.6 s + 0.65 s x 1.1 on it is not
    # 10% sooner than 1.3 s here, so the first file runs here.
    assert run.hand_off(0.65, 0.65) == RUN and run.starts == 1
    run.file_done(1.3, 0.65)  # it took twice what the prior said
    run.pool.up = True
    assert run.hand_off(0.65) == RUN  # one file left: a second worker cannot help
    assert run.hand_off(0.65, 0.65, 0.65) == MOVE  # 3.9 s here (as measured) against 2.1 s on the pool


def test_with_no_core_spare_a_pool_far_slower_to_start_than_expected_is_not_waited_for():
    run = Clocked(cores=2)
    assert run.hand_off(0.65, 0.65) == RUN  # the close call above: the pool starts, the file runs here
    run.file_done(1.3, 0.65)
    run.t += 0.6  # 1.9 s since the pool started, over three times the 0.6 s expected, and it is not up
    assert run.hand_off(0.65, 0.65, 0.65) == RUN  # moving would pay, but the pool may not come at all
    run.pool.up = True
    assert run.hand_off(0.65, 0.65, 0.65) == MOVE


def test_a_file_longer_than_the_start_up_never_runs_in_process():
    run = Clocked()
    assert run.hand_off(*[1.0] * 10) == MOVE  # a 1 s file would outlast the 0.6 s start-up
    assert run.adaptive.decision.in_process_files == 0
    assert "outlasted their start-up" in run.adaptive.decision.queued_because


def test_a_pool_far_slower_to_start_than_expected_lets_the_files_go_on_in_process():
    run = Clocked()
    assert run.hand_off(*[0.1] * 40) == RUN  # starts the pool; 0.1 s files fit in its start-up
    run.t += 0.6 * WAIT_AT_MOST_STARTUPS + 0.01  # ... which has taken three times as long as expected
    run.adaptive.observe(size(0.1), 0.1)
    assert run.hand_off(*[1.0] * 10) == RUN  # a long file, but the pool may not come at all: it runs here
    run.file_done(1.0, 1.0)
    run.pool.up = True
    assert run.hand_off(*[1.0] * 9) == MOVE


def test_measured_times_override_the_prior():
    run = Clocked()
    # The prior says 0.05 s a file (0.5 s for the ten left: not worth a pool) ...
    assert run.hand_off(*[0.05] * 10) == RUN
    assert run.starts == 0
    # ... but the first file took ten times as long on this machine: 4.5 s are left, the pool starts,
    # and the next file (0.5 s, as measured) runs while it does.
    run.file_done(0.5, 0.05)
    assert run.adaptive.scale() == pytest.approx(10.0)
    assert run.hand_off(*[0.05] * 9) == RUN
    assert run.starts == 1


def test_files_stay_when_the_pool_would_not_finish_them_sooner():
    run = Clocked()
    run.pool.up = True
    assert run.hand_off(2.0) == RUN  # one file left: a second worker cannot help, the slowdown only costs
    assert run.starts == 1
    run.adaptive.finish()
    assert run.adaptive.decision.kept_because == "the measured times said moving the files left would not pay"


def test_two_files_move_when_the_pool_is_up():
    run = Clocked()
    run.pool.up = True
    assert run.hand_off(1.0, 1.0) == MOVE  # 1.1 s on two workers against 2 s one after the other


def test_the_margin_keeps_a_close_call_in_process():
    # A 1 s file and a 0.15 s one: the pool would take 1.1 s (the big file, slowed down), 0.96 of the
    # 1.15 s in-process: sooner, but not by the margin, so they stay.
    run = Clocked()
    run.pool.up = True
    run.adaptive.pool = run.pool  # started and up
    close = [size(1.0), size(0.15)]
    ratio = run.adaptive.pool_estimate(close, run.t) / run.adaptive.in_process_estimate(close)
    assert HANDOFF_MARGIN < ratio < 1.0
    assert run.hand_off(1.0, 0.15) == RUN
    assert run.hand_off(1.0, 0.6, 0.6) == MOVE  # 1.1 s on the pool against 2.2 s


def test_a_pool_still_starting_counts_what_its_start_up_has_left():
    run = Clocked()
    run.hand_off(*[1.0] * 4)  # starts at t=100
    run.t += 0.2
    estimate = run.adaptive.pool_estimate([size(1.0)] * 4, run.t)
    assert estimate == pytest.approx((POOL_STARTUP_SECONDS - 0.2) + 2.0 * PROCESS_SLOWDOWN + 4 * 0.0005)


def test_a_pool_that_failed_to_start_leaves_every_file_in_process():
    run = Clocked()
    run.hand_off(*[1.0] * 10)
    run.pool.why = "OSError: no more processes"
    run.pool.up = False
    assert run.hand_off(*[1.0] * 9) == RUN
    run.adaptive.finish()
    assert "could not start (OSError: no more processes)" in run.adaptive.decision.kept_because


@pytest.mark.parametrize(("workers", "cores"), [(1, 2), (2, 1)])
def test_nothing_moves_with_one_worker_or_one_core(workers: int, cores: int):
    run = Clocked(workers=workers, cores=cores)
    run.pool.up = True
    assert run.hand_off(*[5.0] * 10) == RUN
    assert run.starts == 0


def test_decide_runs_a_cpu_batch_adaptively_but_settles_where_nothing_is_left_to_decide():
    sizes = [MB] * 12
    choice = decide("cpu", sizes, cores=2)
    assert is_adaptive(choice) and choice.workers == 2 and dict(choice.options)["pool"] == "processes"
    assert choice.reason.startswith("decides while running")
    assert decide("cpu", sizes, cores=2, available=("sequential", "threads", "multiprocessing")).options == (
        ("pool", "multiprocessing"),
    )
    assert decide("cpu", sizes, workers=4, cores=2).workers == 4
    settled = [
        decide("cpu", sizes, cores=2, time_limit=30),  # only a worker process can be stopped
        decide("cpu", sizes, cores=2, warm_pool=lambda _n: True),  # processes pay from the first file
        decide("cpu", [MB], cores=2),
        decide("cpu", sizes, workers=1, cores=2),
        decide("cpu", sizes, cores=1),
        decide("io", sizes, cores=2),
        decide("cpu", sizes, "threads", cores=2),
        decide("cpu", sizes, cores=2, available=("sequential", "threads")),
    ]
    assert not any(is_adaptive(c) for c in settled)
    assert decide("cpu", sizes, cores=2, time_limit=30).backend == "processes"


def test_the_settings_cap_applies_to_the_adaptive_pool():
    choice = decide("cpu", [MB] * 12, cores=4, max_workers=2)
    assert is_adaptive(choice) and choice.workers == 2


# -- the calibration ------------------------------------------------------------------------------


def test_timings_scale_the_cost_by_what_earlier_batches_measured(tmp_path):
    path = tmp_path / "timings.json"
    timings = Timings(path)
    assert timings.cost("summarize", COST) == COST  # nothing measured yet: the cost model as written
    # Files predicted at 1 s each took 2 s: the scale is 2.
    timing = timings.record("summarize", COST, [(size(1.0), 2.0), (size(1.0), 2.0)])
    assert timing is not None and timing.scale == pytest.approx(2.0) and timing.batches == 1
    again = Timings(path)  # read back from the file
    assert again.cost("summarize", COST).seconds_per_mb == pytest.approx(2.0)
    assert again.cost("convert", COST) == COST  # per task
    # A second batch that measured 1.0 moves the average half-way.
    assert again.record("summarize", COST, [(size(1.0), 1.0)]).scale == pytest.approx(1.5)
    assert json.loads(path.read_text())["tasks"]["summarize"]["batches"] == 2


def test_timings_ignore_batches_too_short_to_say_anything_and_damaged_files(tmp_path):
    path = tmp_path / "timings.json"
    timings = Timings(path)
    assert timings.record("summarize", COST, [(size(0.01), MIN_MEASURED_SECONDS / 2)]) is None
    assert not path.exists()
    path.write_text("{not json", encoding="utf-8")
    assert Timings(path).tasks == {}
    path.write_text(json.dumps({"tasks": {"summarize": {"scale": "x"}}}), encoding="utf-8")
    assert Timings(path).tasks == {}
    # A scale far outside what any machine measures (a clock glitch) is held to the limits.
    assert Timings(path).record("summarize", COST, [(size(0.001), 500.0)]).scale == 20.0
