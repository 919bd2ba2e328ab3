"""Workbook generators for the tests: realistic ledgers with known content, and hostile files.

Every function writes into a folder it is given (pytest's `tmp_path`) and returns the path(s) it wrote.

Realistic files: `make_ledger` writes a sales ledger (xlsx, xls, ods or csv) whose content is exactly
`ledger_truth(rows, seed)`, so a test computes its expected values from that list and never from the code
under test. `make_corpus` writes many ledgers, optionally spread over subfolders with equal file names.

Hostile files imitate what users really drop in a folder: damaged downloads, renamed files, encrypted
workbooks, Excel's lock files, XML and zip bombs, the largest sheet Excel allows, odd names and paths.
Each generator's docstring says what it imitates and what a reader does with it. None of them needs
more than a few megabytes of memory or disk; the zip bomb and the full-size 1,048,576-row sheet take the
most time (see their docstrings).

Generators are deterministic: the same arguments give the same content (xlsx files written here carry
fixed document dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from tests.vocabulary import CUSTOMERS, PRODUCTS, REGIONS

# -- the sales ledger ------------------------------------------------------------------------------

LEDGER_HEADER = ["Date", "Region", "Customer", "Product", "Quantity", "Unit price", "Amount"]
LEDGER_SHEET = "Sales"
LEDGER_FORMATS = ("xlsx", "xls", "ods", "csv")

# Fixed document dates, so that writing the same content twice gives the same bytes.
FIXED_CREATED = dt.datetime(2024, 1, 1, 9, 0, 0)
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

SPREADSHEETML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767


def ledger_truth(rows: int = 100, seed: int = 0) -> list[list[Any]]:
    """The exact content `make_ledger(..., rows, seed)` writes: the header, then `rows` data rows.

    Dates are `datetime.date` (all in one month chosen by the seed, in ascending order), Quantity an int,
    Unit price and Amount floats with two decimals (Amount = round(Quantity * Unit price, 2)).
    """
    rng = random.Random(seed)
    month_start = dt.date(2024, 1 + seed % 12, 1)
    days = sorted(rng.randrange(28) for _ in range(rows))
    names = list(PRODUCTS)
    table: list[list[Any]] = [list(LEDGER_HEADER)]
    for day in days:
        product = rng.choice(names)
        price = PRODUCTS[product]
        if rng.random() < 0.15:  # a negotiated discount now and then, so prices are not a fixed list
            price = round(price * 0.9, 2)
        quantity = rng.randint(1, 40)
        table.append(
            [
                month_start + dt.timedelta(days=day),
                rng.choice(REGIONS),
                rng.choice(CUSTOMERS),
                product,
                quantity,
                price,
                round(quantity * price, 2),
            ]
        )
    return table


def make_ledger(
    path: str | os.PathLike[str],
    rows: int = 100,
    seed: int = 0,
    fmt: str | None = None,
    sheet: str = LEDGER_SHEET,
) -> Path:
    """Write a sales ledger holding `ledger_truth(rows, seed)` and return its path.

    `path` is the file to write, or an existing folder (the file is then `ledger-<seed>.<fmt>` inside
    it). `fmt` is one of xlsx, xls, ods, csv; by default it follows the file's extension (xlsx for a
    folder). Dates are real date cells (ISO text in csv), numbers are number cells. The csv is written
    the way Excel's "CSV UTF-8" does: utf-8 with a byte-order mark, commas, CRLF line ends.
    """
    path = Path(path)
    if path.is_dir():
        path = path / f"ledger-{seed}.{fmt or 'xlsx'}"
    fmt = (fmt or path.suffix.lstrip(".") or "xlsx").lower()
    table = ledger_truth(rows, seed)
    writers = {"xlsx": _write_xlsx, "xls": _write_xls, "ods": _write_ods, "csv": _write_csv}
    if fmt not in writers:
        raise ValueError(f"unknown ledger format {fmt!r}; use one of {LEDGER_FORMATS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    writers[fmt](path, table, sheet)
    return path


def make_corpus(
    folder: str | os.PathLike[str],
    n: int = 10,
    rows: int = 50,
    seed: int = 0,
    formats: Sequence[str] = ("xlsx",),
    subfolders: Sequence[str] = (),
    stem: str = "sales",
) -> list[Path]:
    """Write `n` ledgers and return their paths; the i-th path holds `ledger_truth(rows, seed + i)`.

    Without subfolders the files are `<stem>-000.<fmt>`, `<stem>-001.<fmt>`, ... in `folder`. With
    subfolders the files are dealt round-robin into them and numbered within each one, so the same
    names (e.g. north/sales-000.xlsx and south/sales-000.xlsx) occur in different folders. Formats
    cycle with that number, so equally named files also have the same format.
    """
    folder = Path(folder)
    paths = []
    for i in range(n):
        if subfolders:
            target, index = folder / subfolders[i % len(subfolders)], i // len(subfolders)
        else:
            target, index = folder, i
        fmt = formats[index % len(formats)]
        paths.append(make_ledger(target / f"{stem}-{index:03d}.{fmt}", rows=rows, seed=seed + i, fmt=fmt))
    return paths


def _write_xlsx(path: Path, table: list[list[Any]], sheet: str) -> None:
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": FIXED_CREATED, "author": "Sales"})
        bold = book.add_format({"bold": True})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        money = book.add_format({"num_format": "#,##0.00"})
        ws = book.add_worksheet(sheet)
        ws.write_row(0, 0, table[0], bold)
        for r, row in enumerate(table[1:], start=1):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, value, date_format)
                elif isinstance(value, float):
                    ws.write_number(r, c, value, money)
                else:
                    ws.write(r, c, value)
        ws.set_column(0, 0, 11)
        ws.set_column(2, 3, 22)


def _write_xls(path: Path, table: list[list[Any]], sheet: str) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    money = xlwt.easyxf(num_format_str="#,##0.00")
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            elif isinstance(value, float):
                ws.write(r, c, value, money)
            else:
                ws.write(r, c, value)
    book.save(str(path))


_ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{_ODS_MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _write_ods(path: Path, table: list[list[Any]], sheet: str) -> None:
    """An OpenDocument spreadsheet written directly: odfpy takes over 5 s for 10,000 rows, this 0.1 s."""

    def cell(value: Any) -> str:
        if isinstance(value, dt.date):
            kind = f'office:value-type="date" office:date-value="{value.isoformat()}"'
        elif isinstance(value, int | float):
            kind = f'office:value-type="float" office:value="{value!r}"'
        else:
            kind = 'office:value-type="string"'
        return f"<table:table-cell {kind}><text:p>{escape(str(value))}</text:p></table:table-cell>"

    rows = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in table)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet, {chr(34): "&quot;"})}">'
        f"{rows}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # The ODF rule: "mimetype" first and stored, so tools can identify the file from its first bytes.
        archive.writestr(zipfile.ZipInfo("mimetype", ZIP_EPOCH), _ODS_MIMETYPE, zipfile.ZIP_STORED)
        archive.writestr(zipfile.ZipInfo("META-INF/manifest.xml", ZIP_EPOCH), _ODS_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo("content.xml", ZIP_EPOCH), content.encode("utf-8"), zipfile.ZIP_DEFLATED)


def _csv_bytes(table: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    for row in table:
        writer.writerow([v.isoformat() if isinstance(v, dt.date) else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _write_csv(path: Path, table: list[list[Any]], sheet: str) -> None:
    path.write_bytes(_csv_bytes(table))


def _openpyxl_save(book: Any, path: Path) -> Path:
    """Save an openpyxl workbook with fixed document dates (openpyxl stamps the wall clock otherwise)."""
    book.properties.created = FIXED_CREATED
    book.properties.modified = FIXED_CREATED
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path


# -- hand-built xlsx packages ------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{shared}"
    "</Types>"
)
_SHARED_OVERRIDE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<workbook xmlns="{SPREADSHEETML}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    "{shared}"
    "</Relationships>"
)
_SHARED_REL = (
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/>'
)
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# The sheet the hand-built packages use unless told otherwise: A1 is shared string 0, B1 the number 42.
SHARED_STRING_SHEET = (
    f'{_XML_DECL}<worksheet xmlns="{SPREADSHEETML}"><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>42</v></c></row>'
    "</sheetData></worksheet>"
)


def _package_members(sheet_xml: str | None, shared_strings_xml: str | None, sheet: str) -> dict[str, bytes]:
    """The parts of the smallest xlsx Excel opens: content types, relationships, workbook, one sheet."""
    has_shared = shared_strings_xml is not None
    members = {
        "[Content_Types].xml": _CONTENT_TYPES.format(shared=_SHARED_OVERRIDE if has_shared else ""),
        "_rels/.rels": _ROOT_RELS,
        "xl/workbook.xml": _WORKBOOK.format(sheet=sheet),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.format(shared=_SHARED_REL if has_shared else ""),
    }
    if sheet_xml is not None:
        members["xl/worksheets/sheet1.xml"] = sheet_xml
    if has_shared:
        members["xl/sharedStrings.xml"] = shared_strings_xml
    return {name: text.encode("utf-8") for name, text in members.items()}


def make_minimal_xlsx(
    folder: str | os.PathLike[str],
    name: str = "minimal.xlsx",
    sheet_xml: str = SHARED_STRING_SHEET,
    shared_strings_xml: str | None = None,
    sheet: str = "Sheet1",
) -> Path:
    """The smallest valid xlsx, written member by member; the XML bombs below are this with a bad part.

    By default sheet1 holds shared string 0 in A1 and 42 in B1; pass `shared_strings_xml` to supply the
    shared strings part. A reader opens it like any workbook; tests use it to show that the hostile
    variants differ from a good file only in the part they attack.
    """
    if shared_strings_xml is None and ' t="s"' in sheet_xml:
        shared_strings_xml = (
            f'{_XML_DECL}<sst xmlns="{SPREADSHEETML}" count="1" uniqueCount="1"><si><t>Hello</t></si></sst>'
        )
    path = Path(folder) / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in _package_members(sheet_xml, shared_strings_xml, sheet).items():
            archive.writestr(zipfile.ZipInfo(member, ZIP_EPOCH), data, zipfile.ZIP_DEFLATED)
    return path


def _rewrite_member(source: Path, target: Path, member: str, data: bytes) -> None:
    """Copy a zip, replacing one member's content and keeping every other member as it was."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info, data if info.filename == member else old.read(info.filename))


def _raw_deflate(data: bytes, level: int = 9) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _write_raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """Write a zip from already deflated members: (name, raw deflate data, crc32, uncompressed size).

    zipfile cannot take precompressed data, and the zip bomb needs exactly that. Plain (non-zip64)
    headers, no data descriptors, DOS date 1980-01-01: what zipfile itself writes for small members.
    """
    dos_time, dos_date, version, deflated = 0, (0 << 9) | (1 << 5) | 1, 20, 8  # 00:00, 1980-01-01, 2.0
    central = bytearray()
    with open(path, "wb") as handle:
        for name, data, crc, size in members:
            offset = handle.tell()
            encoded = name.encode("ascii")
            # signature, version needed, flags, method, time, date, crc, sizes, name length, extra length
            local = (0x04034B50, version, 0, deflated, dos_time, dos_date, crc, len(data), size, len(encoded), 0)
            handle.write(struct.pack("<IHHHHHIIIHH", *local) + encoded + data)
            # the same plus version made by, comment length, disk, attributes and the local header's offset
            entry = (0x02014B50, version, *local[1:], 0, 0, 0, 0, offset)
            central += struct.pack("<IHHHHHHIIIHHHHHII", *entry) + encoded
        start = handle.tell()
        handle.write(central)
        handle.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0))


# -- hostile files: damaged, renamed, not a workbook -------------------------------------------------


def make_empty_file(folder: str | os.PathLike[str], name: str = "empty.xlsx") -> Path:
    """A 0-byte file with a workbook name: what a failed download or a full disk leaves behind.

    Readers fail on it (openpyxl: BadZipFile; calamine: a zip error); it should be reported as empty.
    """
    path = Path(folder) / name
    path.write_bytes(b"")
    return path


def make_truncated_xlsx(folder: str | os.PathLike[str], name: str = "truncated.xlsx") -> Path:
    """The first half of a valid ledger xlsx: an interrupted copy or download.

    It starts like a real zip (PK\\x03\\x04) but the central directory at the end is missing, so every
    reader fails with a zip error; it should be reported as damaged.
    """
    path = Path(folder) / name
    make_ledger(path, rows=200, seed=7, fmt="xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def make_csv_renamed_xlsx(folder: str | os.PathLike[str], name: str = "export.xlsx") -> Path:
    """A CSV ledger saved with an .xlsx name, as web exports and hasty renames produce.

    Zip readers refuse it; the content is text that starts with the ledger header.
    """
    path = Path(folder) / name
    path.write_bytes(_csv_bytes(ledger_truth(20, seed=3)))
    return path


def make_text_renamed_xlsx(folder: str | os.PathLike[str], name: str = "notes.xlsx") -> Path:
    """A plain text note with an .xlsx name: not tabular, not a workbook; readers refuse it."""
    path = Path(folder) / name
    path.write_text(
        "Meeting notes 2024-03-12\n- send the Q1 figures to finance\n- check the West region totals\n",
        encoding="utf-8",
    )
    return path


def make_zip_not_workbook(folder: str | os.PathLike[str], name: str = "archive.xlsx") -> Path:
    """A valid zip holding a text file and a CSV, named .xlsx: e.g. a zipped report folder.

    Zip libraries open it; workbook readers fail because there is no [Content_Types].xml or workbook part.
    """
    path = Path(folder) / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("readme.txt", ZIP_EPOCH), "Quarterly figures, see data/.\n")
        archive.writestr(zipfile.ZipInfo("data/q1.csv", ZIP_EPOCH), _csv_bytes(ledger_truth(10, seed=1)))
    return path


def make_unclosed_tag_xlsx(folder: str | os.PathLike[str], name: str = "broken-xml.xlsx") -> Path:
    """A ledger xlsx whose sheet1.xml lost the closing tag of its last row: a buggy third-party writer.

    The zip is intact and every other part is well-formed; only the sheet's XML does not parse, so a
    reader opens the package and then fails while reading the sheet.
    """
    folder = Path(folder)
    good = make_ledger(folder / f".{name}.source.xlsx", rows=30, seed=5)
    with zipfile.ZipFile(good) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    cut = sheet.rindex("</row>")
    broken = (sheet[:cut] + sheet[cut + len("</row>") :]).encode("utf-8")
    path = folder / name
    _rewrite_member(good, path, "xl/worksheets/sheet1.xml", broken)
    good.unlink()
    return path


def make_bad_crc_xlsx(folder: str | os.PathLike[str], name: str = "bad-crc.xlsx") -> Path:
    """A ledger xlsx with one flipped bit in the compressed data of sheet1.xml: silent disk or transfer damage.

    The zip structure is untouched and the deflate stream still decodes, to well-formed XML with other
    values (a digit lost or changed), so only the CRC-32 stored for the member tells. zipfile and
    openpyxl fail with "Bad CRC-32", calamine with "Invalid checksum"; a reader that skipped the check
    would report wrong numbers without any error.
    """
    path = Path(folder) / name
    make_ledger(path, rows=60, seed=11)
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        original = archive.read(member)
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    compressed = bytes(data[start : start + info.compress_size])
    # Most flips break the deflate stream itself (a different error) or the XML; take the first, from the
    # middle on, that still decodes completely to other well-formed XML, so only the CRC tells.
    for offset in range(len(compressed) // 2, len(compressed)):
        for bit in range(8):
            candidate = bytearray(compressed)
            candidate[offset] ^= 1 << bit
            decoder = zlib.decompressobj(-15)
            try:
                out = decoder.decompress(bytes(candidate)) + decoder.flush()
            except zlib.error:
                continue
            if not decoder.eof or decoder.unused_data or zlib.crc32(out) == zlib.crc32(original):
                continue
            try:
                ElementTree.fromstring(out)
            except ElementTree.ParseError:
                continue
            data[start + offset] = candidate[offset]
            path.write_bytes(bytes(data))
            return path
    raise RuntimeError("no single-bit flip keeps the sheet decodable")  # not seen: the content is fixed


def make_encrypted_xlsx(folder: str | os.PathLike[str], name: str = "protected.xlsx", password: str = "secret") -> Path:
    """A ledger saved with "Encrypt with Password" (agile encryption, password "secret" by default).

    The file is an OLE2 container with EncryptionInfo and EncryptedPackage streams, not a zip:
    openpyxl reports a misleading BadZipFile, calamine a password error. It should be reported as
    password-protected.
    """
    import msoffcrypto.format.ooxml
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = LEDGER_SHEET
    for row in ledger_truth(20, seed=2):
        ws.append(row)
    plain = io.BytesIO()
    book.properties.created = book.properties.modified = FIXED_CREATED
    book.save(plain)
    plain.seek(0)
    path = Path(folder) / name
    with open(path, "wb") as handle:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(password, handle)
    return path


def make_xls_renamed_xlsx(folder: str | os.PathLike[str], name: str = "old-format.xlsx") -> Path:
    """A real Excel 97-2003 .xls saved with an .xlsx name (common in mail attachments).

    It starts with the OLE2 signature; a zip reader fails, a reader that routes by content reads it as xls.
    """
    path = Path(folder) / name
    _write_xls(path, ledger_truth(25, seed=4), LEDGER_SHEET)
    return path


def make_lock_file(folder: str | os.PathLike[str], name: str = "~$ledger.xlsx", user: str = "Jane Smith") -> Path:
    """The `~$` owner file Excel keeps beside an open workbook (and leaves behind after a crash).

    165 bytes: the user name's length in the first byte, the name (ANSI) padded with spaces to 53 bytes,
    a zero byte, the length again as a 16-bit number, then the name in UTF-16 padded with spaces to 54
    characters. It is not a workbook; batch tools skip it by its `~$` prefix.
    """
    if len(user) > 52:
        raise ValueError("Excel keeps at most 52 characters of the user name")
    ansi = user.encode("cp1252", "replace").ljust(53, b" ")
    wide = user.ljust(54).encode("utf-16-le")
    data = bytes([len(user)]) + ansi + b"\x00" + struct.pack("<H", len(user)) + wide
    path = Path(folder) / name
    path.write_bytes(data)
    return path


def make_html_table_xls(folder: str | os.PathLike[str], name: str = "web-export.xls", rows: int = 20) -> Path:
    """An HTML table saved as .xls, which is what many web apps export as "Excel".

    Excel opens it after a warning; workbook readers fail (it is neither OLE2 nor zip). The table holds
    `ledger_truth(rows, seed=6)`, dates as ISO text and numbers as plain text, one <tr> per row.
    """
    table = ledger_truth(rows, seed=6)

    def cell(tag: str, value: Any) -> str:
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        return f"<{tag}>{text.replace('&', '&amp;').replace('<', '&lt;')}</{tag}>"

    head = "".join(cell("th", v) for v in table[0])
    body = "\n".join("<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in table[1:])
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns="http://www.w3.org/TR/REC-html40">\n'
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        "<!--[if gte mso 9]><xml><x:ExcelWorkbook><x:ExcelWorksheets><x:ExcelWorksheet><x:Name>Export</x:Name>"
        "<x:WorksheetOptions><x:DisplayGridlines/></x:WorksheetOptions></x:ExcelWorksheet></x:ExcelWorksheets>"
        "</x:ExcelWorkbook></xml><![endif]--></head>\n"
        f'<body><table border="1">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></body></html>\n'
    )
    path = Path(folder) / name
    path.write_text(html, encoding="utf-8")
    return path


# -- hostile files: resource exhaustion --------------------------------------------------------------

BILLION_LAUGHS_LEVELS = 10  # 3 x 10**9 characters once expanded


def make_billion_laughs_xlsx(folder: str | os.PathLike[str], name: str = "billion-laughs.xlsx") -> Path:
    """An xlsx whose sharedStrings.xml defines ten nested entities, each ten of the previous: "lol" x 10**9.

    Under 1 KB on disk, 3 GB of text if a parser expands the entities. defusedxml (used by openpyxl when
    installed) refuses the entity declarations; calamine refuses entities; a naive parser runs out of memory.
    """
    lines = ['<!ENTITY lol0 "lol">']
    for level in range(1, BILLION_LAUGHS_LEVELS):
        lines.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    top = BILLION_LAUGHS_LEVELS - 1
    shared = (
        f"{_XML_DECL}<!DOCTYPE sst [\n{chr(10).join(lines)}\n]>\n"
        f'<sst xmlns="{SPREADSHEETML}" count="1" uniqueCount="1"><si><t>&lol{top};</t></si></sst>'
    )
    return make_minimal_xlsx(folder, name, shared_strings_xml=shared)


QUADRATIC_ENTITY_CHARS = 50_000
QUADRATIC_REFERENCES = 20_000  # 50,000 x 20,000 = 10**9 characters once expanded


def make_quadratic_blowup_xlsx(folder: str | os.PathLike[str], name: str = "quadratic-blowup.xlsx") -> Path:
    """An xlsx whose one shared string references a single 50,000-character entity 20,000 times.

    No nesting (so naive "nested entity" guards miss it): about 110 KB of XML and 1 GB once expanded.
    defusedxml refuses the entity declaration; a naive parser builds a 1 GB string.
    """
    shared = (
        f'{_XML_DECL}<!DOCTYPE sst [\n<!ENTITY a "{"x" * QUADRATIC_ENTITY_CHARS}">\n]>\n'
        f'<sst xmlns="{SPREADSHEETML}" count="1" uniqueCount="1"><si><t>{"&a;" * QUADRATIC_REFERENCES}</t></si></sst>'
    )
    return make_minimal_xlsx(folder, name, shared_strings_xml=shared)


def make_external_entity_xlsx(
    folder: str | os.PathLike[str], name: str = "external-entity.xlsx", target: str = "file:///etc/passwd"
) -> Path:
    """An xlsx whose shared string is an external entity pointing at a local file (XXE).

    A parser that resolves external entities would put the content of /etc/passwd into cell A1 (and
    from there into any output); defusedxml refuses the declaration, calamine refuses entities.
    """
    shared = (
        f'{_XML_DECL}<!DOCTYPE sst [\n<!ENTITY xxe SYSTEM "{target}">\n]>\n'
        f'<sst xmlns="{SPREADSHEETML}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    )
    return make_minimal_xlsx(folder, name, shared_strings_xml=shared)


ZIP_BOMB_PADDING = 1 << 30


def make_zip_bomb_xlsx(
    folder: str | os.PathLike[str], name: str = "zip-bomb.xlsx", padding: int = ZIP_BOMB_PADDING
) -> Path:
    """An xlsx of about 1 MB whose sheet1.xml inflates to just over 1 GiB (ratio about 1000:1).

    The sheet is valid: one row with the number 1, after `padding` bytes (rounded up to whole MiB) of
    spaces between the tags. Every reader accepts it and inflates the gigabyte; preflight should refuse
    it from the sizes in the central directory, which are true (the CRC and sizes match the content).

    Deflating 1 GiB with zlib takes 5 s at level 9 (and level 1 gives 4.7 MB), so the member is built
    from one 1 MiB block of spaces deflated once and repeated: each copy ends with a full flush, which
    byte-aligns it and makes it independent of what came before, so copies concatenate into one valid
    deflate stream. About 0.5 s, most of it computing the CRC; memory stays near 3 MiB.
    """
    chunk = b" " * (1 << 20)
    copies = -(-padding // len(chunk))
    head = f'{_XML_DECL}<worksheet xmlns="{SPREADSHEETML}"><sheetData>'.encode()
    tail = b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'

    def flushed(data: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    block = flushed(chunk)
    stream = flushed(head) + block * copies + _raw_deflate(tail)
    crc = zlib.crc32(head)
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + copies * len(chunk) + len(tail)

    members = []
    for member, data in _package_members(None, None, "Sheet1").items():
        members.append((member, _raw_deflate(data), zlib.crc32(data), len(data)))
    members.insert(3, ("xl/worksheets/sheet1.xml", stream, crc, size))
    path = Path(folder) / name
    _write_raw_zip(path, members)
    return path


def make_max_rows_xlsx(folder: str | os.PathLike[str], name: str = "max-rows.xlsx", rows: int = EXCEL_MAX_ROWS) -> Path:
    """A sheet with as many rows as Excel allows (1,048,576): a header "Value", then 1, 2, ... in column A.

    Slow at full size: 1-1.5 s to write, 56 MB of sheet XML, 8 MB on disk; calamine reads it in about
    2 s, openpyxl takes minutes. Row r holds r - 1, so the values sum to (rows - 1) * rows / 2. The
    sheet XML is streamed into the zip in blocks of 20,000 rows, so memory stays small.
    """
    path = Path(folder) / name
    members = _package_members(None, None, "Sheet1")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(zipfile.ZipInfo(member, ZIP_EPOCH), data, zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", ZIP_EPOCH)  # a fixed date keeps the bytes stable
        info.compress_type = zipfile.ZIP_DEFLATED
        # Level 1 instead of zlib's default 6: 0.6 s faster here for 1% more bytes. A ZipInfo passed to
        # open() ignores the archive's compresslevel; the attribute is compress_level from Python 3.13.
        setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
        with archive.open(info, "w") as sheet:
            sheet.write(
                f'{_XML_DECL}<worksheet xmlns="{SPREADSHEETML}"><dimension ref="A1:A{rows}"/><sheetData>'
                '<row r="1"><c r="A1" t="inlineStr"><is><t>Value</t></is></c></row>'.encode()
            )
            step = 20_000
            for first in range(2, rows + 1, step):
                last = min(first + step, rows + 1)
                sheet.write(
                    "".join(f'<row r="{r}"><c r="A{r}"><v>{r - 1}</v></c></row>' for r in range(first, last)).encode()
                )
            sheet.write(b"</sheetData></worksheet>")
    return path


# -- odd but valid content ---------------------------------------------------------------------------


def make_empty_workbook(folder: str | os.PathLike[str], name: str = "empty-workbook.xlsx") -> Path:
    """A workbook as Excel's "New" gives it: one sheet, no cells. Readers return no rows."""
    import openpyxl

    return _openpyxl_save(openpyxl.Workbook(), Path(folder) / name)


EMPTY_SHEET_NAMES = ("January", "February", "March")


def make_empty_sheets_workbook(folder: str | os.PathLike[str], name: str = "empty-sheets.xlsx") -> Path:
    """A prepared template never filled in: three named sheets (January, February, March), no cells."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = EMPTY_SHEET_NAMES[0]
    for title in EMPTY_SHEET_NAMES[1:]:
        book.create_sheet(title)
    return _openpyxl_save(book, Path(folder) / name)


FORMULA_VALUES = (120, 80.5, 300, 42, 7.25)


def make_formulas_without_values(folder: str | os.PathLike[str], name: str = "formulas.xlsx") -> Path:
    """Formulas with no cached results, as openpyxl and other libraries write them (Excel never did).

    Column A: "Amount", then FORMULA_VALUES in A2:A6 and =SUM(A2:A6) in A7; column B: "With VAT",
    then =A2*1.2 ... =A6*1.2. Value readers see the formula cells as empty, because only Excel
    computes them; a reader should warn rather than report a total of nothing.
    """
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Totals"
    ws.append(["Amount", "With VAT"])
    for r, value in enumerate(FORMULA_VALUES, start=2):
        ws.append([value, f"=A{r}*1.2"])
    ws.append([f"=SUM(A2:A{len(FORMULA_VALUES) + 1})"])
    return _openpyxl_save(book, Path(folder) / name)


def make_merged_cells(folder: str | os.PathLike[str], name: str = "merged.xlsx") -> Path:
    """A report-style sheet with merged cells: a title across A1:D1 and region names merged down.

    Layout: A1:D1 "Quarterly sales report" (merged); row 2 the header Region, Month, Units, Revenue;
    A3:A5 "North" and A6:A8 "South" (merged vertically), months Jan-Mar, numbers in C and D. A merged
    cell holds its value in the top-left cell only, so readers see A4, A5, A7, A8 as empty.
    """
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Report"
    ws["A1"] = "Quarterly sales report"
    ws.merge_cells("A1:D1")
    ws.append(["Region", "Month", "Units", "Revenue"])
    figures = [("North", "Jan", 120, 2400.0), ("North", "Feb", 95, 1900.0), ("North", "Mar", 130, 2600.0)]
    figures += [("South", "Jan", 80, 1600.0), ("South", "Feb", 110, 2200.0), ("South", "Mar", 70, 1400.0)]
    for i, (region, month, units, revenue) in enumerate(figures):
        ws.append([region if i % 3 == 0 else None, month, units, revenue])
    ws.merge_cells("A3:A5")
    ws.merge_cells("A6:A8")
    return _openpyxl_save(book, Path(folder) / name)


DATE_NUMBER_DATES = (dt.date(2024, 1, 2), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 12, 31))


def make_dates_as_numbers(folder: str | os.PathLike[str], name: str = "dates-as-numbers.xlsx") -> Path:
    """Dates stored as Excel serial numbers without a date format (e.g. 45293 for 2024-01-02).

    What a sheet looks like after someone applies "General" format to a date column, or after a
    system export. Readers see plain numbers; guessing that they are dates is unsafe. Column A
    "Invoice date" holds the serials of DATE_NUMBER_DATES, column B "Amount" small amounts.
    """
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Invoices"
    ws.append(["Invoice date", "Amount"])
    for i, day in enumerate(DATE_NUMBER_DATES):
        ws.append([(day - dt.date(1899, 12, 30)).days, 100.0 + 25 * i])
    return _openpyxl_save(book, Path(folder) / name)


def make_long_string_cell(folder: str | os.PathLike[str], name: str = "long-text.xlsx") -> Path:
    """A cell at Excel's limit of 32,767 characters (A2; A1 is the header "Comment").

    Pasted e-mails and log extracts reach it. Writers must not exceed it; CSV readers and writers must
    not truncate it. The text is a repeated sentence cut to exactly 32,767 characters.
    """
    import openpyxl

    sentence = "Customer called about the delayed delivery of order 4711; promised a call back. "
    text = (sentence * (EXCEL_MAX_CELL_CHARS // len(sentence) + 1))[:EXCEL_MAX_CELL_CHARS]
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Comment"])
    ws.append([text])
    return _openpyxl_save(book, Path(folder) / name)


# Texts with the control characters a cell can hold: tab, line feed and carriage return are plain XML;
# other C0 controls are not legal XML, and Excel stores them escaped as _xHHHH_ (xlsxwriter does the same).
CONTROL_CHAR_TEXTS = (
    "Column\tafter a tab",
    "First line\nsecond line",
    "Windows line\r\nend",
    "Bell\x07 and escape\x1b inside",
    "Vertical\x0btab and form\x0cfeed",
    "No-break\u00a0space and zero\u200bwidth",
)


def make_control_chars(folder: str | os.PathLike[str], name: str = "control-chars.xlsx") -> Path:
    """Cells holding CONTROL_CHAR_TEXTS in A2:A7 (A1 "Text"): the invisible characters pasted from other systems.

    Line breaks in cells are normal in Excel (Alt+Enter); bell, escape, vertical tab and form feed come
    from terminal and mainframe exports and are stored escaped as _x0007_ etc. CSV writers must quote
    the line breaks; cleaners may strip the rest.
    """
    import xlsxwriter

    path = Path(folder) / name
    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": FIXED_CREATED})
        ws = book.add_worksheet("Texts")
        ws.write_string(0, 0, "Text")
        for r, text in enumerate(CONTROL_CHAR_TEXTS, start=1):
            ws.write_string(r, 0, text)
    return path


# Legal but awkward: ampersand and parentheses, non-ASCII, an apostrophe (quoted in formulas as 'a''b'),
# '#' and '%', a name of exactly 31 characters (Excel's limit), and a name that looks like a number.
ODD_SHEET_NAMES = ("Q1 & Q2 (draft)", "Ünïcødé 日本", "a'b", "#1 - 100%", "Sales figures for the region NE", "2024")


def make_odd_sheet_names(folder: str | os.PathLike[str], name: str = "odd-sheet-names.xlsx") -> Path:
    """A workbook whose sheets are named ODD_SHEET_NAMES, each holding its name in A1 and its position in B1.

    Tests that sheet names survive output file names, formulas and report text, and that "2024" is a
    name, not sheet number 2024.
    """
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for position, title in enumerate(ODD_SHEET_NAMES, start=1):
        ws = book.create_sheet(title)
        ws.append([title, position])
    return _openpyxl_save(book, Path(folder) / name)


UNICODE_FILE_NAMES = ("Café résumé.xlsx", "売上 2024年3月.xlsx", "Ünïcødé – Q1 (final).csv", "Ελληνικά.xls")


def make_unicode_file_names(folder: str | os.PathLike[str]) -> list[Path]:
    """Ledgers named UNICODE_FILE_NAMES (accents, CJK, a dash, Greek); the i-th holds ledger_truth(10, 20 + i).

    Tests that discovery, output names and reports keep non-ASCII names intact on every platform.
    """
    return [make_ledger(Path(folder) / n, rows=10, seed=20 + i) for i, n in enumerate(UNICODE_FILE_NAMES)]


def _long_path_os(path: Path) -> str:
    """A path string the OS accepts past 260 characters (Windows needs the \\\\?\\ prefix without LongPathsEnabled)."""
    if sys.platform == "win32":
        return "\\\\?\\" + str(path.resolve())
    return str(path)


def make_long_path_ledger(folder: str | os.PathLike[str], length: int = 300) -> Path:
    """A ledger (ledger_truth(10, 30)) at a full path longer than `length` (default 300) characters.

    Nested folders named like real archive folders. Windows' classic MAX_PATH is 260: programs that do
    not use long-path APIs fail to open it, list it, or write outputs beside it.
    """
    folder = Path(folder)
    segment = "Finance department - quarterly reports archive"
    current = folder
    while len(str(current / "ledger.xlsx")) <= length:
        current = current / segment
    os.makedirs(_long_path_os(current), exist_ok=True)
    path = current / "ledger.xlsx"
    scratch = make_ledger(folder / ".long-path-ledger.xlsx", rows=10, seed=30)
    with open(_long_path_os(path), "wb") as handle:
        handle.write(scratch.read_bytes())
    scratch.unlink()
    return path
