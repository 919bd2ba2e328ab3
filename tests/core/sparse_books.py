"""Builders for the sparse-sheet tests: stray-cell workbooks, damaged references, and xlsx packages written
by hand so every cell type, style and date system calamine knows can be put in one file."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import xlsxwriter

REPO = Path(__file__).resolve().parents[2]


def realworld() -> Path | None:
    """The shared folder of workbooks nobody here made, or None when it is absent."""
    for root in (REPO.parent / "shared" / "realworld", Path("/work/shared/realworld")):
        if (root / "calamine").is_dir():
            return root
    return None


def stray_book(path: Path, ref: str) -> Path:
    """Two rows of data under a header, and one value typed far away at `ref`."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["Name", "Amount"])
    sheet.write_row(1, 0, ["north", 5])
    sheet.write_row(2, 0, ["south", 7.5])
    sheet.write(ref, 1)
    book.close()
    return path


def _rewrite_member(path: Path, member: str, change: Any) -> None:
    with zipfile.ZipFile(path) as archive:
        items = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            archive.writestr(info, change(data) if info.filename == member else data)


def past_xfd_book(path: Path, ref: str = "XFE5") -> Path:
    """A workbook whose sheet XML holds a cell reference past column XFD (writers refuse to make one)."""
    stray_book(path, "C3")

    def damage(xml: bytes) -> bytes:
        return xml.replace(b'<c r="C3"', f'<c r="{ref}"'.encode())

    _rewrite_member(path, "xl/worksheets/sheet1.xml", damage)
    return path


_CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_BOOK_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def package(
    path: Path,
    cells: str,
    formats: list[tuple[int, str]],
    styles: list[int],
    strings: list[str],
    date1904: bool = False,
) -> Path:
    """An xlsx written by hand: `cells` is the sheetData XML, `styles` the numFmtId of each cellXfs entry."""
    workbook = (
        f'<?xml version="1.0"?><workbook xmlns="{MAIN}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<workbookPr{" date1904=" + chr(34) + "1" + chr(34) if date1904 else ""}/>'
        '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    number_formats = "".join(f'<numFmt numFmtId="{i}" formatCode={quoteattr(code)}/>' for i, code in formats)
    xfs = "".join(f'<xf numFmtId="{i}"/>' for i in styles)
    stylesheet = (
        f'<?xml version="1.0"?><styleSheet xmlns="{MAIN}"><numFmts>{number_formats}</numFmts>'
        f"<cellXfs>{xfs}</cellXfs></styleSheet>"
    )
    shared = f'<?xml version="1.0"?><sst xmlns="{MAIN}">' + "".join(strings) + "</sst>"
    sheet = f'<?xml version="1.0"?><worksheet xmlns="{MAIN}"><sheetData>{cells}</sheetData></worksheet>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        archive.writestr("xl/styles.xml", stylesheet)
        archive.writestr("xl/sharedStrings.xml", shared)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


# Custom number formats and what calamine makes of them (from its own test list and the rules it follows).
CUSTOM_FORMATS = [
    "yyyy-mm-dd",
    "DD/MM/YY",
    "H:MM:SS;@",
    "[h]:mm:ss",
    "[mm]",
    "[s].000",
    "[Blue]\\+[h]:mm;[Red]\\-[h]:mm",
    "[>=100][Magenta].00",
    "#,##0\\ [$\\u20bd-46D]",
    '"Y: "0.00"m"',
    '#,##0.0####" YMD"',
    "ha/p\\\\m",
    "0.00",
    "#,##0*y",
    "mmm-yy",
    '[$-404]e"\\xfc"m',
    "0_ ;[Red]\\-0\\ ",
]
SERIALS = [
    "0", "0.25", "0.9999999", "0.99999999999", "1", "1.5", "59", "60", "61", "45000", "45000.5",
    "45000.999999999", "-0.25", "-5.25", "1.5E3", "2958465", "2958466", "1.5e-7", "nan", "1e8",
]  # fmt: skip (1e10 or inf days overflow Python's timedelta in both readers)


def typed_package(path: Path, date1904: bool) -> Path:
    """Every cell type (shared, inline and rich strings, booleans, errors, ISO dates, numbers in every
    number format above and a few built-in ones), with stray cells far from the rest."""
    formats = [(164 + i, code) for i, code in enumerate(CUSTOM_FORMATS)]
    styles = [0, 14, 15, 20, 22, 45, 46, 47, 49, 2] + [i for i, _ in formats]
    strings = [
        "<si><t>plain</t></si>",
        '<si><t xml:space="preserve">  kept  </t></si>',
        "<si><t>  trimmed  </t></si>",
        "<si><r><t>rich </t></r><r><t>text</t></r><rPh><t>phonetic</t></rPh></si>",
        "<si><t>line_x000D_break</t></si>",
        "<si></si>",
        "<si><t>&amp;&lt;&#233;</t></si>",
    ]
    rows = []
    for style in range(len(styles)):
        cells = "".join(f'<c r="{_col(i)}{style + 1}" s="{style}"><v>{v}</v></c>' for i, v in enumerate(SERIALS))
        rows.append(f'<row r="{style + 1}">{cells}</row>')
    base = len(styles) + 1
    extra = [
        f'<c r="A{base}" t="s"><v>0</v></c><c r="B{base}" t="s"><v>1</v></c><c r="C{base}" t="s"><v>2</v></c>'
        f'<c r="D{base}" t="s"><v>3</v></c><c r="E{base}" t="s"><v>4</v></c><c r="F{base}" t="s"><v>5</v></c>'
        f'<c r="G{base}" t="s"><v>6</v></c><c r="H{base}" t="s"><v></v></c>',
        '<c t="b"><v>1</v></c><c t="b"><v>0</v></c><c t="b"><v>true</v></c><c t="e"><v>#N/A</v></c>'
        '<c t="e"><v>#DIV/0!</v></c><c t="str"><v>a_x000D_b</v></c><c t="str"><v>  spaced  </v></c>',
        '<c t="inlineStr"><is><t>inline</t></is></c><c t="inlineStr"><is><t>x</t></is><v>x</v></c>'
        '<c><f>1+1</f><v>2</v></c><c><v>2</v><f>1+1</f></c><c><v> 5</v></c><c><v>+5</v></c><c><v>.5</v></c>'
        "<c><v>1_000</v></c><c><v>0x10</v></c><c><v>abc</v></c><c><v>inf</v></c><c s=\"1\"><v>inf</v></c>"
        '<c s="1"><v>1e10</v></c><c><v>9007199254740993</v></c><c><v>-0</v></c>',
        '<c t="d"><v>2024-01-31T10:30:00.123</v></c><c t="d"><v>2024-01-31</v></c><c t="d"><v>10:30</v></c>'
        '<c t="d"><v>2024-01-31 10:30:00</v></c><c t="d"><v>garbage</v></c><c t="d"><v>2024-13-01</v></c>',
        '<c s="99"><v>45000</v></c><c s="1"><v></v></c><c s="1"/><c t="str"></c>',
    ]
    for offset, cells in enumerate(extra):
        rows.append(f'<row r="{base + offset}">{cells}</row>')
    rows.append('<row r="900"><c r="Z900" t="e"><v>#REF!</v></c></row>')  # used, but reads as empty
    rows.append('<row r="5000"><c r="AB5000" s="1"><v>45000</v></c></row>')
    return package(path, "".join(rows), formats, styles, strings, date1904)


def _col(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsxwriter_typed(path: Path) -> Path:
    """What xlsxwriter writes for dates, times, durations, booleans, formulas and formats."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Types")
    formats = ["yyyy-mm-dd", "hh:mm:ss", "[h]:mm", "d mmm yyyy hh:mm", "0.00%", "#,##0.00", "@", 'm"M"d"D"']
    values: list[Any] = [
        dt.date(2024, 2, 29), dt.datetime(1900, 2, 28, 23, 59, 59), dt.time(6, 30), dt.timedelta(hours=30),
        1.5, 0.25, 12345.678, -3, 9.9e8, 1e-300, True, False, "text", "", "=not a formula",
    ]  # fmt: skip
    for row, value in enumerate(values):
        for col, code in enumerate(formats):
            cell_format = book.add_format({"num_format": code})
            sheet.write(row, col, value, cell_format)
    sheet.write_formula("J1", "=1+1", None, 2)
    sheet.write_formula("J2", '="a"&"b"', None, "ab")
    sheet.write("P3000", "stray")
    book.close()
    return path
