"""The starter script the desktop app's "New from template" writes for the `python` task: a commented
filter-and-total example that runs as it is on a sheet with Amount and Region columns.

`write_starter(path)` writes it (never over an existing file); the app then opens it in the system editor.
"""

from __future__ import annotations

import os
from pathlib import Path

from xlbatch.atomic import atomic_path

STARTER = '''\
"""My function for xlbatch's "Run my own function" task.

xlbatch calls process(df, context) for every sheet it reads (the "Sheet" setting: a name, a position,
or * for every sheet) of every workbook in the batch, on all your processor cores. One file that goes
wrong gets its own error row; the others go on. This file is yours: change it, save it, press Start.
It runs with your rights, like any script you run yourself.

df is the sheet as a pandas DataFrame, read by xlbatch: the "Header row" setting gives the column
names; dates are datetime64, numbers are numbers, blank cells are NaN (NaT in a date column), text
is text, and a column that mixes kinds holds each value as it is.

What process() returns decides what you get:
    a DataFrame   a table: one per workbook, or every file's in one combined table (the "Output"
                  setting), with the source file and sheet in front
    a dict        one row of results.xlsx, and this file's result in report.json
    None          nothing is written for you (write your own files to context.output_path(...))

context.path, context.relative_path, context.sheet   which file and sheet this call is for
context.output_path("name.csv")   a path of your own in the output folder, removed if process() fails
context.progress(0.5)             how far you are with this file
context.warn("text")              a warning on this file's row

To get every sheet of a workbook at once, define process_workbook(sheets, context) instead, where
sheets is {sheet name: DataFrame}. Define only one of the two.
"""

import pandas as pd

# The columns this example works with: change them to yours.
AMOUNT = "Amount"
GROUP = "Region"


def process(df: pd.DataFrame, context) -> pd.DataFrame | dict | None:
    if AMOUNT not in df.columns or GROUP not in df.columns:
        context.warn(f"Sheet {context.sheet!r} has no {AMOUNT!r} or {GROUP!r} column, so it was left out.")
        return None
    # Filter: the rows whose amount is a number above zero (text and blanks are left out).
    amounts = pd.to_numeric(df[AMOUNT], errors="coerce")
    kept = df[amounts > 0].assign(**{AMOUNT: amounts})
    # Total: one row per group, with its sum and how many rows it has.
    return kept.groupby(GROUP, as_index=False).agg(Total=(AMOUNT, "sum"), Rows=(AMOUNT, "size"))
'''


def write_starter(path: str | os.PathLike[str], text: str = STARTER) -> Path:
    """Write the starter script (or `text`) to `path`, atomically; FileExistsError if a file is there."""
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target} exists already; choose another name for the new script.")
    with atomic_path(target) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return target
