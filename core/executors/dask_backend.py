"""The `dask` backend: each work item is one `Client.submit` to a Dask cluster (`distributed`), on this
machine (`local`, `local:N`) or on several (`tcp://host:8786`, see xlbatch.executors.dask_cluster).

    submit ─► the file's bytes with the task (client.scatter above SCATTER_BYTES), or its path with
              shared storage ─► run_remote on a worker (xlbatch.executors.dask_remote)
    events ─► the worker's event log, on a topic this backend subscribed to: `started` (with the worker's
              address), `progress` ─► drain()
    results ─► as_completed(with_results=True, raise_errors=False) on a collector thread ─► outputs
              written into the client's output folder (atomically), paths made the client's ─► the item's
              concurrent.futures.Future

Why the event log (`Worker.log_event` / `Client.subscribe_topic`) for messages: it is fire-and-forget from
the worker's task thread (no round trip per message, unlike `distributed.Queue`), ordered per worker, and
reaches only the client that subscribed to the topic, through connections Dask already has (worker ─►
scheduler ─► client): a worker never needs to reach the client directly, which firewalls often forbid.
`Pub`/`Sub` would open worker ─► client connections for that. A `started` the result overtakes is put in
front of it here, so every file's events still come in order.

Failures, as the supervisor sees them (the capabilities `fails_alone`, `remote_workers`):
  - a worker that dies mid-file: Dask re-runs its task elsewhere; when a second worker dies on it
    (`allowed-failures` 1) the scheduler gives up with KilledWorker and only that file is `crashed`.
    Innocents are never touched: each worker runs one file at a time;
  - a file past its time limit, and "stop now": the supervisor calls kill() with the worker numbers from
    `started`; the item's future is cancelled and its worker process ended (`end_worker_process`), which
    its nanny replaces, so the next file gets a clean process;
  - "finish running files": files submitted but not started yet are cancelled (NotStarted);
  - the scheduler going away: every unfinished item fails with BackendLost, so the batch ends with those
    files `cancelled` and the report written, and `--resume` continues it.
"""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from xlbatch.errors import classify
from xlbatch.executors.base import Backend, BackendLost, NotStarted, PoolBroken
from xlbatch.executors.dask_remote import (
    SCATTER_BYTES,
    VersionMismatch,
    end_worker_process,
    localize,
    run_remote,
    worker_version,
)
from xlbatch.outcome import FAILED, FileOutcome
from xlbatch.worker import Message, WorkItem

# How often the cluster's size is asked for (machines may join or leave during a batch).
SLOTS_REFRESH_SECONDS = 2.0
# How long files may wait at a scheduler that has no worker at all before the batch ends (resumably), as
# it does when the scheduler goes away: every machine switched off must not leave the batch waiting forever.
NO_WORKERS_SECONDS = 60.0
# How long the end of a batch waits for the workers it restarted (timeout, stop now) to be gone; their
# nannies start the fresh ones by themselves.
RESTART_WAIT_SECONDS = 15.0


@dataclass
class Submitted:
    """One item on the cluster: its Dask future, the Future the supervisor holds, and where it runs."""

    item: WorkItem
    future: Any  # distributed.Future
    done: Future[Any]
    scattered: list[Any] = field(default_factory=list)  # futures of the bytes sent ahead with client.scatter
    worker: str = ""  # address of the worker running it, once `started` came


class DaskBackend(Backend):
    name = "dask"
    can_kill = True
    fails_alone = True
    remote_workers = True
    # Each task costs a trip client ─► scheduler ─► worker and back: small files travel several to a task
    # (a task that fails with several files has them run again one by one, see Supervisor.failed_alone).
    groups_small_files = True

    def __init__(self, workers: int, cluster: str = "local", shared_storage: bool = False) -> None:
        super().__init__(workers)
        self.cluster = cluster
        self.shared_storage = shared_storage
        self.handle: Any = None
        self.client: Any = None
        self.topic = f"xlbatch-{secrets.token_hex(6)}"
        self._version = worker_version()
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._submitted: dict[str, Submitted] = {}  # by Dask key
        self._by_index: dict[int, str] = {}  # file index -> key of its current submission
        self._started: set[tuple[str, int]] = set()  # (key, file index) whose `started` went out in drain()
        self._running: set[str] = set()  # keys of which a file started
        self._numbers: dict[str, int] = {}  # worker address -> the number `started` carries for it
        self._addresses: dict[int, str] = {}
        self._restarts: list[threading.Thread] = []
        self._closing = threading.Event()
        self._collector: threading.Thread | None = None
        self._completed: Any = None
        self._slots = (0.0, workers)
        # (time.monotonic() of the last look at the cluster's workers, since when it has had none or None)
        self._workers_seen: tuple[float, float | None] = (0.0, None)

    # -- the pool ------------------------------------------------------------------------------------
    def start(self) -> None:
        from distributed import as_completed

        from xlbatch.executors.dask_cluster import connect

        self.handle = connect(self.cluster, self.workers)
        self.client = self.handle.client
        self.client.subscribe_topic(self.topic, self._on_event)
        self._closing = threading.Event()
        self._completed = as_completed(loop=self.client.loop, with_results=True, raise_errors=False)
        self._collector = threading.Thread(target=self._collect, name="xlbatch-dask-results", daemon=True)
        self._collector.start()

    def slots(self) -> int:
        """Two items per worker thread of the cluster, as it is now (asked every few seconds): one running,
        one waiting at the scheduler (never on the worker: worker-saturation 1.0), so a worker never idles
        for the round trip. With shared storage one: a file cancelled just as it starts would still write."""
        asked, threads = self._slots
        if self.client is not None and time.monotonic() - asked > SLOTS_REFRESH_SECONDS:
            with contextlib.suppress(Exception):
                threads = max(1, self.handle.threads())
            self._slots = (time.monotonic(), threads)
        return threads if self.shared_storage else 2 * threads

    def submit(self, item: WorkItem) -> Future[Any]:
        done: Future[Any] = Future()
        if self.client is None or self.client.status != "running":
            done.set_exception(BackendLost(self._lost_message()))
            return done
        try:
            payloads, scattered = self._payloads(item)
        except OSError as exc:  # the input cannot be read here: that file's own error, nothing is sent
            done.set_result([_failed(w.index, w.path, classify(exc), w.attempt) for w in item.files])
            return done
        first = item.files[0]
        key = f"xlbatch-{item.batch}-{first.index}-{first.attempt}-{secrets.token_hex(3)}"
        future = self.client.submit(run_remote, item, payloads, self._version, self.topic, key=key, pure=False)
        with self._lock:
            self._submitted[key] = Submitted(item, future, done, scattered)
            for work in item.files:
                self._by_index[work.index] = key
        self._completed.add(future)
        return done

    def _payloads(self, item: WorkItem) -> tuple[list[Any] | None, list[Any]]:
        if self.shared_storage:
            return None, []
        payloads: list[Any] = []
        scattered: list[Any] = []
        for work in item.files:
            with open(work.path, "rb") as handle:
                data = handle.read()
            if len(data) > SCATTER_BYTES:  # big data goes ahead of the task, not inside it
                data = self.client.scatter(data, hash=False)
                scattered.append(data)
            payloads.append(data)
        return payloads, scattered

    # -- results -------------------------------------------------------------------------------------
    def _collect(self) -> None:
        while not self._closing.is_set():
            if self.client.status != "running":
                self._fail_all(BackendLost(self._lost_message()))
                self._closing.wait(0.2)
                continue
            if self._completed.is_empty():
                self._closing.wait(0.02)
                continue
            if not self._completed.has_ready():
                if self._no_workers_for() > NO_WORKERS_SECONDS:
                    with self._lock:
                        waiting = list(self._submitted.values())
                    self._cancel(waiting, BackendLost(self._no_workers_message()))
                self._closing.wait(0.01)
                continue
            try:
                future, result = next(self._completed)
            except StopIteration:
                continue
            self._settle(future, result)

    def _settle(self, future: Any, result: Any) -> None:
        with self._lock:
            submitted = self._submitted.pop(future.key, None)
        if submitted is None or submitted.done.done():
            return
        submitted.scattered.clear()  # the bytes sent ahead are released with their last reference
        done = submitted.done
        if future.status == "finished":
            self._note_started(submitted.item, result.address, result.pid)
            done.set_result(localize(result, submitted.item))
        elif future.status == "error":
            exc = result[1] if isinstance(result, tuple) else result
            if isinstance(exc, VersionMismatch):
                done.set_exception(BackendLost(str(exc)))
            elif type(exc).__name__ == "KilledWorker":
                # The worker may have died before its `started` left it: the file did start, there.
                last = getattr(getattr(exc, "last_worker", None), "address", "")
                self._note_started(submitted.item, last or "a Dask worker that died", 0)
                done.set_exception(PoolBroken(f"the Dask workers running it died ({exc})"))
            else:  # run_remote itself failed (the worker's disk is full...): the files' own error
                error = classify(exc)
                done.set_result([_failed(w.index, w.path, error, w.attempt) for w in submitted.item.files])
        elif self.client.status != "running":
            done.set_exception(BackendLost(self._lost_message()))
        else:
            done.set_exception(NotStarted("the Dask task was cancelled"))

    def _note_started(self, item: WorkItem, address: str, pid: int) -> None:
        """A result that came before its `started` message: put one in front of it (drain() drops the
        real one if it comes after all)."""
        for work in item.files:
            self._inbox.put(("started", item.batch, work.index, pid, address))

    def _fail_all(self, exc: BaseException) -> None:
        with self._lock:
            submitted, self._submitted = list(self._submitted.values()), {}
        for entry in submitted:
            if not entry.done.done():
                entry.done.set_exception(exc)

    def _no_workers_for(self) -> float:
        """Seconds the cluster has had no worker while files wait (asked every SLOTS_REFRESH_SECONDS)."""
        now = time.monotonic()
        looked, absent_since = self._workers_seen
        if now - looked >= SLOTS_REFRESH_SECONDS:
            try:
                present = bool(self.handle.workers())
            except Exception:  # noqa: BLE001 - a scheduler that does not answer is the lost-scheduler case
                present = True
            absent_since = None if present else (absent_since or now)
            self._workers_seen = (now, absent_since)
        return 0.0 if absent_since is None else now - absent_since

    def _no_workers_message(self) -> str:
        return (
            f"The Dask cluster at {self.cluster} has had no workers for {NO_WORKERS_SECONDS:.0f} seconds "
            "(every worker stopped, or its computer was switched off)."
        )

    def _lost_message(self) -> str:
        return (
            f"The Dask scheduler at {self.cluster} went away before these files finished "
            "(it stopped, or the network to it failed)."
        )

    # -- messages ------------------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        """Called on the client's event loop for each message a worker logged on our topic."""
        self._inbox.put(tuple(event[1]))

    def drain(self) -> list[Message]:
        messages: list[Message] = []
        with contextlib.suppress(queue.Empty):
            while True:
                message = self._inbox.get_nowait()
                if message[0] == "started":
                    message = self._started_message(message)
                    if message is None:
                        continue
                messages.append(message)
        return messages

    def _started_message(self, message: Message) -> Message | None:
        """`started` with the worker's number for its pid (kill() takes those); None for a duplicate."""
        _kind, batch, index, pid, address = message
        with self._lock:
            key = self._by_index.get(index)
            if key is None or (key, index) in self._started:
                return None
            self._started.add((key, index))
            self._running.add(key)
            if key in self._submitted:
                self._submitted[key].worker = address
            number = self._numbers.setdefault(address, len(self._numbers) + 1)
            self._addresses[number] = address
        return ("started", batch, index, number, f"{address} (pid {pid})")

    # -- stopping ------------------------------------------------------------------------------------
    def start_no_more(self) -> None:
        """Cancel what was submitted but has not started. With shared storage a task that starts just
        as it is cancelled would still write its outputs: there, everything submitted may finish."""
        if self.shared_storage:
            return
        with self._lock:
            waiting = [s for key, s in self._submitted.items() if key not in self._running]
        self._cancel(waiting, NotStarted("the batch was told to start no more files"))

    def kill(self, pids: set[int] | None = None) -> None:
        """Stop the items running on these workers (all if None): cancel them, restart their workers."""
        with self._lock:
            if pids is None:
                targets = list(self._submitted.values())
            else:
                addresses = {self._addresses[p] for p in pids if p in self._addresses}
                targets = [s for s in self._submitted.values() if s.worker in addresses]
        workers = sorted({s.worker for s in targets if s.worker})
        self._cancel(targets, PoolBroken("its Dask worker was restarted"))
        if workers and self.client is not None:
            thread = threading.Thread(target=self._restart, args=(workers,), name="xlbatch-dask-restart", daemon=True)
            thread.start()
            self._restarts.append(thread)

    def _cancel(self, targets: list[Submitted], exc: BaseException) -> None:
        if not targets:
            return
        with self._lock:
            for entry in targets:
                self._submitted.pop(entry.future.key, None)
        for entry in targets:
            if not entry.done.done():
                entry.done.set_exception(exc)
        with contextlib.suppress(Exception):
            self.client.cancel([e.future for e in targets], force=True)

    def _restart(self, workers: list[str]) -> None:
        """End these workers' processes (their nannies start fresh ones) and wait until they are gone."""
        client = self.client
        with contextlib.suppress(Exception):
            client.run(end_worker_process, workers=workers)
        deadline = time.monotonic() + RESTART_WAIT_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if not set(workers) & {w.address for w in self.handle.workers()}:
                    return
            time.sleep(0.05)

    def shutdown(self, kill: bool = False) -> None:
        if self.client is None:
            return
        if kill:
            self.kill(None)
        for thread in self._restarts:
            thread.join(RESTART_WAIT_SECONDS)
        self._restarts = []
        with self._lock:
            leftovers = list(self._submitted.values())
        self._cancel(leftovers, NotStarted("the batch ended"))
        self._closing.set()
        if self._collector is not None:
            self._collector.join(10)
            self._collector = None
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self.topic)
        self.client = None


def _failed(index: int, path: str, error: Any, attempt: int) -> FileOutcome:
    return FileOutcome(index, path, FAILED, error=error, attempts=attempt)
