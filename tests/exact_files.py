"""Workbooks with exactly known cell contents, written without the project's own writer.

- `raw_xlsx()` writes the package XML by hand: numbers with the shortest digits that round-trip
  (`repr`), text as inline strings with Excel's _xHHHH_ escapes, booleans, error values, and dates as
  serial numbers computed here from first principles (Excel's 1900 system, with its 1900-02-29, or the
  1904 system), so a fault in the xlsx writer or in the reader cannot hide behind the same fault here.
- `biff5_xls()` writes a BIFF5 (Excel 95) workbook, whose text is stored in a code page, inside a minimal
  compound file: LibreOffice no longer exports BIFF5 and xlwt writes only BIFF8.
- `xls_with_codepage()` writes a BIFF8 file with xlwt and sets its CODEPAGE record, as some writers do.
- `libreoffice_xls()` converts xlsx files (with formulas) to BIFF8 .xls with LibreOffice, which saves
  each formula's result (text, number, boolean or error) the way Excel does.
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

# Number formats of the date-like kinds, as style indexes 1-4 of raw_xlsx's styles.xml.
DATE_STYLES = {"date": (1, "yyyy-mm-dd"), "datetime": (2, "yyyy-mm-dd hh:mm:ss.000"),
               "time": (3, "hh:mm:ss.000"), "duration": (4, "[h]:mm:ss.000")}  # fmt: skip


class XlsxError:
    """An error value cell (#N/A, #DIV/0!, ...) for raw_xlsx."""

    def __init__(self, text: str) -> None:
        self.text = text


def excel_serial(value: Any, date_1904: bool = False) -> float | int:
    """The serial number Excel stores for a date, datetime, time or duration."""
    if isinstance(value, dt.timedelta):
        total_ms = (value.days * 86_400 + value.seconds) * 1000 + value.microseconds // 1000
        return total_ms / 86_400_000
    if isinstance(value, dt.time):
        ms = ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
        return ms / 86_400_000
    day = value.date() if isinstance(value, dt.datetime) else value
    if date_1904:
        days = (day - dt.date(1904, 1, 1)).days
    else:
        days = (day - dt.date(1899, 12, 31)).days
        if day >= dt.date(1900, 3, 1):
            days += 1  # Excel's 1900-02-29 is day 60
    if not isinstance(value, dt.datetime):
        return days
    ms = ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    return days + ms / 86_400_000


def _escape_text(text: str) -> str:
    text = text.replace("_x", "_x005F_x")  # a literal _xHHHH_ must not read as an escape
    out = []
    for char in text:
        code = ord(char)
        out.append(f"_x{code:04X}_" if code < 0x20 and char not in "\t\n" else char)
    return escape("".join(out))


def _cell(ref: str, value: Any, date_1904: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, XlsxError):
        return f'<c r="{ref}" t="e"><v>{escape(value.text)}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_escape_text(value)}</t></is></c>'
    if isinstance(value, dt.timedelta):
        kind = "duration"
    elif isinstance(value, dt.datetime):
        kind = "datetime"
    elif isinstance(value, dt.date):
        kind = "date"
    else:
        kind = "time"
    return f'<c r="{ref}" s="{DATE_STYLES[kind][0]}"><v>{excel_serial(value, date_1904)!r}</v></c>'


def _column(index: int) -> str:
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _package_parts(names: list[str], date_1904: bool) -> dict[str, str]:
    """Every part of the package except the sheets: content types, relationships, workbook, styles."""
    xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    ns_rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ns_pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    count = len(names)
    content_types = (
        f'{xml}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{ml}.styles+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ml}.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        + "</Types>"
    )
    rels = (
        f'{xml}<Relationships xmlns="{ns_pkg}">'
        f'<Relationship Id="rId1" Type="{ns_rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheets = "".join(
        f'<sheet name="{escape(n, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1)
    )
    workbook = (
        f'{xml}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{ns_rel}">'
        + ('<workbookPr date1904="1"/>' if date_1904 else "")
        + f"<sheets>{sheets}</sheets></workbook>"
    )
    workbook_rels = (
        f'{xml}<Relationships xmlns="{ns_pkg}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{ns_rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        + f'<Relationship Id="rId{count + 1}" Type="{ns_rel}/styles" Target="styles.xml"/></Relationships>'
    )
    formats = "".join(f'<numFmt numFmtId="{163 + i}" formatCode="{escape(code)}"/>' for i, code in DATE_STYLES.values())
    xfs = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' + "".join(
        f'<xf numFmtId="{163 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for i, _code in DATE_STYLES.values()
    )
    styles = (
        f'{xml}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="{len(DATE_STYLES)}">{formats}</numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(DATE_STYLES) + 1}">{xfs}</cellXfs></styleSheet>'
    )
    return {
        "[Content_Types].xml": content_types,
        "_rels/.rels": rels,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": workbook_rels,
        "xl/styles.xml": styles,
    }


def raw_xlsx(path: Path, sheets: dict[str, list[list[Any]]], date_1904: bool = False) -> Path:
    """An xlsx with these sheets (rows from A1), written by hand."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(sheets)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in _package_parts(names, date_1904).items():
            archive.writestr(member, text)
        for i, name in enumerate(names, 1):
            body = "".join(
                f'<row r="{r}">'
                + "".join(_cell(f"{_column(c)}{r}", v, date_1904) for c, v in enumerate(row, 1))
                + "</row>"
                for r, row in enumerate(sheets[name], 1)
            )
            archive.writestr(
                f"xl/worksheets/sheet{i}.xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"<sheetData>{body}</sheetData></worksheet>",
            )
    return path


# --- legacy .xls ---------------------------------------------------------------------------------
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def compound_file(stream_name: str, data: bytes) -> bytes:
    """A minimal compound (OLE2) file holding one stream, padded to 4,096 bytes so it needs no
    mini-stream: sector 0 is the FAT, sector 1 the directory, the stream follows."""
    data += b"\0" * (max(4096, -(-len(data) // 512) * 512) - len(data))
    sectors = len(data) // 512
    fat = [_FAT, _END, *range(3, 2 + sectors), _END]
    fat += [_FREE] * (128 - len(fat))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    header += b"\0" * 6 + struct.pack("<9I", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
    header += struct.pack("<I", 0) + b"\xff" * 432

    def entry(name: str, kind: int, start: int, size: int, child: int = _FREE) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB", len(raw), kind, 1)
            + struct.pack("<III", _FREE, _FREE, child)
            + b"\0" * 36
            + struct.pack("<III", start, size, 0)
        )

    directory = entry("Root Entry", 5, _END, 0, child=1) + entry(stream_name, 2, 2, len(data))
    return header + struct.pack("<128I", *fat) + directory.ljust(512, b"\0") + data


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def biff5_xls(path: Path, sheet: str, cells: list[tuple[int, int, Any]], codepage: int = 1252) -> Path:
    """An Excel 95 (BIFF5) workbook of one sheet whose text is stored in `codepage`; cells are
    (row, column, str or float), 0-based."""
    encoding = f"cp{codepage}"
    name = sheet.encode(encoding)
    eof = _record(0x000A, b"")
    head = _record(0x0809, struct.pack("<4H", 0x0500, 0x0005, 0, 0)) + _record(0x0042, struct.pack("<H", codepage))
    sheet_at = len(head) + 4 + 7 + len(name) + len(eof)
    workbook = head + _record(0x0085, struct.pack("<IH", sheet_at, 0) + bytes([len(name)]) + name) + eof
    rows = max(r for r, _, _ in cells) + 1
    columns = max(c for _, c, _ in cells) + 1
    body = _record(0x0809, struct.pack("<4H", 0x0500, 0x0010, 0, 0))
    body += _record(0x0000, struct.pack("<5H", 0, rows, 0, columns, 0))
    for r, c, value in cells:
        if isinstance(value, str):
            raw = value.encode(encoding)
            body += _record(0x0204, struct.pack("<4H", r, c, 0, len(raw)) + raw)
        else:
            body += _record(0x0203, struct.pack("<3Hd", r, c, 0, value))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compound_file("Book", workbook + body + eof))
    return path


def xls_with_codepage(path: Path, rows: list[list[Any]], codepage: int, sheet: str = "Data") -> Path:
    """A BIFF8 .xls (xlwt) whose CODEPAGE record says `codepage`; its text stays UTF-16, as BIFF8 requires."""
    import xlwt

    book = xlwt.Workbook()
    ws = book.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    data = path.read_bytes()
    marker = _record(0x0042, struct.pack("<H", 1200))
    assert data.count(marker) == 1, "xlwt writes one CODEPAGE record of 1200"
    path.write_bytes(data.replace(marker, _record(0x0042, struct.pack("<H", codepage))))
    return path


def with_stray_string(source: Path, target: Path, row: int, column: int, text: str) -> Path:
    """A copy of a BIFF8 .xls with a STRING record (a formula's text result) after the FORMULA record
    of (row, column), 0-based, whatever that formula's result is: some writers leave one behind."""
    import olefile

    with olefile.OleFileIO(str(source)) as ole:
        data = ole.openstream("Workbook").read()
    out, pos, done = bytearray(), 0, False
    while pos + 4 <= len(data):
        kind, length = struct.unpack_from("<HH", data, pos)
        out += data[pos : pos + 4 + length]
        if kind == 0x0006 and not done and struct.unpack_from("<HH", data, pos + 4) == (row, column):
            raw = text.encode("latin-1")
            out += _record(0x0207, struct.pack("<HB", len(raw), 0) + raw)
            done = True
        pos += 4 + length
    assert done, f"no formula at row {row}, column {column}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(compound_file("Workbook", bytes(out)))  # the sheets follow, so no offset moves
    return target


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_xls(sources: list[Path], folder: Path) -> list[Path]:
    """Each xlsx converted to an Excel 97-2003 .xls in `folder` by LibreOffice (one run for all)."""
    program = soffice()
    assert program is not None
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "lo-profile"  # a private profile: parallel test runs must not share one
    subprocess.run(
        [program, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "xls:MS Excel 97",
         "--outdir", str(folder), *map(str, sources)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    results = [folder / f"{p.stem}.xls" for p in sources]
    missing = [p for p in results if not p.is_file()]
    assert not missing, f"LibreOffice did not write {missing}"
    return results
