"""The output check of a big sheet on several threads: the sheet's XML read back in spans of rows.

python-calamine reads a sheet whole, on one core, and a combined workbook's sheet is most of the batch's
rows: read that way, the check was the one part of a combine that did not get faster with more workers.
The fragment writer builds a sheet from pieces compressed with a full flush (xlbatch.xlsx_package), so the
member's compressed bytes can be inflated from any piece's start, and it notes where its fragments start
(`OutputRecord.cuts`). Here the member is taken from the file on disk and cut at some of those places:

    member on disk ─► span 0: the sheet's own head and first rows + "</sheetData></worksheet>"
                   ─► span k: a worksheet head + rows (the first numbered r="S+1") + "</sheetData></worksheet>"
                   ─► span n: a worksheet head + the last rows and the sheet's own tail

Each span becomes the sheet of a small workbook made of the file's own parts (styles, workbook, types),
which python-calamine reads on its own thread (its parsing does not hold Python's lock) and which is
compared with the recorded rows of the span (xlbatch.verify.compare). Every byte of the member is read
once, and the spans' CRC-32s, combined, must be the one the zip's directory holds.

A span check only ever proves an output right. When anything differs, or the member is not cut where
expected, the caller reads the sheet whole as before, which names the cell (or finds the output right).
"""

from __future__ import annotations

import bisect
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from xlbatch.output_record import OutputRecord
from xlbatch.row_compare import compare, non_empty
from xlbatch.xlsx_package import SHEET_HEAD, crc32_combine

MIN_SPAN_BYTES = 1 << 20  # compressed bytes: below this a span costs more to set up than it saves
SPANS_PER_THREAD = 3  # more spans than threads, so one span's comparing overlaps another's parsing
_SHEET_HEAD = SHEET_HEAD.encode() + b"<sheetData>"
_SHEET_END = b"</sheetData></worksheet>"
_EMPTY_SHEET = _SHEET_HEAD + _SHEET_END
_LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field


class NotInSpans(Exception):
    """The member could not be read in spans (not cut where the record says): read it whole instead."""


def spans(cuts: list[tuple[int, int]], compressed: int, threads: int) -> list[tuple[int, int, int]]:
    """(start, end, first row) of each span, cut at some of `cuts` near equal shares of the bytes; one span
    (0, compressed, 0) when the member is too small to be worth cutting."""
    count = min(threads * SPANS_PER_THREAD, compressed // MIN_SPAN_BYTES)
    chosen: list[tuple[int, int]] = []
    if count > 1:
        offsets = [at for at, _row in cuts]
        for k in range(1, count):
            i = bisect.bisect_left(offsets, compressed * k // count)
            if i < len(cuts) and cuts[i][0] > (chosen[-1][0] if chosen else 0):
                chosen.append(cuts[i])
    starts = [(0, 0), *chosen]
    ends = [at for at, _row in chosen] + [compressed]
    return [(start, end, row) for (start, row), end in zip(starts, ends, strict=True)]


def _member_data(handle: Any, info: zipfile.ZipInfo) -> int:
    """Where the member's compressed data starts in the file, from its local header."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER)
    if len(header) != _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
        raise NotInSpans("no local header")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return info.header_offset + _LOCAL_HEADER + name_length + extra_length


def _inflated(data: bytes, last: bool) -> bytes:
    inflater = zlib.decompressobj(-15)
    xml = inflater.decompress(data)
    if inflater.unused_data or inflater.unconsumed_tail or inflater.eof != last:
        raise NotInSpans("a span does not end where a piece does")
    return xml


def _span_xml(xml: bytes, index: int, count: int, first_row: int) -> tuple[bytes, int]:
    """The span's rows as a whole worksheet, and what to add to the row numbers it reads back with.

    Rows without numbers are read from the sheet's first row, so they are moved by `first_row`; a span
    that holds numbered rows instead has its first row numbered, and is read where it lies (python-calamine
    then gives every row above it, empty, which costs time: fragments hold no numbered rows)."""
    if index == 0:
        return (xml + _SHEET_END if count > 1 else xml), 0
    end = _SHEET_END if index < count - 1 else b""
    if not xml.startswith(b"<row"):  # the cut is not where a fragment starts
        raise NotInSpans("a span does not start with a row")
    if b"<row r=" not in xml:
        return _SHEET_HEAD + xml + end, first_row
    if xml.startswith(b"<row>"):
        xml = b'<row r="%d">' % (first_row + 1) + xml[5:]
    return _SHEET_HEAD + xml + end, 0


class _Package:
    """The file's own small parts, to make a workbook around any span of one sheet."""

    def __init__(self, book: zipfile.ZipFile, member: str) -> None:
        self.member = member
        # Other sheets may be as big as this one: the span's workbook holds them empty.
        self.parts = {info.filename: None if _is_sheet(info.filename) else book.read(info) for info in book.infolist()}

    def around(self, sheet_xml: bytes) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
            for name, data in self.parts.items():
                out.writestr(name, sheet_xml if name == self.member else _EMPTY_SHEET if data is None else data)
        return buffer.getvalue()


def _is_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml") and "/_rels/" not in name


def _chunks_by_span(record: OutputRecord, sheet: int, firsts: list[int]) -> list[list[tuple[str, Any]]]:
    """The sheet's recorded chunks, each given to the span its first row lies in."""
    by_span: list[list[tuple[str, Any]]] = [[] for _ in firsts]
    for kind, payload in record.chunks(sheet, checks=True):
        if kind == "checked":
            first = payload[0] + payload[2][1]
        elif kind == "digest":
            first = payload[0]
        elif payload:
            first = payload[0][0]
        else:
            continue  # no rows
        by_span[bisect.bisect_right(firsts, first) - 1].append((kind, payload))
    return by_span


def _read_rows(workbook: bytes, title: str, shift: int) -> Iterator[tuple[int, list[Any]]]:
    """The span's non-empty rows, numbered as in the whole sheet (`shift` added)."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(workbook))
    sheet = book.get_sheet_by_name(title)
    start = sheet.start
    if start is None:
        return iter(())
    pad = [""] * start[1] if start[1] else None
    return non_empty(sheet.iter_rows(), "", pad, shift)  # numbered from the sheet's first row, + shift


def same_in_spans(path: str | Path, record: OutputRecord, sheet: int, threads: int) -> bool:
    """True when the sheet, read back in spans on `threads` threads, holds exactly its record; False when
    it could not be shown that way (the caller then reads it whole, which says where it differs)."""
    member, cuts = record.cuts.get(sheet, ("", []))
    title = record.sheets[sheet]
    try:
        with open(path, "rb") as handle, zipfile.ZipFile(handle) as book:
            info = book.getinfo(member)
            plan = spans(cuts, info.compress_size, threads)
            if len(plan) < 2:
                return False
            package = _Package(book, member)
            base = _member_data(handle, info)
            pieces = []
            for start, end, _row in plan:
                handle.seek(base + start)
                pieces.append(handle.read(end - start))
    except (OSError, KeyError, zipfile.BadZipFile, NotInSpans):
        return False
    by_span = _chunks_by_span(record, sheet, [row for _start, _end, row in plan])

    def check(index: int) -> tuple[bool, int, int]:
        xml = _inflated(pieces[index], index == len(plan) - 1)
        pieces[index] = b""  # the compressed copy is not needed any more
        crc, length = zlib.crc32(xml), len(xml)
        sheet_xml, shift = _span_xml(xml, index, len(plan), plan[index][2])
        del xml
        rows = _read_rows(package.around(sheet_xml), title, shift)
        return compare(title, rows, iter(by_span[index])) is None, crc, length

    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="xlbatch-check") as pool:
            results = list(pool.map(check, range(len(plan))))
    except Exception:  # noqa: BLE001 - a span that cannot be read proves nothing: the sheet is read whole
        return False
    crc = 0
    for _same, span_crc, length in results:
        crc = crc32_combine(crc, span_crc, length)
    whole = sum(length for _same, _crc, length in results)
    return all(same for same, _crc, _length in results) and crc == info.CRC and whole == info.file_size
