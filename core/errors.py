"""The closed set of error kinds, and how exceptions become sentences a business user can act on.

Every failed file carries exactly one `FileError`: a `kind` from `ERROR_KINDS` (the GUI, the report
and other programs rely on this set), a one-sentence `message` in plain words, and a `detail` with the
technical text for whoever has to dig deeper. Tasks raise `TaskFailure` for problems they recognise;
anything else is turned into a `FileError` by `classify()`.
"""

from __future__ import annotations

import errno
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

NOT_FOUND = "not_found"
PERMISSION_DENIED = "permission_denied"
NOT_A_WORKBOOK = "not_a_workbook"
CORRUPT = "corrupt"
ENCRYPTED = "encrypted"
TOO_LARGE = "too_large"
EMPTY = "empty"
UNSUPPORTED = "unsupported"
TIMEOUT = "timeout"
CRASHED = "crashed"
INVALID_PARAMS = "invalid_params"
TASK_ERROR = "task_error"

ERROR_KINDS: tuple[str, ...] = (
    NOT_FOUND,
    PERMISSION_DENIED,
    NOT_A_WORKBOOK,
    CORRUPT,
    ENCRYPTED,
    TOO_LARGE,
    EMPTY,
    UNSUPPORTED,
    TIMEOUT,
    CRASHED,
    INVALID_PARAMS,
    TASK_ERROR,
)

# What the user can do about each kind: shown in the GUI's error table next to the message.
ADVICE: dict[str, str] = {
    NOT_FOUND: "Check that the file still exists and the drive is connected.",
    PERMISSION_DENIED: "Close the file in Excel (or any other program) and retry.",
    NOT_A_WORKBOOK: "Open it to check what it is; save it from Excel as .xlsx if it should be a workbook.",
    CORRUPT: "Open it in Excel, which may offer to repair it, then save a new copy.",
    ENCRYPTED: "Remove the password in Excel (File > Info > Protect Workbook) and retry.",
    TOO_LARGE: "Split the workbook or check it is not a disguised archive.",
    EMPTY: "Check you picked the right file; there is nothing in it to process.",
    UNSUPPORTED: "Save it from Excel as .xlsx and retry.",
    TIMEOUT: "Raise the per-file time limit, or check the file is not unusually large.",
    CRASHED: "Retry this file alone; if it fails again, open and re-save it in Excel.",
    INVALID_PARAMS: "Correct the task settings and start again.",
    TASK_ERROR: "Check the task settings against this file; details are in the report.",
}


@dataclass(frozen=True)
class FileError:
    """Why one file failed: a kind from ERROR_KINDS, a plain sentence, and the technical detail."""

    kind: str
    message: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {self.kind!r}")

    @property
    def advice(self) -> str:
        return ADVICE[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TaskFailure(Exception):
    """Raised by preflight and tasks for a problem they recognise and can explain."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.error = FileError(kind, message, detail)


class Cancelled(Exception):
    """Raised inside a file's work when the user asked to stop now (cooperative backends)."""


class FileTimeout(Exception):
    """Raised inside a file's work when it ran past the per-file limit (cooperative backends)."""


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def classify(exc: BaseException) -> FileError:
    """Turn any exception raised while processing a file into a FileError with a plain message."""
    if isinstance(exc, TaskFailure):
        return exc.error
    detail = _detail(exc)
    if isinstance(exc, FileNotFoundError):
        return FileError(NOT_FOUND, "The file could not be found; it may have been moved or deleted.", detail)
    if isinstance(exc, PermissionError) or (isinstance(exc, OSError) and exc.errno in (errno.EACCES,)):
        return FileError(
            PERMISSION_DENIED,
            "The file is open in another program or you lack permission to read it; close it in Excel and retry.",
            detail,
        )
    if isinstance(exc, FileTimeout):
        return FileError(TIMEOUT, "The file took longer than the time limit and was stopped.", detail)
    if isinstance(exc, MemoryError):
        return FileError(TOO_LARGE, "The file needs more memory than this computer has free.", detail)
    if isinstance(exc, zipfile.BadZipFile | EOFError):
        return FileError(CORRUPT, "The file is damaged or incomplete and cannot be read.", detail)
    name = type(exc).__name__
    # python-calamine's errors, matched by name so this module does not import the reader.
    if name == "PasswordError":
        return FileError(
            ENCRYPTED,
            "This workbook is password-protected; remove the password in Excel and run it again.",
            detail,
        )
    if name in {"ZipError", "XmlError", "CalamineError"} or "XML" in name or "ParseError" in name:
        return FileError(CORRUPT, "The file is damaged or incomplete and cannot be read.", detail)
    if isinstance(exc, UnicodeDecodeError):
        return FileError(NOT_A_WORKBOOK, "The file's text could not be read; save it as UTF-8 CSV or as .xlsx.", detail)
    return FileError(TASK_ERROR, f"The task could not process this file: {exc}", detail)
