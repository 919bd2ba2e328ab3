"""The command line's progress display (`--progress bar`, the default), drawn on stderr with rich.

    BatchStarted  -> one line: the task, the files, how they run and why; the live display starts
    FileStarted   -> the file gets a line of its own under the batch's bar, with its own progress
    FileProgress  -> its line moves; the batch's bar counts finished files plus the running ones' shares
    FileFinished  -> its line goes; a failure is printed above the bar in plain words, and stays
    Notice        -> printed above the bar
    BatchFinished -> the display stops; `summary()` prints a table of the counts, the outputs, the report

The ETA is rich's: the remaining share over the speed measured across the last 30 seconds, so one slow
file does not make it jump. rich draws on Windows consoles too (the legacy console included), honours
NO_COLOR, and on a stream that is not a terminal (a log file, a pipe, a scheduled job) it draws no
animation: the lines above the bar are written as they come, the bar once at the end, and a plain
status line every STATUS_EVERY seconds so a long batch still shows that it moves.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from xlbatch.events import BatchFinished, BatchStarted, Event, FileFinished, FileProgress, FileStarted, Notice

REFRESH_PER_SECOND = 8
STATUS_EVERY = 30.0  # seconds between status lines when the stream is not a terminal
RUNNING_SHOWN = 12  # lines of running files at most; the rest are counted on one line


class _Line:
    """One dim line of text in the live display, taking no room while it is empty."""

    def __init__(self) -> None:
        self.text = ""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.text:
            yield Text(self.text, style="dim")


class BarProgress:
    """Renders a batch's events on `stream`; call `summary(report, report_path)` after the run."""

    def __init__(self, stream: TextIO, console: Console | None = None) -> None:
        # soft_wrap: a long path is not broken over lines in a log; markup off: a file called
        # "[red]x.xlsx" is shown as it is named.
        self.console = console or Console(file=stream, soft_wrap=True, markup=False, highlight=False, emoji=False)
        self.batch = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[failed]}", markup=False, style="red"),
            console=self.console,
        )
        self.files = Progress(
            TextColumn("  {task.description}", markup=False),
            BarColumn(bar_width=20),
            TaskProgressColumn(),
            TextColumn("{task.fields[step]}", markup=False, style="dim"),
            console=self.console,
        )
        self.more = _Line()  # "and 3 more running", or nothing
        self.live = Live(Group(self.batch, self.files, self.more), console=self.console,
                         refresh_per_second=REFRESH_PER_SECOND, transient=False)  # fmt: skip
        self.total = self.done = self.failed = 0
        self._overall: TaskID | None = None
        self._running: dict[int, tuple[TaskID | None, float]] = {}  # index -> (its line, share done)
        self._waiting: list[tuple[int, str]] = []  # running files without a line of their own
        self._last_status = time.monotonic()

    # -- events ------------------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        if isinstance(event, BatchStarted):
            self._start(event)
        elif isinstance(event, FileStarted):
            self._file_started(event.index, event.path)
        elif isinstance(event, FileProgress):
            self._file_progress(event)
        elif isinstance(event, FileFinished):
            self._file_finished(event)
        elif isinstance(event, Notice):
            self.say(f"  {event.message}", style="yellow" if event.level == "warning" else "dim")
        elif isinstance(event, BatchFinished):
            self.stop()

    def _start(self, event: BatchStarted) -> None:
        self.total = event.total
        self.say(
            f"{event.task}: {event.total:,} file(s) on {event.backend} with {event.workers} worker(s) "
            f"({event.backend_reason})"
        )
        self._overall = self.batch.add_task(event.task, total=max(event.total, 1), failed="")
        self.live.start()

    def _file_started(self, index: int, path: str) -> None:
        if len(self._running) - len(self._waiting) < RUNNING_SHOWN:
            line = self.files.add_task(Path(path).name, total=1.0, step="")
            self._running[index] = (line, 0.0)
        else:
            self._running[index] = (None, 0.0)
            self._waiting.append((index, path))
        self._show_waiting()

    def _file_progress(self, event: FileProgress) -> None:
        line, _share = self._running.get(event.index, (None, 0.0))
        share = min(max(event.fraction, 0.0), 1.0)
        self._running[event.index] = (line, share)
        if line is not None:
            self.files.update(line, completed=share, step=event.message)
        self._update_overall()

    def _file_finished(self, event: FileFinished) -> None:
        line, _share = self._running.pop(event.index, (None, 0.0))
        if line is not None:
            self.files.remove_task(line)
        self._waiting = [w for w in self._waiting if w[0] != event.index]
        while self._waiting and len(self._running) - len(self._waiting) < RUNNING_SHOWN:
            index, path = self._waiting.pop(0)  # a running file without a line gets the free one
            share = self._running[index][1]
            self._running[index] = (self.files.add_task(Path(path).name, total=1.0, completed=share, step=""), share)
        self._show_waiting()
        self.done += 1
        if event.outcome.status == "failed":
            self.failed += 1
            error = event.outcome.error
            self.say(f"  failed: {event.path}: {error.message if error else ''}", style="red")
        self._update_overall()

    def _show_waiting(self) -> None:
        count = len(self._waiting)
        self.more.text = f"  and {count} more running" if count else ""

    def _update_overall(self) -> None:
        if self._overall is None:
            return
        running = sum(share for _line, share in self._running.values())
        failed = f"{self.failed:,} failed" if self.failed else ""
        self.batch.update(self._overall, completed=self.done + running, failed=failed)
        if not self.console.is_terminal and time.monotonic() - self._last_status >= STATUS_EVERY:
            self._last_status = time.monotonic()
            self.say(f"  {self.done:,} of {self.total:,} files done" + (f", {failed}" if failed else ""))

    # -- output ------------------------------------------------------------------------------------
    def say(self, text: str, style: str | None = None) -> None:
        """A line above the live display (or simply a line, when none is shown)."""
        self.console.print(Text(text, style=style or ""))

    def stop(self) -> None:
        if self._overall is not None:
            self.batch.update(self._overall, completed=self.done)
        for line, _share in self._running.values():
            if line is not None:
                self.files.remove_task(line)
        self._running.clear()
        self._waiting.clear()
        self._show_waiting()
        if self.live.is_started:
            self.live.stop()
            if not self.console.is_terminal:  # rich leaves its last frame without a line end there
                self.console.line()

    def summary(self, report: Any, report_path: str) -> None:
        """The counts as a table, then every output and the report, one line each."""
        self.stop()  # if the batch ended without BatchFinished (an exception)
        counts = report.counts
        title = f"{'Cancelled' if report.cancelled else 'Done'} in {report.seconds:.1f} s"
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
        for name, style in (("ok", "green"), ("failed", "red"), ("skipped", ""), ("cancelled", "yellow")):
            table.add_column(name, justify="right", style=style if counts[name] else "dim")
        table.add_column("total", justify="right")
        table.add_row(*(f"{counts[n]:,}" for n in ("ok", "failed", "skipped", "cancelled", "total")))
        self.console.print(table)
        for output in report.outputs:
            self.say(f"Output: {output}")
        self.say(f"Report: {report_path}")
