"""The task tests' kit: small workbooks in every input format, a way to run a task on a few files the way a
batch would, and readers that check outputs with another library than the one under test.

`run_task` calls the task directly (`process()` per file, then `reduce()`), without the batch runner, so
each task's tests depend only on the task and the core helpers it builds on. It does what
`xlbatch.worker.process_file` does around a task, minus the pools:

- a file preflight refuses (empty, damaged, encrypted, not a workbook...) becomes a failed outcome with
  that kind, and a `TaskFailure` raised by the task a failed outcome with its error (anything else is a
  bug and propagates, with its traceback, to the test);
- what readers warn about while the task runs (`xlbatch.file_notes.warnings_to`) is the file's warning;
- every result crosses a JSON round trip before `reduce()` sees it: the run journal's JSON
  (`xlbatch.journal.dumps`/`loads`, which keeps dates, times and durations), the form a cached or resumed
  file's result comes back in. A task cannot hand objects from its workers to its reducer, and a result
  the journal cannot store fails the test;
- outputs are not read back and compared (`verify` off, `FileContext`'s default): the output check has
  its own tests (test_verify.py, tests/e2e/test_cli_verify.py).

Two xlsx writers, because tests rely on what differs between them: `write_xlsx_xlsxwriter` stores text
as shared strings, as Excel does (a cell holding only spaces survives; openpyxl's inline strings lose
it in python-calamine); `write_xlsx_openpyxl` takes every value type (times and durations too) and
stores text as inline strings, which find & replace must handle as well.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from xlbatch.errors import TaskFailure, classify
from xlbatch.file_notes import warnings_to
from xlbatch.journal import dumps, loads
from xlbatch.outcome import FAILED, OK, FileOutcome
from xlbatch.preflight import sniff
from xlbatch.tasks.base import FileContext, OutputFolder, Task

Rows = Sequence[Sequence[Any]]
Sheets = Mapping[str, Rows]

# -- running a task ----------------------------------------------------------------------------------


@dataclass
class Run:
    """What a run produced: the outcomes, the batch folder after reduce, and every progress report."""

    outcomes: list[FileOutcome]
    folder: OutputFolder
    progress: list[tuple[float, str]] = field(default_factory=list)

    def outcome(self, name: str) -> FileOutcome:
        """The one outcome of the input file called `name`."""
        matches = [o for o in self.outcomes if Path(o.path).name == name]
        assert len(matches) == 1, f"expected one outcome for {name}, got {len(matches)}"
        return matches[0]


def run_task(
    task_cls: type[Task],
    paths: Sequence[Path],
    raw_params: Mapping[str, Any] | None,
    out_dir: Path,
    root: Path | None = None,
    reduce: bool = True,
) -> Run:
    """Validate `raw_params`, process each file in order, then reduce (unless `reduce` is False).

    `root` is the batch's root folder: outputs mirror the inputs' folders below it, as in a real batch.
    """
    params = task_cls.validate(dict(raw_params) if raw_params is not None else None)
    task = task_cls()
    inputs = frozenset(str(Path(p).resolve()) for p in paths)
    progress: list[tuple[float, str]] = []
    outcomes: list[FileOutcome] = []
    for index, path in enumerate(paths):
        rel = Path(os.path.relpath(path, root)).as_posix() if root else Path(path).name
        try:
            source = sniff(path, rel)
        except (TaskFailure, OSError) as exc:  # preflight refused the file: its row says why, as in a batch
            outcomes.append(FileOutcome(index, str(path), FAILED, error=classify(exc)))
            continue
        ctx = FileContext(source, out_dir, inputs, report=lambda fraction, text: progress.append((fraction, text)))
        try:
            with warnings_to(ctx.warn):  # as xlbatch.worker runs a task: the reader's warnings are the file's
                result = task.process(source, params, ctx)
        except TaskFailure as exc:
            outcomes.append(FileOutcome(index, str(path), FAILED, warnings=list(ctx.warnings), error=exc.error))
            continue
        result = loads(dumps(result or {}))  # must be storable in the journal; reduce gets a copy, as on resume
        outcomes.append(
            FileOutcome(index, str(path), OK, outputs=list(ctx.outputs), warnings=list(ctx.warnings), result=result)
        )
    folder = OutputFolder(out_dir, inputs)
    if reduce:
        task.reduce(outcomes, params, folder)
    return Run(outcomes, folder, progress)


# -- writing inputs ----------------------------------------------------------------------------------


def _cells(rows: Rows) -> Iterator[tuple[int, int, Any]]:
    """(row, column, value) of every cell that holds a value, counted from 0."""
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                yield r, c, value


def write_xlsx_xlsxwriter(path: Path, sheets: Sheets) -> Path:
    """An .xlsx written by xlsxwriter, which stores text as shared strings exactly as given, like Excel.

    Takes text, numbers, booleans, dates and datetimes (shown as yyyy-mm-dd); text starting with '='
    is text, never a formula.
    """
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, c, value in _cells(rows):
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, value, date_format)
            else:
                ws.write_number(r, c, value)
    book.close()
    return path


def write_xlsx_openpyxl(path: Path, sheets: Sheets) -> Path:
    """An .xlsx written by openpyxl, with its own formats for dates, times and durations; text is stored
    as inline strings, and always as text (never as a formula or an error value)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for r, c, value in _cells(rows):
            cell = ws.cell(r + 1, c + 1, value)
            if isinstance(value, str):
                cell.data_type = "s"
    book.save(path)
    return path


def write_xls(path: Path, sheets: Sheets) -> Path:
    """An .xls written by xlwt, with date (and date-time) formats on date cells so readers see dates."""
    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    datetime_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        for r, c, value in _cells(rows):
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, datetime_style)
            elif isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    book.save(str(path))
    return path


def _ods_cell(value: Any) -> TableCell:
    if value is None:
        return TableCell()
    if isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=value)
        text = str(value)
    elif isinstance(value, dt.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
        text = value.isoformat()
    else:
        cell = TableCell(valuetype="string")
        text = str(value)
    cell.addElement(P(text=text))
    return cell


def write_ods(path: Path, sheets: Sheets) -> Path:
    """An OpenDocument spreadsheet written by odfpy, with typed cells (float, date, boolean, string)."""
    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                table_row.addElement(_ods_cell(value))
            table.addElement(table_row)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def write_csv(path: Path, rows: Rows) -> Path:
    """A table as UTF-8 CSV (the csv module: commas, CRLF); dates as ISO text, as a CSV export has them."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row])
    return path


def write_csv_lines(path: Path, lines: Sequence[str], encoding: str = "utf-8") -> Path:
    """A CSV written by hand: the lines exactly as given (any delimiter or quoting), CRLF line ends."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_any(path: Path, sheets: Sheets) -> Path:
    """`sheets` in the format `path`'s suffix names: .xls, .ods, .csv (one sheet) or else xlsx (xlsxwriter)."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        return write_xls(path, sheets)
    if suffix == ".ods":
        return write_ods(path, sheets)
    if suffix == ".csv":
        (rows,) = sheets.values()
        return write_csv(path, rows)
    return write_xlsx_xlsxwriter(path, sheets)


# -- reading outputs ---------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder`, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def as_datetime(value: Any) -> Any:
    """openpyxl reads every date back as a datetime: compare dates that way."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _trimmed(sheet: Any) -> list[list[Any]]:
    rows = []
    for row in sheet.iter_rows(values_only=True):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values as openpyxl (not the reader under test) reads them, trailing empty cells dropped."""
    book = openpyxl.load_workbook(path)
    try:
        return {sheet.title: _trimmed(sheet) for sheet in book.worksheets}
    finally:
        book.close()


def sheet_values(path: Path, sheet: str | int = 0) -> list[list[Any]]:
    """One sheet's values as openpyxl reads them, trailing empty cells and trailing empty rows dropped."""
    book = openpyxl.load_workbook(path)
    try:
        rows = _trimmed(book.worksheets[sheet] if isinstance(sheet, int) else book[sheet])
    finally:
        book.close()
    while rows and not rows[-1]:
        rows.pop()
    return rows
