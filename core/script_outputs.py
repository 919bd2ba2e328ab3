"""The `python` task's work in a worker around the user's function: the DataFrames it gets, and what
becomes of what it returns (xlbatch.tasks.python has the whole flow).

    read_frame()          one sheet below its header row as a DataFrame, from xlbatch's reader (the types
                          of xlbatch.frames); columns named as combine names them
    sort_returns()        what each call returned: DataFrames, dicts (made JSON-safe, dates kept as dates
                          for the journal; report.json shows them as ISO text), or None; anything else is
                          refused in words naming the function
    write_file_outputs()  the returned DataFrames: per_file outputs through ctx.file_output (atomic and
                          checked), rows in a part file for the combined table, or a warning for none

Imports pandas: imported by the task only when a file runs.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from xlbatch import errors
from xlbatch.atomic import atomic_path
from xlbatch.errors import TaskFailure
from xlbatch.frames import cell_value, frame, frame_rows
from xlbatch.preflight import SourceFile
from xlbatch.script_tables import CHUNK_ROWS, part_path
from xlbatch.tasks.base import FileContext
from xlbatch.tasks.combine import sheet_columns, unique_names
from xlbatch.tasks.convert import unique_file_name
from xlbatch.workbook import WorkbookReader, trim_row
from xlbatch.writing import CsvTableWriter, XlsxTableWriter

DEFAULT_SHEET = "Result"  # the sheet a table from process_workbook() is written to
CHECK_EVERY = 5000  # rows read between two looks at the time limit and the stop request


def read_frame(book: WorkbookReader, sheet: str, header_row: int, ctx: FileContext) -> pd.DataFrame:
    """The sheet's rows below `header_row` under the names in that row; row i is Excel row header_row + 1 + i
    (blank rows inside the data are kept, as rows of NaN; those after the last value are not)."""
    header: list[Any] | None = None
    data: list[list[Any]] = []
    used: set[int] = set()
    width = filled = 0
    for number, row in enumerate(book.rows(sheet), start=1):
        if number % CHECK_EVERY == 0:
            ctx.check()
        if number < header_row:
            continue
        row = trim_row(row)
        if number == header_row:
            header, width = row, len(row)
            continue
        data.append(row)
        if row:
            used.update(p for p, v in enumerate(row) if v is not None)
            width = max(width, len(row))
            filled = len(data)
    del data[filled:]
    if header is None:
        ctx.warn(
            f"Sheet '{sheet}' has fewer than {header_row} row(s), so it has no header row; its DataFrame is empty."
        )
        header = []
    names = sheet_columns(header, width, used)
    keep = [position for position, name in enumerate(names) if name is not None]
    if len(keep) < width:  # unnamed columns without data are left out
        data = [[row[p] if p < len(row) else None for p in keep] for row in data]
    return frame([names[p] for p in keep], data)  # type: ignore[misc]


# -- what the function returned ----------------------------------------------------------------------
@dataclass
class Returned:
    """The DataFrames and dicts a file's calls returned, each with the sheet it came from (None: the workbook)."""

    frames: list[tuple[str | None, pd.DataFrame]] = field(default_factory=list)
    dicts: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)

    def result(self, by_sheet: bool) -> dict[str, Any]:
        """The file's result: the one dict, or (process() over every sheet) the dicts by sheet name."""
        if by_sheet:
            return {str(sheet): values for sheet, values in self.dicts}
        return self.dicts[0][1] if self.dicts else {}


def sort_returns(function: str, returned: list[tuple[str | None, Any]]) -> Returned:
    kept = Returned()
    for sheet, value in returned:
        if value is None:
            continue
        if isinstance(value, pd.DataFrame):
            kept.frames.append((sheet, value))
        elif isinstance(value, dict):
            kept.dicts.append((sheet, {str(key): result_value(function, key, v) for key, v in value.items()}))
        else:
            hint = " (series.to_frame() makes it one)" if isinstance(value, pd.Series) else ""
            raise TaskFailure(
                errors.TASK_ERROR,
                f"{function}() returned a {type(value).__name__}{hint}; it must return a DataFrame, a dict or None.",
                repr(value)[:2000],
            )
    return kept


def result_value(function: str, key: Any, value: Any) -> Any:
    """A value of a returned dict as a result keeps it: a single value for a cell (lists and mappings as
    JSON text); a table in a dict is refused."""
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index) or (hasattr(value, "ndim") and getattr(value, "ndim", 0)):
        raise TaskFailure(
            errors.TASK_ERROR,
            f"{function}() returned a dict whose '{key}' holds a {type(value).__name__}; a dict's values must be "
            "single values (numbers, text, dates). Return the table itself as a DataFrame instead.",
        )
    if isinstance(value, list | tuple | set | frozenset | dict):
        return json.dumps(value if not isinstance(value, set | frozenset) else sorted(value, key=str), default=str)
    return cell_value(value)


# -- writing them ----------------------------------------------------------------------------------
def write_file_outputs(
    frames: list[tuple[str | None, pd.DataFrame]], params: dict[str, Any], source: SourceFile, ctx: FileContext
) -> None:
    mode, fmt = params["output"], params["output_format"]
    if mode == "combined":
        write_part(frames, source, ctx)  # always: a part left by an earlier run must not be combined again
    elif frames and mode == "none":
        ctx.warn("Your function returned a table, but the output setting is 'none', so it was not written.")
    elif frames and fmt == "xlsx":
        with ctx.file_output(".xlsx") as tmp, XlsxTableWriter(tmp, constant_memory=True) as writer:
            for sheet, df in frames:
                header, rows = frame_rows(df)
                writer.add_sheet(sheet or DEFAULT_SHEET, header)
                for row in rows:
                    writer.write_row(row)
        for warning in writer.warnings:
            ctx.warn(warning)
    elif frames:
        taken: set[str] = set()
        for sheet, df in frames:
            base = ctx.output_stem if len(frames) == 1 else f"{ctx.output_stem} - {sheet or DEFAULT_SHEET}"
            with ctx.output(unique_file_name(base, ".csv", taken), ctx.subfolder) as tmp, CsvTableWriter(tmp) as writer:
                header, rows = frame_rows(df)
                writer.write_row(header)
                for row in rows:
                    writer.write_row(row)


def _chunks(rows: Iterator[list[Any]]) -> Iterator[list[list[Any]]]:
    chunk: list[list[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_part(frames: list[tuple[str | None, pd.DataFrame]], source: SourceFile, ctx: FileContext) -> None:
    """The returned tables' rows for the combined table: first what they are (the file, and per table its
    sheet, header and row count), then chunks of (table, rows); only plain values, read back safely."""
    tables = []
    for sheet, df in frames:
        header, rows = frame_rows(df)
        tables.append((sheet, unique_names(header), rows, len(df)))  # a column's name says where it goes
    with atomic_path(part_path(ctx.state_dir, source.rel)) as tmp, open(tmp, "wb") as handle:
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dump({"source": source.rel, "tables": [(sheet, header, count) for sheet, header, _, count in tables]})
        for index, (_sheet, _header, rows, _count) in enumerate(tables):
            for chunk in _chunks(rows):
                pickler.dump((index, chunk))
                pickler.clear_memo()
