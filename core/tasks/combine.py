"""The `combine` task: stack one sheet (or every sheet) of every file into one table, xlsx or CSV.

Data flow, built so memory grows with the largest input and not with the total:

    worker, per file:  read the sheet(s) -> rows below the header row, blank rows dropped
                       -> part file `.xlbatch/combine-parts/<id>.part` in the output folder (pickled chunks
                          of rows rendered as they will be written, source columns included, so the rendering
                          runs in parallel in the workers: for an xlsx output finished sheet-XML fragments,
                          compressed, with the record of what they read back as (xlbatch.fragment_writer) and
                          the typed values of each sheet's first rows, which the layout measures; for a CSV
                          output the final CSV text)
                       -> result: the sheets' headers, row counts, the part's path
    parent, reduce():  union header from the results (input order) -> stream each "ok" part, in input
                       order, into ONE output: fragments and CSV text whose columns already line up are
                       copied as they are, others have their columns moved first
                       -> delete the parts (kept when caching is on, so an
                       unchanged file is combined from its part next time without being read again)

Columns are matched by header name (trimmed, case-insensitive; the output uses the first spelling seen;
the columns are the union, in first-seen order) or by position (the output header takes the first
name found at each position). Files with missing or extra columns still combine; `reduce()` adds
`missing_columns` (columns of the combined table the file lacks) and `extra_columns` (columns the first
file does not have) to each file's result and warns. `Source file` and `Source sheet` columns say where
every row came from. Past 1,048,576 rows an xlsx output continues on a new sheet.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import io
import operator
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from xlbatch.atomic import TEMP_MARKER, atomic_path
from xlbatch.cell_refs import column_letters
from xlbatch.cost import WorkCost
from xlbatch.fragment_writer import Fragment, FragmentXlsxWriter, make_fragment, rearrange
from xlbatch.outcome import OK, FileOutcome
from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.report_layout import AUTO, TEXT
from xlbatch.sheet_xml import RowRenderer
from xlbatch.tables import TableKeeper, recorded_rows, tables_from_files
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, OutputFolder, Task
from xlbatch.tasks.registry import register
from xlbatch.workbook import open_workbook, trim_row
from xlbatch.writing import CSV_LINE_END, CsvTableWriter, csv_text

PARTS_FOLDER = "combine-parts"  # inside the output folder's private state folder
PART_SUFFIX = ".part"
CHUNK_ROWS = 1000  # rows per pickled chunk: small enough to bound memory, big enough to be fast
PROGRESS_EVERY = 2000
ALL_SHEETS = {"*", "all"}
SOURCE_FILE = "Source file"
SOURCE_SHEET = "Source sheet"
# The only classes a part file may contain besides built-in containers and scalars.
_PART_CLASSES = {("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta")}


def header_text(value: Any) -> str:
    """A header cell as the column's name: text trimmed, numbers and dates as they would print."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return csv_text(value)


def name_key(name: str) -> str:
    """How column names are compared: trimmed, case-insensitive."""
    return name.strip().casefold()


def unique_name(name: str, seen: set[str]) -> str:
    """`name`, or "name (2)", "name (3)"... if its key is in `seen` (name_key); the result's key is added."""
    candidate, counter = name, 2
    while name_key(candidate) in seen:
        candidate = f"{name} ({counter})"
        counter += 1
    seen.add(name_key(candidate))
    return candidate


def unique_names(names: list[str], taken: list[str] | None = None) -> list[str]:
    """`names` renamed where they clash (trimmed, ignoring case) with `taken` or with each other."""
    seen = {name_key(t) for t in taken or ()}
    return [unique_name(name, seen) for name in names]


def sheet_columns(header: list[Any], width: int, used: set[int]) -> list[str | None]:
    """The name of every column position of a sheet: its header text, made unique within the sheet;
    "Column C" for an unnamed column that holds data; None for an unnamed column with no data."""
    names: list[str | None] = []
    seen: set[str] = set()
    for position in range(width):
        text = header_text(header[position]) if position < len(header) else ""
        if not text:
            if position not in used:
                names.append(None)
                continue
            text = f"Column {column_letters(position + 1)}"
        names.append(unique_name(text, seen))
    return names


class _Unnamed:
    """The positions of a sheet without a header name that hold data, the only ones `sheet_columns` asks
    about: a sheet whose columns all have names costs nothing per row."""

    def __init__(self) -> None:
        self.positions: set[int] = set()
        self._width = 0
        self._watched: list[int] = []

    def watch(self, header: list[Any]) -> None:
        self._width = len(header)
        self._watched = [p for p, v in enumerate(header) if not header_text(v)]

    def see(self, row: list[Any]) -> None:
        if self._watched:
            found = [p for p in self._watched if p < len(row) and row[p] is not None]
            if found:
                self.positions.update(found)
                self._watched = [p for p in self._watched if p not in self.positions]
        if len(row) > self._width:
            self.positions.update(p for p in range(self._width, len(row)) if row[p] is not None)


class _PartUnpickler(pickle.Unpickler):
    """Reads only what a part file may hold, so a tampered part cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PART_CLASSES:
            return getattr(dt, name)
        raise pickle.UnpicklingError(f"unexpected object in part file: {module}.{name}")


class _CsvRenderer:
    """Renders chunks of typed rows as final CSV text, in the worker: source columns first, every row
    padded to the header's width, each value as CsvTableWriter would write it."""

    def __init__(self, prefix: list[str]) -> None:
        self.prefix = [csv_text(p) for p in prefix]
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=CSV_LINE_END)

    def render(self, rows: list[list[Any]], width: int) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        prefix = self.prefix
        self._writer.writerows(
            [*prefix, *map(csv_text, row), *([""] * (width - len(row)))]
            if len(row) < width
            else [*prefix, *map(csv_text, row)]
            for row in rows
        )
        return self._buffer.getvalue()


class _XlsxRenderer:
    """Renders chunks of typed rows as xlsx fragments, in the worker: source columns first, number cells
    pointing at their column's style. A sheet's first chunk also keeps its typed rows, which the parent's
    layout measures (column widths, number formats)."""

    def __init__(self, prefix: list[str]) -> None:
        self._renderer = RowRenderer(number_styles=True, lead=prefix)
        self._first = True

    def render(self, rows: list[list[Any]]) -> tuple[tuple[Any, ...], list[list[Any]] | None] | list[list[Any]]:
        fragment = make_fragment(self._renderer, rows)
        sample, self._first = (rows if self._first else None), False
        if fragment is None:  # a row with a long run of empty cells: the parent writes it with references
            return rows
        return fragment.to_plain(), sample


PartChunk = list[list[Any]] | str | tuple[tuple[Any, ...], list[list[Any]] | None]


def read_part(path: str | Path) -> Iterator[tuple[int, PartChunk]]:
    """Yield the (sheet index, chunk) records of a part file in the order they were written: typed rows,
    CSV text, or an xlsx fragment (Fragment.to_plain) with the typed rows of a sheet's first chunk."""
    with open(path, "rb") as handle:
        while True:
            # One unpickler per record: each was pickled with a fresh memo (Pickler.clear_memo), and
            # since protocol 4 an unpickler numbers what it memoizes by its own count, so one reading on
            # would hand a record that refers to its own memoized object one of an earlier record's.
            try:
                chunk = _PartUnpickler(handle).load()
            except EOFError:
                return
            yield chunk


@register
class Combine(Task):
    name = "combine"
    title = "Combine into one table"
    description = "Stack one sheet (or every sheet) of every file into one table, matching columns by name or position."
    kind = "cpu"
    # Writing one xlsx is most of the work; a CSV costs far less (work_cost).
    cost = WorkCost(seconds_per_mb=2.5, seconds_per_file=0.003, lock_free=0.1)
    csv_cost = WorkCost(seconds_per_mb=0.9, seconds_per_file=0.003, lock_free=0.4)
    version = 2  # 2: parts for an xlsx output hold rendered fragments
    params = (
        common_params.sheet("The sheet to take from each file: a name, a 1-based position, or * for every sheet."),
        common_params.header_row("The row that holds the column names; rows above it are ignored.", maximum=None),
        Param(
            "match_columns",
            "choice",
            "name",
            "Match columns across files by header name or by position.",
            choices=("name", "position"),
        ),
        Param("add_source", "bool", True, "Add 'Source file' and 'Source sheet' columns.", label="Add source columns"),
        common_params.output_format("The format of the combined table."),
        Param("output_name", "str", "combined", "The combined file's name, without extension."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        if not params["sheet"].strip():
            raise InvalidParams("Parameter 'sheet' needs a sheet name, a position, or * for every sheet.", "sheet")

    # -- worker ----------------------------------------------------------------------------------
    @classmethod
    def work_cost(cls, params: dict[str, Any] | None = None) -> WorkCost:
        return cls.csv_cost if (params or {}).get("output_format") == "csv" else cls.cost

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        sheets: list[str] = []
        per_sheet: list[list[str | None]] = []
        total = blank = 0
        # One part per input, named from its full path: unique within the batch, whatever the file names.
        part_id = hashlib.sha1(source.path.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        part = ctx.state_dir / PARTS_FOLDER / f"{part_id}{PART_SUFFIX}"
        with open_workbook(source) as book:
            wanted = params["sheet"].strip()
            names = book.sheet_names if wanted.lower() in ALL_SHEETS else [book.resolve_sheet(wanted)]
            csv_widths: list[int | None] = []
            with atomic_path(part) as tmp, open(tmp, "wb") as handle:
                pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
                for index, sheet in enumerate(names):
                    ctx.progress(index / len(names), f"sheet {sheet}")
                    prefix = [source.rel, sheet] if params["add_source"] else []
                    renderer = _CsvRenderer(prefix) if params["output_format"] == "csv" else _XlsxRenderer(prefix)
                    columns, rows, blanks, csv_width = self._read_sheet(
                        book.rows(sheet), sheet, index, len(names), params["header_row"], source, pickler, ctx, renderer
                    )
                    sheets.append(sheet)
                    per_sheet.append(columns)
                    csv_widths.append(csv_width)
                    total += rows
                    blank += blanks
        file_columns: list[str] = []
        seen: set[str] = set()
        for columns in per_sheet:
            for name in columns:
                if name is not None and name_key(name) not in seen:
                    seen.add(name_key(name))
                    file_columns.append(name)
        if blank:
            ctx.warn(f"{blank:,} blank row(s) were skipped.")
        ctx.progress(1.0)
        return {
            "source": source.rel,
            "rows": total,
            "sheets": sheets,
            "columns": file_columns,
            "sheet_columns": per_sheet,
            "blank_rows_skipped": blank,
            "part": str(part),
            # Per sheet, for a CSV output: the width every rendered row has (None: rows of several widths).
            "csv_widths": csv_widths if params["output_format"] == "csv" else None,
        }

    @staticmethod
    def _read_sheet(
        rows: Iterator[list[Any]],
        sheet: str,
        index: int,
        count: int,
        header_row: int,
        source: SourceFile,
        pickler: pickle.Pickler,
        ctx: FileContext,
        renderer: _CsvRenderer | _XlsxRenderer,
    ) -> tuple[list[str | None], int, int, int | None]:
        """Pickle one sheet's data rows into the part, rendered; return its column names, data rows, blank
        rows and, rendered as CSV, the width of every row (None: not all alike, or not CSV)."""
        header: list[Any] | None = None
        width = data = blank = 0
        used = _Unnamed()  # positions without a header holding data, to name (or drop) those columns
        chunk: list[list[Any]] = []
        header_width = 0
        uniform = True  # no data row is wider than the header, so rendered rows all have its width

        as_csv = isinstance(renderer, _CsvRenderer)

        def flush() -> None:
            pickler.dump((index, renderer.render(chunk, header_width) if as_csv else renderer.render(chunk)))
            pickler.clear_memo()

        for number, row in enumerate(rows, start=1):
            if number % PROGRESS_EVERY == 0:
                ctx.progress(index / count, f"{sheet}: row {number:,}")
            if number < header_row:
                continue
            if number == header_row:
                header = trim_row(row)
                width = header_width = len(header)
                used.watch(header)
                continue
            row = trim_row(row)
            if not row:
                blank += 1
                continue
            used.see(row)
            if len(row) > header_width:
                uniform = False
                width = max(width, len(row))
            chunk.append(row)
            data += 1
            if len(chunk) >= CHUNK_ROWS:
                flush()
                chunk = []
        if chunk:
            flush()
        if header is None:
            ctx.warn(f"Sheet '{sheet}' has fewer than {header_row} row(s), so it has no header row.")
            header = []
        elif data == 0:
            ctx.warn(f"Sheet '{sheet}' has no data rows below row {header_row}.")
        elif not any(map(header_text, header)):
            ctx.warn(f"Row {header_row} of sheet '{sheet}' is empty; its columns are named by letter.")
        columns = sheet_columns(header, width, used.positions)
        unnamed = [
            c for p, c in enumerate(columns) if c is not None and not (p < len(header) and header_text(header[p]))
        ]
        if unnamed and any(map(header_text, header)):
            ctx.warn(f"Sheet '{sheet}' has data in columns without a header: {', '.join(unnamed)}.")
        return columns, data, blank, (header_width if as_csv and uniform else None)

    # -- parent ----------------------------------------------------------------------------------
    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        try:
            self._combine(outcomes, params, out)
        finally:
            self._remove_parts(outcomes, out)

    def _combine(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        done = [o for o in outcomes if o.status == OK and o.result and "part" in o.result]
        if not done:
            out.warn("No file could be combined, so no combined table was written.")
            return
        by_name = params["match_columns"] == "name"
        if by_name:
            header, mappings = self._match_by_name(done)
        else:
            header, mappings = self._match_by_position(done)
        self._report_differences(done, header, by_name, out)

        add_source = params["add_source"]
        full_header = [*self._source_names(header), *header] if add_source else list(header)
        fmt = params["output_format"]
        stem = params["output_name"].strip() or "combined"
        if stem.lower().endswith(f".{fmt}"):
            stem = stem[: -len(fmt) - 1]
        with out.output(f"{stem}.{fmt}") as tmp:
            # The table is also report.tables["Combined"] when the batch keeps its tables.
            if fmt == "xlsx":
                with FragmentXlsxWriter(tmp) as writer:
                    # The user's data: AUTO gives a column of fractions separators, whole numbers stay as
                    # typed; the writer measures and formats from the first rows (see report_layout).
                    kinds = [TEXT] * (len(full_header) - len(header)) + [AUTO] * len(header)
                    writer.add_sheet("Combined", full_header, kinds)
                    self._stream(done, mappings, len(header), add_source, writer, out)
                for warning in writer.warnings:
                    out.warn(warning)
            else:
                with CsvTableWriter(tmp) as csv_writer:
                    book = TableKeeper(csv_writer, out.keep_table)
                    book.add_sheet("Combined", full_header)
                    self._stream(done, mappings, len(header), add_source, book, out)
        if fmt == "xlsx":
            self._keep_written_table(out, full_header)

    @staticmethod
    def _keep_written_table(out: OutputFolder, header: list[str]) -> None:
        """report.tables["Combined"] of an xlsx, whose rows were copied as the workers rendered them: built
        on first use from the record of what was written (checked against the file next), else read back
        from the written workbook now (its sheets continued past Excel's row limit, in order)."""
        if out.tables is None:
            return
        table = out.keep_table("Combined", header)
        assert table is not None
        path = table.output = out.outputs[-1]
        record = out.records.get(path)
        if record is not None and record.every_row:
            table.later = functools.partial(recorded_rows, record, len(header))
        else:
            table.rows.extend(row for sheet in tables_from_files([path]).values() for row in sheet.rows)

    @staticmethod
    def _source_names(header: list[str]) -> list[str]:
        """The source columns' names, changed only if the data already has columns of those names."""
        return unique_names([SOURCE_FILE, SOURCE_SHEET], header)

    @staticmethod
    def _match_by_name(done: list[FileOutcome]) -> tuple[list[str], list[list[list[int]]]]:
        """The union header (first-seen order) and, per file and sheet, each position's output column."""
        header: list[str] = []
        index: dict[str, int] = {}
        mappings: list[list[list[int]]] = []
        for o in done:
            file_maps = []
            for columns in o.result["sheet_columns"]:
                mapping = []
                for name in columns:
                    if name is None:
                        mapping.append(-1)
                        continue
                    key = name_key(name)
                    if key not in index:
                        index[key] = len(header)
                        header.append(name)
                    mapping.append(index[key])
                file_maps.append(mapping)
            mappings.append(file_maps)
        return header, mappings

    @staticmethod
    def _match_by_position(done: list[FileOutcome]) -> tuple[list[str], list[list[list[int]]]]:
        """The header by position (the first name found at each position) and identity mappings."""
        names: list[str | None] = []
        mappings: list[list[list[int]]] = []
        for o in done:
            file_maps = []
            for columns in o.result["sheet_columns"]:
                for position, name in enumerate(columns):
                    if position >= len(names):
                        names.append(None)
                    if names[position] is None and name is not None:
                        names[position] = name
                file_maps.append(list(range(len(columns))))
            mappings.append(file_maps)
        # Two positions may carry the same name.
        header = unique_names([name or f"Column {column_letters(i + 1)}" for i, name in enumerate(names)])
        return header, mappings

    @staticmethod
    def _report_differences(done: list[FileOutcome], header: list[str], by_name: bool, out: OutputFolder) -> None:
        """Add missing_columns / extra_columns to every combined file's result and warn about them."""
        first = done[0].result
        if by_name:
            reference = {name_key(c) for c in first["columns"]}
        else:
            reference_width = max((len(c) for c in first["sheet_columns"]), default=0)
        for o in done:
            result = o.result
            if by_name:
                own = {name_key(c) for c in result["columns"]}
                missing = [h for h in header if name_key(h) not in own]
                extra = [c for c in result["columns"] if name_key(c) not in reference]
            else:
                width = max((len(c) for c in result["sheet_columns"]), default=0)
                missing = header[width:]
                extra = header[reference_width:width]
            result["missing_columns"] = missing
            result["extra_columns"] = extra
            name = result.get("source") or Path(o.path).name
            if missing and result["rows"]:
                out.warn(f"'{name}' lacks the column(s) {_names(missing)}; those cells are left empty.")
            if extra and o is not done[0]:
                out.warn(f"'{name}' has the column(s) {_names(extra)}, which the first file does not have.")

    @staticmethod
    def _stream(
        done: list[FileOutcome],
        mappings: list[list[list[int]]],
        width: int,
        add_source: bool,
        writer: FragmentXlsxWriter | TableKeeper,
        out: OutputFolder,
    ) -> None:
        """Copy every part, chunk by chunk, into the writer: one chunk in memory at a time."""
        lead = 2 if add_source else 0
        identity = list(range(width))
        for o, file_maps in zip(done, mappings, strict=True):
            result = o.result
            part = Path(result["part"])
            if not part.is_file():
                if result["rows"]:
                    out.warn(
                        f"The rows of '{result.get('source') or Path(o.path).name}' could not be found "
                        "(its intermediate file is missing), so they are not in the combined table."
                    )
                continue
            sheets = result["sheets"]
            csv_widths = result.get("csv_widths") or [None] * len(sheets)
            for sheet_index, chunk in read_part(part):
                mapping = file_maps[sheet_index]
                if isinstance(chunk, str):  # CSV text rendered by the worker
                    assert isinstance(writer.writer, CsvTableWriter)
                    if csv_widths[sheet_index] == width and mapping == identity:
                        writer.write_text(chunk)  # already in the output's columns
                    else:
                        Combine._rearrange_csv(chunk, mapping, width, lead, writer)
                    continue
                prefix = [result.get("source") or Path(o.path).name, sheets[sheet_index]] if add_source else []
                if isinstance(chunk, tuple):  # an xlsx fragment rendered by the worker
                    assert isinstance(writer, FragmentXlsxWriter)
                    Combine._copy_fragment(chunk, prefix, mapping, width, writer)
                    continue
                lines = (Combine._line(prefix, row, mapping, width) for row in chunk)
                if isinstance(writer, FragmentXlsxWriter):
                    writer.write_rows(lines)
                else:
                    for line in lines:
                        writer.write_row(line)

    @staticmethod
    def _line(prefix: list[Any], row: list[Any], mapping: list[int], width: int) -> list[Any]:
        """One source row in the output's columns, source columns first."""
        lead = len(prefix)
        line: list[Any] = [*prefix, *([None] * width)]
        for position, value in enumerate(row):
            target = mapping[position] if position < len(mapping) else -1
            if target >= 0:
                line[lead + target] = value
        return line

    @staticmethod
    def _copy_fragment(
        chunk: tuple[Any, ...], prefix: list[Any], mapping: list[int], width: int, writer: FragmentXlsxWriter
    ) -> None:
        """A fragment into the output: copied when its columns are the output's first ones, else moved."""
        plain, sample = chunk
        fragment = Fragment.from_plain(plain)
        lines = None
        if sample is not None and writer.wants_sample:
            lines = [Combine._line(prefix, row, mapping, width) for row in sample]
        lead = len(prefix)
        if any(target != position for position, target in enumerate(mapping)):
            order = list(range(lead)) + [lead + target if target >= 0 else -1 for target in mapping]
            fragment = rearrange(fragment, order)
        writer.write_fragment(fragment, lines)

    @staticmethod
    def _rearrange_csv(text: str, mapping: list[int], width: int, lead: int, writer: TableKeeper) -> None:
        """Rendered rows whose columns differ from the output's: pick each output column's field.

        Every row is padded to one length plus an empty field; `order` names, for each output column, the
        field it takes (the empty one for columns this sheet lacks), so the picking runs in C."""
        blank = lead + len(mapping)
        order = list(range(lead)) + [blank] * width
        for position, target in enumerate(mapping):
            if target >= 0:
                order[lead + target] = lead + position
        pick = operator.itemgetter(*order) if len(order) > 1 else (lambda fields: (fields[order[0]],))
        length = blank + 1

        def lines() -> Iterator[Any]:
            for fields in csv.reader(io.StringIO(text, newline="")):
                fields += [""] * (length - len(fields))
                yield pick(fields)

        writer.write_fields(lines())

    @staticmethod
    def _remove_parts(outcomes: list[FileOutcome], out: OutputFolder) -> None:
        """Delete the part files, those of failed files included, then the parts folder if empty."""
        if out.keep_intermediate:
            return  # kept for the next run: unchanged files are combined from their cached parts
        folder = out.state_dir / PARTS_FOLDER
        for o in outcomes:
            part = (o.result or {}).pop("part", None)  # gone once combined: keep it out of the report
            if part:
                with contextlib.suppress(OSError):
                    Path(part).unlink()
        if folder.is_dir():
            for leftover in folder.iterdir():  # parts of files that failed after writing theirs
                if leftover.is_file() and (leftover.suffix == PART_SUFFIX or TEMP_MARKER in leftover.name):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()


def _names(columns: list[str]) -> str:
    shown = ", ".join(f"'{c}'" for c in columns[:10])
    return shown + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")
