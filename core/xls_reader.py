"""Reading legacy .xls (BIFF5 and BIFF8) workbooks exactly, with xlrd, behind the interface of python-calamine.

python-calamine 0.9.1 (calamine 0.37) misreads .xls files in ways that change values without a sign:
- BIFF8 text is always UTF-16 (one byte per character when the high bytes are all zero), whatever the
  CODEPAGE record says, but calamine decodes it with that code page: with CODEPAGE 1252 "Titel" reads as
  'T\\x00i\\x00t\\x00e\\x00l\\x00' (`XlsEncoding::decode_to` widens the bytes to UTF-16, then decodes
  them as cp1252); in a file without a CODEPAGE record, UTF-16 text came back mapped to cp1252 bytes
  ('•' as '\\x95', '’' as '\\x92', '■' as '?');
- error values (#N/A, #DIV/0!, also as a formula's saved result) read as empty cells;
- a STRING record (a formula's text result) is taken as the value of the formula before it even when
  that formula's saved result is a number, so stray text replaces the number;
- serial 60 of the 1900 date system (the 1900-02-29 Excel invented) reads as 1900-02-28, and in the 1904
  system a date-formatted serial below 1 (1904-01-01, with or without a time) reads as a bare time.
xlrd decodes BIFF8 text as UTF-16 and BIFF5 text with the code page, reads a STRING record only for a
formula whose result is text, and reports error cells. It is pure Python, about 6x slower than
calamine (0.10 s against 0.016 s for a 1 MB .xls), small next to writing the output (README, Performance).

Values follow python-calamine's types so that an .xls and the .xlsx converted from it read the same:
numbers as floats, dates by their number format (a whole serial is a date, a serial below 1 a time,
others a datetime, a format with elapsed hours such as [h]:mm a duration), to the millisecond, in
the workbook's 1900 or 1904 date system. Unlike calamine, serial 60 in the 1900 system (the 1900-02-29
Excel invented) stays the number 60 with a warning instead of becoming 1900-02-28, and in the 1904
system a date format shows serial 0 as the date 1904-01-01, not the time 00:00. Error values are read
as empty cells and every one of them is named in a warning.

A file xlrd cannot parse (it is strict about some damaged structures) is read with python-calamine
instead, with a warning saying so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

Warn = Callable[[str], None]

CELLS_NAMED = 10
_MS_PER_DAY = 86_400_000
_EPOCH_1900 = dt.datetime(1899, 12, 31)
_EPOCH_1904 = dt.datetime(1904, 1, 1)
_LAST_SERIAL = 2_958_466  # 10000-01-01 in the 1900 system: no Python date from here on
# Elapsed-time brackets ([h], [mm], [ss]) make a duration; bracketed colours and locales do not.
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
# xlrd's cell types
_EMPTY, _TEXT, _NUMBER, _DATE, _BOOL, _ERROR, _BLANK = range(7)
NUMBER, DATE, DURATION = "number", "date", "duration"


def format_kind(format_string: str, is_date: bool) -> str:
    """How a number with this format reads: NUMBER, DATE (date/time/datetime by value) or DURATION."""
    if not is_date:
        return NUMBER
    return DURATION if _ELAPSED.search(format_string) else DATE


def has_date_part(format_string: str) -> bool:
    """Whether a date format shows a day (y or d), as opposed to a time of day only."""
    bare = _LITERALS.sub("", format_string).lower()
    return "y" in bare or "d" in bare


def _split_ms(serial: float) -> tuple[int, int]:
    """(whole days, milliseconds into the day), the milliseconds rounded as calamine rounds them."""
    days = math.floor(serial)
    millis = round((serial - days) * _MS_PER_DAY)
    if millis >= _MS_PER_DAY:
        days, millis = days + 1, millis - _MS_PER_DAY
    return days, millis


def serial_to_python(serial: float, date_1904: bool, date_part: bool) -> Any:
    """The date, datetime or time a date-formatted serial stands for; the number itself when it is no date.

    Returns (value, phantom) where phantom is True for the 1900 system's non-existent 1900-02-29."""
    if serial < 0 or serial >= _LAST_SERIAL - (1462 if date_1904 else 0):
        return serial, False
    days, millis = _split_ms(serial)
    if days == 0 and not (date_1904 and date_part):
        seconds, ms = divmod(millis, 1000)
        return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, ms * 1000), False
    if date_1904:
        day = _EPOCH_1904 + dt.timedelta(days=days)
    elif days == 60:
        return serial, True
    else:
        day = _EPOCH_1900 + dt.timedelta(days=days if days < 60 else days - 1)
    if millis == 0:
        return day.date(), False
    return day + dt.timedelta(milliseconds=millis), False


def serial_to_duration(serial: float) -> dt.timedelta:
    return dt.timedelta(milliseconds=round(serial * _MS_PER_DAY))


def _more(count: int, named: list[str]) -> str:
    return f" and {count - len(named):,} more" if count > len(named) else ""


class _Losses:
    """Cells of one sheet whose value could not be read as it is, for one warning per kind."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.errors: list[str] = []
        self.error_texts: set[str] = set()
        self.error_count = 0
        self.phantoms: list[str] = []
        self.phantom_count = 0

    def cell(self, row: int, col: int) -> str:
        from xlbatch.writing import cell_name

        return cell_name(self.sheet, row + 1, col + 1)

    def error(self, row: int, col: int, text: str) -> None:
        self.error_count += 1
        self.error_texts.add(text)
        if len(self.errors) < CELLS_NAMED:
            self.errors.append(self.cell(row, col))

    def phantom(self, row: int, col: int) -> None:
        self.phantom_count += 1
        if len(self.phantoms) < CELLS_NAMED:
            self.phantoms.append(self.cell(row, col))

    def warnings(self) -> Iterator[str]:
        if self.error_count:
            more = _more(self.error_count, self.errors)
            kinds = ", ".join(sorted(self.error_texts))
            yield (
                f"Sheet '{self.sheet}': {self.error_count:,} cell(s) hold an error value ({kinds}), which is not "
                f"a value that can be kept; they read as empty: {', '.join(self.errors)}{more}."
            )
        if self.phantom_count:
            more = _more(self.phantom_count, self.phantoms)
            yield (
                f"Sheet '{self.sheet}': {self.phantom_count:,} cell(s) show the date 1900-02-29, which does not "
                f"exist (Excel counts 1900 as a leap year); they were kept as the number 60: "
                f"{', '.join(self.phantoms)}{more}."
            )


class XlsSheet:
    """One parsed sheet, shaped like python-calamine's CalamineSheet (what xlbatch.workbook uses of it)."""

    def __init__(
        self,
        rows: list[list[Any]],
        start: tuple[int, int] | None,
        end: tuple[int, int] | None,
        merged: list[tuple[tuple[int, int], tuple[int, int]]],
    ) -> None:
        self._rows = rows
        self.start = start
        self.end = end
        self.merged_cell_ranges = merged

    def iter_rows(self) -> Iterator[list[Any]]:
        """Every row from row 1 to the last used one, from the first used column to the last ("" = empty)."""
        if self.start is None or self.end is None:
            return
        first, last = self.start[1], self.end[1] + 1
        width = last - first
        for row in self._rows[: self.end[0] + 1]:
            part = row[first:last]
            yield part + [""] * (width - len(part)) if len(part) < width else part


class XlsBook:
    """An .xls workbook read with xlrd, shaped like python-calamine's CalamineWorkbook."""

    def __init__(self, path: str, warn: Warn | None = None) -> None:
        import xlrd

        self._warn = warn
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            self._book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
        except NotImplementedError:  # formatting is not read from the oldest BIFF versions
            self._book = xlrd.open_workbook(file_contents=data, formatting_info=False, on_demand=True)
        self.sheet_names: list[str] = list(self._book.sheet_names())
        self._kinds = self._xf_kinds()

    def _xf_kinds(self) -> list[tuple[str, bool]]:
        """Per XF record: (NUMBER/DATE/DURATION, whether the format shows a day)."""
        book = self._book
        kinds: list[tuple[str, bool]] = []
        for xf in getattr(book, "xf_list", []):
            fmt = book.format_map.get(xf.format_key)
            text = fmt.format_str if fmt is not None else ""
            is_date = fmt is not None and fmt.type == 1  # xlrd's FDT
            kinds.append((format_kind(text, is_date), has_date_part(text)))
        return kinds

    def get_sheet_by_name(self, name: str) -> XlsSheet:
        index = self.sheet_names.index(name)
        sheet = self._book.sheet_by_index(index)
        try:
            return self._convert(sheet, name)
        finally:
            self._book.unload_sheet(index)

    def _convert(self, sheet: Any, name: str) -> XlsSheet:
        losses = _Losses(name)
        date_1904 = self._book.datemode == 1
        kinds = self._kinds
        xf_rows = getattr(sheet, "_cell_xf_indexes", None) if kinds else None
        rows: list[list[Any]] = []
        first_col, last_col, last_row = 1 << 30, -1, -1
        for r in range(sheet.nrows):
            types, values = sheet.row_types(r), sheet.row_values(r)
            row: list[Any] = [""] * len(values)
            xfs = xf_rows[r] if xf_rows is not None else None
            used = False
            for c, ctype in enumerate(types):
                if ctype == _TEXT:
                    value = values[c]
                elif ctype == _NUMBER:
                    value = float(values[c])
                elif ctype == _DATE:
                    value = self._date(values[c], xfs[c] if xfs is not None else -1, date_1904, losses, r, c)
                elif ctype == _BOOL:
                    value = bool(values[c])
                elif ctype == _ERROR:
                    import xlrd

                    losses.error(r, c, xlrd.error_text_from_code.get(values[c], "#ERROR"))
                    continue
                else:
                    continue
                if value == "":
                    continue
                row[c] = value
                used = True
                first_col = min(first_col, c)
                last_col = max(last_col, c)
            rows.append(row)
            if used:
                last_row = r
        if self._warn is not None:
            for warning in losses.warnings():
                self._warn(warning)
        if last_row < 0:
            return XlsSheet([], None, None, [])
        first_row = next(r for r, row in enumerate(rows) if any(v != "" for v in row))
        merged = [((rlo, clo), (rhi - 1, chi - 1)) for rlo, rhi, clo, chi in getattr(sheet, "merged_cells", [])]
        return XlsSheet(rows, (first_row, first_col), (last_row, last_col), merged)

    def _date(self, serial: float, xf: int, date_1904: bool, losses: _Losses, r: int, c: int) -> Any:
        kind, date_part = self._kinds[xf] if 0 <= xf < len(self._kinds) else (DATE, True)
        if kind == DURATION:
            return serial_to_duration(serial)
        value, phantom = serial_to_python(serial, date_1904, date_part)
        if phantom:
            losses.phantom(r, c)
        return value

    def close(self) -> None:
        self._book.release_resources()


def open_xls(path: str, warn: Warn | None = None) -> Any:
    """An XlsBook; for a file xlrd refuses, python-calamine's workbook, with a warning saying so."""
    from xlbatch import errors
    from xlbatch.errors import TaskFailure

    try:
        return XlsBook(path, warn)
    except (OSError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds of error on damaged files
        if "encrypted" in str(exc).lower():
            raise TaskFailure(
                errors.ENCRYPTED,
                "This workbook is password-protected; remove the password in Excel and run it again.",
                f"{type(exc).__name__}: {exc}",
            ) from exc
        import python_calamine

        with open(path, "rb") as handle:
            import io

            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
        if warn is not None:
            warn(
                "This .xls file has a structure the exact .xls reader does not accept "
                f"({type(exc).__name__}: {str(exc)[:200]}); it was read with python-calamine instead, which may "
                "misread text saved in a legacy code page and reads error values as empty."
            )
        return book
