"""Running a batch off the GUI thread: a `BatchController` moved to a `QThread`, and its owner `BatchRun`.

    GUI thread                                   controller thread
    ----------                                   -----------------
    BatchRun.start()  ───── QThread.started ───► BatchController.work()
                                                    (wait for a pool still being prestarted)
                                                    plan_batch(spec, pools)  -> Planned(plan) or Refused(why)
                                                    run_plan(plan, on_event=queue, cancel=token, pools)
    QTimer (~100 ms) ◄── take_events() ──────────── markers and events appended to a deque
    finished(report)  ◄── Signal, queued ────────── work() returns
    BatchRun.stop("now") ── CancelToken ─────────►  runner stops at its next tick, kills workers
    BatchRun.join()  ── QThread.quit()+wait()

The task's parameters are validated on the GUI thread as they are typed (the form runs
`Task.validate()`), so a bad value never reaches Start. `plan_batch()` itself (which also checks the
backend, the worker count and the output folder against the inputs) runs on the controller thread:
it resolves and stats every file, about 170 ms per 1,000 files, which would freeze the window. Its
verdict comes back first in the queue, `Planned` or `Refused`, before any event of the batch.

The window's `PoolCache` is handed to both calls: `auto` then knows when a process pool is already
warm, and the batch borrows that pool instead of starting worker processes (about 0.9 s to the first
result with spawn). A pool the window began prestarting when files were added is waited for here, off
the GUI thread, when the batch may run on processes: finishing that start costs less than a new one.

Events are not turned into one Qt signal each: a batch of 10,000 files sends tens of thousands of
them, and the window applies them in one pass on a timer instead (see `xlbatch.gui.models`). Widgets are never
touched from the controller thread. Wiring follows superqt's thread workers: started -> work,
finished -> quit, finished -> deleteLater.
"""

from __future__ import annotations

import collections
import time
import traceback
from concurrent import futures
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from xlbatch.cancel import CancelToken
from xlbatch.executors.pools import PoolCache
from xlbatch.params import InvalidParams
from xlbatch.plan import BatchSpec, Plan, plan_batch
from xlbatch.report import Report
from xlbatch.runner import run_plan

# How long a batch waits for a pool still starting in the background before planning without it.
PRESTART_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Planned:
    """First in the queue when the batch was planned: the files in the runner's order, and how."""

    plan: Plan


@dataclass(frozen=True)
class Refused:
    """First and only in the queue when `plan_batch()` refused the batch; `param` names the setting."""

    message: str
    param: str | None = None


class BatchController(QObject):
    """Plans and runs one batch on whatever thread it lives on; only `work()` runs there."""

    # The report when the batch ran (None if it was refused or the runner broke); `failed` carries
    # the traceback text if the runner itself broke.
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        spec: BatchSpec,
        cancel: CancelToken,
        events: collections.deque[Any],
        pools: PoolCache | None = None,
        prestart: Future[None] | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.cancel = cancel
        self.events = events
        self.pools = pools
        self.prestart = prestart

    @Slot()
    def work(self) -> None:
        report: Report | None = None
        try:
            prestart = self.prestart
            if prestart is not None and self.spec.backend in ("auto", "processes"):
                # Warming is best effort: a failed or slow prestart only means a cold start. A cancel
                # request is honoured while waiting.
                deadline = time.monotonic() + PRESTART_WAIT_SECONDS
                while not prestart.done() and not self.cancel.requested and time.monotonic() < deadline:
                    futures.wait([prestart], timeout=0.1)
            try:
                plan = plan_batch(self.spec, pools=self.pools)
            except InvalidParams as exc:
                self.events.append(Refused(str(exc), exc.param))
            else:
                self.events.append(Planned(plan))
                # deque.append is atomic: this thread appends, the GUI thread pops; no lock, no signal.
                report = run_plan(plan, self.events.append, self.cancel, pools=self.pools)
        except BaseException:  # noqa: BLE001 - reported to the window, which must never hang on a batch
            self.failed.emit(traceback.format_exc())
        self.finished.emit(report)


class BatchRun(QObject):
    """The GUI thread's handle on one running batch: its thread, controller and cancel token."""

    # Re-emitted on the GUI thread: the Report, or None if the runner failed (see `error`).
    finished = Signal(object)

    def __init__(
        self,
        spec: BatchSpec,
        parent: QObject | None = None,
        pools: PoolCache | None = None,
        prestart: Future[None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.token = CancelToken()
        self.error: str | None = None
        self.report: Report | None = None
        self.done = False
        # Owned here, not by the controller, which is deleted when its thread ends.
        self._events: collections.deque[Any] = collections.deque()
        self._thread = QThread()
        self._thread.setObjectName("xlbatch-controller")
        self.controller = BatchController(spec, self.token, self._events, pools, prestart)
        self.controller.moveToThread(self._thread)
        self._thread.started.connect(self.controller.work)
        # Direct: the thread's loop ends right after work() returns, without waiting for the GUI.
        self.controller.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self.controller.finished.connect(self.controller.deleteLater)
        self.controller.failed.connect(self._on_failed)
        self.controller.finished.connect(self._on_finished)  # queued: self lives on the GUI thread
        self._thread.finished.connect(self._thread.deleteLater)

    def start(self) -> None:
        self._thread.start()

    def take_events(self) -> list[Any]:
        """Every marker and event queued so far, oldest first (GUI thread)."""
        events: list[Any] = []
        pop = self._events.popleft
        try:
            while True:
                events.append(pop())
        except IndexError:
            return events

    def stop(self, mode: str) -> None:
        """Ask the runner to stop: 'finish' (running files finish, no new ones) or 'now'."""
        self.token.cancel(mode)

    @property
    def cancel_mode(self) -> str | None:
        return self.token.mode

    @property
    def running(self) -> bool:
        return not self.done

    def join(self, timeout_ms: int = 30_000) -> bool:
        """Stop the thread and wait for it; True if it ended (call after `stop(NOW)` to be quick)."""
        thread = self._thread
        if not shiboken6.isValid(thread):
            return True  # already finished and deleted
        thread.quit()  # harmless while work() runs: the loop ends once work() returns
        return thread.wait(timeout_ms)

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        self.error = text

    @Slot(object)
    def _on_finished(self, report: Any) -> None:
        self.report = report
        self.done = True
        self.finished.emit(report)
