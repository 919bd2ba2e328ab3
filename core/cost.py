"""What a task's work costs, as the `auto` choice needs to know it: time per megabyte and per file on one
core, and how much of it runs outside Python's global interpreter lock.

The lock decides what threads are worth. The Rust reader (python-calamine), zlib and hashing release it,
so two threads read two workbooks at once; per-cell Python code (statistics loops, xlsxwriter, openpyxl)
holds it, so threads take turns there. A task that mostly reads gets most of the two-core speed-up from
threads, without the start-up of worker processes; a task that mostly writes gets it only from processes.

Each task states its cost, measured with benchmarks/run.py on a quiet 2-core machine (absolute speed
differs between machines; what matters is the cost next to the pool start-up measured on the same one).
"""

from __future__ import annotations

from dataclasses import dataclass

FIXED_BYTES = 16_384


@dataclass(frozen=True)
class WorkCost:
    """Single-core cost of a task: `seconds_per_mb` of workbook, plus `seconds_per_file` of fixed Python
    work (open, checks, result, journal) that always holds the lock; `lock_free` is the share (0..1) of the
    per-megabyte part that runs outside the lock.

    The first FIXED_BYTES of each file do not count as megabytes: an xlsx carries that much of fixed parts
    (styles, theme, the zip's directory), which the per-file cost covers. Without this, a folder of tiny
    forms would look like megabytes of reading that threads could overlap, which it is not.
    """

    seconds_per_mb: float = 1.5
    seconds_per_file: float = 0.003
    lock_free: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.lock_free <= 1.0:
            raise ValueError("lock_free is a share between 0 and 1")

    def _per_mb_seconds(self, sizes: list[int]) -> float:
        return sum(max(size - FIXED_BYTES, 0) for size in sizes) / 1_000_000 * self.seconds_per_mb

    def seconds(self, sizes: list[int]) -> float:
        """Estimated single-core seconds for files of these sizes (bytes)."""
        return self._per_mb_seconds(sizes) + len(sizes) * self.seconds_per_file

    def seconds_on_threads(self, sizes: list[int], threads: int) -> float:
        """Estimated seconds with this many threads on as many cores: only the lock-free part overlaps.

        Measured: summarize (80% lock-free) runs 1.6-1.7x faster on two threads, as this predicts."""
        per_mb = self._per_mb_seconds(sizes)
        held = per_mb * (1 - self.lock_free) + len(sizes) * self.seconds_per_file
        return held + per_mb * self.lock_free / max(threads, 1)


DEFAULT_COST = WorkCost()
