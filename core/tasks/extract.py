"""The `extract` task: pull named fields out of form-style workbooks (invoices, timesheets) into one table.

Each field is `Name=WHERE`, given in the list parameter `fields`, where WHERE is one of:
- a cell: `Sheet1!B2`, `'My sheet'!B2` (quotes as Excel writes them, `''` for a quote inside), or
  `B2` for the first sheet; `$` markers are allowed;
- a defined name: `@InvoiceTotal`, looked up in the workbook's defined names (xlsx and xlsm only; the
  value is the cell's stored value, read like every other cell);
- a label: `label:Total:` finds the first cell, sheet by sheet and row by row, whose text is the label
  (ignoring case, surrounding spaces and a trailing colon) and takes the first value to its right in the
  same row, or failing that the first value below it in the same column, because real forms drift by
  a row or a column from one copy to the next.

A field that cannot be found is an empty cell plus a warning, never a failed file. The batch writes
`extracted.xlsx` (or `extracted.csv`): a Source file column, then one column per field in the order
given, one row per file that was read, values typed (dates stay dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from xlbatch.cell_refs import column_number
from xlbatch.cost import WorkCost
from xlbatch.outcome import OK, FileOutcome
from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.report_layout import AUTO, FILE
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, OutputFolder, Task
from xlbatch.tasks.registry import register
from xlbatch.workbook import CellValue, WorkbookReader, open_workbook
from xlbatch.writing import EXCEL_MAX_COLS, EXCEL_MAX_ROWS, CsvTableWriter, XlsxTableWriter

OUTPUT_STEM = "extracted"
SOURCE_COLUMN = "Source file"
PROGRESS_EVERY = 2000

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_NAME = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.\\?]*$")


def parse_cell(text: str) -> tuple[int, int] | None:
    """(row, column), both 1-based, from "B2" or "$B$2"; None if it is not a single cell inside Excel's grid."""
    match = _CELL.match(text.strip())
    if not match:
        return None
    row, col = int(match.group(2)), column_number(match.group(1))
    if not (1 <= row <= EXCEL_MAX_ROWS and 1 <= col <= EXCEL_MAX_COLS):
        return None
    return row, col


def normalise_label(text: str) -> str:
    """The form of a label used for matching: spaces collapsed, case folded, trailing colon dropped."""
    text = " ".join(str(text).split()).casefold()
    if text.endswith(":"):
        text = text[:-1].rstrip()
    return text


@dataclass(frozen=True)
class FieldSpec:
    """One field to extract: where it is, as parsed from `Name=WHERE`."""

    name: str
    kind: str  # "cell", "name" or "label"
    sheet: str | None = None  # for "cell": None means the first sheet
    row: int = 0
    column: int = 0
    target: str = ""  # the defined name, or the label as typed

    @property
    def label_key(self) -> str:
        return normalise_label(self.target)


def parse_field(spec: str) -> FieldSpec:
    """Parse `Name=Sheet!B2`, `Name=B2`, `Name='My sheet'!B2`, `Name=@Defined` or `Name=label:Text`."""
    name, sep, where = spec.partition("=")
    name, where = name.strip(), where.strip()
    if not sep or not name:
        raise InvalidParams(
            f"Parameter 'fields': '{spec}' must look like Name=Sheet1!B2, Name=@DefinedName or Name=label:Total.",
            "fields",
        )
    if not where:
        raise InvalidParams(f"Parameter 'fields': field '{name}' does not say where to find it.", "fields")
    if where.lower().startswith("label:"):
        label = where[len("label:") :]
        if not normalise_label(label):
            raise InvalidParams(f"Parameter 'fields': field '{name}' has an empty label.", "fields")
        return FieldSpec(name, "label", target=label.strip())
    if where.startswith("@"):
        defined = where[1:].strip()
        if not _NAME.match(defined):
            raise InvalidParams(
                f"Parameter 'fields': field '{name}' refers to '{where}', which is not a valid defined name.",
                "fields",
            )
        return FieldSpec(name, "name", target=defined)
    sheet: str | None = None
    cell_text = where
    if "!" in where:
        sheet_text, _, cell_text = where.rpartition("!")
        sheet_text = sheet_text.strip()
        if len(sheet_text) >= 2 and sheet_text[0] == sheet_text[-1] == "'":
            sheet_text = sheet_text[1:-1].replace("''", "'")
        if not sheet_text:
            raise InvalidParams(f"Parameter 'fields': field '{name}' has an empty sheet name in '{where}'.", "fields")
        sheet = sheet_text
    cell = parse_cell(cell_text)
    if cell is None:
        raise InvalidParams(
            f"Parameter 'fields': field '{name}' refers to '{where}', which is not a single cell like Sheet1!B2 "
            "(use @Name for a defined name or label:Text for a value next to a label).",
            "fields",
        )
    return FieldSpec(name, "cell", sheet=sheet, row=cell[0], column=cell[1])


@dataclass
class _LabelSearch:
    """The state of one label field while a sheet is read row by row."""

    spec: FieldSpec
    sheet: str | None = None  # where the label was found
    row: int = 0
    column: int = 0  # 0-based
    value: CellValue = None
    done: bool = False


@dataclass
class _SheetPlan:
    """What to pick up from one sheet in one pass: cells by position, and label searches."""

    cells: dict[int, dict[int, list[str]]] = field(default_factory=dict)  # row -> 0-based column -> names
    last_row: int = 0


class FieldProgress(Protocol):
    """What reading the fields reports to: a task's FileContext, or the app's preview of a sample."""

    def progress(self, fraction: float, message: str = "") -> None: ...

    def warn(self, text: str) -> None: ...


def _read_cells(
    book: WorkbookReader, sheet: str, plan: _SheetPlan, found: dict[str, CellValue], ctx: FieldProgress
) -> None:
    """Read `sheet` down to the last row `plan` needs and record the planned cells' values."""
    for row_number, row in enumerate(book.rows(sheet), start=1):
        if row_number > plan.last_row:
            break
        if row_number % PROGRESS_EVERY == 0:
            ctx.progress(0.5, f"{sheet}: row {row_number:,}")
        for col, names in plan.cells.get(row_number, {}).items():
            if col < len(row) and row[col] is not None:
                for name in names:
                    found[name] = row[col]


def _search_labels(book: WorkbookReader, sheet: str, searches: list[_LabelSearch], ctx: FieldProgress) -> None:
    """Find the labels still being looked for in `sheet`, and the value to the right of or below each."""
    for row_number, row in enumerate(book.rows(sheet), start=1):
        if row_number % PROGRESS_EVERY == 0:
            ctx.progress(0.5, f"{sheet}: looking for labels, row {row_number:,}")
        pending = False
        for search in searches:
            if search.done:
                continue
            if search.sheet is None:
                for col, value in enumerate(row):
                    if isinstance(value, str) and normalise_label(value) == search.spec.label_key:
                        search.sheet, search.row, search.column = sheet, row_number, col
                        right = next((v for v in row[col + 1 :] if v is not None), None)
                        if right is not None:
                            search.value, search.done = right, True
                        break
            elif (
                search.sheet == sheet
                and row_number > search.row
                and search.column < len(row)
                and row[search.column] is not None
            ):
                search.value, search.done = row[search.column], True
            pending = pending or not search.done
        if not pending:
            return
    for search in searches:
        if search.sheet == sheet:
            search.done = True  # the label is here but nothing follows it: do not look in other sheets


def _defined_name_cells(
    source: SourceFile, names: list[FieldSpec], why_missing: dict[str, str], ctx: FieldProgress
) -> dict[str, tuple[str, int, int]]:
    """Field name -> (sheet, row, column) for fields given as defined names, via openpyxl (read-only)."""
    from openpyxl import load_workbook

    located: dict[str, tuple[str, int, int]] = {}
    with open(source.path, "rb") as handle:
        # A file object, not the path: openpyxl refuses names that do not end in .xlsx/.xlsm, and
        # preflight has already established by content that this is one.
        book = load_workbook(handle, read_only=True, keep_links=False)
        try:
            global_names = {key.lower(): value for key, value in book.defined_names.items()}
            local_names: dict[str, Any] = {}
            for sheet in book.worksheets:
                for key, value in getattr(sheet, "defined_names", {}).items():
                    local_names.setdefault(key.lower(), value)
        finally:
            book.close()
    for spec in names:
        definition = global_names.get(spec.target.lower()) or local_names.get(spec.target.lower())
        if definition is None:
            why_missing[spec.name] = f"Field '{spec.name}': the workbook has no defined name '{spec.target}'."
            continue
        try:
            destinations = list(definition.destinations)
        except Exception:  # noqa: BLE001 - openpyxl cannot parse some name formulas; treat as not a cell
            destinations = []
        if not destinations:
            why_missing[spec.name] = (
                f"Field '{spec.name}': the defined name '{spec.target}' does not point to a cell "
                f"({definition.attr_text})."
            )
            continue
        sheet, reference = destinations[0]
        first, _, last = reference.partition(":")
        cell = parse_cell(first)
        if cell is None:  # whole rows or columns such as $A:$A
            why_missing[spec.name] = (
                f"Field '{spec.name}': the defined name '{spec.target}' refers to {reference}, not a cell."
            )
            continue
        if last or len(destinations) > 1:
            ctx.warn(
                f"Field '{spec.name}': the defined name '{spec.target}' covers several cells; "
                "the top-left one was used."
            )
        located[spec.name] = (sheet, cell[0], cell[1])
    return located


def extract_fields(
    source: SourceFile, specs: list[FieldSpec], ctx: FieldProgress
) -> tuple[dict[str, CellValue], dict[str, str]]:
    """Each field's value in one workbook (None where it was not found), in the order given, and for each
    field not found the sentence saying why. What `Extract.process` runs, and what the app's field
    builder shows for its sample workbook, so the two always agree."""
    found: dict[str, CellValue] = {}
    why_missing: dict[str, str] = {}  # field name -> the sentence to warn with if it stays empty
    with open_workbook(source) as book:
        sheets = book.sheet_names
        plans: dict[str, _SheetPlan] = {}

        def plan_cell(spec_name: str, sheet_ref: str | None, row: int, column: int) -> None:
            sheet = sheets[0] if sheet_ref is None else _find_sheet(sheets, sheet_ref)
            if sheet is None:
                why_missing[spec_name] = f"Field '{spec_name}': the workbook has no sheet named '{sheet_ref}'."
                return
            why_missing[spec_name] = f"Field '{spec_name}': cell '{sheet}'!{_cell_name(row, column)} is empty."
            plan = plans.setdefault(sheet, _SheetPlan())
            plan.cells.setdefault(row, {}).setdefault(column - 1, []).append(spec_name)
            plan.last_row = max(plan.last_row, row)

        for spec in specs:
            if spec.kind == "cell":
                plan_cell(spec.name, spec.sheet, spec.row, spec.column)
        named = [s for s in specs if s.kind == "name"]
        if named and source.format in ("xlsx", "xlsm"):
            for name, (sheet, row, column) in _defined_name_cells(source, named, why_missing, ctx).items():
                plan_cell(name, sheet, row, column)
        for spec in named:
            if source.format not in ("xlsx", "xlsm"):
                why_missing[spec.name] = (
                    f"Field '{spec.name}': defined names can only be read from .xlsx and .xlsm files, "
                    f"not from this .{source.format} file."
                )
        ctx.progress(0.1, "reading cells")
        for sheet, plan in plans.items():
            _read_cells(book, sheet, plan, found, ctx)

        searches = [_LabelSearch(spec) for spec in specs if spec.kind == "label"]
        for position, sheet in enumerate(sheets):
            if all(search.done for search in searches):
                break
            ctx.progress(0.5 + 0.5 * position / len(sheets), f"looking for labels in {sheet}")
            _search_labels(book, sheet, searches, ctx)
        for search in searches:
            name, label = search.spec.name, search.spec.target
            if search.value is not None:
                found[name] = search.value
            elif search.sheet is None:
                why_missing[name] = f"Field '{name}': no cell reads '{label}'."
            else:
                why_missing[name] = (
                    f"Field '{name}': the label '{label}' is on sheet '{search.sheet}' row {search.row}, "
                    "but no value follows it to the right or below."
                )

    return {spec.name: found.get(spec.name) for spec in specs}, why_missing


@register
class Extract(Task):
    name = "extract"
    title = "Extract fields from forms"
    description = (
        "Pull named fields (a cell, a defined name, or the value next to a label) from form-style "
        "workbooks into one table with a row per file."
    )
    kind = "cpu"
    # Mostly reading.
    cost = WorkCost(seconds_per_mb=0.35, seconds_per_file=0.0015, lock_free=0.6)
    version = 1
    params = (
        Param(
            "fields",
            "list",
            [],
            "Fields as Name=Sheet1!B2, Name=B2 (first sheet), Name=@DefinedName or Name=label:Total: "
            "(the value right of, or below, the label).",
            required=True,
        ),
        common_params.output_format("The format of the combined table."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        seen: set[str] = set()
        for spec in params["fields"]:
            parsed = parse_field(spec)
            key = parsed.name.casefold()
            if key == SOURCE_COLUMN.casefold():
                raise InvalidParams(
                    f"Parameter 'fields': '{parsed.name}' is the name of the first output column; "
                    "choose another field name.",
                    "fields",
                )
            if key in seen:
                raise InvalidParams(f"Parameter 'fields': the field name '{parsed.name}' is used twice.", "fields")
            seen.add(key)

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        specs = [parse_field(spec) for spec in params["fields"]]
        fields, why_missing = extract_fields(source, specs, ctx)
        missing = [name for name, value in fields.items() if value is None]
        for name in missing:
            ctx.warn(why_missing.get(name, f"Field '{name}' was not found."))
        ctx.progress(1.0)
        return {"fields": fields, "found": len(fields) - len(missing), "missing": missing, "file": source.rel}

    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        names = [parse_field(spec).name for spec in params["fields"]]
        read = [o for o in sorted(outcomes, key=lambda o: o.index) if o.status == OK and o.result]
        rows = [
            [o.result.get("file") or Path(o.path).name, *(o.result.get("fields", {}).get(n) for n in names)]
            for o in read
        ]
        paths = [o.path for o in read]
        header = [SOURCE_COLUMN, *names]
        if params["output_format"] == "csv":
            with out.output(f"{OUTPUT_STEM}.csv") as tmp, CsvTableWriter(tmp) as writer:
                writer.write_row(header)
                for row in rows:
                    writer.write_row(row)
        else:
            with out.output(f"{OUTPUT_STEM}.xlsx") as tmp, XlsxTableWriter(tmp) as book:
                # The fields are the user's values: AUTO keeps whole numbers (invoice numbers) as typed.
                book.add_sheet("Extracted", header, [FILE, *(AUTO for _ in names)])
                for row, path in zip(rows, paths, strict=True):
                    book.write_row(row, link=path)
            for warning in book.warnings:
                out.warn(warning)
        out.keep_table("Extracted", header, rows)  # report.tables["Extracted"]
        if not rows:
            out.warn("No file could be read, so the extracted table has only its header row.")


def _find_sheet(sheets: list[str], wanted: str) -> str | None:
    """The sheet called `wanted` (exactly, else ignoring case), or None. Digits are a name here, not a position."""
    if wanted in sheets:
        return wanted
    return next((name for name in sheets if name.casefold() == wanted.strip().casefold()), None)


def _cell_name(row: int, column: int) -> str:
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"{letters}{row}"
