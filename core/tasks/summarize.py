"""The `summarize` task: what is in each workbook, per sheet and per column, and one summary.xlsx.

Per sheet: the last used row and column (1-based, as Excel numbers them), how many cells hold a value,
how many hold a number (not booleans, not dates) and their sum. Per column, taking the first non-empty
row as the header: the type, count, blanks, distinct values, min, max and mean. Formula cells count by
their cached values. The batch writes `summary.xlsx` with the sheets Files, Sheets and Columns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.outcome import FileOutcome
from core.preflight import SourceFile
from core.tasks.base import FileContext, OutputFolder, Task
from core.tasks.registry import register
from core.workbook import is_date, is_number, open_workbook
from core.writing import XlsxTableWriter

SUMMARY_NAME = "summary.xlsx"
# Distinct values are counted exactly up to this many per column, to bound memory on huge sheets.
DISTINCT_LIMIT = 1_000_000


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if is_number(value):
        return "number"
    if is_date(value):
        return "date"
    return "text"


@dataclass
class _ColumnStats:
    header: Any
    count: int = 0
    kinds: set[str] = field(default_factory=set)
    distinct: set[Any] = field(default_factory=set)
    distinct_capped: bool = False
    minimum: Any = None
    maximum: Any = None
    total: float = 0.0
    numbers: int = 0
    dates_min: Any = None
    dates_max: Any = None

    def add(self, value: Any) -> None:
        self.count += 1
        kind = _kind_of(value)
        self.kinds.add(kind)
        if not self.distinct_capped:
            self.distinct.add((kind, value))
            if len(self.distinct) >= DISTINCT_LIMIT:
                self.distinct_capped = True
        if kind == "number":
            self.numbers += 1
            self.total += value
            self.minimum = value if self.minimum is None else min(self.minimum, value)
            self.maximum = value if self.maximum is None else max(self.maximum, value)
        elif kind == "date":
            key = (
                value
                if isinstance(value, dt.datetime)
                else (dt.datetime.combine(value, dt.time()) if isinstance(value, dt.date) else None)
            )
            if key is not None:
                if self.dates_min is None or key < self.dates_min[0]:
                    self.dates_min = (key, value)
                if self.dates_max is None or key > self.dates_max[0]:
                    self.dates_max = (key, value)

    def to_dict(self, sheet: str, position: int, data_rows: int) -> dict[str, Any]:
        kinds = self.kinds
        col_type = "empty" if not kinds else (next(iter(kinds)) if len(kinds) == 1 else "mixed")
        if col_type == "number" or (col_type == "mixed" and self.numbers):
            low, high = self.minimum, self.maximum
        elif col_type == "date":
            low = self.dates_min[1].isoformat() if self.dates_min else None
            high = self.dates_max[1].isoformat() if self.dates_max else None
        else:
            low = high = None
        return {
            "sheet": sheet,
            "column": column_letter(position),
            "header": None if self.header is None else str(self.header),
            "type": col_type,
            "count": self.count,
            "blanks": max(0, data_rows - self.count),
            "distinct": len(self.distinct),
            "min": low,
            "max": high,
            "mean": (self.total / self.numbers) if self.numbers else None,
        }


def summarize_rows(
    rows: Any, sheet: str, total_rows: int | None = None, ctx: FileContext | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Summarise one sheet's rows: the sheet record and its column statistics."""
    last_row = last_col = non_empty = numeric = 0
    numeric_sum = 0.0
    header_row: int | None = None
    columns: dict[int, _ColumnStats] = {}
    for row_number, row in enumerate(rows, start=1):
        if ctx is not None and row_number % 2000 == 0:
            ctx.progress(row_number / total_rows if total_rows else 0.0, f"{sheet}: row {row_number:,}")
        row_has_value = False
        for col_number, value in enumerate(row, start=1):
            if value is None:
                continue
            row_has_value = True
            non_empty += 1
            if col_number > last_col:
                last_col = col_number
            if is_number(value):
                numeric += 1
                numeric_sum += value
            if header_row is not None:
                stats = columns.get(col_number)
                if stats is None:
                    stats = columns[col_number] = _ColumnStats(header=None)
                stats.add(value)
        if row_has_value:
            last_row = row_number
            if header_row is None:
                header_row = row_number
                for col_number, value in enumerate(row, start=1):
                    if value is not None:
                        columns[col_number] = _ColumnStats(header=value)
    data_rows = (last_row - header_row) if header_row is not None else 0
    sheet_record = {
        "name": sheet,
        "rows": last_row,
        "columns": last_col,
        "non_empty_cells": non_empty,
        "numeric_cells": numeric,
        "numeric_sum": numeric_sum,
    }
    column_records = [columns[c].to_dict(sheet, c, data_rows) for c in sorted(columns)]
    return sheet_record, column_records


@register
class Summarize(Task):
    name = "summarize"
    title = "Summarize workbooks"
    description = "Count rows, columns, values and numbers in every sheet, with column statistics, in one summary.xlsx."
    kind = "cpu"
    version = 1
    params = ()

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        sheets: list[dict[str, Any]] = []
        columns: list[dict[str, Any]] = []
        with open_workbook(source) as book:
            names = book.sheet_names
            for position, sheet in enumerate(names):
                ctx.progress(position / max(len(names), 1), f"sheet {sheet}")
                record, column_records = summarize_rows(book.rows(sheet), sheet, None, ctx)
                merged = book.merged_ranges(sheet)
                if merged:
                    ctx.warn(
                        f"Sheet '{sheet}' has {merged} merged cell range(s); only the top-left cell of each "
                        "holds a value."
                    )
                sheets.append(record)
                columns.extend(column_records)
        if not any(s["non_empty_cells"] for s in sheets):
            ctx.warn("The workbook has no values in any sheet.")
        ctx.progress(1.0)
        return {"sheets": sheets, "columns": columns}

    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        with out.output(SUMMARY_NAME) as tmp, XlsxTableWriter(tmp, constant_memory=False) as book:
            book.add_sheet(
                "Files",
                [
                    "File",
                    "Folder",
                    "Status",
                    "Sheets",
                    "Rows",
                    "Non-empty cells",
                    "Numeric cells",
                    "Numeric sum",
                    "Seconds",
                    "Problem",
                    "Message",
                    "Warnings",
                ],
            )
            for o in outcomes:
                sheets = o.result.get("sheets", []) if o.result else []
                book.write_row(
                    [
                        Path(o.path).name,
                        str(Path(o.path).parent),
                        o.status,
                        len(sheets) if sheets else None,
                        sum(s["rows"] for s in sheets) if sheets else None,
                        sum(s["non_empty_cells"] for s in sheets) if sheets else None,
                        sum(s["numeric_cells"] for s in sheets) if sheets else None,
                        sum(s["numeric_sum"] for s in sheets) if sheets else None,
                        round(o.seconds, 3),
                        o.error.kind if o.error else (o.reason or None),
                        o.error.message if o.error else None,
                        "; ".join(o.warnings) or None,
                    ]
                )
            book.add_sheet(
                "Sheets", ["File", "Sheet", "Rows", "Columns", "Non-empty cells", "Numeric cells", "Numeric sum"]
            )
            for o in outcomes:
                for s in (o.result or {}).get("sheets", []):
                    book.write_row(
                        [
                            Path(o.path).name,
                            s["name"],
                            s["rows"],
                            s["columns"],
                            s["non_empty_cells"],
                            s["numeric_cells"],
                            s["numeric_sum"],
                        ]
                    )
            book.add_sheet(
                "Columns",
                ["File", "Sheet", "Column", "Header", "Type", "Count", "Blanks", "Distinct", "Min", "Max", "Mean"],
            )
            for o in outcomes:
                for c in (o.result or {}).get("columns", []):
                    book.write_row(
                        [
                            Path(o.path).name,
                            c["sheet"],
                            c["column"],
                            c["header"],
                            c["type"],
                            c["count"],
                            c["blanks"],
                            c["distinct"],
                            c["min"],
                            c["max"],
                            c["mean"],
                        ]
                    )
