"""Writing outputs safely: xlsx and CSV tables, cell values that never turn into formulas, and file
and sheet names that are legal on Windows and cannot escape the output folder.

Report-like tables (summary, exceptions, combined, extracted, exported errors) are written for people
to read: `add_sheet(name, header, kinds=...)` gives a bold, frozen header with a filter, fitted columns,
thousands separators, links to the source files and tinted failed rows (see xlbatch.report_layout).

New workbooks are written with xlsxwriter (the fastest writer measured; `constant_memory` keeps memory
flat for big tables). Text that starts with `=` is stored as text, never as a live formula; CSV values
that a spreadsheet would run as a formula (`= + - @`, tab, CR at the start) get a leading apostrophe.
CSV is written as UTF-8 with BOM so Excel shows accents correctly.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.url import Url, UrlTypes

from xlbatch import output_record
from xlbatch.cell_refs import column_letters
from xlbatch.excel_values import (
    BOOL,
    DURATION,
    EMPTY,
    EXCEL_MAX_CELL_CHARS,
    FORMATS,
    FORMATS_MS,
    NUMBER,
    TEXT,
    Cell,
    loss_warnings,
    number_text,
    to_cell,
)
from xlbatch.report_layout import (
    FAILED_FILL,
    HEADER_STYLE,
    LINK_STYLE,
    LINKS_PER_SHEET,
    SAMPLE_ROWS,
    SAMPLE_ROWS_IN_MEMORY,
    SheetLayout,
    file_uri,
)

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
SHEET_NAME_MAX = 31
CELLS_NAMED = 10  # cells a warning names before "and N more"
_MAX_EXACT_INT = 2**53
_INF = float("inf")
_SHORT_TEXT = EXCEL_MAX_CELL_CHARS // 2  # ASCII text this short needs no check: one unit per character

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_BAD_FILENAME_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# Bidirectional controls (LRM, RLM, embeddings, overrides, isolates): a cell value of U+202E + "evil"
# would make a file name that shows reversed, hiding its real ending. Generated names drop them.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_SHEET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def safe_filename(name: str, fallback: str = "blank", max_length: int = 120) -> str:
    """A file name legal on Windows, macOS and Linux that stays inside its folder.

    Path separators, drive colons, `..`, control characters and reserved device names (CON, NUL, ...)
    are neutralised, so a name built from a cell value can never point elsewhere; bidirectional controls
    are dropped, so it cannot show its characters in another order either.
    """
    text = _BAD_FILENAME_CHARS.sub("_", _BIDI_CONTROLS.sub("", str(name))).strip().rstrip(". ")
    text = text.lstrip(".")  # no hidden files, no '..'
    if not text:
        text = fallback
    if text.split(".")[0].upper().strip() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text[:max_length].rstrip(". ") or fallback


def safe_sheet_name(name: str, taken: set[str] | None = None, fallback: str = "Sheet") -> str:
    """A legal, unique (case-insensitively, as Excel requires) worksheet name of at most 31 characters."""
    text = _BAD_SHEET_CHARS.sub("_", _BIDI_CONTROLS.sub("", str(name))).strip("'").strip() or fallback
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
    """Render one typed value as CSV text (ISO dates, numbers that read back exactly, TRUE/FALSE)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, float):
        # Whole numbers without ".0", but only where every digit is exact: 1e300 stays 1e+300.
        return str(int(value)) if value.is_integer() and abs(value) < _MAX_EXACT_INT else repr(value)
    return str(csv_safe(value))


def cell_name(sheet: str, row: int, column: int) -> str:
    """A cell as Excel names it in a formula: Data!B5, 'My sheet'!B5 (row and column 1-based)."""
    quoted = sheet if _PLAIN_SHEET_NAME.match(sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{quoted}!{column_letters(column)}{row}"


class CsvTableWriter:
    """Write rows to a CSV file (UTF-8 with BOM by default), values neutralised against formulas.

    When the output folder asked for it, every row's fields are recorded for xlbatch.verify, as the text
    the file holds once encoded (cp1252 turns what it cannot store into '?')."""

    def __init__(self, path: str | os.PathLike[str], delimiter: str = ",", encoding: str = "utf-8-sig") -> None:
        self._handle = open(path, "w", encoding=encoding, newline="", errors="replace")  # noqa: SIM115 - closed by close()
        self._writer = csv.writer(self._handle, delimiter=delimiter, lineterminator=CSV_LINE_END)
        self._path = path
        self._delimiter = delimiter
        self._encoding = encoding
        self._lossy = encoding.replace("-", "").replace("_", "").lower() not in ("utf8", "utf8sig")
        self.record = output_record.start(path, output_record.CSV, delimiter, encoding)
        self._rows = 0

    def _remember(self, fields: Sequence[str]) -> None:
        record = self.record
        if record is not None:
            if self._lossy:
                fields = [f.encode(self._encoding, "replace").decode(self._encoding) for f in fields]
            if fields:
                record.add(self._rows, list(fields))
        self._rows += 1

    def write_row(self, row: list[Any]) -> None:
        fields = [csv_text(v) for v in row]
        self._writer.writerow(fields)
        if self.record is not None:
            self._remember(fields)
        else:
            self._rows += 1

    def write_fields(self, rows: Iterable[Sequence[str]]) -> None:
        """Write rows whose values are already CSV text (csv_text applied)."""
        if self.record is None:
            self._writer.writerows(rows)
            return
        for fields in rows:
            self._writer.writerow(fields)
            self._remember(fields)

    def write_text(self, text: str) -> None:
        """Append complete lines of CSV text, rendered with this writer's dialect and csv_text."""
        self._handle.write(text)
        if self.record is not None:
            for fields in csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter):
                self._remember(fields)

    def close(self) -> None:
        self._handle.close()
        output_record.finish(self._path, self.record)

    def __enter__(self) -> CsvTableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _writer(sheet: Any, kind: str) -> Any:
    """xlsxwriter's undecorated write_<kind> (it skips the A1-notation handling), or the public one."""
    return getattr(sheet, f"_write_{kind}", None) or getattr(sheet, f"write_{kind}")


class ExactWorksheet(xlsxwriter.worksheet.Worksheet):
    """A worksheet that writes every number with the digits that read back as exactly that double.

    xlsxwriter writes `f"{number:.16G}"`, which is one digit short for some doubles (0.1 + 0.2 comes
    back as 0.3); Excel itself writes up to 17. Every number cell, in constant_memory mode too, goes
    through `_xml_number_element`, so this is the one place to change."""

    def _xml_number_element(self, number: Any, attributes: Any = ()) -> None:
        attr = "".join(f' {key}="{value}"' for key, value in attributes)  # a cell reference and an index
        self.fh.write(f"<c{attr}><v>{number_text(number)}</v></c>")


class _FileLink(Url):
    """A link to a local file, kept as the file: URI it is given (see report_layout.file_uri).

    xlsxwriter rewrites every file:// link as a Windows path (file:///C:\\...), which turns the POSIX path
    /home/ana/a.xlsx into the relative link home\\ana\\a.xlsx; this link is written as it is."""

    def __init__(self, uri: str, text: str) -> None:
        super().__init__(uri)  # raises ValueError past Excel's 2,080 characters
        self.text = text

    def _parse_url(self) -> None:
        self._link_type = UrlTypes.EXTERNAL


_NO_STYLE = object()
_NO_FORMATS: list[Any] = [None] * EXCEL_MAX_COLS


def _per_column(formats: list[Any]) -> list[Any]:
    """`formats` padded to every column Excel has: the write loop indexes it without a bounds check."""
    return formats[:EXCEL_MAX_COLS] + _NO_FORMATS[len(formats) :]


class XlsxTableWriter:
    """Write typed rows to a new xlsx with xlsxwriter: dates as dates, numbers as numbers, text as text.

    `add_sheet(name)` starts a sheet; `write_row(row)` appends to it. When a sheet reaches Excel's row
    limit, `write_row` continues on a new sheet named "<name> (cont.)" and records a warning. Values are
    kept exactly (see xlbatch.excel_values); a value that cannot be kept gets a warning naming its cell.
    When the output folder asked for it, the writer records what it wrote for xlbatch.verify.

    A sheet started with `kinds` (one per column, see xlbatch.report_layout) is a report sheet: its first
    rows are held back until their columns are measured, `write_row(row, link=path, failed=True)` links
    the row's FILE column to `path` and tints the row, and the sheet gets a frozen header and a filter.
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
        self._path = path
        self._sample_rows = SAMPLE_ROWS if constant_memory else SAMPLE_ROWS_IN_MEMORY
        self.record = output_record.start(path, output_record.XLSX)
        self._formats = {kind: self._book.add_format({"num_format": code}) for kind, code in FORMATS.items()}
        self._formats_ms = {kind: self._book.add_format({"num_format": code}) for kind, code in FORMATS_MS.items()}
        self._bold = self._book.add_format({"bold": True})
        self._header_style = self._book.add_format(HEADER_STYLE)
        self._styles: dict[tuple[str | None, bool, bool], Any] = {}
        self._taken: set[str] = set()
        self._sheet: Any = None
        self._sheet_base = ""
        self._row = 0
        self._header: list[Any] | None = None
        self._kinds: list[str] | None = None
        self._layout: SheetLayout | None = None  # the report sheet's columns
        self._held: list[tuple[list[Any], str | None, bool]] = []  # its first rows, until measured
        self._column_formats: list[Any] = _NO_FORMATS
        self._links = 0
        self._losses: dict[str, list[Any]] = {}  # loss kind -> [count, first cells]
        self._warnings: list[str] = []
        self.sheet_names: list[str] = []

    @property
    def warnings(self) -> list[str]:
        """Sheet overflows, then one line per kind of value that could not be kept, naming its cells."""
        return [*self._warnings, *loss_warnings(self._losses)]

    def add_sheet(self, name: str, header: list[Any] | None = None, kinds: Sequence[str] | None = None) -> str:
        """Start a new sheet; if `header` is given it is written in bold and repeated on overflow sheets.

        With `kinds` (the header's columns' kinds, see xlbatch.report_layout) the sheet is a report sheet."""
        if kinds is not None and header is None:
            raise ValueError("a report sheet needs a header")
        self._finish_sheet()
        title = safe_sheet_name(name, self._taken)
        if title != name and not name.endswith(" (cont.)"):
            self._warnings.append(f"Sheet '{name}' is not a legal Excel sheet name and was saved as '{title}'.")
        self._sheet = self._book.add_worksheet(title, worksheet_class=ExactWorksheet)
        self.sheet_names.append(title)
        if self.record is not None:
            self.record.start_sheet(title)
        self._sheet_base = name
        self._row = 0
        self._links = 0
        self._header = header
        self._kinds = list(kinds) if kinds is not None else None
        self._layout, self._column_formats = None, _NO_FORMATS
        if header is not None and kinds is not None:
            self._layout = SheetLayout(header, kinds, self._sample_rows)
            # Left-aligned even over numbers: in Excel the filter button covers a header's right end.
            self._write(header, _per_column([self._header_style] * len(header)))
            self._sheet.freeze_panes(1, 0)
            # Printed: across the page, as wide as one page, the header on every page.
            self._sheet.set_landscape()
            self._sheet.fit_to_pages(1, 0)
            self._sheet.repeat_rows(0)
        elif header is not None:
            self._write(header, _per_column([self._bold] * len(header)))
        return title

    def write_row(self, row: list[Any], link: str | None = None, failed: bool = False) -> None:
        """Append a row. On a report sheet, `link` is the path its FILE column links to, `failed` tints it."""
        if self._sheet is None:
            self.add_sheet("Sheet1")
        layout = self._layout
        if layout is not None and not layout.settled:
            self._held.append((row, link, failed))
            if len(self._held) >= layout.sample_rows:
                self._settle()
            return
        self._put(row, link, failed)

    def _put(self, row: list[Any], link: str | None, failed: bool) -> None:
        if self._row >= EXCEL_MAX_ROWS:
            previous, layout = self.sheet_names[-1], self._layout
            self.add_sheet(f"{self._sheet_base} (cont.)", self._header, self._kinds)
            if layout is not None:  # the same columns: keep what the first sheet's sample decided
                self._layout, self._column_formats = layout, _per_column([self._style(c) for c in layout.codes])
            self._warnings.append(
                f"Sheet '{previous}' reached Excel's limit of {EXCEL_MAX_ROWS:,} rows; "
                f"the rows continue on sheet '{self.sheet_names[-1]}'."
            )
        layout = self._layout
        if layout is None:
            self._write(row, _NO_FORMATS)
            return
        if failed or layout.per_cell or (link is not None and layout.link_column is not None):
            self._write_styled(row, link, failed)
        else:
            self._write(row, self._column_formats)

    def _settle(self) -> None:
        """Measure the held rows, decide the report sheet's number formats, and write the rows."""
        layout = self._layout
        assert layout is not None
        held, self._held = self._held, []
        layout.settle([row for row, _link, _failed in held])
        self._column_formats = _per_column([self._style(code) for code in layout.codes])
        for row, link, failed in held:
            self._put(row, link, failed)

    def _finish_sheet(self) -> None:
        """A report sheet's last steps: its held rows, column widths and filter (xlsxwriter writes them
        when the workbook closes, so they may come after the rows, in constant_memory mode too)."""
        layout = self._layout
        if layout is None:
            return
        if not layout.settled:
            self._settle()
        sheet = self._sheet
        for column, width in enumerate(layout.column_widths()):
            sheet.set_column(column, column, width)
        sheet.autofilter(0, 0, max(self._row - 1, 0), max(len(layout.header) - 1, 0))
        self._layout = None

    def _style(self, code: str | None, failed: bool = False, link: bool = False) -> Any:
        """The cell format for a number format `code` (None: General), a failed row's tint and a link."""
        key = (code, failed, link)
        style = self._styles.get(key, _NO_STYLE)
        if style is _NO_STYLE:
            properties: dict[str, Any] = {"num_format": code} if code else {}
            if failed:
                properties["bg_color"] = FAILED_FILL
            if link:
                properties.update(LINK_STYLE)
            style = self._book.add_format(properties) if properties else None
            self._styles[key] = style
        return style

    def _write(self, row: list[Any], formats: list[Any]) -> None:
        # What reads back is recorded as python-calamine gives it, before xlbatch.workbook normalises it:
        # numbers as floats, empty cells as "". xlbatch.verify then compares whole rows in C.
        # `formats`: each column's cell format (None: none), for every column Excel has (_per_column).
        sheet, r = self._sheet, self._row
        write_string, write_number = _writer(sheet, "string"), _writer(sheet, "number")
        expected: list[Any] = []
        add = expected.append
        for c, value in enumerate(row[:EXCEL_MAX_COLS]):
            cls = value.__class__
            cell_format = formats[c]
            # The common cases inline (this loop is most of a conversion's time); the rest via to_cell.
            if value is None:
                add("")
            elif cls is str and value.isascii() and len(value) <= _SHORT_TEXT:
                if value:
                    write_string(r, c, value, cell_format)
                add(value)
            elif cls is int and -_MAX_EXACT_INT < value < _MAX_EXACT_INT:
                write_number(r, c, value, cell_format)
                add(float(value))
            elif cls is float and -_INF < value < _INF and value != 0.0:  # not NaN, infinite or -0.0
                write_number(r, c, value, cell_format)
                add(value)
            else:
                add(self._write_cell(r, c, to_cell(value), cell_format))
        self._finish_row(r, expected)

    def _finish_row(self, r: int, expected: list[Any]) -> None:
        self._row += 1
        record = self.record
        if record is not None:
            while expected and expected[-1] == "":
                expected.pop()
            if expected:
                record.add(r, expected)

    def _write_styled(self, row: list[Any], link: str | None, failed: bool) -> None:
        """A report row whose cells need formats of their own: a tint, a link, a format per value."""
        sheet, r, layout = self._sheet, self._row, self._layout
        assert layout is not None
        expected: list[Any] = []
        for c, value in enumerate(row[:EXCEL_MAX_COLS]):
            if value is None or (value.__class__ is str and not value):
                if failed:  # the tint covers the whole row
                    _writer(sheet, "blank")(r, c, None, self._style(None, failed))
                expected.append("")
                continue
            cell = to_cell(value)
            if cell.kind == NUMBER:
                code = layout.code(c, value)
            elif cell.kind == DURATION:  # 0:00:01.000 beside 0:00:00.039: a column of durations lines up
                code = FORMATS_MS[DURATION]
            else:
                code = (FORMATS_MS if cell.millis else FORMATS).get(cell.kind)
            linked = cell.kind == TEXT and link is not None and c == layout.link_column
            if linked and self._link(r, c, cell, link, failed):  # type: ignore[arg-type]
                expected.append(cell.expected)
                continue
            style = self._style(code, failed)
            expected.append(self._write_cell(r, c, cell, style, style))
        self._finish_row(r, expected)

    def _link(self, r: int, c: int, cell: Cell, path: str, failed: bool) -> bool:
        """Write a text cell as a link to the file at `path`; False if it cannot be one (Excel's limits)."""
        if self._links >= LINKS_PER_SHEET:
            return False
        try:
            url = _FileLink(file_uri(path), cell.written)
        except ValueError:  # longer than a link may be
            return False
        if cell.loss is not None:
            self._lost(cell.loss, r, c)
        _writer(self._sheet, "url")(r, c, url, self._style(None, failed, link=True))
        self._links += 1
        return True

    def _write_cell(self, r: int, c: int, cell: Cell, cell_format: Any, date_format: Any = None) -> Any:
        """Write one converted value; return what python-calamine reads back from it.

        Dates, times and durations get their own number format, or `date_format` when given."""
        sheet, kind = self._sheet, cell.kind
        if cell.loss is not None:
            self._lost(cell.loss, r, c)
        if kind == NUMBER:
            _writer(sheet, "number")(r, c, cell.written, cell_format)
            return float(cell.written)
        if kind == TEXT:
            _writer(sheet, "string")(r, c, cell.written, cell_format)
        elif kind == BOOL:
            _writer(sheet, "boolean")(r, c, cell.written, cell_format)
        elif kind == EMPTY:
            return ""
        else:
            if date_format is None:
                date_format = (self._formats_ms if cell.millis else self._formats)[kind]
            _writer(sheet, "number")(r, c, cell.written, date_format)
        return cell.expected

    def _lost(self, kind: str, r: int, c: int) -> None:
        entry = self._losses.setdefault(kind, [0, []])
        entry[0] += 1
        if len(entry[1]) < CELLS_NAMED:
            entry[1].append(cell_name(self.sheet_names[-1], r + 1, c + 1))

    def close(self) -> None:
        if not self.sheet_names:
            self.add_sheet("Sheet1")
        self._finish_sheet()
        self._book.close()
        output_record.finish(self._path, self.record)

    def __enter__(self) -> XlsxTableWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:  # do not spend time writing a workbook that atomic_path will delete anyway
            with contextlib.suppress(Exception):  # already failing: the original error matters
                self._book.close()


def _path_key(path: str | os.PathLike[str]) -> str:
    """A path resolved (links followed) and, on Windows, with its case and separators made alike."""
    return os.path.normcase(str(Path(path).resolve()))


@functools.lru_cache(maxsize=8)
def _path_keys(paths: frozenset[str]) -> frozenset[str]:
    """`paths` as `_path_key`s, kept for the next file: a work item's files share one set of inputs, and
    resolving every input for every output made a batch of many small files quadratic."""
    keys = set()
    for path in paths:
        try:
            keys.add(_path_key(path))
        except OSError:
            keys.add(os.path.normcase(path))
    return frozenset(keys)


def is_one_of(path: str | os.PathLike[str], paths: frozenset[str]) -> bool:
    """Whether `path` is one of `paths` once both are resolved (an output about to overwrite an input)."""
    try:
        key = _path_key(path)
    except OSError:
        return False
    return key in _path_keys(paths)
