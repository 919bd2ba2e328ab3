"""The package of an xlsx the fragment writer makes: a zip whose big members arrive already compressed.

A sheet's XML is a run of independently compressed pieces: each fragment of rows is a raw deflate stream
cut with a full flush (no final block, no history shared with the next piece), so pieces compressed in
different processes concatenate into one valid stream, which `DeflatedMember.close` ends with an empty
final block. The member's CRC-32 is combined from the pieces' CRCs (`crc32_combine`, zlib's algorithm), so
the parent copies compressed bytes and never sees the XML. Sizes are known when a member is written
(sheets are spooled first), so local headers need no data descriptor; members or offsets past 4 GiB get
ZIP64 records (APPNOTE 4.5.3).

The small parts ([Content_Types].xml, the relationships, workbook.xml, styles.xml, docProps) are built
here from what the writer knows at the end: the sheets, their defined names, the number formats.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from xlbatch.sheet_xml import DATE_STYLES, DATE_STYLES_MS, NUMBER_STYLES

LEVEL = 6  # zlib's default, as xlsxwriter and Excel compress; 1 is faster and a third larger
_ZIP64_LIMIT = 0xFFFFFFFF  # a size or offset from here on needs a ZIP64 record
_IN_ZIP64 = 0xFFFFFFFF  # what the classic field then says
_DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01, as xlsxwriter stamps its members
_FINAL_BLOCK = b"\x03\x00"  # an empty final block of fixed Huffman codes: ends a stream of pieces
_CRC_POLY = 0xEDB88320


def _multiply(a: int, b: int) -> int:
    """a(x) * b(x) modulo the CRC-32 polynomial, bits reflected (zlib's multmodp)."""
    m, product = 1 << 31, 0
    while True:
        if a & m:
            product ^= b
            if not a & (m - 1):
                return product
        m >>= 1
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multiply(p, p)
    return table


_X2N = _powers()  # x^(2^n) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from the CRC of A, the CRC of B and the length of B (zlib's crc32_combine)."""
    p, k, n = 1 << 31, 3, length2  # x^(8 * length2): k starts at 3 because a byte is 2^3 bits
    while n:
        if n & 1:
            p = _multiply(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multiply(p, crc1) ^ crc2


@dataclass(frozen=True)
class Piece:
    """Compressed XML that can go anywhere in a member: raw deflate ending with a full flush."""

    data: bytes
    crc: int
    length: int  # uncompressed bytes


def compress_piece(xml: bytes, level: int = LEVEL) -> Piece:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Piece(compressor.compress(xml) + compressor.flush(zlib.Z_FULL_FLUSH), zlib.crc32(xml), len(xml))


def inflate_piece(piece: Piece) -> bytes:
    return zlib.decompressobj(-15).decompress(piece.data)


@dataclass
class _Entry:
    name: bytes
    offset: int
    crc: int
    compressed: int
    size: int


class ZipWriter:
    """A zip archive written member by member to a binary file, every member deflated."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._entries: list[_Entry] = []
        self._offset = 0

    def _write(self, data: bytes) -> None:
        self._handle.write(data)
        self._offset += len(data)

    def add(self, name: str, data: bytes, level: int = LEVEL) -> None:
        """A small member, compressed here."""
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        self._member(name, zlib.crc32(data), len(data), [packed], len(packed))

    def add_pieces(self, name: str, head: Piece, body: DeflatedMember, tail: Piece) -> None:
        """A member made of `head`, the pieces spooled in `body`, then `tail` and the final block."""
        crc = crc32_combine(crc32_combine(head.crc, body.crc, body.size), tail.crc, tail.length)
        size = head.length + body.size + tail.length
        end = tail.data + _FINAL_BLOCK
        body.spool.seek(0)
        self._member(
            name,
            crc,
            size,
            [head.data, (body.spool, body.compressed), end],
            len(head.data) + body.compressed + len(end),
        )

    def _member(self, name: str, crc: int, size: int, sources: list[Any], compressed: int) -> None:
        """A local header, then `sources` (bytes, or a spool and how many bytes it holds)."""
        encoded = name.encode("ascii")
        offset = self._offset
        big = size >= _ZIP64_LIMIT or compressed >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, compressed) if big else b""
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            45 if big else 20,
            0,
            8,
            0,
            _DOS_DATE,
            crc,
            _IN_ZIP64 if big else compressed,
            _IN_ZIP64 if big else size,
            len(encoded),
            len(extra),
        )
        self._write(header + encoded + extra)
        for source in sources:
            if isinstance(source, bytes):
                self._write(source)
            else:  # a spool of pieces and its length
                shutil.copyfileobj(source[0], self._handle, 1 << 20)
                self._offset += source[1]
        self._entries.append(_Entry(encoded, offset, crc, compressed, size))

    def close(self) -> None:
        """The central directory, with ZIP64 records where a size, an offset or the count needs them."""
        start = self._offset
        for entry in self._entries:
            fields = [v for v in (entry.size, entry.compressed, entry.offset) if v >= _ZIP64_LIMIT]
            big = bool(fields)
            extra = b""
            if big:
                values = [entry.size, entry.compressed, entry.offset]
                extra = struct.pack("<HH", 1, 8 * len(values)) + struct.pack(f"<{len(values)}Q", *values)
            self._write(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    45,
                    45 if big else 20,
                    0,
                    8,
                    0,
                    _DOS_DATE,
                    entry.crc,
                    _IN_ZIP64 if big else entry.compressed,
                    _IN_ZIP64 if big else entry.size,
                    len(entry.name),
                    len(extra),
                    0,
                    0,
                    0,
                    0,
                    _IN_ZIP64 if big else entry.offset,
                )
                + entry.name
                + extra
            )
        end = self._offset
        count, size = len(self._entries), end - start
        if count >= 0xFFFF or start >= _ZIP64_LIMIT or size >= _ZIP64_LIMIT:
            self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, start))
            self._write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
            count_field, size_field, start_field = 0xFFFF, _IN_ZIP64, _IN_ZIP64
        else:
            count_field, size_field, start_field = count, size, start
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count_field, count_field, size_field, start_field, 0))


class DeflatedMember:
    """The pieces of one member, spooled until the member is written: their CRC and sizes so far."""

    def __init__(self, spool: IO[bytes]) -> None:
        self.spool = spool
        self.crc = 0
        self.size = 0
        self.compressed = 0

    def append(self, piece: Piece) -> None:
        self.spool.write(piece.data)
        self.crc = crc32_combine(self.crc, piece.crc, piece.length)
        self.size += piece.length
        self.compressed += len(piece.data)


# -- the small parts ---------------------------------------------------------------------------------
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
SHEET_HEAD = f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'  # a sheet member's opening


def content_types(sheets: int) -> bytes:
    overrides = [
        ("/docProps/app.xml", "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
        ("/xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
        *((f"/xl/worksheets/sheet{n}.xml", _SHEET_TYPE) for n in range(1, sheets + 1)),
    ]
    return (
        _HEAD
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        + '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        + '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    ).encode()


def _relationships(targets: Sequence[tuple[str, str]]) -> bytes:
    items = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"/>' for n, (kind, target) in enumerate(targets, 1)
    )
    return f'{_HEAD}<Relationships xmlns="{_PKG_RELS}">{items}</Relationships>'.encode()


def root_relationships() -> bytes:
    return _relationships(
        [
            (f"{_DOC_RELS}/officeDocument", "xl/workbook.xml"),
            (f"{_PKG_RELS}/metadata/core-properties", "docProps/core.xml"),
            (f"{_DOC_RELS}/extended-properties", "docProps/app.xml"),
        ]
    )


def workbook_relationships(sheets: int) -> bytes:
    return _relationships(
        [
            *((f"{_DOC_RELS}/worksheet", f"worksheets/sheet{n}.xml") for n in range(1, sheets + 1)),
            (f"{_DOC_RELS}/styles", "styles.xml"),
        ]
    )


_HIDDEN = ' hidden="1"'


def quoted_sheet(name: str) -> str:
    """A sheet name as a formula writes it, always quoted (Excel accepts quotes on any name)."""
    return "'" + name.replace("'", "''") + "'"


def workbook(names: Sequence[str], defined: Sequence[tuple[str, int, str, bool]]) -> bytes:
    """workbook.xml: the sheets, and the defined names (name, sheet index, formula, hidden)."""
    sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, 1))
    names_xml = "".join(
        f'<definedName name="{name}" localSheetId="{sheet}"{_HIDDEN if hidden else ""}>{escape(formula)}</definedName>'
        for name, sheet, formula, hidden in defined
    )
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><workbookPr/>'
        '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
        f"<sheets>{sheets}</sheets>"
        + (f"<definedNames>{names_xml}</definedNames>" if names_xml else "")
        + "</workbook>"
    ).encode()


def doc_props(created: str) -> tuple[bytes, bytes]:
    """docProps/app.xml and docProps/core.xml (`created` in W3CDTF, e.g. 2026-12-01T10:00:00Z)."""
    app = (
        f'{_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>xlbatch</Application><DocSecurity>0</DocSecurity></Properties>"
    )
    core = (
        f'{_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified></cp:coreProperties>'
    )
    return app.encode(), core.encode()


_FONTS = (
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
)
_FILLS = (
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FF{header}"/><bgColor indexed="64"/></patternFill></fill>'
    "</fills>"
)
_BORDERS = (
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>'
)


def styles(
    date_codes: dict[str, str], date_codes_ms: dict[str, str], number_codes: Sequence[str | None], header_fill: str
) -> bytes:
    """styles.xml with the cell styles of xlbatch.sheet_xml in their fixed places: plain, the report header,
    bold, the date formats (without and with milliseconds), then one style per column of a report sheet for
    its numbers, `number_codes[column]` (None: General)."""
    codes: dict[str, int] = {}

    def format_id(code: str | None) -> int:
        if not code:
            return 0
        return codes.setdefault(code, 164 + len(codes))

    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" '
        'applyAlignment="1"><alignment vertical="top"/></xf>',
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    ]
    dated = [date_codes[kind] for kind in DATE_STYLES] + [date_codes_ms[kind] for kind in DATE_STYLES_MS]
    for code in [*dated, *number_codes]:
        number = format_id(code)
        applied = ' applyNumberFormat="1"' if number else ""
        xfs.append(f'<xf numFmtId="{number}" fontId="0" fillId="0" borderId="0" xfId="0"{applied}/>')
    assert len(xfs) == NUMBER_STYLES + len(number_codes)
    formats = "".join(f'<numFmt numFmtId="{n}" formatCode={quoteattr(code)}/>' for code, n in codes.items())
    return (
        f'{_HEAD}<styleSheet xmlns="{_MAIN}"><numFmts count="{len(codes)}">{formats}</numFmts>'
        + _FONTS
        + _FILLS.format(header=header_fill.lstrip("#").upper())
        + _BORDERS
        + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        + f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        + '<dxfs count="0"/>'
        + '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
        + "</styleSheet>"
    ).encode()
