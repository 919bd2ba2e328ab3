"""Shared test utilities for task tests: tiny workbook builders for every input format, and a way to
run a task over files directly (process per file, then reduce) without the batch runner.

Results cross a JSON round trip before `reduce()` sees them, as they would crossing a process
boundary into a report, so a task cannot rely on handing objects from its workers to its reducer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from xlbatch.errors import TaskFailure
from xlbatch.file_notes import warnings_to
from xlbatch.outcome import FAILED, OK, FileOutcome
from xlbatch.preflight import sniff
from xlbatch.tasks.base import FileContext, OutputFolder, Task

Sheets = dict[str, Sequence[Sequence[Any]]]

# -- builders ----------------------------------------------------------------------------------------


def write_xlsx(path: Path, sheets: Sheets) -> Path:
    """An .xlsx written by openpyxl; text starting with '=' is stored as text, not as a formula."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = sheet.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
    book.save(path)
    return path


def write_xls(path: Path, sheets: Sheets) -> Path:
    """An .xls written by xlwt, with date formats on date cells so readers see dates."""
    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    datetime_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write(r, c, value, datetime_style)
                elif isinstance(value, dt.date):
                    sheet.write(r, c, value, date_style)
                else:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def _ods_cell(value: Any) -> TableCell:
    if value is None:
        return TableCell()
    if isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
    elif isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=str(value))
    elif isinstance(value, dt.date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat())
    else:
        cell = TableCell(valuetype="string")
    cell.addElement(P(text=str(value)))
    return cell


def write_ods(path: Path, sheets: Sheets) -> Path:
    """An .ods written by odfpy with typed cells (float, date, boolean, string)."""
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


def write_csv(path: Path, lines: Sequence[str], encoding: str = "utf-8") -> Path:
    """A CSV written by hand: the lines as given, CRLF line ends."""
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def as_datetime(value: Any) -> Any:
    """openpyxl reads every date back as a datetime: compare dates that way."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def read_xlsx(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values as openpyxl reads them, trailing empty cells dropped."""
    book = openpyxl.load_workbook(path)
    try:
        sheets = {}
        for sheet in book.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                values = list(row)
                while values and values[-1] is None:
                    values.pop()
                rows.append(values)
            sheets[sheet.title] = rows
        return sheets
    finally:
        book.close()


# -- running a task ----------------------------------------------------------------------------------


def run_task(
    task_cls: type[Task],
    paths: Sequence[Path],
    raw: dict[str, Any] | None,
    out_dir: Path,
    root: Path | None = None,
    report: Callable[[float, str], None] | None = None,
) -> tuple[list[FileOutcome], OutputFolder]:
    """Validate `raw`, process every file in order, then reduce; like a sequential batch would."""
    params = task_cls.validate(raw)
    task = task_cls()
    inputs = frozenset(str(Path(p).resolve()) for p in paths)
    outcomes: list[FileOutcome] = []
    for index, path in enumerate(paths):
        rel = Path(path).relative_to(root).as_posix() if root else Path(path).name
        try:
            source = sniff(path, rel)
            ctx = FileContext(source, out_dir, inputs, report=report)
            with warnings_to(ctx.warn):  # as xlbatch.worker runs a task: the reader's warnings are the file's
                result = task.process(source, params, ctx)
        except TaskFailure as failure:
            outcomes.append(FileOutcome(index, str(path), FAILED, error=failure.error))
            continue
        result = json.loads(json.dumps(result))  # must be JSON-able, and arrives in the parent as a copy
        outcomes.append(FileOutcome(index, str(path), OK, outputs=ctx.outputs, warnings=ctx.warnings, result=result))
    out = OutputFolder(out_dir, inputs)
    task.reduce(outcomes, params, out)
    return outcomes, out


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
