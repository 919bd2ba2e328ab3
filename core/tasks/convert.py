"""The `convert` task: turn each workbook into a clean .xlsx, or each of its sheets into a CSV file.

To xlsx: one `<stem>.xlsx` per input with every chosen sheet, values only (formulas become their cached
values), numbers as numbers, dates as dates, text as text (never a live formula). An input that is
already .xlsx still gets a values-only copy. To CSV: one file per chosen sheet, `<stem>.csv` when one
sheet is written and `<stem> - <sheet>.csv` otherwise, in the chosen delimiter and encoding, values
that a spreadsheet would run as a formula neutralised.

CSV inputs hold only text; the reader types them column by column (xlbatch.csv_types), so numbers and
dates of a consistent column are numbers and dates in the xlsx, and a mixed column stays text with a warning.
"""

from __future__ import annotations

from typing import Any

from xlbatch.cost import WorkCost
from xlbatch.fragment_writer import FragmentXlsxWriter
from xlbatch.params import Param
from xlbatch.preflight import SourceFile
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, Task
from xlbatch.tasks.registry import register
from xlbatch.workbook import open_workbook
from xlbatch.writing import EXCEL_MAX_COLS, CsvTableWriter, safe_filename

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}
PROGRESS_EVERY = 2000  # rows between progress reports: a live bar without flooding the pipe
# Room left in a file name for " (2)" and the suffix: safe_filename cuts at 120 characters.
NAME_ROOM = 100

def unique_file_name(base: str, suffix: str, taken: set[str], fallback: str = "blank") -> str:
    """`base` made safe plus `suffix`, unique case-insensitively (Windows file names ignore case)."""
    stem = safe_filename(base, fallback=fallback, max_length=NAME_ROOM)
    candidate, counter = f"{stem}{suffix}", 2
    while candidate.lower() in taken:
        candidate = f"{stem} ({counter}){suffix}"
        counter += 1
    taken.add(candidate.lower())
    return candidate


@register
class Convert(Task):
    name = "convert"
    title = "Convert workbooks"
    description = (
        "Save each workbook as a values-only .xlsx (from xls, xlsb, ods, csv or xlsx), "
        "or each of its sheets as a CSV file."
    )
    kind = "cpu"
    # Writing the xlsx (pure Python) is most of the work.
    cost = WorkCost(seconds_per_mb=2.5, seconds_per_file=0.0065, lock_free=0.15)
    version = 1
    params = (
        Param("to", "choice", "xlsx", "The format to convert to.", choices=("xlsx", "csv"), label="Convert to"),
        common_params.sheets("Sheets to take, by name or 1-based position (comma-separated); empty means every sheet."),
        Param(
            "delimiter",
            "choice",
            "comma",
            "Field separator for CSV output.",
            choices=tuple(DELIMITERS),
        ),
        Param(
            "encoding",
            "choice",
            "utf-8-sig",
            "Text encoding for CSV output; utf-8-sig (UTF-8 with BOM) lets Excel show accents correctly.",
            choices=("utf-8-sig", "utf-8", "cp1252"),
        ),
    )

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        with open_workbook(source) as book:
            sheets: list[str] = []
            for wanted in params["sheets"] or book.sheet_names:
                name = book.resolve_sheet(wanted)  # a missing sheet fails this file with a plain sentence
                if name not in sheets:
                    sheets.append(name)
            if params["to"] == "xlsx":
                rows, outputs = self._to_xlsx(book, sheets, ctx)
            else:
                rows, outputs = self._to_csv(book, sheets, params, ctx)
        ctx.progress(1.0)
        return {"sheets": len(sheets), "rows": rows, "outputs": outputs}

    @staticmethod
    def _rows(book: Any, sheet: str, position: int, count: int, ctx: FileContext) -> Any:
        """The sheet's rows, with progress reports."""
        for number, row in enumerate(book.rows(sheet), start=1):
            if number % PROGRESS_EVERY == 0:
                ctx.progress(position / count, f"{sheet}: row {number:,}")
            yield row

    def _to_xlsx(self, book: Any, sheets: list[str], ctx: FileContext) -> tuple[int, int]:
        total = 0
        with ctx.file_output(".xlsx") as tmp, FragmentXlsxWriter(tmp) as writer:
            for position, sheet in enumerate(sheets):
                ctx.progress(position / len(sheets), f"sheet {sheet}")
                writer.add_sheet(sheet)  # a name Excel forbids is changed, with a warning from the writer
                written = 0
                too_wide = False
                for row in self._rows(book, sheet, position, len(sheets), ctx):
                    if len(row) > EXCEL_MAX_COLS and any(v is not None for v in row[EXCEL_MAX_COLS:]):
                        too_wide = True
                    writer.write_row(row)
                    written += 1
                if too_wide:
                    ctx.warn(
                        f"Sheet '{sheet}' has more than {EXCEL_MAX_COLS:,} columns; "
                        "only the first ones fit in an Excel sheet."
                    )
                if written == 0:
                    ctx.warn(f"Sheet '{sheet}' is empty; it was written as an empty sheet.")
                total += written
        for warning in writer.warnings:
            ctx.warn(warning)
        return total, 1

    def _to_csv(self, book: Any, sheets: list[str], params: dict[str, Any], ctx: FileContext) -> tuple[int, int]:
        delimiter = DELIMITERS[params["delimiter"]]
        encoding = params["encoding"]
        stem = ctx.output_stem
        taken: set[str] = set()
        total = 0
        for position, sheet in enumerate(sheets):
            ctx.progress(position / len(sheets), f"sheet {sheet}")
            base = stem if len(sheets) == 1 else f"{stem} - {sheet}"
            name = unique_file_name(base, ".csv", taken)
            written = 0
            lossy = False
            with ctx.output(name, ctx.subfolder) as tmp, CsvTableWriter(tmp, delimiter, encoding) as writer:
                for row in self._rows(book, sheet, position, len(sheets), ctx):
                    if encoding == "cp1252" and not lossy:
                        lossy = not _fits_cp1252(row)
                    writer.write_row(row)
                    written += 1
            if lossy:
                ctx.warn(
                    f"Sheet '{sheet}' has characters that cp1252 cannot store; they were written as '?' "
                    "(choose utf-8-sig to keep them)."
                )
            if written == 0:
                ctx.warn(f"Sheet '{sheet}' is empty; it was written as an empty CSV file.")
            total += written
        return total, len(sheets)


def _fits_cp1252(row: list[Any]) -> bool:
    for value in row:
        if isinstance(value, str):
            try:
                value.encode("cp1252")
            except UnicodeEncodeError:
                return False
    return True
