"""The event stream of a batch: plain dataclasses that the CLI, the GUI and scripts all render.

The runner emits, in order for each file, FileQueued -> FileStarted -> FileProgress* -> FileFinished,
framed by one BatchStarted and one BatchFinished. `Notice` carries log lines (a pool replaced, a wait
for free memory, a cancel request). Events are emitted from the thread that called the runner; the
GUI's controller turns them into Qt signals, the CLI into a progress bar or JSON lines.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlbatch.outcome import FileOutcome
    from xlbatch.report import Report


@dataclass(frozen=True)
class Event:
    """Base class of every event; `time` is wall-clock seconds since the epoch."""

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        data = {"event": self.type}
        data.update(asdict(self))
        return data


@dataclass(frozen=True)
class BatchStarted(Event):
    task: str
    backend: str
    backend_reason: str
    workers: int
    total: int
    out_dir: str
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FileQueued(Event):
    index: int
    path: str
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FileStarted(Event):
    index: int
    path: str
    worker: str = ""
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FileProgress(Event):
    index: int
    path: str
    fraction: float
    message: str = ""
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FileFinished(Event):
    index: int
    path: str
    outcome: FileOutcome
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {"event": self.type, "index": self.index, "path": self.path, "time": self.time}
        data.update(self.outcome.to_dict())
        return data


@dataclass(frozen=True)
class Notice(Event):
    level: str  # "info" | "warning"
    message: str
    time: float = field(default_factory=time.time)


@dataclass(frozen=True)
class BatchFinished(Event):
    report: Report
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.type,
            "time": self.time,
            "counts": self.report.counts,
            "seconds": self.report.seconds,
            "cancelled": self.report.cancelled,
        }
