"""Find & replace on one ~1 MB sales ledger: the package editor against openpyxl's load-and-save (what the
task did before it edited packages directly), measured side by side in one run.

    python -m benchmarks.find_replace_speed [--repeat 3] [--mb 1.0]

Two ledgers: one with inline strings (xlsxwriter's constant_memory mode, so every text cell is in the
sheet) and one with a shared string table (the way Excel saves). For each, the task replaces a region
name that is in about a tenth of the rows; "openpyxl" is load_workbook + the same replacement over the
text cells + save, as the task's previous version ran it. Runs are interleaved and the medians compared.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.make_corpus import LEDGER_BYTES_PER_ROW, LEDGER_HEADER, ledger_rows, write_table


def openpyxl_replace(src: Path, out: Path, find: str, replace: str) -> int:
    """The previous approach: load the workbook, replace in every text cell, save it."""
    from openpyxl import load_workbook

    pattern = re.compile(re.escape(find), re.IGNORECASE)
    with open(src, "rb") as handle:
        book = load_workbook(handle, rich_text=True)
    count = 0
    for sheet in book.worksheets:
        for cell in list(sheet._cells.values()):
            if cell.data_type == "s" and isinstance(cell.value, str):
                new, n = pattern.subn(lambda _m: replace, cell.value)
                if n:
                    cell.value, count = new, count + n
    book.save(out)
    return count


def package_replace(src: Path, out: Path, find: str, replace: str) -> int:
    from tests.core.task_kit import run_task
    from xlbatch.tasks.find_replace import FindReplace

    outcome = run_task(FindReplace, [src], {"find": find, "replace": replace}, out).outcome(src.name)
    assert outcome.status == "ok", outcome.error
    return outcome.result["replacements"]


def ledger(folder: Path, mb: float, shared_strings: bool) -> Path:
    path = folder / f"ledger-{'sst' if shared_strings else 'inline'}.xlsx"
    rows = ledger_rows(int(mb * 1_000_000 / LEDGER_BYTES_PER_ROW), 7)
    if shared_strings:  # write_table uses constant_memory (inline strings); a normal book keeps an sst
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("Sales")
        sheet.write_row(0, 0, LEDGER_HEADER)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
        book.close()
    else:
        write_table(path, "Sales", LEDGER_HEADER, rows, {9, 11})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mb", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for shared in (False, True):
            src = ledger(folder, args.mb, shared)
            times: dict[str, list[float]] = {"package": [], "openpyxl": []}
            counts: dict[str, int] = {}
            for index in range(args.repeat):
                for label, function in (("package", package_replace), ("openpyxl", openpyxl_replace)):
                    out = folder / f"{label}-{shared}-{index}"
                    out.mkdir()
                    start = time.perf_counter()
                    counts[label] = function(src, out if label == "package" else out / src.name, "North", "Nord")
                    times[label].append(time.perf_counter() - start)
            package, old = statistics.median(times["package"]), statistics.median(times["openpyxl"])
            kind = "shared strings" if shared else "inline strings"
            print(
                f"{src.stat().st_size / 1e6:.2f} MB ledger, {kind}: package {package:.2f} s, openpyxl {old:.2f} s, "
                f"{old / package:.1f}x faster ({counts['package']:,} replacements; openpyxl {counts['openpyxl']:,})"
            )


if __name__ == "__main__":
    main()
