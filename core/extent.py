"""How far each sheet of a workbook reaches and how many cells it really holds, measured before any reader.

python-calamine builds every sheet as one dense rectangle from its first used cell to its last (about 32
bytes a cell): one value typed by accident at XFD1048576 asks for 17 billion cells, and the process aborts
(Rust cannot recover from a failed allocation). So preflight measures each sheet first, with a streaming
scan that never builds the rectangle, and decides:

    reference past row 1,048,576 or column XFD  ─► `corrupt` (no Excel sheet is that big)
    rectangle far larger than the cells in it     ─► read through `xlbatch.sparse_reader` (xlsx/xlsm)
    dense rectangle would not fit in free memory  ─► `too_large` (xlsb, ods: no sparse reader for them)

What is scanned, per format:
- xlsx/xlsm: the sheet XML's `r="..."` references. The `<dimension>` a writer puts first is checked, not
  trusted: C-speed byte counts prove that no reference has more letters or digits than it allows, and
  the row numbers are read exactly; a sheet without one, or whose references break it, is scanned
  reference by reference.
- xlsb: the BIFF12 row and cell records (MS-XLSB 2.4.718 BrtRowHdr, 2.4.304 ff. the BrtCell* records).
- ods: `content.xml`, expanding `table:number-rows-repeated` / `number-columns-repeated` arithmetically.
- xls: the DIMENSIONS record of each sheet (MS-XLS 2.4.90). Cells are bounded by the format (65,536 x 256),
  but python-calamine 0.9 reserves room for the rectangle DIMENSIONS claims when it opens the file: a
  damaged one claiming 4 billion rows aborts the process. A claim past the format's limits is `corrupt`.
"""

from __future__ import annotations

import math
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from operator import itemgetter, le
from typing import IO

from xlbatch import errors
from xlbatch.cell_refs import column_letters, column_number
from xlbatch.errors import TaskFailure
from xlbatch.sheet_findings import FindingsScan, SheetFindings
from xlbatch.xlsx_parts import local, member_name, sheet_parts

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
# What calamine's dense rectangle costs: its cell type is 32 bytes (measured: 3.07 GB for a 100 million
# cell rectangle), plus the list of cells it collects first.
BYTES_PER_DENSE_CELL = 32
BYTES_PER_CELL_READ = 48
# Rectangles below this many cells are read densely whatever their fill: at most ~64 MB, and calamine is fast.
SPARSE_MIN_CELLS = 2_000_000
# A rectangle more than this many times larger than its cells is read sparsely.
SPARSE_RATIO = 8
# Share of the free memory one reader may plan to use: the task, the writer and other workers need the rest.
MEMORY_SHARE = 0.6

_CHUNK = 1 << 22
# The exact scan turns each chunk's references into Python objects (~250 bytes each): smaller chunks keep
# that to a few hundred kilobytes.
_PRECISE_CHUNK = 1 << 16
_REF = re.compile(rb' r=["\']([A-Za-z]*)([0-9]*)["\']')
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([A-Za-z]+)?([0-9]+)?(?::([A-Za-z]+)([0-9]+))?"')
_ROOT_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b")
@dataclass(frozen=True)
class SheetExtent:
    """One sheet's reach: the last row and column with a cell (1-based; 0 for an empty sheet) and how
    many cells it holds. `ordered` is False when rows come out of order (a streaming read must sort)."""

    name: str
    cells: int
    max_row: int
    max_col: int
    ordered: bool = True
    part: str = ""  # the zip member of an xlsx/xlsm sheet
    merged: int = 0  # merged ranges (xlsx/xlsm)
    sparse: bool = False  # read through xlbatch.sparse_reader instead of calamine's dense rectangle
    findings: SheetFindings = SheetFindings()  # what the scan saw that readers keep quiet about (xlsx/xlsm)

    @property
    def rectangle(self) -> int:
        """Cells in the dense rectangle a reader would build (from A1: an upper bound)."""
        return self.max_row * self.max_col

    @property
    def dense_bytes(self) -> int:
        return self.rectangle * BYTES_PER_DENSE_CELL + self.cells * BYTES_PER_CELL_READ

    @property
    def span(self) -> str:
        return f"A1:{column_letters(self.max_col)}{self.max_row}" if self.cells else ""

    @property
    def mostly_empty(self) -> bool:
        return self.rectangle >= SPARSE_MIN_CELLS and self.rectangle > SPARSE_RATIO * self.cells


# -- xlsx / xlsm -------------------------------------------------------------------------------------
def _chunks(member: IO[bytes], size: int = _CHUNK) -> Iterator[bytes]:
    """The member's bytes in large pieces, each ending after a '>' so no tag is split between two."""
    tail = b""
    while chunk := member.read(size):
        data = tail + chunk
        cut = data.rfind(b">") + 1
        tail, data = data[cut:], data[:cut]
        if data:
            yield data
    if tail:
        yield tail


def _head(archive: zipfile.ZipFile, member: str) -> bytes:
    with archive.open(member) as stream:
        return stream.read(8192)


def _claimed(head: bytes) -> tuple[int, int] | None:
    """(last row, last column) of the sheet's `<dimension ref>`, which writers put before the cells."""
    found = _DIMENSION.search(head)
    if not found:
        return None
    letters, digits = found.group(3) or found.group(1), found.group(4) or found.group(2)
    if not letters or not digits:
        return None
    return int(digits), column_number(letters)


def _refs_within(archive: zipfile.ZipFile, member: str, letters: int, digits: int) -> SheetFindings | None:
    """The sheet's findings when no reference (`r="..."` of a row or cell) has more letters or digits than
    given; None as soon as one has.

    One regular-expression search over the XML as it streams: a reference past the bound is all it looks
    for, so it costs about as much as inflating the XML, which the findings share.
    """
    # Possessive repeats: a reference within the bound fails at its closing quote without backtracking.
    beyond = re.compile(rb""" r=["'][A-Za-z]{0,%d}+[0-9]{0,%d}+[^"']""" % (letters, digits))  # noqa: UP031
    findings = FindingsScan()
    with archive.open(member) as stream:
        for data in _chunks(stream):
            if beyond.search(data):
                return None
            findings.feed(data)
    return findings.result()


def _max_column_for(letters: int) -> int:
    """The largest column number a reference of this many letters can name (Z, ZZ, ZZZ)."""
    return sum(26**i for i in range(1, letters + 1))


def _quick_extent(archive: zipfile.ZipFile, name: str, member: str) -> SheetExtent | None:
    """The extent the `<dimension>` claims, once proven safe to rely on; None when only an exact scan can tell.

    Proven: no reference has more letters than the claimed last column nor more digits than the claimed
    last row, so the true rectangle is at most Z or ZZ columns by 9..9 rows. When even that bound fits in
    memory, a lie in the claim costs memory that is there; a claim that looks sparse, or a bound that does
    not fit, is settled by the exact scan. The cell count is bounded by the XML's size (a cell takes at
    least 11 bytes, `<c r="A1"/>`).
    """
    claim = _claimed(_head(archive, member))
    if claim is None:
        return None
    rows, columns = claim
    letters = len(column_letters(columns))
    if letters > 2:
        return None
    cells = archive.getinfo(member).file_size // 11
    claimed = SheetExtent(name, cells, rows, columns, True, member)
    bound = SheetExtent(name, cells, 10 ** len(str(rows)) - 1, _max_column_for(letters), True, member)
    if claimed.mostly_empty or bound.dense_bytes > available_memory() * MEMORY_SHARE:
        return None
    findings = _refs_within(archive, member, letters, len(str(rows)))
    return None if findings is None else replace(claimed, findings=findings)


def _precise_extent(archive: zipfile.ZipFile, name: str, member: str) -> SheetExtent:
    """Every reference read: the exact last row and column, cell count, order and merged ranges. Each
    chunk's references are reduced to a few numbers at once, so memory stays flat however many cells."""
    cells = merged = max_row = max_col = 0
    last_row, ordered = 0, True
    cell_tags: tuple[bytes, ...] = (b"<c ", b"<c>")
    findings = FindingsScan()
    with archive.open(member) as stream:
        for index, data in enumerate(_chunks(stream, _PRECISE_CHUNK)):
            findings.feed(data)
            if index == 0:
                root = _ROOT_PREFIX.search(data)
                if root and root.group(1):
                    cell_tags = (b"<" + root.group(1) + b"c ", b"<" + root.group(1) + b"c>")
            refs = _REF.findall(data)
            letters = {x for x in map(itemgetter(0), refs) if x}
            max_col = max(max_col, *map(column_number, letters)) if letters else max_col
            numbers = [int(d) for d in map(itemgetter(1), refs) if d]
            if numbers:
                ordered = ordered and last_row <= numbers[0] and all(map(le, numbers, numbers[1:]))
                last_row = numbers[-1]
                max_row = max(max_row, max(numbers))
            cells += sum(data.count(tag) for tag in cell_tags)
            merged += data.count(b"mergeCell ")
    return SheetExtent(name, cells, max_row, max_col, ordered, member, merged, findings=findings.result())


def _xlsx_sheet(archive: zipfile.ZipFile, name: str, member: str) -> SheetExtent:
    return _quick_extent(archive, name, member) or _precise_extent(archive, name, member)


def scan_xlsx(path: str) -> list[SheetExtent]:
    with zipfile.ZipFile(path) as archive:
        sheets = []
        for part in sheet_parts(archive):
            member = member_name(archive, part.part) if part.worksheet else None
            if member is None:
                sheets.append(SheetExtent(part.name, 0, 0, 0))
                continue
            sheets.append(_xlsx_sheet(archive, part.name, member))
        return sheets


# -- xlsb --------------------------------------------------------------------------------------------
_BRT_ROW_HDR = 0x0000
_BRT_CELLS = range(0x0001, 0x000C)  # BrtCellBlank .. BrtFmlaError
_BRT_BEGIN_SHEET_DATA = 0x0091
_BRT_END_SHEET_DATA = 0x0092
_U32 = struct.Struct("<I")


def _records(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(record type, payload start, payload size) of each BIFF12 record (MS-XLSB 2.1.4)."""
    position, size = 0, len(data)
    while position < size:
        kind = data[position]
        position += 1
        if kind & 0x80:
            kind = (kind & 0x7F) | (data[position] << 7) if position < size else kind
            position += 1
        length = shift = 0
        for _ in range(4):
            if position >= size:
                return
            byte = data[position]
            position += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, position, length
        position += length


def _xlsb_sheet(name: str, data: bytes) -> SheetExtent:
    row = cells = max_row = max_col = 0
    previous_row, ordered = -1, True
    for kind, start, length in _records(data):
        if kind == _BRT_ROW_HDR and length >= 4:
            row = _U32.unpack_from(data, start)[0]
            ordered = ordered and row >= previous_row
            previous_row = row
        elif kind in _BRT_CELLS and length >= 4 and kind != 0x0001:  # a blank cell holds nothing
            cells += 1
            max_row = max(max_row, row + 1)
            max_col = max(max_col, _U32.unpack_from(data, start)[0] + 1)
        elif kind == _BRT_END_SHEET_DATA:
            break
    return SheetExtent(name, cells, max_row, max_col, ordered)


def scan_xlsb(path: str) -> list[SheetExtent]:
    from xlbatch.xlsx_parts import SafeTree

    with zipfile.ZipFile(path) as archive:
        rels_name = member_name(archive, "xl/_rels/workbook.bin.rels")
        targets = {}
        if rels_name:
            for rel in SafeTree.fromstring(archive.read(rels_name)):
                targets[rel.get("Id", "")] = rel.get("Target", "")
        sheets = []
        for name, rid in _xlsb_sheet_ids(archive):
            target = targets.get(rid, "")
            member = member_name(archive, target[1:] if target.startswith("/") else f"xl/{target}")
            if member is None or "worksheets/" not in member:
                sheets.append(SheetExtent(name, 0, 0, 0))
                continue
            sheets.append(_xlsb_sheet(name, archive.read(member)))
        return sheets


def _xlsb_sheet_ids(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, relationship id) of each BrtBundleSh record in workbook.bin (MS-XLSB 2.4.304)."""
    member = member_name(archive, "xl/workbook.bin")
    if member is None:
        return []
    data = archive.read(member)
    found = []
    for kind, start, length in _records(data):
        if kind != 0x009C or length < 12:
            continue
        position = start + 8  # hsState, iTabID
        rid, position = _xl_wide_string(data, position)
        name, _ = _xl_wide_string(data, position)
        found.append((name, rid))
    return found


def _xl_wide_string(data: bytes, position: int) -> tuple[str, int]:
    count = _U32.unpack_from(data, position)[0]
    if count == 0xFFFFFFFF:
        return "", position + 4
    start = position + 4
    return data[start : start + 2 * count].decode("utf-16-le", "replace"), start + 2 * count


# -- ods ---------------------------------------------------------------------------------------------
_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def scan_ods(path: str) -> list[SheetExtent]:
    """Rows and cells of every table in content.xml, repeats counted without being expanded."""
    from defusedxml import ElementTree as SafeTree

    rows_repeated = f"{{{_ODS_TABLE}}}number-rows-repeated"
    cols_repeated = f"{{{_ODS_TABLE}}}number-columns-repeated"
    value_type = f"{{{_ODS_OFFICE}}}value-type"
    sheets: list[SheetExtent] = []
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as member:
        name = ""
        row = cells = max_row = max_col = col = 0
        row_has_value = False
        row_cells = 0
        for event, element in SafeTree.iterparse(member, events=("start", "end")):
            tag = local(element.tag)
            if event == "start":
                if tag == "table":
                    name = element.get(f"{{{_ODS_TABLE}}}name", "")
                    row = cells = max_row = max_col = 0
                elif tag == "table-row":
                    col, row_has_value, row_cells = 0, False, 0
                continue
            if tag in ("table-cell", "covered-table-cell"):
                repeat = int(element.get(cols_repeated, "1") or 1)
                if element.get(value_type) is not None or len(element):
                    row_cells += repeat
                    max_col = max(max_col, col + repeat)
                    row_has_value = True
                col += repeat
                element.clear()
            elif tag == "table-row":
                repeat = int(element.get(rows_repeated, "1") or 1)
                if row_has_value:
                    cells += row_cells * repeat
                    max_row = row + repeat
                row += repeat
                element.clear()
            elif tag == "table":
                sheets.append(SheetExtent(name, cells, max_row, max_col))
                element.clear()
    return sheets


# -- xls ---------------------------------------------------------------------------------------------
XLS_MAX_ROWS = 65_536
XLS_MAX_COLS = 256
_XLS_DIMENSIONS = 0x0200
_XLS_FILEPASS = 0x002F
_XLS_RECORD = struct.Struct("<HH")


def scan_xls(path: str) -> list[SheetExtent]:
    """What each sheet's DIMENSIONS record claims (rows and columns one past the last used)."""
    import olefile

    with olefile.OleFileIO(path) as ole:
        stream = next((name for name in ("Workbook", "Book") if ole.exists(name)), None)
        data = ole.openstream(stream).read() if stream else b""
    sheets: list[SheetExtent] = []
    position, size = 0, len(data)
    while position + 4 <= size:
        kind, length = _XLS_RECORD.unpack_from(data, position)
        position += 4
        if kind == _XLS_FILEPASS:  # encrypted from here on: the reader reports it as password-protected
            break
        if kind == _XLS_DIMENSIONS and position + length <= size:
            if length >= 14:  # BIFF8: 32-bit rows
                first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", data, position)
            elif length >= 10:  # BIFF5/7: 16-bit rows
                first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", data, position)
            else:
                first_row = last_row = first_col = last_col = 0
            name = f"sheet {len(sheets) + 1}"
            # calamine reserves (last - first) rows by columns, nothing when a damaged record has them reversed.
            if last_row - first_row > XLS_MAX_ROWS or last_col - first_col > XLS_MAX_COLS:
                raise TaskFailure(
                    errors.CORRUPT,
                    "The file is damaged: it says a sheet is larger than an .xls sheet can be.",
                    f"{name}: DIMENSIONS claims rows {first_row}..{last_row}, columns {first_col}..{last_col} "
                    f"(an .xls sheet has at most {XLS_MAX_ROWS:,} rows and {XLS_MAX_COLS} columns)",
                )
            sheets.append(SheetExtent(name, 0, max(0, last_row - first_row), max(0, last_col - first_col)))
        position += length
    return sheets


# -- the decision ------------------------------------------------------------------------------------
SCANNERS = {"xlsx": scan_xlsx, "xlsm": scan_xlsx, "xlsb": scan_xlsb, "ods": scan_ods, "xls": scan_xls}


def measure(path: str, fmt: str) -> tuple[SheetExtent, ...]:
    """Every sheet's extent (none for csv, which is read row by row)."""
    scanner = SCANNERS.get(fmt)
    return tuple(scanner(path)) if scanner else ()


def available_memory() -> int:
    """Bytes this process can still get: free memory, or less under an address-space limit."""
    import psutil

    free = psutil.virtual_memory().available
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            free = min(free, max(0, soft - psutil.Process().memory_info().vms))
    except (ImportError, OSError, ValueError):  # Windows has no RLIMIT_AS
        pass
    return free


def plan_reading(extents: tuple[SheetExtent, ...], fmt: str, free: int | None = None) -> tuple[SheetExtent, ...]:
    """Check every sheet and say how to read it: TaskFailure for a reference past Excel's limits (`corrupt`)
    and for a dense rectangle that would not fit in memory where there is no sparse reader (`too_large`)."""
    for sheet in extents:
        if sheet.max_row > EXCEL_MAX_ROWS or sheet.max_col > EXCEL_MAX_COLS:
            where = f"row {sheet.max_row:,}" if sheet.max_row > EXCEL_MAX_ROWS else f"column {sheet.max_col:,}"
            raise TaskFailure(
                errors.CORRUPT,
                "The file is damaged: it refers to a cell outside the largest possible Excel sheet.",
                f"sheet '{sheet.name}': a cell reference reaches {where} "
                f"(Excel stops at row {EXCEL_MAX_ROWS:,}, column XFD = {EXCEL_MAX_COLS:,})",
            )
    planned = []
    for sheet in extents:
        sparse = fmt in ("xlsx", "xlsm") and sheet.mostly_empty
        if not sparse and sheet.rectangle >= SPARSE_MIN_CELLS:
            free = available_memory() if free is None else free
            if sheet.dense_bytes > free * MEMORY_SHARE:
                if fmt in ("xlsx", "xlsm"):
                    sparse = True  # streaming keeps memory flat, whatever the rectangle
                else:
                    raise TaskFailure(errors.TOO_LARGE, *_too_large(sheet, free))
        planned.append(replace(sheet, sparse=sparse) if sparse != sheet.sparse else sheet)
    return tuple(planned)


def _too_large(sheet: SheetExtent, free: int) -> tuple[str, str]:
    need = sheet.dense_bytes / 1024**3
    message = (
        f"Sheet '{sheet.name}' spans {sheet.span} and would need about {math.ceil(need):,} GB of memory to read, "
        "more than this computer has free. If the data is smaller, delete the cells far from it (Ctrl+End "
        "shows the last one) and save the workbook again."
    )
    detail = (
        f"{sheet.rectangle:,} cells in the dense rectangle ({sheet.cells:,} with values), about "
        f"{sheet.dense_bytes:,} bytes; {free:,} bytes available"
    )
    return message, detail


def check(path: str, fmt: str) -> tuple[SheetExtent, ...]:
    """Preflight's extent check for one file: the planned extents, or TaskFailure."""
    try:
        extents = measure(path, fmt)
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, struct.error, SyntaxError, EOFError):
        # A part the scan cannot follow: the reader will meet it too and report it in its own words.
        return ()
    return plan_reading(extents, fmt)
