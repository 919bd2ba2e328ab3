"""What exactness costs, measured side by side in one sitting: the output check and the .xls reader.

    python -m benchmarks.exactness [--corpus DIR] [--files 12] [--repeat 3] [--backend sequential]

- verify: `convert` of the standard corpus's first N ledgers (default 12 x about 1 MB) with the output
  check on and off, runs interleaved (on, off, on, off, ...), medians compared. The check's own share
  is also timed inside the run (reading each output back and comparing it), from a profile of one run.
- xls: one ledger of about 1 MB written as .xls (xlwt, deterministic), read row by row with xlrd (the
  project's .xls reader, xlbatch.xls_reader) and with python-calamine, interleaved, medians compared.

The corpus is built by benchmarks/make_corpus.py when missing. Prints a small table; --json FILE also
saves the figures. Timings are of this machine at this moment: the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.make_corpus import LEDGER_HEADER, CorpusSpec, default_dir, ensure_corpus, ledger_rows


def convert_seconds(paths: list[str], verify: bool, backend: str) -> float:
    from xlbatch.runner import run_batch

    with tempfile.TemporaryDirectory(prefix="xlbatch-exactness-") as out:
        start = time.perf_counter()
        report = run_batch(task="convert", paths=paths, out_dir=out, backend=backend, verify=verify)
        seconds = time.perf_counter() - start
    failed = [f.path for f in report.files if f.status != "ok"]
    if failed:
        raise SystemExit(f"convert failed on {failed}")
    return seconds


def verify_share(paths: list[str]) -> dict[str, float]:
    """One sequential run with verify on: its seconds, the seconds of the check itself (the worker's call
    of xlbatch.verify.verify_outputs, timed from inside), and what python-calamine alone takes to parse
    the outputs again (the part of the check that any read-back pays)."""
    import python_calamine

    import xlbatch.worker
    from xlbatch.runner import run_batch

    spent = {"check_seconds": 0.0}
    check = xlbatch.worker.verify_outputs

    def timed_check(ctx: Any) -> None:
        start = time.perf_counter()
        try:
            check(ctx)
        finally:
            spent["check_seconds"] += time.perf_counter() - start

    xlbatch.worker.verify_outputs = timed_check  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="xlbatch-exactness-") as out:
        start = time.perf_counter()
        try:
            report = run_batch(task="convert", paths=paths, out_dir=out, backend="sequential", verify=True)
        finally:
            xlbatch.worker.verify_outputs = check  # type: ignore[assignment]
        spent["run_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        for output in report.outputs or [o for f in report.files for o in f.outputs]:
            book = python_calamine.CalamineWorkbook.from_path(output)
            for name in book.sheet_names:
                book.get_sheet_by_name(name)
            book.close()
        spent["parse_seconds"] = time.perf_counter() - start
    return spent


def write_xls(path: Path, target_bytes: int = 1_000_000) -> int:
    """A sales ledger as an .xls of about `target_bytes`; returns its data rows."""
    import xlwt

    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Ledger")
    for c, name in enumerate(LEDGER_HEADER):
        sheet.write(0, c, name)
    rows = max(100, target_bytes // 190)  # about 190 bytes a ledger row in BIFF8 as xlwt writes it
    for r, row in enumerate(ledger_rows(rows, seed=1), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            sheet.write(r, c, value, date) if c == 0 else sheet.write(r, c, value)
    book.save(str(path))
    return rows


def read_xlrd(path: str) -> int:
    from xlbatch.workbook import WorkbookReader

    with WorkbookReader(path, "xls") as book:
        return sum(len(row) for name in book.sheet_names for row in book.rows(name))


def read_calamine(path: str) -> int:
    import python_calamine

    from xlbatch.workbook import normalise

    book = python_calamine.CalamineWorkbook.from_path(path)
    try:
        return sum(
            len([normalise(v) for v in row])
            for name in book.sheet_names
            for row in book.get_sheet_by_name(name).iter_rows()
        )
    finally:
        book.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="the benchmark corpus folder (default: make_corpus's default)")
    parser.add_argument("--files", type=int, default=12, help="ledgers to convert (default 12)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each configuration")
    parser.add_argument("--backend", default="sequential", help="backend of the convert runs (default sequential)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    root = Path(args.corpus) if args.corpus else default_dir()
    ensure_corpus(root, CorpusSpec(), log=lambda text: print(text, file=sys.stderr))
    ledgers = sorted(str(p) for p in (root / "standard").glob("sales-ledger-*.xlsx"))[: args.files]
    megabytes = sum(Path(p).stat().st_size for p in ledgers) / 2**20
    times: dict[bool, list[float]] = {True: [], False: []}
    convert_seconds(ledgers[:1], True, args.backend)  # warm-up: imports, disk cache
    for _ in range(args.repeat):
        for verify in (True, False):
            times[verify].append(convert_seconds(ledgers, verify, args.backend))
    on, off = statistics.median(times[True]), statistics.median(times[False])
    share = verify_share(ledgers)

    with tempfile.TemporaryDirectory(prefix="xlbatch-exactness-") as folder:
        xls = Path(folder) / "ledger.xls"
        rows = write_xls(xls)
        size = xls.stat().st_size
        reads: dict[str, list[float]] = {"xlrd": [], "calamine": []}
        for _ in range(max(3, args.repeat)):
            for name, read in (("xlrd", read_xlrd), ("calamine", read_calamine)):
                start = time.perf_counter()
                read(str(xls))
                reads[name].append(time.perf_counter() - start)
    xlrd_s, calamine_s = statistics.median(reads["xlrd"]), statistics.median(reads["calamine"])

    figures: dict[str, Any] = {
        "convert": {"files": len(ledgers), "megabytes": round(megabytes, 2), "backend": args.backend,
                    "verify_on_s": round(on, 3), "verify_off_s": round(off, 3),
                    "verify_cost_percent": round(100 * (on - off) / off, 1),
                    **{k: round(v, 3) for k, v in share.items()}},
        "xls_read": {"rows": rows, "megabytes": round(size / 2**20, 2), "xlrd_s": round(xlrd_s, 3),
                     "calamine_s": round(calamine_s, 3), "ratio": round(xlrd_s / calamine_s, 2)},
    }  # fmt: skip
    c, x = figures["convert"], figures["xls_read"]
    print(f"convert {c['files']} ledgers ({c['megabytes']} MB, {args.backend}), medians of {args.repeat}:")
    print(f"  verify on  {on:7.2f} s")
    print(f"  verify off {off:7.2f} s   -> the check costs {c['verify_cost_percent']:+.1f}%")
    print(f"  one sequential run: {share['run_seconds']:.2f} s, of which the check {share['check_seconds']:.2f} s; "
          f"python-calamine alone parses the outputs in {share['parse_seconds']:.2f} s")  # fmt: skip
    print(f"read a {x['megabytes']} MB .xls ({rows:,} rows): xlrd {xlrd_s:.3f} s, python-calamine {calamine_s:.3f} s "
          f"({x['ratio']:.1f}x)")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
