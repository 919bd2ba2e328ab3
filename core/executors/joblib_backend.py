"""The `joblib` backend: joblib.Parallel on its default loky process pool, results as they complete
(`return_as="generator_unordered"`).

joblib dispatches the items itself, so this backend takes every item at once (`bulk`), calls the
supervisor's `gate` before dispatching each (`gates_submissions`), and runs one Parallel call per round
on a driver thread. Workers receive the message channel (a multiprocessing
Manager queue: loky workers get no initializer) with each item. When a worker dies, loky raises
TerminatedWorkerError for the whole round; the round's unfinished futures fail with PoolBroken and the
runner re-runs the suspects alone, as for the other process backends.

loky does not work inside a PyInstaller executable (its helper processes re-run the exe with arguments
it rejects), so the frozen app does not offer this backend.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

from xlbatch.executors.base import Backend, NotStarted, PoolBroken
from xlbatch.executors.processes import kill_pid
from xlbatch.worker import Message, WorkItem, run_item_with_channel


class JoblibBackend(Backend):
    name = "joblib"
    can_kill = True
    bulk = True
    gates_submissions = True
    groups_small_files = True

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self._manager: Any = None
        self._channel: Any = None
        self._waiting: list[tuple[WorkItem, Future[Any]]] = []
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._closing = False
        self._driver: threading.Thread | None = None
        self._no_more = threading.Event()

    def start(self) -> None:
        import multiprocessing

        self._manager = multiprocessing.get_context("spawn").Manager()
        self._channel = self._manager.Queue()
        self._closing = False
        self._no_more = threading.Event()
        self._driver = threading.Thread(target=self._drive, name="xlbatch-joblib-driver", daemon=True)
        self._driver.start()

    def submit(self, item: WorkItem) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            self._waiting.append((item, future))
        self._wakeup.set()
        return future

    def begin_batch(self) -> None:
        super().begin_batch()
        self._no_more = threading.Event()

    def start_no_more(self) -> None:
        """Finish what has been dispatched; items not yet dispatched fail with NotStarted."""
        self._no_more.set()

    def _drive(self) -> None:
        while not self._closing:
            self._wakeup.wait(0.2)
            self._wakeup.clear()
            with self._lock:
                batch, self._waiting = self._waiting, []
            if batch:
                self._run_round(batch)

    def _run_round(self, batch: list[tuple[WorkItem, Future[Any]]]) -> None:
        from joblib import Parallel, delayed

        futures = {id(item): future for item, future in batch}
        dispatched: set[int] = set()

        def items() -> Iterator[Any]:
            for item, _future in batch:
                if self._no_more.is_set() or self._closing:
                    return
                if self.gate is not None:
                    self.gate()
                dispatched.add(id(item))
                yield delayed(_run_tagged)(id(item), item, self._channel)

        try:
            parallel = Parallel(
                n_jobs=self.workers,
                backend="loky",
                return_as="generator_unordered",
                pre_dispatch="n_jobs",
                batch_size=1,
            )
            for tag, outcomes in parallel(items()):
                future = futures.pop(tag, None)
                if future is not None and not future.done():
                    future.set_result(outcomes)
        except Exception as exc:  # noqa: BLE001 - TerminatedWorkerError and friends: the round is over
            why = f"{type(exc).__name__}: {exc}"
            for tag, future in futures.items():
                if not future.done():
                    future.set_exception(PoolBroken(why) if tag in dispatched else NotStarted(why))
            return
        for future in futures.values():
            if not future.done():
                future.set_exception(NotStarted("the batch was told to start no more files"))

    def drain(self) -> list[Message]:
        messages: list[Message] = []
        if self._channel is None:
            return messages
        # A manager being shut down answers with EOFError or a broken connection (OSError).
        with contextlib.suppress(queue.Empty, EOFError, OSError):
            while True:
                messages.append(self._channel.get_nowait())
        return messages

    def kill(self, pids: set[int] | None = None) -> None:
        for pid in pids if pids is not None else _loky_worker_pids():
            kill_pid(pid)

    def restart(self) -> None:
        # loky replaces a broken executor by itself at the next Parallel call; the channel stays usable.
        self._no_more = threading.Event()

    def shutdown(self, kill: bool = False) -> None:
        self._closing = True
        self._no_more.set()
        self._wakeup.set()
        if kill:
            self.kill(None)
        if self._driver is not None:
            self._driver.join(timeout=30)
            self._driver = None
        with self._lock:
            leftovers, self._waiting = self._waiting, []
        for _item, future in leftovers:
            if not future.done():
                future.set_exception(NotStarted("the pool was shut down"))
        if self._manager is not None:
            with contextlib.suppress(Exception):
                self._manager.shutdown()
            self._manager = None
            self._channel = None


def _loky_worker_pids() -> set[int]:
    """The worker processes of the loky executor joblib is using (it keeps one, reused across calls)."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    processes = getattr(executor, "_processes", None) or {}
    return {process.pid for process in list(processes.values())}


def shutdown_loky() -> None:
    """End joblib's idle worker processes (kept warm for reuse): call when the app closes."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.shutdown(wait=True, kill_workers=True)


def _run_tagged(tag: int, item: WorkItem, channel: Any) -> tuple[int, Any]:
    return tag, run_item_with_channel(item, channel)
