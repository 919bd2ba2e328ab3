"""How fast each task ran on this machine, kept between batches: the prior of `auto`'s decision.

A task's WorkCost (xlbatch.cost) is measured once, on one machine. Here the batches that ran say how far
off it is on this one: after each batch, the seconds its files took (each file timed by its worker, so on
one core) divided by what the WorkCost predicted for files of their sizes is this task's `scale`. It is
kept per task, as a moving average, in `timings.json` beside the settings file, and the next batch's
estimate is the WorkCost times that scale: the second batch of the day starts from what the first one
measured, not from the number in the source.

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
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
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

    def save(self) -> None:
        """Write the file whole (a temporary file renamed over it); a failure only costs the prior."""
        data = {
            "tasks": {
                name: {"scale": round(t.scale, 4), "batches": t.batches, "updated": round(t.updated, 1)}
                for name, t in sorted(self.tasks.items())
            }
        }
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(temporary, self.path)
