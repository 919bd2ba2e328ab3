"""Running a batch: plan it, skip what is known, run the rest on the chosen backend, reduce, report.

    run_batch(spec) ─► plan_batch(spec) ─► Plan                                      (xlbatch.plan)
    run_plan(plan):
      prepare_output_folder   the folder made, temporary files of an interrupted run removed, BatchStarted
      OutcomeSink(plan)       the journal opened: what earlier runs finished           (xlbatch.sinks)
      skip_known              decided before anything runs, from the journal and the discovery: files
                              resumed, unchanged (the cache), missing or skipped get their outcome now;
                              the rest is the work list
      queue_files             FileQueued for every file; the known outcomes settled in the sink
      execute                 Supervisor(plan).run(work): each file's outcome to the sink as it settles
                              (the journal, then FileFinished); then every file left without one is
                              accounted for; the journal closed                       (xlbatch.supervisor)
      reduce                  task.reduce() over every outcome in the parent ─► batch outputs (or the
                              cached ones, when nothing they depend on changed)
      write_report            Report, report.json, BatchFinished

Every file the user gave ends with exactly one outcome, whatever happens to the pool. Events are
delivered on the calling thread through `on_event`; `iter_events()` runs the batch on a background
thread and yields them instead. Only the OutcomeSink touches the journal; only `execute` the backend.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.adaptive_run import run_adaptive
from xlbatch.atomic import remove_stale_temp_files
from xlbatch.cache import still_done, still_unchanged
from xlbatch.cancel import NOW, CancelToken
from xlbatch.errors import FileError
from xlbatch.events import BatchFinished, BatchStarted, Event, FileQueued
from xlbatch.executors.choice import Choice, is_adaptive
from xlbatch.executors.pools import PoolCache
from xlbatch.journal import Entry
from xlbatch.outcome import FAILED, OK, SKIPPED, FileOutcome
from xlbatch.plan import BatchSpec, Plan, plan_batch
from xlbatch.report import Report
from xlbatch.sinks import EventSink, OutcomeSink
from xlbatch.supervisor import Supervisor
from xlbatch.tables import Table, tables_from_files
from xlbatch.tasks import OutputFolder
from xlbatch.verify import verify_batch_outputs
from xlbatch.worker import WorkFile

UNCHANGED = "unchanged"  # the reason a cached file is skipped
RESUMED = "done in an earlier run (resumed)"  # the reason of a file kept from an interrupted run
REPORT_NAME = "report.json"


def run_plan(
    plan: Plan,
    on_event: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
    pools: PoolCache | None = None,
) -> Report:
    """Run a checked plan to the end and return its report (also written as report.json)."""
    cancel = cancel or CancelToken()
    events = EventSink(on_event)
    started = time.time()
    prepare_output_folder(plan, events)
    sink = OutcomeSink(plan, events)
    known = skip_known(plan, sink.previous)
    queue_files(plan, known, sink, events)
    ran = execute(plan, known.work, sink, events, cancel, pools)
    outputs, tables = reduce(plan, sink, events, cancel)
    remove_stale_temp_files(plan.out_dir)  # nothing half-written is left, whatever failed above
    outcomes = sink.outcomes(len(plan.discovery.files))
    return write_report(plan, outcomes, outputs, events, started, cancel, tables, ran)


def prepare_output_folder(plan: Plan, events: EventSink) -> None:
    """Make the output folder and clear what an interrupted run left half-written; BatchStarted."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    stale = remove_stale_temp_files(plan.out_dir)
    choice = plan.choice
    events.emit(
        BatchStarted(
            plan.task.name, choice.backend, choice.reason, choice.workers, len(plan.discovery.files), str(plan.out_dir)
        )
    )
    if stale:
        events.notice(f"Removed {len(stale)} unfinished temporary file(s) left by an earlier run.")


@dataclass
class Known:
    """What is decided before anything runs: the files settled without running, and the work list."""

    outcomes: dict[int, FileOutcome] = field(default_factory=dict)  # by file index
    work: list[WorkFile] = field(default_factory=list)  # the files to run, in the batch's order
    resumed: int = 0  # kept from an interrupted run (--resume)
    unchanged: int = 0  # unchanged since a successful run (the cache)


def skip_known(plan: Plan, previous: dict[str, Entry]) -> Known:
    """Sort every file: kept from the journal (resumed, or unchanged for the cache), missing, skipped by
    discovery, or to run. Reads the files' sizes and dates (and hashes for the cache); runs nothing."""
    spec, key = plan.spec, plan.result_key
    stems = plan.discovery.output_stems()
    known = Known()
    for index, found in enumerate(plan.discovery.files):
        path = str(found.path)
        earlier = previous.get(path)
        if earlier is not None and spec.resume and still_done(earlier, key):
            known.resumed += 1
            known.outcomes[index] = dataclasses.replace(earlier.outcome, index=index, reason=RESUMED)
        elif earlier is not None and spec.cache and not spec.force and still_unchanged(earlier, key):
            known.unchanged += 1
            known.outcomes[index] = dataclasses.replace(
                earlier.outcome, index=index, status=SKIPPED, reason=UNCHANGED, seconds=0.0
            )
        elif found.missing:
            error = FileError(errors.NOT_FOUND, "The file could not be found; it may have been moved or deleted.", path)
            known.outcomes[index] = FileOutcome(index, path, FAILED, error=error)
        elif found.skip_reason is not None:
            known.outcomes[index] = FileOutcome(index, path, SKIPPED, reason=found.skip_reason)
        else:
            known.work.append(WorkFile(index, path, found.rel, stem=stems.get(found.rel, "")))
    return known


def queue_files(plan: Plan, known: Known, sink: OutcomeSink, events: EventSink) -> None:
    """FileQueued for every file in order, each known outcome right after its file's (not journaled again)."""
    for index, found in enumerate(plan.discovery.files):
        events.emit(FileQueued(index, str(found.path)))
        outcome = known.outcomes.get(index)
        if outcome is not None:
            sink.finish(outcome, record=False)
    if known.resumed:
        events.notice(f"Resuming: {known.resumed} file(s) finished by the interrupted run were kept.")
    if known.unchanged:
        events.notice(
            f"{known.unchanged} file(s) unchanged since the last run were not processed again "
            "(their earlier results and outputs are kept)."
        )


def execute(
    plan: Plan,
    work: list[WorkFile],
    sink: OutcomeSink,
    events: EventSink,
    cancel: CancelToken,
    pools: PoolCache | None,
) -> Choice:
    """Run the work list on the plan's backend; afterwards every file has its outcome in the sink.
    Returns what ran: the plan's choice, or for `auto` deciding while running, what it decided."""
    ran = plan.choice
    try:
        if work and not cancel.requested:
            if is_adaptive(plan.choice):
                ran = run_adaptive(plan, work, sink, events, cancel, pools)
            else:
                Supervisor(plan, events, sink, cancel, pools).run(work)
    except errors.CONTROL_EXCEPTIONS:
        raise
    except BaseException as exc:  # noqa: BLE001 - a fault of the engine must not lose the files already done
        events.notice(
            "The batch stopped early because of an internal error; files not yet processed are listed as "
            f"failed and the report was written ({type(exc).__name__}: {exc}).",
            "warning",
        )
    finally:
        sink.close()
    sink.settle_unfinished(work, cancelled=cancel.requested)
    return ran


def reduce(plan: Plan, sink: OutcomeSink, events: EventSink, cancel: CancelToken) -> tuple[list[str], dict[str, Table]]:
    """The task's batch outputs (and, when kept, their tables) from every file's outcome; unchanged files
    count as if they had just run."""
    spec = plan.spec
    files = plan.discovery.files
    out = OutputFolder(
        plan.out_dir,
        frozenset(str(f.path) for f in files),
        keep_intermediate=spec.cache,
        verify=spec.verify,
        keep_tables=spec.keep_tables,
    )
    reducible = [dataclasses.replace(o, status=OK) if o.reason == UNCHANGED else o for o in sink.outcomes(len(files))]
    key = sink.batch_key(reducible)
    kept = None if spec.force else sink.kept_batch_outputs(key)
    if kept is not None:
        out.outputs.extend(kept)  # nothing changed since these were written: keep them
        if out.tables is not None:  # their tables, for report.tables, read back from the files
            out.tables.update(tables_from_files(kept))
    elif cancel.mode != NOW and any(o.status == OK for o in reducible):
        try:
            plan.task().reduce(reducible, plan.params, out)
            threads = max(1, min(plan.choice.workers, os.cpu_count() or 1))  # the parent's, not a cluster's
            for problem in verify_batch_outputs(out, threads):
                events.notice(problem, "warning")
            for name, table in list((out.tables or {}).items()):
                if table.output and table.output not in out.outputs:  # removed by the check: no table
                    del out.tables[name]
            sink.remember_batch_outputs(key, out.outputs)
        except errors.CONTROL_EXCEPTIONS:
            raise
        except BaseException as exc:  # noqa: BLE001 - a failed reduce is reported, the per-file work is kept
            if out.tables is not None:
                out.tables.clear()  # half-built tables would be wrong ones
            events.notice(f"The combined output could not be written: {errors.classify(exc).message}", "warning")
    for warning in out.warnings:
        events.notice(warning, "warning")
    return list(out.outputs), dict(out.tables or {})


def write_report(
    plan: Plan,
    outcomes: list[FileOutcome],
    outputs: list[str],
    events: EventSink,
    started: float,
    cancel: CancelToken,
    tables: dict[str, Table] | None = None,
    ran: Choice | None = None,
) -> Report:
    """The report (written as report.json unless the spec says not to); BatchFinished carries it. `ran`:
    what the files ran on, when `auto` decided it while running (else the plan's choice)."""
    ran = ran or plan.choice
    report = Report(
        task=plan.task.name,
        params=plan.task.report_params(plan.params),
        backend=ran.backend,
        backend_reason=ran.reason,
        workers=ran.workers,
        started=started,
        finished=time.time(),
        files=outcomes,
        outputs=outputs,
        out_dir=str(plan.out_dir),
        cancelled=cancel.requested,
        notices=[*events.notices, *events.listener_errors],
        table_data=dict(tables or {}),
    )
    report_path = plan.spec.report_path
    if report_path != "":
        target = Path(report_path) if report_path else plan.out_dir / REPORT_NAME
        try:
            report.write(target)
        except OSError as exc:
            report.notices.append(f"The report could not be written to {target}: {exc}")
    events.emit(BatchFinished(report))
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
