"""Checks that each generator in tests.corpus writes what its docstring claims.

Files are read back with libraries independent of xlbatch (openpyxl, xlrd, the csv module, ElementTree,
zipfile, olefile, msoffcrypto, defusedxml), so a generator bug cannot hide behind a matching reader bug.
"""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import io
import re
import runpy
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import defusedxml
import defusedxml.ElementTree
import msoffcrypto
import olefile
import openpyxl
import pytest
import xlrd

from tests import corpus

SHEET1 = "xl/worksheets/sheet1.xml"
ODS_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


# -- independent readers ---------------------------------------------------------------------------


def read_xlsx(source: Path | bytes) -> list[list[Any]]:
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    book = openpyxl.load_workbook(handle, read_only=True)
    try:
        rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return [[v.date() if isinstance(v, dt.datetime) else v for v in row] for row in rows]


def read_xls(source: Path | bytes) -> list[list[Any]]:
    book = xlrd.open_workbook(file_contents=source if isinstance(source, bytes) else source.read_bytes())
    sheet = book.sheet_by_index(0)
    rows = []
    for r in range(sheet.nrows):
        row = []
        for cell in sheet.row(r):
            if cell.ctype == xlrd.XL_CELL_DATE:
                row.append(xlrd.xldate_as_datetime(cell.value, book.datemode).date())
            else:
                row.append(cell.value)
        rows.append(row)
    return rows


def read_ods(path: Path) -> list[list[Any]]:
    with zipfile.ZipFile(path) as archive:
        root = ElementTree.fromstring(archive.read("content.xml"))
    office, table = f"{{{ODS_NS['office']}}}", f"{{{ODS_NS['table']}}}"
    rows = []
    for row in root.iter(f"{table}table-row"):
        values: list[Any] = []
        for cell in row.findall(f"{table}table-cell"):
            kind = cell.get(f"{office}value-type")
            if kind == "date":
                values.append(dt.date.fromisoformat(cell.get(f"{office}date-value")))
            elif kind == "float":
                values.append(float(cell.get(f"{office}value")))
            else:
                values.append("".join(cell.itertext()))
        rows.append(values)
    return rows


def read_csv(path: Path) -> list[list[Any]]:
    records = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    typed = [dt.date.fromisoformat, str, str, str, int, float, float]
    return records[:1] + [
        [convert(text) for convert, text in zip(typed, record, strict=True)] for record in records[1:]
    ]


def read_ledger(path: Path) -> list[list[Any]]:
    readers = {".xlsx": read_xlsx, ".xls": read_xls, ".ods": read_ods, ".csv": read_csv}
    return readers[path.suffix.lower()](path)


def member_text(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode("utf-8")


# -- the realistic ledger --------------------------------------------------------------------------


def test_ledger_truth_is_deterministic_and_self_consistent():
    table = corpus.ledger_truth(80, seed=3)
    assert table == corpus.ledger_truth(80, seed=3)
    assert table != corpus.ledger_truth(80, seed=4)
    assert table[0] == ["Date", "Region", "Customer", "Product", "Quantity", "Unit price", "Amount"]
    assert len(table) == 81
    dates = [row[0] for row in table[1:]]
    assert dates == sorted(dates)
    assert {(d.year, d.month) for d in dates} == {(2024, 4)}  # seed 3: the fourth month
    for _date, region, customer, product, quantity, price, amount in table[1:]:
        assert region in corpus.REGIONS and customer in corpus.CUSTOMERS and product in corpus.PRODUCTS
        assert isinstance(quantity, int) and 1 <= quantity <= 40
        assert price in (corpus.PRODUCTS[product], round(corpus.PRODUCTS[product] * 0.9, 2))
        assert amount == round(quantity * price, 2)


@pytest.mark.parametrize("fmt", corpus.LEDGER_FORMATS)
def test_ledger_reads_back_as_its_truth(tmp_path, fmt):
    path = corpus.make_ledger(tmp_path / f"ledger.{fmt}", rows=40, seed=9)
    assert path == tmp_path / f"ledger.{fmt}"
    assert read_ledger(path) == corpus.ledger_truth(40, seed=9)


def test_ledger_cell_types_are_real_dates_and_numbers(tmp_path):
    book = openpyxl.load_workbook(corpus.make_ledger(tmp_path / "l.xlsx", rows=5))
    sheet = book[corpus.LEDGER_SHEET]
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["E2"].data_type == "n" and sheet["G2"].data_type == "n"
    ods = member_text(corpus.make_ledger(tmp_path / "l.ods", rows=5), "content.xml")
    assert 'office:value-type="date"' in ods and 'office:value-type="float"' in ods
    with zipfile.ZipFile(tmp_path / "l.ods") as archive:  # the ODF rule: mimetype first, stored
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED


def test_ledger_csv_is_excel_csv_utf8(tmp_path):
    data = corpus.make_ledger(tmp_path / "l.csv", rows=3, seed=0).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfDate,Region,Customer,")
    assert data.count(b"\r\n") == 4 and b"\n" not in data.replace(b"\r\n", b"")


def test_make_ledger_names_and_formats(tmp_path):
    assert corpus.make_ledger(tmp_path, seed=4) == tmp_path / "ledger-4.xlsx"
    assert corpus.make_ledger(tmp_path, seed=4, fmt="csv") == tmp_path / "ledger-4.csv"
    assert corpus.make_ledger(tmp_path / "sub" / "x.xls", rows=3).read_bytes().startswith(corpus.OLE2_MAGIC)
    assert zipfile.is_zipfile(corpus.make_ledger(tmp_path / "noext", rows=3))
    with pytest.raises(ValueError):
        corpus.make_ledger(tmp_path / "x.xlsb")


@pytest.mark.parametrize("fmt", corpus.LEDGER_FORMATS)
def test_make_ledger_is_byte_stable(tmp_path, fmt):
    first = corpus.make_ledger(tmp_path / f"a.{fmt}", rows=20, seed=1).read_bytes()
    second = corpus.make_ledger(tmp_path / f"b.{fmt}", rows=20, seed=1).read_bytes()
    assert first == second


def test_make_corpus_flat(tmp_path):
    paths = corpus.make_corpus(tmp_path, n=4, rows=5, seed=10, formats=("xlsx", "csv"))
    assert [p.name for p in paths] == ["sales-000.xlsx", "sales-001.csv", "sales-002.xlsx", "sales-003.csv"]
    for i, path in enumerate(paths):
        assert read_ledger(path) == corpus.ledger_truth(5, 10 + i)


def test_make_corpus_subfolders_repeat_names(tmp_path):
    paths = corpus.make_corpus(tmp_path, n=6, rows=4, formats=("xlsx", "xls"), subfolders=("north", "south"))
    rel = [p.relative_to(tmp_path).as_posix() for p in paths]
    assert rel == [
        "north/sales-000.xlsx",
        "south/sales-000.xlsx",
        "north/sales-001.xls",
        "south/sales-001.xls",
        "north/sales-002.xlsx",
        "south/sales-002.xlsx",
    ]
    contents = [read_ledger(p) for p in paths]
    assert contents == [corpus.ledger_truth(4, i) for i in range(6)]
    assert contents[0] != contents[1]  # equal names, different files


def test_unicode_file_names(tmp_path):
    paths = corpus.make_unicode_file_names(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(corpus.UNICODE_FILE_NAMES)
    assert any(ord(ch) > 0x3000 for p in paths for ch in p.name)  # CJK present
    for i, path in enumerate(paths):
        assert read_ledger(path) == corpus.ledger_truth(10, 20 + i)


def test_long_path(tmp_path):
    path = corpus.make_long_path_ledger(tmp_path)
    assert len(str(path)) > 300 > 260
    assert all(len(part) < 255 for part in path.parts)
    assert read_xlsx(path) == corpus.ledger_truth(10, 30)
    assert [p.name for p in tmp_path.iterdir()] == [path.relative_to(tmp_path).parts[0]]  # no scratch file left


# -- damaged, renamed, not a workbook --------------------------------------------------------------


def test_empty_file(tmp_path):
    path = corpus.make_empty_file(tmp_path)
    assert path.suffix == ".xlsx" and path.stat().st_size == 0


def test_truncated_xlsx_is_the_first_half_of_a_valid_one(tmp_path):
    path = corpus.make_truncated_xlsx(tmp_path)
    whole = corpus.make_ledger(tmp_path / "whole.xlsx", rows=200, seed=7).read_bytes()
    data = path.read_bytes()
    assert data == whole[: len(whole) // 2] and data.startswith(b"PK\x03\x04")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(path)


def test_csv_renamed_xlsx(tmp_path):
    path = corpus.make_csv_renamed_xlsx(tmp_path)
    assert path.suffix == ".xlsx" and not zipfile.is_zipfile(path)
    assert read_csv(path) == corpus.ledger_truth(20, seed=3)


def test_text_renamed_xlsx(tmp_path):
    path = corpus.make_text_renamed_xlsx(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert path.suffix == ".xlsx" and not zipfile.is_zipfile(path) and not olefile.isOleFile(str(path))
    assert text.startswith("Meeting notes") and "," not in text


def test_zip_not_workbook(tmp_path):
    path = corpus.make_zip_not_workbook(tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["data/q1.csv", "readme.txt"]


def test_unclosed_tag_breaks_only_the_sheet_xml(tmp_path):
    path = corpus.make_unclosed_tag_xlsx(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the scratch source is gone
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            if name != SHEET1:
                ElementTree.fromstring(archive.read(name))
        sheet = archive.read(SHEET1).decode("utf-8")
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(sheet)
    assert sheet.count("<row ") == 31 and sheet.count("</row>") == 30


def test_bad_crc_is_one_flipped_bit_in_sheet1(tmp_path):
    path = corpus.make_bad_crc_xlsx(tmp_path)
    good = corpus.make_ledger(tmp_path / "good.xlsx", rows=60, seed=11)
    bad_bytes, good_bytes = path.read_bytes(), good.read_bytes()
    assert len(bad_bytes) == len(good_bytes)
    diffs = [i for i, (a, b) in enumerate(zip(bad_bytes, good_bytes, strict=True)) if a != b]
    assert len(diffs) == 1 and bin(bad_bytes[diffs[0]] ^ good_bytes[diffs[0]]).count("1") == 1
    with zipfile.ZipFile(path) as bad, zipfile.ZipFile(good) as ok:
        info = bad.getinfo(SHEET1)
        assert info.header_offset < diffs[0] < info.header_offset + 30 + len(SHEET1) + info.compress_size
        assert [(i.filename, i.CRC, i.file_size) for i in bad.infolist()] == [
            (i.filename, i.CRC, i.file_size) for i in ok.infolist()
        ]
        assert bad.testzip() == SHEET1
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            bad.read(SHEET1)
    # The damage is silent apart from the CRC: the stream inflates to well-formed XML of the same length.
    start = info.header_offset + 30 + len(SHEET1) + len(info.extra)
    inflated = zlib.decompress(bad_bytes[start : start + info.compress_size], -15)
    assert len(inflated) == info.file_size and zlib.crc32(inflated) != info.CRC
    ElementTree.fromstring(inflated)


def test_encrypted_xlsx_is_ole2_and_decrypts_with_the_password(tmp_path):
    path = corpus.make_encrypted_xlsx(tmp_path)
    assert path.read_bytes().startswith(corpus.OLE2_MAGIC) and not zipfile.is_zipfile(path)
    with olefile.OleFileIO(str(path)) as ole:
        streams = {"/".join(entry) for entry in ole.listdir()}
    assert {"EncryptionInfo", "EncryptedPackage"} <= streams
    with open(path, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        assert office.is_encrypted()
        office.load_key(password="secret")
        plain = io.BytesIO()
        office.decrypt(plain)
    assert read_xlsx(plain.getvalue()) == corpus.ledger_truth(20, seed=2)
    with open(path, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        office.load_key(password="wrong")
        with pytest.raises(msoffcrypto.exceptions.InvalidKeyError):
            office.decrypt(io.BytesIO())


def test_xls_renamed_xlsx(tmp_path):
    path = corpus.make_xls_renamed_xlsx(tmp_path)
    assert path.suffix == ".xlsx" and path.read_bytes()[:8] == corpus.OLE2_MAGIC
    with olefile.OleFileIO(str(path)) as ole:
        assert ole.exists("Workbook")
    assert read_xls(path) == corpus.ledger_truth(25, seed=4)


def test_lock_file_layout(tmp_path):
    path = corpus.make_lock_file(tmp_path, user="Zoë Müller")
    data = path.read_bytes()
    assert path.name.startswith("~$") and len(data) == 165
    assert data[0] == 10 and data[1:11].decode("cp1252") == "Zoë Müller" and data[11:54] == b" " * 43
    assert data[54] == 0 and struct.unpack("<H", data[55:57])[0] == 10
    assert data[57:].decode("utf-16-le") == "Zoë Müller".ljust(54)
    with pytest.raises(ValueError):
        corpus.make_lock_file(tmp_path, user="x" * 53)


class _TableCells(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_table_saved_as_xls(tmp_path):
    path = corpus.make_html_table_xls(tmp_path, rows=15)
    text = path.read_text(encoding="utf-8")
    assert path.suffix == ".xls" and text.startswith("<html") and "urn:schemas-microsoft-com:office:excel" in text
    assert not olefile.isOleFile(str(path)) and not zipfile.is_zipfile(path)
    parser = _TableCells()
    parser.feed(text)
    expected = [
        [v.isoformat() if isinstance(v, dt.date) else str(v) for v in row] for row in corpus.ledger_truth(15, 6)
    ]
    assert parser.rows == expected


# -- XML bombs and the zip bomb --------------------------------------------------------------------


def entity_expansion(xml: str, entity: str) -> int:
    """How many characters `&entity;` expands to, computed from the declarations without expanding."""
    declared = dict(re.findall(r'<!ENTITY (\w+) "([^"]*)">', xml))
    memo: dict[str, int] = {}

    def size(name: str) -> int:
        if name not in memo:
            value = declared[name]
            refs = re.findall(r"&(\w+);", value)
            memo[name] = len(re.sub(r"&\w+;", "", value)) + sum(size(ref) for ref in refs)
        return memo[name]

    return size(entity)


def test_minimal_xlsx_is_a_valid_workbook(tmp_path):
    path = corpus.make_minimal_xlsx(tmp_path)
    assert read_xlsx(path) == [["Hello", 42]]


def shared_strings_of_bomb(path: Path) -> str:
    """The bomb's sharedStrings.xml, after checking the package has the same parts as a good minimal xlsx."""
    good = corpus.make_minimal_xlsx(path.parent, "good-" + path.name)
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(good) as reference:
        assert sorted(archive.namelist()) == sorted(reference.namelist())
        for name in reference.namelist():
            if name != "xl/sharedStrings.xml":
                assert archive.read(name) == reference.read(name)
        return archive.read("xl/sharedStrings.xml").decode("utf-8")


def test_billion_laughs(tmp_path):
    path = corpus.make_billion_laughs_xlsx(tmp_path)
    shared = shared_strings_of_bomb(path)
    assert path.stat().st_size < 4096
    assert entity_expansion(shared, "lol9") == 3 * 10**9
    assert "<t>&lol9;</t>" in shared
    with pytest.raises(defusedxml.EntitiesForbidden):
        defusedxml.ElementTree.fromstring(shared)


def test_quadratic_blowup(tmp_path):
    path = corpus.make_quadratic_blowup_xlsx(tmp_path)
    shared = shared_strings_of_bomb(path)
    assert path.stat().st_size < 10_000 and len(shared) < 200_000
    assert len(re.findall(r"<!ENTITY", shared)) == 1  # no nesting
    references = shared.count("&a;")
    assert references == corpus.QUADRATIC_REFERENCES
    assert references * entity_expansion(shared, "a") >= 10**9
    with pytest.raises(defusedxml.EntitiesForbidden):
        defusedxml.ElementTree.fromstring(shared)


def test_external_entity(tmp_path):
    path = corpus.make_external_entity_xlsx(tmp_path)
    shared = shared_strings_of_bomb(path)
    assert '<!ENTITY xxe SYSTEM "file:///etc/passwd">' in shared and "<t>&xxe;</t>" in shared
    with pytest.raises(defusedxml.EntitiesForbidden):
        defusedxml.ElementTree.fromstring(shared)


def test_zip_bomb_declares_and_really_holds_a_gigabyte(tmp_path):
    path = corpus.make_zip_bomb_xlsx(tmp_path)
    assert path.stat().st_size < 2 * 1024**2
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET1)
        assert info.file_size >= 1024**3 and info.file_size / info.compress_size > 900
        for other in archive.infolist():
            if other.filename != SHEET1:
                ElementTree.fromstring(archive.read(other.filename))
        # Inflate it all in chunks: zipfile checks the byte count and the CRC when the member ends.
        total, first, last = 0, b"", b""
        with archive.open(info) as member:
            while chunk := member.read(8 * 1024**2):
                first = first or chunk[:200]
                last = (last + chunk[-200:])[-200:]
                total += len(chunk)
    assert total == info.file_size
    assert first.startswith(b"<?xml") and b"<sheetData>" in first
    assert last.endswith(b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>')


def test_small_zip_bomb_is_a_readable_workbook(tmp_path):
    path = corpus.make_zip_bomb_xlsx(tmp_path, padding=3 * 1024**2)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(SHEET1).file_size > 3 * 1024**2
    assert read_xlsx(path) == [[1]]


def test_max_rows_sheet(tmp_path):
    path = corpus.make_max_rows_xlsx(tmp_path)
    row_numbers = re.compile(rb'<row r="(\d+)"><c r="A\1"(?: t="inlineStr")?>')
    values = re.compile(rb"<v>(\d+)</v>")
    count = total = last_row = 0
    expected_next = 1
    with zipfile.ZipFile(path) as archive, archive.open(SHEET1) as sheet:  # streamed: 56 MB of XML
        pending = b""
        while chunk := sheet.read(4 * 1024**2):
            pending += chunk
            cut = pending.rfind(b"</row>") + len(b"</row>")
            block, pending = pending[:cut], pending[cut:]
            for match in row_numbers.finditer(block):
                assert int(match.group(1)) == expected_next  # rows in order, none missing, A-cell matches
                expected_next += 1
            count += block.count(b"<row ")
            total += sum(int(v) for v in values.findall(block))
            last_row = expected_next - 1
        assert pending == b"</sheetData></worksheet>"  # zipfile has checked the CRC at the end
    assert count == last_row == corpus.EXCEL_MAX_ROWS == 1_048_576
    assert total == sum(range(1, corpus.EXCEL_MAX_ROWS))
    # The same writer at a small size gives a workbook openpyxl reads.
    small = corpus.make_max_rows_xlsx(tmp_path, "small.xlsx", rows=300)
    assert read_xlsx(small) == [["Value"]] + [[n] for n in range(1, 300)]


# -- odd but valid content -------------------------------------------------------------------------


def test_empty_workbook(tmp_path):
    path = corpus.make_empty_workbook(tmp_path)
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 1
    assert "<c " not in member_text(path, SHEET1)


def test_empty_sheets_workbook(tmp_path):
    path = corpus.make_empty_sheets_workbook(tmp_path)
    assert (
        tuple(openpyxl.load_workbook(path).sheetnames) == corpus.EMPTY_SHEET_NAMES == ("January", "February", "March")
    )
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 3
        assert all(b"<c " not in archive.read(n) for n in sheets)


def test_formulas_without_cached_values(tmp_path):
    path = corpus.make_formulas_without_values(tmp_path)
    root = ElementTree.fromstring(member_text(path, SHEET1))
    ns = {"m": corpus.SPREADSHEETML}
    formula_cells = [c for c in root.iter(f"{{{corpus.SPREADSHEETML}}}c") if c.find("m:f", ns) is not None]
    assert len(formula_cells) == 6
    assert all(not c.findtext("m:v", default="", namespaces=ns) for c in formula_cells)  # openpyxl writes <v />
    formulas = openpyxl.load_workbook(path)["Totals"]
    assert formulas["A7"].value == "=SUM(A2:A6)" and formulas["B2"].value == "=A2*1.2"
    cached = openpyxl.load_workbook(path, data_only=True)["Totals"]
    assert [cached.cell(r, 1).value for r in range(2, 7)] == list(corpus.FORMULA_VALUES)
    assert cached["A7"].value is None and all(cached.cell(r, 2).value is None for r in range(2, 7))


def test_merged_cells(tmp_path):
    sheet = openpyxl.load_workbook(corpus.make_merged_cells(tmp_path))["Report"]
    assert sorted(str(r) for r in sheet.merged_cells.ranges) == ["A1:D1", "A3:A5", "A6:A8"]
    assert sheet["A1"].value == "Quarterly sales report" and sheet["B1"].value is None
    assert [sheet.cell(r, 1).value for r in range(3, 9)] == ["North", None, None, "South", None, None]
    assert [sheet.cell(r, 4).value for r in range(3, 9)] == [2400, 1900, 2600, 1600, 2200, 1400]


def test_dates_as_numbers(tmp_path):
    sheet = openpyxl.load_workbook(corpus.make_dates_as_numbers(tmp_path))["Invoices"]
    cells = [sheet.cell(r, 1) for r in range(2, 2 + len(corpus.DATE_NUMBER_DATES))]
    assert not any(c.is_date for c in cells) and all(c.number_format == "General" for c in cells)
    assert all(isinstance(c.value, int) for c in cells)
    assert cells[0].value == 45293  # 2024-01-02 as Excel shows it when the cell is formatted as a date
    # From March 1900 on, Excel's serials count days from 1899-12-30 (its phantom 1900-02-29 included).
    epoch = dt.date(1899, 12, 30)
    assert [epoch + dt.timedelta(days=c.value) for c in cells] == list(corpus.DATE_NUMBER_DATES)


def test_long_string_cell(tmp_path):
    sheet = openpyxl.load_workbook(corpus.make_long_string_cell(tmp_path)).active
    assert sheet["A1"].value == "Comment"
    assert len(sheet["A2"].value) == 32_767 == corpus.EXCEL_MAX_CELL_CHARS


def test_control_chars_are_stored_the_excel_way(tmp_path):
    path = corpus.make_control_chars(tmp_path)
    shared = member_text(path, "xl/sharedStrings.xml")
    assert "_x0007_" in shared and "_x001B_" in shared and "_x000D_" in shared and "\t" in shared
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", shared)  # nothing XML forbids
    texts = ["".join(si.itertext()) for si in ElementTree.fromstring(shared)]
    decoded = [re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), t) for t in texts]
    assert decoded == ["Text", *corpus.CONTROL_CHAR_TEXTS]


def test_odd_sheet_names(tmp_path):
    book = openpyxl.load_workbook(corpus.make_odd_sheet_names(tmp_path))
    assert book.sheetnames == list(corpus.ODD_SHEET_NAMES)
    assert max(len(n) for n in book.sheetnames) == 31
    for position, name in enumerate(corpus.ODD_SHEET_NAMES, start=1):
        assert [book[name]["A1"].value, book[name]["B1"].value] == [name, position]


# -- the bundled samples (resources/samples/make_samples.py) -----------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


@pytest.fixture(scope="module")
def samples_script():
    # run_path, not import: an import would leave a __pycache__ folder among the bundled samples.
    return runpy.run_path(str(SAMPLES / "make_samples.py"), run_name="make_samples")


def sample_values(path: Path) -> list[list[Any]]:
    if path.suffix == ".csv":
        return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    if path.suffix == ".xls":
        return read_xls(path)
    book = openpyxl.load_workbook(path, data_only=True)
    return [[c.value for c in row] for ws in book.worksheets for row in ws.iter_rows()]


def test_samples_are_deterministic_and_match_the_bundled_files(tmp_path, samples_script):
    first = samples_script["main"](tmp_path / "a")
    second = samples_script["main"](tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    bundled = sorted(p.name for p in SAMPLES.iterdir() if p.is_file() and p.name != "make_samples.py")
    assert sorted(p.name for p in first) == bundled and 5 <= len(bundled) <= 7
    assert sum((SAMPLES / name).stat().st_size for name in bundled) < 100_000
    for path in first:  # content, not bytes: a newer xlsxwriter may lay out the same content differently
        assert sample_values(path) == sample_values(SAMPLES / path.name), path.name


def test_sample_sales_ledgers(samples_script):
    for year, month, count, fmt in samples_script["SALES_MONTHS"]:
        rows = sample_values(SAMPLES / f"sales-{year}-{month:02d}.{fmt}")
        assert rows[0] == ["Date", "Region", "Customer", "Product", "Quantity", "Unit price", "Amount"]
        assert len(rows) == count + 1 and 50 <= count <= 200
        for date, _region, _customer, _product, quantity, price, amount in rows[1:]:
            day = dt.date.fromisoformat(date) if fmt == "csv" else date
            if isinstance(day, dt.datetime):
                day = day.date()
            assert (day.year, day.month) == (year, month) and day.weekday() < 5
            assert round(float(quantity) * float(price), 2) == float(amount)


def test_sample_invoices_have_labels_with_values_to_the_right():
    for name, vat_rate in (("invoice-acme-2024-0117.xlsx", 0.20), ("invoice-nordic-paper-5531.xlsx", 0.25)):
        sheet = openpyxl.load_workbook(SAMPLES / name, data_only=True).active
        right_of = {c.value: sheet.cell(c.row, c.column + 1).value for row in sheet.iter_rows() for c in row}
        assert right_of["Invoice no:"] and isinstance(right_of["Invoice no:"], str)
        assert isinstance(right_of["Date:"], dt.datetime) and right_of["Due date:"] > right_of["Date:"]
        header = next(c for row in sheet.iter_rows() for c in row if c.value == "Item")
        amounts = []
        for r in range(header.row + 1, sheet.max_row + 1):
            if sheet.cell(r, 1).value is None:
                break
            quantity, price, amount = (sheet.cell(r, header.column + k).value for k in (2, 3, 4))
            assert amount == round(quantity * price, 2)
            amounts.append(amount)
        subtotal = right_of["Subtotal:"]
        assert len(amounts) >= 3 and subtotal == round(sum(amounts), 2)
        vat = right_of[f"VAT {round(vat_rate * 100)}%:"]
        assert vat == round(subtotal * vat_rate, 2) and right_of["Total:"] == round(subtotal + vat, 2)
    acme = openpyxl.load_workbook(SAMPLES / "invoice-acme-2024-0117.xlsx").active
    assert acme["A7"].value == "Invoice no:" and acme["E22"].value == "=E20+E21"  # totals are formulas


def test_sample_staff_list_mistakes_are_where_documented():
    sheet = openpyxl.load_workbook(SAMPLES / "staff-list.xlsx")["Staff"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Employee ID", "Name", "Department", "Start date", "Salary"]
    untrimmed = {
        c.coordinate
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value != c.value.strip()
    }
    assert untrimmed == {"B5", "B12", "C9"}
    assert sheet["E7"].data_type == "s" and sheet["E7"].value == "30500"
    assert [c.coordinate for row in sheet.iter_rows(min_col=5, max_col=5) for c in row if c.data_type == "s"] == [
        "E1",
        "E7",
    ]
    assert rows[19] == rows[18] and rows[18][0] == "E1018"
    non_blank = [tuple(r) for r in rows if any(v is not None for v in r)]
    assert len(non_blank) == len(set(non_blank)) + 1  # exactly one duplicate
    assert [i + 1 for i, r in enumerate(rows) if all(v is None for v in r)] == [27]
