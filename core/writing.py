"""Writing outputs safely: xlsx and CSV tables, cell values that never turn into formulas, and file
and sheet names that are legal on Windows and cannot escape the output folder.

New workbooks are written with xlsxwriter (the fastest writer measured; `constant_memory` keeps memory
flat for big tables). Text that starts with `=` is stored as text, never as a live formula; CSV values
that a spreadsheet would run as a formula (`= + - @`, tab, CR at the start) get a leading apostrophe.
CSV is written as UTF-8 with BOM so Excel shows accents correctly.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
SHEET_NAME_MAX = 31

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_BAD_FILENAME_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_filename(name: str, fallback: str = "blank", max_length: int = 120) -> str:
    """A file name legal on Windows, macOS and Linux that stays inside its folder.

    Path separators, drive colons, `..`, control characters and reserved device names (CON, NUL, ...)
    are neutralised, so a name built from a cell value can never point elsewhere.
    """
    text = _BAD_FILENAME_CHARS.sub("_", str(name)).strip().rstrip(". ")
    text = text.lstrip(".")  # no hidden files, no '..'
    if not text:
        text = fallback
    if text.split(".")[0].upper().strip() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text[:max_length].rstrip(". ") or fallback


def safe_sheet_name(name: str, taken: set[str] | None = None, fallback: str = "Sheet") -> str:
    """A legal, unique (case-insensitively, as Excel requires) worksheet name of at most 31 characters."""
    text = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'").strip() or fallback
    text = text[:SHEET_NAME_MAX]
    if text.lower() == "history":  # reserved by Excel
        text = f"{text}_"
    if taken is None:
        return text
    lowered = {t.lower() for t in taken}
    candidate, counter = text, 2
    while candidate.lower() in lowered:
        suffix = f" ({counter})"
        candidate = text[: SHEET_NAME_MAX - len(suffix)] + suffix
        counter += 1
    taken.add(candidate)
    return candidate


CSV_LINE_END = "\r\n"


def csv_safe(value: Any) -> Any:
    """A value for a CSV cell: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(_CSV_FORMULA_START):
        return "'" + value
    return value


def csv_text(value: Any) -> str:
    """Render one typed value as CSV text (ISO dates, plain numbers, TRUE/FALSE)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(csv_safe(value))


class CsvTableWriter:
    """Write rows to a CSV file (UTF-8 with BOM by default), values neutralised against formulas."""

    def __init__(self, path: str | os.PathLike[str], delimiter: str = ",", encoding: str = "utf-8-sig") -> None:
        self._handle = open(path, "w", encoding=encoding, newline="", errors="replace")  # noqa: SIM115 - closed by close()
        self._writer = csv.writer(self._handle, delimiter=delimiter, lineterminator=CSV_LINE_END)

    def write_row(self, row: list[Any]) -> None:
        self._writer.writerow([csv_text(v) for v in row])

    def write_fields(self, rows: Iterable[Sequence[str]]) -> None:
        """Write rows whose values are already CSV text (csv_text applied)."""
        self._writer.writerows(rows)

    def write_text(self, text: str) -> None:
        """Append complete lines of CSV text, rendered with this writer's dialect and csv_text."""
        self._handle.write(text)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> CsvTableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class XlsxTableWriter:
    """Write typed rows to a new xlsx with xlsxwriter: dates as dates, numbers as numbers, text as text.

    `add_sheet(name)` starts a sheet; `write_row(row)` appends to it. When a sheet reaches Excel's row
    limit, `write_row` continues on a new sheet named "<name> (2)" and records a warning.
    """

    def __init__(self, path: str | os.PathLike[str], constant_memory: bool = True) -> None:
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": constant_memory,
                "strings_to_formulas": False,  # user text starting with '=' stays text
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "nan_inf_to_errors": True,
                "remove_timezone": True,
            },
        )
        self._date = self._book.add_format({"num_format": "yyyy-mm-dd"})
        self._datetime = self._book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._time = self._book.add_format({"num_format": "hh:mm:ss"})
        self._duration = self._book.add_format({"num_format": "[h]:mm:ss"})
        self._bold = self._book.add_format({"bold": True})
        self._taken: set[str] = set()
        self._sheet: Any = None
        self._sheet_base = ""
        self._row = 0
        self._header: list[Any] | None = None
        self.warnings: list[str] = []
        self.sheet_names: list[str] = []

    def add_sheet(self, name: str, header: list[Any] | None = None) -> str:
        """Start a new sheet; if `header` is given it is written in bold and repeated on overflow sheets."""
        title = safe_sheet_name(name, self._taken)
        self._sheet = self._book.add_worksheet(title)
        self.sheet_names.append(title)
        self._sheet_base = name
        self._row = 0
        self._header = header
        if header is not None:
            self._write(header, self._bold)
        return title

    def write_row(self, row: list[Any]) -> None:
        if self._sheet is None:
            self.add_sheet("Sheet1")
        if self._row >= EXCEL_MAX_ROWS:
            previous = self.sheet_names[-1]
            self.add_sheet(f"{self._sheet_base} (cont.)", self._header)
            self.warnings.append(
                f"Sheet '{previous}' reached Excel's limit of {EXCEL_MAX_ROWS:,} rows; "
                f"the rows continue on sheet '{self.sheet_names[-1]}'."
            )
        self._write(row, None)

    def _write(self, row: list[Any], cell_format: Any) -> None:
        sheet, r = self._sheet, self._row
        for c, value in enumerate(row[:EXCEL_MAX_COLS]):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, c, value, cell_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value, cell_format)
            elif isinstance(value, dt.datetime):
                fmt = self._datetime if value.time() != dt.time() else self._date
                sheet.write_datetime(r, c, value.replace(tzinfo=None), fmt)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), self._date)
            elif isinstance(value, dt.time):
                sheet.write_datetime(r, c, value, self._time)
            elif isinstance(value, dt.timedelta):
                sheet.write_number(r, c, value.total_seconds() / 86400, self._duration)
            else:
                text = _ILLEGAL_XML_CHARS.sub("", str(value))[:EXCEL_MAX_CELL_CHARS]
                sheet.write_string(r, c, text, cell_format)
        self._row += 1

    def close(self) -> None:
        if not self.sheet_names:
            self.add_sheet("Sheet1")
        self._book.close()

    def __enter__(self) -> XlsxTableWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:  # do not spend time writing a workbook that atomic_path will delete anyway
            with contextlib.suppress(Exception):  # already failing: the original error matters
                self._book.close()


def output_name(stem: str, suffix: str) -> str:
    """`stem` + `suffix`, made into a safe file name."""
    return safe_filename(f"{stem}{suffix}")


def is_same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
