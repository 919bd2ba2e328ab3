"""Tests for the validate task: each rule on a crafted sheet gives exactly the issues worked out by hand.

Every data row below carries a note saying which rules it breaks; the expected issue rows are written
from those notes, and exceptions.xlsx is read back with openpyxl and compared with them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.core.task_kit import run_task, sha256, write_any, write_xlsx_xlsxwriter
from xlbatch import errors
from xlbatch.params import InvalidParams
from xlbatch.tasks import validate as validate_module
from xlbatch.tasks.validate import Validate

D = dt.datetime
HEADER = ["ID", "Name", "Amount", "Date", "Region"]
ROWS: list[list[Any]] = [
    HEADER,
    [1, "Alice", 100, D(2024, 1, 5), "N"],  # row 2: clean
    [2, None, 50.5, D(2024, 2, 1), "S"],  # row 3: Name blank
    [2, "Bob", "12", D(2024, 3, 1), "S"],  # row 4: ID repeats row 3; Amount is text
    [None, None, None, None, None],  # row 5: empty, skipped
    [3, "  ", -5, "2024-04-01", "N"],  # row 6: Name blank (spaces); Amount below 0; Date is text
    [4, "Dan", 20000, D(2025, 1, 1), None],  # row 7: Amount above 10000; Date after 2024
    ["4", "Eve", 10, D(2024, 6, 1), "E"],  # row 8: ID is text, and "4" repeats row 7's 4
    [5.5, "Fay", 0, D(2024, 1, 1), "N"],  # row 9: ID has decimals; 0 and 2024-01-01 are inside the ranges
]
PARAMS: dict[str, Any] = {
    "required_columns": ["ID", "name", "Customer"],
    "not_blank": ["Name"],
    "unique": ["ID"],
    "types": ["ID=integer", "Amount=number", "Date=date", "Name=text"],
    "ranges": ["Amount=0..10000", "Date=2024-01-01..2024-12-31"],
}
# (row, column, value, problem) for data.xlsx, sheet Data.
EXPECTED: list[tuple[int, str, Any, str]] = [
    (1, "Customer", None, "Required column is missing."),
    (3, "Name", None, "Value is blank."),
    (4, "ID", "2", "Duplicate key: the same as row 3."),
    (4, "Amount", "12", "Expected a number but found text."),
    (6, "Name", None, "Value is blank."),
    (6, "Amount", -5, "Below the minimum of 0."),
    (6, "Date", "2024-04-01", "Expected a date but found text."),
    (7, "Amount", 20000, "Above the maximum of 10000."),
    (7, "Date", D(2025, 1, 1), "After the latest allowed date 2024-12-31."),
    (8, "ID", "4", "Expected a whole number but found text."),
    (8, "ID", "4", "Duplicate key: the same as row 7."),
    (9, "ID", 5.5, "Expected a whole number but found a number with decimals."),
]
EXPECTED_BY_RULE = {"required_columns": 1, "not_blank": 2, "unique": 2, "types": 4, "ranges": 3}


def _issue_key(issue: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(str(part) for part in issue)


def read_exceptions(path: Path) -> tuple[list[Any], list[tuple[Any, ...]], list[list[Any]]]:
    book = openpyxl.load_workbook(path)
    rows = [tuple(r) for r in book["Exceptions"].iter_rows(values_only=True)]
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    book.close()
    return list(rows[0]), rows[1:], summary


def test_each_rule_gives_exactly_the_expected_issues(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "data.xlsx", {"Intro": [["read me"]], "Data": ROWS})
    before = sha256(src)
    run = run_task(Validate, [src], {**PARAMS, "sheet": "data"}, tmp_path / "out")
    outcome = run.outcome("data.xlsx")
    assert outcome.status == "ok"  # issues are data, not failures
    assert sha256(src) == before
    assert outcome.result["issues"] == len(EXPECTED) == sum(EXPECTED_BY_RULE.values())
    assert outcome.result["by_rule"] == EXPECTED_BY_RULE
    assert outcome.result["rows_checked"] == 7
    assert outcome.result["sheet"] == "Data"
    assert run.progress[-1][0] == 1.0

    header, issues, summary = read_exceptions(tmp_path / "out" / "exceptions.xlsx")
    assert header == ["File", "Sheet", "Row", "Column", "Value", "Problem"]
    assert sorted(map(_issue_key, issues)) == sorted(_issue_key(("data.xlsx", "Data", *e)) for e in EXPECTED)
    dated = [i for i in issues if i[2] == 7 and i[3] == "Date"]
    assert dated[0][4] == D(2025, 1, 1)  # values keep their type in the workbook
    assert summary[1] == ["data.xlsx", "ok", "Data", 7, 12, 0, None]


def test_duplicates_across_the_batch(tmp_path: Path) -> None:
    # Keys are (Region, Code) in that order, wherever the columns sit; they compare ignoring case and spaces.
    a = write_xlsx_xlsxwriter(
        tmp_path / "a.xlsx", {"Data": [["Region", "Code"], ["N", "X1"], ["S", "X2"], ["N", "x1 "]]}
    )
    b = write_xlsx_xlsxwriter(
        tmp_path / "b.xlsx", {"Data": [["code", "region"], ["X2", "S"], ["X3", "N"], ["X1", "n"]]}
    )
    c = write_xlsx_xlsxwriter(tmp_path / "c.xlsx", {"Data": [["Region", "Code"], ["S", "X3"], ["E", "X1"]]})
    run = run_task(Validate, [a, b, c], {"unique": ["Region", "Code"]}, tmp_path / "out")
    assert [o.status for o in run.outcomes] == ["ok", "ok", "ok"]
    assert run.outcome("a.xlsx").result["by_rule"] == {"unique": 1}  # row 4 repeats row 2
    assert run.outcome("b.xlsx").result["issues"] == 0  # nothing repeats inside b
    assert run.outcome("c.xlsx").result["issues"] == 0

    _, issues, summary = read_exceptions(tmp_path / "out" / "exceptions.xlsx")
    across = "Duplicate key across files: also in a.xlsx, sheet 'Data', row {}."
    expected = [
        ("a.xlsx", "Data", 4, "Region, Code", "N | x1", "Duplicate key: the same as row 2."),
        ("b.xlsx", "Data", 2, "region, code", "S | X2", across.format(3)),
        ("b.xlsx", "Data", 4, "region, code", "n | X1", across.format(2)),
    ]
    assert sorted(map(_issue_key, issues)) == sorted(map(_issue_key, expected))
    assert [row[5] for row in summary[1:]] == [0, 2, 0]


def test_numbers_and_text_are_the_same_key_across_files(tmp_path: Path) -> None:
    numbers = write_xlsx_xlsxwriter(tmp_path / "a.xlsx", {"S": [["Invoice"], [1001], [1002.0], [D(2024, 5, 1)]]})
    texts = write_xlsx_xlsxwriter(
        tmp_path / "b.xlsx", {"S": [["Invoice"], ["1002"], [" 1001 "], ["1003"], ["2024-05-01"]]}
    )
    run = run_task(Validate, [numbers, texts], {"unique": "invoice"}, tmp_path / "out")
    assert [o.status for o in run.outcomes] == ["ok", "ok"]
    _, issues, _ = read_exceptions(tmp_path / "out" / "exceptions.xlsx")
    assert sorted((i[0], i[2], i[4]) for i in issues) == [
        ("b.xlsx", 2, "1002"),
        ("b.xlsx", 3, "1001"),
        ("b.xlsx", 5, "2024-05-01"),
    ]


def test_csv_dates_and_header_row(tmp_path: Path) -> None:
    src = tmp_path / "list.csv"
    src.write_text(
        "Export of 2024\nWhen,Paid,Qty\n2024-03-01,TRUE,3\n2023-12-31,yes,4.5\nsoon,FALSE,\n", encoding="utf-8"
    )
    params = {
        "header_row": 2,
        "types": ["When=date", "Paid=bool", "Qty=integer"],
        "ranges": ["When=2024-01-01.."],
        "not_blank": ["qty"],
    }
    run = run_task(Validate, [src], params, tmp_path / "out")
    outcome = run.outcome("list.csv")
    assert outcome.status == "ok"
    assert sorted(tuple(i[:2]) + (i[3],) for i in outcome.result["listed"]) == sorted(
        [
            (4, "When", "Before the earliest allowed date 2024-01-01."),
            (4, "Paid", "Expected TRUE/FALSE but found text."),
            (4, "Qty", "Expected a whole number but found a number with decimals."),
            (5, "When", "Expected a date but found text."),
            (5, "Qty", "Value is blank."),
        ]
    )


def test_missing_columns_and_missing_sheet(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "m.xlsx", {"Data": [["A", "B"], [1, 2]]})
    params = {"required_columns": ["C"], "not_blank": ["C", "D"], "unique": ["A", "E"], "ranges": ["B=0..1"]}
    run = run_task(Validate, [src], params, tmp_path / "out")
    outcome = run.outcome("m.xlsx")
    assert outcome.status == "ok"
    # C is reported once (as required); D and E are reported for the rule that needed them; B is out of range.
    assert sorted((i[0], i[1], i[4]) for i in outcome.result["listed"]) == [
        (1, "C", "required_columns"),
        (1, "D", "not_blank"),
        (1, "E", "unique"),
        (2, "B", "ranges"),
    ]
    assert outcome.result["keys"] == []

    run = run_task(Validate, [src], {"sheet": "Totals", "not_blank": "A"}, tmp_path / "out2")
    failed = run.outcome("m.xlsx")
    assert failed.status == "failed" and failed.error.kind == errors.TASK_ERROR
    assert "Totals" in failed.error.message
    _, issues, summary = read_exceptions(tmp_path / "out2" / "exceptions.xlsx")
    assert issues == []
    assert summary[1][:2] == ["m.xlsx", "failed"] and "Totals" in summary[1][6]


def test_listed_issues_are_capped_but_all_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "MAX_LISTED_ISSUES", 3)
    src = write_xlsx_xlsxwriter(tmp_path / "many.xlsx", {"S": [["V"]] + [[None, f"x{i}"] for i in range(8)]})
    run = run_task(Validate, [src], {"not_blank": "V"}, tmp_path / "out")
    outcome = run.outcome("many.xlsx")
    assert outcome.result["issues"] == 8 and len(outcome.result["listed"]) == 3
    assert any("8 issues" in w for w in outcome.warnings)
    assert any("3 of its 8" in w for w in run.folder.warnings)
    _, issues, _ = read_exceptions(tmp_path / "out" / "exceptions.xlsx")
    assert [i[2] for i in issues] == [2, 3, 4]


@pytest.mark.parametrize(
    ("raw", "param", "words"),
    [
        ({}, "required_columns", "at least one rule"),
        ({"types": "Amount=money"}, "types", "'money'"),
        ({"types": "Amount"}, "types", "Amount=number"),
        ({"ranges": "Amount=10..1"}, "ranges", "starts above"),
        ({"ranges": "Amount=a..b"}, "ranges", "low..high"),
        ({"ranges": "Amount=.."}, "ranges", "no bounds"),
        ({"ranges": "Amount=5"}, "ranges", "low..high"),
        ({"ranges": "When=0..2024-01-01"}, "ranges", "mixes a number and a date"),
        ({"not_blank": "A", "header_row": "0"}, "header_row", "at least 1"),
        ({"not_blank": "A", "sheet": " "}, "sheet", "sheet name or position"),
    ],
)
def test_invalid_parameters_are_refused(raw: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidParams) as info:
        Validate.validate(raw)
    assert info.value.param == param
    assert words in str(info.value) and param in str(info.value)
    assert re.match(r"^[A-Z].*\.$", str(info.value))


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods", ".csv"])
def test_every_readable_format(tmp_path: Path, suffix: str) -> None:
    rows = [["ID", "Amount"], [1, 5], [1, "x"], [2, -1]]
    src = write_any(tmp_path / f"in{suffix}", {"S": rows})
    run = run_task(Validate, [src], {"unique": "ID", "types": "Amount=number", "ranges": "Amount=0.."}, tmp_path / "o")
    outcome = run.outcome(src.name)
    assert outcome.status == "ok"
    assert sorted((i[0], i[1], i[4]) for i in outcome.result["listed"]) == [
        (3, "Amount", "types"),
        (3, "ID", "unique"),
        (4, "Amount", "ranges"),
    ]
