"""Reading workbooks of every supported format through one small interface, for the tasks.

Values come from python-calamine (xlsx, xlsm, xlsb, xls, ods), which is 10-30x faster than openpyxl,
and from the csv module for text files, typed column by column (xlbatch.csv_types). Cell values are normalised
so every task sees the same types whatever the format: None for an empty cell, str, int (whole numbers), float,
bool, datetime/date/time, timedelta. Files are closed as soon as the reader is left: on Windows an open handle
locks the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlbatch import errors, extent, file_notes
from xlbatch.errors import TaskFailure
from xlbatch.preflight import SourceFile
from xlbatch.sheet_findings import error_warning

if TYPE_CHECKING:
    from xlbatch.csv_types import CsvTyping

CellValue = Any  # None | str | int | float | bool | datetime | date | time | timedelta

CSV_ENCODINGS = ("utf-8-sig", "cp1252")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_MAX_EXACT_INT = 2**53
_EXTENSION_FORMATS = {
    ".xlsx": "xlsx",
    ".xltx": "xlsx",
    ".xlsm": "xlsm",
    ".xltm": "xlsm",
    ".xlsb": "xlsb",
    ".xls": "xls",
    ".ods": "ods",
}


def normalise(value: Any) -> CellValue:
    """One cell value from a reader, in the types every task relies on."""
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < _MAX_EXACT_INT:
        return int(value)
    return value


def is_number(value: Any) -> bool:
    """True for int and float cells; booleans and dates are not numbers."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_date(value: Any) -> bool:
    return isinstance(value, dt.date | dt.datetime | dt.time)


def parse_text_number(text: str) -> int | float | None:
    """A number written plainly as text ("1234", "-2.5", "1e3"), or None. CSV files are typed by whole columns
    instead (xlbatch.csv_types)."""
    text = text.strip()
    if _NUMBER.match(text):
        number = float(text)
        if number.is_integer() and "." not in text and "e" not in text.lower() and abs(number) < _MAX_EXACT_INT:
            return int(text)
        return number
    return None


@dataclass(frozen=True)
class RawSheet:
    """A sheet's rows as the reader produced them, for tasks that measure every cell in bulk.

    Unlike `WorkbookReader.rows`, values are not normalised: a blank is "" or None and a whole number may be
    a float. Each row's first item is in Excel column `first_column` (1-based) and rows may differ in length.
    `height` is how many rows `rows` yields, when the format says so up front.
    """

    rows: Iterator[list[Any]]
    first_column: int
    height: int | None


class WorkbookReader:
    """Open one workbook (any supported format) and read its sheets as rows of normalised values.

    Use as a context manager. `rows(sheet)` yields lists whose first item is column A and whose first
    list is row 1, so positions are Excel positions (trailing empty cells may be absent).
    """

    def __init__(self, source: SourceFile | str | os.PathLike[str], fmt: str | None = None) -> None:
        if isinstance(source, SourceFile):
            self.path, self.format = Path(source.path), source.format
        else:
            self.path = Path(source)
            self.format = fmt or ("csv" if self.path.suffix.lower() in {".csv", ".txt", ".tsv"} else "xlsx")
        self._book: Any = None
        self._parsed: tuple[str, Any] | None = None  # the last sheet parsed, by name
        # Each sheet's extent (measured by preflight, or here on first use): mostly-empty sheets are streamed.
        self._extents = source.extents if isinstance(source, SourceFile) else None
        self._sparse_book: Any = None
        self._errors_noted: set[str] = set()
        self._csv_text: str | None = None
        self._csv_typing: CsvTyping | None = None
        self.csv_dialect: str = ","
        self.csv_encoding: str = "utf-8-sig"
        if self.format == "csv":
            self._load_csv()
        else:
            import python_calamine

            if self.format == "xls":  # calamine misreads .xls text and errors: see xlbatch.xls_reader
                from xlbatch.xls_reader import open_xls

                with errors.reading():
                    self._book = open_xls(str(self.path), file_notes.warn)
            elif _EXTENSION_FORMATS.get(self.path.suffix.lower()) == self.format:
                with errors.reading():
                    self._book = python_calamine.CalamineWorkbook.from_path(str(self.path))
            else:
                # The name says one format, the content another (an .xls renamed .xlsx): calamine picks the
                # reader from the extension for paths, but from the content for file objects.
                with open(self.path, "rb") as handle:
                    data = io.BytesIO(handle.read())
                with errors.reading():
                    self._book = python_calamine.CalamineWorkbook.from_filelike(data)
            self._worksheets, self._no_cells = _split_sheets(self._book)
            self._skipped_noted = False

    # -- csv -------------------------------------------------------------------------------------
    def _load_csv(self) -> None:
        raw = self.path.read_bytes()
        for encoding in CSV_ENCODINGS:
            try:
                self._csv_text = raw.decode(encoding)
                self.csv_encoding = encoding
                break
            except UnicodeDecodeError:
                continue
        else:  # cp1252 decodes nearly everything; this is for the few bytes it does not
            raise TaskFailure(
                errors.NOT_A_WORKBOOK, "The text file uses an unknown encoding; save it as UTF-8 CSV and retry."
            )
        sample = self._csv_text[:65536]
        try:
            self.csv_dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            self.csv_dialect = ","

    def _csv_records(self) -> Iterator[list[str]]:
        assert self._csv_text is not None
        return csv.reader(io.StringIO(self._csv_text, newline=""), delimiter=self.csv_dialect)

    @property
    def csv_typing(self) -> CsvTyping:
        """How the CSV's columns are typed, decided from all their values on first use; the warnings about columns
        kept as text go to the task reading the file (xlbatch.file_notes)."""
        if self._csv_typing is None:
            from xlbatch.csv_types import infer_types  # imported here: only CSV files need it

            self._csv_typing = infer_types(self._csv_records(), self.csv_dialect)
            for warning in self._csv_typing.warnings:
                file_notes.warn(warning)
        return self._csv_typing

    def _csv_rows(self) -> Iterator[list[CellValue]]:
        from xlbatch.csv_rows import typed_rows

        typing = self.csv_typing  # first: the inference pass's copy of the text is freed before this pass makes one
        yield from typed_rows(self._csv_records(), typing)

    # -- common ----------------------------------------------------------------------------------
    @property
    def sheet_names(self) -> list[str]:
        """The sheets that hold cells, in workbook order. Chart and dialog sheets are left out, with a
        warning to the file the first time a task asks for every sheet."""
        if self.format == "csv":
            return [self.path.stem]
        if self._no_cells and not self._skipped_noted:
            self._skipped_noted = True
            for name, kind in self._no_cells.items():
                file_notes.warn(f"Sheet '{name}' is a {kind} and holds no cells; it was skipped.")
        return list(self._worksheets)

    def resolve_sheet(self, sheet: str | int) -> str:
        """A sheet's name from a name (case-insensitive) or a 1-based position among the sheets that hold
        cells; TaskFailure if absent."""
        names = [self.path.stem] if self.format == "csv" else self._worksheets
        for name, kind in ({} if self.format == "csv" else self._no_cells).items():
            if isinstance(sheet, str) and name.lower() == sheet.strip().lower() and sheet not in names:
                raise TaskFailure(errors.TASK_ERROR, f"Sheet '{name}' is a {kind}; it holds no cells to read.")
        if isinstance(sheet, int) or (
            isinstance(sheet, str) and sheet.strip().isdigit() and sheet.strip() not in names
        ):
            position = int(sheet)
            if 1 <= position <= len(names):
                return names[position - 1]
            raise TaskFailure(
                errors.TASK_ERROR,
                f"The workbook has {len(names)} sheet(s), so there is no sheet number {position}.",
                f"sheets: {names}",
            )
        for name in names:
            if name == sheet:
                return name
        for name in names:
            if name.lower() == str(sheet).strip().lower():
                return name
        raise TaskFailure(errors.TASK_ERROR, f"The workbook has no sheet named '{sheet}'.", f"sheets: {names}")

    def _calamine_sheet(self, sheet: str | int) -> Any:
        """The parsed sheet. Parsing is most of the cost of reading, so the last one is kept for reuse."""
        name = self.resolve_sheet(sheet)
        if self._parsed is None or self._parsed[0] != name:
            self._parsed = None  # free the previous sheet before parsing the next
            with errors.reading(f"sheet '{name}'"):
                self._parsed = (name, self._book.get_sheet_by_name(name))
            self._note_errors(name)
        return self._parsed[1]

    def _note_errors(self, name: str) -> None:
        """Tell the file about the sheet's error values, which every reader here reads as empty (once)."""
        if name in self._errors_noted:
            return
        self._errors_noted.add(name)
        found = next((e for e in self._measured() if e.name == name), None)
        if found is not None and found.findings.errors:
            file_notes.warn(error_warning(name, found.findings))

    def _measured(self) -> tuple[extent.SheetExtent, ...]:
        if self._extents is None:
            self._extents = extent.check(str(self.path), self.format)
        return self._extents

    def _sparse(self, sheet: str | int) -> tuple[Any, extent.SheetExtent] | None:
        """The streaming reader and the sheet's extent when the sheet is too empty for a dense rectangle."""
        name = self.resolve_sheet(sheet)
        found = next((e for e in self._measured() if e.name == name and e.sparse), None)
        if found is None:
            return None
        self._note_errors(name)
        if self._sparse_book is None:
            from xlbatch.sparse_reader import SparseWorkbook

            self._sparse_book = SparseWorkbook(str(self.path))
        return self._sparse_book, found

    def rows(self, sheet: str | int = 1) -> Iterator[list[CellValue]]:
        """Yield the rows of one sheet from row 1, each a list from column A."""
        if self.format == "csv":
            yield from self._csv_rows()
            return
        if sparse := self._sparse(sheet):
            yield from sparse[0].rows(sparse[1])
            return
        calamine_sheet = self._calamine_sheet(sheet)
        start = calamine_sheet.start
        if start is None:  # an empty sheet
            return
        # iter_rows() starts at row 1 but at the first used column: pad back to column A.
        pad = [None] * start[1]
        for raw in calamine_sheet.iter_rows():
            yield pad + [normalise(v) for v in raw]

    def raw_rows(self, sheet: str | int = 1) -> RawSheet:
        """One sheet's rows from row 1, without normalisation or padding (see RawSheet)."""
        if self.format == "csv":
            return RawSheet(self._csv_rows(), 1, None)
        if sparse := self._sparse(sheet):
            return RawSheet(sparse[0].rows(sparse[1]), 1, sparse[1].max_row)
        calamine_sheet = self._calamine_sheet(sheet)
        start, end = calamine_sheet.start, calamine_sheet.end
        if start is None or end is None:  # an empty sheet
            return RawSheet(iter(()), 1, 0)
        # iter_rows() yields every row from row 1 to the last used one, from the first used column.
        return RawSheet(calamine_sheet.iter_rows(), start[1] + 1, end[0] + 1)

    def merged_ranges(self, sheet: str | int = 1) -> int:
        """How many merged cell ranges a sheet has (0 where the format does not say)."""
        if self.format == "csv":
            return 0
        if sparse := self._sparse(sheet):
            return sparse[1].merged
        try:
            with errors.reading():
                ranges = self._calamine_sheet(sheet).merged_cell_ranges
        except TaskFailure:  # only a hint for a warning; the file's real problems show elsewhere
            return 0
        return len(ranges or [])

    def close(self) -> None:
        self._parsed = None
        if self._sparse_book is not None:
            self._sparse_book.close()
            self._sparse_book = None
        if self._book is not None:
            self._book.close()
            self._book = None
        self._csv_text = None

    def __enter__(self) -> WorkbookReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Sheet types that hold no cells, in the words the warning uses; calamine names them in sheets_metadata.
_NO_CELLS = {"ChartSheet": "chart sheet", "DialogSheet": "dialog sheet", "Vba": "macro module"}


def _split_sheets(book: Any) -> tuple[list[str], dict[str, str]]:
    """(names of the sheets that hold cells, {name: kind} of those that do not), in workbook order.

    Reading a chart sheet as cells fails in .xlsb ("failed to fill whole buffer") and in .xls yields
    the chart's cached series as if they were data: they are skipped instead."""
    if not hasattr(book, "sheets_metadata"):  # xlbatch.xls_reader's book: xlrd lists worksheets only
        return list(book.sheet_names), {}
    with errors.reading():
        metadata = list(book.sheets_metadata)
    cells: list[str] = []
    no_cells: dict[str, str] = {}
    for sheet in metadata:
        kind = _NO_CELLS.get(str(sheet.typ).rsplit(".", 1)[-1])
        if kind is None:
            cells.append(sheet.name)
        else:
            no_cells[sheet.name] = kind
    return cells, no_cells


def open_workbook(source: SourceFile | str | os.PathLike[str], fmt: str | None = None) -> WorkbookReader:
    """Open a workbook for reading; use as `with open_workbook(src) as book: ...`."""
    return WorkbookReader(source, fmt)


def trim_row(row: list[CellValue]) -> list[CellValue]:
    """The row without its trailing empty cells."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]
