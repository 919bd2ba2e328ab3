"""The `summarize` task: what is in each workbook, per sheet and per column, and one summary.xlsx.

Per sheet: the last used row and column (1-based, as Excel numbers them), how many cells hold a value,
how many hold a number (not booleans, not dates) and their sum. Per column, taking the first non-empty
row as the header: the type, count, blanks, distinct values, min, max and mean. Formula cells count by
their cached values. The batch writes `summary.xlsx` with the sheets Files, Sheets and Columns, laid out
for reading: fitted columns, a filtered header, each file's name linked to it, failed files tinted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlbatch.cost import WorkCost
from xlbatch.outcome import FAILED, FileOutcome
from xlbatch.preflight import SourceFile
from xlbatch.report_layout import COUNT, FILE, MEASURE, TEXT, VALUE
from xlbatch.tables import TableKeeper
from xlbatch.tasks.base import FileContext, OutputFolder, Task
from xlbatch.tasks.registry import register
from xlbatch.tasks.sheet_stats import summarize_sheet
from xlbatch.workbook import open_workbook
from xlbatch.writing import XlsxTableWriter

SUMMARY_NAME = "summary.xlsx"
# The summary's sheets: each column's header and what it holds (how xlbatch.report_layout shows it).
FILES_COLUMNS = (
    ("File", FILE),
    ("Folder", TEXT),
    ("Status", TEXT),
    ("Sheets", COUNT),
    ("Rows", COUNT),
    ("Non-empty cells", COUNT),
    ("Numeric cells", COUNT),
    ("Numeric sum", MEASURE),
    ("Time", TEXT),  # a duration
    ("Problem", TEXT),
    ("Message", TEXT),
    ("Warnings", TEXT),
)
SHEETS_COLUMNS = (
    ("File", FILE),
    ("Sheet", TEXT),
    ("Rows", COUNT),
    ("Columns", COUNT),
    ("Non-empty cells", COUNT),
    ("Numeric cells", COUNT),
    ("Numeric sum", MEASURE),
)
COLUMNS_COLUMNS = (
    ("File", FILE),
    ("Sheet", TEXT),
    ("Column", TEXT),
    ("Header", TEXT),
    ("Type", TEXT),
    ("Count", COUNT),
    ("Blanks", COUNT),
    ("Distinct", COUNT),
    ("Min", VALUE),  # one row per column of every file: a format per cell
    ("Max", VALUE),
    ("Mean", VALUE),
)


def _row_progress(
    ctx: FileContext, sheet: str, start: float, share: float, height: int | None
) -> Callable[[int], None]:
    """Progress within one sheet of a workbook: `start` is where the sheet begins, `share` its part of 0..1."""

    def report(done: int) -> None:
        within = min(done / height, 1.0) if height else 0.0
        ctx.progress(start + within * share, f"{sheet}: row {done:,}")

    return report


@register
class Summarize(Task):
    name = "summarize"
    title = "Summarize workbooks"
    description = "Count rows, columns, values and numbers in every sheet, with column statistics, in one summary.xlsx."
    kind = "cpu"
    # Reading (in Rust, outside Python's lock) is most of the work; the column statistics loop in C.
    cost = WorkCost(seconds_per_mb=0.3, seconds_per_file=0.0023, lock_free=0.8)
    version = 1
    params = ()

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        sheets: list[dict[str, Any]] = []
        columns: list[dict[str, Any]] = []
        with open_workbook(source) as book:
            names = book.sheet_names
            share = 1 / max(len(names), 1)
            for position, sheet in enumerate(names):
                ctx.progress(position * share, f"sheet {sheet}")
                raw = book.raw_rows(sheet)
                on_rows = _row_progress(ctx, sheet, position * share, share, raw.height)
                record, column_records = summarize_sheet(raw.rows, sheet, raw.first_column, on_rows)
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
        with out.output(SUMMARY_NAME) as tmp, XlsxTableWriter(tmp, constant_memory=False) as writer:
            book = TableKeeper(writer, out.keep_table)  # the sheets are also report.tables' Files, Sheets, Columns
            book.add_sheet("Files", [name for name, _kind in FILES_COLUMNS], [kind for _name, kind in FILES_COLUMNS])
            for o in outcomes:
                book.write_row(_file_row(o), link=o.path, failed=o.status == FAILED)
            book.add_sheet("Sheets", [name for name, _kind in SHEETS_COLUMNS], [kind for _name, kind in SHEETS_COLUMNS])
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
                        ],
                        link=o.path,
                    )
            book.add_sheet(
                "Columns", [name for name, _kind in COLUMNS_COLUMNS], [kind for _name, kind in COLUMNS_COLUMNS]
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
                            _shown(c["min"], c["type"]),
                            _shown(c["max"], c["type"]),
                            c["mean"],
                        ],
                        link=o.path,
                    )


def _file_row(o: FileOutcome) -> list[Any]:
    """One file's row of the Files sheet; the time it took is a duration (Excel shows 0:00:01.234)."""
    sheets = o.result.get("sheets", []) if o.result else []
    return [
        Path(o.path).name,
        str(Path(o.path).parent),
        o.status,
        len(sheets) if sheets else None,
        sum(s["rows"] for s in sheets) if sheets else None,
        sum(s["non_empty_cells"] for s in sheets) if sheets else None,
        sum(s["numeric_cells"] for s in sheets) if sheets else None,
        sum(s["numeric_sum"] for s in sheets) if sheets else None,
        dt.timedelta(seconds=round(o.seconds, 3)),
        o.error.kind if o.error else (o.reason or None),
        o.error.message if o.error else None,
        "; ".join(o.warnings) or None,
    ]


def _shown(value: Any, column_type: str) -> Any:
    """A date column's min or max as a date for the sheet (the result keeps ISO text for report.json)."""
    if column_type != "date" or not isinstance(value, str):
        return value
    try:
        if ":" in value and "-" not in value:
            return dt.time.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.date() if moment.time() == dt.time() else moment
