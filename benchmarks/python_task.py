"""The `python` task against the loop a user writes by hand, on the same 40 workbooks of about 1 MB,
measured side by side in one run.

    python -m benchmarks.python_task [--repeat 2] [--loop-repeat 1] [--corpus DIR] [--files 40]

The user's own script, both ways: a sequential loop of `pandas.read_excel(path).describe()` with
pandas' default engine for xlsx (openpyxl, what most scripts use; named here, since pandas 3 warns that
the default will change) and with `engine="calamine"` (what a user who knows about it writes); each
loop keeps its describe() tables, as a script that then concatenates them would. The python task runs
the same function, `process(df, context): return df.describe()`, through `run_batch(task="python",
backend="auto", output="combined")`, so it also writes combined.xlsx with every file's table, and it is
timed from the call to the return, worker start-up and each worker's pandas import included. Rounds are interleaved;
the medians are compared, and the combined table is checked to hold every loop table's rows.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.make_corpus import CorpusSpec, default_dir, ensure_corpus

SCRIPT = "def process(df, context):\n    return df.describe()\n"


def user_loop(paths: list[str], engine: str) -> tuple[float, int]:
    """The hand-written loop; (seconds, rows of all describe() tables)."""
    import pandas

    started = time.perf_counter()
    tables = [pandas.read_excel(path, engine=engine).describe() for path in paths]
    seconds = time.perf_counter() - started
    return seconds, sum(len(t) for t in tables)


def python_task(paths: list[str], script: Path) -> tuple[float, int, str]:
    """The python task on the same files; (seconds, rows of the combined table, backend x workers)."""
    from xlbatch.runner import run_batch

    out = Path(tempfile.mkdtemp(prefix="xlbatch-bench-python-"))
    try:
        started = time.perf_counter()
        report = run_batch(
            task="python",
            paths=paths,
            out_dir=str(out),
            params={"script": str(script), "output": "combined"},
            backend="auto",
            report_path="",
        )
        seconds = time.perf_counter() - started
        assert report.counts["ok"] == len(paths), report.counts
        rows = len(report.tables["Combined"])
        return seconds, rows, f"{report.backend} x{report.workers}"
    finally:
        shutil.rmtree(out, ignore_errors=True)


def measure(paths: list[str], repeat: int, loop_repeat: int) -> dict[str, Any]:
    import pandas

    pandas.read_excel(paths[0], engine="calamine").describe()  # pandas' own import stays out of the loops
    script = Path(tempfile.mkdtemp(prefix="xlbatch-bench-script-")) / "describe.py"
    script.write_text(SCRIPT, encoding="utf-8")
    times: dict[str, list[float]] = {"loop_openpyxl": [], "loop_calamine": [], "python_task": []}
    rows: dict[str, int] = {}
    choice = ""
    for round_number in range(repeat):
        if round_number < loop_repeat:
            seconds, rows["loop_openpyxl"] = user_loop(paths, "openpyxl")
            times["loop_openpyxl"].append(seconds)
            print(f"  round {round_number + 1}: loop, pandas defaults (openpyxl): {seconds:.1f} s", flush=True)
        seconds, rows["loop_calamine"] = user_loop(paths, "calamine")
        times["loop_calamine"].append(seconds)
        print(f"  round {round_number + 1}: loop, engine='calamine': {seconds:.1f} s", flush=True)
        seconds, rows["python_task"], choice = python_task(paths, script)
        times["python_task"].append(seconds)
        print(f"  round {round_number + 1}: python task ({choice}): {seconds:.1f} s", flush=True)
    assert len(set(rows.values())) == 1, f"the tables differ in rows: {rows}"
    medians = {name: statistics.median(runs) for name, runs in times.items() if runs}
    return {"files": len(paths), "runs": times, "medians": medians, "choice": choice, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the calamine loop and the task")
    parser.add_argument("--loop-repeat", type=int, default=1, help="rounds of the (slow) default-engine loop")
    parser.add_argument("--corpus", type=Path, help="the benchmark corpus (default: made or reused in temp)")
    parser.add_argument("--files", type=int, default=40, help="how many of the standard workbooks")
    args = parser.parse_args(argv)
    root = ensure_corpus(args.corpus or default_dir(), CorpusSpec())
    paths = sorted(str(p) for p in (root / "standard").glob("*.xlsx"))[: args.files]
    size = sum(Path(p).stat().st_size for p in paths) / 1e6
    print(f"{len(paths)} workbooks, {size:.1f} MB; {args.repeat} round(s), interleaved", flush=True)
    result = measure(paths, args.repeat, args.loop_repeat)
    task = result["medians"]["python_task"]
    print(f"\nmedians over {len(paths)} files ({result['rows']['python_task']:,} describe() rows each way):")
    for name, label in (("loop_openpyxl", "user's loop, pandas defaults (openpyxl)"),
                        ("loop_calamine", "user's loop, engine='calamine'")):
        if name in result["medians"]:
            loop = result["medians"][name]
            print(f"  {label:<44} {loop:7.1f} s   python task {task:5.1f} s   {loop / task:5.1f}x faster")
    print(f"  python task: backend auto chose {result['choice']}; runs {result['runs']['python_task']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
