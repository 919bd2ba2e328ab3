"""The parameters several tasks take, declared once: `sheet`, `sheets`, `header_row` and `output_format`
have the same name, type, default, choices and lower limit wherever they appear, so a recipe or the form
means the same by them in every task. Each task still says in its own help what the parameter does
there, and lists its parameters in its own order (`xlbatch tasks` shows them as declared).
"""

from __future__ import annotations

from xlbatch.params import Param

# What a task that writes a table can write it as.
TABLE_FORMATS = ("xlsx", "csv")
# The most rows a sheet has (Excel's limit): a header row below it cannot exist.
SHEET_ROWS = 1_048_576


def sheet(help: str) -> Param:
    """The one sheet a task reads: its name or 1-based position, the first sheet unless told."""
    return Param("sheet", "str", "1", help)


def sheets(help: str) -> Param:
    """The sheets a task works on, by name or position; empty means every sheet."""
    return Param("sheets", "list", [], help)


def header_row(help: str = "The row that holds the column names.", maximum: int | None = SHEET_ROWS) -> Param:
    """The 1-based row that holds the column names."""
    return Param("header_row", "int", 1, help, minimum=1, maximum=maximum)


def output_format(help: str) -> Param:
    """The format a task writes its table in: xlsx unless told."""
    return Param("output_format", "choice", "xlsx", help, choices=TABLE_FORMATS)
