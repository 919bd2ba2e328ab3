"""The `cells` section of benchmarks/run.py: `auto` against every fixed backend, task by batch size, and
the two targets that go with it (summarize against the user's pandas loop, combine to xlsx against pandas).

    cells        summarize, convert and combine on 5 tiny files, 12 x 1 MB, 40 x 1 MB and 1,000 tiny
                 files, each with sequential, threads, processes, multiprocessing and joblib at 2 workers
                 and `auto`; per cell the best fixed backend, auto's time, their ratio (target <= 1.05)
                 and what auto decided (the report's reason)
    vs pandas    the loop `pandas.read_excel(path, sheet_name=None)` + `describe(include="all")` (pandas'
                 default engine) on the 12 and 40 files, one run each, against auto's median in its cell
    combine xlsx 12 x 1 MB combined into one xlsx: pandas.concat of read_excel(engine="calamine") plus
                 to_excel(engine="xlsxwriter"), against xlbatch's combine on 1 and 2 worker processes

Runs are interleaved (every configuration of a cell once, then again, each round in a rotated order),
so a change of load on a shared machine hits them alike, and each run starts once the worker processes
of the run before have exited; medians of `repeat` runs. On the 40-file cells sequential is left out unless
asked for (it is about twice the parallel backends' time there, and a run of it costs minutes); the
5-file cells, a few hundredths of a second each, run five times as many rounds, the 1,000-file ones
(2-4 s, noisy) three times as many.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

AUTO_SLACK = 1.05
SUMMARIZE_VS_PANDAS = 20.0
COMBINE_VS_PANDAS = 3.0
COMBINE_TWO_VS_ONE = 1.7
FIXED = (("sequential", 1), ("threads", 2), ("processes", 2), ("multiprocessing", 2), ("joblib", 2))
CELL_TASKS = ("summarize", "convert", "combine")
# Short batches run more rounds: a few hundredths of a second (a millisecond of noise is 5%), and 1,000
# tiny files in 2-4 s, where runs of one backend on this shared machine spread by 0.5 s.
EXTRA_ROUNDS = {"5 small": 5, "1,000 tiny": 3}


def batches(corpora: Any, spread: Callable[[list[str], int | None], list[str]]) -> dict[str, list[str]]:
    return {
        "5 small": corpora.tiny[:5],
        "12 x 1 MB": spread(corpora.standard, 12),
        "40 x 1 MB": spread(corpora.standard, 40),
        "1,000 tiny": corpora.tiny[:1000],
    }


def section_cells(
    corpora: Any,
    repeat: int,
    run_engine: Callable[..., Any],
    spread: Callable[[list[str], int | None], list[str]],
    log: Callable[[str], None],
    params: dict[str, dict[str, Any]],
    wanted: list[str] | None = None,
    sequential_everywhere: bool = False,
    tasks: list[str] | None = None,
) -> dict[str, Any]:
    """Every cell, interleaved within the cell; rows with medians, the best fixed backend and auto's ratio."""
    rows = []
    for name, paths in batches(corpora, spread).items():
        if wanted and name not in wanted:
            continue
        for task in tasks or CELL_TASKS:
            configs = [c for c in FIXED if c[0] != "sequential" or len(paths) <= 12 or sequential_everywhere]
            configs.append(("auto", None))
            runs: dict[tuple[str, int | None], list[Any]] = {c: [] for c in configs}
            rounds = repeat * EXTRA_ROUNDS.get(name, 1)
            for round_number in range(rounds):
                # Each round in another order, so that no configuration always follows the same one (a
                # joblib run's workers may still be exiting when the next run starts).
                shift = round_number % len(configs)
                for backend, workers in configs[shift:] + configs[:shift]:
                    settle()
                    run = run_engine(task, name, paths, backend, workers, params.get(task, {}))
                    runs[(backend, workers)].append(run)
                    log(f"  [{round_number + 1}/{rounds}] {task:<10} {name:<11} {backend:<16} {run.seconds:7.2f} s")
            rows.append(_cell_row(task, name, len(paths), runs))
            row = rows[-1]
            log(
                f"  => {task} {name}: auto {row['auto_seconds']:.2f} s, best {row['best']} "
                f"{row['best_seconds']:.2f} s, ratio {row['ratio']:.2f}"
            )
    return {"rows": rows, "slack": AUTO_SLACK}


def settle(limit: float = 10.0, quiet: float = 0.01, interval: float = 0.1) -> None:
    """Wait until the processes the run before left behind are idle (a pool shutting down, loky's workers
    exiting): their CPU time grows by under `quiet` seconds in `interval`, or `limit` seconds passed.
    Long-lived helpers (multiprocessing's resource tracker) stay, idle."""
    import psutil

    def children_cpu() -> float:
        total = 0.0
        for child in psutil.Process().children(recursive=True):
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
        return total

    deadline = time.monotonic() + limit
    before = children_cpu()
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = children_cpu()
        if now - before < quiet:
            return
        before = now


def _cell_row(task: str, name: str, files: int, runs: dict[tuple[str, int | None], list[Any]]) -> dict[str, Any]:
    medians = {f"{b} x{w}" if w else b: statistics.median(r.seconds for r in rs) for (b, w), rs in runs.items()}
    auto_runs = runs[("auto", None)]
    fixed = {k: v for k, v in medians.items() if k != "auto"}
    best = min(fixed, key=fixed.__getitem__)
    return {
        "task": task,
        "batch": name,
        "files": files,
        "medians": medians,
        "runs": {k: [r.seconds for r in rs] for k, rs in zip(medians, runs.values(), strict=True)},
        "best": best,
        "best_seconds": fixed[best],
        "auto_seconds": medians["auto"],
        "ratio": medians["auto"] / fixed[best],
        "auto_ran": [f"{r.chosen} x{r.chosen_workers}" for r in auto_runs],
        "auto_reason": auto_runs[-1].reason,
        "ok": min(r.ok for rs in runs.values() for r in rs),
    }


def pandas_describe_loop(paths: list[str]) -> float:
    """The user's loop: every sheet of every workbook read with pandas' default engine, then described."""
    import pandas

    started = time.perf_counter()
    for path in paths:
        for frame in pandas.read_excel(path, sheet_name=None).values():
            frame.describe(include="all")
    return time.perf_counter() - started


def section_vs_pandas(corpora: Any, cells: dict[str, Any], spread: Callable[..., list[str]], log: Callable) -> dict:
    """summarize's auto median in its cell against one run of the pandas loop on the same files."""
    import pandas

    pandas.read_excel(corpora.tiny[0], sheet_name=None)  # the import and first-touch costs stay out
    result = {}
    for name in ("12 x 1 MB", "40 x 1 MB"):
        row = next((r for r in cells["rows"] if r["task"] == "summarize" and r["batch"] == name), None)
        if row is None:
            continue
        loop = pandas_describe_loop(batches(corpora, spread)[name])
        log(f"  pandas loop {name}: {loop:.1f} s against auto {row['auto_seconds']:.2f} s")
        result[name] = {
            "pandas_seconds": loop,
            "auto_seconds": row["auto_seconds"],
            "ratio": loop / row["auto_seconds"],
        }
    return {"batches": result, "target": SUMMARIZE_VS_PANDAS, "pandas": pandas.__version__}


def pandas_combine(paths: list[str], target: Path) -> float:
    """pandas' way to combine workbooks into one xlsx: concat of the calamine reads, xlsxwriter to write."""
    import pandas

    started = time.perf_counter()
    frames = [pandas.read_excel(path, engine="calamine") for path in paths]
    pandas.concat(frames, ignore_index=True).to_excel(target, engine="xlsxwriter", index=False)
    return time.perf_counter() - started


def section_combine_xlsx(
    corpora: Any, repeat: int, run_engine: Callable[..., Any], spread: Callable[..., list[str]], log: Callable
) -> dict[str, Any]:
    """12 x 1 MB into one xlsx: pandas against combine on 1 and 2 worker processes, interleaved."""
    paths = spread(corpora.standard, 12)
    times: dict[str, list[float]] = {"pandas": [], "processes x1": [], "processes x2": [], "auto": []}
    for round_number in range(repeat):
        with tempfile.TemporaryDirectory(prefix="xlbatch-bench-pandas-") as folder:
            times["pandas"].append(pandas_combine(paths, Path(folder) / "combined.xlsx"))
        for label, backend, workers in (
            ("processes x1", "processes", 1),
            ("processes x2", "processes", 2),
            ("auto", "auto", None),
        ):
            run = run_engine("combine", "12 x 1 MB", paths, backend, workers, {"output_format": "xlsx"})
            times[label].append(run.seconds)
        log(
            f"  [{round_number + 1}/{repeat}] combine xlsx: "
            + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items())
        )
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "files": len(paths),
        "medians": medians,
        "runs": times,
        "vs_pandas": medians["pandas"] / medians["processes x2"],
        "two_vs_one": medians["processes x1"] / medians["processes x2"],
        "targets": {"vs_pandas": COMBINE_VS_PANDAS, "two_vs_one": COMBINE_TWO_VS_ONE},
    }


def print_cells(results: dict[str, Any]) -> None:
    cells = results.get("cells")
    if cells:
        print(f"\n`auto` against the best fixed backend (medians; target auto <= {AUTO_SLACK:.2f} x best)")
        print(f"{'task':<10} {'batch':<11} {'best fixed':<20} {'auto':>8} {'ratio':>6}  verdict  auto ran")
        for r in cells["rows"]:
            verdict = "PASS" if r["ratio"] <= AUTO_SLACK else "MISS"
            ran = ", ".join(sorted(set(r["auto_ran"])))
            print(
                f"{r['task']:<10} {r['batch']:<11} {r['best']:<12}{r['best_seconds']:7.2f} s"
                f" {r['auto_seconds']:6.2f} s {r['ratio']:6.2f}  {verdict:<7}  {ran}"
            )
        for r in cells["rows"]:
            print(f"  {r['task']} {r['batch']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["medians"].items()))
    vs = results.get("vs_pandas")
    if vs:
        print(f"\nsummarize with auto against the pandas loop (pandas {vs['pandas']}; target {vs['target']:.0f}x)")
        for name, b in vs["batches"].items():
            verdict = "PASS" if b["ratio"] >= vs["target"] else "MISS"
            print(
                f"  {name}: pandas {b['pandas_seconds']:.1f} s, auto {b['auto_seconds']:.2f} s: "
                f"{b['ratio']:.1f}x {verdict}"
            )
    xlsx = results.get("combine_xlsx")
    if xlsx:
        m, t = xlsx["medians"], xlsx["targets"]
        print(
            f"\ncombine {xlsx['files']} x 1 MB into one xlsx (medians): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in m.items())
        )
        print(
            f"  vs pandas {xlsx['vs_pandas']:.2f}x (target {t['vs_pandas']:.1f}x), "
            f"2 workers vs 1 {xlsx['two_vs_one']:.2f}x (target {t['two_vs_one']:.1f}x)"
        )
