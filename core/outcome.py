"""What happened to one file: the record a worker returns and the report lists.

Kept small and made of plain values so it crosses process boundaries cheaply and pickles under
`spawn`. Statuses: ok, failed, skipped, cancelled. A failed file always carries a FileError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xlbatch.errors import FileError

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
CANCELLED = "cancelled"
STATUSES: tuple[str, ...] = (OK, FAILED, SKIPPED, CANCELLED)


@dataclass
class FileOutcome:
    """The result of one file. `index` is the file's position in the batch (stable id for the GUI)."""

    index: int
    path: str
    status: str
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: FileError | None = None
    result: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why a file was skipped, in words
    attempts: int = 1

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "seconds": round(self.seconds, 4),
            "outputs": list(self.outputs),
            "warnings": list(self.warnings),
            "error": self.error.to_dict() if self.error else None,
            "result": self.result,
            "reason": self.reason,
            "attempts": self.attempts,
        }
