"""Which backend and how many workers: the `auto` decision, explained in words for the report.

The rules come from measurements on a 2-core machine: a spawn pool costs about 0.9 s to its first
result (Python and the readers imported in each worker), processes reach the core limit on CPU-bound
work while threads top out near 1.25x, and threads are right for I/O-bound work. So: one file, one core
or a batch too small to repay process start-up runs sequentially; I/O-bound tasks use threads;
everything else uses a process pool with one worker per core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# Work per megabyte of workbook on one core, as the benchmark measured it for the tasks themselves (not
# just the reader): summarize about 1.3 s/MB, combine 1.0, convert 2.9 on a loaded 2-core machine, and
# about 70% of that on a quiet one. 1.5 MB/s errs towards starting processes once a batch holds a few
# megabytes, where they pay for themselves.
BYTES_PER_SECOND = 1_500_000
# Fixed cost per file (open, preflight, result) in seconds.
SECONDS_PER_FILE = 0.01
# Cost of starting a spawn pool, to its first result.
POOL_STARTUP_SECONDS = 0.9
IO_WORKERS_PER_CORE = 4
MAX_IO_WORKERS = 16


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


def estimated_seconds(sizes: list[int]) -> float:
    """A rough single-core estimate of the batch's work."""
    return sum(sizes) / BYTES_PER_SECOND + SECONDS_PER_FILE * len(sizes)


@dataclass(frozen=True)
class Choice:
    backend: str
    workers: int
    reason: str


def _megabytes(total: int) -> str:
    return f"{total / 1_000_000:.1f} MB"


def choose(
    kind: str,
    sizes: list[int],
    workers: int | None = None,
    cores: int | None = None,
    warm_pool: bool = False,
    available: tuple[str, ...] | None = None,
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
    work = estimated_seconds(sizes)
    startup = 0.05 if warm_pool else POOL_STARTUP_SECONDS
    # Running on n workers saves work * (1 - 1/n) but costs the start-up: only worth it if it saves more.
    if work * (1 - 1 / n) <= startup * 1.5:
        return Choice(
            "sequential",
            1,
            f"{count} small files ({_megabytes(total)}, about {work:.1f} s of work): starting worker "
            f"processes (about {startup:.1f} s) would cost more than it saves",
        )
    backend = "processes"
    if available is not None and backend not in available:
        backend = "multiprocessing" if "multiprocessing" in available else "threads"
    return Choice(
        backend,
        n,
        f"CPU-bound task, {count} files ({_megabytes(total)}): {n} worker processes "
        f"use {min(n, cores)} of {cores} CPU cores",
    )
