"""Running a batch: plan it, run every file on the chosen backend, reduce, report.

    BatchSpec ─► plan_batch() ─► Plan ─► run_batch() ─► Report (+ report.json)
                 task + params checked,     │ supervisor loop (this thread):
                 files discovered,          │   submit work items (at most `workers` in flight)
                 backend chosen             │   drain worker messages -> FileStarted/FileProgress
                                            │   collect outcomes      -> FileFinished
                                            │   enforce time limits, cancel requests, memory guard
                                            │   replace a broken pool, re-run innocents, find the culprit
                                            ▼
                                   task.reduce() in the parent ─► batch outputs

Every file the user gave ends with exactly one outcome, whatever happens to the pool. Events are
delivered on the calling thread through `on_event`; `iter_events()` runs the batch on a background
thread and yields them instead.

Process backends: when a worker dies the pool is replaced. The file whose worker died is the culprit
(`crashed`, with the exit code); files that were running beside it are innocent and re-run. When the
culprit cannot be told apart (the pool killed every worker, or the exit codes say nothing), the
suspects are re-run one at a time: the one that brings the pool down alone is the culprit.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import errors
from core.atomic import remove_stale_temp_files
from core.cancel import FINISH, NOW, CancelToken
from core.discovery import Discovery, discover
from core.errors import FileError
from core.events import BatchFinished, BatchStarted, Event, FileFinished, FileProgress, FileQueued, FileStarted, Notice
from core.executors import BACKENDS, Backend, Choice, available_backends, choose, make_backend
from core.executors.pools import PoolCache
from core.executors.processes import TERMINATED_BY_POOL
from core.journal import Entry, Journal, file_hash, params_key
from core.outcome import CANCELLED, FAILED, OK, SKIPPED, FileOutcome
from core.params import InvalidParams
from core.report import Report
from core.tasks import OutputFolder, Task, get_task, load_plugins
from core.worker import WorkFile, WorkItem

DEFAULT_OUT_DIR = "xlbatch-output"
UNCHANGED = "unchanged"  # the reason a cached file is skipped
REPORT_NAME = "report.json"
# How often the loop wakes up with nothing finished: bounds the latency of progress, cancel and timeouts.
TICK_SECONDS = 0.05
# A process worker past its limit is killed this long after the cooperative deadline, which a task
# that reports progress honours by itself without costing a pool.
KILL_GRACE_SECONDS = 0.5
# On "stop now", how long files running on threads get to reach their next progress call and stop.
STOP_GRACE_SECONDS = 3.0
# Kinds of failure worth trying again when the user asked for retries.
RETRYABLE = {errors.CRASHED, errors.TIMEOUT}
# Below this much free memory, no new file is started until some is freed.
DEFAULT_MEMORY_FLOOR_MB = 400
# Waiting for memory with nothing running can only be helped by other programs: give up after this.
MEMORY_WAIT_LIMIT_SECONDS = 60
# Files smaller than this may travel several to a work item on the process backends.
SMALL_FILE_BYTES = 256 * 1024
MAX_FILES_PER_ITEM = 32


def _available_memory() -> int:
    import psutil

    return psutil.virtual_memory().available


# Tests replace this to simulate a machine short of memory.
memory_probe: Callable[[], int] = _available_memory


@dataclass
class BatchSpec:
    """Everything that defines a batch; what the GUI builds and a recipe stores."""

    task: str
    paths: list[str]
    out_dir: str = DEFAULT_OUT_DIR
    params: dict[str, Any] = field(default_factory=dict)
    backend: str = "auto"
    workers: int | None = None
    timeout: float | None = None
    retries: int = 0
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    report_path: str | None = None  # default: OUT_DIR/report.json; "" = do not write
    memory_floor_mb: float = DEFAULT_MEMORY_FLOOR_MB
    resume: bool = False  # keep files finished by an interrupted run of the same batch
    cache: bool = False  # skip files unchanged since a successful run into the same output folder
    force: bool = False  # with cache: process every file again
    cache_dir: str | None = None  # where journals live; None: in the output folder
    cache_max_mb: float = 1024
    max_workers: int | None = None  # an upper limit for the automatic worker count (from settings)


@dataclass
class Plan:
    spec: BatchSpec
    task: type[Task]
    params: dict[str, Any]
    discovery: Discovery
    choice: Choice
    out_dir: Path

    @property
    def runnable(self) -> list[tuple[int, Any]]:
        return [(i, f) for i, f in enumerate(self.discovery.files) if f.skip_reason is None and not f.missing]


def plan_batch(spec: BatchSpec) -> Plan:
    """Check everything that can be checked before any file runs; raise InvalidParams if not valid."""
    load_plugins()
    task = get_task(spec.task)
    params = task.validate(spec.params)
    if spec.backend not in BACKENDS:
        raise InvalidParams(f"Unknown backend '{spec.backend}'; choose one of {', '.join(BACKENDS)}.", "backend")
    if spec.backend not in available_backends():
        raise InvalidParams(f"The backend '{spec.backend}' is not available in this version of the program.", "backend")
    if spec.workers is not None and spec.workers < 1:
        raise InvalidParams(f"Workers must be at least 1 (got {spec.workers}).", "workers")
    if spec.timeout is not None and spec.timeout <= 0:
        raise InvalidParams(f"The per-file time limit must be more than 0 seconds (got {spec.timeout:g}).", "timeout")
    if spec.retries < 0:
        raise InvalidParams(f"Retries cannot be negative (got {spec.retries}).", "retries")
    if not spec.paths:
        raise InvalidParams("No input files or folders were given.", "paths")
    out_dir = Path(spec.out_dir).expanduser().resolve()
    for raw in spec.paths:
        given = Path(raw).expanduser()
        if given.is_dir() and given.resolve() == out_dir:
            raise InvalidParams(
                "The output folder is one of the input folders; choose a separate output folder.", "out_dir"
            )
        if given.is_file() and given.resolve() == out_dir:
            raise InvalidParams("The output folder is an input file; choose a folder for the outputs.", "out_dir")
    discovery = discover(spec.paths, spec.include, spec.exclude, out_dir)
    runnable = [f for f in discovery.files if f.skip_reason is None and not f.missing]
    sizes = []
    for f in runnable:
        try:
            sizes.append(f.path.stat().st_size)
        except OSError:
            sizes.append(0)
    if spec.backend == "auto":
        choice = choose(task.kind, sizes, spec.workers, available=available_backends())
    else:
        from core.executors import default_workers

        workers = 1 if spec.backend == "sequential" else (spec.workers or default_workers(task.kind, len(sizes)))
        choice = Choice(spec.backend, workers, "chosen by the user")
    if spec.workers is None and spec.max_workers and choice.workers > spec.max_workers:
        choice = Choice(
            choice.backend, spec.max_workers, f"{choice.reason} (limited to {spec.max_workers} workers by the settings)"
        )
    return Plan(spec, task, params, discovery, choice, out_dir)


@dataclass
class _FileState:
    work: WorkFile
    started_at: float | None = None
    pid: int | None = None
    started_emitted: bool = False


class _Supervisor:
    """Runs one plan's files on one backend. Only the calling thread touches this object."""

    def __init__(self, plan: Plan, emit: Callable[[Event], None], cancel: CancelToken) -> None:
        self.plan = plan
        self.emit = emit
        self.cancel = cancel
        self.spec = plan.spec
        self.results: dict[int, FileOutcome] = {}
        self.states: dict[int, _FileState] = {}
        self.notices: list[str] = []
        self.timed_out: set[int] = set()  # killed by us for running past the limit
        self.backend: Backend | None = None
        self._memory_wait_since: float | None = None
        self.journal: Journal | None = None
        self.hash_inputs = False  # the cache identifies content by SHA-256
        self._params_key = params_key(plan.params)
        self.batch_id = secrets.token_hex(8)
        self.pools: PoolCache | None = None
        self.healthy = True  # False when the pool should not be reused (stopped, or a thread abandoned)

    # -- bookkeeping -----------------------------------------------------------------------------
    def notice(self, message: str, level: str = "info") -> None:
        self.notices.append(message)
        self.emit(Notice(level, message))

    def finish(self, outcome: FileOutcome, record: bool = True) -> None:
        if outcome.index in self.results:
            return  # already settled (a late result of an abandoned thread, or a duplicate message)
        self.results[outcome.index] = outcome
        if record and self.journal is not None and outcome.status == OK:
            try:
                digest = file_hash(outcome.path) if self.hash_inputs else None
                self.journal.record(outcome, self.plan.task.name, self.plan.task.version, self._params_key, digest)
            except OSError as exc:  # the batch goes on; only a later resume would redo this file
                self.notice(f"Could not record progress for resuming: {exc}", "warning")
                self.journal = None
        self.emit(FileFinished(outcome.index, outcome.path, outcome))

    def fail(self, work: WorkFile, error: FileError, seconds: float = 0.0) -> None:
        self.finish(FileOutcome(work.index, work.path, FAILED, seconds, error=error, attempts=work.attempt))

    def cancelled(self, work: WorkFile) -> None:
        self.finish(
            FileOutcome(work.index, work.path, CANCELLED, reason="cancelled before it ran", attempts=work.attempt)
        )

    def elapsed(self, index: int) -> float:
        state = self.states.get(index)
        return time.monotonic() - state.started_at if state and state.started_at else 0.0

    # -- messages from workers -------------------------------------------------------------------
    def handle_messages(self) -> None:
        assert self.backend is not None
        for message in self.backend.drain():
            kind, batch, index = message[0], message[1], message[2]
            if batch != self.batch_id or index in self.results:
                continue
            state = self.states.get(index)
            if state is None:
                continue
            if kind == "started":
                state.started_at, state.pid = time.monotonic(), message[3]
                state.started_emitted = True
                self.emit(FileStarted(index, state.work.path, message[4]))
            elif kind == "progress":
                self.emit(FileProgress(index, state.work.path, message[3], message[4]))
            elif kind == "done":
                self.settle(message[3])

    def settle(self, outcome: FileOutcome) -> None:
        """A file's outcome from a worker; failures worth retrying go back to the queue."""
        if outcome.index in self.results:
            return
        state = self.states[outcome.index]
        if (
            outcome.status == FAILED
            and outcome.error is not None
            and outcome.error.kind in RETRYABLE
            and state.work.attempt <= self.spec.retries
        ):
            self.retry(state, outcome.error)
            return
        self.finish(outcome)

    def retry(self, state: _FileState, error: FileError) -> None:
        attempt = state.work.attempt + 1
        self.notice(f"Retrying {Path(state.work.path).name} (attempt {attempt}) after: {error.message}")
        state.work = WorkFile(state.work.index, state.work.path, state.work.rel, attempt)
        state.started_at = state.pid = None
        self.isolate.appendleft(state.work)

    # -- the loop --------------------------------------------------------------------------------
    def make_items(self, files: list[WorkFile], backend: str, workers: int) -> list[WorkItem]:
        group = 1
        if backend in ("processes", "multiprocessing", "joblib") and len(files) > workers * 8:
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
        deadline = self.spec.timeout
        return WorkItem(
            self.plan.task,
            self.plan.params,
            tuple(files),
            str(self.plan.out_dir),
            frozenset(w.path for w in files),
            deadline,
            self.batch_id,
        )

    def run(self, files: list[WorkFile]) -> None:
        choice = self.plan.choice
        for work in files:
            self.states[work.index] = _FileState(work)
        pending: collections.deque[WorkItem] = collections.deque(self.make_items(files, choice.backend, choice.workers))
        self.isolate: collections.deque[WorkFile] = collections.deque()
        inflight: dict[concurrent.futures.Future[Any], WorkItem] = {}
        if self.pools is not None:
            backend = self.backend = self.pools.acquire(choice.backend, choice.workers)
        else:
            backend = self.backend = make_backend(choice.backend, choice.workers)
            backend.start()
        if hasattr(backend, "gate"):
            backend.gate = self.memory_gate  # type: ignore[attr-defined]
        isolating: WorkFile | None = None
        cap = 10**9 if backend.bulk else choice.workers
        try:
            while True:
                self.handle_messages()
                broken = False
                done = [f for f in inflight if f.done()]
                for future in done:
                    item = inflight.pop(future)
                    broken |= self.collect(future, item)
                if backend.can_kill and backend.dead_workers():
                    broken = True
                if broken:
                    self.recover(inflight, pending, isolating)
                    isolating = None
                elif isolating is not None and isolating.index in self.results:
                    isolating = None
                self.drop_settled(inflight)
                self.enforce_timeouts()
                mode = self.cancel.mode
                if mode == NOW:
                    self.stop_now(inflight, pending)
                    return
                if mode == FINISH:
                    self.start_no_more(pending)
                # Submit: suspects one at a time, alone; otherwise keep the pool full.
                if not inflight and self.isolate and mode is None:
                    isolating = self.isolate.popleft()
                    inflight[backend.submit(self.item([isolating]))] = self.item([isolating])
                while (
                    pending
                    and isolating is None
                    and not self.isolate
                    and len(inflight) < cap
                    and mode is None
                    and self.memory_ok(bool(inflight))
                ):
                    item = pending.popleft()
                    inflight[backend.submit(item)] = item
                if not pending and not inflight and not self.isolate:
                    return
                if inflight:
                    concurrent.futures.wait(list(inflight), TICK_SECONDS, concurrent.futures.FIRST_COMPLETED)
                else:
                    time.sleep(TICK_SECONDS)
        finally:
            self.handle_messages_safely()
            healthy = self.healthy and self.cancel.mode != NOW
            if self.pools is not None:
                self.pools.release(self.backend, healthy)
            else:
                self.backend.shutdown(kill=not healthy)

    def handle_messages_safely(self) -> None:
        with contextlib.suppress(Exception):
            self.handle_messages()

    def collect(self, future: concurrent.futures.Future[Any], item: WorkItem) -> bool:
        """Take a finished future's outcomes; return True if it failed because the pool broke."""
        try:
            outcomes = future.result()
        except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, PoolBroken, TerminatedWorkerError...
            self.handle_messages()  # keep the `done` and `started` messages sent before the break
            name = type(exc).__name__
            if name == "NotStarted":
                for work in item.files:
                    if work.index not in self.results:
                        (self.cancelled(work) if self.cancel.requested else self.isolate.append(work))
                return False
            self.last_break = f"{name}: {exc}"
            for work in item.files:
                if work.index in self.results:
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
            if work.index not in self.results and self.cancel.requested:
                self.cancelled(work)
        return False

    def drop_settled(self, inflight: dict[concurrent.futures.Future[Any], WorkItem]) -> None:
        """Forget items whose files are all settled even if their future is not done (abandoned threads)."""
        for future, item in list(inflight.items()):
            if all(w.index in self.results for w in item.files):
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
            if inflight and self.backend.name == "multiprocessing":
                self.backend.dead_workers()  # fails the pool's lost futures
        for item in inflight.values():  # still not done: treat like the rest of the broken pool
            for work in item.files:
                if work.index not in self.results:
                    (self.suspects if self.states[work.index].started_at else self.requeue).append(work)
        inflight.clear()
        self.handle_messages_safely()
        dead = self.backend.dead_workers()
        suspects = [w for w in dict.fromkeys(self.suspects) if w.index not in self.results]
        requeue = [w for w in dict.fromkeys(self.requeue) if w.index not in self.results]
        self.suspects, self.requeue = [], []
        culprits: list[tuple[WorkFile, int | None]] = []
        innocents: list[WorkFile] = []
        for work in suspects:
            if work.index in self.timed_out:
                self.timed_out.discard(work.index)
                self.settle(
                    FileOutcome(
                        work.index,
                        work.path,
                        FAILED,
                        self.elapsed(work.index),
                        error=FileError(
                            errors.TIMEOUT, _timeout_message(self.spec.timeout), "the worker process was stopped"
                        ),
                        attempts=work.attempt,
                    )
                )
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
        if not culprits and len(innocents) == 1 and not self.timed_out_recently:
            culprits.append((innocents.pop(), None))
        for work, code in culprits:
            self.crashed(work, code)
        if culprits:
            requeue = innocents + requeue
        else:
            self.isolate.extend(innocents)  # cannot tell: run each alone
        for work in reversed(requeue):
            self.states[work.index].started_at = None
            pending.appendleft(self.item([work]))
        self.timed_out_recently = False
        reason = self.last_break
        self.notice(
            f"A worker stopped ({reason}); the pool was replaced and unfinished files will run again.", "warning"
        )
        self.backend.restart()

    def crashed(self, work: WorkFile, code: int | None) -> None:
        detail = f"worker exit code {code}" if code is not None else f"worker lost: {self.last_break}"
        error = FileError(
            errors.CRASHED,
            "The program reading this file stopped unexpectedly (it may be damaged or too large "
            "for the available memory).",
            detail,
        )
        self.settle(
            FileOutcome(work.index, work.path, FAILED, self.elapsed(work.index), error=error, attempts=work.attempt)
        )

    def enforce_timeouts(self) -> None:
        limit = self.spec.timeout
        if not limit or self.backend is None:
            return
        for index, state in self.states.items():
            if index in self.results or state.started_at is None:
                continue
            elapsed = time.monotonic() - state.started_at
            if self.backend.can_kill:
                if elapsed > limit + KILL_GRACE_SECONDS and index not in self.timed_out and state.pid:
                    self.timed_out.add(index)
                    self.timed_out_recently = True
                    self.backend.kill({state.pid})
            elif elapsed > limit + KILL_GRACE_SECONDS:
                # A thread cannot be stopped from outside: report the file now; its thread is abandoned
                # and stops at its next progress call (and the pool is not kept for another batch).
                self.healthy = False
                self.settle(
                    FileOutcome(
                        index,
                        state.work.path,
                        FAILED,
                        elapsed,
                        error=FileError(errors.TIMEOUT, _timeout_message(limit), "the worker thread was abandoned"),
                        attempts=state.work.attempt,
                    )
                )

    def start_no_more(self, pending: collections.deque[WorkItem]) -> None:
        while pending:
            for work in pending.popleft().files:
                self.cancelled(work)
        while self.isolate:
            self.cancelled(self.isolate.popleft())
        stop = getattr(self.backend, "start_no_more", None)
        if stop is not None:
            stop()

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
        self.handle_messages_safely()
        for item in inflight.values():
            for work in item.files:
                if work.index not in self.results:
                    self.finish(
                        FileOutcome(
                            work.index,
                            work.path,
                            CANCELLED,
                            self.elapsed(work.index),
                            reason="stopped by the user",
                            attempts=work.attempt,
                        )
                    )
        inflight.clear()

    # -- memory guard ----------------------------------------------------------------------------
    def memory_ok(self, busy: bool) -> bool:
        floor = self.spec.memory_floor_mb * 1024 * 1024
        if floor <= 0:
            return True
        available = memory_probe()
        now = time.monotonic()
        if available >= floor:
            if self._memory_wait_since is not None:
                self.notice(f"Memory is available again after {now - self._memory_wait_since:.0f} s; continuing.")
                self._memory_wait_since = None
            return True
        if self._memory_wait_since is None:
            self._memory_wait_since = now
            self.notice(
                f"Free memory is low ({available / 2**20:.0f} MB, below {self.spec.memory_floor_mb:.0f} MB): "
                "waiting for running files to finish before starting more.",
                "warning",
            )
        # With nothing of ours running, only other programs can free memory: stop waiting after a while.
        return not busy and now - self._memory_wait_since > MEMORY_WAIT_LIMIT_SECONDS

    def memory_gate(self) -> None:
        """For backends that dispatch by themselves: block while memory is low (bounded)."""
        floor = self.spec.memory_floor_mb * 1024 * 1024
        waited = 0.0
        while floor > 0 and memory_probe() < floor and waited < MEMORY_WAIT_LIMIT_SECONDS:
            time.sleep(0.2)
            waited += 0.2

    suspects: list[WorkFile]
    requeue: list[WorkFile]
    last_break: str = ""
    timed_out_recently: bool = False


def _still_done(entry: Entry, plan: Plan, key: str) -> bool:
    """A journal entry still stands if the file, the task and its parameters are unchanged and its outputs exist."""
    if entry.outcome.status != OK or not entry.matches(plan.task.name, plan.task.version, key):
        return False
    try:
        stat = os.stat(entry.path)
    except OSError:
        return False
    return stat.st_size == entry.size and stat.st_mtime_ns == entry.mtime_ns and entry.outputs_intact()


def _unchanged(entry: Entry, plan: Plan, key: str) -> bool:
    """A cached result stands if task, version and parameters match, its outputs exist and the content is
    the same: same size and modification time, or else the same SHA-256 (a copy or a touch is not a change)."""
    if entry.outcome.status != OK or entry.sha256 is None or not entry.matches(plan.task.name, plan.task.version, key):
        return False
    try:
        stat = os.stat(entry.path)
    except OSError:
        return False
    if stat.st_size != entry.size:
        return False
    if stat.st_mtime_ns != entry.mtime_ns:
        try:
            if file_hash(entry.path) != entry.sha256:
                return False
        except OSError:
            return False
    return entry.outputs_intact()


REDUCE_RECORD = "reduce.json"


def _reduce_key(plan: Plan, params: str, outcomes: list[FileOutcome]) -> str:
    """What a batch output depends on: the task, its settings, and each file's identity and result."""
    import hashlib
    import json

    parts = [plan.task.name, str(plan.task.version), params]
    for o in outcomes:
        try:
            stat = os.stat(o.path)
            identity = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            identity = "missing"
        parts.append(f"{o.path}|{o.status}|{identity}|{json.dumps(o.result, sort_keys=True, default=str)}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _kept_reduce_outputs(journal: Journal, key: str) -> list[str] | None:
    """The batch outputs of the last run, if it had exactly these inputs and results and they still exist."""
    import json

    try:
        record = json.loads((journal.folder / REDUCE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outputs = record.get("outputs") or []
    if record.get("key") != key or not outputs or not all(Path(p).is_file() for p in outputs):
        return None
    return list(outputs)


def _remember_reduce(journal: Journal, key: str, outputs: list[str]) -> None:
    import json

    from core.atomic import atomic_path

    try:
        with atomic_path(journal.folder / REDUCE_RECORD) as tmp:
            tmp.write_text(json.dumps({"key": key, "outputs": outputs}), encoding="utf-8")
    except OSError:
        pass  # only an optimisation: the next run reduces again


def _timeout_message(limit: float | None) -> str:
    return f"The file took longer than the time limit ({limit:g} s) and was stopped."


def run_plan(
    plan: Plan,
    on_event: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    pools: PoolCache | None = None,
) -> Report:
    """Run a checked plan to the end and return its report (also written as report.json)."""
    cancel = cancel or CancelToken()
    spec = plan.spec
    callback_errors: list[str] = []

    def emit(event: Event) -> None:
        if on_event is None:
            return
        try:
            on_event(event)
        except Exception as exc:  # noqa: BLE001 - a broken listener must not lose the batch
            if len(callback_errors) < 3:
                callback_errors.append(f"event listener failed: {exc!r}")

    started = time.time()
    out_dir = plan.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = remove_stale_temp_files(out_dir)
    files = plan.discovery.files
    emit(
        BatchStarted(
            plan.task.name, plan.choice.backend, plan.choice.reason, plan.choice.workers, len(files), str(out_dir)
        )
    )
    supervisor = _Supervisor(plan, emit, cancel)
    supervisor.pools = pools
    supervisor.suspects, supervisor.requeue = [], []
    if stale:
        supervisor.notice(f"Removed {len(stale)} unfinished temporary file(s) left by an earlier run.")
    # One journal serves both --resume and the cache: what finished, with which task, settings and content.
    journal = Journal(out_dir, spec.cache_dir if spec.cache else None)
    remember = spec.resume or spec.cache
    evicted = journal.start(keep=remember, max_bytes=spec.cache_max_mb * 2**20 if spec.cache else None)
    previous = journal.entries() if remember else {}
    if evicted:
        supervisor.notice(f"The cache was over its size limit: forgot the {len(evicted)} oldest file result(s).")
    supervisor.journal = journal
    supervisor.hash_inputs = spec.cache
    resumed = unchanged = 0
    work: list[WorkFile] = []
    for index, found in enumerate(files):
        emit(FileQueued(index, str(found.path)))
        earlier = previous.get(str(found.path))
        if earlier is not None and spec.resume and _still_done(earlier, plan, supervisor._params_key):
            resumed += 1
            reused = dataclasses.replace(earlier.outcome, index=index, reason="done in an earlier run (resumed)")
            supervisor.finish(reused, record=False)
            continue
        if earlier is not None and spec.cache and not spec.force and _unchanged(earlier, plan, supervisor._params_key):
            unchanged += 1
            reused = dataclasses.replace(earlier.outcome, index=index, status=SKIPPED, reason=UNCHANGED, seconds=0.0)
            supervisor.finish(reused, record=False)
            continue
        if found.missing:
            supervisor.finish(
                FileOutcome(
                    index,
                    str(found.path),
                    FAILED,
                    error=FileError(
                        errors.NOT_FOUND,
                        "The file could not be found; it may have been moved or deleted.",
                        str(found.path),
                    ),
                )
            )
        elif found.skip_reason is not None:
            supervisor.finish(FileOutcome(index, str(found.path), SKIPPED, reason=found.skip_reason))
        else:
            work.append(WorkFile(index, str(found.path), found.rel))
    if resumed:
        supervisor.notice(f"Resuming: {resumed} file(s) finished by the interrupted run were kept.")
    if unchanged:
        supervisor.notice(
            f"{unchanged} file(s) unchanged since the last run were not processed again "
            "(their earlier results and outputs are kept)."
        )
    try:
        if work and not cancel.requested:
            supervisor.run(work)
    finally:
        journal.close()
    for item in work:  # every file accounted for, whatever happened
        if item.index not in supervisor.results:
            if cancel.requested:
                supervisor.cancelled(item)
            else:
                supervisor.fail(
                    item,
                    FileError(
                        errors.CRASHED, "The file was not processed because its worker was lost.", "no outcome recorded"
                    ),
                )
    outcomes = [supervisor.results[i] for i in range(len(files))]
    out = OutputFolder(out_dir, frozenset(str(f.path) for f in files), keep_intermediate=spec.cache)
    # Reduce steps include unchanged files from their cached results, as if they had just run.
    reducible = [dataclasses.replace(o, status=OK) if o.reason == UNCHANGED else o for o in outcomes]
    reduce_key = _reduce_key(plan, supervisor._params_key, reducible)
    kept = _kept_reduce_outputs(journal, reduce_key) if spec.cache and not spec.force else None
    if kept is not None:
        out.outputs.extend(kept)  # nothing changed since these were written: keep them
    elif cancel.mode != NOW and any(o.status == OK for o in reducible):
        try:
            plan.task().reduce(reducible, plan.params, out)
            if spec.cache:
                _remember_reduce(journal, reduce_key, out.outputs)
        except Exception as exc:  # noqa: BLE001 - a failed reduce is reported, the per-file work is kept
            supervisor.notice(f"The combined output could not be written: {errors.classify(exc).message}", "warning")
    for warning in out.warnings:
        supervisor.notice(warning, "warning")
    remove_stale_temp_files(out_dir)
    for message in callback_errors:
        supervisor.notices.append(message)
    report = Report(
        task=plan.task.name,
        params=plan.params,
        backend=plan.choice.backend,
        backend_reason=plan.choice.reason,
        workers=plan.choice.workers,
        started=started,
        finished=time.time(),
        files=outcomes,
        outputs=list(out.outputs),
        out_dir=str(out_dir),
        cancelled=cancel.requested,
        notices=supervisor.notices,
    )
    if spec.report_path != "":
        report_path = Path(spec.report_path) if spec.report_path else out_dir / REPORT_NAME
        try:
            report.write(report_path)
        except OSError as exc:
            report.notices.append(f"The report could not be written to {report_path}: {exc}")
    emit(BatchFinished(report))
    return report


def run_batch(
    spec: BatchSpec | None = None,
    *,
    on_event: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    **fields: Any,
) -> Report:
    """Run a batch and return its report. Pass a BatchSpec, or its fields as keywords:

        report = run_batch(task="summarize", paths=["./in"], out_dir="./out", backend="processes")

    Raises InvalidParams (nothing run) for an unknown task or bad parameters.
    """
    if spec is None:
        spec = BatchSpec(**fields)
    elif fields:
        raise TypeError("pass either a BatchSpec or keyword fields, not both")
    return run_plan(plan_batch(spec), on_event, cancel)


_END = object()


def iter_events(spec: BatchSpec, cancel: CancelToken | None = None) -> Iterator[Event]:
    """Run the batch on a background thread and yield its events as they happen (BatchFinished last)."""
    plan = plan_batch(spec)
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run_plan(plan, events.put, cancel)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer's thread
            failure.append(exc)
        finally:
            events.put(_END)

    thread = threading.Thread(target=work, name="xlbatch-batch", daemon=True)
    thread.start()
    while (event := events.get()) is not _END:
        yield event
    thread.join()
    if failure:
        raise failure[0]
