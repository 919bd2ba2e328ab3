"""What a task is: the `Task` class every task type subclasses, and the contexts it works in.

A task declares its name, title, description, kind (`cpu` or `io`, which guides the backend choice),
version (bumped when its output for the same input changes) and typed parameters. `process()` runs in
a worker for one file and returns a small JSON-able result; `reduce()` runs once in the parent after
every file and combines the per-file results into batch outputs (summary.xlsx, a combined table...).

Task classes must be importable top-level classes: under `spawn` a worker receives the class by
reference and imports its module.
"""

from __future__ import annotations

import contextlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from xlbatch import errors, output_record
from xlbatch.atomic import Identity, atomic_path
from xlbatch.cost import DEFAULT_COST, WorkCost
from xlbatch.errors import Cancelled, FileTimeout, TaskFailure
from xlbatch.journal import STATE_DIR
from xlbatch.outcome import FileOutcome
from xlbatch.output_record import OutputRecord
from xlbatch.params import Param, validate_params
from xlbatch.preflight import SourceFile
from xlbatch.tables import VALUES, Table
from xlbatch.writing import is_one_of, safe_filename

# Within-file progress is sent at most this often per file: enough for a live bar, cheap over a pipe.
PROGRESS_INTERVAL = 0.1


class OutputFolder:
    """Where a batch writes; every output goes through `output()` so it is atomic and never an input."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        inputs: frozenset[str] = frozenset(),
        keep_intermediate: bool = False,
        verify: bool = False,
        keep_tables: bool = False,
        on_commit: Callable[[Path, Identity | None], None] | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.inputs = inputs  # resolved input paths, as strings
        self.outputs: list[str] = []
        self.warnings: list[str] = []
        # With caching on, per-file intermediate results (such as combine's parts) are kept for the next run.
        self.keep_intermediate = keep_intermediate
        # With verify on, table writers record what they write to each output, for xlbatch.verify to check.
        self.verify = verify
        self.records: dict[str, OutputRecord] = {}
        # With keep_tables, the tables of the batch outputs as reduce() writes them (report.tables); else None.
        self.tables: dict[str, Table] | None = {} if keep_tables else None
        # Told of each output just before it is put in place (a worker tells the parent: xlbatch.atomic).
        self.on_commit = on_commit

    def keep_table(
        self, name: str, header: list[Any], rows: list[list[Any]] | None = None, kind: str = VALUES
    ) -> Table | None:
        """Keep a batch output's table for report.tables (when asked to): its header and its rows, the list
        given or, while streaming, the returned table's `rows` to append to. None: tables are not kept."""
        if self.tables is None:
            return None
        table = Table(name, [str(h) for h in header], rows if rows is not None else [], kind)
        self.tables[name] = table
        return table

    @property
    def state_dir(self) -> Path:
        """The batch's private folder inside the output folder (journal, intermediate files)."""
        return self.out_dir / STATE_DIR

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def resolve(self, name: str, subfolder: str = "") -> Path:
        """The absolute output path for `name` (made safe) inside `subfolder` of the output folder."""
        folder = self.out_dir
        for part in Path(subfolder).parts if subfolder else ():
            folder = folder / safe_filename(part)
        return folder / safe_filename(name)

    @contextlib.contextmanager
    def output(self, name: str, subfolder: str = "") -> Iterator[Path]:
        """Yield a temporary path to write `name` to; it becomes the real output only on success."""
        target = self.resolve(name, subfolder)
        if is_one_of(target, self.inputs):
            raise TaskFailure(
                errors.TASK_ERROR,
                "The output would overwrite an input file; choose a different output folder.",
                str(target),
            )
        temporary: list[Path] = []
        try:
            with atomic_path(target, self.on_commit) as tmp:
                temporary.append(tmp)
                if self.verify:
                    output_record.want(tmp)
                yield tmp
        finally:
            record = output_record.take(temporary[0]) if temporary and self.verify else None
        self.outputs.append(str(target))
        if record is not None:
            self.records[str(target)] = record


class FileContext(OutputFolder):
    """What `Task.process()` gets besides its file: progress, warnings, outputs, cancellation."""

    def __init__(
        self,
        source: SourceFile,
        out_dir: str | os.PathLike[str],
        inputs: frozenset[str] = frozenset(),
        report: Callable[[float, str], None] | None = None,
        deadline: float | None = None,
        should_stop: Callable[[], bool] | None = None,
        verify: bool = False,
        output_stem: str | None = None,
        on_commit: Callable[[Path, Identity | None], None] | None = None,
    ) -> None:
        super().__init__(out_dir, inputs, verify=verify, on_commit=on_commit)
        self.source = source
        # What per-file outputs are named after: the input's name without its extension, unless that
        # would clash with another input's outputs (then the runner gives one with the extension in it).
        self.output_stem = output_stem or source.stem
        self._report = report
        self._deadline = deadline
        self._should_stop = should_stop
        self._last_progress = 0.0

    @property
    def subfolder(self) -> str:
        """The file's folder below the batch root: outputs mirror the inputs' structure."""
        parent = Path(self.source.rel).parent
        return "" if str(parent) in ("", ".") else parent.as_posix()

    def file_output(self, suffix: str, stem: str | None = None) -> contextlib.AbstractContextManager[Path]:
        """`output()` for a per-file output named after the input: `<stem><suffix>` in its subfolder."""
        return self.output(f"{stem if stem is not None else self.output_stem}{suffix}", self.subfolder)

    def check(self) -> None:
        """Raise if the user stopped the batch or the per-file time limit passed (cooperative backends)."""
        reason = self.stop_reason()
        if reason is not None:
            raise reason

    def stop_reason(self) -> Cancelled | FileTimeout | None:
        """Why this file must stop now (the user stopped the batch, the time limit passed), or None."""
        if self._should_stop is not None and self._should_stop():
            return Cancelled("stopped by the user")
        if self._deadline is not None and time.monotonic() > self._deadline:
            return FileTimeout("per-file time limit reached")
        return None

    @property
    def can_stop(self) -> bool:
        """Whether this file can be told to stop at all (a time limit, or a stop request it would see)."""
        return self._should_stop is not None or self._deadline is not None

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress within this file (0..1); also the point where a stop request takes effect."""
        self.check()
        now = time.monotonic()
        if self._report is not None and (now - self._last_progress >= PROGRESS_INTERVAL or fraction >= 1.0):
            self._last_progress = now
            self._report(max(0.0, min(1.0, fraction)), message)


class Task(ABC):
    """Base class of every task type; subclass, set the class attributes, implement `process()`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    kind: ClassVar[str] = "cpu"  # "cpu" or "io"
    version: ClassVar[int] = 1
    params: ClassVar[tuple[Param, ...]] = ()
    # Tasks that work on cell values (not on the file as Excel keeps it) are warned about formulas
    # saved without results, which every fast reader reads as empty.
    reads_values: ClassVar[bool] = True
    # What a megabyte of this task costs and how much of it threads can overlap; `auto` decides with it.
    cost: ClassVar[WorkCost] = DEFAULT_COST
    # The parameter naming code the task runs (the python task's script): recipes record its SHA-256.
    script_param: ClassVar[str | None] = None
    # The commented starter script the app's "New from template" writes for that parameter.
    script_template: ClassVar[str | None] = None

    @classmethod
    def work_cost(cls, params: dict[str, Any] | None = None) -> WorkCost:
        """The cost of this task with these parameters (some outputs cost more to write than others)."""
        return cls.cost

    @classmethod
    def validate(cls, raw: dict[str, Any] | None) -> dict[str, Any]:
        """Typed, checked parameters from raw values; raises InvalidParams naming the bad parameter."""
        checked = validate_params(cls.params, raw)
        cls.check(checked)
        return checked

    @classmethod  # noqa: B027 - optional hook, empty by default
    def check(cls, params: dict[str, Any]) -> None:
        """Checks that involve several parameters; raise InvalidParams. Nothing by default."""

    @classmethod
    def report_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The checked parameters as report.json shows them (a task may leave out what only workers need)."""
        return params

    @abstractmethod
    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        """Do the work for one file and return a small JSON-able result."""

    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:  # noqa: B027 - optional hook, empty by default
        """Combine per-file results into batch outputs, in the parent, after every file. Optional."""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.name,
            "title": cls.title,
            "description": cls.description,
            "kind": cls.kind,
            "version": cls.version,
            "params": [p.to_dict() for p in cls.params],
        }
