"""The task tests' kit (tests/core/task_kit.py) runs a task the way a batch's worker does: these tests hold
it to that, so a task test that passes with the kit means what it says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.core.task_kit import files_under, run_task, write_csv_lines, write_xlsx_openpyxl
from xlbatch import errors
from xlbatch.errors import TaskFailure
from xlbatch.file_notes import warn
from xlbatch.outcome import FileOutcome
from xlbatch.tasks.base import FileContext, OutputFolder, Task


class Echo(Task):
    """Returns what `result` names, warns from below the task, and fails files named bad.*."""

    name = "kit-echo"
    results: ClassVar[dict[str, Any]] = {}  # what process() returns
    reduced: ClassVar[list[Any]] = []  # the results reduce() got

    def process(self, source: Any, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        ctx.progress(1.0, "done")
        warn(f"a reader noticed something in {source.name}")  # as a reader deep below the task would
        if source.stem == "bad":
            raise TaskFailure(errors.TASK_ERROR, "This file is bad.", "detail")
        return dict(self.results)

    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        Echo.reduced = [o.result for o in outcomes]


@pytest.fixture
def books(tmp_path: Path) -> list[Path]:
    good = write_xlsx_openpyxl(tmp_path / "good.xlsx", {"S": [["a"], [1]]})
    bad = write_csv_lines(tmp_path / "bad.csv", ["a", "1"])
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    return [good, bad, empty]


def test_failures_become_outcomes_with_their_kind(books: list[Path], tmp_path: Path) -> None:
    run = run_task(Echo, books, None, tmp_path / "out")
    assert [o.status for o in run.outcomes] == ["ok", "failed", "failed"]
    assert run.outcome("bad.csv").error.kind == errors.TASK_ERROR
    # A file preflight refuses is a failed outcome with preflight's kind, as in a batch, not an exception.
    assert run.outcome("empty.xlsx").error.kind == errors.EMPTY
    assert files_under(tmp_path) == sorted(books)


def test_reader_warnings_and_progress_reach_the_run(books: list[Path], tmp_path: Path) -> None:
    run = run_task(Echo, books[:2], {}, tmp_path / "out")
    assert run.outcome("good.xlsx").warnings == ["a reader noticed something in good.xlsx"]
    assert run.outcome("bad.csv").warnings == ["a reader noticed something in bad.csv"]
    assert run.progress == [(1.0, "done"), (1.0, "done")]


def test_results_reach_reduce_as_the_journal_stores_them(books: list[Path], tmp_path: Path) -> None:
    Echo.results = {"when": dt.date(2024, 5, 1), "pair": (1, 2)}
    try:
        run = run_task(Echo, books[:1], {}, tmp_path / "out")
        assert Echo.reduced == [{"when": dt.date(2024, 5, 1), "pair": [1, 2]}]
        assert run.outcome("good.xlsx").result == {"when": dt.date(2024, 5, 1), "pair": [1, 2]}
        Echo.results = {"handle": object()}  # what no report or journal could hold
        with pytest.raises(TypeError):
            run_task(Echo, books[:1], {}, tmp_path / "out2")
        Echo.results = {}
        assert run_task(Echo, books[:1], {}, tmp_path / "out3", reduce=False).outcomes[0].result == {}
    finally:
        Echo.results = {}
