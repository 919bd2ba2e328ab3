"""The `auto` choice: the rules, the cost model behind them, and the reason the report gives."""

from __future__ import annotations

import pytest

from xlbatch.cost import FIXED_BYTES, WorkCost
from xlbatch.executors.choice import choose
from xlbatch.tasks import get_task

SUMMARIZE = get_task("summarize").work_cost({})
CONVERT = get_task("convert").work_cost({})
MB = 1_000_000


def test_a_handful_of_small_files_runs_sequentially() -> None:
    choice = choose("cpu", [20_000] * 3, cores=2)
    assert (choice.backend, choice.workers) == ("sequential", 1)
    assert "would cost more than it saves" in choice.reason


def test_megabytes_of_cpu_bound_work_use_one_process_per_core() -> None:
    choice = choose("cpu", [MB] * 40, cores=2)
    assert (choice.backend, choice.workers) == ("processes", 2)
    assert "2 of 2 CPU cores" in choice.reason


def test_a_warm_pool_makes_smaller_batches_worth_it() -> None:
    sizes = [100_000] * 4
    assert choose("cpu", sizes, cores=2).backend == "sequential"
    assert choose("cpu", sizes, cores=2, warm_pool=True).backend == "processes"


def test_io_bound_tasks_use_threads_and_single_inputs_run_alone() -> None:
    assert choose("io", [1_000] * 10, cores=2).backend == "threads"
    assert choose("cpu", [50_000_000], cores=2).backend == "sequential"
    assert choose("cpu", [5_000_000] * 4, workers=1, cores=2).backend == "sequential"


def test_without_processes_the_frozen_app_falls_back() -> None:
    available = ("auto", "sequential", "threads", "multiprocessing")
    assert choose("cpu", [MB] * 40, cores=2, available=available).backend == "multiprocessing"


def test_a_reading_heavy_task_takes_threads_for_a_few_megabytes() -> None:
    """Six 1 MB workbooks to summarize: the reading overlaps on two threads, and processes would spend a
    good part of the batch starting. Measured: threads 1.19 s, processes 1.55 s, sequential 1.57 s."""
    choice = choose("cpu", [MB] * 6, cores=2, cost=SUMMARIZE)
    assert (choice.backend, choice.workers) == ("threads", 2)
    assert "outside Python's lock" in choice.reason
    # The same files to convert: writing holds the lock, so only processes help.
    assert choose("cpu", [MB] * 6, cores=2, cost=CONVERT).backend == "processes"
    # Forty of them: the start-up is repaid and processes scale further than threads.
    assert choose("cpu", [MB] * 40, cores=2, cost=SUMMARIZE).backend == "processes"


def test_tiny_forms_are_not_mistaken_for_megabytes_of_reading() -> None:
    """A folder of small forms is per-file Python work that threads cannot overlap. Measured on 300
    forms of 6 KB: sequential 0.67 s, threads 0.77 s, processes 0.90 s; on 1,000: processes best."""
    assert choose("cpu", [6_400] * 300, cores=2, cost=SUMMARIZE).backend == "sequential"
    assert choose("cpu", [6_400] * 1000, cores=2, cost=SUMMARIZE).backend == "processes"


def test_the_thread_estimate_overlaps_only_the_lock_free_part() -> None:
    cost = WorkCost(seconds_per_mb=1.0, seconds_per_file=0.0, lock_free=0.5)
    sizes = [FIXED_BYTES + MB] * 2  # two megabytes past the fixed parts
    assert cost.seconds(sizes) == pytest.approx(2.0)
    assert cost.seconds_on_threads(sizes, 2) == pytest.approx(1.0 + 0.5)
    assert cost.seconds([FIXED_BYTES] * 10) == 0.0
    with pytest.raises(ValueError):
        WorkCost(lock_free=1.5)


def test_combine_costs_less_when_it_writes_csv() -> None:
    combine = get_task("combine")
    assert combine.work_cost({"output_format": "csv"}).seconds_per_mb < combine.work_cost({}).seconds_per_mb
