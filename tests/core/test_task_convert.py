"""Tests of the `convert` task: every input format to xlsx and xlsx to CSV, checked with other readers
(openpyxl for xlsx, the csv module for CSV) against values the tests write themselves."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
import xlsxwriter

from tests.core.task_kit import (
    as_datetime,
    files_under,
    read_xlsx,
    run_task,
    sha256,
    write_csv_lines,
    write_ods,
    write_xls,
    write_xlsx_openpyxl,
)
from xlbatch import errors
from xlbatch.errors import Cancelled
from xlbatch.params import InvalidParams
from xlbatch.preflight import sniff
from xlbatch.tasks import get_task
from xlbatch.tasks.base import FileContext
from xlbatch.tasks.convert import Convert

BOM = b"\xef\xbb\xbf"

SALES = [
    ["Name", "Amount", "When", "Paid", "Note"],
    ["Café Olé", 12.5, dt.date(2024, 1, 31), True, "=1+1"],
    ["Smith & Sons", 3, dt.datetime(2024, 2, 1, 10, 30), False, "+plus"],
    ["-minus", -4, None, None, "@at"],
    ["=cmd", 1_000_000, dt.date(1999, 12, 31), True, None],
]
OTHER = [["Code", "Qty"], ["A1", 1], ["B2", 2]]


def expected_csv_cell(value: object) -> str:
    """How a value must read back from the CSV, written out here independently of the code under test."""
    if value is None:
        return ""
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def read_csv(path, delimiter=",", encoding="utf-8-sig"):
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=delimiter))


def padded(rows):
    """Rows as a rectangular CSV has them: every row as wide as the widest."""
    width = max(len(r) for r in rows)
    return [list(r) + [None] * (width - len(r)) for r in rows]


def test_xlsx_to_csv_one_file_per_sheet_values_read_back(tmp_path, frozen_inputs):
    src = tmp_path / "in"
    src.mkdir()
    book = write_xlsx_openpyxl(src / "report.xlsx", {"Sales": SALES, "Other": OTHER})
    frozen_inputs.append(src)
    before = sha256(book)
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], {"to": "csv"}, out).outcomes

    assert outcomes[0].status == "ok"
    assert outcomes[0].result == {"sheets": 2, "rows": len(SALES) + len(OTHER), "outputs": 2}
    assert [p.name for p in files_under(out)] == ["report - Other.csv", "report - Sales.csv"]
    sales = out / "report - Sales.csv"
    assert sales.read_bytes().startswith(BOM)
    assert read_csv(sales) == [[expected_csv_cell(v) for v in row] for row in padded(SALES)]
    assert read_csv(out / "report - Other.csv") == [[expected_csv_cell(v) for v in row] for row in OTHER]
    # Neutralised, not dropped: "=cmd" reads back as the text '=cmd.
    assert read_csv(sales)[4][0] == "'=cmd"
    assert sha256(book) == before


def test_single_sheet_csv_named_after_file_with_delimiter_and_encoding(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "prices.xlsx", {"Only": [["Item", "Price"], ["Crème", 2.25], ["Thé", 3]]})
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], {"to": "csv", "delimiter": "semicolon", "encoding": "cp1252"}, out).outcomes

    assert outcomes[0].result == {"sheets": 1, "rows": 3, "outputs": 1}
    target = out / "prices.csv"
    assert [p.name for p in files_under(out)] == ["prices.csv"]
    raw = target.read_bytes()
    assert not raw.startswith(BOM)
    assert "Crème".encode("cp1252") in raw
    assert read_csv(target, ";", "cp1252") == [["Item", "Price"], ["Crème", "2.25"], ["Thé", "3"]]


def test_tab_delimiter_and_plain_utf8(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "t.xlsx", {"S": [["a", "b"], ["x, y", "ü"]]})
    out = tmp_path / "out"
    run_task(Convert, [book], {"to": "csv", "delimiter": "tab", "encoding": "utf-8"}, out)
    raw = (out / "t.csv").read_bytes()
    assert not raw.startswith(BOM)
    assert raw.decode("utf-8") == "a\tb\r\nx, y\tü\r\n"


def test_sheets_parameter_by_name_and_position(tmp_path):
    sheets = {"First": [["x"], [1]], "Second": [["y"], [2]], "Third": [["z"], [3]]}
    book = write_xlsx_openpyxl(tmp_path / "b.xlsx", sheets)
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], {"to": "csv", "sheets": "third, 1"}, out).outcomes
    assert outcomes[0].result["sheets"] == 2
    assert sorted(p.name for p in files_under(out)) == ["b - First.csv", "b - Third.csv"]
    assert read_csv(out / "b - Third.csv") == [["z"], ["3"]]

    out2 = tmp_path / "out2"
    outcomes = run_task(Convert, [book], {"to": "xlsx", "sheets": ["2"]}, out2).outcomes
    assert list(read_xlsx(out2 / "b.xlsx")) == ["Second"]


def test_missing_sheet_fails_the_file_with_a_sentence(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "b.xlsx", {"First": [["x"]]})
    outcomes = run_task(Convert, [book], {"to": "csv", "sheets": "Budget"}, tmp_path / "out").outcomes
    assert outcomes[0].status == "failed"
    assert outcomes[0].error.kind == errors.TASK_ERROR
    assert "Budget" in outcomes[0].error.message
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == []


def test_hostile_sheet_names_become_safe_unique_file_names(tmp_path):
    # '<', '>' and '|' are legal in sheet names but not in Windows file names; both sanitise to "a_b".
    book = write_xlsx_openpyxl(tmp_path / "w.xlsx", {"a<b": [["one"]], "a>b": [["two"]], "CON": [["three"]]})
    out = tmp_path / "out"
    run_task(Convert, [book], {"to": "csv"}, out)
    names = sorted(p.name for p in files_under(out))
    assert names == ["w - CON.csv", "w - a_b (2).csv", "w - a_b.csv"]
    assert all(p.parent == out for p in files_under(out))
    contents = sorted(read_csv(p)[0][0] for p in files_under(out))
    assert contents == ["one", "three", "two"]


def check_typed_sheet(sheet, rows):
    """The xlsx sheet holds `rows` with types intact: numbers numeric, dates dates, '=' text as text."""
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c)
            if value is None:
                assert cell.value is None
            elif isinstance(value, bool):
                assert cell.data_type == "b" and cell.value is value
            elif isinstance(value, int | float):
                assert cell.data_type == "n" and not cell.is_date and cell.value == value
            elif isinstance(value, dt.date):
                assert cell.is_date and cell.value == as_datetime(value)
            else:
                assert cell.data_type == "s" and cell.value == value, (r, c, cell.value, cell.data_type)


def test_xls_to_xlsx_keeps_sheets_types_and_text(tmp_path):
    book = write_xls(tmp_path / "legacy.xls", {"Données": SALES, "Empty": []})
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], None, out).outcomes

    assert outcomes[0].status == "ok"
    assert outcomes[0].result == {"sheets": 2, "rows": len(SALES), "outputs": 1}
    assert any("Empty" in w and "empty" in w for w in outcomes[0].warnings)
    result = openpyxl.load_workbook(out / "legacy.xlsx")
    assert result.sheetnames == ["Données", "Empty"]
    check_typed_sheet(result["Données"], SALES)
    assert result["Données"]["E2"].value == "=1+1" and result["Données"]["E2"].data_type == "s"
    assert result["Empty"].max_row == 1 and result["Empty"]["A1"].value is None


def test_ods_to_xlsx_keeps_sheets_and_types(tmp_path):
    rows = [["x", "n", "d", "b"], ["=1+1", 1.5, dt.date(2024, 1, 31), True], ["y", 2, dt.date(2023, 6, 1), False]]
    book = write_ods(tmp_path / "calc.ods", {"Sheet A": rows, "Sheet B": [["only"]]})
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], {"to": "xlsx"}, out).outcomes
    assert outcomes[0].result == {"sheets": 2, "rows": 4, "outputs": 1}
    result = openpyxl.load_workbook(out / "calc.xlsx")
    assert result.sheetnames == ["Sheet A", "Sheet B"]
    check_typed_sheet(result["Sheet A"], rows)


def test_csv_to_xlsx_numbers_and_iso_dates_become_typed(tmp_path):
    book = write_csv_lines(
        tmp_path / "export.csv",
        ["Name,Amount,When,Stamp", "=1+1,12.5,2024-01-31,2024-02-01 10:30:00", "Zoë,7,not a date,2024-02-30"],
    )
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], None, out).outcomes
    assert outcomes[0].result == {"sheets": 1, "rows": 3, "outputs": 1}
    result = openpyxl.load_workbook(out / "export.xlsx")
    assert result.sheetnames == ["export"]
    check_typed_sheet(
        result["export"],
        [
            ["Name", "Amount", "When", "Stamp"],
            ["=1+1", 12.5, dt.date(2024, 1, 31), "2024-02-01 10:30:00"],
            ["Zoë", 7, "not a date", "2024-02-30"],  # a word among dates stays text, the column stays dates
        ],
    )
    # An impossible date makes its whole column text, with a warning naming it.
    assert outcomes[0].warnings == [
        "Column D 'Stamp' mixes dates (2024-02-01 10:30:00) with dates or times Excel cannot hold (2024-02-30); "
        "its values were kept as text."
    ]


def test_xlsx_to_xlsx_writes_a_values_only_copy(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    path = src / "formulas.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Calc")
    sheet.write_row(0, 0, ["a", "b", "sum"])
    sheet.write_row(1, 0, [2, 3])
    sheet.write_formula(1, 2, "=A2+B2", None, 5)  # the cached value Excel would have saved
    book.close()
    out = tmp_path / "out"
    outcomes = run_task(Convert, [path], {"to": "xlsx"}, out).outcomes
    assert outcomes[0].status == "ok"
    copy = openpyxl.load_workbook(out / "formulas.xlsx")["Calc"]
    assert copy["C2"].value == 5 and copy["C2"].data_type == "n"
    assert [[c.value for c in row] for row in copy.iter_rows()] == [["a", "b", "sum"], [2, 3, 5]]


def test_output_into_the_input_folder_never_overwrites_an_input(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "same.xlsx", {"S": [["x"]]})
    before = sha256(book)
    outcomes = run_task(Convert, [book], {"to": "xlsx"}, tmp_path).outcomes
    assert outcomes[0].status == "failed"
    assert "overwrite an input" in outcomes[0].error.message
    assert sha256(book) == before


def test_outputs_mirror_subfolders(tmp_path):
    root = tmp_path / "in"
    (root / "2024" / "q1").mkdir(parents=True)
    book = write_xlsx_openpyxl(root / "2024" / "q1" / "jan.xlsx", {"S": [["x"], [1]]})
    out = tmp_path / "out"
    run_task(Convert, [book], {"to": "csv"}, out, root=root)
    assert files_under(out) == [out / "2024" / "q1" / "jan.csv"]


def test_empty_sheet_to_csv_still_written_with_a_warning(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "e.xlsx", {"Data": [["x"], [1]], "Blank": []})
    out = tmp_path / "out"
    outcomes = run_task(Convert, [book], {"to": "csv"}, out).outcomes
    assert (out / "e - Blank.csv").exists()
    assert read_csv(out / "e - Blank.csv") == []
    assert any("'Blank' is empty" in w for w in outcomes[0].warnings)
    assert outcomes[0].result == {"sheets": 2, "rows": 2, "outputs": 2}


def test_cp1252_warns_when_characters_cannot_be_stored(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "u.xlsx", {"S": [["name"], ["東京"]]})
    outcomes = run_task(Convert, [book], {"to": "csv", "encoding": "cp1252"}, tmp_path / "out").outcomes
    assert any("cp1252" in w for w in outcomes[0].warnings)


def test_progress_within_the_file_and_stop_request(tmp_path):
    lines = ["n,v"] + [f"{i},x{i}" for i in range(4500)]
    book = write_csv_lines(tmp_path / "long.csv", lines)
    source = sniff(book)
    params = Convert.validate({"to": "xlsx"})
    checks = []
    reports = []
    ctx = FileContext(
        source,
        tmp_path / "out",
        report=lambda fraction, message: reports.append(fraction),
        should_stop=lambda: checks.append(1) or False,
    )
    result = Convert().process(source, params, ctx)
    assert result["rows"] == 4501
    # progress() is called at least every 2000 rows (each call checks for a stop request) and ends at 1.0.
    assert len(checks) >= 3
    assert reports[-1] == 1.0

    stopping = FileContext(source, tmp_path / "out2", should_stop=lambda: True)
    with pytest.raises(Cancelled):
        Convert().process(source, params, stopping)
    assert not (tmp_path / "out2").exists() or files_under(tmp_path / "out2") == []


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ({"to": "pdf"}, "to"),
        ({"delimiter": "pipe"}, "delimiter"),
        ({"encoding": "latin-9"}, "encoding"),
        ({"sheet": "1"}, "sheet"),  # unknown name: the task's parameter is 'sheets'
    ],
)
def test_invalid_params_are_refused_naming_the_parameter(raw, name):
    with pytest.raises(InvalidParams) as caught:
        Convert.validate(raw)
    assert f"'{name}'" in str(caught.value)
    assert caught.value.param == name


def test_registered_and_described_for_the_form():
    assert get_task("convert") is Convert
    described = json.loads(json.dumps(Convert.describe()))
    params = {p["name"]: p for p in described["params"]}
    assert params["to"]["choices"] == ["xlsx", "csv"] and params["to"]["default"] == "xlsx"
    assert params["delimiter"]["choices"] == ["comma", "semicolon", "tab"]
    assert params["encoding"]["default"] == "utf-8-sig"
    assert params["sheets"]["type"] == "list" and params["sheets"]["default"] == []
