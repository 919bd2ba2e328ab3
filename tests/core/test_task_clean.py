"""Tests for the clean task: counts against a hand-worked messy sheet, and the cleaned copy read back.

The messy sheet below is annotated with what each step must do to each row; the expected counts and
the expected output are worked out by hand from those notes, not by running any of the task's code.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.core.task_kit import run_task, sha256, sheet_values, write_any, write_xlsx_xlsxwriter
from xlbatch.params import InvalidParams
from xlbatch.tasks.clean import Clean, text_number, tidy_header_names

NBSP = "\u00a0"

MESSY: list[list[Any]] = [
    # header: A is trimmed (a trim, not a rename); D repeats "Amount"; E has no name; C is empty throughout
    ["  Customer  Name ", "Amount", None, "Amount", None, "City"],
    ["Alice  Smith", "1,234", None, 5, "x", " Paris "],  # 2 trims, 1 number
    [None, None, None, None, None, None],  # empty row
    ["Alice Smith", 1234, None, 5, "x", "Paris"],  # duplicate of row 2 once cleaned
    ["   ", None, None, None, None, None],  # 1 trim, then an empty row
    ["Bob", "007", None, "12.50", None, "Lyon"],  # "007" is a code and stays text; 1 number
    ["Bob", "007", None, 12.5, None, "Lyon"],  # duplicate of row 6 once cleaned
    ["Carl", "1,234,567.5", None, "1e3", None, f"Nice{NBSP} Côte"],  # 2 numbers, 1 trim
    ["Dan", "12,34", None, "-3", None, "a\n  b"],  # "12,34" is a decimal comma: stays text; 1 number, 1 trim
    ["Eve", " 42 ", None, None, None, "Oslo"],  # " 42 " is 1 trim and 1 number
]
MESSY_COUNTS = {
    "cells_trimmed": 7,
    "empty_rows_dropped": 2,
    "empty_columns_dropped": 1,
    "duplicate_rows_dropped": 2,
    "headers_renamed": 2,
    "numbers_converted": 6,
}
MESSY_CLEANED: list[list[Any]] = [
    ["Customer Name", "Amount", "Amount (2)", "Column 4", "City"],
    ["Alice Smith", 1234, 5, "x", "Paris"],
    ["Bob", "007", 12.5, None, "Lyon"],
    ["Carl", 1234567.5, 1000, None, "Nice Côte"],
    ["Dan", "12,34", -3, None, "a\nb"],
    ["Eve", 42, None, None, "Oslo"],
]
NOTES = [["Title"], [None], ["  note  "], [dt.datetime(2024, 2, 29)]]
NOTES_COUNTS = dict.fromkeys(MESSY_COUNTS, 0) | {"cells_trimmed": 1, "empty_rows_dropped": 1}


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    out = [list(row) for row in rows]
    for row in out:
        while row and row[-1] is None:
            row.pop()
    return out


def test_counts_and_output_match_the_hand_worked_sheet(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "messy.xlsx", {"Data": MESSY, "Notes": NOTES})
    before = sha256(src)
    run = run_task(Clean, [src], {}, tmp_path / "out")
    outcome = run.outcome("messy.xlsx")
    assert outcome.status == "ok", outcome.error
    assert outcome.outputs == [str(tmp_path / "out" / "messy.xlsx")]
    assert sha256(src) == before

    assert outcome.result["per_sheet"] == {"Data": MESSY_COUNTS, "Notes": NOTES_COUNTS}
    assert {k: outcome.result[k] for k in MESSY_COUNTS} == {k: MESSY_COUNTS[k] + NOTES_COUNTS[k] for k in MESSY_COUNTS}

    out = tmp_path / "out" / "messy.xlsx"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Data", "Notes"]
    book.close()
    assert sheet_values(out, "Data") == _trimmed(MESSY_CLEANED)
    notes = sheet_values(out, "Notes")
    assert notes == [["Title"], ["note"], [dt.datetime(2024, 2, 29)]]  # the date is still a date
    assert run.progress[-1][0] == 1.0


def test_every_step_can_be_switched_off(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "messy.xlsx", {"Data": MESSY})
    off = {
        "trim_whitespace": "no",
        "drop_empty_rows": "false",
        "drop_empty_columns": "0",
        "drop_duplicates": "off",
        "tidy_headers": False,
        "text_to_numbers": False,
    }
    run = run_task(Clean, [src], off, tmp_path / "out")
    outcome = run.outcome("messy.xlsx")
    assert {k: outcome.result[k] for k in MESSY_COUNTS} == dict.fromkeys(MESSY_COUNTS, 0)
    # Nothing changes, except that an empty row read back has no cells at all.
    expected = _trimmed(MESSY)
    assert sheet_values(tmp_path / "out" / "messy.xlsx") == expected


def test_one_step_at_a_time(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "messy.xlsx", {"Data": MESSY})
    run = run_task(Clean, [src], {"drop_duplicates": False}, tmp_path / "out")
    counts = run.outcome("messy.xlsx").result
    assert counts["duplicate_rows_dropped"] == 0
    rows = sheet_values(tmp_path / "out" / "messy.xlsx")
    # The two duplicates (rows 4 and 7 of the input) stay, right after the rows they repeat.
    assert rows == _trimmed(
        MESSY_CLEANED[:2] + [MESSY_CLEANED[1]] + [MESSY_CLEANED[2], MESSY_CLEANED[2]] + MESSY_CLEANED[3:]
    )

    run = run_task(Clean, [src], {"drop_empty_columns": False, "tidy_headers": False}, tmp_path / "out2")
    counts = run.outcome("messy.xlsx").result
    assert (counts["empty_columns_dropped"], counts["headers_renamed"]) == (0, 0)
    assert sheet_values(tmp_path / "out2" / "messy.xlsx")[0] == [
        "Customer Name",
        "Amount",
        None,
        "Amount",
        None,
        "City",
    ]


def test_header_row_below_a_title(tmp_path: Path) -> None:
    rows = [
        ["Report"],
        ["Report"],  # above the header: not data, so not a duplicate
        ["Id", "id", None, "2024"],  # the header: "id" repeats "Id" ignoring case; "2024" stays text
        ["1", "a", None, "3"],
        ["1", "a", None, "3"],  # duplicate data row
        ["Id", "id", None, "2024"],  # data that repeats the header is data: kept, its number converted
    ]
    src = write_xlsx_xlsxwriter(tmp_path / "t.xlsx", {"S": rows})
    run = run_task(Clean, [src], {"header_row": "3"}, tmp_path / "out")
    result = run.outcome("t.xlsx").result
    assert result["headers_renamed"] == 1
    assert result["numbers_converted"] == 5
    assert result["duplicate_rows_dropped"] == 1
    assert result["empty_columns_dropped"] == 1
    assert sheet_values(tmp_path / "out" / "t.xlsx") == [
        ["Report"],
        ["Report"],
        ["Id", "id (2)", "2024"],
        [1, "a", 3],
        ["Id", "id", 2024],
    ]


def test_empty_header_row_is_left_alone_with_a_warning(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "e.xlsx", {"S": [[None], ["Name", "Name"], ["a", "b"]]})
    run = run_task(Clean, [src], {}, tmp_path / "out")
    outcome = run.outcome("e.xlsx")
    assert outcome.result["headers_renamed"] == 0
    assert any("header row" in w and "header_row" in w for w in outcome.warnings)
    assert sheet_values(tmp_path / "out" / "e.xlsx") == [["Name", "Name"], ["a", "b"]]


def test_csv_input_gives_xlsx_with_text_kept_as_text(tmp_path: Path) -> None:
    src = tmp_path / "list.csv"
    src.write_text('Name ,Amount\n  =1+2  ,"1,234"\n,\n@SUM(1),5\n', encoding="utf-8")
    run = run_task(Clean, [src], {}, tmp_path / "out")
    outcome = run.outcome("list.csv")
    assert outcome.status == "ok", outcome.error
    out = tmp_path / "out" / "list.xlsx"
    book = openpyxl.load_workbook(out)
    ws = book.worksheets[0]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [["Name", "Amount"], ["=1+2", 1234], ["@SUM(1)", 5]]
    assert ws["A2"].data_type == "s"  # text starting with '=' is not a live formula
    book.close()
    # The reader already reads the quoted "1,234" of a comma-separated file as 1234: nothing left to convert.
    assert (outcome.result["cells_trimmed"], outcome.result["numbers_converted"]) == (2, 0)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        (" -2.5 ", -2.5),
        ("1e3", 1000.0),
        ("+7", 7),
        ("1,234", 1234),
        ("12,345,678.25", 12345678.25),
        ("0", 0),
        ("0.75", 0.75),
        ("007", None),  # a code with a leading zero
        ("0,5", None),  # a decimal comma
        ("12,34", None),
        ("1,23,456", None),
        ("1234567890123456", None),  # 16 digits: Excel would lose the last one
        ("123456789012345", 123456789012345),
        ("1.2.3", None),
        ("12 345", None),
        ("abc", None),
        ("", None),
    ],
)
def test_text_number_rules(text: str, number: float | None) -> None:
    result = text_number(text)
    assert result == number
    if number is not None:
        assert type(result) is type(number)


def test_tidy_header_names() -> None:
    assert tidy_header_names([" A ", None, "a", "A (2)", None, 2024, "2024"]) == [
        "A",
        "Column 2",
        "a (3)",  # "A (2)" already exists, so the repeat takes the next free number
        "A (2)",
        "Column 5",
        2024,
        "2024 (2)",
    ]


@pytest.mark.parametrize(
    ("raw", "param", "words"),
    [
        ({"header_row": "0"}, "header_row", "at least 1"),
        ({"header_row": "two"}, "header_row", "whole number"),
        ({"trim_whitespace": "maybe"}, "trim_whitespace", "true or false"),
        ({"drop_blank": True}, "drop_blank", "Unknown parameter"),
    ],
)
def test_invalid_parameters_are_refused(raw: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidParams) as info:
        Clean.validate(raw)
    assert info.value.param == param
    assert f"'{param}'" in str(info.value) and words in str(info.value)
    assert re.match(r"^[A-Z].*\.$", str(info.value))


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods", ".csv"])
def test_every_readable_format(tmp_path: Path, suffix: str) -> None:
    rows = [["Name ", "Qty"], ["a", "5"], ["a", 5], [None, None], ["b", 2.5]]
    src = write_any(tmp_path / f"in{suffix}", {"S": rows})
    run = run_task(Clean, [src], {}, tmp_path / "out")
    outcome = run.outcome(src.name)
    assert outcome.status == "ok", outcome.error
    assert (outcome.result["cells_trimmed"], outcome.result["duplicate_rows_dropped"]) == (1, 1)
    assert outcome.result["empty_rows_dropped"] == 1
    # CSV numbers are numbers when read; in a workbook "5" is text until this task converts it.
    assert outcome.result["numbers_converted"] == (0 if suffix == ".csv" else 1)
    assert sheet_values(tmp_path / "out" / "in.xlsx") == [["Name", "Qty"], ["a", 5], ["b", 2.5]]


def test_outputs_mirror_the_input_folders(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "2024" / "march").mkdir(parents=True)
    src = write_xlsx_xlsxwriter(root / "2024" / "march" / "sales.xlsx", {"S": [["A"], [" x "]]})
    run = run_task(Clean, [src], {}, tmp_path / "out", root=root)
    target = tmp_path / "out" / "2024" / "march" / "sales.xlsx"
    assert run.outcome("sales.xlsx").outputs == [str(target)]
    assert sheet_values(target) == [["A"], ["x"]]
