"""What the extract field builder needs without any widget: a sample workbook's sheets read through the
engine's reader, a table model of one sheet, the field text a picked cell becomes, and what each field
extracts from the sample.

The sample is checked and read exactly as a batch reads a file (`xlbatch.preflight.sniff`, then
`xlbatch.workbook.open_workbook`), so the grid shows the values the task will see. A picked cell
becomes `Name=Sheet!B2`; a picked label becomes `Name=label:Text` (the value to its right, or below it).
The values under "Value in the sample" come from `xlbatch.tasks.extract.extract_fields`, the function
the task itself runs: the preview and the batch cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from xlbatch.cell_refs import column_letters
from xlbatch.errors import TaskFailure, classify
from xlbatch.params import InvalidParams
from xlbatch.preflight import SourceFile, sniff
from xlbatch.tasks.extract import extract_fields, normalise_label, parse_field
from xlbatch.workbook import CellValue, open_workbook

MAX_ROWS = 300  # of each sheet shown: a form's fields are near its top
MAX_COLUMNS = 60
_PLAIN_SHEET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")  # a sheet name needing no quotes
# The field list is one text of comma-separated fields, and `=` ends a field's name.
_NOT_IN_NAMES = re.compile(r"[,=]")

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class SampleSheet:
    name: str
    rows: list[list[CellValue]]  # at most MAX_ROWS x MAX_COLUMNS, row 1 first
    cut: bool  # the sheet has more rows or columns than shown


@dataclass(frozen=True)
class Sample:
    source: SourceFile
    sheets: list[SampleSheet]


class SampleError(Exception):
    """The sample cannot be read; the message says why in plain words."""


def read_sample(path: str | Path) -> Sample:
    """Check and read a sample workbook's sheets (the first rows and columns of each)."""
    try:
        source = sniff(path)
        sheets = []
        with open_workbook(source) as book:
            for name in book.sheet_names:
                rows = list(itertools.islice(book.rows(name), MAX_ROWS + 1))
                cut = len(rows) > MAX_ROWS or any(len(r) > MAX_COLUMNS for r in rows)
                sheets.append(SampleSheet(name, [r[:MAX_COLUMNS] for r in rows[:MAX_ROWS]], cut))
    except TaskFailure as exc:
        raise SampleError(exc.error.message) from exc
    except Exception as exc:  # noqa: BLE001 - whatever the reader raises is said in plain words
        raise SampleError(classify(exc).message) from exc
    if not sheets:
        raise SampleError("The workbook has no sheets with cells.")
    return Sample(source, sheets)


def cell_text(value: CellValue) -> str:
    """A cell as the grid shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:,.10g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def sheet_reference(sheet: str) -> str:
    """The sheet as a field names it: quoted as Excel quotes it when it has spaces or signs."""
    return sheet if _PLAIN_SHEET.match(sheet) else "'" + sheet.replace("'", "''") + "'"


def clean_name(text: str) -> str:
    """A field name from a label's text: no trailing colon, no commas or equals signs, one line."""
    name = _NOT_IN_NAMES.sub(" ", " ".join(str(text).split())).strip()
    return name.rstrip(":").strip()


def suggest_name(rows: list[list[CellValue]], row: int, column: int) -> str:
    """A name for the cell at (row, column), 0-based: the text right beside it (left, then above: a form's
    label, a table's heading), else the nearest text left of it in its row, then above it in its column,
    else the cell's reference (B2)."""

    def text_at(r: int, c: int) -> str:
        value = rows[r][c] if 0 <= r < len(rows) and 0 <= c < len(rows[r]) else None
        return clean_name(value) if isinstance(value, str) else ""

    beside = [(row, column - 1), (row - 1, column)]
    left = [(row, c) for c in range(column - 2, -1, -1)]
    above = [(r, column) for r in range(row - 2, -1, -1)]
    for r, c in (*beside, *left, *above):
        if text_at(r, c):
            return text_at(r, c)
    return f"{column_letters(column + 1)}{row + 1}"


def cell_field(name: str, sheet: str, row: int, column: int) -> str:
    """`Name=Sheet!B2` for the cell at (row, column), 0-based; raises ValueError for a sheet name the field
    list cannot hold (a comma)."""
    if "," in sheet:
        raise ValueError(f"The sheet name '{sheet}' has a comma, which the list of fields cannot hold.")
    return f"{name}={sheet_reference(sheet)}!{column_letters(column + 1)}{row + 1}"


def label_field(name: str, label: str) -> str:
    """`Name=label:Text` for a label cell; raises ValueError for a label the field list cannot hold."""
    text = " ".join(label.split())
    if not normalise_label(text):
        raise ValueError("Pick a cell with text in it: the label next to the value.")
    if "," in text:
        raise ValueError(f"The label '{text}' has a comma, which the list of fields cannot hold; pick the value cell.")
    return f"{name}=label:{text}"


@dataclass(frozen=True)
class FieldPreview:
    field: str  # as typed: Name=WHERE
    name: str
    where: str
    value: str  # what the field extracts from the sample, as text ("" when nothing)
    problem: str  # why it extracts nothing (or why the field is wrong), else ""


class _Recorder:
    """Takes the progress and warnings extract_fields reports (the preview shows its own words)."""

    def progress(self, fraction: float, message: str = "") -> None:
        pass

    def warn(self, text: str) -> None:
        pass


def preview_fields(source: SourceFile, fields: list[str]) -> list[FieldPreview]:
    """What each field extracts from the sample, read by the extract task's own function."""
    previews: list[FieldPreview | None] = []
    specs = []
    for text in fields:
        try:
            specs.append(parse_field(text))
            previews.append(None)
        except InvalidParams as exc:
            name, _sep, where = text.partition("=")
            previews.append(FieldPreview(text, name.strip(), where.strip(), "", str(exc).split(": ", 1)[-1]))
    try:
        values, why = extract_fields(source, specs, _Recorder()) if specs else ({}, {})
    except Exception as exc:  # noqa: BLE001 - a sample the task could not read either
        values, why = {}, {spec.name: classify(exc).message for spec in specs}
    found = iter(specs)
    result = []
    for text, ready in zip(fields, previews, strict=True):
        if ready is not None:
            result.append(ready)
            continue
        spec = next(found)
        value = values.get(spec.name)
        where = text.partition("=")[2].strip()
        problem = "" if value is not None else why.get(spec.name, "Not found.").removeprefix(f"Field '{spec.name}': ")
        result.append(FieldPreview(text, spec.name, where, cell_text(value), problem))
    return result


class SheetModel(QAbstractTableModel):
    """One sample sheet as a grid: columns A, B, C…, rows 1, 2, 3…, cells as text."""

    def __init__(self, sheet: SampleSheet | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.sheet = sheet
        self._columns = max((len(r) for r in sheet.rows), default=0) if sheet else 0

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() or self.sheet is None else len(self.sheet.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._columns

    def value(self, row: int, column: int) -> CellValue:
        line = self.sheet.rows[row] if self.sheet is not None and row < len(self.sheet.rows) else []
        return line[column] if column < len(line) else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        text = cell_text(self.value(index.row(), index.column()))
        if role == Qt.ItemDataRole.ToolTipRole:
            ref = f"{column_letters(index.column() + 1)}{index.row() + 1}"
            return f"{ref}: {text}" if text else ref
        return text

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return column_letters(section + 1) if orientation == Qt.Orientation.Horizontal else str(section + 1)
