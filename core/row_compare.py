"""Comparing the rows an output check reads back with the rows a writer recorded (xlbatch.output_record).

Rows are (0-based row number, values without trailing empty cells). A chunk of rows is compared whole
first, in C (most outputs are right); only a chunk that differs is walked row by row to name its first
differing cell, with both values, in words (xlbatch.verify says what the check reads and when).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice
from operator import itemgetter
from typing import Any

from xlbatch.output_record import Row, digest, shifted

SHOWN_CHARS = 200  # of each value in the detail: a 32,767-character text is named, not copied


def non_empty(
    rows: Iterator[list[Any]], empty: Any = None, pad: list[Any] | None = None, start: int = 0
) -> Iterator[Row]:
    """(0-based row number from `start`, row without trailing empty cells) for every row that holds a
    value; `pad` goes in front of each row (python-calamine's rows start at the sheet's first used column)."""
    for number, row in enumerate(rows, start):
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
