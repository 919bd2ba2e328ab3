"""Running a batch from the window: start it, apply the runner's events to the tables, the progress and
the log, cancel it, retry its failures, and show how it ended.

The batch itself runs on the controller thread (`xlbatch.gui.controller.BatchRun`). Its events are queued there
and applied here every PUMP_MS in one pass, which keeps the window responsive with 10,000 files: the
file rows, the error rows, the progress bar and the log get one update each per tick. The plan's verdict
comes first: `Planned` ties the files to their rows, `Refused` is shown at the setting it names.

The session works on the window's models and parts through their own methods, and tells the window
through signals when what can be done changed (`stateChanged`) and when a batch ended (`finished`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from xlbatch.cancel import FINISH, NOW
from xlbatch.events import BatchStarted, Event, FileFinished
from xlbatch.gui import desktop, dialogs, eventlog
from xlbatch.gui.controller import BatchRun, Planned, Refused
from xlbatch.gui.formatting import plural
from xlbatch.gui.models import RUNNING
from xlbatch.gui.progress_panel import main_table
from xlbatch.plan import BatchSpec, Plan
from xlbatch.report import Report
from xlbatch.runner import REPORT_NAME
from xlbatch.tasks import TASKS

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow

PUMP_MS = 100  # how often the runner's events are applied to the window


class BatchSession(QObject):
    """The window's current (or last) batch: `run`, and the last batch's spec and report."""

    started = Signal()
    finished = Signal(object)  # report.to_dict()
    # Every batch's end, last: the Report, or None if it was refused (`refused`) or the runner broke.
    ended = Signal(object)
    stateChanged = Signal()  # started, cancelling, ended: what can be done changed

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.run: BatchRun | None = None
        self.last_spec: BatchSpec | None = None
        self.last_report: dict[str, Any] | None = None
        self.last_report_path: str | None = None
        self._rows: list[int] | None = None  # rows a retry sends (None: all)
        self._refused: Refused | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(PUMP_MS)
        self._timer.timeout.connect(self._pump)

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.running

    @property
    def refused(self) -> str | None:
        """Why the engine refused the last batch (nothing ran), or None."""
        return self._refused.message if self._refused is not None else None

    def start(self, spec: BatchSpec, rows: list[int] | None = None) -> None:
        """Run `spec` (for a retry, `rows` are the file rows it runs)."""
        w = self.window
        w.warm_pool.cancel_scheduled()
        self._rows = rows
        self.last_spec = spec
        self.last_report = None
        self.last_report_path = None
        self._refused = None
        w.progress.preparing(len(spec.paths))
        w.summary.hide()
        self.run = BatchRun(spec, w, pools=w.pools, prestart=w.warm_pool.pending)
        self.run.finished.connect(self._on_finished)
        self._timer.start()
        w.log_panel.hold = True  # lines wait for the pump: one append per tick
        self.run.start()
        task = TASKS.get(spec.task)
        title = (task.title or task.name) if task else spec.task
        w.statusBar().showMessage(f"Running '{title}' on {plural(len(spec.paths), 'file')}…")
        self.stateChanged.emit()
        self.started.emit()

    def retry_spec(self) -> tuple[BatchSpec, list[int]] | None:
        """The last batch again for only its failed files, and their rows (None: nothing failed)."""
        if self.last_spec is None or self.last_report is None:
            return None
        failed = [f["path"] for f in self.last_report["files"] if f["status"] == "failed"]
        if not failed:
            return None
        rows = [r for r in (self.window.files.row_of(p) for p in failed) if r >= 0]
        self.window.log_panel.log(f"Retrying {plural(len(failed), 'failed file')}.")
        return dataclasses.replace(self.last_spec, paths=failed), rows

    def retry_file_spec(self, path: str) -> tuple[BatchSpec, list[int]] | None:
        """One file again, processed even if unchanged (force), with the last batch's settings, or the
        window's if there was none; None (after saying why) if those cannot make a batch."""
        spec = self.last_spec or self.window.spec_or_explain("The file cannot be run again")
        if spec is None:
            return None
        self.window.log_panel.log(f"Running {Path(path).name} again.")
        return dataclasses.replace(spec, paths=[path], force=True, resume=False), [self.window.files.row_of(path)]

    def request_cancel(self) -> None:
        """Cancel (Esc): ask whether to finish the running files or stop now."""
        if not self.running or self.run is None:
            return
        mode = self.run.cancel_mode
        if mode == NOW:
            return
        running = len(self.window.files.rows_with_status(RUNNING))
        answer = dialogs.ask_cancel_mode(self.window, running, escalate_only=mode == FINISH)
        if answer is not None:
            self.cancel(answer)

    def cancel(self, mode: str = FINISH) -> None:
        if not self.running or self.run is None:
            return
        w = self.window
        self.run.stop(mode)
        if mode == FINISH:
            w.log_panel.log("Cancel requested: the running files finish, no new file starts.")
            w.progress.show_text("Cancelling: finishing the running files…")
            w.cancel_button.setText("Stop now")
        else:
            w.log_panel.log("Stop requested: stopping the running files now.")
            w.progress.show_text("Stopping…")
        self.stateChanged.emit()

    def stop_now(self) -> None:
        """Stop the running batch now and wait for its thread (the window is closing)."""
        if self.running and self.run is not None:
            self.run.stop(NOW)
            # The runner stops at its next tick and its backend shutdown kills worker processes.
            self.run.join()
        self._timer.stop()

    # -- the runner's events -----------------------------------------------------------------------
    def _pump(self) -> None:
        run = self.run
        if run is None:
            return
        events = run.take_events()
        if events:
            self._apply(events)
        self.window.files.refresh_running()
        if self.window.progress.planned and not run.token.requested:
            self.window.progress.show_rate()
        self.window.log_panel.flush()

    def _apply(self, items: list[Any]) -> None:
        """Apply queued items in order: the plan's verdict first, then the runner's events in one pass."""
        events: list[Event] = []
        for item in items:
            if isinstance(item, Planned | Refused):
                if events:  # never the case today (the verdict comes first), but keep the order
                    self._apply_events(events)
                    events = []
                if isinstance(item, Planned):
                    self._on_planned(item.plan)
                else:
                    self._on_refused(item)
            else:
                events.append(item)
        if events:
            self._apply_events(events)

    def _on_planned(self, plan: Plan) -> None:
        """The batch's files are known: tie them to rows and reset what the last batch showed."""
        w = self.window
        left_out = w.files.begin_batch([str(f.path) for f in plan.discovery.files], self._rows)
        for row in left_out:
            w.log_panel.log(f"Left out: {w.files.row(row).name} is inside the output folder.", "warning")
        w.errors_panel.clear()
        w.progress.planning_done(len(plan.discovery.files))

    def _on_refused(self, refused: Refused) -> None:
        self._refused = refused
        self.window.task_panel.show_param_error(refused.param, refused.message)
        self.window.log_panel.log(f"Not started: {refused.message}", "warning")

    def _apply_events(self, events: list[Event]) -> None:
        w = self.window
        w.files.apply(events)
        new_errors = []
        finished = 0
        for event in events:
            if isinstance(event, FileFinished):
                finished += 1
                if event.outcome.status == "failed" and event.outcome.error is not None:
                    new_errors.append((event.path, event.outcome.error))
            elif isinstance(event, BatchStarted):
                w.progress.set_total(event.total)
            text = eventlog.describe(event)
            if text is not None:
                w.log_panel.append(text)
        if finished:
            w.progress.add_finished(finished)
            w.setWindowTitle(f"xlbatch – {w.progress.finished:,} of {w.progress.total:,}")
        if new_errors:
            w.errors_panel.add_errors(new_errors)
        if finished:
            counts = w.files.status_counts()
            w.progress.show_counts(counts)
            w.files_panel.show_counts(counts)
            w.files_panel.refresh()  # "Showing 3 of 53 files" follows a filter

    # -- the end -----------------------------------------------------------------------------------
    def _on_finished(self, report: Report | None) -> None:
        w = self.window
        run = self.run
        if run is not None:
            events = run.take_events()
            if events:
                self._apply(events)
            run.join(10_000)
        self._timer.stop()
        w.log_panel.hold = False
        w.files.finish_batch()
        w.files_panel.show_counts()
        w.files_panel.refresh()
        w.cancel_button.setText("Cancel")
        w.setWindowTitle("xlbatch")
        if report is None:
            self._did_not_finish(run)
            self.ended.emit(None)
            return
        data = report.to_dict()
        self.last_report = data
        report_path = Path(report.out_dir) / REPORT_NAME
        self.last_report_path = str(report_path) if report_path.exists() else None
        w.progress.show_finished(len(report.files), report.seconds, report.cancelled)
        w.progress.show_counts(w.files.status_counts())
        w.summary.show_report(data)
        w.log_panel.flush()
        self.stateChanged.emit()
        w.statusBar().showMessage("The batch has finished.", 8000)
        self.finished.emit(data)
        self.ended.emit(report)

    def _did_not_finish(self, run: BatchRun | None) -> None:
        w = self.window
        if self._refused is not None:
            # Nothing ran: the rows keep what they showed; say why, where it can be fixed.
            w.progress.reset(keep_counts=True)
            w.statusBar().showMessage("The batch could not start.", 8000)
            w.log_panel.flush()
            self.stateChanged.emit()
            dialogs.show_error(w, "The batch cannot start", self._refused.message)
            return
        error = run.error if run is not None else "unknown error"
        w.log_panel.log(f"The batch stopped because of an internal error:\n{error}", "warning")
        w.progress.show_text("Stopped by an internal error")
        w.summary.show_report(None)
        w.log_panel.flush()
        self.stateChanged.emit()

    # -- its results -------------------------------------------------------------------------------
    def output_folder(self) -> str:
        """The last batch's output folder, else the one the window shows."""
        if self.last_report is not None and self.last_report.get("out_dir"):
            return str(self.last_report["out_dir"])
        return self.window.run_settings.output_text()

    def open_output_folder(self) -> None:
        folder = self.output_folder()
        if folder and Path(folder).is_dir():
            desktop.open_path(folder)
        else:
            self.window.statusBar().showMessage("The output folder does not exist yet.", 5000)

    def open_table(self) -> None:
        """Open the table the last batch wrote (combined.xlsx first; see progress_panel.main_table)."""
        table = main_table(self.last_report)
        if table is not None:
            desktop.open_path(table)

    def show_report(self) -> None:
        if self.last_report is None:
            return
        dialog = dialogs.ReportDialog(self.last_report, self.last_report_path, self.window)
        dialog.exec()
