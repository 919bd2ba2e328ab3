"""The output check: read every xlsx/csv output back and compare it with what its writer meant to write.

Before a file counts as done, each of its outputs that a table writer recorded (see xlbatch.output_record)
is read back the way any later step would read it (python-calamine through xlbatch.workbook for xlsx, the
csv module for CSV) and compared cell by cell, type included: the number 1 is not the text "1" and
0.30000000000000004 is not 0.3. The first difference fails the file with one plain sentence, names the
cell and both values in the detail, and the worker removes every output of that file, so nothing
half-checked is left. Batch outputs written by `reduce()` are checked the same way by the runner.

Outputs no table writer recorded (find & replace edits the workbook's own package) are not checked here.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.errors import TaskFailure
from xlbatch.output_record import CSV, OutputRecord, Row, digest, shifted

MESSAGE = "The output did not match what was written; it was removed."
SHOWN_CHARS = 200  # of each value in the detail: a 32,767-character text is named, not copied


def _non_empty(rows: Iterator[list[Any]], empty: Any = None, pad: list[Any] | None = None) -> Iterator[Row]:
    """(0-based row number, row without trailing empty cells) for every row that holds a value; `pad`
    goes in front of each row (python-calamine's rows start at the sheet's first used column)."""
    for number, row in enumerate(rows):
        end = len(row)
        while end and row[end - 1] == empty:
            end -= 1
        if end:
            row = row[:end] if end < len(row) else row
            yield number, pad + row if pad else row


def _show(value: Any) -> str:
    """A value for the detail text: numbers as the reader gives them, empty as (empty)."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return repr(int(value))
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text):,} characters)"


def _where(sheet: str, row: int, column: int) -> str:
    """Sheet!B5 for a workbook's cell, B5 for a CSV file's (row and column 0-based)."""
    from xlbatch.cell_refs import column_letters
    from xlbatch.writing import cell_name

    return cell_name(sheet, row + 1, column + 1) if sheet else f"{column_letters(column + 1)}{row + 1}"


def _row_difference(sheet: str, number: int, written: list[Any], found: list[Any]) -> str:
    for column in range(max(len(written), len(found))):
        a = written[column] if column < len(written) else ""
        b = found[column] if column < len(found) else ""
        if a != b or type(a) is not type(b):
            return f"{_where(sheet, number, column)}: written {_show(a)}, read back {_show(b)}"
    return f"row {number + 1} of '{sheet}' differs"  # not reached: the rows were found unequal


def _same(found: list[Row], written: list[Row]) -> bool:
    """Whether a chunk of rows read back is the chunk written, type included, compared in C."""
    if found != written:  # 1 == 1.0 == True here: the types are compared next
        return False
    values = itemgetter(1)
    return list(map(type, chain.from_iterable(map(values, found)))) == list(
        map(type, chain.from_iterable(map(values, written)))
    )


def _first_difference_in(sheet: str, found: Iterator[Row], payload: list[Row]) -> str | None:
    """Row by row: the first difference between the rows written and those read back."""
    for number, written in payload:
        got = next(found, None)
        if got is None:
            return _row_difference(sheet, number, written, [])
        found_number, row = got
        if found_number != number:
            if found_number < number:
                return _row_difference(sheet, found_number, [], row)
            return _row_difference(sheet, number, written, [])
        if row != written or list(map(type, row)) != list(map(type, written)):
            return _row_difference(sheet, number, written, row)
    return None


def compare(sheet: str, found: Iterator[Row], chunks: Iterator[tuple[str, Any]]) -> str | None:
    """The first difference between a sheet's recorded rows and the rows read back, or None.

    A chunk of rows is compared whole first (most outputs are right); only one that differs is walked
    row by row to name its first differing cell."""
    for kind, payload in chunks:
        if kind == "checked":
            offset, packed, (count, first, last, expected) = payload
            got = list(islice(found, count))
            if (
                len(got) == count
                and got[0][0] == offset + first
                and got[-1][0] == offset + last
                and digest([(number - offset, values) for number, values in got]) == expected
            ):
                continue
            written = shifted(offset, packed)
            if _same(got, written):  # equal as values, told apart only by the digest (-0.0 and 0.0)
                continue
            difference = _first_difference_in(sheet, chain(got, found), written)
            rows = f"rows {offset + first + 1}-{offset + last + 1}"
            return difference or f"{rows} of '{sheet}' differ from what was written"
        if kind == "digest":
            first, last, count, expected = payload
            rows = list(islice(found, count))
            if len(rows) != count or rows[0][0] != first or rows[-1][0] != last or digest(rows) != expected:
                return f"rows {first + 1}-{last + 1} of '{sheet}' differ from what was written"
            continue
        got = list(islice(found, len(payload)))
        if _same(got, payload):
            continue
        difference = _first_difference_in(sheet, chain(got, found), payload)
        return difference or f"rows {payload[0][0] + 1}-{payload[-1][0] + 1} of '{sheet}' differ from what was written"
    extra = next(found, None)
    if extra is not None:
        return _row_difference(sheet, extra[0], [], extra[1])
    return None


def _check_xlsx(path: Path, record: OutputRecord) -> str | None:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        names = list(book.sheet_names)
        if names != record.sheets:
            return f"the workbook has the sheets {names}; written were {record.sheets}"
        for index, title in enumerate(record.sheets):
            sheet = book.get_sheet_by_name(title)
            start = sheet.start
            pad = [""] * start[1] if start is not None and start[1] else None
            rows = _non_empty(sheet.iter_rows(), "", pad) if start is not None else iter(())
            difference = compare(title, rows, record.chunks(index, checks=True))
            del sheet
            if difference:
                return difference
    finally:
        book.close()
    return None


def _check_csv(path: Path, record: OutputRecord) -> str | None:
    with open(path, encoding=record.encoding, newline="") as handle:
        # Fields are text, compared as written: an empty field at the end of a row is part of it.
        rows = ((n, fields) for n, fields in enumerate(csv.reader(handle, delimiter=record.delimiter)) if fields)
        return compare("", rows, record.chunks(0)) if record.sheets else compare("", rows, iter(()))


def first_difference(path: str | Path, record: OutputRecord) -> str | None:
    """Where the file at `path` differs from its record, in words, or None when it holds exactly that."""
    path = Path(path)
    try:
        if record.kind == CSV:
            return _check_csv(path, record)
        return _check_xlsx(path, record)
    except Exception as exc:  # noqa: BLE001 - an output that cannot be read back did not keep its values
        return f"the output could not be read back: {type(exc).__name__}: {exc}"


def verify_outputs(folder: Any) -> None:
    """Check every recorded output of one file; raise TaskFailure (task_error) at the first difference.

    `folder` is the file's FileContext; the worker removes its outputs when this raises."""
    records: dict[str, OutputRecord] = getattr(folder, "records", {})
    try:
        for output in folder.outputs:
            record = records.get(output)
            if record is None:
                continue
            difference = first_difference(output, record)
            if difference is not None:
                raise TaskFailure(errors.TASK_ERROR, MESSAGE, f"{Path(output).name}: {difference}")
    finally:
        records.clear()  # a record can be large; it is not needed once checked


def verify_batch_outputs(folder: Any) -> list[str]:
    """Check the batch outputs `reduce()` wrote; remove each one that differs and say why, one line each."""
    problems: list[str] = []
    records: dict[str, OutputRecord] = getattr(folder, "records", {})
    for output in list(folder.outputs):
        record = records.pop(output, None)
        if record is None:
            continue
        difference = first_difference(output, record)
        if difference is not None:
            with contextlib.suppress(OSError):
                Path(output).unlink()
            folder.outputs.remove(output)
            problems.append(f"{Path(output).name}: {MESSAGE} ({difference})")
    return problems
