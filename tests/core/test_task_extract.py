"""Tests for the extract task: fields found by cell, defined name and label on forms that drift.

Each test form is generated from a table of true field values placed at known (and deliberately
shifted) positions; the expected extracted table is that truth table, read back with openpyxl.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from tests.core.task_kit import run_task, sha256, write_any, write_xlsx_xlsxwriter
from xlbatch.params import InvalidParams
from xlbatch.tasks.extract import Extract, normalise_label, parse_field

FIELDS = [
    "Customer=B2",
    "Number=label:Invoice no:",
    "Date=label:date",
    "Total=label:Total",
    "Grand=@GrandTotal",
    "Note='My sheet'!A1",
]

# The truth for each form, and how far its layout drifts from the first one.
FORMS: dict[str, dict[str, Any]] = {
    "inv1.xlsx": {
        "Customer": "ACME",
        "Number": "INV-001",
        "Date": dt.datetime(2024, 1, 15),
        "Total": 1250.5,
        "Note": "it's quoted",
        "row_drift": 0,
        "col_drift": 0,
    },
    "inv2.xlsx": {
        "Customer": "Beta & Co",
        "Number": "=INV-002",  # text that looks like a formula must come out as text
        "Date": dt.datetime(2024, 2, 29),
        "Total": 99,
        "Note": None,  # no 'My sheet' in this one
        "row_drift": 1,
        "col_drift": 1,
    },
}


def build_form(path: Path, truth: dict[str, Any]) -> Path:
    """An invoice form: labels in column A, values to the right (drifting), the date below its label."""
    r, c = truth["row_drift"], truth["col_drift"]
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    ws = book.add_worksheet("Invoice")
    ws.write_string(0, 0, "INVOICE")
    ws.write_string(1, 1, truth["Customer"])  # B2: a fixed cell
    ws.write_string(3 + r, 0, "Invoice No:" if r == 0 else "  invoice no ")
    ws.write_string(3 + r, 2 + c, truth["Number"])  # right of the label, with a gap
    ws.write_string(5 + r, 1, "Date:")
    ws.write_datetime(7 + r, 1, truth["Date"], date_format)  # below the label, a blank cell between
    ws.write_string(10 + r, 0, "TOTAL:")
    ws.write_number(10 + r, 1 + c, truth["Total"])
    ws.write_string(12 + r, 0, "Total")  # a later cell with the same label is not used
    ws.write_number(12 + r, 1, -1)
    total_cell = xl_rowcol_to_cell(10 + r, 1 + c, row_abs=True, col_abs=True)
    book.define_name("GrandTotal", f"=Invoice!{total_cell}")
    if truth["Note"] is not None:
        book.add_worksheet("My sheet").write_string(0, 0, truth["Note"])
    book.close()
    return path


def expected_row(name: str) -> list[Any]:
    truth = FORMS[name]
    return [name, truth["Customer"], truth["Number"], truth["Date"], truth["Total"], truth["Total"], truth["Note"]]


def test_fields_found_despite_drift_and_table_read_back(tmp_path: Path) -> None:
    paths = [build_form(tmp_path / name, truth) for name, truth in FORMS.items()]
    hashes = [sha256(p) for p in paths]
    run = run_task(Extract, paths, {"fields": FIELDS}, tmp_path / "out")
    assert [sha256(p) for p in paths] == hashes

    first = run.outcome("inv1.xlsx")
    assert first.status == "ok" and first.warnings == []
    assert first.result["found"] == 6 and first.result["missing"] == []
    second = run.outcome("inv2.xlsx")
    assert second.status == "ok"
    assert second.result["missing"] == ["Note"] and second.result["found"] == 5
    assert second.result["fields"]["Note"] is None
    assert len(second.warnings) == 1 and "Note" in second.warnings[0] and "My sheet" in second.warnings[0]

    out = tmp_path / "out" / "extracted.xlsx"
    assert run.folder.outputs == [str(out)]
    book = openpyxl.load_workbook(out)
    ws = book.worksheets[0]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0] == ["Source file", "Customer", "Number", "Date", "Total", "Grand", "Note"]
    assert rows[1:] == [expected_row("inv1.xlsx"), expected_row("inv2.xlsx")]
    assert ws["C3"].data_type == "s"  # "=INV-002" is text, not a formula
    assert ws["D2"].is_date
    book.close()


def test_missing_fields_are_empty_with_warnings_not_failures(tmp_path: Path) -> None:
    blank = write_xlsx_xlsxwriter(tmp_path / "blank.xlsx", {"Sheet1": [["Nothing to see"], [None, None]]})
    run = run_task(Extract, [blank], {"fields": FIELDS}, tmp_path / "out")
    outcome = run.outcome("blank.xlsx")
    assert outcome.status == "ok"
    assert outcome.result["found"] == 0
    assert outcome.result["missing"] == ["Customer", "Number", "Date", "Total", "Grand", "Note"]
    assert len(outcome.warnings) == 6
    for name, warning in zip(outcome.result["missing"], outcome.warnings, strict=True):
        assert warning.startswith(f"Field '{name}'")
    rows = [list(r) for r in openpyxl.load_workbook(tmp_path / "out" / "extracted.xlsx").worksheets[0].values]
    assert rows[1] == ["blank.xlsx", None, None, None, None, None, None]


def test_label_with_nothing_after_it(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "f.xlsx", {"S": [["Total:"], [None, "elsewhere"]], "T": [["Total", 5]]})
    run = run_task(Extract, [src], {"fields": "Total=label:Total"}, tmp_path / "out")
    outcome = run.outcome("f.xlsx")
    # The first matching label (sheet S) has no value right of or below it; sheet T is not searched.
    assert outcome.result["fields"] == {"Total": None}
    assert "no value follows it" in outcome.warnings[0]


def test_defined_names(tmp_path: Path) -> None:
    path = tmp_path / "names.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Data")
    ws.write_string(0, 0, "top-left")
    ws.write_number(0, 1, 2)
    ws.write_number(4, 3, 42)
    book.add_worksheet("Other")
    book.define_name("Answer", "=Data!$D$5")
    book.define_name("Block", "=Data!$A$1:$B$1")
    book.define_name("Other!Local", "=Data!$B$1")
    book.define_name("Rate", "=0.2")
    book.close()
    fields = ["A=@answer", "B=@Block", "L=@Local", "R=@Rate", "N=@Nowhere"]
    run = run_task(Extract, [path], {"fields": fields}, tmp_path / "out")
    outcome = run.outcome("names.xlsx")
    assert outcome.result["fields"] == {"A": 42, "B": "top-left", "L": 2, "R": None, "N": None}
    text = " ".join(outcome.warnings)
    assert "several cells" in text and "'Rate' does not point to a cell" in text and "no defined name 'Nowhere'" in text

    # Other formats have no defined names to read: a warning, and the other fields still come out.
    csv_path = tmp_path / "form.csv"
    csv_path.write_text("Total,7\n", encoding="utf-8")
    run = run_task(Extract, [csv_path], {"fields": ["A=@Answer", "T=label:total"]}, tmp_path / "out2")
    outcome = run.outcome("form.csv")
    assert outcome.status == "ok"
    assert outcome.result["fields"] == {"A": None, "T": 7}
    assert "only be read from .xlsx and .xlsm" in outcome.warnings[0]


def test_csv_output_with_subfolders(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "north").mkdir(parents=True)
    (root / "south").mkdir()
    a = write_xlsx_xlsxwriter(root / "north" / "form.xlsx", {"S": [["Total", "=1+1"], ["When", dt.date(2024, 5, 1)]]})
    b = write_xlsx_xlsxwriter(root / "south" / "form.xlsx", {"S": [["Total", 12.5], ["When", "soon"]]})
    params = {"fields": ["Total=label:total", "When=label:When"], "output_format": "CSV"}
    run = run_task(Extract, [a, b], params, tmp_path / "out", root=root)
    out = tmp_path / "out" / "extracted.csv"
    assert run.folder.outputs == [str(out)]
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows == [
        ["Source file", "Total", "When"],
        ["north/form.xlsx", "'=1+1", "2024-05-01"],  # a formula-like value is neutralised
        ["south/form.xlsx", "12.5", "soon"],
    ]


@pytest.mark.parametrize(
    ("spec", "sheet", "row", "column"),
    [
        ("A=B2", None, 2, 2),
        ("A = Sheet1!$C$7", "Sheet1", 7, 3),
        ("A='It''s here'!AA10", "It's here", 10, 27),
        ("A=2024!B2", "2024", 2, 2),
        ("A=xfd1048576", None, 1048576, 16384),
    ],
)
def test_cell_specs_parse(spec: str, sheet: str | None, row: int, column: int) -> None:
    field = parse_field(spec)
    assert (field.name, field.kind, field.sheet, field.row, field.column) == ("A", "cell", sheet, row, column)


def test_label_matching_rule() -> None:
    for text in ("Total", "total:", "  TOTAL :", "Total:"):
        assert normalise_label(text) == normalise_label("Total:") == "total"
    assert normalise_label("Grand  total") == normalise_label("grand total")
    assert normalise_label("Totals") != normalise_label("Total")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ([], "at least one"),
        (["Total"], "'Total' must look like"),
        (["Total=Sheet1!B2:C3"], "field 'Total'"),
        (["Total=XFE1"], "field 'Total'"),
        (["Total=label: "], "field 'Total' has an empty label"),
        (["Total=@1bad"], "field 'Total'"),
        (["Total="], "field 'Total' does not say"),
        (["Total=B2", "total=C3"], "'total' is used twice"),
        (["Source file=B2"], "'Source file'"),
    ],
)
def test_bad_field_specs_are_refused(fields: list[str], words: str) -> None:
    with pytest.raises(InvalidParams) as info:
        Extract.validate({"fields": fields})
    assert info.value.param == "fields"
    assert "'fields'" in str(info.value) and words in str(info.value)
    assert re.match(r"^[A-Z].*\.$", str(info.value))


def test_output_format_is_checked() -> None:
    with pytest.raises(InvalidParams) as info:
        Extract.validate({"fields": "A=B2", "output_format": "pdf"})
    assert info.value.param == "output_format" and "xlsx, csv" in str(info.value)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods", ".csv"])
def test_every_readable_format(tmp_path: Path, suffix: str) -> None:
    rows = [["Invoice no:", None, "INV-9"], ["Date"], [None], [dt.date(2024, 1, 5)]]
    src = write_any(tmp_path / f"form{suffix}", {"Form": rows})
    params = {"fields": ["Number=label:invoice no", "When=label:date", "First=A1"]}
    run = run_task(Extract, [src], params, tmp_path / "out")
    fields = run.outcome(src.name).result["fields"]
    assert (fields["Number"], fields["First"]) == ("INV-9", "Invoice no:")
    # A CSV holds the date as text; the reader types it, as Excel does.
    assert isinstance(fields["When"], dt.date) and fields["When"].isoformat()[:10] == "2024-01-05"
