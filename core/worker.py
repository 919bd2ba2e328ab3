"""The code that runs inside a worker (process, thread or the caller's own thread) for one work item.

A work item is a task class, its checked parameters and one or more files (small files travel together
to save per-task overhead). For each file the worker sends `started`, `progress`, `output` (just before
each output is put in place) and `done` messages over the batch's channel (tagged with the batch: a warm
pool's channel outlives one batch), then returns every outcome. The `done` messages let the parent keep
the results of a chunk's finished files even if the worker dies on a later file; the `output` messages
let it remove what a worker that died before `done` had already put in place.

Under `spawn` this module is imported fresh in every worker process: keep its imports light.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlbatch.errors import CONTROL_EXCEPTIONS, Cancelled, FileError, TaskFailure, classify
from xlbatch.file_notes import warnings_to
from xlbatch.outcome import CANCELLED, FAILED, OK, FileOutcome
from xlbatch.preflight import sniff
from xlbatch.sheet_findings import formula_warning
from xlbatch.verify import verify_outputs

Message = tuple[Any, ...]
Send = Callable[[Message], None]


@dataclass(frozen=True)
class WorkFile:
    index: int
    path: str
    rel: str
    attempt: int = 1
    stem: str = ""  # the name its outputs take when another input's would clash (Discovery.output_stems)


@dataclass(frozen=True)
class WorkItem:
    task: type  # a xlbatch.tasks.base.Task subclass, pickled by reference
    params: dict[str, Any]
    files: tuple[WorkFile, ...]
    out_dir: str
    inputs: frozenset[str]
    timeout: float | None = None
    batch: str = ""  # tags the item's messages: a warm pool's channel outlives one batch
    verify: bool = True  # read every output back and compare it with what was written (xlbatch.verify)


def warm_up() -> int:
    """Run in each worker of a pool kept warm: pay the imports now, not at the first file."""
    import xlbatch.tasks  # noqa: F401 - every built-in task and the readers they use
    import xlbatch.workbook  # noqa: F401

    return os.getpid()


def worker_name() -> str:
    thread = threading.current_thread()
    if thread is threading.main_thread():
        return f"pid {os.getpid()}"
    return f"pid {os.getpid()} {thread.name}"


def process_file(work: WorkFile, item: WorkItem, send: Send, should_stop: Callable[[], bool] | None) -> FileOutcome:
    """Run the task on one file; never raises (every failure becomes an outcome)."""
    from xlbatch.tasks.base import FileContext

    start = time.perf_counter()
    send(("started", item.batch, work.index, os.getpid(), worker_name()))
    deadline = time.monotonic() + item.timeout if item.timeout else None
    ctx: FileContext | None = None
    try:
        source = sniff(work.path, work.rel)
        ctx = FileContext(
            source,
            item.out_dir,
            item.inputs,
            report=lambda fraction, message: send(("progress", item.batch, work.index, fraction, message)),
            deadline=deadline,
            should_stop=should_stop,
            verify=item.verify,
            output_stem=work.stem or None,
            # Before each output is put in place: should the worker die before `done`, the parent removes it.
            on_commit=lambda target, identity: send(("output", item.batch, work.index, str(target), identity)),
        )
        if work.stem:
            ctx.warn(
                f"Another input in this folder has the same name; this file's outputs are named '{work.stem}' "
                "so that neither overwrites the other."
            )
        if source.format in ("xlsx", "xlsm") and getattr(item.task, "reads_values", True):
            missing = sum(sheet.findings.formulas_without_values for sheet in source.extents)
            if missing:
                ctx.warn(formula_warning(missing))
        with warnings_to(ctx.warn):  # what readers notice below the task reaches this file's warnings
            result = item.task().process(source, item.params, ctx)
            verify_outputs(ctx)  # before the file counts as done; raises TaskFailure when an output differs
        outcome = FileOutcome(
            work.index,
            work.path,
            OK,
            time.perf_counter() - start,
            list(ctx.outputs),
            list(ctx.warnings),
            None,
            result or {},
            attempts=work.attempt,
        )
    except Cancelled:
        _discard_outputs(ctx)
        outcome = FileOutcome(
            work.index,
            work.path,
            CANCELLED,
            time.perf_counter() - start,
            reason="stopped by the user",
            attempts=work.attempt,
        )
    except CONTROL_EXCEPTIONS:
        _discard_outputs(ctx)
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure of one file becomes that file's error row,
        # including what native readers raise outside Exception (pyo3's PanicException)
        _discard_outputs(ctx)
        error = classify(exc)
        if error.kind == "task_error" and not isinstance(exc, TaskFailure):  # unexpected: keep the traceback
            error = FileError(error.kind, error.message, traceback.format_exc(limit=8))
        outcome = FileOutcome(
            work.index,
            work.path,
            FAILED,
            time.perf_counter() - start,
            warnings=list(ctx.warnings) if ctx else [],
            error=error,
            attempts=work.attempt,
        )
    send(("done", item.batch, work.index, outcome))
    return outcome


def _discard_outputs(ctx: Any) -> None:
    """A file that failed half-way leaves none of its outputs behind."""
    if ctx is None:
        return
    for output in ctx.outputs:
        with contextlib.suppress(OSError):
            Path(output).unlink()
    ctx.outputs.clear()


def run_item(item: WorkItem, send: Send, should_stop: Callable[[], bool] | None = None) -> list[FileOutcome]:
    """Process every file of `item` in order; used directly by the thread backends."""
    outcomes: list[FileOutcome] = []
    for work in item.files:
        if should_stop is not None and should_stop():
            break
        outcomes.append(process_file(work, item, send, should_stop))
    return outcomes


# --- process workers -------------------------------------------------------------------------------
# The channel is handed to each worker process once, at start-up (pool initializer), not with every
# item: queues can only be inherited, and this keeps each submitted item small.
_channel: Any = None


def init_process_worker(channel: Any) -> None:
    """Pool initializer: remember the channel; leave Ctrl+C to the parent, which decides what stops; and
    end this worker if the parent dies."""
    global _channel
    _channel = channel
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()


def _exit_with_parent() -> None:
    """A killed parent (kill -9, a crash, Task Manager) must not leave orphaned workers behind: pool
    workers hold their own end of the task pipe, so they would otherwise wait for work forever."""
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)  # None in workers not started by multiprocessing (loky)
    if sentinel is None or getattr(_exit_with_parent, "started", False):
        return
    _exit_with_parent.started = True  # type: ignore[attr-defined]

    def watch() -> None:
        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="xlbatch-parent-watch", daemon=True).start()


def _send_to_channel(message: Message) -> None:
    if _channel is not None:
        _channel.put(message)


def run_item_in_process(item: WorkItem) -> list[FileOutcome]:
    """Entry point for ProcessPoolExecutor and multiprocessing.Pool workers."""
    return run_item(item, _send_to_channel)


def run_item_with_channel(item: WorkItem, channel: Any) -> list[FileOutcome]:
    """Entry point for joblib workers, which get no initializer: the channel travels with the item."""
    init_process_worker(channel)
    return run_item(item, _send_to_channel)

