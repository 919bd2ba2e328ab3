"""Running a batch with `auto` deciding while it runs: in-process first, worker processes once they pay.

    run_adaptive(plan, work, ...)
      in-process    a Supervisor runs the files at once on this process's threads (InProcessBackend:
                    one per worker while no pool starts, one at a time once one does); whenever nothing
                    is in flight the Adaptive decision (xlbatch.executors.adaptive) is asked whether to
                    start the pool (PoolStarter, in the background) and whether the files not started
                    yet should move to it (queued there if it is still starting)
      on the pool   a second Supervisor runs those files on the pool, with its isolation, time
                    limits and memory guard; both share the batch's OutcomeSink, so the journal, resume
                    and cancel see one batch
      afterwards    the measured seconds per file calibrate the task's prior (xlbatch.timings), and the
                    Choice returned says what ran where and why, for the report

A pool that was started but not used is given back to the warm-pool cache (the desktop app keeps it for
the next batch) or shut down in the background, so a small batch does not wait for workers it never used.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import wait
from dataclasses import replace
from typing import TYPE_CHECKING

from xlbatch.executors import Backend, make_backend
from xlbatch.executors.adaptive import PROCESS_SLOWDOWN, Adaptive, Decision
from xlbatch.executors.choice import POOL_STARTUP_SECONDS, Choice, cpu_count
from xlbatch.executors.threads import ThreadsBackend
from xlbatch.outcome import FAILED, OK, FileOutcome
from xlbatch.supervisor import Supervisor
from xlbatch.timings import Timings
from xlbatch.worker import WorkFile, warm_up

if TYPE_CHECKING:
    from xlbatch.cancel import CancelToken
    from xlbatch.executors.pools import PoolCache
    from xlbatch.plan import Plan
    from xlbatch.sinks import EventSink, OutcomeSink

# How long a pool may take to start and run its first calls before it counts as failed to start.
START_TIMEOUT_SECONDS = 60


class PoolStarter:
    """A process pool started on a background thread, warmed with one call per worker."""

    def __init__(self, name: str, workers: int, pools: PoolCache | None) -> None:
        self.name, self.workers, self.pools = name, workers, pools
        self._lock = threading.Lock()
        self._ready = threading.Event()  # every worker answered its first call
        self._created = threading.Event()  # the pool exists and takes work (its workers may be starting)
        self._failed: str | None = None
        self._backend: Backend | None = None
        self._unwanted = False  # set by discard(): a pool that comes up afterwards is given back at once
        self._taken = False  # a Supervisor has it: it gives it back itself
        self._began = time.monotonic()
        self.startup_seconds: float | None = None  # from construction to every worker's first answer
        threading.Thread(target=self._start, name="xlbatch-pool-start", daemon=True).start()

    def _start(self) -> None:
        backend: Backend | None = None
        try:
            if self.pools is not None:
                backend = self.pools.acquire(self.name, self.workers)
            else:
                backend = make_backend(self.name, self.workers)
                backend.start()
            calls = [backend.submit_call(warm_up) for _ in range(self.workers)]
            self._backend = backend
            self._created.set()
            wait(calls, timeout=START_TIMEOUT_SECONDS)
            for call in calls:
                call.result(timeout=0)
        except BaseException as exc:  # noqa: BLE001 - a pool that cannot start leaves the batch in-process
            self._failed = f"{type(exc).__name__}: {exc}"
            self._created.set()
            if backend is not None and not self._taken:
                self._give_back(backend, healthy=False)
            return
        self.startup_seconds = time.monotonic() - self._began
        with self._lock:
            unwanted = self._unwanted
            if not unwanted:
                self._ready.set()
        if unwanted:
            self._give_back(backend, healthy=True)

    def ready(self) -> bool:
        return self._ready.is_set()

    def failed(self) -> str | None:
        return self._failed

    def take(self) -> Backend | None:
        """The pool, for the Supervisor that runs the files moved to it (it releases it). Files may be
        moved while its workers are still starting: they wait in its queue. None if it failed to start."""
        self._created.wait(START_TIMEOUT_SECONDS)
        with self._lock:
            self._taken = self._backend is not None and self._failed is None
            return self._backend if self._taken else None

    def discard(self) -> None:
        """Not needed after all: give the pool back now, or as soon as it is up (without waiting for it)."""
        with self._lock:
            self._unwanted = True
            backend = self._backend if self._ready.is_set() else None
        if backend is not None:
            self._give_back(backend, healthy=True)

    def _give_back(self, backend: Backend, healthy: bool) -> None:
        if self.pools is not None:
            self.pools.release(backend, healthy)
        else:
            threading.Thread(target=backend.shutdown, kwargs={"kill": not healthy}, daemon=True).start()


class InProcessBackend(ThreadsBackend):
    """The in-process side: `workers` threads while no pool is starting (a batch too small for one, where
    two files at once still overlap their reading), one file at a time once one is, so that a handover
    never has more than one file in flight to wait for, and each file's time is its own."""

    name = "threads"

    def __init__(self, workers: int, decision: Adaptive) -> None:
        super().__init__(workers)
        self.decision = decision

    def slots(self) -> int:
        return 1 if self.decision.pool is not None else self.workers


class SupervisorHandoff:
    """The Supervisor's side of the decision: what settled in-process, and whether the files left go."""

    def __init__(self, adaptive: Adaptive, sizes: dict[int, int]) -> None:
        self.adaptive = adaptive
        self.sizes = sizes
        self.samples: list[tuple[int, float]] = []  # (size, seconds) of every file timed in-process

    def observe(self, outcome: FileOutcome) -> None:
        if outcome.status in (OK, FAILED) and outcome.seconds > 0:
            size = self.sizes.get(outcome.index, 0)
            self.adaptive.observe(size, outcome.seconds)
            if self.adaptive.pool is not None:  # one file at a time: its seconds are its own (no other
                self.samples.append((size, outcome.seconds))  # thread took turns with it)

    def take(self, left: list[WorkFile]) -> str:
        return self.adaptive.hand_off([self.sizes.get(w.index, 0) for w in left], time.monotonic())


def run_adaptive(
    plan: Plan,
    work: list[WorkFile],
    sink: OutcomeSink,
    events: EventSink,
    cancel: CancelToken,
    pools: PoolCache | None,
) -> Choice:
    """Run the work list in-process, moving it to worker processes once they pay; return what ran."""
    workers, pool_name = plan.choice.workers, dict(plan.choice.options)["pool"]
    timings = Timings()
    task_cost = plan.task.work_cost(plan.params)
    sizes = {w.index: Supervisor.file_size(w) for w in work}
    starters: list[PoolStarter] = []

    def start_pool() -> PoolStarter:
        starters.append(PoolStarter(pool_name, workers, pools))
        return starters[0]

    decision = Adaptive(
        timings.cost(plan.task.name, task_cost),
        workers,
        cpu_count(),
        timings.pool_startup(pool_name, workers, POOL_STARTUP_SECONDS),  # as measured here, once it was
        start_pool,
        time.monotonic(),
    )
    handoff = SupervisorHandoff(decision, sizes)
    threads = InProcessBackend(workers, decision)
    threads.start()
    left: list[WorkFile] = []
    pool_seconds = 0.0
    try:
        in_process = Supervisor(
            replace(plan, choice=Choice("threads", workers, plan.choice.reason)), events, sink, cancel
        )
        left = in_process.run(work, handoff, threads)
        if left:
            _moved_notice(events, decision.decision, len(left), workers)
            on_pool = Supervisor(
                replace(plan, choice=Choice(pool_name, workers, plan.choice.reason)), events, sink, cancel, pools
            )
            pool_started = time.monotonic()
            on_pool.run(left, backend=starters[0].take())  # it releases the pool at its end
            pool_seconds = time.monotonic() - pool_started
    finally:
        if not left:  # nothing moved (or the run failed before): the pool goes back, started or not
            decision.finish()
            for starter in starters:
                starter.discard()
    timings.record(plan.task.name, task_cost, handoff.samples + _pool_samples(sink, left, sizes))
    started = next((s.startup_seconds for s in starters if s.startup_seconds is not None), None)
    if started is not None and pools is None:  # a pool of our own, started cold (not the app's warm one)
        timings.record_pool(pool_name, workers, started)
    alone = decision.pool is not None  # one file at a time since the pool started (from the first file on)
    ran = pool_name if left else ("sequential" if alone else "threads")
    return Choice(
        ran, 1 if ran == "sequential" else workers, describe(decision.decision, workers, len(left), pool_seconds, alone)
    )


def _moved_notice(events: EventSink, d: Decision, moved: int, workers: int) -> None:
    if not d.in_process_files:
        return  # nothing ran in-process: the report's reason says why the pool took every file
    events.notice(
        f"Moved the {_files(moved)} left to {workers} worker processes after {_files(d.in_process_files)} "
        f"in-process: measured {per_file(d.in_process_per_file)} in-process, "
        f"{per_file(d.pool_per_file)} expected on processes."
    )


def _pool_samples(sink: OutcomeSink, left: list[WorkFile], sizes: dict[int, int]) -> list[tuple[int, float]]:
    """The files that ran on the pool, their seconds brought back to one file alone on a core."""
    moved = {w.index for w in left}
    return [
        (sizes.get(o.index, 0), o.seconds / PROCESS_SLOWDOWN)
        for o in (sink.results[i] for i in moved if i in sink.results)
        if o.status in (OK, FAILED) and o.seconds > 0
    ]


def per_file(seconds: float | None) -> str:
    """Seconds per file in words: milliseconds below a tenth of a second."""
    if seconds is None:
        return "nothing measured"
    return f"{seconds:.2f} s per file" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms per file"


def _files(count: int) -> str:
    return "1 file" if count == 1 else f"{count:,} files"


def describe(d: Decision, workers: int, moved: int, pool_seconds: float, alone: bool = True) -> str:
    """What ran where and why, from the measurements, for the report."""
    measured = f"measured {per_file(d.in_process_per_file)} in-process"
    if moved and not d.in_process_files:
        return (
            f"auto, decided while running: all {_files(moved)} on {workers} processes, queued as they started: "
            f"{d.queued_because or 'they paid from the first file'} "
            f"({per_file(d.pool_per_file)} expected on processes, took {per_file(pool_seconds / moved)})"
        )
    if moved:
        return (
            f"auto, decided while running: first {_files(d.in_process_files)} in-process while {workers} worker "
            f"processes started; {_files(moved)} on {workers} processes: {measured}, "
            f"{per_file(d.pool_per_file)} expected on processes (took {per_file(pool_seconds / moved)})"
        )
    files = f"all {_files(d.in_process_files)}" if d.in_process_files else "every file"
    because = f": {d.kept_because}" if d.kept_because else ""
    how = "one at a time" if alone else f"on {workers} threads"
    return f"auto, decided while running: {files} in-process, {how} ({measured}){because}"
