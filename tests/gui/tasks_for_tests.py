"""Tasks that exist only for the GUI tests: a slow one to cancel, one with every parameter type, and one
that tells which worker process ran it.

Top-level classes in an importable module, so the process backends can import them in their workers;
they are registered by fixtures (tests/gui/conftest.py) and removed again afterwards.
"""

from __future__ import annotations

import os
import time
from typing import Any

from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.tasks.base import FileContext, Task

# Each step sleeps this long and reports progress: a file takes STEP_SECONDS * steps.
STEP_SECONDS = 0.05


class SlowTask(Task):
    """Waits `steps` x 50 ms per file, reporting progress at each step; I/O-bound, so cheap to run."""

    name = "gui_test_slow"
    title = "Slow test task"
    description = "Waits a little on every file, reporting progress (tests only)."
    kind = "io"
    params = (Param("steps", "int", 40, "How many 50 ms steps each file takes.", minimum=1, maximum=100_000),)

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        steps = params["steps"]
        for step in range(steps):
            time.sleep(STEP_SECONDS)
            ctx.progress((step + 1) / steps, f"step {step + 1} of {steps}")
        return {"steps": steps}


class FormTask(Task):
    """A parameter of every type, a required text, and a rule across two parameters."""

    name = "gui_test_form"
    title = "Form test task"
    description = "Declares one parameter of each type (tests only)."
    kind = "io"
    params = (
        Param("flag", "bool", True, "A yes/no setting."),
        Param("mode", "choice", "fast", "How to run.", choices=("fast", "careful")),
        Param("count", "int", 5, "A whole number from 1 to 10.", minimum=1, maximum=10),
        Param("ratio", "float", 0.5, "A fraction.", minimum=0.0, maximum=1.0),
        Param("limit", "int", None, "An optional whole number."),
        Param("label", "str", "out", "A name that must not be empty.", required=True),
        Param("columns", "list", ["A", "B"], "Columns to keep."),
        Param("low", "int", 1, "Must not be above 'high'.", minimum=0, maximum=100),
        Param("high", "int", 9, "Must not be below 'low'.", minimum=0, maximum=100),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        if params["low"] > params["high"]:
            raise InvalidParams("'Low' cannot be above 'High'.", "low")

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        return {"label": params["label"]}


class PidTask(Task):
    """CPU-bound in name only: returns the id of the process that ran it, to tell worker processes apart."""

    name = "gui_test_pid"
    title = "Process id test task"
    description = "Returns the id of the worker process that ran it (tests only)."
    kind = "cpu"
    params = ()

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        return {"pid": os.getpid()}
