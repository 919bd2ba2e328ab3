"""The supervisor loop: runs one plan's files on one backend and settles every file exactly once.

    submit work items (at most `workers` in flight) ─► drain worker messages ─► FileStarted/FileProgress
    collect outcomes ─► FileFinished (and the journal)        enforce time limits, cancel, memory guard
    a pool broke ─► culprit `crashed`/`timeout`, innocents re-run, suspects run alone, fresh pool

The supervisor runs work items and reports outcomes, nothing else: what to skip was decided before it
starts, and every outcome goes to the batch's OutcomeSink (`xlbatch.sinks`), which records it in the
journal and emits FileFinished. How to treat a backend is what the backend says it can do (its
capability attributes, `xlbatch.executors.base`).

Process backends: when a worker dies the pool is replaced. The file whose worker died is the culprit
(`crashed`, with the exit code); files that were running beside it are innocent and re-run. When the
culprit cannot be told apart (the pool killed every worker, or the exit codes say nothing), the
suspects are re-run one at a time: the one that brings the pool down alone is the culprit.

Only the thread that runs the batch touches a Supervisor.
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from xlbatch import errors, memory_guard
from xlbatch.cancel import FINISH, NOW, CancelToken
from xlbatch.errors import FileError
from xlbatch.events import FileProgress, FileStarted
from xlbatch.executors import Backend, make_backend
from xlbatch.executors.adaptive import MOVE
from xlbatch.executors.base import BackendLost, NotStarted
from xlbatch.executors.processes import TERMINATED_BY_POOL
from xlbatch.memory_guard import FreeMemoryWait
from xlbatch.outcome import CANCELLED, FAILED, FileOutcome
from xlbatch.sinks import EventSink, OutcomeSink, cancelled_before_running
from xlbatch.unreported_outputs import UnreportedOutputs
from xlbatch.worker import WorkFile, WorkItem
from xlbatch.worker_failures import crashed_error, failed, timeout_error, too_large_error

if TYPE_CHECKING:
    from xlbatch.executors.pools import PoolCache
    from xlbatch.plan import Plan

# How often the loop wakes up with nothing finished: bounds the latency of progress, cancel and timeouts.
TICK_SECONDS = 0.05
# A process worker past its limit is killed this long after the cooperative deadline, which a task
# that reports progress honours by itself without costing a pool.
KILL_GRACE_SECONDS = 0.5
# On "stop now", how long files running on threads get to reach their next progress call and stop.
STOP_GRACE_SECONDS = 3.0
# Kinds of failure worth trying again when the user asked for retries.
RETRYABLE = {errors.CRASHED, errors.TIMEOUT}
# A process worker's memory (RSS) is checked this often; one above its budget is stopped.
MEMORY_WATCH_SECONDS = 0.25
# Files smaller than this may travel several to a work item on the process backends.
SMALL_FILE_BYTES = 256 * 1024
MAX_FILES_PER_ITEM = 32


class Handoff(Protocol):
    """Moves the files not started yet elsewhere, between two files (xlbatch.adaptive_run): told of every
    outcome settled here, and asked, whenever nothing is in flight, whether the files left should go (MOVE)
    or the next file should run here (RUN)."""

    def observe(self, outcome: FileOutcome) -> None: ...

    def take(self, left: list[WorkFile]) -> str: ...  # MOVE or RUN (xlbatch.executors.adaptive)


@dataclass
class FileState:
    """One file the supervisor was given, as the loop sees it."""

    work: WorkFile  # the current attempt (a retry replaces it)
    started_at: float | None = None  # time.monotonic() of its `started` message; None: not running
    pid: int | None = None  # the worker process that runs it (its memory is watched, and it may be killed)


class Supervisor:
    """Runs one plan's files on one backend. Only the calling thread touches this object.

    Built complete: every piece of state the loop keeps is declared here, with what it is for.
    """

    def __init__(
        self, plan: Plan, events: EventSink, sink: OutcomeSink, cancel: CancelToken, pools: PoolCache | None = None
    ) -> None:
        spec = plan.spec
        # -- what runs, fixed for the batch (read from the plan here, once) -------------------------
        self.task = plan.task
        self.params = plan.params
        self.out_dir = str(plan.out_dir)
        self.choice = plan.choice  # the backend's name and the worker count
        self.timeout = spec.timeout  # seconds a file may run; None: no limit
        self.retries = spec.retries  # extra attempts for a file that crashed or timed out
        self.verify = spec.verify  # workers read every output back and compare it
        # No file starts while less memory than the spec's floor is free (0: no floor).
        self.free_memory = FreeMemoryWait(spec.memory_floor_mb, events)
        self.batch_id = secrets.token_hex(8)  # tags this batch's messages: a warm pool's channel outlives it
        # -- where things go, and where the pool comes from -----------------------------------------
        self.events = events  # FileStarted, FileProgress and notices
        self.sink = sink  # every outcome: the journal, then FileFinished
        self.cancel = cancel
        self.pools = pools  # warm pools to borrow from; None: a pool of our own, shut down at the end
        self.backend: Backend | None = None  # acquired when run() starts, released when it ends
        self.handoff: Handoff | None = None  # set by run(): may take the files not started yet
        self.healthy = True  # False when the pool must not be reused (stopped, or a thread abandoned)
        # -- the files -------------------------------------------------------------------------------
        self.states: dict[int, FileState] = {}  # every file run() was given: attempt, start time, worker pid
        # Files to run one at a time, alone: suspects whose culprit could not be told apart, and retries.
        self.isolate: collections.deque[WorkFile] = collections.deque()
        # Outputs put in place by workers that have not reported their file (a killed one never will).
        self.unreported = UnreportedOutputs()
        # -- a pool broke: what recover() sorts out --------------------------------------------------
        self.suspects: list[WorkFile] = []  # were running in the broken pool: one may be the culprit
        self.requeue: list[WorkFile] = []  # were submitted but had not started: innocent, run again
        self.last_break = ""  # how the pool broke last ("BrokenProcessPool: ..."), for notices and details
        # Workers we stopped ourselves; their files are the culprits of the break that follows.
        self.timed_out: set[int] = set()  # past the time limit
        self.over_memory: dict[int, int] = {}  # past the memory budget: index -> the RSS seen
        # Set when we stopped a worker since the last recover(): then a lone bystander of the break is not
        # taken for a culprit (the break was ours).
        self.stopped_recently = False
        # Why the backend can run nothing more (BackendLost), once it said so: the batch ends.
        self.lost: str | None = None
        # -- the memory guards -------------------------------------------------------------------------
        self.memory_budget: int | None = None  # RSS bytes per process worker; set in run() if the backend can kill
        self._memory_checked = 0.0  # time.monotonic() of the last RSS check
        self._processes: dict[int, Any] = {}  # psutil.Process per worker pid, kept between RSS checks

    # -- bookkeeping -----------------------------------------------------------------------------
    def settled(self, index: int) -> bool:
        return self.sink.settled(index)

    def cancelled(self, work: WorkFile) -> None:
        self.finish(cancelled_before_running(work))

    def finish(self, outcome: FileOutcome) -> None:
        """Settle a file; what its worker put in place and the outcome does not list goes."""
        self.unreported.discard(outcome.index, outcome.outputs)
        self.sink.finish(outcome)
        if self.handoff is not None:
            self.handoff.observe(outcome)

    def elapsed(self, index: int) -> float:
        state = self.states.get(index)
        return time.monotonic() - state.started_at if state and state.started_at else 0.0

    # -- messages from workers -------------------------------------------------------------------
    def handle_messages(self) -> None:
        assert self.backend is not None
        for message in self.backend.drain():
            kind, batch, index = message[0], message[1], message[2]
            if batch != self.batch_id or self.settled(index):
                continue
            state = self.states.get(index)
            if state is None:
                continue
            if kind == "started":
                state.started_at, state.pid = time.monotonic(), message[3]
                self.events.emit(FileStarted(index, state.work.path, message[4]))
            elif kind == "progress":
                self.events.emit(FileProgress(index, state.work.path, message[3], message[4]))
            elif kind == "output":
                self.unreported.add(index, message[3], message[4])
            elif kind == "done":
                self.unreported.reported(index)
                self.settle(message[3])

    def settle(self, outcome: FileOutcome) -> None:
        """A file's outcome from a worker; failures worth retrying go back to the queue."""
        if self.settled(outcome.index):
            return
        state = self.states[outcome.index]
        if (
            outcome.status == FAILED
            and outcome.error is not None
            and outcome.error.kind in RETRYABLE
            and state.work.attempt <= self.retries
        ):
            self.unreported.discard(outcome.index)
            self.retry(state, outcome.error)
            return
        self.finish(outcome)

    def retry(self, state: FileState, error: FileError) -> None:
        attempt = state.work.attempt + 1
        self.events.notice(f"Retrying {Path(state.work.path).name} (attempt {attempt}) after: {error.message}")
        state.work = replace(state.work, attempt=attempt)
        state.started_at = state.pid = None
        self.isolate.appendleft(state.work)

    # -- the loop --------------------------------------------------------------------------------
    def make_items(self, files: list[WorkFile], backend: Backend) -> list[WorkItem]:
        """One file per item; many small files per item where each item costs a trip to another process."""
        group, workers = 1, self.choice.workers
        # A fails_alone backend (Dask) returns a group's outcomes only with the whole group: with a time
        # limit, the first file's clock would run on while the others work. Those files travel alone.
        grouping = backend.groups_small_files and not (self.timeout and backend.fails_alone)
        if grouping and len(files) > workers * 8:
            sizes = [self.file_size(w) for w in files]
            if max(sizes) <= SMALL_FILE_BYTES:
                group = max(1, min(MAX_FILES_PER_ITEM, len(files) // (workers * 8)))
        return [self.item(files[i : i + group]) for i in range(0, len(files), group)]

    @staticmethod
    def file_size(work: WorkFile) -> int:
        try:
            return os.stat(work.path).st_size
        except OSError:
            return 0

    def item(self, files: list[WorkFile]) -> WorkItem:
        return WorkItem(
            self.task,
            self.params,
            tuple(files),
            self.out_dir,
            frozenset(w.path for w in files),
            self.timeout,
            self.batch_id,
            verify=self.verify,
        )

    def run(
        self, files: list[WorkFile], handoff: Handoff | None = None, backend: Backend | None = None
    ) -> list[WorkFile]:
        """Run these files to their outcomes (each settled in the sink), or until a stop request says so.

        `handoff` may take the files not started yet, between two files: they are returned, unsettled, for
        the caller to run elsewhere (otherwise the list is empty). `backend`: a started one to run on (and
        release at the end, like one of our own), instead of acquiring one."""
        for work in files:
            self.states[work.index] = FileState(work)
        self.handoff = handoff
        backend = self.acquire_backend(backend)
        inflight: dict[concurrent.futures.Future[Any], WorkItem] = {}
        isolating: WorkFile | None = None  # the suspect running alone, if one is
        try:
            pending: collections.deque[WorkItem] = collections.deque(self.make_items(files, backend))
            while True:
                self.handle_messages()
                broken = False
                for future in [f for f in inflight if f.done()]:
                    broken |= self.collect(future, inflight.pop(future))
                if backend.can_kill and backend.dead_workers():
                    broken = True
                if broken:
                    self.recover(inflight, pending, isolating)
                    isolating = None
                elif isolating is not None and self.settled(isolating.index):
                    isolating = None
                self.drop_settled(inflight)
                if self.lost is not None:
                    self.end_lost(inflight, pending)
                    return []
                self.enforce_timeouts()
                self.enforce_memory_budget()
                mode = self.cancel.mode
                if mode == NOW:
                    self.stop_now(inflight, pending)
                    return []
                if mode == FINISH:
                    self.start_no_more(pending)
                if handoff is not None and pending and not inflight and not self.isolate and mode is None:
                    left = [w for item in pending for w in item.files]
                    if handoff.take(left) == MOVE:
                        return left
                # Submit: suspects one at a time, alone; otherwise keep the pool full.
                if not inflight and self.isolate and mode is None:
                    isolating = self.isolate.popleft()
                    alone = self.item([isolating])
                    inflight[backend.submit(alone)] = alone
                while (
                    pending
                    and isolating is None
                    and not self.isolate
                    and len(inflight) < (10**9 if backend.bulk else backend.slots())
                    and mode is None
                    and self.memory_ok(bool(inflight))
                ):
                    item = pending.popleft()
                    inflight[backend.submit(item)] = item
                if not pending and not inflight and not self.isolate:
                    return []
                if inflight:
                    concurrent.futures.wait(list(inflight), TICK_SECONDS, concurrent.futures.FIRST_COMPLETED)
                else:
                    time.sleep(TICK_SECONDS)
        finally:
            try:
                self.handle_messages()  # what workers sent while the loop ended
            finally:
                self.release_backend()

    def acquire_backend(self, given: Backend | None = None) -> Backend:
        """A started backend for the batch (`given`, or a warm one from `pools` if it matches, or a new one),
        with the guards set."""
        name, workers = self.choice.backend, self.choice.workers
        if given is not None:
            backend = given
        elif self.pools is not None:
            backend = self.pools.acquire(name, workers, self.choice.options)
        else:
            backend = make_backend(name, workers, self.choice.options)
            backend.start()
        self.backend = backend
        if backend.gates_submissions:
            backend.gate = self.memory_gate
        if backend.can_kill and not backend.remote_workers:  # a cluster's workers have their own limit
            self.memory_budget = memory_guard.worker_memory_budget(workers)
        return backend

    def release_backend(self) -> None:
        """Give the pool back (kept warm only if healthy), or shut our own down."""
        assert self.backend is not None
        healthy = self.healthy and self.cancel.mode != NOW
        if self.pools is not None:
            self.pools.release(self.backend, healthy)
        else:
            self.backend.shutdown(kill=not healthy)

    def collect(self, future: concurrent.futures.Future[Any], item: WorkItem) -> bool:
        """Take a finished future's outcomes; return True if it failed because the pool broke."""
        # A worker writes `started` before its result: take those messages first, so every file's events
        # come in order (queued, started, progress, finished).
        self.handle_messages()
        try:
            outcomes = future.result()
        # BrokenProcessPool, PoolBroken, TerminatedWorkerError..., and whatever a worker raised outside
        # Exception (SystemExit in a worker is that worker's end, not the batch's): the item broke.
        except BaseException as exc:  # noqa: BLE001
            self.handle_messages()  # keep the `done` and `started` messages sent before the break
            if isinstance(exc, BackendLost):
                self.lost = str(exc)
                for work in item.files:
                    self.cancel_lost(work)
                return False
            if isinstance(exc, NotStarted):
                for work in item.files:
                    if not self.settled(work.index):
                        (self.cancelled(work) if self.cancel.requested else self.isolate.append(work))
                return False
            if self.backend is not None and self.backend.fails_alone:
                self.failed_alone(item, exc)
                return False
            self.last_break = f"{type(exc).__name__}: {exc}"
            for work in item.files:
                if self.settled(work.index):
                    continue
                state = self.states[work.index]
                if state.started_at is not None:
                    self.suspects.append(state.work)
                else:
                    self.requeue.append(state.work)
            return True
        for outcome in outcomes:
            self.settle(outcome)
        for work in item.files:  # files a stop request kept from starting
            if not self.settled(work.index) and self.cancel.requested:
                self.cancelled(work)
        return False

    def drop_settled(self, inflight: dict[concurrent.futures.Future[Any], WorkItem]) -> None:
        """Forget items whose files are all settled even if their future is not done (abandoned threads)."""
        for future, item in list(inflight.items()):
            if all(self.settled(w.index) for w in item.files):
                inflight.pop(future)

    def recover(
        self,
        inflight: dict[concurrent.futures.Future[Any], WorkItem],
        pending: collections.deque[WorkItem],
        isolating: WorkFile | None,
    ) -> None:
        """The pool broke: settle the culprit if known, re-queue the innocent, start a fresh pool."""
        assert self.backend is not None
        # Every other future of a broken pool fails too; wait for them so the picture is complete.
        deadline = time.monotonic() + 10
        while inflight and time.monotonic() < deadline:
            concurrent.futures.wait(list(inflight), 0.2)
            for future in [f for f in inflight if f.done()]:
                self.collect(future, inflight.pop(future))
            if inflight and self.backend.needs_dead_worker_poll:
                self.backend.dead_workers()  # fails the pool's lost futures
        for item in inflight.values():  # still not done: treat like the rest of the broken pool
            for work in item.files:
                if not self.settled(work.index):
                    (self.suspects if self.states[work.index].started_at else self.requeue).append(work)
        inflight.clear()
        self.handle_messages()
        suspects = [w for w in dict.fromkeys(self.suspects) if not self.settled(w.index)]
        # The exit codes tell the culprit from the workers the pool stopped; give each a moment to be reaped.
        suspect_pids = {pid for w in suspects if (pid := self.states[w.index].pid) is not None}
        dead = {**self.backend.dead_workers(), **self.backend.exit_codes(suspect_pids, 1.0)}
        requeue = [w for w in dict.fromkeys(self.requeue) if not self.settled(w.index)]
        self.suspects, self.requeue = [], []
        culprits: list[tuple[WorkFile, int | None]] = []
        innocents: list[WorkFile] = []
        known = False  # a file we stopped ourselves (time limit, memory budget) was the culprit
        for work in suspects:
            if work.index in self.over_memory:
                known = True
                self.settle(self.too_large(work, self.over_memory.pop(work.index)))
                continue
            if work.index in self.timed_out:
                known = True
                self.timed_out.discard(work.index)
                self.settle(self.timed_out_outcome(work))
                continue
            pid = self.states[work.index].pid
            code = dead.get(pid) if pid is not None else None
            if code is not None and code not in TERMINATED_BY_POOL:
                culprits.append((work, code))
            else:
                innocents.append(work)
        if not culprits and isolating is not None and isolating in innocents:
            innocents.remove(isolating)  # it ran alone and the pool broke: it is the culprit
            culprits.append((isolating, dead.get(self.states[isolating.index].pid or -1)))
        if not culprits and len(innocents) == 1 and not self.stopped_recently:
            culprits.append((innocents.pop(), None))
        for work, code in culprits:
            self.crashed(work, code)
        again = innocents + requeue  # each runs again, from the start
        if culprits or known:
            requeue = again
        else:
            self.isolate.extend(innocents)  # cannot tell: run each alone
        for work in reversed(requeue):
            self.states[work.index].started_at = None
            pending.appendleft(self.item([work]))
        self.stopped_recently = False
        reason = self.last_break
        self.events.notice(
            f"A worker stopped ({reason}); the pool was replaced and unfinished files will run again.", "warning"
        )
        self.backend.restart()
        self.handle_messages()  # what the stopped workers said last: outputs they put in place
        for work in again:  # they run again from the start: what their last attempt left goes
            self.unreported.discard(work.index)

    def timed_out_outcome(self, work: WorkFile) -> FileOutcome:
        return failed(work, self.elapsed(work.index), timeout_error(self.timeout))

    def failed_alone(self, item: WorkItem, exc: BaseException) -> None:
        """An item of a `fails_alone` backend failed: its own files are settled, nothing else is touched.
        Of several small files that travelled together, the one past its time limit is known; the others
        run again one by one (the one that fails alone is the culprit)."""
        self.handle_messages()
        self.last_break = f"{type(exc).__name__}: {exc}"
        unsettled = [self.states[w.index].work for w in item.files if not self.settled(w.index)]
        for work in unsettled:
            if work.index in self.timed_out:
                self.timed_out.discard(work.index)
                self.settle(self.timed_out_outcome(work))
            elif self.cancel.requested:
                self.cancelled(work)
            elif len(item.files) > 1:
                self.states[work.index].started_at = None
                self.unreported.discard(work.index)
                self.isolate.append(work)
            else:
                self.crashed(work, None)

    def end_lost(
        self, inflight: dict[concurrent.futures.Future[Any], WorkItem], pending: collections.deque[WorkItem]
    ) -> None:
        """The backend can run nothing more: every file not settled yet is cancelled, with the reason."""
        self.healthy = False
        self.events.notice(f"The batch stopped: {self.lost}", "warning")
        unfinished = [w for item in [*inflight.values(), *pending] for w in item.files]
        unfinished += list(self.isolate)
        inflight.clear()
        pending.clear()
        self.isolate.clear()
        for work in unfinished:
            self.cancel_lost(work)

    def cancel_lost(self, work: WorkFile) -> None:
        self.cancel_running(work, f"{self.lost} Run the batch again with resume to finish it.")

    def cancel_running(self, work: WorkFile, reason: str) -> None:
        if not self.settled(work.index):
            seconds, attempts = self.elapsed(work.index), work.attempt
            self.finish(FileOutcome(work.index, work.path, CANCELLED, seconds, reason=reason, attempts=attempts))

    def crashed(self, work: WorkFile, code: int | None) -> None:
        self.settle(failed(work, self.elapsed(work.index), crashed_error(code, self.last_break)))

    def too_large(self, work: WorkFile, rss: int) -> FileOutcome:
        return failed(work, self.elapsed(work.index), too_large_error(rss, self.memory_budget or 0))

    def enforce_memory_budget(self) -> None:
        """Stop a process worker whose memory passed its budget; recover() reports its file `too_large`."""
        budget = self.memory_budget
        now = time.monotonic()
        if budget is None or self.backend is None or now - self._memory_checked < MEMORY_WATCH_SECONDS:
            return
        self._memory_checked = now
        for index, state in self.states.items():
            if self.settled(index) or state.started_at is None or not state.pid or index in self.over_memory:
                continue
            rss = memory_guard.rss(state.pid, self._processes)
            if rss is not None and rss > budget:
                self.over_memory[index] = rss
                self.stopped_recently = True  # a worker we stopped: not a crash to pin on a bystander
                self.backend.kill({state.pid})

    def enforce_timeouts(self) -> None:
        limit = self.timeout
        if not limit or self.backend is None:
            return
        for index, state in self.states.items():
            if self.settled(index) or state.started_at is None:
                continue
            elapsed = time.monotonic() - state.started_at
            if self.backend.can_kill:
                if elapsed > limit + KILL_GRACE_SECONDS and index not in self.timed_out and state.pid:
                    self.timed_out.add(index)
                    self.stopped_recently = True
                    self.backend.kill({state.pid})
            elif elapsed > limit + KILL_GRACE_SECONDS:
                # A thread cannot be stopped from outside: report the file now; its thread is abandoned
                # and stops at its next progress call (and the pool is not kept for another batch).
                self.healthy = False
                self.settle(failed(state.work, elapsed, timeout_error(limit, "the worker thread was abandoned")))

    def start_no_more(self, pending: collections.deque[WorkItem]) -> None:
        while pending:
            for work in pending.popleft().files:
                self.cancelled(work)
        while self.isolate:
            self.cancelled(self.isolate.popleft())
        assert self.backend is not None
        self.backend.start_no_more()

    def stop_now(
        self, inflight: dict[concurrent.futures.Future[Any], WorkItem], pending: collections.deque[WorkItem]
    ) -> None:
        assert self.backend is not None
        self.backend.stop_event.set()  # thread backends: running files stop at their next progress call
        self.backend.kill(None)  # process backends that can safely kill here; the rest do it in shutdown
        self.start_no_more(pending)
        if not self.backend.can_kill and inflight:
            # A thread cannot be killed: give running files a moment to reach their next progress call and
            # stop (discarding their outputs) or finish, so what is reported matches what is on disk.
            concurrent.futures.wait(list(inflight), STOP_GRACE_SECONDS)
            for future in [f for f in inflight if f.done()]:
                self.collect(future, inflight.pop(future))
        self.handle_messages()
        for item in inflight.values():
            for work in item.files:
                self.cancel_running(work, "stopped by the user")
        inflight.clear()

    # -- memory guard ----------------------------------------------------------------------------
    def memory_ok(self, busy: bool) -> bool:
        return self.free_memory.ok(busy)

    def memory_gate(self) -> None:
        """For backends that dispatch by themselves: block while memory is low (bounded)."""
        self.free_memory.gate()
