"""The batch report: what ran, how, and what happened to every file, as `report.json` (schema 1).

The schema is a contract other programs rely on; `Report.to_dict()` is the one place that shapes it.
For the Python API the report also speaks pandas (imported only when asked): `to_frame()` is one row per
file, and `tables` the batch outputs' tables as DataFrames (`report.tables["Files"]`), as the task's
reduce step wrote them (xlbatch.tables); neither is part of report.json.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xlbatch.outcome import CANCELLED, FAILED, OK, SKIPPED, FileOutcome
from xlbatch.tables import Table, Tables

# The columns of to_frame(), one row per file.
FRAME_COLUMNS = ("path", "status", "seconds", "error_kind", "message", "warnings")

SCHEMA = 1


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


@dataclass
class Report:
    task: str
    params: dict[str, Any]
    backend: str
    backend_reason: str
    workers: int
    started: float
    finished: float
    files: list[FileOutcome]
    outputs: list[str] = field(default_factory=list)
    out_dir: str = ""
    cancelled: bool = False
    notices: list[str] = field(default_factory=list)
    table_data: dict[str, Table] = field(default_factory=dict, repr=False)  # the batch outputs' tables
    _tables: Tables | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def tables(self) -> Tables:
        """The batch outputs' tables by name, each a pandas DataFrame built on first use: summarize's "Files",
        "Sheets", "Columns"; combine's "Combined"; extract's "Extracted"; validate's "Exceptions" and
        "Summary"; the python task's "Results" and "Combined". Empty when the batch did not keep them."""
        if self._tables is None:
            self._tables = Tables(self.table_data)
        return self._tables

    def to_frame(self) -> Any:
        """One row per file, as a pandas DataFrame: path, status, seconds, error kind, message and how many
        warnings (the message is the error's, or why the file was skipped)."""
        import pandas as pd

        rows = [
            (
                f.path,
                f.status,
                f.seconds,
                f.error.kind if f.error else None,
                f.error.message if f.error else f.reason,
                len(f.warnings),
            )
            for f in self.files
        ]
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS)).astype({"seconds": "float64", "warnings": "int64"})

    @property
    def seconds(self) -> float:
        return max(0.0, self.finished - self.started)

    @property
    def counts(self) -> dict[str, int]:
        statuses = [f.status for f in self.files]
        return {
            "total": len(statuses),
            "ok": statuses.count(OK),
            "failed": statuses.count(FAILED),
            "skipped": statuses.count(SKIPPED),
            "cancelled": statuses.count(CANCELLED),
        }

    @property
    def exit_code(self) -> int:
        """0 all ok or skipped; 1 at least one failed, or left unfinished without the user asking (a
        cluster's scheduler went away); 130 cancelled by the user."""
        if self.cancelled:
            return 130
        return 1 if self.counts["failed"] or self.counts["cancelled"] else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "task": self.task,
            "params": self.params,
            "backend": self.backend,
            "backend_reason": self.backend_reason,
            "workers": self.workers,
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "out_dir": self.out_dir,
            "counts": self.counts,
            "outputs": list(self.outputs),
            "notices": list(self.notices),
            "files": [f.to_dict() for f in self.files],
        }

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write report.json atomically (a reader never sees half a report)."""
        from xlbatch.atomic import atomic_path

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        return target
