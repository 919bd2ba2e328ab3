"""Calling the user's function for one file: the `context` it gets, and the guard around the call.

    ScriptContext   what `process(df, context)` / `process_workbook(sheets, context)` receive: the file's
                    path and relative path, the sheet's name, `output_path(name)`, `progress(fraction)`,
                    `warn(text)`
    call_user()     runs the function; whatever goes wrong in it becomes this file's error row and nothing
                    more: an exception is `task_error` naming the function, the script's line and the
                    exception ("process() failed at line 12: KeyError 'Amount'", the traceback in
                    `detail`); `sys.exit()` is `crashed`; a time limit or "stop now" reached while it runs
                    stops it (`stoppable`), even on the thread backends, where no worker can be killed.

The engine lets SystemExit through everywhere else (it means "stop the program"): here it comes from the
user's function, and only means that this file failed.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlbatch import errors
from xlbatch.errors import Cancelled, FileTimeout, TaskFailure
from xlbatch.user_script import LoadedScript, exception_text, script_line, trace

if TYPE_CHECKING:
    from xlbatch.tasks.base import FileContext

WATCH_INTERVAL = 0.1  # seconds between two looks at the time limit and the stop request while the script runs


class _NothingWritten(Exception):
    """Closes an output the script asked for but never wrote, without making it an output."""


class ScriptContext:
    """The `context` the user's function gets for one file (and one sheet, for `process`)."""

    def __init__(self, ctx: FileContext, outputs: contextlib.ExitStack) -> None:
        self._ctx = ctx
        self._outputs = outputs
        self._paths: dict[str, Path] = {}
        self._span = (0.0, 1.0)  # the part of the file's progress the current call covers
        self.path: str = ctx.source.path  # the workbook, as given
        self.relative_path: str = ctx.source.rel  # below the batch's folder: what the outputs mirror
        self.name: str = Path(ctx.source.path).name
        self.sheet: str | None = None  # the sheet `process` is called for (None for process_workbook)
        self.output_folder: str = str(ctx.out_dir)

    def output_path(self, name: str) -> Path:
        """A path to write an output of your own to: OUT/<the file's folder>/<the file's name>/<name>.

        Write the file there; it takes its name when your function returns without error (until then it
        has a temporary name), and is removed if the function fails, so no half-written file is left."""
        if name not in self._paths:
            folder = "/".join(part for part in (self._ctx.subfolder, self._ctx.output_stem) if part)
            self._paths[name] = self._outputs.enter_context(self._written_or_dropped(name, folder))
        return self._paths[name]

    @contextlib.contextmanager
    def _written_or_dropped(self, name: str, folder: str) -> Iterator[Path]:
        output = self._ctx.output(name, folder)
        tmp = output.__enter__()
        try:
            yield tmp
        except BaseException as exc:
            if not output.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            if tmp.exists():
                output.__exit__(None, None, None)
                return
            with contextlib.suppress(_NothingWritten):
                output.__exit__(_NothingWritten, _NothingWritten(), None)
            self._ctx.warn(f"context.output_path({name!r}) was asked for, but nothing was written to it.")

    def _call_for(self, sheet: str | None, start: float, share: float) -> None:
        """The engine's: the next call is for `sheet`, covering [start, start + share] of the file's progress."""
        self.sheet = sheet
        self._span = (start, share)

    def progress(self, fraction: float) -> None:
        """How far your function is with this file (0 to 1); also where a stop request takes effect."""
        start, share = self._span
        self._ctx.progress(start + max(0.0, min(1.0, float(fraction))) * share)

    def warn(self, text: str) -> None:
        """A warning on this file's row (and in the report)."""
        self._ctx.warn(str(text))

    def __repr__(self) -> str:
        sheet = f", sheet={self.sheet!r}" if self.sheet is not None else ""
        return f"<context {self.relative_path!r}{sheet}>"


def _raise_in(thread_id: int, exc_type: type[BaseException] | None) -> None:
    """Raise `exc_type` in another thread at its next Python instruction; None withdraws one not yet raised."""
    exc = ctypes.py_object(exc_type) if exc_type is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc)


@contextlib.contextmanager
def stoppable(ctx: FileContext) -> Iterator[None]:
    """Run the block; once the file must stop (its time limit passed, or "stop now"), raise the reason in
    the block's thread, again every WATCH_INTERVAL until the block ends: a function that never calls
    `context.progress` (or swallows one exception) still stops, as soon as it runs Python code again."""
    if not ctx.can_stop:
        yield
        return
    target = threading.get_ident()
    done = threading.Event()
    fired = threading.Event()

    def watch() -> None:
        while not done.wait(WATCH_INTERVAL):
            reason = ctx.stop_reason()
            if reason is not None and not done.is_set():
                _raise_in(target, type(reason))
                fired.set()

    watcher = threading.Thread(target=watch, name="xlbatch-script-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        if fired.is_set():
            _raise_in(target, None)


def call_user(script: LoadedScript, args: tuple[Any, ...], ctx: FileContext) -> Any:
    """`script.function(*args)`, with its faults turned into this file's error (see the module's notes)."""
    name = script.name
    try:
        with stoppable(ctx):
            return script.function(*args)
    except (Cancelled, FileTimeout, TaskFailure, MemoryError, KeyboardInterrupt):
        raise
    except SystemExit as exc:
        raise TaskFailure(
            errors.CRASHED,
            f"{name}() ended the program (sys.exit({exc.code!r})); only this file was stopped.",
            trace(exc, script.path),
        ) from None
    except BaseException as exc:  # noqa: BLE001 - any fault of the user's code is this file's error row
        line = script_line(exc, script.path)
        where = f" at line {line}" if line else ""
        raise TaskFailure(
            errors.TASK_ERROR, f"{name}() failed{where}: {exception_text(exc)}", trace(exc, script.path)
        ) from None
