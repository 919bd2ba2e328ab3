"""The closed set of error kinds, and how exceptions become sentences a business user can act on.

Every failed file carries exactly one `FileError`: a `kind` from `ERROR_KINDS` (the GUI, the report
and other programs rely on this set), a one-sentence `message` in plain words, and a `detail` with the
technical text for whoever has to dig deeper. Tasks raise `TaskFailure` for problems they recognise;
anything else is turned into a `FileError` by `classify()`.

Messages never quote an exception: "Error -3 while decompressing data" or a Rust panic's text means
nothing to a controller. The exception's own words go in `detail`.

Damage is told apart from bugs by where an exception comes from. What a reader raises while parsing a
file (a zlib or CRC error, malformed XML, a native reader's panic, a number thousands of digits long)
is the file's damage: `corrupt`. Code that reads files wraps the reading in `reading(path)`, which
turns whatever the reader raises into a `TaskFailure` of the right kind. What escapes a task from
anywhere else is a bug in the task: `task_error`, with the traceback in `detail`.
"""

from __future__ import annotations

import contextlib
import errno
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

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


# Exceptions that mean "stop the program", never "this file failed": they keep their meaning everywhere.
CONTROL_EXCEPTIONS: tuple[type[BaseException], ...] = (KeyboardInterrupt, SystemExit)

DAMAGED = "The file is damaged or incomplete and cannot be read."
DAMAGED_READER = "The file is damaged: the program reading it stopped on content no valid workbook has."
HUGE_NUMBER = "The file is damaged: it holds a number thousands of digits long, which no workbook has."
UNEXPECTED = "The task stopped on an unexpected problem with this file; the technical details are in the report."
DISK_FULL = "There is not enough free disk space to write the output; free some space and run it again."


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _is_huge_number(exc: BaseException) -> bool:
    # int() of a digit string longer than sys.get_int_max_str_digits() (CPython's guard since 3.11).
    return isinstance(exc, ValueError) and "Exceeds the limit" in str(exc) and "digits" in str(exc)


def is_damage(exc: BaseException) -> bool:
    """True for exceptions that, raised while reading a file, can only mean the file is damaged."""
    name = type(exc).__name__
    return (
        isinstance(exc, zipfile.BadZipFile | EOFError | zlib.error | ParseError | ExpatError)
        or _is_huge_number(exc)
        # python-calamine's errors and pyo3's PanicException (a BaseException), matched by name so this
        # module does not import the reader; defusedxml's errors derive from ValueError.
        or name in {"ZipError", "XmlError", "CalamineError", "PanicException", "DefusedXmlException"}
        or "XML" in name
        or "ParseError" in name
        or "Forbidden" in name
    )


@contextlib.contextmanager
def reading(what: str = "") -> Iterator[None]:
    """Turn whatever a reader raises inside the block into a TaskFailure: a recognised kind
    (password-protected, missing, locked, too large) or else `corrupt`, since a reader that fails on a
    file's content has met damage. Exceptions that stop the program pass through unchanged."""
    try:
        yield
    except (TaskFailure, Cancelled, FileTimeout, *CONTROL_EXCEPTIONS):
        raise
    except BaseException as exc:  # noqa: BLE001 - native readers raise BaseException subclasses (panics)
        error = classify(exc)
        if error.kind == TASK_ERROR:
            error = FileError(CORRUPT, DAMAGED_READER if "Panic" in type(exc).__name__ else DAMAGED, error.detail)
        detail = f"{what}: {error.detail}" if what else error.detail
        raise TaskFailure(error.kind, error.message, detail) from exc


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
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return FileError(TASK_ERROR, DISK_FULL, detail)
    if type(exc).__name__ == "PasswordError":  # python-calamine's, matched by name
        return FileError(
            ENCRYPTED,
            "This workbook is password-protected; remove the password in Excel and run it again.",
            detail,
        )
    if _is_huge_number(exc):
        return FileError(CORRUPT, HUGE_NUMBER, detail)
    if is_damage(exc):
        return FileError(CORRUPT, DAMAGED_READER if "Panic" in type(exc).__name__ else DAMAGED, detail)
    if isinstance(exc, UnicodeDecodeError):
        return FileError(NOT_A_WORKBOOK, "The file's text could not be read; save it as UTF-8 CSV or as .xlsx.", detail)
    return FileError(TASK_ERROR, UNEXPECTED, detail)
