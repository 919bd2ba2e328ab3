"""The supervisor's memory guards: no file starts while free memory is below the floor, and each process
worker has a budget of resident memory (the supervisor stops a worker past it; its file is `too_large`).

`memory_probe` is read through this module at every call, so tests replace it here to simulate a machine
short of memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlbatch.sinks import EventSink

# Waiting for memory with nothing running can only be helped by other programs: give up after this.
MEMORY_WAIT_LIMIT_SECONDS = 60
# Each worker may use its share of the memory free at the start, but never less than this: a small machine
# still runs one file at a time of what it can hold.
WORKER_MEMORY_FLOOR = 1024 * 1024**2
# Of the free memory, the share the workers divide among themselves (the parent and other programs keep the rest).
WORKER_MEMORY_SHARE = 0.8


def _available_memory() -> int:
    import psutil

    return psutil.virtual_memory().available


# Tests replace this to simulate a machine short of memory.
memory_probe: Callable[[], int] = _available_memory


def worker_memory_budget(workers: int) -> int:
    """Bytes of memory (RSS) one process worker may use: its share of the free memory, with a floor."""
    return max(WORKER_MEMORY_FLOOR, int(memory_probe() * WORKER_MEMORY_SHARE / max(1, workers)))


def rss(pid: int, cache: dict[int, Any]) -> int | None:
    """A process's resident memory, None once it is gone. psutil.Process objects are kept per pid."""
    import psutil

    try:
        process = cache.get(pid)
        if process is None:
            process = cache[pid] = psutil.Process(pid)
        return process.memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        cache.pop(pid, None)
        return None


class FreeMemoryWait:
    """The floor of free memory below which no file starts (`floor_mb`, 0: none), and the notices of a wait."""

    def __init__(self, floor_mb: float, events: EventSink) -> None:
        self.floor_mb = floor_mb
        self.events = events
        self.since: float | None = None  # when the wait for free memory began; None: not waiting

    def ok(self, busy: bool) -> bool:
        """Whether another file may start now; `busy`: some of ours are running (they will free memory)."""
        floor = self.floor_mb * 1024 * 1024
        if floor <= 0:
            return True
        available = memory_probe()
        now = time.monotonic()
        if available >= floor:
            if self.since is not None:
                self.events.notice(f"Memory is available again after {now - self.since:.0f} s; continuing.")
                self.since = None
            return True
        if self.since is None:
            self.since = now
            self.events.notice(
                f"Free memory is low ({available / 2**20:.0f} MB, below {self.floor_mb:.0f} MB): "
                "waiting for running files to finish before starting more.",
                "warning",
            )
        # With nothing of ours running, only other programs can free memory: stop waiting after a while.
        return not busy and now - self.since > MEMORY_WAIT_LIMIT_SECONDS

    def gate(self) -> None:
        """For backends that dispatch by themselves: block while memory is low (bounded)."""
        floor = self.floor_mb * 1024 * 1024
        waited = 0.0
        while floor > 0 and memory_probe() < floor and waited < MEMORY_WAIT_LIMIT_SECONDS:
            time.sleep(0.2)
            waited += 0.2
