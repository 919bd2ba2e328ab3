"""The workbook reader's contract beyond values: positions of raw rows, one parse per sheet, formula checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

import tests.corpus as corpus
from xlbatch import extent
from xlbatch.workbook import open_workbook


def _offset_sheet(path: Path) -> Path:
    """Values from C5: a header in row 5, data below, a blank row 8, a last value in row 9."""
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("Data")
    ws.write_row(4, 2, ["Name", "Amount"])
    ws.write_row(5, 2, ["a", 1.5])
    ws.write(6, 3, "x")
    ws.write(8, 2, 3)
    book.close()
    return path


def test_raw_rows_start_at_row_one_and_name_their_first_column(tmp_path: Path) -> None:
    with open_workbook(_offset_sheet(tmp_path / "offset.xlsx")) as book:
        raw = book.raw_rows("Data")
        rows = list(raw.rows)
    assert raw.first_column == 3  # column C
    assert raw.height == len(rows) == 9
    assert rows[4] == ["Name", "Amount"]
    assert rows[5] == ["a", 1.5]  # raw: the float is not normalised
    assert rows[7] == ["", ""]


class _CountingBook:
    """Wraps a calamine workbook and counts the sheet parses, which are most of the cost of reading."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.parses: list[str] = []

    def get_sheet_by_name(self, name: str) -> Any:
        self.parses.append(name)
        return self.real.get_sheet_by_name(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_sheet_is_parsed_once_for_rows_raw_rows_and_merged_ranges(tmp_path: Path) -> None:
    path = corpus.make_merged_cells(tmp_path)
    with open_workbook(path) as book:
        counting = _CountingBook(book._book)
        book._book = counting
        list(book.raw_rows("Report").rows)
        assert book.merged_ranges("Report") == 3
        list(book.rows(1))
        assert counting.parses == ["Report"]
        book._book = counting.real


def test_formulas_without_results_are_found_past_the_first_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A total row at the bottom of a long sheet, written without its result, as scripts write it."""
    monkeypatch.setattr(extent, "_CHUNK", 4096)
    monkeypatch.setattr(extent, "_PRECISE_CHUNK", 4096)
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Item", "Amount"])
    for i in range(2000):
        ws.append([f"item {i}", i])
    ws.append(["Total", "=SUM(B2:B2001)"])
    path = tmp_path / "total-at-the-bottom.xlsx"
    book.save(path)
    assert _formulas_without_values(path) == 1
    assert _formulas_without_values(corpus.make_formulas_without_values(tmp_path)) == 6


def _formulas_without_values(path) -> int:
    return sum(sheet.findings.formulas_without_values for sheet in extent.measure(str(path), "xlsx"))
