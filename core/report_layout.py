"""How the workbooks xlbatch writes for people to read look: fitted columns, number formats, file links.

The report-like outputs (summary.xlsx, exceptions.xlsx, the combined and extracted tables, the exported
error list) declare what each column holds; `xlbatch.writing.XlsxTableWriter` then writes them with a
bold, frozen header row and an autofilter, columns fitted to their content, thousands separators, and a
link from each file's name to the file. What a column holds decides how its numbers look:

    TEXT     as typed (General)                    Status, Message
    COUNT    1,234                                 Rows, Non-empty cells
    MEASURE  1,234.56, as many decimals as the     Numeric sum
             column's sample needs (at most 6)
    AUTO     the user's data: a column whose sample holds a fraction is a MEASURE; whole numbers
             (order numbers, years, postcodes) stay as typed, so 2026 never shows as "2,026"
    VALUE    per cell: a fraction as a MEASURE, a whole number as typed (Min/Max of many columns)
    FILE     a file's name, linked to the file when the row knows its path

Dates, times and durations always get their own formats (xlbatch.excel_values.FORMATS). Number formats
change what is shown, never the value: the output check (xlbatch.verify) reads the same values back.

Widths are measured on the first rows of a sheet (SAMPLE_ROWS; more when the workbook is held in
memory anyway), because in xlsxwriter's constant_memory mode a row is on disk once the next one starts;
the column widths, the filter and the pane are written when the workbook closes, so they can be set
after the rows. A width is capped, so a long message does not push everything else off the screen.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

TEXT, COUNT, MEASURE, AUTO, VALUE, FILE = "text", "count", "measure", "auto", "value", "file"
KINDS = (TEXT, COUNT, MEASURE, AUTO, VALUE, FILE)

SAMPLE_ROWS = 1000  # rows measured (and held back) per sheet of a constant_memory workbook
SAMPLE_ROWS_IN_MEMORY = 20_000  # the same for a workbook xlsxwriter keeps in memory anyway
MAX_DECIMALS = 6
MAX_WIDTH = 60  # characters; longer text is cut off on screen, never in the cell
MIN_WIDTH = 6
HEADER_ROOM = 4  # a bold header with its filter button needs about this much more than its text
LINKS_PER_SHEET = 65_530  # Excel's limit; past it the names are written as plain text

COUNT_CODE = "#,##0"
HEADER_STYLE = {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "valign": "top"}
FAILED_FILL = "#FFC7CE"  # Excel's "light red fill"
LINK_STYLE = {"font_color": "#0563C1", "underline": 1}  # Excel's Hyperlink cell style

_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|//)")
# Characters a file: URI must escape (RFC 3986); letters beyond ASCII stay as they are, as Excel and
# Windows write them (Windows reads %XX in a file: URI in the ANSI code page, not as UTF-8).
_URI_ESCAPE = {c: f"%{ord(c):02X}" for c in ' "#%<>?[\\]^`{|}'} | {chr(i): f"%{i:02X}" for i in (*range(32), 127)}
_GENERAL_DIGITS = 10  # about what Excel's General format shows of a long number


def file_uri(path: str) -> str:
    """A file: URI for a local path, Windows paths (C:\\..., \\\\server\\share\\...) included on any system.

    C:\\Reports\\Q1 #2.xlsx -> file:///C:/Reports/Q1%20%232.xlsx; \\\\srv\\share\\a.xlsx -> file://srv/share/a.xlsx;
    /home/ana/a.xlsx -> file:///home/ana/a.xlsx. A relative path is taken from the current folder."""
    text = str(path)
    if not _WINDOWS_PATH.match(text) and not text.startswith("/"):
        text = os.path.abspath(text)
    escaped = "".join(_URI_ESCAPE.get(c, c) for c in text.replace("\\", "/"))
    if escaped.startswith("//"):  # a network share: the server is the URI's host
        return "file:" + escaped
    return "file://" + ("" if escaped.startswith("/") else "/") + escaped


def is_number(value: Any) -> bool:
    return value.__class__ in (int, float)


def decimals(value: float) -> int:
    """How many decimals show `value` to its 6th decimal: 1234.5 -> 1, 0.1 + 0.2 -> 1, 2.0 -> 0."""
    if not math.isfinite(value) or abs(value) >= 1e15 or value == int(value):
        return 0
    shown = f"{round(value, MAX_DECIMALS):.{MAX_DECIMALS}f}".rstrip("0")
    return len(shown) - shown.index(".") - 1


def measure_code(places: int) -> str:
    return COUNT_CODE + ("." + "0" * places if places else "")


def value_code(value: Any) -> str | None:
    """A VALUE cell's number format: a fraction with separators and its decimals, else as typed."""
    if not is_number(value) or not 1e-6 <= abs(value) < 1e15 or value == int(value):
        return None
    return measure_code(decimals(value))


def text_width(text: str) -> int:
    """Columns the longest line of `text` takes: East Asian wide characters count two."""
    longest = max(text.split("\n"), key=len) if "\n" in text else text
    if longest.isascii():
        return len(longest)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in longest)


def shown_width(value: Any, code: str | None) -> int:
    """Roughly how many characters a cell shows for `value` under the number format `code`."""
    if isinstance(value, str):
        return text_width(value)
    if isinstance(value, bool):
        return 5
    if is_number(value):
        if not math.isfinite(value):
            return 0
        if code:
            places = len(code) - len(COUNT_CODE) - 1 if "." in code else 0
            return len(f"{value:,.{places}f}")
        if value == int(value) and abs(value) < 1e15:
            return len(str(int(value)))
        return len(f"{value:.{_GENERAL_DIGITS}g}")
    if isinstance(value, dt.datetime):
        return 23 if value.microsecond else 19
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, dt.time):
        return 12 if value.microsecond else 8
    if isinstance(value, dt.timedelta):
        hours = int(abs(value.total_seconds()) // 3600)
        return len(str(hours)) + 6 + (4 if value.microseconds else 0) + (value < dt.timedelta(0))
    return text_width(str(value))


class SheetLayout:
    """One report sheet's columns: their kinds, the number formats decided from the sample, their widths.

    The writer holds back the sheet's first rows (`sample_rows`), calls `settle()` once with them, and
    asks `code(column, value)` for each number it writes."""

    def __init__(self, header: Sequence[Any], kinds: Sequence[str], sample_rows: int = SAMPLE_ROWS) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown column kinds {sorted(unknown)}")
        self.header = list(header)
        self.kinds = list(kinds) + [TEXT] * (len(self.header) - len(kinds))
        self.sample_rows = sample_rows
        self.link_column = self.kinds.index(FILE) if FILE in self.kinds else None
        self.per_cell = VALUE in self.kinds  # its rows need a format chosen per cell
        self.codes: list[str | None] = [COUNT_CODE if kind == COUNT else None for kind in self.kinds]
        self.widths = [text_width(str(h)) * 1.1 + HEADER_ROOM if h is not None else MIN_WIDTH for h in self.header]
        self.settled = False

    def settle(self, rows: Sequence[Sequence[Any]]) -> None:
        """Decide the MEASURE and AUTO columns' formats and measure every column on `rows`."""
        for column, kind in enumerate(self.kinds):
            if kind not in (MEASURE, AUTO):
                continue
            numbers = [row[column] for row in rows if column < len(row) and is_number(row[column])]
            fractions = [n for n in numbers if math.isfinite(n) and n != int(n)]
            if kind == MEASURE or fractions:
                self.codes[column] = measure_code(max(map(decimals, fractions), default=0))
        for row in rows:
            self.measure(row)
        self.settled = True

    def code(self, column: int, value: Any) -> str | None:
        """The number format of a number in `column` (None: General)."""
        if column >= len(self.kinds):
            return None
        if self.kinds[column] == VALUE:
            return value_code(value)
        return self.codes[column]

    def measure(self, row: Sequence[Any]) -> None:
        widths = self.widths
        for column, value in enumerate(row):
            if value is None:
                continue
            if column >= len(widths):
                widths.extend([MIN_WIDTH] * (column + 1 - len(widths)))
            width = shown_width(value, self.code(column, value) if is_number(value) else None)
            if width > widths[column]:
                widths[column] = width

    def column_widths(self) -> list[float]:
        """Each column's width in Excel's units (characters of the default font), padded and capped."""
        return [min(max(w + 2, MIN_WIDTH), MAX_WIDTH) for w in self.widths]
