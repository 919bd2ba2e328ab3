"""Process backends: `processes` (concurrent.futures.ProcessPoolExecutor) and `multiprocessing`
(multiprocessing.Pool), both with the `spawn` start method.

`spawn` everywhere: Windows has nothing else, and forking a process that runs Qt threads is unsafe.
Workers get the message channel once, through the pool initializer. Worker processes are tracked by
pid so a file that runs past its time limit can be stopped by killing its worker (before Python 3.14,
nothing else stops a running worker), and so the runner can tell which file's worker died.

  ProcessPoolExecutor: one dead worker breaks the whole pool; every unfinished future fails with
  BrokenProcessPool and the executor terminates the other workers. The runner then replaces the pool.
  multiprocessing.Pool: a dead worker is silently replaced and its task never returns; we notice the
  death by pid, fail the pool's unfinished futures with PoolBroken, and replace the pool likewise
  (a worker killed while writing to the channel could leave its lock held, so the channel goes too).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
import threading
from abc import abstractmethod
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from xlbatch.executors.base import Backend, PoolBroken
from xlbatch.worker import Message, WorkItem, init_process_worker, run_item_in_process

# Exit code a worker shows when the pool itself terminated it (collateral, not the culprit).
TERMINATED_BY_POOL = {-signal.SIGTERM} if sys.platform != "win32" else {0x10000, 1}


# How long tearing down a pool may take before its remaining workers are killed and it is abandoned.
TERMINATE_WAIT_SECONDS = 5.0


def spawn_context() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


def kill_pid(pid: int) -> None:
    """Kill one process now (SIGKILL on POSIX, TerminateProcess on Windows)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if sys.platform == "win32":
            import psutil

            psutil.Process(pid).kill()
        else:
            os.kill(pid, signal.SIGKILL)


class ProcessChannel:
    """Worker -> parent messages over a multiprocessing SimpleQueue: each put is written to the pipe
    before the worker goes on, so a `started` message survives the worker crashing right after."""

    def __init__(self) -> None:
        self.queue = spawn_context().SimpleQueue()

    def drain(self) -> list[Message]:
        """What is waiting, in order. A channel closed by a pool's teardown raises OSError ("handle is
        closed"), one whose writer died mid-message EOFError: the messages read before that are kept."""
        messages = []
        with contextlib.suppress(OSError, EOFError, ValueError):
            while not self.queue.empty():
                messages.append(self.queue.get())
        return messages

    def close(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.queue.close()


class _ProcessBackendBase(Backend):
    can_kill = True
    groups_small_files = True

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.channel: ProcessChannel | None = None
        self._leftover: list[Message] = []
        self._processes: dict[int, multiprocessing.process.BaseProcess] = {}
        self._lock = threading.Lock()

    @abstractmethod
    def _live_processes(self) -> dict[int, Any]:
        """pid -> process object of the pool's current workers."""

    def _track(self) -> None:
        """Remember every worker process this pool started, so deaths can be seen after the fact."""
        with self._lock:
            for pid, process in self._live_processes().items():
                self._processes.setdefault(pid, process)

    def worker_pids(self) -> set[int]:
        self._track()
        return {pid for pid, p in self._processes.items() if p.exitcode is None}

    def dead_workers(self) -> dict[int, int]:
        self._track()
        return {pid: p.exitcode for pid, p in self._processes.items() if p.exitcode is not None}

    def exit_codes(self, pids: set[int], timeout: float) -> dict[int, int]:
        self._track()
        codes: dict[int, int] = {}
        for pid in pids:
            process = self._processes.get(pid)
            if process is None:
                continue
            with contextlib.suppress(Exception):
                process.join(timeout)
            if process.exitcode is not None:
                codes[pid] = process.exitcode
        return codes

    def kill(self, pids: set[int] | None = None) -> None:
        """Kill these workers (all if None) and give them a moment to be gone: then everything they sent,
        such as an `output` message before a rename, is in the channel for the supervisor to read."""
        self._track()
        targets = pids if pids is not None else set(self._processes)
        for pid in targets:
            kill_pid(pid)
        self.exit_codes(targets, 1.0)

    def drain(self) -> list[Message]:
        messages, self._leftover = self._leftover, []
        if self.channel is not None:
            messages.extend(self.channel.drain())
        return messages

    def _close_channel(self) -> None:
        """Keep what workers sent before the pool went down (a file may have finished meanwhile)."""
        if self.channel is None:
            return
        self._leftover.extend(self.channel.drain())
        self.channel.close()

    def _join_all(self, timeout: float = 5.0) -> None:
        for process in list(self._processes.values()):
            with contextlib.suppress(Exception):
                process.join(timeout)


class ProcessesBackend(_ProcessBackendBase):
    name = "processes"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        self.channel = ProcessChannel()
        self._processes = {}
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=spawn_context(),
            initializer=init_process_worker,
            initargs=(self.channel.queue,),
        )

    def _live_processes(self) -> dict[int, Any]:
        pool = self._pool
        processes = getattr(pool, "_processes", None) if pool is not None else None
        return dict(processes or {})

    def submit(self, item: WorkItem) -> Future[Any]:
        assert self._pool is not None
        try:
            future = self._pool.submit(run_item_in_process, item)
        except BrokenProcessPool as exc:
            future = Future()
            future.set_exception(PoolBroken(str(exc)))
        self._track()
        return future

    def submit_call(self, function: Any) -> Future[Any]:
        assert self._pool is not None
        future = self._pool.submit(function)
        self._track()
        return future

    def shutdown(self, kill: bool = False) -> None:
        pool = self._pool
        if pool is None:
            return
        self._pool = None
        if kill:
            self.kill()
        if not _bounded(lambda: pool.shutdown(wait=True, cancel_futures=True), TERMINATE_WAIT_SECONDS):
            self.kill()  # a worker is stuck: it goes, and the executor is abandoned
        self._join_all(timeout=1.0)
        self._close_channel()


class MultiprocessingBackend(_ProcessBackendBase):
    name = "multiprocessing"
    needs_dead_worker_poll = True  # a Pool never fails a task whose worker died: dead_workers() does

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self._pool: multiprocessing.pool.Pool | None = None
        self._futures: set[Future[Any]] = set()

    def start(self) -> None:
        self.channel = ProcessChannel()
        self._processes = {}
        self._futures = set()
        self._pool = spawn_context().Pool(self.workers, initializer=init_process_worker, initargs=(self.channel.queue,))
        self._track()

    def _live_processes(self) -> dict[int, Any]:
        pool = self._pool
        return {p.pid: p for p in getattr(pool, "_pool", [])} if pool is not None else {}

    def submit(self, item: WorkItem) -> Future[Any]:
        assert self._pool is not None
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        self._futures.add(future)

        def done(value: Any) -> None:
            if not future.done():
                future.set_result(value)
            self._futures.discard(future)

        def failed(exc: BaseException) -> None:
            if not future.done():
                future.set_exception(exc)
            self._futures.discard(future)

        self._pool.apply_async(run_item_in_process, (item,), callback=done, error_callback=failed)
        return future

    def submit_call(self, function: Any) -> Future[Any]:
        assert self._pool is not None
        future: Future[Any] = Future()
        self._pool.apply_async(function, callback=future.set_result, error_callback=future.set_exception)
        return future

    def dead_workers(self) -> dict[int, int]:
        dead = super().dead_workers()
        if dead:  # a Pool never reports a lost task: fail the unfinished ones so the runner re-examines them
            self._fail_unfinished("a worker process died")
        return dead

    def _fail_unfinished(self, why: str) -> None:
        for future in list(self._futures):
            if not future.done():
                future.set_exception(PoolBroken(why))
        self._futures.clear()

    def kill(self, pids: set[int] | None = None) -> None:
        if pids is None:
            # Stopping everything goes through the pool's own teardown: SIGKILL on an idle worker could
            # leave the task queue's lock held forever (it waits for work holding it), and terminate() with it.
            self.shutdown(kill=True)
            return
        super().kill(pids)

    def shutdown(self, kill: bool = False) -> None:
        pool = self._pool
        if pool is None:
            return
        self._pool = None
        self._track()
        if kill:
            # terminate() can still hang if a worker died holding a queue lock (a kill from outside):
            # give it a few seconds on a helper thread, then kill what is left and abandon the pool.
            _bounded(pool.terminate, TERMINATE_WAIT_SECONDS)
            super().kill(None)
            _bounded(pool.join, TERMINATE_WAIT_SECONDS)
        else:
            pool.close()
            pool.join()
        self._join_all()
        self._fail_unfinished("the pool was shut down")
        self._close_channel()


def _bounded(action: Any, seconds: float) -> bool:
    """Run `action` on a daemon thread; True if it finished within `seconds`."""
    thread = threading.Thread(target=action, name="xlbatch-pool-teardown", daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()
