"""Saving an error table (the desktop app's Errors tab) as an Excel workbook or a CSV file.

The format follows the file's suffix: `.csv` is UTF-8 with BOM (Excel shows accents correctly) with
formula-like values neutralised; anything else is an .xlsx with one sheet named "Errors", text kept as
text, laid out like xlbatch's other reports (fitted columns, a filtered header, the files linked). The
file is written atomically: a failed export leaves no half-written file behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xlbatch.atomic import atomic_path
from xlbatch.report_layout import FILE, TEXT
from xlbatch.writing import CsvTableWriter, XlsxTableWriter

SHEET_NAME = "Errors"


def write_error_table(
    path: str | os.PathLike[str],
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    paths: Sequence[str | None] | None = None,
) -> Path:
    """Write `header` and `rows` to `path` (.csv by its suffix, otherwise .xlsx); return the path.

    In the workbook the first column (the file's name) links to `paths[i]`, the file of row i, when given;
    every row is a failed file, so every row is tinted as failed rows are in summary.xlsx.
    Raises OSError when the file cannot be written (it is open in Excel, the folder is read-only)."""
    target = Path(path)
    with atomic_path(target) as tmp:
        if target.suffix.lower() == ".csv":
            with CsvTableWriter(tmp) as writer:
                writer.write_row(list(header))
                for row in rows:
                    writer.write_row(list(row))
        else:
            with XlsxTableWriter(tmp) as writer:
                writer.add_sheet(SHEET_NAME, list(header), [FILE, *(TEXT for _ in header[1:])])
                for index, row in enumerate(rows):
                    link = paths[index] if paths is not None and index < len(paths) else None
                    writer.write_row(list(row), link=link, failed=True)
    return target
