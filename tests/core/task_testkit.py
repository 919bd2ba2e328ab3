"""Shared helpers for the task tests: run a task on a few files the way a batch would, read outputs back.

Tasks are called directly (`process()` per file, then `reduce()`), without the batch runner, so each
task's tests depend only on the task and the core helpers it builds on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

from xlbatch.errors import TaskFailure
from xlbatch.file_notes import warnings_to
from xlbatch.outcome import FAILED, OK, FileOutcome
from xlbatch.preflight import sniff
from xlbatch.tasks.base import FileContext, OutputFolder, Task


class Run:
    """What a run produced: the outcomes, the batch folder after reduce, and every progress report."""

    def __init__(self, outcomes: list[FileOutcome], folder: OutputFolder, progress: list[tuple[float, str]]) -> None:
        self.outcomes = outcomes
        self.folder = folder
        self.progress = progress

    def outcome(self, name: str) -> FileOutcome:
        matches = [o for o in self.outcomes if Path(o.path).name == name]
        assert len(matches) == 1, f"expected one outcome for {name}, got {len(matches)}"
        return matches[0]


def run_task(
    task_cls: type[Task],
    paths: list[Path],
    raw_params: dict[str, Any],
    out_dir: Path,
    root: Path | None = None,
    reduce: bool = True,
) -> Run:
    """Validate `raw_params`, process each file in order, then reduce; failures become failed outcomes."""
    params = task_cls.validate(raw_params)
    task = task_cls()
    inputs = frozenset(str(Path(p).resolve()) for p in paths)
    progress: list[tuple[float, str]] = []
    outcomes: list[FileOutcome] = []
    for index, path in enumerate(paths):
        rel = Path(os.path.relpath(path, root)).as_posix() if root else Path(path).name
        ctx = FileContext(
            sniff(path, rel), out_dir, inputs, report=lambda fraction, message: progress.append((fraction, message))
        )
        try:
            with warnings_to(ctx.warn):  # as xlbatch.worker runs a task: the reader's warnings are the file's
                result = task.process(ctx.source, params, ctx)
        except TaskFailure as exc:
            outcomes.append(FileOutcome(index, str(path), FAILED, warnings=list(ctx.warnings), error=exc.error))
            continue
        outcomes.append(
            FileOutcome(index, str(path), OK, outputs=list(ctx.outputs), warnings=list(ctx.warnings), result=result)
        )
    folder = OutputFolder(out_dir, inputs)
    if reduce:
        task.reduce(outcomes, params, folder)
    return Run(outcomes, folder, progress)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sheet_values(path: Path, sheet: str | int = 0) -> list[list[Any]]:
    """A sheet's values read back with openpyxl (not the reader under test), trailing blanks trimmed."""
    book = openpyxl.load_workbook(path)
    try:
        ws = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
        rows = [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def save_rows(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write `sheets` (name -> rows) to a new xlsx with openpyxl; text starting with '=' is stored as text."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = ws.cell(r, c, value)
                if isinstance(value, str):
                    cell.data_type = "s"
    book.save(path)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write `sheets` with xlsxwriter, which stores text as shared strings exactly as given, like Excel.

    (openpyxl writes inline strings, and readers drop a cell that holds only spaces that way.)
    """
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
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


def write_xls(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """The same table as a legacy .xls (xlwt); dates get a date format so readers see dates."""
    import xlwt

    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
    book.save(str(path))
    return path


def write_ods(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """The same table as an OpenDocument spreadsheet (odfpy), with typed numbers, booleans and dates."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if value is None:
                    cell = TableCell()
                elif isinstance(value, bool):
                    cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
                    cell.addElement(P(text="TRUE" if value else "FALSE"))
                elif isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=value)
                    cell.addElement(P(text=str(value)))
                elif isinstance(value, dt.date):
                    cell = TableCell(valuetype="date", datevalue=value.isoformat())
                    cell.addElement(P(text=value.isoformat()))
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    """The same table as UTF-8 CSV; dates as ISO text, as a CSV export would have them."""
    import csv

    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row])
    return path


def write_any(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write `sheets` in the format named by `path`'s suffix (.xlsx, .xls, .ods, or .csv for one sheet)."""
    suffix = path.suffix.lower()
    if suffix == ".xls":
        return write_xls(path, sheets)
    if suffix == ".ods":
        return write_ods(path, sheets)
    if suffix == ".csv":
        (rows,) = sheets.values()
        return write_csv(path, rows)
    return write_xlsx(path, sheets)
