"""summarize against values computed independently with openpyxl, for every readable format."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import tests.corpus as corpus
from xlbatch.runner import run_batch


def truth_from_openpyxl(path: Path) -> list[dict]:
    """The contract's per-sheet numbers, computed cell by cell with openpyxl (cached values)."""
    book = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in book.worksheets:
        last_row = last_col = non_empty = numeric = 0
        total = 0.0
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None or cell.value == "":
                    continue
                non_empty += 1
                last_row, last_col = max(last_row, cell.row), max(last_col, cell.column)
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    numeric += 1
                    total += cell.value
        sheets.append(
            {
                "name": ws.title,
                "rows": last_row,
                "columns": last_col,
                "non_empty_cells": non_empty,
                "numeric_cells": numeric,
                "numeric_sum": pytest.approx(total),
            }
        )
    book.close()
    return sheets


def test_summarize_matches_openpyxl_on_realistic_and_odd_workbooks(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    paths = [corpus.make_ledger(folder / f"l{i}.xlsx", rows=40 + i, seed=i) for i in range(3)]
    paths += [
        corpus.make_merged_cells(folder),
        corpus.make_odd_sheet_names(folder),
        corpus.make_dates_as_numbers(folder),
        corpus.make_empty_sheets_workbook(folder),
    ]
    report = run_batch(
        task="summarize", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="processes", workers=2
    )
    by_path = {f.path: f for f in report.files}
    for path in paths:
        assert by_path[str(path.resolve())].result["sheets"] == truth_from_openpyxl(path), path.name


@pytest.mark.parametrize("fmt", ["xls", "ods", "csv"])
def test_other_formats_give_the_same_summary_as_xlsx(tmp_path: Path, fmt: str) -> None:
    xlsx = corpus.make_ledger(tmp_path / "in" / "ledger.xlsx", rows=25, seed=7)
    other = corpus.make_ledger(tmp_path / "in" / f"ledger.{fmt}", rows=25, seed=7, fmt=fmt)
    report = run_batch(task="summarize", paths=[str(xlsx), str(other)], out_dir=str(tmp_path / "out"))
    first, second = (f.result["sheets"][0] for f in report.files)
    for key in ("rows", "columns", "non_empty_cells"):
        assert first[key] == second[key]
    # A CSV holds its dates as text; the reader types them, so the numeric cells are the same as well.
    assert second["numeric_sum"] == pytest.approx(first["numeric_sum"])
    assert second["numeric_cells"] == first["numeric_cells"]


def test_column_statistics_and_summary_workbook(tmp_path: Path) -> None:
    rows = corpus.ledger_truth(30, 3)
    path = corpus.make_ledger(tmp_path / "in" / "ledger.xlsx", rows=30, seed=3)
    report = run_batch(task="summarize", paths=[str(path)], out_dir=str(tmp_path / "out"))
    columns = {c["header"]: c for c in report.files[0].result["columns"]}
    header, data = rows[0], rows[1:]
    amounts = [r[header.index("Amount")] for r in data]
    assert columns["Amount"]["type"] == "number"
    assert columns["Amount"]["count"] == len(amounts)
    assert columns["Amount"]["min"] == pytest.approx(min(amounts))
    assert columns["Amount"]["max"] == pytest.approx(max(amounts))
    assert columns["Amount"]["mean"] == pytest.approx(sum(amounts) / len(amounts))
    assert columns["Region"]["distinct"] == len({r[header.index("Region")] for r in data})
    dates = [r[header.index("Date")] for r in data]
    assert columns["Date"]["type"] == "date"
    assert columns["Date"]["min"][:10] == min(dates).isoformat()[:10]
    assert columns["Date"]["max"][:10] == max(dates).isoformat()[:10]
    book = openpyxl.load_workbook(tmp_path / "out" / "summary.xlsx", read_only=True)
    assert book.sheetnames == ["Files", "Sheets", "Columns"]
    files = list(book["Files"].iter_rows(values_only=True))
    assert files[1][0] == "ledger.xlsx" and files[1][2] == "ok"
    assert files[1][7] == pytest.approx(report.files[0].result["sheets"][0]["numeric_sum"])
    book.close()
