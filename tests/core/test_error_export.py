"""xlbatch.error_export: the Errors tab saved as .xlsx or .csv, values kept as text, never half-written."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from xlbatch.error_export import SHEET_NAME, write_error_table

HEADER = ["File", "Folder", "Problem", "Kind", "What happened", "What to do"]
ROWS = [
    ["=cmd.xlsx", "C:\\Données", "Damaged", "corrupt", "The file is damaged; \"quotes\", commas", "Open it."],
    ["b.xlsx", "/tmp", "Empty", "empty", "+1 line\nand a second", "-"],
]


def test_csv_is_utf8_with_bom_and_formula_like_text_is_neutralised(tmp_path: Path) -> None:
    target = write_error_table(tmp_path / "errors.csv", HEADER, ROWS)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER
    assert rows[1][0] == "'=cmd.xlsx" and rows[1][1:] == ROWS[0][1:]
    assert rows[2][4] == "'+1 line\nand a second" and rows[2][5] == "'-"


def test_xlsx_has_one_sheet_of_text(tmp_path: Path) -> None:
    target = write_error_table(tmp_path / "errors.XLSX", HEADER, iter(ROWS))  # any iterable of rows
    book = openpyxl.load_workbook(target)
    try:
        assert book.sheetnames == ["Errors"]  # what the export has always named it
        sheet = book[SHEET_NAME]
        values = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert values == [HEADER, *ROWS]
        assert sheet["A2"].data_type == "s"  # "=cmd.xlsx" stays text, not a formula
    finally:
        book.close()


def test_a_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    in_the_way = tmp_path / "errors.xlsx"
    in_the_way.mkdir()  # a folder where the file should go: it cannot be replaced
    with pytest.raises(OSError):
        write_error_table(in_the_way, HEADER, ROWS)
    assert [p.name for p in tmp_path.iterdir()] == ["errors.xlsx"] and not any(in_the_way.iterdir())

    def broken_rows():
        yield ROWS[0]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_error_table(tmp_path / "errors.csv", HEADER, broken_rows())
    assert [p.name for p in tmp_path.iterdir()] == ["errors.xlsx"]  # no errors.csv, no temporary file
