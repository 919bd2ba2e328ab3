"""Sheet extents and the sparse reader: the streaming path gives exactly what python-calamine gives, stray
cells are read rather than refused, references past XFD are `corrupt`, and the tasks stay cheap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.core.sparse_books import (
    past_xfd_book,
    realworld,
    stray_book,
    typed_package,
    xlsxwriter_typed,
)
from xlbatch import errors, extent
from xlbatch.errors import TaskFailure
from xlbatch.preflight import sniff
from xlbatch.sparse_reader import SparseWorkbook
from xlbatch.tasks.sheet_stats import _even_out, summarize_sheet
from xlbatch.workbook import open_workbook, trim_row
from xlbatch.xlsx_parts import DATETIME, DURATION, NUMBER, format_kind

REALWORLD = realworld()


def _openpyxl_typed(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Mixed"
    sheet.append(["Date", "When", "Time", "Amount", "Flag", "Note"])
    sheet.append([dt.date(2023, 1, 5), dt.datetime(2023, 1, 5, 8, 15), dt.time(8, 15), 12.5, True, "a  b"])
    sheet.append([dt.date(1904, 1, 1), dt.datetime(2099, 12, 31, 23, 59, 59), dt.time(0, 0, 1), -0.1, False, None])
    sheet["D2"].number_format = "0.00"
    sheet["F9"] = "after a gap"
    sheet["H20"] = dt.timedelta(hours=50)
    book.save(path)
    return path


def _both_paths(path: Path, fmt: str = "xlsx") -> list[tuple[str, list, list]]:
    """(sheet, dense rows, sparse rows) of every worksheet; dense rows trimmed of their padding."""
    found = []
    with open_workbook(path, fmt) as book, SparseWorkbook(str(path)) as sparse:
        for sheet in extent.measure(str(path), fmt):
            if not sheet.part:
                continue
            dense = [trim_row(row) for row in book.rows(sheet.name)]
            streamed = list(sparse.rows(dataclasses.replace(sheet, ordered=True, sparse=True)))
            found.append((sheet.name, dense, streamed))
    return found


def _typed(rows: list[list]) -> list[list]:
    """Each value with its type (True is not 1, 1.0 is not 1); NaN made comparable."""
    return [[(type(v), "nan" if v != v else v) for v in row] for row in rows]


def _equivalence_inputs(tmp_path: Path) -> list[Path]:
    made = [
        typed_package(tmp_path / "typed-1900.xlsx", date1904=False),
        typed_package(tmp_path / "typed-1904.xlsx", date1904=True),
        xlsxwriter_typed(tmp_path / "xlsxwriter.xlsx"),
        _openpyxl_typed(tmp_path / "openpyxl.xlsx"),
        stray_book(tmp_path / "stray.xlsx", "SG200001"),
    ]
    if REALWORLD is not None:
        for source in sorted((REALWORLD / "calamine").iterdir()):
            if source.suffix in (".xlsx", ".xlsm"):
                made.append(Path(shutil.copy(source, tmp_path / source.name)))
    return made


def test_the_sparse_reader_gives_what_calamine_gives(tmp_path: Path) -> None:
    compared = 0
    for path in _equivalence_inputs(tmp_path):
        fmt = "xlsm" if path.suffix == ".xlsm" else "xlsx"
        try:
            pairs = _both_paths(path, fmt)
        except Exception:  # noqa: BLE001 - damaged, encrypted: neither reader reads it, as test_hostile checks
            assert REALWORLD is not None and path.parent == tmp_path and not path.name.startswith("typed")
            assert path.name not in {"xlsxwriter.xlsx", "openpyxl.xlsx", "stray.xlsx"}
            with pytest.raises(BaseException), open_workbook(path, fmt) as book:  # noqa: B017 - calamine's errors
                for name in book.sheet_names:
                    list(book.rows(name))
            continue
        for sheet, dense, streamed in pairs:
            assert _typed(streamed) == _typed(dense), f"{path.name} / {sheet}"
            compared += 1
    assert compared >= (60 if REALWORLD is not None else 5)


@pytest.mark.skipif(REALWORLD is None, reason="the shared real-world workbooks (../shared/realworld) are absent")
def test_real_world_workbooks_are_all_compared(tmp_path: Path) -> None:
    books = [p for p in _equivalence_inputs(tmp_path) if p.parent == tmp_path and p.name not in {"stray.xlsx"}]
    assert len(books) > 60


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("DD/MM/YY", DATETIME),
        ("H:MM:SS;@", DATETIME),
        ("#,##0\\ [$\\u20bd-46D]", NUMBER),
        ('m"M"d"D";@', DATETIME),
        ("[h]:mm:ss", DURATION),
        ('"Y: "0.00"m";"Y: "-0.00"m";"Y: <num>m";@', NUMBER),
        ('"$"#,##0_);[Red]("$"#,##0)', NUMBER),
        ("0_ ;[Red]\\-0\\ ", NUMBER),
        ("\\Y000000", NUMBER),
        ('#,##0.0####" YMD"', NUMBER),
        ("[h]", DURATION),
        ("[ss]", DURATION),
        ("[s].000", DURATION),
        ("[Blue]\\+[h]:mm;[Red]\\-[h]:mm;[Green][h]:mm", DURATION),
        ("[>=100][Magenta][s].00", DURATION),
        ("[>=100][Magenta].00", NUMBER),
        ("[>=100][Magenta]General", NUMBER),
        ("ha/p\\\\m", DATETIME),
        ('#,##0.00\\ _M"H"_);[Red]#,##0.00\\ _M"S"_)', NUMBER),
        ("0.00", NUMBER),
    ],
)
def test_number_formats_are_typed_as_calamine_types_them(code: str, kind: int) -> None:
    assert format_kind(code) == kind


def test_stray_cells_are_measured_and_read_sparsely(tmp_path: Path) -> None:
    for ref, rows, cols in (("SG200001", 200_001, 501), ("XFD1048576", 1_048_576, 16_384)):
        source = sniff(stray_book(tmp_path / f"{ref}.xlsx", ref))
        (sheet,) = source.extents
        assert (sheet.max_row, sheet.max_col, sheet.sparse) == (rows, cols, True)
        assert sheet.cells == 7
        with open_workbook(source) as book:
            rows_read = list(book.rows("Data"))
        assert rows_read[:3] == [["Name", "Amount"], ["north", 5], ["south", 7.5]]
        assert len(rows_read) == rows and rows_read[-1][-1] == 1 and len(rows_read[-1]) == cols
        assert all(row == [] for row in rows_read[3:-1])


def test_a_small_sheet_is_still_read_densely(tmp_path: Path) -> None:
    (sheet,) = sniff(stray_book(tmp_path / "near.xlsx", "D40")).extents
    assert (sheet.max_row, sheet.max_col, sheet.sparse) == (40, 4, False)


@pytest.mark.parametrize("ref", ["XFE5", "A1048577", "AAAA1"])
def test_a_reference_past_excel_limits_is_corrupt(tmp_path: Path, ref: str) -> None:
    path = past_xfd_book(tmp_path / "damaged.xlsx", ref)
    with pytest.raises(TaskFailure) as caught:
        sniff(path)
    error = caught.value.error
    assert error.kind == errors.CORRUPT
    assert "damaged" in error.message and "Data" in error.detail
    assert "cell reference" in error.detail


def test_a_dimension_that_lies_is_not_believed(tmp_path: Path) -> None:
    # The <dimension> says A1:B3; a cell with the same letters but more digits lies far below it.
    path = past_xfd_book(tmp_path / "lying.xlsx", "B900000")
    (sheet,) = extent.measure(str(path), "xlsx")
    assert (sheet.max_row, sheet.max_col) == (900_000, 2)
    with zipfile.ZipFile(path) as archive:
        assert b'<dimension ref="A1:C3"/>' in archive.read("xl/worksheets/sheet1.xml")


def test_a_dense_rectangle_that_does_not_fit_is_too_large_where_there_is_no_sparse_reader() -> None:
    sheet = extent.SheetExtent("Data", 7, 1_048_576, 16_384)
    with pytest.raises(TaskFailure) as caught:
        extent.plan_reading((sheet,), "xlsb", free=8 * 1024**3)
    assert caught.value.error.kind == errors.TOO_LARGE
    assert "A1:XFD1048576" in caught.value.error.message and "free" in caught.value.error.message
    # The same sheet in an xlsx is streamed instead of refused.
    (planned,) = extent.plan_reading((sheet,), "xlsx", free=8 * 1024**3)
    assert planned.sparse
    # A dense sheet that fits is left to calamine.
    (dense,) = extent.plan_reading((extent.SheetExtent("Data", 3_000_000, 100_000, 30),), "xlsb", free=8 * 1024**3)
    assert not dense.sparse


def test_ods_repeats_are_counted_without_being_expanded(tmp_path: Path) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Data")
    row = TableRow()
    cell = TableCell(valuetype="string")
    cell.addElement(P(text="x"))
    row.addElement(cell)
    table.addElement(row)
    table.addElement(TableRow(numberrowsrepeated=500_000))
    far = TableRow()
    far.addElement(TableCell(numbercolumnsrepeated=9_000))
    value = TableCell(valuetype="float", value="1")
    value.addElement(P(text="1"))
    far.addElement(value)
    table.addElement(far)
    document.spreadsheet.addElement(table)
    path = tmp_path / "far.ods"
    document.save(str(path))
    (sheet,) = extent.measure(str(path), "ods")
    assert (sheet.cells, sheet.max_row, sheet.max_col) == (2, 500_002, 9_001)
    with pytest.raises(TaskFailure) as caught:
        extent.plan_reading((sheet,), "ods", free=2 * 1024**3)
    assert caught.value.error.kind == errors.TOO_LARGE


def test_block_statistics_do_not_pad_rows_to_a_stray_cells_width() -> None:
    block = [["a", 1]] * 4095 + [[None] * 16_383 + [9]]
    rows, tails = _even_out(block)
    assert {len(r) for r in rows} == {2} and tails == [(16_383, 9)]
    record, columns = summarize_sheet(iter(block), "S")
    assert record["columns"] == 16_384 and record["non_empty_cells"] == 4095 * 2 + 1
    assert record["numeric_sum"] == 4095 + 9
    assert columns[-1]["column"] == "XFD" and columns[-1]["count"] == 1


def test_an_xls_whose_dimensions_lie_past_the_format_is_corrupt(tmp_path: Path) -> None:
    # python-calamine reserves room for the rectangle DIMENSIONS claims when it opens an .xls: this one would
    # abort the process asking for petabytes.
    import struct

    import xlwt

    book = xlwt.Workbook()
    book.add_sheet("Data").write(2, 1, "value")
    path = tmp_path / "lying.xls"
    book.save(str(path))
    data = bytearray(path.read_bytes())
    at = data.find(b"\x00\x02\x0e\x00")
    assert at > 0
    assert sniff(path).extents[0].rectangle <= 3  # honest: read as before
    struct.pack_into("<IIHH", data, at + 4, 0, 0xFFFFFFFF, 0, 0xFFFF)
    path.write_bytes(bytes(data))
    with pytest.raises(TaskFailure) as caught:
        sniff(path)
    assert caught.value.error.kind == errors.CORRUPT and "DIMENSIONS" in caught.value.error.detail
