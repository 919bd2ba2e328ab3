"""A damaged file is that file's error row, on every backend, in plain words: the batch goes on.

python-calamine's panics arrive as pyo3's PanicException, a BaseException: `except Exception` misses it,
and on the in-process backends it used to end the whole batch without a report. Damage found while
reading (zlib and CRC errors, malformed XML, a number thousands of digits long) is `corrupt`; only a
genuine bug in a task is `task_error`; and no message quotes the exception.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from xml.etree.ElementTree import ParseError

import pytest

import tests.corpus as corpus
import tests.faulty_tasks  # noqa: F401 - registers the test-only tasks
from tests.faulty_tasks import PanicException
from tests.helpers import assert_invariants, numbers_book
from xlbatch import errors
from xlbatch.errors import Cancelled, FileError, TaskFailure, classify, reading
from xlbatch.runner import run_batch

ALL_BACKENDS = ["sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib"]


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_a_panic_fails_only_its_file_and_the_report_is_written(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"good{i}.xlsx")
    numbers_book(folder / "panic.xlsx")
    out = tmp_path / "out"
    report = run_batch(task="faulty", paths=[str(folder)], out_dir=str(out), backend=backend, workers=2)
    by_name = {Path(f.path).name: f for f in report.files}
    bad = by_name.pop("panic.xlsx")
    assert bad.status == "failed" and bad.error.kind == "corrupt"
    assert bad.error.message == errors.DAMAGED_READER
    assert "unwrap" in bad.error.detail and "unwrap" not in bad.error.message
    assert all(f.status == "ok" for f in by_name.values())
    assert not (out / "panic.txt").exists()  # the output it wrote before panicking was removed
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["counts"]["failed"] == 1
    assert_invariants(report, sorted(folder.glob("*.xlsx")))


def _panicking_xls(folder: Path) -> Path:
    """A legacy workbook cut short inside its sector table: python-calamine 0.9 panics opening it."""
    source = corpus.make_ledger(folder / "whole.xls", rows=40, fmt="xls")
    target = folder / "cut-short.xls"
    target.write_bytes(source.read_bytes()[:8192])
    source.unlink()
    return target


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_a_real_reader_panic_is_a_damaged_file(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    _panicking_xls(folder)
    corpus.make_ledger(folder / "fine.xls", rows=10, fmt="xls")
    report = run_batch(task="summarize", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend=backend)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["fine.xls"].status == "ok"
    error = by_name["cut-short.xls"].error
    assert error.kind == "corrupt" and error.message in (errors.DAMAGED, errors.DAMAGED_READER)


@pytest.mark.parametrize(
    "exc",
    [
        zlib.error("Error -3 while decompressing data: invalid distance too far back"),
        ParseError("not well-formed (invalid token): line 1, column 40"),
        ValueError("Exceeds the limit (4300 digits) for integer string conversion: value has 6000 digits"),
        PanicException("index out of bounds: the len is 0 but the index is 17"),
        type("XmlError", (Exception,), {})("unexpected end of file"),
    ],
    ids=["zlib", "xml", "digits", "panic", "calamine-xml"],
)
def test_damage_is_corrupt_in_plain_words(exc: BaseException) -> None:
    error = classify(exc)
    assert error.kind == "corrupt"
    assert str(exc) not in error.message and str(exc) in error.detail


def test_a_bug_in_a_task_is_a_task_error_that_does_not_quote_python() -> None:
    error = classify(KeyError("Amount"))
    assert error == FileError("task_error", errors.UNEXPECTED, "KeyError: 'Amount'")


def test_reading_turns_any_reader_failure_into_the_files_error() -> None:
    with pytest.raises(TaskFailure) as caught, reading("sheet 'Chart'"):
        raise OSError("failed to fill whole buffer")  # calamine reading an .xlsb chart sheet as cells
    assert caught.value.error.kind == "corrupt" and caught.value.error.detail.startswith("sheet 'Chart': OSError")
    password = type("PasswordError", (Exception,), {})
    with pytest.raises(TaskFailure) as caught, reading():
        raise password("Workbook is password protected")
    assert caught.value.error.kind == "encrypted"
    with pytest.raises(Cancelled), reading():  # a stop request is not damage
        raise Cancelled("stopped by the user")
    with pytest.raises(KeyboardInterrupt), reading():
        raise KeyboardInterrupt


def test_an_internal_error_still_accounts_for_every_file_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlbatch.supervisor import Supervisor

    def broken(self: Supervisor, files: list) -> None:
        raise RuntimeError("supervisor fault")

    monkeypatch.setattr(Supervisor, "run", broken)
    folder = tmp_path / "in"
    numbers_book(folder / "a.xlsx")
    numbers_book(folder / "b.xlsx")
    out = tmp_path / "out"
    report = run_batch(task="summarize", paths=[str(folder)], out_dir=str(out), backend="sequential")
    assert [f.status for f in report.files] == ["failed", "failed"]
    assert any("internal error" in n for n in report.notices)
    assert (out / "report.json").is_file()
