"""The `split` task: cut one sheet into one file per distinct value of a column, or every N rows.

Outputs of `report.xlsx` go to `<subfolder>/report/<value>.xlsx` (or .csv), each with the header row
repeated above exactly the rows of that value; rows with no value go to `(blank)`. Values are compared
as the text they show (trimmed, case kept), as Excel's filter lists them. With `one_workbook`
the parts become sheets of one `<stem> - split.xlsx` instead. File and sheet names built from cell
values go through `safe_filename` / `safe_sheet_name` and are made unique (case-insensitively, as on
Windows), so a value such as `../x`, `C:\\evil` or `CON` can never leave the output folder.

The sheet is read once and its rows grouped in memory: one file at a time, which is fine for a sheet
that fits in Excel; then each group is written and released.
"""

from __future__ import annotations

import re
from typing import Any

from xlbatch import errors
from xlbatch.cost import WorkCost
from xlbatch.errors import TaskFailure
from xlbatch.fragment_writer import FragmentXlsxWriter
from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, Task
from xlbatch.tasks.combine import header_text, name_key
from xlbatch.tasks.convert import unique_file_name
from xlbatch.tasks.registry import register
from xlbatch.workbook import open_workbook, trim_row
from xlbatch.writing import EXCEL_MAX_COLS, CsvTableWriter

BLANK = "(blank)"
VALUES_LISTED = 50  # values named in the result; the report stays small whatever the column holds
VALUE_CHARS = 100  # and each of them cut to this length
MAX_PARTS = 10_000  # more parts than this is almost surely the wrong column (an ID), not a real split
PROGRESS_EVERY = 2000
_COLUMN_LETTERS = re.compile(r"^[A-Za-z]{1,3}$")


def column_index(letters: str) -> int | None:
    """0-based index of a column letter (A -> 0, AA -> 26), or None if not a column of an Excel sheet."""
    if not _COLUMN_LETTERS.match(letters):
        return None
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1 if index <= EXCEL_MAX_COLS else None


def value_label(value: Any) -> str:
    """A value as people read it; rows are grouped by it, as Excel's filter lists values by their text
    (so the number 2024 and the text "2024" go together), and files and sheets are named after it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return BLANK
    return header_text(value)


@register
class Split(Task):
    name = "split"
    title = "Split a sheet"
    description = (
        "Split one sheet into one file per distinct value of a column, or every N rows, with the header repeated."
    )
    kind = "cpu"
    # Reading, then writing the parts.
    cost = WorkCost(seconds_per_mb=0.6, seconds_per_file=0.003, lock_free=0.45)
    version = 1
    params = (
        common_params.sheet("The sheet to split: a name or a 1-based position."),
        Param(
            "by_column",
            "str",
            "",
            "Split by the values of this column: its header name or its letter (e.g. C).",
            label="By column",
        ),
        Param(
            "rows_per_file",
            "int",
            0,
            "Split every this many data rows instead (0 = off).",
            minimum=0,
            maximum=1_048_575,
            label="Rows per file",
        ),
        common_params.header_row("The row that holds the column names; rows above it are not copied.", maximum=None),
        Param(
            "one_workbook",
            "bool",
            False,
            "Write one workbook with a sheet per part instead of one file per part.",
            label="One workbook",
        ),
        common_params.output_format("The format of the parts."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        by_column = params["by_column"].strip()
        if bool(by_column) == bool(params["rows_per_file"]):
            raise InvalidParams(
                "Set exactly one of the parameters 'by_column' (a column to split by) and "
                "'rows_per_file' (a number of rows per file).",
                "by_column",
            )
        if params["one_workbook"] and params["output_format"] == "csv":
            raise InvalidParams(
                "Parameter 'one_workbook' needs output_format xlsx, because a CSV file has no sheets.",
                "one_workbook",
            )
        if not params["sheet"].strip():
            raise InvalidParams("Parameter 'sheet' needs a sheet name or a position.", "sheet")

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        header_row = params["header_row"]
        header: list[Any] | None = None
        data: list[list[Any]] = []
        blank = 0
        with open_workbook(source) as book:
            sheet = book.resolve_sheet(params["sheet"].strip())
            for number, row in enumerate(book.rows(sheet), start=1):
                if number % PROGRESS_EVERY == 0:
                    ctx.progress(0.0, f"{sheet}: reading row {number:,}")
                if number < header_row:
                    continue
                row = trim_row(row)
                if number == header_row:
                    header = row
                elif row:
                    data.append(row)
                else:
                    blank += 1
        if header is None:
            raise TaskFailure(
                errors.TASK_ERROR, f"Sheet '{sheet}' has fewer than {header_row} row(s), so it has no header row."
            )
        if blank:
            ctx.warn(f"{blank:,} blank row(s) were skipped.")
        if not data:
            ctx.warn(f"Sheet '{sheet}' has no data rows below the header, so there was nothing to split.")
            ctx.progress(1.0)
            return {"parts": 0, "rows": 0, "values": [], "blank_rows_skipped": blank}

        if params["by_column"].strip():
            column = self._find_column(params["by_column"].strip(), header)
            labels, groups = self._group_by_value(data, column)
        else:
            labels, groups = self._group_by_count(data, params["rows_per_file"])
        del data  # the groups hold the rows now
        if len(groups) > MAX_PARTS:
            raise TaskFailure(
                errors.TASK_ERROR,
                f"Splitting would make {len(groups):,} parts (more than {MAX_PARTS:,}); "
                "choose a column with fewer distinct values.",
            )
        rows = self._write(labels, groups, header, sheet, params, ctx)
        ctx.progress(1.0)
        return {
            "parts": len(labels),
            "rows": rows,
            "values": [v[:VALUE_CHARS] for v in labels[:VALUES_LISTED]],
            "blank_rows_skipped": blank,
        }

    @staticmethod
    def _find_column(wanted: str, header: list[Any]) -> int:
        """The 0-based position of a column given by header name (first) or by letter."""
        key = name_key(wanted)
        for position, value in enumerate(header):
            if name_key(header_text(value)) == key:
                return position
        position = column_index(wanted)
        if position is not None:
            return position
        names = ", ".join(f"'{header_text(v)}'" for v in header if header_text(v))
        raise TaskFailure(
            errors.TASK_ERROR,
            f"The sheet has no column named '{wanted}'; give a header name or a column letter.",
            f"headers: {names}",
        )

    @staticmethod
    def _group_by_value(data: list[list[Any]], column: int) -> tuple[list[str], list[list[list[Any]]]]:
        """Rows grouped by the column's value as text, groups in order of first appearance."""
        groups: dict[str, list[list[Any]]] = {}
        for row in data:
            label = value_label(row[column] if column < len(row) else None)
            group = groups.get(label)
            if group is None:
                group = groups[label] = []
            group.append(row)
        return list(groups), list(groups.values())

    @staticmethod
    def _group_by_count(data: list[list[Any]], size: int) -> tuple[list[str], list[list[list[Any]]]]:
        groups = [data[start : start + size] for start in range(0, len(data), size)]
        digits = len(str(len(groups)))  # zero-padded so the parts sort in order
        return [f"part {number:0{digits}d}" for number in range(1, len(groups) + 1)], groups

    def _write(
        self,
        labels: list[str],
        groups: list[list[list[Any]]],
        header: list[Any],
        sheet: str,
        params: dict[str, Any],
        ctx: FileContext,
    ) -> int:
        """Write every group with the header above it; return how many data rows were written."""
        written = 0
        if params["one_workbook"]:
            with (
                ctx.file_output(" - split.xlsx") as tmp,
                FragmentXlsxWriter(tmp) as writer,
            ):
                for number, (label, rows) in enumerate(zip(labels, groups, strict=True)):
                    ctx.progress(0.5 + 0.5 * number / len(groups), f"writing {label}")
                    writer.add_sheet(label, header)  # made a legal, unique sheet name by safe_sheet_name
                    writer.write_rows(rows)
                    written += len(rows)
                    groups[number] = []  # release the rows as soon as they are written
            for warning in writer.warnings:
                ctx.warn(warning)
            return written

        folder = f"{ctx.subfolder}/{ctx.output_stem}" if ctx.subfolder else ctx.output_stem
        fmt = params["output_format"]
        names: set[str] = set()
        for number, (label, rows) in enumerate(zip(labels, groups, strict=True)):
            ctx.progress(0.5 + 0.5 * number / len(groups), f"writing {label}")
            name = unique_file_name(label, f".{fmt}", names, fallback="(unnamed)")
            with ctx.output(name, folder) as tmp:
                if fmt == "csv":
                    with CsvTableWriter(tmp) as csv_writer:
                        csv_writer.write_row(header)
                        for row in rows:
                            csv_writer.write_row(row)
                else:
                    with FragmentXlsxWriter(tmp) as writer:
                        writer.add_sheet(sheet, header)
                        writer.write_rows(rows)
                    for warning in writer.warnings:
                        ctx.warn(warning)
            written += len(rows)
            groups[number] = []
        return written
