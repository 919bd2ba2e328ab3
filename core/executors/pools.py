"""Warm pools: keep one started backend between batches, so the next batch's first result does not pay
for starting worker processes (about 0.9 s with spawn). What the desktop app uses; a one-shot CLI run
does not need it.

Like loky's reusable executor: the kept pool is reused when the next batch asks for the same backend
and worker count and it is still healthy; otherwise it is shut down and replaced (and the reason logged).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, wait
from typing import Any

from xlbatch.executors import make_backend
from xlbatch.executors.base import Backend

log = logging.getLogger(__name__)

# Backends whose start-up is worth keeping: starting threads costs microseconds.
WORTH_KEEPING = {"processes", "multiprocessing", "joblib"}


class PoolCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._backend: Backend | None = None
        self._key: tuple[str, int] | None = None
        self._lent = False
        # Set by shutdown() (the app closing): a pool that finishes starting afterwards is not kept, or its
        # workers would outlive the app.
        self._closed = False

    def warm(self, name: str, workers: int) -> bool:
        """True if a batch on (name, workers) would find its pool already started."""
        with self._lock:
            return self._backend is not None and not self._lent and self._key == (name, workers)

    def acquire(self, name: str, workers: int, options: tuple[tuple[str, Any], ...] = ()) -> Backend:
        """A started backend for a batch: the kept one if it matches, else a new one (`options`: the
        Choice's, for backends that are never kept: a Dask cluster keeps its own connection)."""
        with self._lock:
            kept, key = self._backend, self._key
            if kept is not None and not self._lent and key == (name, workers):
                self._lent = True
                kept.begin_batch()
                return kept
            if kept is not None and not self._lent:
                log.info("replacing the warm %s pool (%s workers): the batch asks for %s with %s", *key, name, workers)
                self._backend = self._key = None
        if kept is not None and key != (name, workers) and not self._lent:
            kept.shutdown(kill=False)
        backend = make_backend(name, workers, options)
        backend.start()
        if name in WORTH_KEEPING:
            with self._lock:
                if self._backend is None and not self._closed:
                    self._backend, self._key, self._lent = backend, (name, workers), True
        return backend

    def release(self, backend: Backend, healthy: bool) -> None:
        """A batch is done with `backend`: keep it warm if healthy and ours, else shut it down."""
        with self._lock:
            ours = backend is self._backend
            if ours and healthy:
                self._lent = False
                return
            if ours:
                self._backend = self._key = None
                self._lent = False
        backend.shutdown(kill=not healthy)

    def prestart(self, name: str, workers: int) -> Future[None]:
        """Start a pool in the background (e.g. while the user is still choosing files)."""
        done: Future[None] = Future()

        def start() -> None:
            try:
                if not self.warm(name, workers) and name in WORTH_KEEPING:
                    backend = self.acquire(name, workers)
                    futures = [backend.submit_call(_warm_up) for _ in range(workers)]
                    wait(futures, timeout=60)
                    self.release(backend, healthy=True)
                done.set_result(None)
            except Exception as exc:  # noqa: BLE001 - warming is best effort
                done.set_exception(exc)

        threading.Thread(target=start, name="xlbatch-prestart", daemon=True).start()
        return done

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            backend, self._backend, self._key, self._lent = self._backend, None, None, False
        if backend is not None:
            backend.shutdown(kill=True)


def _warm_up() -> int:
    from xlbatch.worker import warm_up

    return warm_up()
