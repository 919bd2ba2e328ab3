"""Starting the next batch's worker processes before Start: the window's warm pool.

The window owns one `PoolCache` for its lifetime and every batch borrows it. When the files, the task
or the run settings change, and settle for PRESTART_DELAY_MS, the pool the next batch would use (the
window's `prestart_target()`, from the engine's own decision) is started in the background, so the
batch's first result does not wait for worker processes to start. One start runs at a time; a batch
that starts meanwhile waits for it off the GUI thread (`xlbatch.gui.controller`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for

from PySide6.QtCore import QObject, QTimer, Signal

from xlbatch.executors import shutdown_pools
from xlbatch.executors.pools import PoolCache
from xlbatch.gui.formatting import plural

PRESTART_DELAY_MS = 400  # settle time after the files, task or run settings change before warming a pool
PROCESSES = "processes"


class WarmPool(QObject):
    """Prestarts `pools` for the count `target()` names, unless `busy()` (a batch runs)."""

    # Emitted from the prestart thread when the pool is ready: connect it queued.
    warmed = Signal()
    logged = Signal(str)

    def __init__(
        self,
        pools: PoolCache,
        target: Callable[[], int | None],
        busy: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.pools = pools
        self.enabled = True
        self.pending: Future[None] | None = None  # the start in progress (a batch waits for it)
        self.closed = False
        self._target = target
        self._busy = busy
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PRESTART_DELAY_MS)
        self._timer.timeout.connect(self.prestart)

    def schedule(self) -> None:
        """Prestart once things settle (each call restarts the wait)."""
        if self.enabled and not self._busy():
            self._timer.start()

    def cancel_scheduled(self) -> None:
        self._timer.stop()

    def prestart(self) -> Future[None] | None:
        """Start the next batch's process pool in the background (never blocking the window)."""
        if not self.enabled or self._busy() or self.closed:
            return None
        count = self._target()
        if count is None or self.pools.warm(PROCESSES, count):
            return None
        pending = self.pending
        if pending is not None and not pending.done():
            self._timer.start()  # one start at a time: look again when this one is done
            return pending
        future = self.pools.prestart(PROCESSES, count)
        self.pending = future
        future.add_done_callback(self._done)
        self.logged.emit(f"Starting {plural(count, 'worker process', 'worker processes')} in the background.")
        return future

    def _done(self, _future: Future[None]) -> None:
        # On the prestart thread: touch no widget. A window closed meanwhile ends the pool now.
        if self.closed:
            self.pools.shutdown()
            return
        try:
            self.warmed.emit()
        except RuntimeError:  # the window's C++ side is gone
            self.pools.shutdown()

    def release(self, wait_seconds: float = 0.0) -> None:
        """End the warm pool and joblib's idle workers (on close). With `wait_seconds`, first let a pool
        still starting finish, so that no worker process outlives the app."""
        self.closed = True
        self._timer.stop()
        pending = self.pending
        if pending is not None and not pending.done() and wait_seconds > 0:
            wait_for([pending], timeout=wait_seconds)
        self.pools.shutdown()
        shutdown_pools()
