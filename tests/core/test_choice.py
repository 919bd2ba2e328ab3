"""The `auto` choice: the rules and the reason the report gives."""

from __future__ import annotations

from core.executors.choice import choose


def test_a_handful_of_small_files_runs_sequentially() -> None:
    choice = choose("cpu", [20_000] * 3, cores=2)
    assert (choice.backend, choice.workers) == ("sequential", 1)
    assert "would cost more than it saves" in choice.reason


def test_megabytes_of_cpu_bound_work_use_one_process_per_core() -> None:
    choice = choose("cpu", [1_000_000] * 40, cores=2)
    assert (choice.backend, choice.workers) == ("processes", 2)
    assert "2 of 2 CPU cores" in choice.reason


def test_a_warm_pool_makes_smaller_batches_worth_it() -> None:
    sizes = [300_000] * 4
    assert choose("cpu", sizes, cores=2).backend == "sequential"
    assert choose("cpu", sizes, cores=2, warm_pool=True).backend == "processes"


def test_io_bound_tasks_use_threads_and_single_inputs_run_alone() -> None:
    assert choose("io", [1_000] * 10, cores=2).backend == "threads"
    assert choose("cpu", [50_000_000], cores=2).backend == "sequential"
    assert choose("cpu", [5_000_000] * 4, workers=1, cores=2).backend == "sequential"


def test_without_processes_the_frozen_app_falls_back() -> None:
    available = ("auto", "sequential", "threads", "multiprocessing")
    assert choose("cpu", [1_000_000] * 40, cores=2, available=available).backend == "multiprocessing"
