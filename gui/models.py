"""The window's table state: the batch's files and the error rows, as QAbstractTableModels.

Both models are fed in batches: the window collects the runner's events and hands them over about ten
times a second; `FilesModel.apply()` updates its rows in one pass and announces the changed rows as a
few `dataChanged` ranges (status and time columns only), never one repaint per event. That is what
keeps a 10,000-file batch smooth. The models hold no widgets and are tested on their own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from xlbatch.errors import ADVICE, FileError
from xlbatch.events import Event, FileFinished, FileProgress, FileStarted
from xlbatch.gui.formatting import file_type, format_duration, format_size
from xlbatch.runner import UNCHANGED as UNCHANGED_REASON

# -- the files table --------------------------------------------------------------------------------
COL_NAME, COL_FOLDER, COL_SIZE, COL_TYPE, COL_STATUS, COL_TIME, COL_WORKER = range(7)
FILE_HEADERS = ("Name", "Folder", "Size", "Type", "Status", "Time", "Worker")

READY = "ready"
QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
SKIPPED = "skipped"
UNCHANGED = "unchanged"  # skipped by the engine because nothing changed since its last run
CANCELLED = "cancelled"
STATUS_TEXT = {
    READY: "Ready",
    QUEUED: "Queued",
    RUNNING: "Running",
    DONE: "Done",
    FAILED: "Failed",
    SKIPPED: "Skipped",
    UNCHANGED: "Unchanged",
    CANCELLED: "Cancelled",
}
# A file's outcome status in the engine -> its row status here (a skip for UNCHANGED_REASON is UNCHANGED).
OUTCOME_STATUS = {"ok": DONE, "failed": FAILED, "skipped": SKIPPED, "cancelled": CANCELLED}
FINISHED_STATUSES = frozenset({DONE, FAILED, SKIPPED, UNCHANGED, CANCELLED})
UNCHANGED_TIP = "Not processed again: unchanged since the last run; its earlier results are kept"

# Roles as plain ints: views call data() thousands of times a second, and comparing ints is cheapest.
DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
PathRole = int(Qt.ItemDataRole.UserRole.value) + 1
StatusRole = PathRole + 1
ProgressRole = PathRole + 2
KindRole = PathRole + 3
_FILE_ROLES = frozenset({DISPLAY, TOOLTIP, ALIGN, PathRole, StatusRole, ProgressRole})
ALIGN_LEFT = int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value)
ALIGN_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)

# Past this many separate changed ranges in one pass, one enclosing range is cheaper for the view.
MAX_RANGES = 32

_Index = QModelIndex | QPersistentModelIndex


@dataclass(slots=True)
class FileRow:
    path: str  # absolute, as discovery resolved it: the key that ties events to rows
    name: str
    folder: str
    size: int
    type: str
    size_text: str = ""
    status: str = READY
    fraction: float = 0.0
    note: str = ""  # progress message, error message or skip reason: the status cell's tooltip
    seconds: float | None = None
    started: float | None = None  # time.monotonic() when the file started, while it runs
    skip_reason: str | None = None  # known before the batch (an Excel lock file, a hidden file)
    worker: str = ""  # the worker that ran it, as FileStarted names it ("pid 123", a Dask worker's address)
    # The last outcome in full, for the file's details: error kind and technical text, warnings, outputs.
    kind: str = ""
    detail: str = ""
    warnings: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    def clear_outcome(self) -> None:
        self.kind, self.detail, self.warnings, self.outputs = "", "", (), ()


def worker_text(worker: str) -> str:
    """A worker as the table shows it: a Dask worker by its host:port, others as named ("pid 123")."""
    if "://" in worker:
        return worker.split("://", 1)[1].split(" ", 1)[0]
    return worker


def row_ranges(rows: Iterable[int], max_ranges: int = MAX_RANGES) -> list[tuple[int, int]]:
    """Sorted rows as (first, last) runs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]; capped at `max_ranges`."""
    ordered = sorted(set(rows))
    if not ordered:
        return []
    ranges: list[tuple[int, int]] = []
    first = last = ordered[0]
    for row in ordered[1:]:
        if row == last + 1:
            last = row
        else:
            ranges.append((first, last))
            first = last = row
    ranges.append((first, last))
    if len(ranges) > max_ranges:
        return [(ordered[0], ordered[-1])]
    return ranges


class FilesModel(QAbstractTableModel):
    """The files of the batch: what the user added, then each file's status and time as it runs."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[FileRow] = []
        self._by_path: dict[str, int] = {}
        self._batch_rows: list[int] = []  # batch index (the runner's) -> row here, -1 if none
        self._running: set[int] = set()
        self._total_size = 0

    # -- Qt model interface ----------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FILE_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return FILE_HEADERS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            if section in (COL_SIZE, COL_TIME):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = DISPLAY) -> Any:
        # Called for every visible cell and several roles on each repaint: cheap exits first.
        if role not in _FILE_ROLES or not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == DISPLAY:
            return self.display_text(row, column)
        if role == ALIGN:
            return ALIGN_RIGHT if column in (COL_SIZE, COL_TIME) else ALIGN_LEFT
        if role == TOOLTIP:
            if column == COL_STATUS:
                return row.note or row.skip_reason or STATUS_TEXT[row.status]
            if column in (COL_NAME, COL_FOLDER):
                return row.path
            if column == COL_SIZE:
                return f"{row.size:,} bytes"
            if column == COL_WORKER:
                return row.worker or None
            return None
        if role == PathRole:
            return row.path
        if role == StatusRole:
            return row.status
        return row.fraction  # ProgressRole

    def display_text(self, row: FileRow, column: int) -> str:
        """What a cell shows (also used by the view's delegate, which reads rows directly)."""
        if column == COL_NAME:
            return row.name
        if column == COL_FOLDER:
            return row.folder
        if column == COL_SIZE:
            return row.size_text
        if column == COL_TYPE:
            return row.type
        if column == COL_STATUS:
            if row.status == READY and row.skip_reason:
                return "Will be skipped"
            return STATUS_TEXT[row.status]
        if column == COL_TIME:
            return self._time_text(row)
        if column == COL_WORKER:
            return worker_text(row.worker)
        return ""

    @staticmethod
    def _time_text(row: FileRow) -> str:
        if row.status == RUNNING and row.started is not None:
            return format_duration(time.monotonic() - row.started)
        if row.seconds is not None and row.status in (DONE, FAILED, CANCELLED):
            return format_duration(row.seconds)
        return ""

    # -- the list of files -----------------------------------------------------------------------
    def entries(self) -> list[tuple[str, int, str | None]]:
        """(path, size, skip reason) of every row, as `add_files` takes them (to keep the list)."""
        return [(row.path, row.size, row.skip_reason) for row in self._rows]

    def add_files(self, files: Iterable[tuple[str, int, str | None]]) -> int:
        """Append (path, size, skip_reason) entries not already listed; return how many were added."""
        new: list[FileRow] = []
        seen = set(self._by_path)
        for path, size, skip_reason in files:
            if path in seen:
                continue
            seen.add(path)
            p = Path(path)
            new.append(
                FileRow(path, p.name, str(p.parent), size, file_type(p), format_size(size), skip_reason=skip_reason)
            )
        if not new:
            return 0
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for offset, row in enumerate(new):
            self._by_path[row.path] = first + offset
            self._total_size += row.size
        self._rows.extend(new)
        self.endInsertRows()
        return len(new)

    def remove_rows(self, rows: Iterable[int]) -> int:
        """Remove the given rows (any order); return how many were removed."""
        wanted = sorted({r for r in rows if 0 <= r < len(self._rows)})
        for first, last in reversed(row_ranges(wanted, max_ranges=len(wanted) or 1)):
            self.beginRemoveRows(QModelIndex(), first, last)
            for row in self._rows[first : last + 1]:
                self._total_size -= row.size
            del self._rows[first : last + 1]
            self.endRemoveRows()
        self._reindex()
        return len(wanted)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._by_path.clear()
        self._batch_rows = []
        self._running.clear()
        self._total_size = 0
        self.endResetModel()

    def _reindex(self) -> None:
        self._by_path = {row.path: i for i, row in enumerate(self._rows)}
        self._batch_rows = []
        self._running.clear()

    def paths(self, rows: Iterable[int] | None = None) -> list[str]:
        if rows is None:
            return [row.path for row in self._rows]
        return [self._rows[r].path for r in rows]

    def row_of(self, path: str) -> int:
        return self._by_path.get(path, -1)

    def row(self, row: int) -> FileRow:
        return self._rows[row]

    @property
    def total_size(self) -> int:
        return self._total_size

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_TEXT, 0)
        for row in self._rows:
            counts[row.status] += 1
        return counts

    def rows_with_status(self, status: str) -> list[int]:
        return [i for i, row in enumerate(self._rows) if row.status == status]

    # -- a batch ---------------------------------------------------------------------------------
    def begin_batch(self, batch_paths: Sequence[str], rows: Iterable[int] | None = None) -> list[int]:
        """Tie the runner's batch indexes to rows and mark the batch's rows queued.

        `batch_paths` are the files of the plan in the runner's order; `rows` are the rows the user
        sent (all by default). A sent row the plan left out (it lies inside the output folder) is
        marked skipped with the reason; rows not sent keep their state. Returns rows left out.
        """
        sent = set(range(len(self._rows))) if rows is None else set(rows)
        self._batch_rows = [self._by_path.get(str(p), -1) for p in batch_paths]
        self._running.clear()
        in_batch = {r for r in self._batch_rows if r >= 0}
        left_out = sorted(sent - in_batch)
        for r in in_batch:
            row = self._rows[r]
            row.status, row.fraction, row.note, row.seconds, row.started = QUEUED, 0.0, "", None, None
            row.worker = ""
            row.clear_outcome()
        for r in left_out:
            row = self._rows[r]
            row.status, row.fraction, row.seconds, row.started = SKIPPED, 0.0, None, None
            row.note = "Left out of the batch: it is inside the output folder."
        self._announce(in_batch | set(left_out))
        return left_out

    def apply(self, events: Iterable[Event]) -> int:
        """Apply a batch of runner events in one pass; return how many rows changed."""
        changed: set[int] = set()
        now = time.monotonic()
        batch_rows = self._batch_rows
        for event in events:
            if not isinstance(event, FileStarted | FileProgress | FileFinished):
                continue
            r = batch_rows[event.index] if 0 <= event.index < len(batch_rows) else -1
            if r < 0:
                r = self._by_path.get(event.path, -1)
                if r < 0:
                    continue
            row = self._rows[r]
            if isinstance(event, FileStarted):
                if row.status in FINISHED_STATUSES:
                    continue
                row.status, row.started, row.fraction = RUNNING, now, 0.0
                row.worker = event.worker
                self._running.add(r)
            elif isinstance(event, FileProgress):
                if row.status not in (RUNNING, QUEUED):
                    continue
                if row.status == QUEUED:  # a started event not seen (it came in the same pass)
                    row.status, row.started = RUNNING, now
                    self._running.add(r)
                row.fraction = event.fraction
                row.note = event.message
            else:
                outcome = event.outcome
                row.status = OUTCOME_STATUS.get(outcome.status, FAILED)
                if row.status == SKIPPED and outcome.reason == UNCHANGED_REASON:
                    row.status = UNCHANGED
                row.seconds = outcome.seconds
                row.fraction = 1.0 if row.status == DONE else row.fraction
                row.started = None
                row.warnings, row.outputs = tuple(outcome.warnings), tuple(outcome.outputs)
                row.kind = outcome.error.kind if outcome.error is not None else ""
                row.detail = outcome.error.detail if outcome.error is not None else ""
                if outcome.error is not None:
                    row.note = outcome.error.message
                elif row.status == UNCHANGED:
                    row.note = UNCHANGED_TIP
                elif outcome.reason:
                    row.note = outcome.reason
                elif outcome.warnings:
                    row.note = "; ".join(outcome.warnings)
                else:
                    row.note = ""
                self._running.discard(r)
            changed.add(r)
        self._announce(changed)
        return len(changed)

    def refresh_running(self) -> None:
        """Redraw the time of running files (their elapsed time moves on without events)."""
        for first, last in row_ranges(self._running):
            self.dataChanged.emit(
                self.index(first, COL_TIME), self.index(last, COL_TIME), [Qt.ItemDataRole.DisplayRole]
            )

    def finish_batch(self) -> None:
        """After the batch: a row still queued or running never got an outcome; say so."""
        stale = [i for i, row in enumerate(self._rows) if row.status in (QUEUED, RUNNING)]
        for r in stale:
            row = self._rows[r]
            row.status, row.started = CANCELLED, None
            row.note = row.note or "The batch ended before this file ran."
        self._running.clear()
        self._announce(stale)

    def _announce(self, rows: Iterable[int]) -> None:
        for first, last in row_ranges(rows):
            self.dataChanged.emit(self.index(first, COL_STATUS), self.index(last, COL_WORKER))


# -- the errors table -------------------------------------------------------------------------------
COL_FILE, COL_KIND, COL_MESSAGE, COL_ADVICE = range(4)
ERROR_HEADERS = ("File", "Problem", "What happened", "What to do")

KIND_TITLES = {
    "not_found": "File not found",
    "permission_denied": "No access",
    "not_a_workbook": "Not a workbook",
    "corrupt": "Damaged file",
    "encrypted": "Password-protected",
    "too_large": "Too large",
    "empty": "Empty",
    "unsupported": "Unsupported format",
    "timeout": "Took too long",
    "crashed": "Worker crashed",
    "invalid_params": "Wrong settings",
    "task_error": "Task problem",
}


@dataclass(slots=True)
class ErrorRow:
    path: str
    kind: str
    message: str
    advice: str
    detail: str = ""

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


class ErrorsModel(QAbstractTableModel):
    """One row per failed file: which file, what kind of problem, in plain words, and what to do."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ErrorRow] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(ERROR_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ERROR_HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.name, KIND_TITLES.get(row.kind, row.kind), row.message, row.advice)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == COL_FILE:
                return f"{row.path}\nDouble-click to show it in its folder."
            if column == COL_KIND:
                return row.kind
            if column == COL_MESSAGE:
                return f"{row.message}\n\n{row.detail}" if row.detail else row.message
            return row.advice
        if role == PathRole:
            return row.path
        if role == KindRole:
            return row.kind
        return None

    def add_errors(self, errors: Sequence[tuple[str, FileError]]) -> int:
        """Append one row per (path, error); one insert for the lot."""
        if not errors:
            return 0
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(errors) - 1)
        for path, error in errors:
            self._rows.append(ErrorRow(path, error.kind, error.message, ADVICE.get(error.kind, ""), error.detail))
        self.endInsertRows()
        return len(errors)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self.endResetModel()

    def row(self, row: int) -> ErrorRow:
        return self._rows[row]

    def table(self, rows: Iterable[int] | None = None) -> tuple[list[str], list[list[str]]]:
        """Header and rows for copying and export; the kind code is kept for filtering in Excel."""
        header = ["File", "Folder", "Problem", "Kind", "What happened", "What to do", "Detail"]
        chosen = self._rows if rows is None else [self._rows[r] for r in sorted(set(rows))]
        body = [
            [r.name, os.path.dirname(r.path), KIND_TITLES.get(r.kind, r.kind), r.kind, r.message, r.advice, r.detail]
            for r in chosen
        ]
        return header, body
