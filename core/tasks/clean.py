"""The `clean` task: a tidied, values-only copy of every workbook, and a count of what each step changed.

Steps, each a switch that is on by default, applied to every sheet:
- `trim_whitespace`: text loses leading and trailing spaces, and runs of spaces, tabs and non-breaking
  spaces inside it become one space (line breaks inside a cell are kept); text that is only spaces
  becomes an empty cell.
- `text_to_numbers`: text that is a plain number ("42", "-2.5", "1e3", " 7 ") or a number with comma
  thousands separators that cannot be read two ways ("1,234", "12,345,678.5") becomes a number. Codes
  with a leading zero ("00123") and numbers longer than Excel's 15 significant digits stay text, because
  converting them would lose digits. The header row is left alone.
- `drop_empty_rows` and `drop_empty_columns`: rows and columns with no value at all are removed.
- `drop_duplicates`: a row below the header row that repeats an earlier such row exactly (after the
  steps above) is removed; the first one is kept.
- `tidy_headers`: header names are trimmed with spaces collapsed, empty ones become "Column N" (N is the
  column's position in the output) and repeated ones (compared ignoring case) get " (2)", " (3)"...

`header_row` says which row holds the column names (1 by default). Each file gives `<stem>.xlsx` with
every sheet, values only, next to where the input sits below the batch root.

Each sheet is read twice rather than held in memory: the first pass finds the columns that hold a value,
the second applies the steps and writes, so memory stays flat however large the sheet is.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from xlbatch.cost import WorkCost
from xlbatch.params import Param
from xlbatch.preflight import SourceFile
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, Task
from xlbatch.tasks.registry import register
from xlbatch.workbook import CellValue, WorkbookReader, is_number, open_workbook, parse_text_number
from xlbatch.writing import XlsxTableWriter

PROGRESS_EVERY = 2000

COUNTERS: tuple[str, ...] = (
    "cells_trimmed",
    "empty_rows_dropped",
    "empty_columns_dropped",
    "duplicate_rows_dropped",
    "headers_renamed",
    "numbers_converted",
)

# Whitespace other than line breaks: collapsed to one space. Line breaks in a cell are usually meant.
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_SPACE_AROUND_BREAK = re.compile(r" ?\n ?")
# Comma thousands separators: groups of exactly three digits after a first group that does not start
# with 0, so "1,234" and "12,345,678.50" qualify while "0,5" and "12,34" (decimal commas) do not.
_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")
# A leading zero followed by a digit marks a code (zip code, article number), not a quantity.
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
# Excel keeps 15 significant digits; longer digit strings are identifiers (card, account numbers).
EXCEL_DIGITS = 15


def tidy_text(text: str) -> str:
    """Trim `text` and collapse runs of spaces, tabs and non-breaking spaces to one space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INLINE_SPACE.sub(" ", text)
    text = _SPACE_AROUND_BREAK.sub("\n", text)
    return text.strip()


def text_number(text: str) -> int | float | None:
    """The number written in `text`, or None when it is not one this task converts (see the module doc)."""
    stripped = text.strip()
    if not stripped or _LEADING_ZERO.match(stripped):
        return None
    if _THOUSANDS.match(stripped):
        stripped = stripped.replace(",", "")
    number = parse_text_number(stripped)
    if number is None:
        return None
    mantissa = stripped.lstrip("+-").lower().split("e")[0]
    if len(mantissa.replace(".", "").lstrip("0")) > EXCEL_DIGITS:
        return None
    if isinstance(number, float) and (number != number or number in (float("inf"), float("-inf"))):
        return None
    return number


def _row_key(row: list[CellValue]) -> bytes:
    """A compact fingerprint of a row's values: equal rows, and only equal rows, share it.

    Values are tagged by kind so True, 1 and "1" differ, while 1 and 1.0 are the same number; 16 bytes
    per row keeps duplicate detection small on big sheets.
    """
    parts: list[tuple[str, Any]] = []
    for value in row:
        if value is None:
            parts.append(("", None))
        elif isinstance(value, bool):
            parts.append(("b", value))
        elif is_number(value):
            parts.append(("n", int(value) if isinstance(value, float) and value.is_integer() else value))
        else:
            parts.append((type(value).__name__, value))
    while parts and parts[-1][0] == "":
        parts.pop()
    return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def tidy_header_names(headers: list[CellValue]) -> list[CellValue]:
    """Headers trimmed, blanks named "Column N" (1-based position) and repeats suffixed " (2)", " (3)"...

    Names that are already present are reserved first, so a generated "Amount (2)" never collides with
    a column the sheet already calls "Amount (2)".
    """
    tidied: list[CellValue] = []
    for position, header in enumerate(headers, start=1):
        if isinstance(header, str):
            header = tidy_text(header) or None
        tidied.append(f"Column {position}" if header is None else header)
    reserved = {str(h).lower() for h in tidied}
    seen: set[str] = set()
    result: list[CellValue] = []
    for header in tidied:
        key = str(header).lower()
        if key not in seen:
            seen.add(key)
            result.append(header)
            continue
        counter = 2
        while f"{header} ({counter})".lower() in reserved or f"{header} ({counter})".lower() in seen:
            counter += 1
        name = f"{header} ({counter})"
        seen.add(name.lower())
        result.append(name)
    return result


class _SheetCleaner:
    """Applies the cell-level steps to rows and counts what they changed."""

    def __init__(self, params: dict[str, Any], header_row: int) -> None:
        self.trim = params["trim_whitespace"]
        self.numbers = params["text_to_numbers"]
        self.header_row = header_row
        self.counts = dict.fromkeys(COUNTERS, 0)

    def clean_row(self, row: list[CellValue], row_number: int, count: bool) -> list[CellValue]:
        cleaned: list[CellValue] = []
        convert = self.numbers and row_number != self.header_row
        for value in row:
            if isinstance(value, str):
                if self.trim:
                    trimmed = tidy_text(value)
                    if trimmed != value:
                        if count:
                            self.counts["cells_trimmed"] += 1
                        value = trimmed or None
                if convert and value is not None:
                    number = text_number(value)
                    if number is not None:
                        if count:
                            self.counts["numbers_converted"] += 1
                        value = number
            cleaned.append(value)
        return cleaned


def _is_empty(row: list[CellValue]) -> bool:
    return all(value is None for value in row)


@register
class Clean(Task):
    name = "clean"
    title = "Clean workbooks"
    description = (
        "Trim spaces, drop empty rows, empty columns and duplicate rows, tidy headers and turn numbers "
        "stored as text into numbers; writes a cleaned values-only copy of each workbook."
    )
    kind = "cpu"
    # Cleaning every cell and writing the copy, in Python.
    cost = WorkCost(seconds_per_mb=4.0, seconds_per_file=0.008, lock_free=0.05)
    version = 1
    params = (
        Param("trim_whitespace", "bool", True, "Remove spaces around text and collapse repeated spaces."),
        Param("drop_empty_rows", "bool", True, "Remove rows that have no value at all."),
        Param("drop_empty_columns", "bool", True, "Remove columns that have no value at all."),
        Param("drop_duplicates", "bool", True, "Remove rows below the header that repeat an earlier row."),
        Param("tidy_headers", "bool", True, "Trim header names, name empty ones 'Column N', number repeated ones."),
        Param("text_to_numbers", "bool", True, "Turn numbers stored as text into real numbers."),
        common_params.header_row(),
    )

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        total = dict.fromkeys(COUNTERS, 0)
        per_sheet: dict[str, dict[str, int]] = {}
        with (
            open_workbook(source) as book,
            ctx.file_output(".xlsx") as tmp,
            XlsxTableWriter(tmp) as writer,
        ):
            names = book.sheet_names
            for position, sheet in enumerate(names):
                counts = self._clean_sheet(book, sheet, writer, params, ctx, position / len(names), 1 / len(names))
                per_sheet[sheet] = counts
                for counter in COUNTERS:
                    total[counter] += counts[counter]
            for warning in writer.warnings:
                ctx.warn(warning)
        ctx.progress(1.0)
        return {**total, "per_sheet": per_sheet}

    @staticmethod
    def _clean_sheet(
        book: WorkbookReader,
        sheet: str,
        writer: XlsxTableWriter,
        params: dict[str, Any],
        ctx: FileContext,
        base: float,
        span: float,
    ) -> dict[str, int]:
        """Clean one sheet into a new sheet of `writer`; return what each step changed."""
        header_row: int = params["header_row"]
        cleaner = _SheetCleaner(params, header_row)

        # Pass 1: which columns hold a value once cleaned, and whether the header row has any.
        used_columns: set[int] = set()
        header_has_value = False
        row_count = 0
        for row_number, row in enumerate(book.rows(sheet), start=1):
            row_count = row_number
            if row_number % PROGRESS_EVERY == 0:
                ctx.progress(base, f"{sheet}: reading row {row_number:,}")
            for index, value in enumerate(cleaner.clean_row(row, row_number, count=False)):
                if value is not None:
                    used_columns.add(index)
                    header_has_value = header_has_value or row_number == header_row
        width = max(used_columns) + 1 if used_columns else 0
        keep = sorted(used_columns) if params["drop_empty_columns"] else list(range(width))
        cleaner.counts["empty_columns_dropped"] = width - len(keep)
        tidy = params["tidy_headers"] and header_has_value
        if params["tidy_headers"] and not header_has_value and row_count >= header_row:
            ctx.warn(
                f"Sheet '{sheet}': row {header_row} (the header row) is empty, so its headers were not tidied; "
                "set header_row to the row that holds the column names."
            )

        # Pass 2: apply every step, count what changed, write what is kept.
        writer.add_sheet(sheet)
        seen: set[bytes] = set()
        for row_number, row in enumerate(book.rows(sheet), start=1):
            if row_number % PROGRESS_EVERY == 0:
                ctx.progress(
                    base + span * (0.2 + 0.8 * row_number / max(row_count, 1)),
                    f"{sheet}: row {row_number:,} of {row_count:,}",
                )
            cleaned = cleaner.clean_row(row, row_number, count=True)
            cleaned = [cleaned[i] if i < len(cleaned) else None for i in keep]
            if row_number == header_row and tidy:
                tidied = tidy_header_names(cleaned)
                cleaner.counts["headers_renamed"] += sum(
                    1 for old, new in zip(cleaned, tidied, strict=True) if old != new or type(old) is not type(new)
                )
                cleaned = tidied
            if _is_empty(cleaned):
                if params["drop_empty_rows"]:
                    cleaner.counts["empty_rows_dropped"] += 1
                    continue
            elif params["drop_duplicates"] and row_number > header_row:
                key = _row_key(cleaned)
                if key in seen:
                    cleaner.counts["duplicate_rows_dropped"] += 1
                    continue
                seen.add(key)
            writer.write_row(cleaned)
        return cleaner.counts
