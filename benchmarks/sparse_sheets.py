"""Stray cells and the extent scan, side by side in one run.

    python benchmarks/sparse_sheets.py [LEDGER_1MB.xlsx LARGE_20MB.xlsx]

1. summarize of a 5 KB workbook with two rows of data and one value at SG200001: the dense calamine read
   (the sparse path switched off) against the sparse path, seconds and peak memory, each in a fresh process.
2. The preflight extent scan against summarize on the given workbooks (from benchmarks/make_corpus.py),
   as a fraction of summarize's time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_SUMMARIZE = """
import json, resource, sys, time
from xlbatch import workbook
from xlbatch.preflight import sniff
from xlbatch.tasks.sheet_stats import summarize_sheet
if sys.argv[2] == "dense":
    workbook.WorkbookReader._sparse = lambda self, sheet: None
start = time.perf_counter()
source = sniff(sys.argv[1])
scan = time.perf_counter() - start
with workbook.open_workbook(source) as book:
    for name in book.sheet_names:
        raw = book.raw_rows(name)
        summarize_sheet(raw.rows, name, raw.first_column)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "scan": scan, "peak_mb": peak}))
"""


def _run(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _SUMMARIZE, str(path), mode], cwd=REPO, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _scan_seconds(path: Path) -> float:
    from xlbatch.extent import check
    from xlbatch.preflight import sniff

    fmt = sniff(path).format
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        check(str(path), fmt)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(REPO))
    from tests.core.sparse_books import stray_book

    with tempfile.TemporaryDirectory() as folder:
        stray = stray_book(Path(folder) / "stray.xlsx", "SG200001")
        dense, sparse = _run(stray, "dense"), _run(stray, "sparse")
    print("summarize, two rows + one value at SG200001 (5 KB)")
    print(f"  dense calamine read : {dense['seconds']:8.2f} s  peak {dense['peak_mb']:8.0f} MB")
    print(f"  sparse path         : {sparse['seconds']:8.2f} s  peak {sparse['peak_mb']:8.0f} MB")
    print(f"  ratio               : {dense['seconds'] / sparse['seconds']:8.0f}x time, "
          f"{dense['peak_mb'] / sparse['peak_mb']:.0f}x memory")  # fmt: skip
    for name in argv:
        path = Path(name)
        summary = min((_run(path, "sparse") for _ in range(3)), key=lambda r: r["seconds"])
        scan = _scan_seconds(path)
        print(f"{path.name} ({path.stat().st_size / 2**20:.1f} MB): summarize {summary['seconds']:.2f} s "
              f"(of which preflight {summary['scan']:.2f} s), extent scan alone {scan:.3f} s "
              f"= {scan / summary['seconds']:.0%} of summarize")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
