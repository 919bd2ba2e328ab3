"""The tables a batch's outputs hold, kept for the Python API: `report.tables["Files"]` is a DataFrame.

A task's `reduce()` knows the tables it writes (summarize's Files, Sheets and Columns, combine's
Combined, extract's Extracted, validate's Exceptions and Summary, the python task's Results and
Combined) and hands each one to its OutputFolder (`OutputFolder.keep_table`) as it writes it; the
report carries them, and a DataFrame is built on first use (pandas is imported then, not before). A
notebook user never reads the xlsx back. report.json does not include them.

Combine's xlsx rows are rendered in the workers and copied as bytes; its table is rebuilt from the
record of what was written (`recorded_rows`) when the output is checked, else read back from the file.

Outputs kept from an earlier run (the cache: nothing changed) are not written again; their tables are
read back from the files (`tables_from_files`: an xlsx sheet is the table of its name, a CSV the table
named after the file, "combined.csv" -> "Combined").

Only the Python API keeps them (`BatchSpec.keep_tables`, on by default there): the command line and the
desktop app, which never look at them, do not spend the memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VALUES = "values"  # rows of typed values, as the writers took them
CSV_TEXT = "csv_text"  # rows of CSV fields (combine's rendered CSV): typed as a CSV input is, on first use


@dataclass
class Table:
    """One table of a batch output: its header and rows, kept in the parent as the output was written."""

    name: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    kind: str = VALUES
    # Rows built on first use, after `rows` (combine's xlsx table, from the compact record of what was
    # written: neither the time nor the memory of a table nobody reads).
    later: Callable[[], list[list[Any]]] | None = field(default=None, repr=False, compare=False)
    # The output file holding this table, when one does: its table goes if the output check removes it.
    output: str = ""

    def all_rows(self) -> list[list[Any]]:
        """Every row, those built on first use included."""
        if self.later is not None:
            self.rows.extend(self.later())
            self.later = None
        return self.rows

    def typed_rows(self) -> list[list[Any]]:
        """The rows as typed values (CSV text read back with the column typing of every CSV input)."""
        rows = self.all_rows()
        if self.kind != CSV_TEXT or not rows:
            return rows
        from xlbatch.csv_rows import typed_rows
        from xlbatch.csv_types import infer_types
        from xlbatch.writing import csv_text

        records = [list(self.header), *([v if isinstance(v, str) else csv_text(v) for v in row] for row in self.rows)]
        typing = infer_types(iter(records), ",")
        return list(typed_rows(iter(records), typing))[1:]


class TableKeeper:
    """A batch output's table writer (xlbatch.writing's XlsxTableWriter or CsvTableWriter) that also keeps
    what it writes: `add_sheet(name, header)` starts a table (a sheet, or a CSV's header row), the rows
    written go to it as well. `keep` is OutputFolder.keep_table; when it keeps nothing, this only writes."""

    def __init__(self, writer: Any, keep: Callable[[str, list[Any]], Table | None]) -> None:
        self.writer = writer
        self._keep = keep
        self.table: Table | None = None

    def add_sheet(self, name: str, header: list[Any], kinds: Sequence[str] | None = None) -> None:
        """Start a table; `kinds` (xlbatch.report_layout) lay out an xlsx sheet's columns."""
        if hasattr(self.writer, "add_sheet"):
            self.writer.add_sheet(name, header, kinds)
        else:
            self.writer.write_row(header)
        self.table = self._keep(name, header)

    def write_row(self, row: list[Any], link: str | None = None, failed: bool = False) -> None:
        """A row; in an xlsx sheet, `link` makes its first cell a link to that file, `failed` tints it."""
        if hasattr(self.writer, "add_sheet"):
            self.writer.write_row(row, link=link, failed=failed)
        else:
            self.writer.write_row(row)
        if self.table is not None:
            self.table.rows.append(list(row))

    def write_fields(self, rows: Iterable[Sequence[str]]) -> None:
        """Rows already rendered as CSV text (a CSV writer's)."""
        if self.table is None:
            self.writer.write_fields(rows)
            return
        listed = [list(fields) for fields in rows]
        self.writer.write_fields(listed)
        self.table.kind = CSV_TEXT
        self.table.rows.extend(listed)

    def write_text(self, text: str) -> None:
        """Complete lines of CSV text (a CSV writer's)."""
        self.writer.write_text(text)
        if self.table is not None:
            self.table.kind = CSV_TEXT
            self.table.rows.extend(csv.reader(io.StringIO(text, newline="")))

    @property
    def warnings(self) -> list[str]:
        return list(getattr(self.writer, "warnings", []))


class Tables(Mapping[str, Any]):
    """Table name -> pandas DataFrame, each built once, when first asked for."""

    def __init__(self, tables: Mapping[str, Table]) -> None:
        self._tables = dict(tables)
        self._frames: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._frames:
            table = self._tables.get(name)
            if table is None:
                known = ", ".join(self._tables) or "none"
                raise KeyError(f"no table named {name!r}; this batch's tables: {known}")
            from xlbatch.frames import frame

            self._frames[name] = frame(table.header, table.typed_rows())
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __repr__(self) -> str:
        return f"Tables({', '.join(self._tables)})"


def recorded_rows(record: Any, width: int) -> list[list[Any]]:
    """The data rows of an xlsx output as `tables_from_files` reads them back, from the record of what its
    writer wrote (xlbatch.output_record, one that kept every row; each sheet's row 0 is its header): the
    table of rows rendered in the workers, without reading the file.

    The record holds what python-calamine reads back, and xlbatch.verify checks the file says exactly that."""
    from xlbatch.workbook import normalise

    rows: list[list[Any]] = []
    for sheet in range(len(record.sheets)):
        following = 1  # the row after the last one recorded; rows in between are empty
        for kind, payload in record.chunks(sheet):
            assert kind == "rows", "a record of digests only cannot give its rows"
            for number, values in payload:
                if number == 0:
                    continue
                rows.extend([None] * width for _ in range(number - following))
                row = [normalise(v) for v in values]
                row += [None] * (width - len(row))
                rows.append(row)
                following = number + 1
    return rows


def tables_from_files(paths: Iterable[str]) -> dict[str, Table]:
    """The tables of batch outputs already on disk, read with xlbatch's reader (typed as every task reads)."""
    from pathlib import Path

    from xlbatch.workbook import open_workbook

    found: dict[str, Table] = {}
    for path in paths:
        if Path(path).suffix.lower() not in (".xlsx", ".csv") or not Path(path).is_file():
            continue
        with open_workbook(path) as book:
            for sheet in book.sheet_names:
                rows = list(book.rows(sheet))
                name = sheet if Path(path).suffix.lower() == ".xlsx" else Path(path).stem.capitalize()
                header = [str(h) if h is not None else "" for h in rows[0]] if rows else []
                found[name] = Table(name, header, [list(r) + [None] * (len(header) - len(r)) for r in rows[1:]])
    return found
