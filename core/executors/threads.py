"""In-process backends: `sequential` (one file at a time), `threads` (ThreadPoolExecutor) and
`asyncio` (an event loop bounding concurrency with a semaphore over `asyncio.to_thread`).

Files run on background threads so the runner's loop stays free to render progress, enforce time
limits and take cancel requests. Right for I/O-bound tasks; CPU-bound parsing holds the GIL, so threads
top out near 1.25x on two cores (measured), and the `sequential` baseline is a plain loop.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from xlbatch.executors.base import Backend, ThreadChannel
from xlbatch.worker import Message, WorkItem, run_item


class ThreadsBackend(Backend):
    name = "threads"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.channel = ThreadChannel()
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self.stop_event = threading.Event()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"xlbatch-{self.name}")

    def submit(self, item: WorkItem) -> Future[Any]:
        assert self._pool is not None
        return self._pool.submit(run_item, item, self.channel.put, self.stop_event.is_set)

    def drain(self) -> list[Message]:
        return self.channel.drain()

    def shutdown(self, kill: bool = False) -> None:
        if self._pool is not None:
            if kill:
                self.stop_event.set()  # running files stop at their next progress call
            self._pool.shutdown(wait=not kill, cancel_futures=True)
            self._pool = None


class SequentialBackend(ThreadsBackend):
    """One file after another: the baseline, and the automatic choice for small batches."""

    name = "sequential"

    def __init__(self, workers: int = 1) -> None:
        super().__init__(1)


class AsyncioBackend(Backend):
    """An asyncio event loop on its own thread; each file runs via `asyncio.to_thread`, at most
    `workers` at once (an `asyncio.Semaphore`)."""

    name = "asyncio"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.channel = ThreadChannel()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self.stop_event = threading.Event()
        loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="xlbatch-asyncio")
        loop.set_default_executor(self._executor)
        ready = threading.Event()

        def run_loop() -> None:
            asyncio.set_event_loop(loop)
            self._semaphore = asyncio.Semaphore(self.workers)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run_loop, name="xlbatch-asyncio-loop", daemon=True)
        self._thread.start()
        ready.wait()

    async def _run(self, item: WorkItem) -> Any:
        assert self._semaphore is not None
        async with self._semaphore:
            return await asyncio.to_thread(run_item, item, self.channel.put, self.stop_event.is_set)

    def submit(self, item: WorkItem) -> Future[Any]:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._run(item), self._loop)

    def drain(self) -> list[Message]:
        return self.channel.drain()

    def shutdown(self, kill: bool = False) -> None:
        if self._loop is None:
            return
        if kill:
            self.stop_event.set()
        loop, thread = self._loop, self._thread
        self._loop = None

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.stop()

        loop.call_soon_threadsafe(stop)
        if thread is not None:
            thread.join(timeout=5)
        if self._executor is not None:
            self._executor.shutdown(wait=not kill, cancel_futures=True)
            self._executor = None
