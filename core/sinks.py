"""Where a running batch's events and outcomes go: the caller's listener, the report's notices, the journal.

    EventSink     the caller's `on_event`, guarded (a listener that raises does not lose the batch), and
                  every notice, kept in order for the report
    OutcomeSink   every file's outcome, settled exactly once: an ok file is recorded in the journal (for
                  --resume and the cache), then the listener gets FileFinished. It holds the journal: it
                  opens it (the entries earlier runs left), writes it, records the last batch outputs for
                  the cache, and closes it; nothing else in a run touches the journal.

The runner settles the files it skips; the supervisor settles the files it runs; both through the same
`OutcomeSink.finish`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from xlbatch import errors
from xlbatch.cache import kept_reduce_outputs, reduce_key, remember_reduce
from xlbatch.errors import FileError
from xlbatch.events import Event, FileFinished, Notice
from xlbatch.journal import Entry, Journal, file_hash
from xlbatch.outcome import CANCELLED, FAILED, OK, FileOutcome
from xlbatch.worker import WorkFile

if TYPE_CHECKING:
    from xlbatch.plan import Plan

# A listener that keeps failing is reported this many times, not once per event.
MAX_LISTENER_ERRORS = 3


class EventSink:
    """Delivers a batch's events on the thread that runs it, and keeps its notices for the report."""

    def __init__(self, on_event: Callable[[Event], None] | None) -> None:
        self._on_event = on_event
        self.notices: list[str] = []  # every notice of the batch, in order
        self.listener_errors: list[str] = []  # the first failures of `on_event`: reported, never raised

    def emit(self, event: Event) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception as exc:  # noqa: BLE001 - a broken listener must not lose the batch
            if len(self.listener_errors) < MAX_LISTENER_ERRORS:
                self.listener_errors.append(f"event listener failed: {exc!r}")

    def notice(self, message: str, level: str = "info") -> None:
        self.notices.append(message)
        self.emit(Notice(level, message))


class OutcomeSink:
    """Every file's outcome lands here once, as it settles. Opening it opens the batch's journal."""

    def __init__(self, plan: Plan, events: EventSink) -> None:
        spec = plan.spec
        self.events = events
        self.results: dict[int, FileOutcome] = {}  # by file index; the first outcome of a file stands
        self.key = plan.result_key  # the task, its version and parameters: what a journal line holds for
        self.cache = spec.cache  # also record each file's SHA-256, and the batch outputs
        # One journal serves both --resume and the cache: what finished, with which task, settings and content.
        self.journal = Journal(plan.out_dir, spec.cache_dir if spec.cache else None)
        self._recording = True  # False once a line could not be written: the batch goes on without
        remember = spec.resume or spec.cache
        evicted = self.journal.start(keep=remember, max_bytes=spec.cache_max_mb * 2**20 if spec.cache else None)
        self.previous: dict[str, Entry] = self.journal.entries() if remember else {}  # by path
        if evicted:
            events.notice(f"The cache was over its size limit: forgot the {len(evicted)} oldest file result(s).")

    def settled(self, index: int) -> bool:
        return index in self.results

    def finish(self, outcome: FileOutcome, record: bool = True) -> None:
        """Settle one file; `record=False` for an outcome taken from the journal (it is there already)."""
        if outcome.index in self.results:
            return  # already settled (a late result of an abandoned thread, or a duplicate message)
        self.results[outcome.index] = outcome
        if record and self._recording and outcome.status == OK:
            try:
                digest = file_hash(outcome.path) if self.cache else None
                self.journal.record(outcome, self.key.task, self.key.version, self.key.params, digest)
            except OSError as exc:  # the batch goes on; only a later resume would redo this file
                self.events.notice(f"Could not record progress for resuming: {exc}", "warning")
                self._recording = False
        self.events.emit(FileFinished(outcome.index, outcome.path, outcome))

    def settle_unfinished(self, work: list[WorkFile], cancelled: bool) -> None:
        """Every file accounted for, whatever happened to the run: one still without an outcome was
        cancelled before it ran, or else lost with its worker."""
        for item in work:
            if item.index in self.results:
                continue
            if cancelled:
                self.finish(cancelled_before_running(item))
            else:
                error = FileError(
                    errors.CRASHED, "The file was not processed because its worker was lost.", "no outcome recorded"
                )
                self.finish(FileOutcome(item.index, item.path, FAILED, error=error, attempts=item.attempt))

    def outcomes(self, count: int) -> list[FileOutcome]:
        """The outcomes of files 0..count-1, in the batch's order (every one is settled by now)."""
        return [self.results[i] for i in range(count)]

    def close(self) -> None:
        """No more files run: the journal is forced to the disk and closed."""
        self.journal.close()

    # -- batch outputs (the cache keeps them while nothing they depend on changed) ----------------
    def batch_key(self, outcomes: list[FileOutcome]) -> str:
        """What the batch outputs depend on; "" without the cache (nothing is kept)."""
        return reduce_key(self.key, outcomes) if self.cache else ""

    def kept_batch_outputs(self, key: str) -> list[str] | None:
        return kept_reduce_outputs(self.journal, key) if self.cache else None

    def remember_batch_outputs(self, key: str, outputs: list[str]) -> None:
        if self.cache:
            remember_reduce(self.journal, key, outputs)


def cancelled_before_running(work: WorkFile) -> FileOutcome:
    return FileOutcome(work.index, work.path, CANCELLED, reason="cancelled before it ran", attempts=work.attempt)
