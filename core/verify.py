"""The output check: read every xlsx/csv output back and compare it with what its writer meant to write.

Before a file counts as done, each of its outputs that a table writer recorded (see xlbatch.output_record)
is read back the way any later step would read it (python-calamine through xlbatch.workbook for xlsx, the
csv module for CSV) and compared cell by cell, type included: the number 1 is not the text "1" and
0.30000000000000004 is not 0.3. The first difference fails the file with one plain sentence, names the
cell and both values in the detail, and the worker removes every output of that file, so nothing
half-checked is left. Batch outputs written by `reduce()` are checked the same way by the runner; a big
sheet the fragment writer made (combine's table) is then read back in spans on as many threads as the
batch had workers (xlbatch.verify_spans), and whole only where that does not show it the same. The
comparison itself is xlbatch.row_compare's.

Outputs no table writer recorded (find & replace edits the workbook's own package) are not checked here.
"""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.errors import TaskFailure
from xlbatch.output_record import CSV, OutputRecord
from xlbatch.row_compare import compare, non_empty
from xlbatch.verify_spans import same_in_spans

MESSAGE = "The output did not match what was written; it was removed."


def _check_xlsx(path: Path, record: OutputRecord, threads: int = 1) -> str | None:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        names = list(book.sheet_names)
        if names != record.sheets:
            return f"the workbook has the sheets {names}; written were {record.sheets}"
        for index, title in enumerate(record.sheets):
            if threads > 1 and index in record.cuts and same_in_spans(path, record, index, threads):
                continue  # read back in spans on several threads, and the same
            sheet = book.get_sheet_by_name(title)
            start = sheet.start
            pad = [""] * start[1] if start is not None and start[1] else None
            rows = non_empty(sheet.iter_rows(), "", pad) if start is not None else iter(())
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


def first_difference(path: str | Path, record: OutputRecord, threads: int = 1) -> str | None:
    """Where the file at `path` differs from its record, in words, or None when it holds exactly that.

    With `threads` > 1 a big sheet the fragment writer made is read back in spans on that many threads
    (xlbatch.verify_spans); it is read whole when that does not show it the same, to say where it differs."""
    path = Path(path)
    try:
        if record.kind == CSV:
            return _check_csv(path, record)
        return _check_xlsx(path, record, threads)
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


def verify_batch_outputs(folder: Any, threads: int = 1) -> list[str]:
    """Check the batch outputs `reduce()` wrote; remove each one that differs and say why, one line each.

    `threads`: how many a big sheet may be read back on (the batch's workers, idle by now)."""
    problems: list[str] = []
    records: dict[str, OutputRecord] = getattr(folder, "records", {})
    for output in list(folder.outputs):
        record = records.pop(output, None)
        if record is None:
            continue
        difference = first_difference(output, record, threads)
        if difference is not None:
            with contextlib.suppress(OSError):
                Path(output).unlink()
            folder.outputs.remove(output)
            problems.append(f"{Path(output).name}: {MESSAGE} ({difference})")
    return problems
