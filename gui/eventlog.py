"""The Log tab's lines: runner events (and the window's own actions) as timestamped plain sentences.

Only what a user wants to read later goes in the log: the batch's start with its backend and the reason
it was chosen, notices (a pool replaced, a wait for memory), files that failed or were skipped, and the
end. Per-file progress is not logged: with 10,000 files it would drown everything else.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from xlbatch.events import BatchFinished, BatchStarted, Event, FileFinished, Notice
from xlbatch.executors import BACKEND_TITLES
from xlbatch.gui.formatting import format_duration, plural


def stamp(when: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if when is None else when).strftime("%H:%M:%S")


def line(text: str, when: float | None = None, level: str = "info") -> str:
    mark = "  " if level == "info" else "! "
    return f"{stamp(when)}  {mark}{text}"


def describe(event: Event) -> str | None:
    """The log line for an event, or None for events not worth a line."""
    if isinstance(event, BatchStarted):
        backend = BACKEND_TITLES.get(event.backend, event.backend)
        return line(
            f"Started '{event.task}' on {plural(event.total, 'file')}: {backend}, "
            f"{plural(event.workers, 'worker')}. Why: {event.backend_reason}. Output: {event.out_dir}",
            event.time,
        )
    if isinstance(event, Notice):
        return line(event.message, event.time, event.level)
    if isinstance(event, FileFinished):
        outcome = event.outcome
        name = os.path.basename(event.path)
        if outcome.status == "failed" and outcome.error is not None:
            return line(f"Failed: {name}: {outcome.error.message} [{outcome.error.kind}]", event.time, "warning")
        if outcome.status == "skipped":
            return line(f"Skipped: {name}: {outcome.reason or 'not processed'}", event.time)
        for warning in outcome.warnings[:1]:
            return line(f"Warning: {name}: {warning}", event.time, "warning")
        return None
    if isinstance(event, BatchFinished):
        report = event.report
        counts = report.counts
        parts = [f"{counts['ok']:,} done", f"{counts['failed']:,} failed", f"{counts['skipped']:,} skipped"]
        if counts["cancelled"]:
            parts.append(f"{counts['cancelled']:,} cancelled")
        state = "Cancelled" if report.cancelled else "Finished"
        return line(f"{state} after {format_duration(report.seconds)}: {', '.join(parts)}.", event.time)
    return None
