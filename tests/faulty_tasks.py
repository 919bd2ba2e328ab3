"""Test-only tasks that misbehave on purpose, chosen by markers in the file name.

`faulty` (kind cpu): a file whose name contains
  "crash"  -> the worker process exits at once (os._exit(3)), as a native crash would;
  "sigkill"-> the worker kills itself with SIGKILL, as the out-of-memory killer would;
  "hang"   -> it sleeps without ever reporting progress (only killing the worker stops it);
  "slow"   -> it works for a while, reporting progress (cooperative cancel and time limits apply);
  "boom"   -> it raises an unexpected Python error;
  "panic"  -> it raises what a native reader's panic looks like from Python (a BaseException subclass
              named PanicException, as pyo3 makes it), after writing part of an output;
  "hog"    -> it allocates memory until the allocation fails (the worker's address space is capped first,
              so the machine is never at risk);
  "bloat"  -> it takes `bloat_mb` of memory, 50 MB at a time, and holds it for `slow_seconds` (for the
              per-worker memory budget, which should stop it first);
anything else is counted like `summarize` does, in short. Defined in an importable module so workers
started with `spawn` can import the class.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from xlbatch.params import Param
from xlbatch.tasks.base import FileContext, Task
from xlbatch.tasks.registry import register
from xlbatch.workbook import open_workbook


class PanicException(BaseException):
    """Like pyo3's: derives from BaseException, so `except Exception` does not catch it."""


@register
class Faulty(Task):
    name = "faulty"
    title = "Faulty (tests only)"
    description = "Crashes, hangs or fails on files whose names ask for it."
    kind = "cpu"
    params = (
        Param("slow_seconds", "float", 1.0, "how long a 'slow' file works"),
        Param("bloat_mb", "int", 600, "how much memory a 'bloat' file takes"),
    )

    def process(self, source: Any, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        name = Path(source.path).name.lower()
        if "crash" in name:
            os._exit(3)
        if "sigkill" in name:
            os.kill(os.getpid(), signal.SIGKILL)
        if "hang" in name:
            time.sleep(3600)
        if "hog" in name:
            _hog_memory()
        if "bloat" in name:
            _bloat(params["bloat_mb"], params["slow_seconds"])
        if "boom" in name:
            raise ValueError("unexpected value in cell B2")
        if "panic" in name:
            with ctx.file_output(".txt") as tmp:
                tmp.write_text("half", encoding="utf-8")
            raise PanicException("called `Option::unwrap()` on a `None` value")
        if "slow" in name:
            end = time.monotonic() + params["slow_seconds"]
            while time.monotonic() < end:
                time.sleep(0.02)
                ctx.progress(1 - (end - time.monotonic()) / params["slow_seconds"])
        with open_workbook(source) as book:
            cells = sum(1 for sheet in book.sheet_names for row in book.rows(sheet) for v in row if v is not None)
        with ctx.file_output(".txt") as tmp:
            tmp.write_text(str(cells), encoding="utf-8")
        return {"cells": cells, "pid": os.getpid()}


def _hog_memory() -> None:
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    cap = used + 300 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap + 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))
    hoard = []
    while True:  # until MemoryError
        hoard.append(bytearray(50 * 2**20))


def _bloat(megabytes: int, hold_seconds: float) -> None:
    hoard = []
    for _ in range(0, megabytes, 50):
        hoard.append(bytearray(b"\x01") * (50 * 2**20))  # written, so it is resident
        time.sleep(0.05)
    time.sleep(hold_seconds)
    del hoard


@register
class Sleepy(Task):
    """Every file takes `seconds`, reporting progress: for cancel tests on any backend."""

    name = "sleepy"
    title = "Sleepy (tests only)"
    description = "Takes a while on every file."
    kind = "io"
    params = (Param("seconds", "float", 0.5, "time per file"),)

    def process(self, source: Any, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        end = time.monotonic() + params["seconds"]
        while time.monotonic() < end:
            time.sleep(0.01)
            ctx.progress(1 - (end - time.monotonic()) / params["seconds"])
        with ctx.file_output(".done") as tmp:
            tmp.write_text("done", encoding="utf-8")
        return {"slept": params["seconds"]}


@register
class Whereabouts(Task):
    """Copies each input byte for byte and says in which folder the worker found it: for the dask backend's
    byte shipping (the worker opens its own copy) against shared storage (it opens the client's path)."""

    name = "whereabouts"
    title = "Whereabouts (tests only)"
    description = "Copies the file and tells where it was read."
    kind = "cpu"

    def process(self, source: Any, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        data = Path(source.path).read_bytes()
        with ctx.file_output(".copy") as tmp:
            tmp.write_bytes(data)
        ctx.warn(f"read from {source.path}")
        return {"folder": Path(source.path).parent.name, "input": source.path, "pid": os.getpid()}




@register
class Committer(Task):
    """Commits its output and is then caught before reporting the file, held there as long as a test needs:
    a file whose name contains "block" leaves a flag `<stem>.committed` in `flag_dir` and blocks without a
    progress call (only killing its worker stops it), and fails at once when it runs again (its flag is
    there); one whose name contains "crash" dies, once a flag is there if its name also contains "late"."""

    name = "committer"
    title = "Committer (tests only)"
    description = "Writes its output, then blocks or crashes before reporting."
    kind = "cpu"
    params = (Param("flag_dir", "str", "", "where the flags saying an output is committed go"),)

    def process(self, source: Any, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        name, flags = Path(source.path).stem, Path(params["flag_dir"])
        flag = flags / f"{name}.committed"
        if "block" in name and flag.exists():
            raise ValueError("this file runs only once")
        with ctx.file_output(".done") as tmp:
            tmp.write_text("done", encoding="utf-8")
        if "crash" in name:
            deadline = time.monotonic() + 60
            while "late" in name and not list(flags.glob("*.committed")) and time.monotonic() < deadline:
                time.sleep(0.01)
            os._exit(3)
        if "block" in name:
            flag.write_text("", encoding="utf-8")
            time.sleep(3600)
        return {}
