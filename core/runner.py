"""Running a batch: plan it, run every file on the chosen backend, reduce, report.

    BatchSpec ─► plan_batch() ─► Plan ─► run_batch() ─► Report (+ report.json)
                 task + params checked,     │ supervisor loop (this thread):
                 files discovered,          │   submit work items (at most `workers` in flight)
                 backend chosen             │   drain worker messages -> FileStarted/FileProgress
                                            │   collect outcomes      -> FileFinished
                                            │   enforce time limits, cancel requests, memory guard
                                            │   replace a broken pool, re-run innocents, find the culprit
                                            ▼
                                   task.reduce() in the parent ─► batch outputs

Every file the user gave ends with exactly one outcome, whatever happens to the pool. Events are
delivered on the calling thread through `on_event`; `iter_events()` runs the batch on a background
thread and yields them instead. The loop itself is in `xlbatch.supervisor`; what a run may skip
(--resume, the cache) is decided in `xlbatch.cache`.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.atomic import remove_stale_temp_files
from xlbatch.cache import kept_reduce_outputs, reduce_key, remember_reduce, still_done, still_unchanged
from xlbatch.cancel import NOW, CancelToken
from xlbatch.discovery import Discovery, discover
from xlbatch.errors import FileError
from xlbatch.events import BatchFinished, BatchStarted, Event, FileQueued
from xlbatch.executors import BACKENDS, Choice, available_backends
from xlbatch.executors.choice import decide
from xlbatch.executors.pools import PoolCache
from xlbatch.journal import Journal
from xlbatch.outcome import FAILED, OK, SKIPPED, FileOutcome
from xlbatch.params import InvalidParams
from xlbatch.report import Report
from xlbatch.supervisor import Supervisor
from xlbatch.tasks import OutputFolder, Task, get_task, load_plugins
from xlbatch.verify import verify_batch_outputs
from xlbatch.worker import WorkFile

DEFAULT_OUT_DIR = "xlbatch-output"
UNCHANGED = "unchanged"  # the reason a cached file is skipped
REPORT_NAME = "report.json"
# Below this much free memory, no new file is started until some is freed.
DEFAULT_MEMORY_FLOOR_MB = 400


@dataclass
class BatchSpec:
    """Everything that defines a batch; what the GUI builds and a recipe stores."""

    task: str
    paths: list[str]
    out_dir: str = DEFAULT_OUT_DIR
    params: dict[str, Any] = field(default_factory=dict)
    backend: str = "auto"
    workers: int | None = None
    timeout: float | None = None
    retries: int = 0
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    report_path: str | None = None  # default: OUT_DIR/report.json; "" = do not write
    memory_floor_mb: float = DEFAULT_MEMORY_FLOOR_MB
    resume: bool = False  # keep files finished by an interrupted run of the same batch
    cache: bool = False  # skip files unchanged since a successful run into the same output folder
    force: bool = False  # with cache: process every file again
    cache_dir: str | None = None  # where journals live; None: in the output folder
    cache_max_mb: float = 1024
    max_workers: int | None = None  # an upper limit for the automatic worker count (from settings)
    verify: bool = True  # read every output back and compare it with what was written (xlbatch.verify)


@dataclass
class Plan:
    spec: BatchSpec
    task: type[Task]
    params: dict[str, Any]
    discovery: Discovery
    choice: Choice
    out_dir: Path

    @property
    def runnable(self) -> list[tuple[int, Any]]:
        return [(i, f) for i, f in enumerate(self.discovery.files) if f.skip_reason is None and not f.missing]


def plan_batch(spec: BatchSpec, pools: PoolCache | None = None) -> Plan:
    """Check everything that can be checked before any file runs; raise InvalidParams if not valid.

    With `pools`, `auto` knows whether a warm process pool is waiting (then small batches are worth it)."""
    load_plugins()
    task = get_task(spec.task)
    params = task.validate(spec.params)
    if spec.backend not in BACKENDS:
        raise InvalidParams(f"Unknown backend '{spec.backend}'; choose one of {', '.join(BACKENDS)}.", "backend")
    if spec.backend not in available_backends():
        raise InvalidParams(f"The backend '{spec.backend}' is not available in this version of the program.", "backend")
    if spec.workers is not None and spec.workers < 1:
        raise InvalidParams(f"Workers must be at least 1 (got {spec.workers}).", "workers")
    if spec.timeout is not None and spec.timeout <= 0:
        raise InvalidParams(f"The per-file time limit must be more than 0 seconds (got {spec.timeout:g}).", "timeout")
    if spec.retries < 0:
        raise InvalidParams(f"Retries cannot be negative (got {spec.retries}).", "retries")
    if not spec.paths:
        raise InvalidParams("No input files or folders were given.", "paths")
    out_dir = Path(spec.out_dir).expanduser().resolve()
    for raw in spec.paths:
        given = Path(raw).expanduser()
        if given.is_dir() and given.resolve() == out_dir:
            raise InvalidParams(
                "The output folder is one of the input folders; choose a separate output folder.", "out_dir"
            )
        if given.is_file() and given.resolve() == out_dir:
            raise InvalidParams("The output folder is an input file; choose a folder for the outputs.", "out_dir")
    discovery = discover(spec.paths, spec.include, spec.exclude, out_dir)
    runnable = [f for f in discovery.files if f.skip_reason is None and not f.missing]
    sizes = []
    for f in runnable:
        try:
            sizes.append(f.path.stat().st_size)
        except OSError:
            sizes.append(0)
    pool_ready = None if pools is None else (lambda count: pools.warm("processes", count))
    choice = decide(
        task.kind,
        sizes,
        spec.backend,
        spec.workers,
        max_workers=spec.max_workers,
        warm_pool=pool_ready,
        available=available_backends(),
        cost=task.work_cost(params),
    )
    return Plan(spec, task, params, discovery, choice, out_dir)


def run_plan(
    plan: Plan,
    on_event: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    pools: PoolCache | None = None,
) -> Report:
    """Run a checked plan to the end and return its report (also written as report.json)."""
    cancel = cancel or CancelToken()
    spec = plan.spec
    callback_errors: list[str] = []

    def emit(event: Event) -> None:
        if on_event is None:
            return
        try:
            on_event(event)
        except Exception as exc:  # noqa: BLE001 - a broken listener must not lose the batch
            if len(callback_errors) < 3:
                callback_errors.append(f"event listener failed: {exc!r}")

    started = time.time()
    out_dir = plan.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    stale = remove_stale_temp_files(out_dir)
    files = plan.discovery.files
    emit(
        BatchStarted(
            plan.task.name, plan.choice.backend, plan.choice.reason, plan.choice.workers, len(files), str(out_dir)
        )
    )
    supervisor = Supervisor(plan, emit, cancel)
    supervisor.pools = pools
    supervisor.suspects, supervisor.requeue = [], []
    if stale:
        supervisor.notice(f"Removed {len(stale)} unfinished temporary file(s) left by an earlier run.")
    # One journal serves both --resume and the cache: what finished, with which task, settings and content.
    journal = Journal(out_dir, spec.cache_dir if spec.cache else None)
    remember = spec.resume or spec.cache
    evicted = journal.start(keep=remember, max_bytes=spec.cache_max_mb * 2**20 if spec.cache else None)
    previous = journal.entries() if remember else {}
    if evicted:
        supervisor.notice(f"The cache was over its size limit: forgot the {len(evicted)} oldest file result(s).")
    supervisor.journal = journal
    supervisor.hash_inputs = spec.cache
    resumed = skipped_unchanged = 0
    work: list[WorkFile] = []
    stems = plan.discovery.output_stems()
    for index, found in enumerate(files):
        emit(FileQueued(index, str(found.path)))
        earlier = previous.get(str(found.path))
        if earlier is not None and spec.resume and still_done(earlier, plan, supervisor.params_key):
            resumed += 1
            reused = dataclasses.replace(earlier.outcome, index=index, reason="done in an earlier run (resumed)")
            supervisor.finish(reused, record=False)
            continue
        if (
            earlier is not None
            and spec.cache
            and not spec.force
            and still_unchanged(earlier, plan, supervisor.params_key)
        ):
            skipped_unchanged += 1
            reused = dataclasses.replace(earlier.outcome, index=index, status=SKIPPED, reason=UNCHANGED, seconds=0.0)
            supervisor.finish(reused, record=False)
            continue
        if found.missing:
            supervisor.finish(
                FileOutcome(
                    index,
                    str(found.path),
                    FAILED,
                    error=FileError(
                        errors.NOT_FOUND,
                        "The file could not be found; it may have been moved or deleted.",
                        str(found.path),
                    ),
                )
            )
        elif found.skip_reason is not None:
            supervisor.finish(FileOutcome(index, str(found.path), SKIPPED, reason=found.skip_reason))
        else:
            work.append(WorkFile(index, str(found.path), found.rel, stem=stems.get(found.rel, "")))
    if resumed:
        supervisor.notice(f"Resuming: {resumed} file(s) finished by the interrupted run were kept.")
    if skipped_unchanged:
        supervisor.notice(
            f"{skipped_unchanged} file(s) unchanged since the last run were not processed again "
            "(their earlier results and outputs are kept)."
        )
    try:
        if work and not cancel.requested:
            supervisor.run(work)
    except errors.CONTROL_EXCEPTIONS:
        raise
    except BaseException as exc:  # noqa: BLE001 - a fault of the engine must not lose the files already done
        supervisor.notice(
            "The batch stopped early because of an internal error; files not yet processed are listed as "
            f"failed and the report was written ({type(exc).__name__}: {exc}).",
            "warning",
        )
    finally:
        journal.close()
    for item in work:  # every file accounted for, whatever happened
        if item.index not in supervisor.results:
            if cancel.requested:
                supervisor.cancelled(item)
            else:
                supervisor.fail(
                    item,
                    FileError(
                        errors.CRASHED, "The file was not processed because its worker was lost.", "no outcome recorded"
                    ),
                )
    outcomes = [supervisor.results[i] for i in range(len(files))]
    out = OutputFolder(out_dir, frozenset(str(f.path) for f in files), keep_intermediate=spec.cache, verify=spec.verify)
    # Reduce steps include unchanged files from their cached results, as if they had just run.
    reducible = [dataclasses.replace(o, status=OK) if o.reason == UNCHANGED else o for o in outcomes]
    batch_key = reduce_key(plan, supervisor.params_key, reducible) if spec.cache else ""
    kept = kept_reduce_outputs(journal, batch_key) if spec.cache and not spec.force else None
    if kept is not None:
        out.outputs.extend(kept)  # nothing changed since these were written: keep them
    elif cancel.mode != NOW and any(o.status == OK for o in reducible):
        try:
            plan.task().reduce(reducible, plan.params, out)
            for problem in verify_batch_outputs(out):
                supervisor.notice(problem, "warning")
            if spec.cache:
                remember_reduce(journal, batch_key, out.outputs)
        except errors.CONTROL_EXCEPTIONS:
            raise
        except BaseException as exc:  # noqa: BLE001 - a failed reduce is reported, the per-file work is kept
            supervisor.notice(f"The combined output could not be written: {errors.classify(exc).message}", "warning")
    for warning in out.warnings:
        supervisor.notice(warning, "warning")
    remove_stale_temp_files(out_dir)
    for message in callback_errors:
        supervisor.notices.append(message)
    report = Report(
        task=plan.task.name,
        params=plan.params,
        backend=plan.choice.backend,
        backend_reason=plan.choice.reason,
        workers=plan.choice.workers,
        started=started,
        finished=time.time(),
        files=outcomes,
        outputs=list(out.outputs),
        out_dir=str(out_dir),
        cancelled=cancel.requested,
        notices=supervisor.notices,
    )
    if spec.report_path != "":
        report_path = Path(spec.report_path) if spec.report_path else out_dir / REPORT_NAME
        try:
            report.write(report_path)
        except OSError as exc:
            report.notices.append(f"The report could not be written to {report_path}: {exc}")
    emit(BatchFinished(report))
    return report


def run_batch(
    spec: BatchSpec | None = None,
    *,
    on_event: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    **fields: Any,
) -> Report:
    """Run a batch and return its report. Pass a BatchSpec, or its fields as keywords:

        report = run_batch(task="summarize", paths=["./in"], out_dir="./out", backend="processes")

    Raises InvalidParams (nothing run) for an unknown task or bad parameters.
    """
    if spec is None:
        spec = BatchSpec(**fields)
    elif fields:
        raise TypeError("pass either a BatchSpec or keyword fields, not both")
    return run_plan(plan_batch(spec), on_event, cancel)


_END = object()


def iter_events(spec: BatchSpec, cancel: CancelToken | None = None) -> Iterator[Event]:
    """Run the batch on a background thread and yield its events as they happen (BatchFinished last)."""
    plan = plan_batch(spec)
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run_plan(plan, events.put, cancel)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer's thread
            failure.append(exc)
        finally:
            events.put(_END)

    thread = threading.Thread(target=work, name="xlbatch-batch", daemon=True)
    thread.start()
    while (event := events.get()) is not _END:
        yield event
    thread.join()
    if failure:
        raise failure[0]
