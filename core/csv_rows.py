"""Typing a CSV file's rows once `xlbatch.csv_types` has decided each column's type: values converted a
block of rows at a time, column by column, with one converter per column chosen from its decision.

A cell whose text does not read as its column's type (a word such as "n/a" in a number column) stays the
text it was; a blank is None.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache, partial
from typing import Any

from xlbatch.csv_types import TEXT, TEXT_COLUMN, ColumnType, CsvTyping, notation_of, row_blocks
from xlbatch.csv_values import (
    BLANKS,
    DATE,
    MAX_EXACT_INT,
    NUMBER,
    NUMBER_PATTERNS,
    TIME,
    bool_value,
    date_reader,
    number_reader,
    read_value,
    time_reader,
)


def typed_rows(records: Iterable[list[str]], typing: CsvTyping) -> Iterator[list[Any]]:
    """The rows of `records` (the same ones `typing` was inferred from) with every column typed."""
    rows = iter(records)
    first = next(rows, None)
    if first is None:
        return
    converters = [_column_converter(column) for column in typing.columns]
    if typing.header:  # a header cell is typed only where it reads like its column
        yield [typed_value(_column(typing, index), text) for index, text in enumerate(first)]
    else:
        yield from _typed_block([first], converters)
    for block in row_blocks(rows):
        yield from _typed_block(block, converters)


def typed_value(column: ColumnType, text: str) -> Any:
    """One cell's value in `column`: typed where the text reads as the column's type, else the text (None: blank)."""
    if not text:
        return None
    if column.kind == TEXT:
        return text
    reading = read_value(text)
    if reading.kind != column.kind:
        return text
    if (column.kind == NUMBER and not reading.mask & column.notation) or (
        column.kind == DATE and not reading.mask & column.order
    ):
        return text
    return _reader(column)(text)


def _column(typing: CsvTyping, index: int) -> ColumnType:
    return typing.columns[index] if index < len(typing.columns) else TEXT_COLUMN


@lru_cache(maxsize=64)
def _reader(column: ColumnType) -> Callable[[str], Any]:
    """The function from a text known to fit the column to its value."""
    if column.kind == NUMBER:
        return number_reader(notation_of(column.notation))
    if column.kind == DATE:
        return date_reader(column.order)
    if column.kind == TIME:
        return time_reader
    return bool_value


def _text_values(values: Sequence[str]) -> list[Any]:
    return [text or None for text in values]


def _column_converter(column: ColumnType) -> Callable[[Sequence[str]], list[Any]]:
    """The function that types one block of the column's values."""
    if column.kind == TEXT:
        return _text_values
    if column.kind == NUMBER:
        return partial(_mixed_numbers if column.mixed else _numbers, column.notation)
    if column.mixed:
        read = partial(typed_value, column)

        def convert(values: Sequence[str]) -> list[Any]:
            # The words of a mixed column repeat a lot: read each distinct text once.
            known = {text: read(text) for text in dict.fromkeys(values) if text}
            return [known.get(text) for text in values]

        return convert
    read = _reader(column)
    return lambda values: [read(text) if text else None for text in values]


def _numbers(bit: int, values: Sequence[str]) -> list[Any]:
    """A block of a number column's values (each blank or a number in the notation), typed as number_reader does
    it, a separator at a time for the whole block and then in one comprehension: the column loop costs the most."""
    notation = notation_of(bit)
    joined = "".join(values)
    for separator in notation.thousands:
        if separator in joined:
            values = [text.replace(separator, "") for text in values]
    fractions = notation.decimal in joined
    if fractions and notation.decimal == ",":
        values = [text.replace(",", ".") for text in values]
    if not fractions and "e" not in joined and "E" not in joined:
        return [int(text) if text else None for text in values]
    return [
        (int(number) if (number := float(text)).is_integer() and -MAX_EXACT_INT < number < MAX_EXACT_INT else number)
        if text
        else None
        for text in values
    ]


def _mixed_numbers(bit: int, values: Sequence[str]) -> list[Any]:
    """A block of a number column with words among its numbers. Inference found no identifier, no other numeric
    text and no number in another notation here, so a value is a number exactly when the notation's pattern
    matches it (the header row, which inference did not see, goes through typed_value instead)."""
    pattern, read = NUMBER_PATTERNS[bit.bit_length() - 1], _reader(ColumnType(NUMBER, notation=bit))
    return [(read(text) if pattern.fullmatch(text.strip(BLANKS)) else text) if text else None for text in values]


def _typed_block(block: list[list[str]], converters: list[Callable[[Sequence[str]], list[Any]]]) -> list[list[Any]]:
    columns = list(itertools.zip_longest(*block, fillvalue=""))
    if not columns:  # blank lines only
        return [[] for _ in block]
    typed = [(converters[i] if i < len(converters) else _text_values)(values) for i, values in enumerate(columns)]
    rows = list(map(list, zip(*typed, strict=True)))
    if min(map(len, block)) != len(columns):  # ragged rows keep their own length, as the csv module read them
        for row, record in zip(rows, block, strict=True):
            del row[len(record) :]
    return rows
