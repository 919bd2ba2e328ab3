"""`auto` deciding while the batch runs: when to start worker processes, and when to move files to them.

The batch starts at once in-process (on threads while no pool is starting, which only a batch too small
for one sees; one file at a time once one is). Each finished file says how long this task takes
here: the measured seconds over what the task's cost model (calibrated by earlier batches,
xlbatch.timings) predicted for its size is the batch's `scale`. With it, the work left is estimated two
ways:

  in-process   scale x predicted seconds of the files left, one after another;
  processes    the same work divided among the workers (never less than the largest file left), times
               PROCESS_SLOWDOWN (two workers on two cores share memory bandwidth with each other and
               with the parent), plus the parent's handling of each file and what the pool still needs
               to finish starting.

The pool is started in the background as soon as the work left in-process is estimated above what the
start-up costs (before the first file finishes, by the prior alone); starting it takes the otherwise
idle cores, not the one running the files. Between two files (so that nothing is in flight and no file
waits for a handover) the files not yet started move to the pool once it is up and the estimate says it
pays by HANDOFF_MARGIN. While it is still starting, the files move at once and wait in the pool's queue,
where its first worker takes them as soon as it is up, when a file here would gain nothing:
- the start-up takes every core (as many workers as cores): a file here slows it about as much as it
  gains (on 2 cores, one 0.35 s file took 0.43-0.66 s beside it, and delayed the workers as much);
- or the next file would still be running when the pool is up, holding every file behind it back.
So in-process files run beside a starting pool only on spare cores, or while moving does not yet pay
(a close call, decided by the files measured here). A handover is final:
files that ran in-process stay settled, the rest run on the pool with its isolation, time limits and
memory guard.

Nothing here reads a clock of its own or starts anything: the caller passes `now` and a `PoolStart`, so
tests pin every decision with a fake clock and a fake pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from xlbatch.cost import WorkCost

# Processes run this much slower per file than one file in-process alone (2-core machine: 1.05-1.2).
PROCESS_SLOWDOWN = 1.1
# The parent's work per file on a process pool (pickling, messages, bookkeeping).
PROCESS_SECONDS_PER_FILE = 0.0005
# Files move to the pool only when it is estimated to finish them at least this much sooner.
HANDOFF_MARGIN = 0.9
# A pool is worth starting when the work left in-process is estimated above this many start-ups.
START_AFTER_STARTUPS = 1.0
# Files are queued on a pool still starting only until it has taken this many times its expected start-up.
WAIT_AT_MOST_STARTUPS = 3.0
# What hand_off() says, between two files.
MOVE = "move"  # the files left go to the pool now (queued there if it is still starting)
RUN = "run"  # run the next file in-process


class PoolStart(Protocol):
    """A process pool starting in the background."""

    def ready(self) -> bool:
        """True once every worker is up and has run a first call."""

    def failed(self) -> str | None:
        """Why the pool could not start; None while starting or once ready."""


@dataclass
class Decision:
    """What the batch did and why, in the measurements' words (the report's reason is built from it)."""

    in_process_files: int = 0
    pool_files: int = 0
    started_pool_at: float | None = None  # seconds into the batch
    handed_off_at: float | None = None
    in_process_per_file: float | None = None  # measured, at the handover (or at the end)
    pool_per_file: float | None = None  # estimated at the handover (wall seconds per file left)
    kept_because: str = ""  # why nothing moved, when nothing did
    queued_because: str = ""  # why the files were queued on a pool still starting, when they were


@dataclass
class Adaptive:
    """The decision for one batch. Call `observe` for each file settled in-process and `hand_off` between
    files; both take `now`, seconds on any monotonic clock."""

    cost: WorkCost  # the task's, calibrated to this machine
    workers: int  # worker processes the pool would have
    cores: int
    startup_seconds: float  # to the pool's first results, as the cost model estimates it
    start_pool: Callable[[], PoolStart]
    began: float  # `now` when the batch started
    pool: PoolStart | None = None
    measured_seconds: float = 0.0  # of the files settled in-process
    predicted_seconds: float = 0.0  # the prior's estimate for the same files
    decision: Decision = field(default_factory=Decision)

    def scale(self) -> float:
        """Measured over predicted, so far (1.0, the calibrated prior, before the first file)."""
        if self.predicted_seconds <= 0 or self.measured_seconds <= 0:
            return 1.0
        return self.measured_seconds / self.predicted_seconds

    def observe(self, size: int, seconds: float) -> None:
        """A file finished in-process after `seconds` (its worker's own timing)."""
        self.measured_seconds += seconds
        self.predicted_seconds += self.cost.seconds([size])
        self.decision.in_process_files += 1

    def in_process_estimate(self, sizes: Sequence[int]) -> float:
        return self.scale() * self.cost.seconds(list(sizes))

    def pool_estimate(self, sizes: Sequence[int], now: float) -> float:
        """Wall seconds for these files on the pool from `now`, including what its start-up has left."""
        if not sizes:
            return 0.0
        used = max(1, min(self.workers, self.cores, len(sizes)))
        scale = self.scale() * PROCESS_SLOWDOWN
        spread = max(self.cost.seconds(list(sizes)) / used, self.cost.seconds([max(sizes)]))
        waiting = 0.0
        if self.pool is None or not self.pool.ready():
            started = self.decision.started_pool_at
            elapsed = 0.0 if started is None else now - self.began - started
            waiting = max(self.startup_seconds - elapsed, 0.0)
        return waiting + scale * spread + PROCESS_SECONDS_PER_FILE * len(sizes)

    def hand_off(self, sizes: Sequence[int], now: float) -> str:
        """Between two files, with these sizes left (none started yet): MOVE them to the pool now, or RUN
        the next one here. Starts the pool when the work left is worth it."""
        if not sizes or self.workers < 2 or self.cores < 2:
            return RUN
        left = self.in_process_estimate(sizes)
        if self.pool is None:
            if left <= self.startup_seconds * START_AFTER_STARTUPS:
                return RUN
            self.pool = self.start_pool()
            self.decision.started_pool_at = now - self.began
        if self.pool.failed() is not None:
            return RUN
        on_pool = self.pool_estimate(sizes, now)
        if on_pool > left * HANDOFF_MARGIN:
            return RUN
        if self.pool.ready():
            self.decision.queued_because = ""
        elif self._no_core_spare(now):
            self.decision.queued_because = (
                "their start-up took every core, so a file run in-process would have slowed it"
            )
        elif self._outlasts_startup(sizes[0], now):
            self.decision.queued_because = "a file run in-process meanwhile would have outlasted their start-up"
        else:
            return RUN
        self.decision.handed_off_at = now - self.began
        self.decision.pool_files = len(sizes)
        self.decision.in_process_per_file = self._measured_per_file()
        self.decision.pool_per_file = on_pool / len(sizes)
        return MOVE

    def _late(self, now: float) -> bool:
        """The pool has taken far longer to start than expected (it may not come at all)."""
        elapsed = now - self.began - (self.decision.started_pool_at or 0.0)
        return elapsed > self.startup_seconds * WAIT_AT_MOST_STARTUPS

    def _no_core_spare(self, now: float) -> bool:
        """The pool's start-up takes every core (as many workers as cores, each starting an interpreter):
        a file run here meanwhile slows the start-up about as much as it gains, and the files behind it
        wait for it. So once moving pays, the files are queued on the starting pool at once."""
        return self.workers >= self.cores and not self._late(now)

    def _outlasts_startup(self, next_size: int, now: float) -> bool:
        """A file started here now would still run when the pool is up, holding every file behind it back
        from the pool: better to queue them on the pool at once, where its first worker takes them as soon
        as it is up. Unless the pool is far slower to start than expected: then files go on here until it
        is up."""
        if self._late(now):
            return False
        elapsed = now - self.began - (self.decision.started_pool_at or 0.0)
        next_file = self.scale() * self.cost.seconds([next_size])
        return next_file > self.startup_seconds - elapsed

    def finish(self) -> None:
        """The in-process part ended without a handover (all files done, or a stop): say why."""
        self.decision.in_process_per_file = self._measured_per_file()
        if self.pool is None:
            self.decision.kept_because = (
                f"the work left never exceeded the {self.startup_seconds:.1f} s worker processes take to start"
            )
        elif (why := self.pool.failed()) is not None:
            self.decision.kept_because = f"the worker processes could not start ({why})"
        elif not self.pool.ready():
            self.decision.kept_because = "the files were done before the worker processes were up"
        else:
            self.decision.kept_because = "the measured times said moving the files left would not pay"

    def _measured_per_file(self) -> float | None:
        count = self.decision.in_process_files
        return self.measured_seconds / count if count else None
