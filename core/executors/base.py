"""What every backend offers the runner: submit a work item, get a Future, drain worker messages,
kill workers, and be replaced when broken.

The runner's supervisor loop is the same for every backend; a backend only adapts one pool API to
this interface, and says in its capability attributes how the loop must treat it (the loop asks these,
never a backend's name):

  can_kill               a running file can be stopped by killing its worker process. Thread backends
                         cannot (a thread cannot be stopped from outside): a late file is reported
                         `timeout` and its thread abandoned, a stop request is honoured at the file's
                         next progress call.
  bulk                   takes every item at once and dispatches them itself (joblib), instead of being
                         kept at `workers` items in flight.
  gates_submissions      dispatches by itself, so it calls `gate()` (the supervisor's memory guard) before
                         starting each item, where the loop cannot hold work back.
  groups_small_files     each item costs a round trip to another process: small files travel several
                         to an item.
  needs_dead_worker_poll a lost item fails only when `dead_workers()` looks (multiprocessing.Pool never
                         reports a task whose worker died), so the loop keeps asking while it waits.
  fails_alone            a failed item is that item's own failure: the pool is not broken and nothing else
                         needs re-examining (Dask: the scheduler blames the task whose workers kept dying,
                         KilledWorker, and re-runs the innocents by itself).
  remote_workers         workers may run on other machines: their pids mean nothing here, so the parent
                         does not watch their memory (the cluster's own memory limit does); `kill` and the
                         `started` messages use the backend's own worker numbers instead of pids.

How an item's future can fail: PoolBroken (its worker, or the pool, died: the supervisor re-examines
the item's files), NotStarted (it was never dispatched: the files are still to run, or cancelled),
BackendLost (nothing more can run, e.g. a cluster's scheduler went away: the batch ends, every
unfinished file `cancelled`, so that `--resume` continues it).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from xlbatch.worker import Message, WorkItem


class PoolBroken(Exception):
    """The pool lost a worker (crash, kill or timeout); unfinished items must be re-examined."""


class NotStarted(Exception):
    """The item was never dispatched (a stop request, or the pool shut down first): none of it ran."""


class BackendLost(Exception):
    """The backend cannot run anything more (a cluster's scheduler went away); the message says why in
    words a user can act on. The batch ends with every unfinished file cancelled."""


class Backend(ABC):
    name: str = ""
    # Capabilities (see the module docstring); the defaults describe an in-process backend.
    can_kill: bool = False
    bulk: bool = False
    gates_submissions: bool = False
    groups_small_files: bool = False
    needs_dead_worker_poll: bool = False
    fails_alone: bool = False
    remote_workers: bool = False

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.stop_event = threading.Event()  # cooperative "stop now" for in-thread work
        # Called before each dispatch by a backend that `gates_submissions`; blocks while work is held back.
        self.gate: Callable[[], None] | None = None

    def slots(self) -> int:
        """How many items the loop keeps in flight (a cluster's grows as machines join)."""
        return self.workers

    def start(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Create the pool (called once before the first submit, and again after `restart`)."""

    @abstractmethod
    def submit(self, item: WorkItem) -> Future[Any]:
        """Start running `item`; the future's result is its list of FileOutcome."""

    def submit_call(self, function: Any) -> Future[Any]:
        """Run a plain top-level function on a worker (used to warm a pool up)."""
        future: Future[Any] = Future()
        future.set_result(None)
        return future

    def begin_batch(self) -> None:
        """Reset per-batch state before a warm pool serves another batch."""
        self.stop_event = threading.Event()

    @abstractmethod
    def drain(self) -> list[Message]:
        """Messages the workers sent since the last call, in order."""

    def worker_pids(self) -> set[int]:
        return set()

    def dead_workers(self) -> dict[int, int]:
        """pid -> exit code of worker processes that died since the pool started."""
        return {}

    def exit_codes(self, pids: set[int], timeout: float) -> dict[int, int]:
        """Exit codes of these worker processes, waiting up to `timeout` for each to be reaped."""
        return {}

    def kill(self, pids: set[int] | None = None) -> None:  # noqa: B027 - optional hook, empty by default
        """Kill the given worker processes (all if None). No-op for thread backends."""

    def start_no_more(self) -> None:  # noqa: B027 - optional hook, empty by default
        """A `bulk` backend holds items not yet dispatched: fail them with NotStarted, finish the rest."""

    def restart(self) -> None:
        """Throw the pool away (its unfinished futures fail with PoolBroken) and start a fresh one."""
        self.shutdown(kill=True)
        self.start()

    def shutdown(self, kill: bool = False) -> None:  # noqa: B027 - optional hook, empty by default
        """Release the pool; with `kill`, do not wait for running files."""


class ThreadChannel:
    """The message channel for workers that are threads of this process."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()

    def put(self, message: Message) -> None:
        self._queue.put(message)

    def drain(self) -> list[Message]:
        messages = []
        with contextlib.suppress(queue.Empty):
            while True:
                messages.append(self._queue.get_nowait())
        return messages
