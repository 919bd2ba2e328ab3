"""The fragment writer: rows rendered and compressed in one place, copied into a workbook in another.

What it writes is compared with what xlbatch.writing.XlsxTableWriter (xlsxwriter) writes for the same
rows, read back by python-calamine with types: every value, every warning about a value that could not
be kept. LibreOffice must open the package, a sheet continues past Excel's row limit, and the output
check catches a fragment whose XML says something other than its record.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import xlbatch.fragment_writer
import xlbatch.xlsx_package
from tests.core.test_exact_roundtrip import CELLS
from tests.exact_files import soffice
from xlbatch import output_record
from xlbatch.fragment_writer import Fragment, FragmentXlsxWriter, make_fragment, rearrange
from xlbatch.report_layout import AUTO, TEXT
from xlbatch.runner import run_batch
from xlbatch.sheet_xml import GAP_CELLS, RowRenderer
from xlbatch.verify import MESSAGE, first_difference
from xlbatch.writing import XlsxTableWriter
from xlbatch.xlsx_package import Piece, ZipWriter, compress_piece, crc32_combine, inflate_piece

LEAD = ["book.xlsx", "Sheet 1"]
# Values no workbook can hold as they are: each is written some other way, with a warning naming the cell.
LOSSY = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        2**60 + 1,
        dt.date(1899, 12, 31),
        dt.datetime(1850, 5, 1, 12),
        "bad \ud800 text",
        "x" * 40_000,
        dt.time(10, 0, 0, 1234),
        dt.time(23, 59, 59, 999_900),
        dt.timedelta(microseconds=1500),
    ]  # fmt: skip
)
ROWS = st.lists(st.lists(st.one_of(CELLS, LOSSY), max_size=6), min_size=1, max_size=12)


def read_back(path: Path) -> dict[str, list[list[tuple[str, Any]]]]:
    """Every sheet as python-calamine reads it, each value with its type, trailing empty cells dropped."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheets = {}
        for name in book.sheet_names:
            rows = []
            for row in book.get_sheet_by_name(name).to_python():
                values = list(row)
                while values and values[-1] == "":
                    values.pop()
                rows.append([(type(v).__name__, v) for v in values])
            while rows and not rows[-1]:
                rows.pop()
            sheets[name] = rows
        return sheets
    finally:
        book.close()


def with_xlsxwriter(path: Path, header: list[Any], rows: list[list[Any]], kinds: list[str] | None) -> list[str]:
    with XlsxTableWriter(path) as writer:
        writer.add_sheet("Data", header, kinds)
        for row in rows:
            writer.write_row([*LEAD, *row])
    return writer.warnings


def with_fragments(path: Path, header: list[Any], rows: list[list[Any]], kinds: list[str] | None, cut: int) -> Any:
    """The first `cut` rows as a fragment rendered elsewhere, the rest as typed rows rendered here."""
    output_record.want(path)
    with FragmentXlsxWriter(path) as writer:
        writer.add_sheet("Data", header, kinds)
        fragment = make_fragment(RowRenderer(number_styles=kinds is not None, lead=LEAD), rows[:cut])
        assert fragment is not None
        writer.write_fragment(Fragment.from_plain(fragment.to_plain()), [[*LEAD, *row] for row in rows[:cut]])
        writer.write_rows([*LEAD, *row] for row in rows[cut:])
    return writer.warnings, output_record.take(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, cut=st.integers(min_value=0, max_value=12), report=st.booleans())
def test_fragments_read_back_as_xlsxwriter_writes_them(
    tmp_path_factory: Any, rows: list[list[Any]], cut: int, report: bool
) -> None:
    folder = tmp_path_factory.mktemp("round")
    width = max(map(len, rows), default=0)
    header = ["Source file", "Source sheet", *(f"c{n}" for n in range(width))]
    kinds = [TEXT, TEXT, *([AUTO] * width)] if report else None
    expected_warnings = with_xlsxwriter(folder / "xlsxwriter.xlsx", header, rows, kinds)
    warnings, record = with_fragments(folder / "fragments.xlsx", header, rows, kinds, min(cut, len(rows)))
    assert read_back(folder / "fragments.xlsx") == read_back(folder / "xlsxwriter.xlsx")
    assert warnings == expected_warnings
    assert first_difference(folder / "fragments.xlsx", record) is None


def test_a_report_sheet_keeps_its_layout(tmp_path: Path) -> None:
    rows = [["a.xlsx", "S", dt.date(2024, 1, n), f"order {n}", n, n * 1.25, "=cmd"] for n in range(1, 30)]
    header = ["Source file", "Source sheet", "Date", "Order", "Quantity", "Amount", "Note"]
    path = tmp_path / "combined.xlsx"
    with FragmentXlsxWriter(path) as writer:
        writer.add_sheet("Combined", header, [TEXT, TEXT, AUTO, AUTO, AUTO, AUTO, AUTO])
        fragment = make_fragment(RowRenderer(number_styles=True, lead=["a.xlsx", "S"]), [r[2:] for r in rows])
        assert fragment is not None
        writer.write_fragment(fragment, rows)
    sheet = openpyxl.load_workbook(path)["Combined"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:G30"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet["F2"].number_format == "#,##0.00" and sheet["E2"].number_format == "General"
    assert sheet["C2"].is_date and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["G2"].value == "=cmd" and sheet["G2"].data_type == "s"  # text, never a formula
    assert sheet.column_dimensions["D"].width >= len("order 29")
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.orientation == "landscape"


def test_libreoffice_shows_it_as_it_shows_xlsxwriters_workbook(tmp_path: Path) -> None:
    program = soffice()
    if program is None:
        pytest.skip("LibreOffice (soffice) is not installed; CI installs libreoffice-calc-nogui")
    first = dt.date(2024, 3, 1)
    rows = [[first + dt.timedelta(days=n - 1), f"item {n}", n + 0.5, n % 2 == 0, "=1+1"] for n in range(1, 2001)]
    header, kinds = ["Date", "Item", "Amount", "Paid", "Note"], [AUTO] * 5
    ours, theirs = tmp_path / "fragments.xlsx", tmp_path / "xlsxwriter.xlsx"
    with FragmentXlsxWriter(ours) as writer:
        writer.add_sheet("Combined", header, kinds)
        renderer = RowRenderer(number_styles=True)
        for start in range(0, 1500, 500):
            fragment = make_fragment(renderer, rows[start : start + 500])
            assert fragment is not None
            writer.write_fragment(fragment, rows[start : start + 500])
        writer.write_rows(rows[1500:])
        writer.add_sheet("Second")
        writer.write_rows([["second sheet"]])
    with XlsxTableWriter(theirs) as other:
        other.add_sheet("Combined", header, kinds)
        for row in rows:
            other.write_row(row)
    profile = tmp_path / "lo-profile"  # a private profile: parallel test runs must not share one
    done = subprocess.run(
        [program, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "csv",
         "--outdir", str(tmp_path / "csv"), str(ours), str(theirs)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    tables = []
    for name in ("fragments", "xlsxwriter"):
        produced = tmp_path / "csv" / f"{name}.csv"
        assert produced.is_file(), done.stderr
        with open(produced, encoding="utf-8", newline="") as handle:
            tables.append(list(csv.reader(handle)))
    assert tables[0] == tables[1]
    assert len(tables[0]) == 2001 and tables[0][0] == header
    assert tables[0][1] == ["2024-03-01", "item 1", "1.5", "FALSE", "=1+1"]  # a date, a number, text


def test_rows_continue_on_a_new_sheet_at_the_row_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(xlbatch.fragment_writer, "EXCEL_MAX_ROWS", 5)  # a header and 4 rows per sheet
    path = tmp_path / "combined.xlsx"
    output_record.want(path)
    renderer = RowRenderer(number_styles=True, lead=["a.xlsx"])
    with FragmentXlsxWriter(path) as writer:
        writer.add_sheet("Combined", ["Source file", "n"], [TEXT, AUTO])
        for start in (1, 4):  # 3 rows each: the second fragment is cut after its first row
            rows = [[n] for n in range(start, start + 3)]
            if start == 4:
                rows[2] = [float("nan")]  # the sixth row: lost on the continuation sheet
            fragment = make_fragment(renderer, rows)
            assert fragment is not None
            writer.write_fragment(fragment, [["a.xlsx", *row] for row in rows])
        writer.write_rows([["a.xlsx", 7], ["a.xlsx", 8], ["a.xlsx", 9], ["a.xlsx", 10], ["a.xlsx", 11]])
    record = output_record.take(path)
    assert first_difference(path, record) is None
    sheets = read_back(path)
    assert list(sheets) == ["Combined", "Combined (cont.)", "Combined (cont.) (cont.)"]
    assert all(rows[0] == [("str", "Source file"), ("str", "n")] for rows in sheets.values())
    numbers = [row[1][1] if len(row) > 1 else None for rows in sheets.values() for row in rows[1:]]
    assert numbers == [1, 2, 3, 4, 5, None, 7, 8, 9, 10, 11]
    assert writer.warnings[0] == (
        "Sheet 'Combined' reached Excel's limit of 5 rows; the rows continue on sheet 'Combined (cont.)'."
    )
    assert "'Combined (cont.)'!B3." in writer.warnings[-1]  # the lost cell named where it landed
    book = openpyxl.load_workbook(path)
    assert [book[name].auto_filter.ref for name in sheets] == ["A1:B5", "A1:B5", "A1:B4"]


def _changed(fragment: Fragment, old: bytes, new: bytes) -> Fragment:
    """The fragment with its XML changed, its record kept: a writer that says one thing and writes another."""
    xml = inflate_piece(fragment.piece)
    assert old in xml
    changed = compress_piece(xml.replace(old, new, 1))
    return Fragment(changed, fragment.rows, fragment.width, fragment.record, {}, fragment.check)


def test_the_output_check_catches_a_corrupted_fragment(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    output_record.want(path)
    fragment = make_fragment(RowRenderer(), [["a", 1.5], ["b", 2.5]])
    assert fragment is not None
    with FragmentXlsxWriter(path) as writer:
        writer.add_sheet("Data", ["Name", "Amount"])
        writer.write_fragment(_changed(fragment, b"<v>2.5</v>", b"<v>2.25</v>"))
    assert first_difference(path, output_record.take(path)) == "Data!B3: written 2.5, read back 2.25"


def test_a_fragment_that_reads_back_as_written_is_checked_by_its_digest(monkeypatch, tmp_path: Path) -> None:
    """The worker digests the rows it rendered; the parent's check compares digests and unpacks the rows
    only where they differ (to name the cell), and then only reports a difference the values show."""
    import xlbatch.row_compare

    rows = [["a", 1.5, dt.date(2024, 1, 2), True], ["b", -0.0, None, 7]]
    fragment = make_fragment(RowRenderer(), rows)
    assert fragment is not None and fragment.check is not None and fragment.check[:3] == (2, 0, 1)
    told_apart = Fragment(fragment.piece, 2, fragment.width, fragment.record, {}, (2, 0, 1, b"\0" * 16))
    unpacked: list[int] = []
    real = xlbatch.row_compare.shifted
    monkeypatch.setattr(xlbatch.row_compare, "shifted", lambda *a: unpacked.append(1) or real(*a))
    for name, parts, unpacks in (("same", fragment, 0), ("digest-only", told_apart, 1)):
        path = tmp_path / f"{name}.xlsx"
        output_record.want(path)
        with FragmentXlsxWriter(path) as writer:
            writer.add_sheet("Data", ["Name", "Amount", "Day", "Flag"])
            writer.write_fragment(parts)
            writer.write_fragment(parts)  # twice: the second starts at row 4
        assert first_difference(path, output_record.take(path)) is None
        assert len(unpacked) == 2 * unpacks, name  # the rows are unpacked only where the digests differ
        unpacked.clear()


def test_a_combined_table_from_a_corrupted_part_is_removed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.core.task_kit import write_xlsx_openpyxl
    from xlbatch.tasks import combine

    (tmp_path / "in").mkdir()
    source = write_xlsx_openpyxl(tmp_path / "in" / "a.xlsx", {"S": [["Name", "Amount"], ["x", 1.5], ["y", 2.5]]})
    real = combine.read_part

    def corrupted(path: Any) -> Any:
        for index, chunk in real(path):
            if isinstance(chunk, tuple):
                plain, sample = chunk
                chunk = (_changed(Fragment.from_plain(plain), b"<v>2.5</v>", b"<v>3.5</v>").to_plain(), sample)
            yield index, chunk

    monkeypatch.setattr(combine, "read_part", corrupted)
    out = tmp_path / "out"
    report = run_batch(task="combine", paths=[str(source)], out_dir=str(out), backend="sequential")
    assert report.files[0].status == "ok" and report.outputs == []
    assert not (out / "combined.xlsx").exists() and "Combined" not in report.tables  # no table of it either
    assert any(MESSAGE in n and "Combined!D3: written 2.5, read back 3.5" in n for n in report.notices), report.notices


def test_rearranged_columns_read_back_as_rendered_in_place(tmp_path: Path) -> None:
    rows = [["x", 1.5, None, dt.date(2024, 1, 2)], ["y", None, True], [None, 7]]
    order = [0, 3, 1, 4, 2]  # the lead column stays; the others move (the old column 3 to column 2)
    _moved_and_in_place(tmp_path, rows, order, ["F", "A", "C", "B", "D"])
    sheet = openpyxl.load_workbook(tmp_path / "moved.xlsx")["Data"]
    assert sheet["B2"].value == 1.5 and sheet["B2"].number_format == "#,##0.0"  # its new column's format


def _moved_and_in_place(tmp_path: Path, rows: list[list[Any]], order: list[int], header: list[str]) -> None:
    """The rows rearranged as a fragment and the same rows rendered in their new columns read back alike."""
    width = max(order) + 1
    moved = []
    for row in rows:
        line: list[Any] = [None] * width
        for position, value in enumerate(["f", *row]):
            if order[position] >= 0:
                line[order[position]] = value
        moved.append(line)
    fragment = make_fragment(RowRenderer(number_styles=True, lead=["f"]), rows)
    assert fragment is not None
    paths = [tmp_path / "moved.xlsx", tmp_path / "in-place.xlsx"]
    for path, parts in ((paths[0], rearrange(fragment, order)), (paths[1], None)):
        output_record.want(path)
        with FragmentXlsxWriter(path) as writer:
            writer.add_sheet("Data", header, [TEXT, *[AUTO] * (width - 1)])
            if parts is None:
                writer.write_rows(moved)
            else:
                writer.write_fragment(parts, moved)
        assert first_difference(path, output_record.take(path)) is None
    assert read_back(paths[0]) == read_back(paths[1])
    formats = [
        [[c.number_format for c in row] for row in openpyxl.load_workbook(path)["Data"].iter_rows()] for path in paths
    ]
    assert formats[0] == formats[1]  # each number cell has its new column's format


def test_a_text_that_looks_like_a_cell_style_is_moved_unchanged(tmp_path: Path) -> None:
    # A number cell's style names its column (s="10" + column); the same characters in a text are text.
    rows = [['width s="11"', 2.5, '<c s="12"><v>', 4], ["x", None, 's="13"', 7.25]]
    _moved_and_in_place(tmp_path, rows, [0, 4, 1, 3, 2], ["F", "B", "D", "C", "A"])
    sheet = openpyxl.load_workbook(tmp_path / "moved.xlsx")["Data"]
    assert sheet["E2"].value == 'width s="11"' and sheet["B2"].value == 2.5 and sheet["C2"].value == 4


def test_columns_that_all_come_after_the_others_are_moved_by_inserting_empty_cells(monkeypatch, tmp_path) -> None:
    rows = [["x", 1.5, dt.date(2024, 1, 2)], ["y", None, True], [None, 7, "z"]]

    def row_by_row(*_args: Any) -> Any:
        raise AssertionError("moved row by row")

    monkeypatch.setattr(xlbatch.fragment_writer, "_moved_cells", row_by_row)
    _moved_and_in_place(tmp_path, rows, [0, 4, 5, 6], ["F", "A", "B", "C", "D", "E", "G"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, data=st.data())
def test_any_rearrangement_reads_back_as_the_rows_rendered_in_place(tmp_path: Path, rows, data) -> None:
    columns = max(len(r) for r in rows) + 1  # the lead column first
    if data.draw(st.booleans()):  # the file's columns all after the others' (moved by inserting cells)
        dropped: set[int] = set()
        shift = data.draw(st.integers(1, 3))
        order = [0] + [p + shift for p in range(1, columns)]
    else:
        targets = data.draw(st.permutations(range(1, columns + 2)))  # room for a column this file lacks
        dropped = data.draw(st.sets(st.integers(1, columns - 1), max_size=2)) if columns > 1 else set()
        order = [0] + [-1 if p in dropped else targets[p - 1] for p in range(1, columns)]
    rows = [[None if p + 1 in dropped else v for p, v in enumerate(r)] for r in rows]
    assume(any(v is not None for r in rows for v in r))
    header = [f"H{n}" for n in range(max(order) + 1)]
    _moved_and_in_place(tmp_path, rows, order, header)


def test_a_row_with_a_long_gap_is_not_rendered_cell_by_empty_cell(tmp_path: Path) -> None:
    wide = ["a", *([None] * (GAP_CELLS + 1)), "far"]
    assert make_fragment(RowRenderer(), [wide]) is None  # such rows go where their numbers are known
    path = tmp_path / "wide.xlsx"
    with FragmentXlsxWriter(path) as writer:
        writer.add_sheet("Data")
        writer.write_rows([wide, [], wide])
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<c/>" not in xml and xml.count(b"<row ") == 2  # references instead of empty cells and rows
    row = [("str", "a"), *([("str", "")] * (GAP_CELLS + 1)), ("str", "far")]
    assert read_back(path)["Data"] == [row, [], row]


def test_pieces_compressed_apart_make_one_stream() -> None:
    parts = [os.urandom(3000), b"<row>" * 5000, b"", b"tail"]
    pieces = [compress_piece(p) for p in parts]
    stream = b"".join(p.data for p in pieces) + b"\x03\x00"
    assert zlib.decompress(stream, -15) == b"".join(parts)
    crc = 0
    for piece in pieces:
        crc = crc32_combine(crc, piece.crc, piece.length)
    assert crc == zlib.crc32(b"".join(parts))


def test_large_members_get_zip64_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(xlbatch.xlsx_package, "_ZIP64_LIMIT", 100)  # every size and offset past it
    path = tmp_path / "big.zip"
    body = xlbatch.xlsx_package.DeflatedMember(open(tmp_path / "spool", "w+b"))  # noqa: SIM115 - closed below
    body.append(compress_piece(b"<row/>" * 100))
    with open(path, "wb") as handle:
        archive = ZipWriter(handle)
        archive.add("small.xml", b"x" * 500)
        archive.add_pieces("sheet.xml", compress_piece(b"<head>"), body, Piece(b"", 0, 0))
        archive.close()
    body.spool.close()
    with zipfile.ZipFile(path) as check:
        assert check.testzip() is None
        assert check.read("sheet.xml") == b"<head>" + b"<row/>" * 100
        assert check.read("small.xml") == b"x" * 500
    assert struct.pack("<I", 0x06064B50) in path.read_bytes()  # the ZIP64 end of central directory
