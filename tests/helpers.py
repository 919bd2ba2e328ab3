"""Small builders shared by the engine tests: workbooks with known content, and report checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from xlbatch.atomic import TEMP_MARKER
from xlbatch.report import Report


def write_book(path: Path, rows: list[list[Any]], sheet: str = "Data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def numbers_book(path: Path, n: int = 5, offset: int = 0) -> Path:
    """A sheet with a header and n rows of two numbers: sum of column B is known."""
    return write_book(path, [["Item", "Amount"]] + [[f"item {i}", i + offset] for i in range(1, n + 1)])


def assert_invariants(report: Report, inputs: list[Path]) -> None:
    """Every input appears exactly once; nothing temporary left in the output folder."""
    paths = [f.path for f in report.files]
    assert len(paths) == len(set(paths))
    assert sorted(paths) == sorted(str(p.resolve()) for p in inputs)
    leftovers = [p for p in Path(report.out_dir).rglob("*") if TEMP_MARKER in p.name]
    assert leftovers == []


def realworld_folder(name: str) -> Path:
    """A folder of real-world workbooks beside the repository (`../shared/realworld/NAME`), or skip the
    test: the project must still test on its own where that collection is not installed."""
    import pytest

    root = Path(__file__).resolve().parents[1]
    for candidate in (root.parent / "shared" / "realworld" / name, Path("/work/shared/realworld") / name):
        if candidate.is_dir():
            return candidate
    pytest.skip(f"the real-world workbooks ({name}) are not installed beside the repository")
