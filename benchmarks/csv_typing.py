"""What typing CSV columns from all their values costs: the reader's rows now against cell-by-cell typing as the
reader did it before (kept here as the baseline), side by side in one run, on ~50 MB exports.

    python -m benchmarks.csv_typing [--mb 50] [--repeat 3] [--keep DIR]
    python -m benchmarks.csv_typing --peak before|now FILE   # one side's peak memory, in a child process

Two files are generated: the sales ledger of tests/corpus.py as Excel's "CSV UTF-8" writes it (US, ISO dates)
and the same table as a German Excel writes it (';', cp1252, decimal commas, thousands dots, dotted dates).
Runs are interleaved (before, now, before, now ...) so a load change on a shared machine hits both alike;
the medians and their ratio are printed. Both sides start from the decoded text the reader holds, so the
figures are the typing and the csv module's parsing, not the disk. Peak memory (Unix only) is each side's
maximum resident size in a fresh child process that opens the file and reads every row.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlbatch.workbook import WorkbookReader, open_workbook

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
ROWS_PER_MB = 16_500  # ledger rows in a megabyte, near enough


def per_cell_number(text: str, decimal_comma: bool) -> int | float | None:
    """The baseline: how the reader typed each cell before columns were typed (parse_text_number)."""
    text = text.strip()
    if _NUMBER.match(text):
        number = float(text)
        if number.is_integer() and "." not in text and "e" not in text.lower() and abs(number) < 2**53:
            return int(text)
        return number
    if decimal_comma and _DECIMAL_COMMA.match(text):
        return float(text.replace(",", "."))
    return None


def per_cell_rows(book: WorkbookReader) -> int:
    """Every row typed cell by cell, as the reader did before; returns the row count."""
    assert book._csv_text is not None
    decimal_comma = book.csv_dialect == ";"
    count = 0
    for record in csv.reader(io.StringIO(book._csv_text, newline=""), delimiter=book.csv_dialect):
        row: list[Any] = []
        for text in record:
            if text == "":
                row.append(None)
                continue
            number = per_cell_number(text, decimal_comma)
            row.append(text if number is None else number)
        count += 1
    return count


def column_rows(book: WorkbookReader) -> int:
    """Every row as the reader gives it now; returns the row count."""
    count = 0
    for _ in book.rows():
        count += 1
    return count


SIDES: dict[str, Callable[[WorkbookReader], int]] = {"before": per_cell_rows, "now": column_rows}


def german_number(value: int | float) -> str:
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def write_files(folder: Path, megabytes: float) -> list[Path]:
    import tests.corpus as corpus

    rows = int(megabytes * ROWS_PER_MB)
    us = corpus.make_ledger(folder / "us.csv", rows=rows, seed=1)
    table = corpus.ledger_truth(rows, seed=2)
    lines = [";".join(table[0])]
    for record in table[1:]:
        cells = []
        for value in record:
            if isinstance(value, dt.date):
                cells.append(f"{value.day:02}.{value.month:02}.{value.year}")
            elif isinstance(value, int | float):
                cells.append(german_number(value))
            else:
                cells.append(str(value))
        lines.append(";".join(cells))
    german = folder / "german.csv"
    german.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252", "replace"))
    return [us, german]


def measure(path: Path, repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in SIDES}
    counts = set()
    for _ in range(repeat):
        for name, read in SIDES.items():
            with open_workbook(path) as book:  # decoding and sniffing are outside the timing, alike for both
                start = time.perf_counter()
                counts.add(read(book))
                times[name].append(time.perf_counter() - start)
    assert len(counts) == 1, counts  # both read every row
    return {name: statistics.median(values) for name, values in times.items()}


def peak_memory(side: str, path: Path) -> float | None:
    """Peak resident megabytes of a child process reading every row of `path` one way (None: not measurable)."""
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.csv_typing", "--peak", side, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return float(run.stdout) if run.returncode == 0 and run.stdout.strip() else None


def _print_own_peak(side: str, path: Path) -> None:
    import resource  # Unix only; the parent then prints no memory column

    with open_workbook(path) as book:
        SIDES[side](book)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # kilobytes on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50, help="size of each generated file (default 50)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--peak", nargs=2, metavar=("SIDE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak:
        _print_own_peak(args.peak[0], Path(args.peak[1]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'file':<12} {'MB':>6} {'before s':>9} {'now s':>8} {'now/before':>11} {'peak MB before/now':>19}")
        for path in write_files(folder, args.mb):
            medians = measure(path, args.repeat)
            size = path.stat().st_size / 1e6
            ratio = medians["now"] / medians["before"]
            peaks = [peak_memory(side, path) for side in SIDES]
            memory = "/".join("?" if p is None else f"{p:.0f}" for p in peaks)
            print(
                f"{path.name:<12} {size:>6.1f} {medians['before']:>9.2f} {medians['now']:>8.2f} {ratio:>10.2f}x "
                f"{memory:>19}"
            )


if __name__ == "__main__":
    main()
