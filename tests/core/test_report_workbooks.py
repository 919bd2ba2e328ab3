"""The workbooks xlbatch writes for people to read, read back with openpyxl as a spreadsheet shows them.

summary.xlsx, exceptions.xlsx, the combined and extracted tables and the exported error list have
columns fitted to their content, a bold frozen header with a filter, thousands separators, dates and
durations formatted as such, each file's name linked to the file and failed files' rows tinted; and
their values are what they were (the output check keeps every one of them).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

import tests.corpus as corpus
from xlbatch import verify
from xlbatch.error_export import write_error_table
from xlbatch.excel_values import FORMATS, FORMATS_MS
from xlbatch.report_layout import FAILED_FILL, MAX_WIDTH, file_uri
from xlbatch.runner import run_batch

TINT = "FF" + FAILED_FILL.lstrip("#").upper()
LONG_NAME = "quarterly-invoices-north-region-2026.xlsx"
DEFAULT_WIDTH = 8.43  # what a spreadsheet shows for a column nobody sized
CAPPED = MAX_WIDTH + 1  # xlsxwriter stores a width with Excel's padding (+0.71)


@pytest.fixture
def inputs(tmp_path: Path, frozen_inputs: list[Path]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    corpus.make_ledger(folder / LONG_NAME, rows=60, seed=1)
    corpus.make_ledger(folder / "b.xlsx", rows=30, seed=2)
    corpus.make_truncated_xlsx(folder, "damaged.xlsx")
    frozen_inputs.append(folder)
    return folder


def run(task: str, folder: Path, out: Path, **params: Any) -> Any:
    report = run_batch(task=task, paths=[str(folder)], out_dir=str(out), backend="sequential", params=params)
    assert not [notice for notice in report.notices if verify.MESSAGE in notice]  # every output read back the same
    return report


def columns(sheet: Any) -> dict[str, str]:
    """Header text -> column letter."""
    return {cell.value: cell.column_letter for cell in sheet[1]}


def width(sheet: Any, letter: str) -> float:
    dimension = sheet.column_dimensions.get(letter)
    return dimension.width if dimension is not None and dimension.width else DEFAULT_WIDTH


def tinted(cell: Any) -> bool:
    return cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == TINT


def local_path(uri: str) -> str:
    """The path a file: URI on this (POSIX) machine names."""
    parts = urllib.parse.urlsplit(uri)
    assert parts.scheme == "file" and parts.netloc == ""
    return urllib.request.url2pathname(parts.path)


def assert_report_sheet(sheet: Any, rows: int) -> None:
    """A bold, frozen header row with a filter over the header and `rows` rows."""
    last = get_column_letter(sheet.max_column)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{last}{rows + 1}"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.max_row == rows + 1


def row_of(sheet: Any, column: str, value: Any, **also: Any) -> int:
    """The first row whose `column` holds `value` (and whose other columns, by header, hold `also`)."""
    at = columns(sheet)
    return next(
        cell.row
        for cell in sheet[column]
        if cell.value == value and all(sheet[f"{at[k]}{cell.row}"].value == v for k, v in also.items())
    )


def test_summary_is_laid_out_for_reading(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    report = run("summarize", inputs, out)
    summary = out / "summary.xlsx"
    assert str(summary) in report.outputs  # the output check read it back and kept it
    book = openpyxl.load_workbook(summary)
    files = book["Files"]
    assert_report_sheet(files, 3)
    at = columns(files)
    assert len(LONG_NAME) <= width(files, at["File"]) <= CAPPED  # not "invoice-ac"
    assert width(files, at["Non-empty cells"]) > len("Non-empty cells")  # not "Non-empt"
    assert width(files, at["Message"]) <= CAPPED

    by_name = {Path(f.path).name: f for f in report.files}
    ok, failed = row_of(files, at["File"], LONG_NAME), row_of(files, at["File"], "damaged.xlsx")
    assert files[f"{at['Rows']}{ok}"].value == by_name[LONG_NAME].result["sheets"][0]["rows"]
    assert files[f"{at['Rows']}{ok}"].number_format == "#,##0"
    assert files[f"{at['Non-empty cells']}{ok}"].number_format == "#,##0"
    assert files[f"{at['Numeric sum']}{ok}"].number_format == "#,##0.00"  # the amounts have cents
    took = files[f"{at['Time']}{ok}"]
    assert isinstance(took.value, dt.timedelta)
    assert took.number_format in (FORMATS["duration"], FORMATS_MS["duration"])

    link = files[f"{at['File']}{ok}"].hyperlink
    assert link is not None and link.target == file_uri(by_name[LONG_NAME].path)
    assert Path(local_path(link.target)) == inputs / LONG_NAME
    assert all(tinted(cell) for cell in files[failed])
    assert not any(tinted(cell) for cell in files[ok])
    assert files[f"{at['Problem']}{failed}"].value == "corrupt"


def test_summary_sheets_and_columns_show_numbers_and_dates_as_such(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    run("summarize", inputs, out)
    book = openpyxl.load_workbook(out / "summary.xlsx")
    sheets, cols = book["Sheets"], book["Columns"]
    assert_report_sheet(sheets, 2)
    assert_report_sheet(cols, 14)  # two ledgers of seven columns
    at = columns(cols)
    date_row = row_of(cols, at["Header"], "Date", File=LONG_NAME)
    low = cols[f"{at['Min']}{date_row}"]
    first_day = min(row[0] for row in corpus.ledger_truth(60, 1)[1:])
    assert low.is_date and low.value == dt.datetime.combine(first_day, dt.time())  # openpyxl reads a datetime
    assert low.number_format == FORMATS["date"]
    quantity = row_of(cols, at["Header"], "Quantity", File=LONG_NAME)
    assert isinstance(cols[f"{at['Max']}{quantity}"].value, int)
    assert cols[f"{at['Max']}{quantity}"].number_format == "General"  # a whole number stays as typed
    mean = cols[f"{at['Mean']}{quantity}"]
    assert mean.number_format.startswith("#,##0.") and mean.value != int(mean.value)
    assert cols[f"{at['File']}{date_row}"].hyperlink is not None


def test_exceptions_link_their_files_and_tint_failed_ones(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    report = run("validate", inputs, out, required_columns="Amount", ranges="Quantity=1..10")
    assert str(out / "exceptions.xlsx") in report.outputs
    book = openpyxl.load_workbook(out / "exceptions.xlsx")
    issues, summary = book["Exceptions"], book["Summary"]
    listed = sum(len((f.result or {}).get("listed", [])) for f in report.files)
    assert listed > 0
    assert_report_sheet(issues, listed)
    at = columns(issues)
    assert issues[f"{at['File']}2"].hyperlink.target.startswith("file:///")
    assert width(issues, at["Problem"]) > DEFAULT_WIDTH
    assert_report_sheet(summary, 3)
    at = columns(summary)
    failed = row_of(summary, at["File"], "damaged.xlsx")
    assert all(tinted(cell) for cell in summary[failed])
    ok = row_of(summary, at["File"], "b.xlsx")
    assert summary[f"{at['Rows checked']}{ok}"].number_format == "#,##0"
    assert Path(local_path(summary[f"{at['File']}{ok}"].hyperlink.target)) == inputs / "b.xlsx"


def test_combined_table_is_fitted_and_filtered_and_keeps_whole_numbers_as_typed(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    report = run("combine", inputs, out)
    combined = out / "combined.xlsx"
    assert str(combined) in report.outputs
    sheet = openpyxl.load_workbook(combined)["Combined"]
    assert_report_sheet(sheet, 90)
    at = columns(sheet)
    assert width(sheet, at["Source file"]) >= len(LONG_NAME)
    assert sheet[f"{at['Amount']}2"].number_format == "#,##0.00"  # a column of fractions: separators
    assert sheet[f"{at['Quantity']}2"].number_format == "General"  # whole numbers: as typed
    assert sheet[f"{at['Date']}2"].is_date and sheet[f"{at['Date']}2"].number_format == FORMATS["date"]
    assert sheet[f"{at['Source file']}2"].hyperlink is None  # data rows, not file rows


def test_extracted_table_links_each_file(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    run("extract", inputs, out, fields=["Total=Sales!G2", "Day=Sales!A2", "Count=Sales!E2"])
    sheet = openpyxl.load_workbook(out / "extracted.xlsx")["Extracted"]
    assert_report_sheet(sheet, 2)
    at = columns(sheet)
    row = row_of(sheet, at["Source file"], LONG_NAME)
    assert Path(local_path(sheet[f"{at['Source file']}{row}"].hyperlink.target)) == inputs / LONG_NAME
    totals = [corpus.ledger_truth(60, 1)[1][6], corpus.ledger_truth(30, 2)[1][6]]  # G2 of each ledger
    places = max(len(repr(total).partition(".")[2].rstrip("0")) for total in totals)
    assert places and sheet[f"{at['Total']}{row}"].number_format == "#,##0." + "0" * places  # digits all shown
    assert sheet[f"{at['Day']}{row}"].is_date
    assert sheet[f"{at['Count']}{row}"].number_format == "General"


def test_exported_errors_are_tinted_linked_and_fitted(tmp_path: Path) -> None:
    header = ["File", "Folder", "Problem", "Kind", "What happened", "What to do", "Detail"]
    rows = [
        ["a b.xlsx", "C:\\Données\\In", "Damaged file", "corrupt", "The file is damaged and cannot be read.", "", ""],
        ["c.xlsx", "/srv/in", "Empty", "empty", "No values.", "Check it.", "x" * 500],
    ]
    paths = ["C:\\Données\\In\\a b.xlsx", "/srv/in/c.xlsx"]
    target = write_error_table(tmp_path / "errors.xlsx", header, rows, paths)
    sheet = openpyxl.load_workbook(target)["Errors"]
    assert_report_sheet(sheet, 2)
    assert sheet["A2"].hyperlink.target == "file:///C:/Données/In/a%20b.xlsx"
    assert sheet["A3"].hyperlink.target == "file:///srv/in/c.xlsx"
    assert all(tinted(cell) for row in sheet.iter_rows(min_row=2) for cell in row)
    assert width(sheet, "E") >= len(rows[0][4]) and MAX_WIDTH <= width(sheet, "G") <= CAPPED
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [[v or None for v in r] for r in rows]
