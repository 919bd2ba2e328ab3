"""xlbatch.report_layout and the report sheets of XlsxTableWriter: file links that Windows and POSIX read
back as the same path, widths and formats decided from a sheet's first rows (also in constant_memory mode,
also on a sheet continued past Excel's row limit), Excel's link limit, and generated names without
bidirectional controls."""

from __future__ import annotations

import datetime as dt
import nturl2path
import urllib.parse
import urllib.request
from pathlib import Path

import openpyxl
import pytest

from xlbatch import output_record, writing
from xlbatch.report_layout import AUTO, COUNT, FILE, MEASURE, TEXT, decimals, file_uri
from xlbatch.runner import run_batch
from xlbatch.verify import first_difference
from xlbatch.writing import XlsxTableWriter, safe_filename, safe_sheet_name

BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.mark.parametrize(
    "path",
    [
        "C:\\Users\\Zoë\\Q1 #2 (final) 100%.xlsx",
        "D:/Reports/a?b[1].xlsx",
        "\\\\server\\share\\Año fiscal\\a b.xlsx",
    ],
)
def test_windows_paths_become_file_uris_that_windows_reads_back(path: str) -> None:
    uri = file_uri(path)
    assert uri.startswith("file:") and " " not in uri and "#" not in uri and "\\" not in uri
    assert nturl2path.url2pathname(uri.removeprefix("file:")) == path.replace("/", "\\")


def test_a_drive_path_and_a_share_are_written_as_windows_writes_them() -> None:
    assert file_uri("C:\\Users\\Zoë\\a b.xlsx") == "file:///C:/Users/Zoë/a%20b.xlsx"  # letters kept, not %C3%AB
    assert file_uri("\\\\srv\\share\\a.xlsx") == "file://srv/share/a.xlsx"


@pytest.mark.parametrize("name", ["a b#1.xlsx", "100% ?.xlsx", "Zoë 東京.xlsx", "[x]{y}^`|.xlsx"])
def test_posix_paths_become_file_uris_that_read_back(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    parts = urllib.parse.urlsplit(file_uri(path))
    assert parts.scheme == "file" and parts.netloc == "" and not parts.query and not parts.fragment
    assert urllib.request.url2pathname(parts.path) == path


def test_a_relative_path_links_to_the_file_from_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert file_uri("in/a.xlsx") == file_uri(str(tmp_path / "in" / "a.xlsx"))


def test_decimals_show_a_number_to_its_sixth_decimal() -> None:
    assert [decimals(v) for v in (2.0, 1234.5, 0.1 + 0.2, 12.345, 1 / 3, 1e20, float("nan"))] == [0, 1, 1, 3, 6, 0, 0]


def _recorded(path: Path) -> None:
    output_record.want(path)


def _check(path: Path) -> None:
    record = output_record.take(path)
    assert record is not None and first_difference(path, record) is None


def test_constant_memory_widths_and_formats_come_from_the_first_rows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(writing, "SAMPLE_ROWS", 3)
    path = tmp_path / "t.xlsx"
    _recorded(path)
    with XlsxTableWriter(path, constant_memory=True) as book:
        book.add_sheet("T", ["Name", "Whole", "Amount", "Count", "When"], [TEXT, AUTO, AUTO, COUNT, TEXT])
        for i in range(3):
            book.write_row([f"row {i}", 2020 + i, 1000.25 * i, 12_000 * i, dt.date(2026, 1, 1 + i)])
        book.write_row(["a much longer name that the sample did not see", 3.5, 7.125, 1, None])
    _check(path)
    sheet = openpyxl.load_workbook(path)["T"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E5"
    assert sheet.column_dimensions["A"].width < len("a much longer name")  # measured on the sample only
    assert [sheet[f"{c}2"].number_format for c in "BCDE"] == ["General", "#,##0.00", "#,##0", "yyyy-mm-dd"]
    assert sheet["B5"].number_format == "General" and sheet["C5"].number_format == "#,##0.00"  # as decided
    assert sheet["B5"].value == 3.5 and sheet["C5"].value == 7.125  # the value is kept whatever is shown


def test_a_report_sheet_continued_past_the_row_limit_keeps_its_layout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(writing, "EXCEL_MAX_ROWS", 3)
    path = tmp_path / "t.xlsx"
    _recorded(path)
    with XlsxTableWriter(path) as book:
        book.add_sheet("T", ["File", "Sum"], [FILE, MEASURE])
        for i in range(4):
            book.write_row([f"f{i}.xlsx", i + 0.5], link=str(tmp_path / f"f{i}.xlsx"), failed=i == 3)
    _check(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["T", "T (cont.)"]
    more = book["T (cont.)"]
    assert [c.value for c in more[1]] == ["File", "Sum"] and more.freeze_panes == "A2"
    assert more.auto_filter.ref == "A1:B3" and more["B2"].number_format == "#,##0.0"
    assert more["A3"].hyperlink.target == file_uri(str(tmp_path / "f3.xlsx"))
    assert more["A3"].fill.fill_type == "solid" and more["A2"].fill.fill_type is None


def test_past_excels_link_limit_names_are_plain_text(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(writing, "LINKS_PER_SHEET", 1)
    path = tmp_path / "t.xlsx"
    _recorded(path)
    with XlsxTableWriter(path) as book:
        book.add_sheet("T", ["File"], [FILE])
        book.write_row(["a.xlsx"], link="/in/a.xlsx")
        book.write_row(["b.xlsx"], link="/in/" + "b" * 3000)  # too long for a link
        book.write_row(["c.xlsx"], link="/in/c.xlsx")
    _check(path)
    sheet = openpyxl.load_workbook(path)["T"]
    assert [c.value for c in sheet["A"]] == ["File", "a.xlsx", "b.xlsx", "c.xlsx"]
    assert [c.hyperlink is not None for c in sheet["A"]] == [False, True, False, False]


def test_plain_sheets_get_no_report_layout(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with XlsxTableWriter(path) as book:
        book.add_sheet("Data", ["Region", "Amount"])
        book.write_row(["a rather long region name", 12345.5])
        with pytest.raises(ValueError, match="header"):
            book.add_sheet("Report", None, [TEXT])
    sheet = openpyxl.load_workbook(path)["Data"]
    assert sheet.freeze_panes is None and sheet.auto_filter.ref is None
    assert sheet["B2"].number_format == "General" and "A" not in sheet.column_dimensions


def test_generated_names_drop_bidirectional_controls() -> None:
    assert safe_filename("\u202eevil\u202c.xlsx") == "evil.xlsx"
    assert safe_filename(f"In{BIDI}voice") == "Invoice"
    assert safe_filename(BIDI) == "blank"
    assert safe_sheet_name(f"\u2067East{BIDI}") == "East"
    assert safe_sheet_name("\u202e", set()) == "Sheet"


def test_split_parts_named_from_cell_values_carry_no_bidi_controls(tmp_path: Path, frozen_inputs) -> None:
    src = tmp_path / "in"
    src.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for row in (["Region", "Amount"], ["\u202eexe.xlsx", 1], ["North\u200f", 2]):
        sheet.append(row)
    book.save(src / "sales.xlsx")
    frozen_inputs.append(src)
    out = tmp_path / "out"
    report = run_batch(
        task="split", paths=[str(src)], out_dir=str(out), backend="sequential", params={"by_column": "Region"}
    )
    assert report.counts["ok"] == 1
    names = [Path(p).name for p in report.files[0].outputs]
    assert len(names) == 2 and not [n for n in names if set(n) & set(BIDI)]
    assert any("exe.xlsx" in n for n in names) and any("North" in n for n in names)
