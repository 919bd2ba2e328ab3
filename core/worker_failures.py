"""The errors of files whose worker was stopped or lost, in the words every backend reports them with.

The supervisor settles these files itself (the worker that would have returned an outcome is gone):
past the time limit (`timeout`), its worker died (`crashed`), past its memory budget (`too_large`).
"""

from __future__ import annotations

from xlbatch import errors
from xlbatch.errors import FileError
from xlbatch.outcome import FAILED, FileOutcome
from xlbatch.worker import WorkFile

CRASHED_MESSAGE = (
    "The program reading this file stopped unexpectedly (it may be damaged or too large for the available memory)."
)
TOO_LARGE_MESSAGE = (
    "The file needs more memory than this computer has free; it was stopped so the other files could go on."
)


def timeout_message(limit: float | None) -> str:
    return f"The file took longer than the time limit ({limit:g} s) and was stopped."


def timeout_error(limit: float | None, detail: str = "the worker process was stopped") -> FileError:
    return FileError(errors.TIMEOUT, timeout_message(limit), detail)


def crashed_error(code: int | None, last_break: str) -> FileError:
    detail = f"worker exit code {code}" if code is not None else f"worker lost: {last_break}"
    return FileError(errors.CRASHED, CRASHED_MESSAGE, detail)


def too_large_error(rss: int, budget: int) -> FileError:
    detail = f"the worker process used {rss / 2**20:,.0f} MB, above its budget of {budget / 2**20:,.0f} MB"
    return FileError(errors.TOO_LARGE, TOO_LARGE_MESSAGE, detail)


def failed(work: WorkFile, seconds: float, error: FileError) -> FileOutcome:
    return FileOutcome(work.index, work.path, FAILED, seconds, error=error, attempts=work.attempt)
