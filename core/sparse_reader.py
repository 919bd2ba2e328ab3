"""Reading a mostly-empty xlsx/xlsm sheet cell by cell, in time and memory that grow with its cells.

python-calamine builds a sheet as one dense rectangle; a value typed by accident at XFD1048576 makes that
17 billion cells. This reader streams the sheet XML instead (defusedxml's iterparse: no DOCTYPE, no
entities) and yields the rows `xlbatch.workbook.WorkbookReader.rows` yields, with the same values and types,
because it follows calamine's rules (its xlsx cell reader, `formats.rs` and python-calamine's conversions):

- a cell's value is its last `<v>`, `<is>` or `<f>` child (a formula alone, or a `<v>` after `<is>` in
  an inline-string cell, leaves it empty); `t="s"` indexes the shared strings, `b` is true unless "0",
  `e` is an error (read as empty, but it still counts as used), `str` is text, `d` an ISO date;
- a number is a date, a date-time, a time of day or a duration when its style's number format says so
  (`xlbatch.xlsx_parts.cell_formats`); dates count from 1899-12-30 (with Excel's phantom 29 February 1900)
  or from 1904-01-01, rounded to the millisecond; values under 1 are times of day, whole ones dates;
  a date out of Python's range stays a number;
- rows run from row 1 to the last row with a used cell; an empty row is `[]` and a row stops at its last
  value (rows() of the dense reader pads rows to the rectangle's width with None; nothing else differs).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from defusedxml import ElementTree as SafeTree

from xlbatch import errors
from xlbatch.errors import TaskFailure
from xlbatch.extent import SheetExtent
from xlbatch.xlsx_parts import DATETIME, DURATION, cell_formats, is_1904, local, shared_strings, string_item, unescape

CellValue = Any

_MAX_EXACT_INT = 2**53
_MS_PER_DAY = 86_400_000
_EPOCH_1900 = dt.datetime(1899, 12, 30)
_DAYS_1900_TO_1904 = 1462
# What fast_float (calamine's number parser) accepts: no spaces, no underscores, no hex.
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.IGNORECASE)
_REF = re.compile(r"([A-Za-z]+)([0-9]+)")
_ROW = re.compile(r"[A-Za-z]*([0-9]+)")
_ISO_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?")
_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_EMPTY = object()  # a cell calamine drops (no value at all), unlike "" or an error, which occupy their place


def _damaged(sheet: str, detail: str) -> TaskFailure:
    return TaskFailure(errors.CORRUPT, "The file is damaged or incomplete and cannot be read.", f"{sheet}: {detail}")


def _round_half_away(value: float) -> int:
    """Rust's f64::round (half away from zero) then `as i64` (NaN becomes 0)."""
    if math.isnan(value):
        return 0
    whole = math.trunc(value)
    if abs(value - whole) >= 0.5:
        whole += 1 if value > 0 else -1
    return int(whole)


def excel_datetime(serial: float, date1904: bool) -> dt.datetime | None:
    """The moment an Excel serial number stands for, to the millisecond; None outside Python's range."""
    if math.isinf(serial):
        return None
    # 1904 serials are 1900 ones 1,462 days on; below serial 60 (29 Feb 1900, which never was) add a day.
    days = serial + _DAYS_1900_TO_1904 if date1904 else serial
    if not days >= 60:  # NaN too, as calamine's comparison says
        days += 1
    try:
        return _EPOCH_1900 + dt.timedelta(milliseconds=_round_half_away(days * _MS_PER_DAY))
    except OverflowError:
        return None


def typed_number(number: float, kind: int | None, date1904: bool) -> CellValue:
    """A cell's number as the dense reader gives it: a date, time or duration when its format says so."""
    if kind == DATETIME:
        moment = excel_datetime(number, date1904)
        if moment is None:
            return _whole(number)
        if number < 1:
            return moment.time()
        if not math.isnan(number) and number < 2**64 and number == float(int(number)):
            return moment.date()
        return moment
    if kind == DURATION:
        return dt.timedelta(milliseconds=_round_half_away(number * _MS_PER_DAY))
    return _whole(number)


def _whole(number: float) -> CellValue:
    if number.is_integer() and abs(number) < _MAX_EXACT_INT:
        return int(number)
    return number


def iso_value(text: str) -> CellValue:
    """A `t="d"` cell: an ISO date-time, date or time of day, or the text itself when it is none of them."""
    try:
        if found := _ISO_DATETIME.fullmatch(text):
            parts = [int(p) for p in found.groups()[:6]]
            return dt.datetime(*parts, _microseconds(found.group(7)))  # type: ignore[misc]
        if found := _ISO_DATE.fullmatch(text):
            return dt.date(*(int(p) for p in found.groups()))
        if found := _ISO_TIME.fullmatch(text):
            hour, minute, second = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
            return dt.time(hour, minute, second, _microseconds(found.group(4)))
    except ValueError:
        return text or None
    return text or None


def _microseconds(fraction: str | None) -> int:
    return int((fraction or "").ljust(6, "0")[:6]) if fraction else 0


class SparseWorkbook:
    """One open xlsx/xlsm package; sheets are read one row at a time with `rows(extent)`."""

    def __init__(self, path: str) -> None:
        self._archive = zipfile.ZipFile(path)
        self._strings: list[str] | None = None
        self._formats: list[int] = []
        self._date1904 = False

    def _load_book(self) -> None:
        if self._strings is None:
            self._strings = shared_strings(self._archive)
            self._formats = cell_formats(self._archive)
            self._date1904 = is_1904(self._archive)

    def close(self) -> None:
        self._archive.close()

    def __enter__(self) -> SparseWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rows(self, extent: SheetExtent) -> Iterator[list[CellValue]]:
        """The sheet's rows from row 1, each from column A up to its last value ([] for an empty row)."""
        self._load_book()
        cells = self._cells(extent)
        if extent.ordered:
            yield from _rows_in_order(cells, extent.name)
            return
        table: dict[int, dict[int, CellValue]] = {}
        for row, column, value in cells:
            table.setdefault(row, {})
            if value is not None:
                table[row][column] = value
        last = max(table, default=-1)
        for number in range(last + 1):
            yield _row_list(table.get(number))

    def _cells(self, extent: SheetExtent) -> Iterator[tuple[int, int, CellValue]]:
        """(row, column, value) of every used cell, 0-based, in the order of the XML."""
        row_index = col_index = 0
        with self._archive.open(extent.part) as member:
            for event, element in SafeTree.iterparse(member, events=("start", "end")):
                tag = local(element.tag)
                if event == "start":
                    if tag == "row" and (r := element.get("r")) is not None:
                        found = _ROW.fullmatch(r)
                        if found is None or int(found.group(1)) == 0:
                            raise _damaged(extent.name, f"row reference {r!r}")
                        row_index = int(found.group(1)) - 1
                    continue
                if tag == "c":
                    ref = element.get("r")
                    if ref is not None:
                        found = _REF.fullmatch(ref)
                        if found is None or int(found.group(2)) == 0:
                            raise _damaged(extent.name, f"cell reference {ref!r}")
                        row, col_index = int(found.group(2)) - 1, _column(found.group(1))
                    else:
                        row = row_index
                    value = self._cell_value(element, extent.name)
                    element.clear()
                    if value is not _EMPTY:
                        yield row, col_index, value
                    col_index += 1
                elif tag == "row":
                    row_index += 1
                    col_index = 0
                    element.clear()
                elif tag == "sheetData":
                    return

    def _cell_value(self, cell: Any, sheet: str) -> CellValue:
        kind = cell.get("t")
        value: CellValue = _EMPTY
        for child in cell:
            tag = local(child.tag)
            if tag == "is":
                value = string_item(child) or None
            elif tag == "v":
                value = _EMPTY if kind in ("inlineStr", "is") else self._v(child.text or "", kind, cell.get("s"), sheet)
            elif tag == "f":
                value = _EMPTY
            else:
                raise _damaged(sheet, f"unexpected <{tag}> in cell {cell.get('r')}")
        return value

    def _v(self, text: str, kind: str | None, style: str | None, sheet: str) -> CellValue:
        if kind in (None, "n", "s", "b", "e") and text == "":
            return _EMPTY
        if kind == "s":
            index = int(text) if text.isdigit() else 0
            assert self._strings is not None
            if index >= len(self._strings):
                raise _damaged(sheet, f"shared string {index} is not in the shared strings table")
            return self._strings[index] or None
        if kind == "b":
            return text != "0"
        if kind == "e":
            if text not in _ERRORS:
                raise _damaged(sheet, f"unsupported cell error value {text!r}")
            return None  # an error cell reads as empty, but it is used
        if kind == "str":
            return unescape(text) or None
        if kind == "d":
            return iso_value(text)
        if kind not in (None, "n"):
            raise _damaged(sheet, f"unknown cell type t={kind!r}")
        if not _NUMBER.fullmatch(text):
            if kind is None:
                return text
            raise _damaged(sheet, f"not a number: {text!r}")
        number = float(text)
        if style is None:
            return _whole(number)
        index = int(style) if style.isdigit() else 0
        formats = self._formats
        return typed_number(number, formats[index] if index < len(formats) else None, self._date1904)


def _column(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number - 1


def _row_list(values: dict[int, CellValue] | None) -> list[CellValue]:
    if not values:
        return []
    row: list[CellValue] = [None] * (max(values) + 1)
    for column, value in values.items():
        row[column] = value
    return row


def _rows_in_order(cells: Iterator[tuple[int, int, CellValue]], sheet: str) -> Iterator[list[CellValue]]:
    """Rows from cells that come row by row; gaps become empty rows, which cost next to nothing."""
    current = -1  # the row being collected
    emitted = 0  # rows yielded so far
    values: dict[int, CellValue] = {}
    for row, column, value in cells:
        if row != current:
            if row < current:
                raise _damaged(sheet, f"row {row + 1} comes after row {current + 1}")
            if current >= 0:
                yield _row_list(values)
                emitted = current + 1
                values = {}
            for _gap in range(emitted, row):
                yield []
            emitted = row
            current = row
        if value is not None:
            values[column] = value
    if current >= 0:
        yield _row_list(values)
