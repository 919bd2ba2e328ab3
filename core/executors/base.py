"""What every backend offers the runner: submit a work item, get a Future, drain worker messages,
kill workers, and be replaced when broken.

The runner's supervisor loop is the same for every backend; a backend only adapts one pool API to
this interface. Thread-based backends cannot kill a running file (a thread cannot be stopped from
outside): their `can_kill` is False, a late file is reported `timeout` and its thread abandoned, and a
stop request is honoured cooperatively at the file's next progress call.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future
from typing import Any

from xlbatch.worker import Message, WorkItem


class PoolBroken(Exception):
    """The pool lost a worker (crash, kill or timeout); unfinished items must be re-examined."""


class Backend(ABC):
    name: str = ""
    can_kill: bool = False  # can stop a running file by killing its worker
    bulk: bool = False  # prefers every item submitted at once (joblib dispatches them itself)

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self.stop_event = threading.Event()  # cooperative "stop now" for in-thread work

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
