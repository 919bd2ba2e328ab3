"""Which backend and how many workers: the `auto` decision, explained in words for the report.

Three ways to run a CPU-bound batch, each estimated from the task's WorkCost (core/cost.py) and the
files' sizes, and the fastest estimate wins:

- sequential: the work itself, no start-up;
- threads: only the task's lock-free share (reading, in Rust) overlaps across cores, no start-up;
- processes: the work divided among the cores, plus the start-up of the spawn pool (0.4-0.5 s to the
  first result on a quiet 2-core machine, 0.9 s on a busy one: Python and the readers imported in each
  worker; 0.05 s when the GUI's pool is warm), plus the parent's handling of each file.

So a handful of small files runs sequentially, a reading-heavy batch of a few megabytes runs on threads,
and anything bigger on one process per core. I/O-bound tasks use threads. Processes also isolate crashes
and enforce time limits by killing, which threads cannot; they are preferred when within PREFER_PROCESSES
of the fastest estimate.

For a CPU-bound batch `auto` does not settle on an estimate: it decides while running
(xlbatch.executors.adaptive), and its Choice says so (backend "auto", `is_adaptive`). Only a warm pool
(processes pay from the first file), a time limit (only a worker process can be stopped when a file runs
too long) or a machine or batch with nothing to run in parallel settle it beforehand.

`decide()` is the one place a batch's backend and worker count are settled, whatever asks: the runner's
plan, the desktop app's preview ("Auto will use: …") and its warm-pool prestart, and `xlbatch bench`.
It adds to `choose()` what surrounds the estimate: a backend the user named, the user's worker count,
the settings' cap on the automatic count, and whether a warm process pool of that size is waiting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from xlbatch.cost import DEFAULT_COST, WorkCost

# Cost of starting a spawn pool, to its first result; and of a warm pool (the GUI keeps one).
POOL_STARTUP_SECONDS = 0.6
WARM_POOL_SECONDS = 0.05
# The parent's work per file with worker processes (pickling, messages, bookkeeping).
PROCESS_SECONDS_PER_FILE = 0.0005
# Processes are chosen when their estimate is within this factor of the fastest one.
PREFER_PROCESSES = 1.05
IO_WORKERS_PER_CORE = 4
MAX_IO_WORKERS = 16
# Why a named backend (not auto) runs, unless the caller knows better (the settings file named it).
USER_CHOICE = "chosen by the user"


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def default_workers(kind: str, files: int | None = None, cores: int | None = None) -> int:
    """The worker count `auto` uses: one per core for CPU-bound tasks, more for I/O-bound ones."""
    cores = cores or cpu_count()
    count = min(cores * IO_WORKERS_PER_CORE, MAX_IO_WORKERS) if kind == "io" else cores
    if files is not None:
        count = min(count, max(files, 1))
    return max(1, count)


@dataclass(frozen=True)
class Choice:
    backend: str
    workers: int
    reason: str
    # What the backend needs besides its worker count (the dask backend: the cluster's address and whether
    # the machines share storage); handed to make_backend().
    options: tuple[tuple[str, Any], ...] = ()


ADAPTIVE = "auto"  # the backend of a Choice that decides while running


def is_adaptive(choice: Choice) -> bool:
    """True for `auto` deciding while running (a Choice with the pool it may move files to)."""
    return choice.backend == ADAPTIVE and "pool" in dict(choice.options)


def adaptive(
    kind: str, sizes: list[int], workers: int | None, cores: int, available: tuple[str, ...] | None, cost: WorkCost
) -> Choice | None:
    """`auto` deciding while running, where there is something to decide: None for an I/O-bound task, a
    single file, one worker or one core, or where no process backend is offered."""
    pool = next((b for b in ("processes", "multiprocessing") if available is None or b in available), None)
    n = workers or default_workers(kind, len(sizes), cores)
    if kind == "io" or len(sizes) <= 1 or n < 2 or cores < 2 or pool is None:
        return None
    work = cost.seconds(sizes)
    return Choice(
        ADAPTIVE,
        n,
        f"decides while running: the first files run in-process at once while {n} worker processes start, "
        f"and the files left move to them if the measured times say it pays ({len(sizes)} files, "
        f"{_megabytes(sum(sizes))}, estimated at {work:.1f} s of work on one core)",
        (("pool", pool),),
    )


def _megabytes(total: int) -> str:
    return f"{total / 1_000_000:.1f} MB"


def choose(
    kind: str,
    sizes: list[int],
    workers: int | None = None,
    cores: int | None = None,
    warm_pool: bool = False,
    available: tuple[str, ...] | None = None,
    cost: WorkCost = DEFAULT_COST,
) -> Choice:
    """The backend `auto` picks for a batch of files with these sizes, and why."""
    cores = cores or cpu_count()
    count = len(sizes)
    total = sum(sizes)
    if count <= 1:
        return Choice("sequential", 1, "one file: nothing to run in parallel")
    if workers == 1:
        return Choice("sequential", 1, "one worker requested")
    if kind == "io":
        n = workers or default_workers("io", count, cores)
        return Choice("threads", n, f"I/O-bound task: {n} threads overlap waiting on files ({count} files)")
    n = workers or default_workers("cpu", count, cores)
    if cores == 1 and workers is None:
        return Choice("sequential", 1, "one CPU core: parallel workers would only take turns")
    used = min(n, cores)
    work = cost.seconds(sizes)
    startup = WARM_POOL_SECONDS if warm_pool else POOL_STARTUP_SECONDS
    on_threads = cost.seconds_on_threads(sizes, used)
    on_processes = startup + work / used + PROCESS_SECONDS_PER_FILE * count
    what = f"{count} files ({_megabytes(total)}, about {work:.1f} s of work on one core)"
    process_backend = "processes"
    if available is not None and process_backend not in available:
        process_backend = "multiprocessing" if "multiprocessing" in available else "threads"
    if on_processes <= min(work, on_threads) * PREFER_PROCESSES:
        return Choice(
            process_backend,
            n,
            f"CPU-bound task, {what}: {n} worker processes use {used} of {cores} CPU cores "
            f"(about {on_processes:.1f} s with their start-up)",
        )
    if on_threads < work * 0.95:
        share = round(cost.lock_free * 100)
        return Choice(
            "threads",
            n,
            f"{what}: {share}% of this task's work (reading) runs outside Python's lock, so {n} threads "
            f"share {used} cores without the {startup:.1f} s start-up of worker processes "
            f"(about {on_threads:.1f} s against {on_processes:.1f} s)",
        )
    return Choice(
        "sequential",
        1,
        f"{what}: starting worker processes (about {startup:.1f} s) would cost more than it saves",
    )


def decide(
    kind: str,
    sizes: Sequence[int],
    backend: str = "auto",
    workers: int | None = None,
    *,
    max_workers: int | None = None,
    warm_pool: Callable[[int], bool] | None = None,
    available: tuple[str, ...] | None = None,
    cost: WorkCost = DEFAULT_COST,
    cores: int | None = None,
    origin: str = USER_CHOICE,
    time_limit: float | None = None,
) -> Choice:
    """The backend and worker count a batch of files with these sizes runs with, and why.

    `backend` is "auto" or the backend to use; `workers` the count the user set (None: automatic);
    `max_workers` the settings' upper limit for the automatic count; `warm_pool(n)` says whether n worker
    processes are already running (then processes pay off for smaller batches); `available` the backends
    offered; `cost` the task's WorkCost; `origin` why a named backend is used (the reason given for it);
    `time_limit` the seconds a file may run (then `auto` settles on its estimate: files in-process could
    not be stopped).
    """
    cores = cores or cpu_count()
    sizes = list(sizes)
    if backend == "auto":
        would_use = workers or default_workers(kind, len(sizes), cores)
        if workers is None and max_workers:
            would_use = min(would_use, max_workers)  # the cap applied below counts for the warm pool too
        warm = warm_pool is not None and warm_pool(would_use)
        choice = choose(kind, sizes, workers, cores, warm_pool=warm, available=available, cost=cost)
        if not warm and time_limit is None and (running := adaptive(kind, sizes, would_use, cores, available, cost)):
            choice = running
    elif backend == "sequential":
        choice = Choice("sequential", 1, origin)
    else:
        choice = Choice(backend, workers or default_workers(kind, len(sizes), cores), origin)
    if workers is None and max_workers and choice.workers > max_workers:
        choice = replace(
            choice, workers=max_workers, reason=f"{choice.reason} (limited to {max_workers} workers by the settings)"
        )
    return choice
