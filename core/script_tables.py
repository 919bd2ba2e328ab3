"""The `python` task's batch outputs, written in the parent by its `reduce()` (no pandas needed here):

    results.xlsx|csv    one row per dict the function returned: File, Folder (and Sheet, when process()
                        ran over every sheet), then the dicts' keys in the order first seen
    combined.xlsx|csv   output=combined: every returned DataFrame stacked in the batch's order, columns
                        matched by name as combine matches them (trimmed, ignoring case; the union, in
                        first-seen order, first spelling kept), led by Source file (and Source
                        sheet, for process()); the rows come from each file's part file, one chunk at a time

Both are kept for report.tables ("Results", "Combined") when the batch keeps its tables.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

from xlbatch.atomic import TEMP_MARKER
from xlbatch.outcome import OK, FileOutcome
from xlbatch.report_layout import AUTO, FILE, TEXT
from xlbatch.tables import Table
from xlbatch.tasks.base import OutputFolder
from xlbatch.tasks.combine import SOURCE_FILE, SOURCE_SHEET, name_key, read_part, unique_names
from xlbatch.writing import CsvTableWriter, XlsxTableWriter

PARTS_FOLDER = "python-parts"  # inside the output folder's private state folder
PART_SUFFIX = ".part"
CHUNK_ROWS = 1000
RESULTS_STEM = "results"
COMBINED_STEM = "combined"


def part_path(state_dir: Path, rel: str) -> Path:
    """Where a file's rows for the combined table wait for reduce: named from the file's path below the
    batch's root (`SourceFile.rel`), unique in the batch, and the same in a worker that ran the file from
    a copy of its own (Dask without shared storage) as in the parent."""
    part_id = hashlib.sha1(rel.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return state_dir / PARTS_FOLDER / f"{part_id}{PART_SUFFIX}"


def find_part(state_dir: Path, path: str) -> Path | None:
    """The part of the file at `path` (the parent's path of it): the part named from the longest tail of
    `path` that has one. The file's own rel is a tail of its path, and the only longer tails are paths
    above the batch's root, which no file of the batch has."""
    parts = [p for p in PurePath(path).parts if p not in (PurePath(path).anchor, "")]
    for start in range(len(parts)):
        candidate = part_path(state_dir, "/".join(parts[start:]))
        if candidate.is_file():
            return candidate
    return None


class _Table:
    """One batch output being written: xlsx or CSV, and the copy kept for report.tables."""

    def __init__(self, writer: XlsxTableWriter | CsvTableWriter, kept: Table | None) -> None:
        self.writer = writer
        self.kept = kept

    def write_row(self, row: list[Any], link: str | None = None) -> None:
        if isinstance(self.writer, XlsxTableWriter):
            self.writer.write_row(row, link=link)  # the file's name links to the file
        else:
            self.writer.write_row(row)
        if self.kept is not None:
            self.kept.rows.append(row)


@contextlib.contextmanager
def _table(
    out: OutputFolder, stem: str, fmt: str, name: str, header: list[str], lead: list[str]
) -> Iterator[_Table]:
    """A batch output table: the first columns xlbatch's, laid out as `lead` says (xlbatch.report_layout),
    the rest the user's values, laid out as combine lays out the user's data."""
    with out.output(f"{stem}.{fmt}") as tmp:
        kept = out.keep_table(name, header)
        if fmt == "xlsx":
            kinds = [*lead, *[AUTO] * (len(header) - len(lead))]
            with XlsxTableWriter(tmp, constant_memory=True) as book:
                book.add_sheet(name, header, kinds)
                yield _Table(book, kept)
            for warning in book.warnings:
                out.warn(warning)
        else:
            with CsvTableWriter(tmp) as csv_writer:
                csv_writer.write_row(header)
                yield _Table(csv_writer, kept)


def _ordered(outcomes: list[FileOutcome]) -> list[FileOutcome]:
    return sorted((o for o in outcomes if o.status == OK), key=lambda o: o.index)


def write_results(outcomes: list[FileOutcome], params: dict[str, Any], by_sheet: bool, out: OutputFolder) -> None:
    """results.xlsx|csv from the dicts the function returned (nothing when it returned none)."""
    found: list[tuple[FileOutcome, str | None, dict[str, Any]]] = []
    for o in _ordered(outcomes):
        if by_sheet:
            found.extend((o, sheet, values) for sheet, values in o.result.items() if isinstance(values, dict))
        elif o.result:
            found.append((o, None, o.result))
    if not found:
        return
    lead = ["File", "Folder", *(["Sheet"] if by_sheet else [])]
    keys: dict[str, None] = {}
    for _o, _sheet, values in found:
        keys.update(dict.fromkeys(values))
    header = [*lead, *unique_names(list(keys), lead)]
    lead_kinds = [FILE, *[TEXT] * (len(lead) - 1)]  # the file's name linked to the file
    with _table(out, RESULTS_STEM, params["output_format"], "Results", header, lead_kinds) as table:
        for o, sheet, values in found:
            path = Path(o.path)
            first = [path.name, str(path.parent), *([sheet] if by_sheet else [])]
            table.write_row([*first, *(values.get(key) for key in keys)], link=o.path)


def _parts(outcomes: list[FileOutcome], out: OutputFolder) -> list[tuple[dict[str, Any], Path]]:
    """(what the part holds, its path) for every file that finished, in the batch's order."""
    found = []
    for o in _ordered(outcomes):
        part = find_part(out.state_dir, o.path)
        meta = next(read_part(part), None) if part is not None else None
        if part is not None and isinstance(meta, dict):
            found.append((meta, part))
        else:
            out.warn(
                f"The table of '{Path(o.path).name}' could not be found (its intermediate file is missing), "
                "so it is not in the combined table."
            )
    return found


def write_combined(outcomes: list[FileOutcome], params: dict[str, Any], per_sheet: bool, out: OutputFolder) -> None:
    """combined.xlsx|csv from every file's returned DataFrames, columns matched by name."""
    parts = _parts(outcomes, out)
    columns: dict[str, int] = {}  # name_key -> position; the names as first spelled in `names`
    names: list[str] = []
    for meta, _part in parts:
        for _sheet, header, _count in meta["tables"]:
            for name in header:
                if name_key(name) not in columns:
                    columns[name_key(name)] = len(names)
                    names.append(name)
    if not any(meta["tables"] for meta, _part in parts):
        out.warn("No file's function returned a table, so no combined table was written.")
        return
    source_names = unique_names([SOURCE_FILE, *([SOURCE_SHEET] if per_sheet else [])], names)
    header = [*source_names, *names]
    width = len(names)
    with _table(out, COMBINED_STEM, params["output_format"], "Combined", header, [TEXT] * len(source_names)) as table:
        for meta, part in parts:
            tables = meta["tables"]
            maps = [[columns[name_key(name)] for name in table_header] for _sheet, table_header, _count in tables]
            chunks = read_part(part)
            next(chunks, None)  # what the part holds: read above
            for index, rows in chunks:
                lead = [meta["source"], *([tables[index][0]] if per_sheet else [])]
                for row in rows:
                    line: list[Any] = [None] * width
                    for position, value in zip(maps[index], row, strict=False):
                        line[position] = value
                    table.write_row([*lead, *line])


def remove_parts(outcomes: list[FileOutcome], out: OutputFolder) -> None:
    """Delete the part files (kept when caching is on: an unchanged file is combined from its part)."""
    if out.keep_intermediate:
        return
    folder = out.state_dir / PARTS_FOLDER
    for o in outcomes:
        part = find_part(out.state_dir, o.path)
        if part is not None:
            with contextlib.suppress(OSError):
                part.unlink()
    if folder.is_dir():
        for leftover in folder.iterdir():
            if leftover.is_file() and (leftover.suffix == PART_SUFFIX or TEMP_MARKER in leftover.name):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()
