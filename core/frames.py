"""pandas DataFrames from xlbatch's typed values, and back: the one place that decides their types.

A sheet (or a batch output's table) becomes a DataFrame column by column, from the values every task
sees (xlbatch.workbook): a column of numbers is int64 (whole numbers, no blanks) or float64, a column of
dates and datetimes is datetime64, durations timedelta64, text is text (pandas' string type where the
installed pandas has one), booleans bool; blanks are NaN (NaT in date and duration columns). A column
that mixes kinds (numbers and text, dates and times...) is an object column holding the exact Python
values, blanks as NaN. An all-blank column is float64 NaN, as pandas reads one.

Going back (`frame_rows`), a DataFrame's values become the cell values xlbatch's writers take: numpy
scalars as Python numbers, Timestamps as datetimes, NaN/NaT/None as empty cells; anything else as its
text. An index that carries information (named, several levels, or labels other than whole numbers) is
written as leading columns, as `DataFrame.to_excel` does; an unnamed index of row positions (what
filtering and sorting leave) is not.

pandas is imported by this module: import it only where a DataFrame is wanted, never at start-up.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

INT64_LIMIT = 2**63
NAN = float("nan")


def _kind(value: Any) -> str:
    """The column kind a non-empty value asks for."""
    cls = value.__class__
    if cls is bool:
        return "bool"
    if cls is int:
        return "int" if -INT64_LIMIT <= value < INT64_LIMIT else "object"
    if cls is float:
        return "float"
    if cls is str:
        return "text"
    if isinstance(value, dt.datetime | dt.date):  # a date is the midnight of its day, as Excel keeps it
        return "datetime"
    if isinstance(value, dt.timedelta):
        return "duration"
    return "object"  # times of day, and anything else: kept as they are


def _as_datetime(value: Any) -> Any:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day)


def column_series(values: Sequence[Any]) -> pd.Series:
    """One column's values (None for a blank) as a Series typed by what they all are."""
    kinds = {_kind(v) for v in values if v is not None}
    blanks = len(kinds) == 0 or any(v is None for v in values)
    if not kinds:
        return pd.Series([NAN] * len(values), dtype="float64")
    if kinds <= {"int", "float"}:
        if kinds == {"int"} and not blanks:
            return pd.Series(values, dtype="int64")
        return pd.Series([NAN if v is None else float(v) for v in values], dtype="float64")
    if kinds == {"datetime"}:
        return pd.Series([_as_datetime(v) for v in values], dtype="datetime64[us]")
    if kinds == {"duration"}:
        return pd.Series(list(values), dtype="timedelta64[us]")
    if kinds == {"bool"} and not blanks:
        return pd.Series(values, dtype="bool")
    if kinds == {"text"}:
        return pd.Series([NAN if v is None else v for v in values])  # pandas' text type where it has one
    return pd.Series([NAN if v is None else v for v in values], dtype="object")


def frame(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """A DataFrame of `rows` (lists of xlbatch values, possibly shorter than `columns`) under `columns`."""
    if not columns:
        return pd.DataFrame(index=pd.RangeIndex(len(rows)))
    data = {
        position: column_series([row[position] if position < len(row) else None for row in rows])
        for position in range(len(columns))
    }
    result = pd.DataFrame(data)
    result.columns = list(columns)  # by position: two columns may carry the same name
    return result


# -- and back --------------------------------------------------------------------------------------
def cell_value(value: Any) -> Any:
    """A DataFrame value as the cell value xlbatch's writers take (None: an empty cell)."""
    if value is None:
        return None
    cls = value.__class__
    if cls is str or cls is bool or cls is int:
        return value
    if cls is float:
        return None if math.isnan(value) else value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime(warn=False) if value.tzinfo else value.to_pydatetime(warn=False)
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, np.generic):  # numpy's own scalars: int64, float32, bool_, datetime64...
        return cell_value(value.item())
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return value
    if isinstance(value, int | float):  # subclasses (IntEnum, numpy's float64 is a float)
        return cell_value(int(value) if isinstance(value, int) else float(value))
    return str(value)


def column_name(label: Any) -> str:
    """A column label as a header cell: tuples of a MultiIndex joined, everything else as text."""
    if isinstance(label, tuple):
        return " ".join(str(part) for part in label if str(part) != "")
    return str(label)


def _index_is_data(df: pd.DataFrame) -> bool:
    """Whether the index holds information to keep: named (groupby's keys), several levels, or labels
    that are not whole numbers (describe()'s count, mean...). An unnamed index of whole numbers is row
    positions left over from filtering or sorting (df[df.Amount > 0], sort_values), not data."""
    index = df.index
    if index.nlevels > 1 or any(name is not None for name in index.names):
        return True
    return not pd.api.types.is_integer_dtype(index.dtype)


def frame_rows(df: pd.DataFrame) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the rows (cell values) of a DataFrame, its index first when it holds data."""
    if _index_is_data(df):
        df = df.reset_index()
    header = [column_name(label) for label in df.columns]
    columns = [[cell_value(v) for v in df.iloc[:, i].tolist()] for i in range(df.shape[1])]

    def rows() -> Iterator[list[Any]]:
        for values in zip(*columns, strict=True):
            yield list(values)
        if not columns:
            for _ in range(len(df)):
                yield []

    return header, rows()
