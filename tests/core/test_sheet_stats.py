"""The column-at-a-time statistics of summarize against a plain cell-by-cell reference, on random sheets.

The reference is the definition written the slow, obvious way: one value at a time, normalised first
(blank -> None, whole float -> int). The fast code must agree on every figure, for any mix of types,
blanks written as "" or None, ragged rows, a sheet starting right of column A, leading blank rows, and
blocks boundaries anywhere (the block size is shrunk so a small sheet spans many blocks).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import pytest

from xlbatch.cell_refs import column_letters
from xlbatch.tasks import sheet_stats
from xlbatch.tasks.sheet_stats import summarize_sheet
from xlbatch.workbook import normalise


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return "date"
    return "text"


def _date_key(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return None


def reference(rows: list[list[Any]], sheet: str, first_column: int) -> tuple[dict, list[dict]]:
    """summarize's figures for one sheet, cell by cell."""
    cells = [[normalise(v) for v in row] for row in rows]
    filled = [i for i, row in enumerate(cells) if any(v is not None for v in row)]
    if not filled:
        return (
            {"name": sheet, "rows": 0, "columns": 0, "non_empty_cells": 0, "numeric_cells": 0, "numeric_sum": 0.0},
            [],
        )
    header_index, last_index = filled[0], filled[-1]
    every = [(first_column + c, v) for row in cells for c, v in enumerate(row) if v is not None]
    numbers = [v for _, v in every if _kind(v) == "number"]
    record = {
        "name": sheet,
        "rows": last_index + 1,
        "columns": max(c for c, _ in every),
        "non_empty_cells": len(every),
        "numeric_cells": len(numbers),
        "numeric_sum": pytest.approx(math.fsum(numbers)),
    }
    headers = {first_column + c: v for c, v in enumerate(cells[header_index]) if v is not None}
    data = cells[header_index + 1 : last_index + 1]
    by_column: dict[int, list[Any]] = {c: [] for c in headers}
    for row in data:
        for c, v in enumerate(row):
            if v is not None:
                by_column.setdefault(first_column + c, []).append(v)
    columns = []
    for c in sorted(by_column):
        values = by_column[c]
        kinds = {_kind(v) for v in values}
        col_type = "empty" if not kinds else (kinds.pop() if len(kinds) == 1 else "mixed")
        nums = [v for v in values if _kind(v) == "number"]
        keyed = [(k, v) for v in values if _kind(v) == "date" and (k := _date_key(v)) is not None]
        if nums and col_type in ("number", "mixed"):
            low, high = min(nums), max(nums)
        elif col_type == "date" and keyed:
            low = min(keyed, key=lambda p: p[0])[1].isoformat()
            high = max(keyed, key=lambda p: p[0])[1].isoformat()
        else:
            low = high = None
        columns.append(
            {
                "sheet": sheet,
                "column": column_letters(c),
                "header": None if c not in headers else str(headers[c]),
                "type": col_type,
                "count": len(values),
                "blanks": len(data) - len(values),
                "distinct": len({(_kind(v), v) for v in values}),
                "min": low,
                "max": high,
                "mean": pytest.approx(math.fsum(nums) / len(nums)) if nums else None,
            }
        )
    return record, columns


_WORDS = ["North", "South", "East", "West", "1", "Total", "ÆØÅ", "x" * 40]


def _random_value(rng: random.Random, column_kind: str) -> Any:
    """A value for a column that is mostly of one kind, as real sheets are, with strays."""
    roll = rng.random()
    if roll < 0.2:
        return rng.choice(["", None]) if column_kind != "calamine" else ""
    if roll < 0.3:  # a stray of any type
        column_kind = rng.choice(["number", "int", "text", "bool", "date", "datetime", "time", "duration"])
    match column_kind:
        case "number":
            return rng.choice([round(rng.uniform(-1e6, 1e6), 2), float(rng.randint(0, 10)), 0.1, 1.0])
        case "int":
            return rng.randint(-5, 5)
        case "bool":
            return rng.random() < 0.5
        case "date":
            return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 400))
        case "datetime":
            return dt.datetime(2024, 1, 1) + dt.timedelta(minutes=rng.randint(0, 10**6))
        case "time":
            return dt.time(rng.randint(0, 23), rng.randint(0, 59))
        case "duration":
            return dt.timedelta(hours=rng.randint(0, 100))
        case _:
            return rng.choice(_WORDS)


def _random_sheet(rng: random.Random) -> list[list[Any]]:
    width = rng.randint(1, 9)
    kinds = [rng.choice(["number", "int", "text", "bool", "date", "datetime", "mixed"]) for _ in range(width)]
    rows: list[list[Any]] = [[""] * width for _ in range(rng.randint(0, 3))]  # leading blank rows
    for _ in range(rng.randint(0, 60)):
        row = [_random_value(rng, kind) for kind in kinds]
        if rng.random() < 0.15:  # ragged, as text files are
            row = row[: rng.randint(0, width)]
        if rng.random() < 0.1:
            row = [None] * len(row)
        rows.append(row)
    rows += [[""] * width for _ in range(rng.randint(0, 2))]  # trailing blank rows
    return rows


@pytest.mark.parametrize("seed", range(300))
def test_block_statistics_match_the_cell_by_cell_reference(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(sheet_stats, "CHUNK_ROWS", rng.choice([1, 2, 3, 7, 4096]))
    rows = _random_sheet(rng)
    first_column = rng.choice([1, 1, 3])
    record, columns = summarize_sheet(iter(rows), "S", first_column)
    expected_record, expected_columns = reference(rows, "S", first_column)
    assert record == expected_record
    assert columns == expected_columns


def test_sums_are_correctly_rounded() -> None:
    """A column of cents adds up to whole cents, not to 0.30000000000000004-style drift."""
    rows = [["Amount"]] + [[0.1]] * 3 + [[0.7]] * 10
    record, (column,) = summarize_sheet(iter(rows), "S")
    assert record["numeric_sum"] == 7.3
    assert column["mean"] == 7.3 / 13


def test_progress_is_reported_per_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_stats, "CHUNK_ROWS", 10)
    seen: list[int] = []
    summarize_sheet(iter([["n"]] + [[i] for i in range(25)]), "S", on_rows=seen.append)
    assert seen == [10, 20, 26]


def test_distinct_values_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheet_stats, "DISTINCT_LIMIT", 50)
    _, (column,) = summarize_sheet(iter([["id"]] + [[f"K{i}"] for i in range(500)]), "S")
    assert column["distinct"] == 50
    assert column["count"] == 500
