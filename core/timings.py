"""How fast each task ran on this machine, kept between batches: the prior of `auto`'s decision.

A task's WorkCost (xlbatch.cost) is measured once, on one machine. Here the batches that ran say how far
off it is on this one: after each batch, the seconds its files took (each file timed by its worker, so on
one core) divided by what the WorkCost predicted for files of their sizes is this task's `scale`. It is
kept per task, as a moving average, in `timings.json` beside the settings file, and the next batch's
estimate is the WorkCost times that scale: the second batch of the day starts from what the first one
measured, not from the number in the source.

The same file keeps how long a process pool took here to start and run a first call on each worker,
per backend and worker count (a moving average as well): `auto` weighs running a file in-process against
waiting for the pool by it, and a machine's start-up differs from the 0.6 s the cost model assumes (0.25 s
on a quiet 2-core machine, seconds on a busy one or with a slow disk).

The file holds nothing but these numbers; a damaged or unreadable one is ignored (and replaced at the next
write), since a prior only speeds up a decision the measurements of the batch make anyway.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from xlbatch.cost import WorkCost

FILE_NAME = "timings.json"
# Weight of the newest batch in the moving average: one odd batch (a busy machine) moves it half-way.
NEWEST_WEIGHT = 0.5
# A batch says something only with this many seconds of measured work (tiny batches are mostly noise).
MIN_MEASURED_SECONDS = 0.2
# Never trust a scale outside this range: a clock glitch or a file that waited must not skew every later batch.
SCALE_LIMITS = (0.05, 20.0)
# Nor a pool start-up outside this one (seconds).
STARTUP_LIMITS = (0.05, 30.0)


def default_path() -> Path:
    """timings.json beside the settings file (so a test's or a portable install's settings keep their own)."""
    from xlbatch.settings import default_path as settings_path

    return settings_path().parent / FILE_NAME


@dataclass(frozen=True)
class TaskTiming:
    """What earlier batches of one task measured here: the ratio of measured to predicted seconds."""

    scale: float
    batches: int
    updated: float  # time.time() of the last batch that counted


def _clamp(scale: float) -> float:
    low, high = SCALE_LIMITS
    return min(max(scale, low), high)


class Timings:
    """The per-task scales of this machine, read from and written to one JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.tasks: dict[str, TaskTiming] = {}
        self.pools: dict[str, float] = {}  # "processes x2": seconds to start and answer a first call
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for key, seconds in data.get("pools", {}).items():
                self.pools[str(key)] = min(max(float(seconds), STARTUP_LIMITS[0]), STARTUP_LIMITS[1])
            for name, entry in data.get("tasks", {}).items():
                self.tasks[str(name)] = TaskTiming(
                    _clamp(float(entry["scale"])), int(entry["batches"]), float(entry["updated"])
                )

    def cost(self, task: str, cost: WorkCost) -> WorkCost:
        """The task's WorkCost scaled to what this machine measured (unchanged before any batch)."""
        timing = self.tasks.get(task)
        if timing is None:
            return cost
        return replace(
            cost,
            seconds_per_mb=cost.seconds_per_mb * timing.scale,
            seconds_per_file=cost.seconds_per_file * timing.scale,
        )

    def record(self, task: str, cost: WorkCost, samples: Iterable[tuple[int, float]]) -> TaskTiming | None:
        """Fold one batch's (file size, seconds) samples into the task's scale and save; None if the batch
        measured too little to say anything. `cost` is the task's unscaled WorkCost."""
        samples = list(samples)
        measured = sum(seconds for _size, seconds in samples)
        predicted = cost.seconds([size for size, _seconds in samples])
        if measured < MIN_MEASURED_SECONDS or predicted <= 0:
            return None
        batch_scale = _clamp(measured / predicted)
        earlier = self.tasks.get(task)
        scale = batch_scale if earlier is None else earlier.scale * (1 - NEWEST_WEIGHT) + batch_scale * NEWEST_WEIGHT
        timing = TaskTiming(_clamp(scale), (earlier.batches if earlier else 0) + 1, time.time())
        self.tasks[task] = timing
        self.save()
        return timing

    def pool_startup(self, backend: str, workers: int, default: float) -> float:
        """Seconds a pool of this backend and size took here to start (`default` before any was timed)."""
        return self.pools.get(f"{backend} x{workers}", default)

    def record_pool(self, backend: str, workers: int, seconds: float) -> float:
        """Fold one measured start-up into the moving average and save; returns the new average."""
        key = f"{backend} x{workers}"
        seconds = min(max(seconds, STARTUP_LIMITS[0]), STARTUP_LIMITS[1])
        earlier = self.pools.get(key)
        self.pools[key] = seconds if earlier is None else earlier * (1 - NEWEST_WEIGHT) + seconds * NEWEST_WEIGHT
        self.save()
        return self.pools[key]

    def save(self) -> None:
        """Write the file whole (a temporary file renamed over it); a failure only costs the prior."""
        data = {
            "tasks": {
                name: {"scale": round(t.scale, 4), "batches": t.batches, "updated": round(t.updated, 1)}
                for name, t in sorted(self.tasks.items())
            },
            "pools": {key: round(seconds, 3) for key, seconds in sorted(self.pools.items())},
        }
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(temporary, self.path)
