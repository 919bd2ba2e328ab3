"""What the python task's tests share: scripts written into a test folder, and sales workbooks to run them on."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

from tests.core.task_kit import write_any

# A ten-line script of the kind the README shows: total Amount by Region.
TOTALS = """
    def process(df, context):
        totals = df.groupby("Region", as_index=False)["Amount"].sum()
        return totals
"""


def write_script(folder: Path, body: str, name: str = "script.py") -> Path:
    """`body` (dedented) as a .py file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def sales_rows(offset: int = 0) -> list[list[Any]]:
    """A header and six sales: North and South alternate; amounts 10, 20, ... plus `offset`."""
    rows: list[list[Any]] = [["Date", "Region", "Amount"]]
    for i in range(6):
        rows.append([dt.date(2024, 1, i + 1), ("North", "South")[i % 2], 10 * (i + 1) + offset])
    return rows


def sales_book(path: Path, offset: int = 0, sheets: dict[str, list[list[Any]]] | None = None) -> Path:
    """A workbook with a Sales sheet (sales_rows), or the sheets given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_any(path, sheets or {"Sales": sales_rows(offset)})


def sales_folder(folder: Path, count: int = 3) -> Path:
    """`count` sales workbooks (north/, south/ and the top folder), each with its own offset."""
    for i in range(count):
        sub = ("", "north", "south")[i % 3]
        sales_book(folder / sub / f"book{i}.xlsx", offset=i)
    return folder
