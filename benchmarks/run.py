"""The speed benchmarks of xlbatch: every figure measured side by side, in one process tree, in one sitting.

    python -m benchmarks.run [--quick] [--repeat 3] [--sections ...] [--corpus DIR] [--out DIR]
                             [--matrix-files N|TASK=N,...] [--tiny-files N] [--large-files N]
                             [--baseline-repeat N]
    python -m benchmarks.run --from results.json     # reprint an earlier run, targets re-evaluated

Extras for the reader comparison (not project dependencies): `pip install pandas fastexcel pyarrow`;
readers that are not installed are skipped with a note. The chart needs only PySide6.

Sections (all by default, in this order):

    readers    one ~1 MB ledger read by openpyxl read-only, pandas (openpyxl and calamine engines),
               python-calamine, fastexcel (to pandas, to arrow) and xlbatch's own reader; MB/s of each
    writers    a 20,000 x 13 table written by openpyxl write_only, xlsxwriter, xlsxwriter constant_memory
               and xlbatch's XlsxTableWriter
    baseline   what a user writes instead, a loop of `pandas.read_excel(path).describe()` (default engine,
               openpyxl), against `run_batch(task="summarize", backend="auto")` on the standard corpus
    backends   summarize, convert and combine on the standard corpus with every backend at 1 and 2
               workers, and `auto`: speed-up over `sequential`, parallel efficiency, peak memory
    sizes      the same tasks on the other corpus sizes (a 5-file batch, the tiny files, the large
               files) with sequential, each backend at 2 workers, and `auto`
    overhead   the tiny files on every backend at 1 worker: engine time per file minus the task's time
    first      time to the first result with a cold pool and with a warm one (xlbatch.executors.pools)
    gui        the GUI-thread stall, from benchmarks/gui_stall.py when it exists (run as a subprocess)

Every engine run calls xlbatch.runner in this process (`run_batch`, or `run_plan` with a PoolCache for warm
pools), so the timings are the engine's, without a Python start-up; each run writes into a temporary
folder deleted right after. Runs are repeated (--repeat, default 3) and interleaved (A B C A B C ...),
so a load change on a shared machine hits every configuration alike; the medians are reported, and
ratios are taken between medians of the same sitting. loky's reusable workers are shut down after each
joblib run, so every backend starts cold, as a CLI run does (the `first` section measures warm pools).

Results: a table on stdout, `results.json` and `results.png` (drawn by benchmarks/chart.py with Qt's
QPainter, offscreen) in --out. Each target of the speed issue is printed with PASS or MISS and its ratio.

Spawned workers import this module again as `__mp_main__`: keep its top-level imports light (no pandas,
no Qt), or every worker pays for them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `core` and `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cells
from benchmarks.make_corpus import LEDGER_HEADER, CorpusSpec, default_dir, ensure_corpus, ledger_rows

HERE = Path(__file__).resolve().parent
SECTIONS = ("readers", "writers", "baseline", "backends", "sizes", "overhead", "first", "gui", "cells")
TASKS = {  # task: parameters used for it here
    "summarize": {},
    "convert": {},
    # The combined table goes to CSV: the parent's single-threaded xlsx writing of half a million rows
    # would dwarf everything the backends do (xlsxwriter's own speed is in the writers section).
    "combine": {"output_format": "csv"},
}
PARALLEL = ("threads", "asyncio", "processes", "multiprocessing", "joblib")
PROCESS_BACKENDS = ("processes", "multiprocessing", "joblib")
MEMORY_INTERVAL = 0.05  # seconds between memory samples
RESCAN = 5  # samples between two listings of the child processes

# The targets of the speed issue.
TARGET_VS_PANDAS = 20.0
TARGET_SPEEDUP_2 = 1.8
TARGET_AUTO_SLACK = 1.10
TARGET_OVERHEAD_MS = 1.0
TARGET_PHYSICAL = 1.5
GUI_GOAL_MS = 100.0  # benchmarks/gui_stall.py's goal


def log(text: str) -> None:
    print(text, flush=True)


# -- measuring --------------------------------------------------------------------------------------


class MemorySampler:
    """Peak resident memory of this process and of its child processes (the workers), sampled on a thread."""

    def __init__(self, interval: float = MEMORY_INTERVAL) -> None:
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.parent_peak = 0
        self.children_peak = 0  # all children together
        self.child_peak = 0  # the largest single child
        self.max_children = 0
        # Children alive before the run (multiprocessing's resource tracker, idle pools) are not its workers.
        self.before = {child.pid for child in self.process.children(recursive=True)}
        # Listing the children reads every process's stat file (a tenth of a core at 20 samples a second,
        # taken from the run being measured): they are listed every RESCAN samples, measured every sample.
        self.children: list[Any] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)

    def sample(self) -> None:
        import psutil

        with contextlib.suppress(psutil.Error):
            self.parent_peak = max(self.parent_peak, self.process.memory_info().rss)
        total = count = 0
        if self.samples % RESCAN == 0:
            with contextlib.suppress(psutil.Error):
                self.children = [c for c in self.process.children(recursive=True) if c.pid not in self.before]
        self.samples += 1
        with contextlib.suppress(psutil.Error):
            for child in self.children:
                with contextlib.suppress(psutil.Error):
                    rss = child.memory_info().rss
                    total += rss
                    count += 1
                    self.child_peak = max(self.child_peak, rss)
        self.children_peak = max(self.children_peak, total)
        self.max_children = max(self.max_children, count)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


@dataclass
class EngineRun:
    task: str
    corpus: str
    backend: str  # as asked ("auto" included)
    workers: int | None
    seconds: float
    chosen: str  # the backend that ran
    chosen_workers: int
    reason: str
    ok: int
    failed: int
    first_result: float | None  # seconds from the call to the first finished file
    finishes: list[float] = field(repr=False, default_factory=list)  # perf_counter of each FileFinished
    task_seconds: list[float] = field(repr=False, default_factory=list)  # each file's own time, same order
    parent_peak: int = 0
    children_peak: int = 0
    child_peak: int = 0
    max_children: int = 0
    started: float = 0.0

    @property
    def key(self) -> tuple[str, str, str, int | None]:
        return (self.task, self.corpus, self.backend, self.workers)

    def overhead_per_file(self) -> float | None:
        """Steady-state engine time per file minus the task's own time per file (1-worker runs)."""
        if len(self.finishes) < 3:
            return None
        interval = (self.finishes[-1] - self.finishes[0]) / (len(self.finishes) - 1)
        own = statistics.fmean(self.task_seconds[1:])
        return interval - own


def shutdown_warm_workers() -> None:
    """loky keeps its workers between joblib calls: end them so the next run starts cold like the others."""
    from xlbatch.executors import shutdown_pools

    shutdown_pools()


def run_engine(
    task: str,
    corpus: str,
    paths: list[str],
    backend: str,
    workers: int | None,
    params: dict[str, Any] | None = None,
    pools: Any = None,
) -> EngineRun:
    """One batch through xlbatch.runner in this process, timed from the call to the return."""
    from xlbatch.events import FileFinished
    from xlbatch.plan import BatchSpec, plan_batch
    from xlbatch.runner import run_plan

    out = Path(tempfile.mkdtemp(prefix="xlbatch-bench-run-"))
    finishes: list[float] = []
    own: list[float] = []

    def on_event(event: Any) -> None:
        if isinstance(event, FileFinished):
            finishes.append(time.perf_counter())
            own.append(event.outcome.seconds)

    spec = BatchSpec(
        task=task,
        paths=paths,
        out_dir=str(out),
        params=dict(params if params is not None else TASKS.get(task, {})),
        backend=backend,
        workers=workers,
        report_path="",
    )
    gc.collect()
    try:
        with MemorySampler() as memory:
            started = time.perf_counter()
            if pools is None:
                plan = plan_batch(spec)
                report = run_plan(plan, on_event)
            else:
                report = run_plan(plan_batch(spec), on_event, None, pools)
            seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if pools is None and "joblib" in (backend, report.backend):
        shutdown_warm_workers()
    return EngineRun(
        task=task,
        corpus=corpus,
        backend=backend,
        workers=workers,
        seconds=seconds,
        chosen=report.backend,
        chosen_workers=report.workers,
        reason=report.backend_reason,
        ok=report.counts["ok"],
        failed=report.counts["failed"],
        first_result=(finishes[0] - started) if finishes else None,
        finishes=finishes,
        task_seconds=own,
        parent_peak=memory.parent_peak,
        children_peak=memory.children_peak,
        child_peak=memory.child_peak,
        max_children=memory.max_children,
        started=started,
    )


def interleaved(configs: list[Any], repeat: int) -> Iterator[tuple[int, Any]]:
    """A B C A B C ...: each round runs every configuration once."""
    for round_number in range(repeat):
        for config in configs:
            yield round_number, config


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- corpora ----------------------------------------------------------------------------------------


@dataclass
class Corpora:
    root: Path
    standard: list[str]
    large: list[str]
    tiny: list[str]
    few: list[str]

    def paths(self, name: str) -> list[str]:
        return getattr(self, name)

    def bytes(self, name: str) -> int:
        return sum(os.path.getsize(p) for p in self.paths(name))


def spread(paths: list[str], count: int | None) -> list[str]:
    """`count` of the files, evenly spaced from the smallest to the largest (all of them if None)."""
    ordered = sorted(paths, key=lambda p: (os.path.getsize(p), p))
    if count is None or count >= len(ordered):
        return ordered
    if count <= 1:
        return ordered[len(ordered) // 2 : len(ordered) // 2 + 1]
    last = len(ordered) - 1
    return [ordered[i] for i in sorted({round(k * last / (count - 1)) for k in range(count)})]


def load_corpora(root: Path) -> Corpora:
    def listed(sub: str) -> list[str]:
        return sorted(str(p) for p in (root / sub).glob("*.xlsx"))

    tiny = listed("tiny")
    return Corpora(root, listed("standard"), listed("large"), tiny, tiny[:5])


def parse_matrix_files(text: str) -> dict[str | None, int]:
    """`16` -> {None: 16} (every task); `summarize=40,convert=12` -> per task (the rest: all files)."""
    counts: dict[str | None, int] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        task, _, number = item.rpartition("=")
        if task and task.strip() not in TASKS:
            raise argparse.ArgumentTypeError(f"unknown task {task.strip()!r}")
        counts[task.strip() or None] = int(number)
    return counts


def subset(corpora: Corpora, standard: int | None, tiny: int | None, large: int | None) -> Corpora:
    """The corpora the backend matrix runs on, when the whole corpus would take too long."""
    return Corpora(
        corpora.root,
        spread(corpora.standard, standard),
        sorted(corpora.large)[: large if large is not None else None],
        corpora.tiny[: tiny if tiny is not None else None],
        corpora.few,
    )


# -- sections ---------------------------------------------------------------------------------------


def reader_functions() -> dict[str, Callable[[str], int]]:
    """name -> function reading the first sheet of a file completely, returning the number of rows."""

    def openpyxl_read_only(path: str) -> int:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()

    def pandas_openpyxl(path: str) -> int:
        import pandas

        return len(pandas.read_excel(path))

    def pandas_calamine(path: str) -> int:
        import pandas

        return len(pandas.read_excel(path, engine="calamine"))

    def python_calamine(path: str) -> int:
        import python_calamine

        book = python_calamine.CalamineWorkbook.from_path(path)
        try:
            return sum(1 for _ in book.get_sheet_by_index(0).iter_rows())
        finally:
            book.close()

    def fastexcel_pandas(path: str) -> int:
        import fastexcel

        return len(fastexcel.read_excel(path).load_sheet(0).to_pandas())

    def fastexcel_arrow(path: str) -> int:
        import fastexcel

        return fastexcel.read_excel(path).load_sheet(0).to_arrow().num_rows

    def xlbatch_reader(path: str) -> int:
        from xlbatch.preflight import sniff
        from xlbatch.workbook import open_workbook

        with open_workbook(sniff(path)) as book:
            return sum(1 for _ in book.rows(book.sheet_names[0]))

    readers = {
        "openpyxl read-only": openpyxl_read_only,
        "pandas + openpyxl (default)": pandas_openpyxl,
        "pandas + calamine": pandas_calamine,
        "python-calamine rows": python_calamine,
        "fastexcel to pandas": fastexcel_pandas,
        "fastexcel to arrow": fastexcel_arrow,
        "xlbatch reader (calamine, normalised)": xlbatch_reader,
    }
    missing = []
    for module, names in (("pandas", ("pandas",)), ("fastexcel", ("fastexcel",)), ("pyarrow", ("arrow", "pandas"))):
        try:
            __import__(module)
        except ImportError:
            missing.append((module, names))
    for module, names in missing:
        for name in list(readers):
            if any(n in name for n in names) and (module != "pyarrow" or "fastexcel" in name):
                log(f"  (skipping {name}: {module} is not installed; pip install {module})")
                readers.pop(name)
    return readers


def section_readers(corpora: Corpora, repeat: int) -> dict[str, Any]:
    # The standard file closest to 1 MB.
    path = min(corpora.standard, key=lambda p: (abs(os.path.getsize(p) - 1_000_000), p))
    size = os.path.getsize(path)
    readers = reader_functions()
    for function in readers.values():  # imports and first-touch costs stay out of the timings
        function(corpora.tiny[0])
    times: dict[str, list[float]] = {name: [] for name in readers}
    rows: dict[str, int] = {}
    for _round, name in interleaved(list(readers), repeat):
        gc.collect()
        started = time.perf_counter()
        rows[name] = readers[name](path)
        times[name].append(time.perf_counter() - started)
    result = {
        "file": path,
        "bytes": size,
        "readers": {
            name: {"seconds": median(t), "runs": t, "rows": rows[name], "mb_per_second": size / 1e6 / median(t)}
            for name, t in times.items()
        },
    }
    fastest = min(result["readers"], key=lambda n: result["readers"][n]["seconds"])
    result["fastest"] = fastest
    return result


def section_writers(repeat: int, rows: int = 20_000) -> dict[str, Any]:
    table = [LEDGER_HEADER, *ledger_rows(rows, 7)]

    def openpyxl_write_only(path: str) -> None:
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Sales")
        for row in table:
            sheet.append(row)
        book.save(path)

    def xlsxwriter_plain(path: str, constant_memory: bool = False) -> None:
        import xlsxwriter

        with xlsxwriter.Workbook(path, {"constant_memory": constant_memory}) as book:
            sheet = book.add_worksheet("Sales")
            date = book.add_format({"num_format": "yyyy-mm-dd"})
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    if isinstance(value, dt.date):
                        sheet.write_datetime(r, c, value, date)
                    elif value is not None:
                        sheet.write(r, c, value)

    def xlbatch_writer(path: str) -> None:
        from xlbatch.writing import XlsxTableWriter

        with XlsxTableWriter(path, constant_memory=True) as writer:
            writer.add_sheet("Sales")
            for row in table:
                writer.write_row(row)

    writers: dict[str, Callable[[str], None]] = {
        "openpyxl write_only": openpyxl_write_only,
        "xlsxwriter": xlsxwriter_plain,
        "xlsxwriter constant_memory": lambda p: xlsxwriter_plain(p, True),
        "xlbatch XlsxTableWriter (constant_memory)": xlbatch_writer,
    }
    folder = Path(tempfile.mkdtemp(prefix="xlbatch-bench-write-"))
    times: dict[str, list[float]] = {name: [] for name in writers}
    try:
        for _round, name in interleaved(list(writers), repeat):
            target = folder / "out.xlsx"
            gc.collect()
            started = time.perf_counter()
            writers[name](str(target))
            times[name].append(time.perf_counter() - started)
            target.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "rows": rows,
        "columns": len(LEDGER_HEADER),
        "writers": {name: {"seconds": median(t), "runs": t} for name, t in times.items()},
    }


def pandas_loop(paths: list[str]) -> float:
    """The script a user writes instead: read every workbook with pandas' defaults and describe it."""
    import pandas

    started = time.perf_counter()
    for path in paths:
        pandas.read_excel(path).describe()
    return time.perf_counter() - started


def section_baseline(corpora: Corpora, repeat: int, baseline_repeat: int) -> dict[str, Any]:
    import pandas

    pandas.read_excel(corpora.tiny[0]).describe()  # import and first-touch costs stay out
    loops: list[float] = []
    autos: list[EngineRun] = []
    for round_number in range(repeat):
        if round_number < baseline_repeat:
            log(f"  pandas loop, round {round_number + 1} ...")
            loops.append(pandas_loop(corpora.standard))
            log(f"    {loops[-1]:.1f} s")
        autos.append(run_engine("summarize", "standard", corpora.standard, "auto", None))
        log(f"  xlbatch summarize auto ({autos[-1].chosen} x{autos[-1].chosen_workers}): {autos[-1].seconds:.2f} s")
    loop, auto = median(loops), median([r.seconds for r in autos])
    return {
        "files": len(corpora.standard),
        "bytes": corpora.bytes("standard"),
        "pandas_loop_seconds": loop,
        "pandas_loop_runs": loops,
        "auto_seconds": auto,
        "auto_runs": [r.seconds for r in autos],
        "auto_choice": f"{autos[-1].chosen} x{autos[-1].chosen_workers}",
        "ratio": loop / auto,
        "how": "in-process: xlbatch.runner.run_batch(task='summarize', backend='auto'), timed call to return",
    }


def backend_configs(workers_list: tuple[int, ...]) -> list[tuple[str, int | None]]:
    from xlbatch.executors import available_backends

    offered = available_backends()
    configs: list[tuple[str, int | None]] = [("sequential", 1)]
    for backend in PARALLEL:
        if backend in offered:
            configs.extend((backend, n) for n in workers_list)
    configs.append(("auto", None))
    return configs


def measure_matrix(
    tasks: list[str], corpora: Corpora, corpus_names: list[str], configs: list[tuple[str, int | None]], repeat: int
) -> list[EngineRun]:
    return measure_matrix_pairs([(t, c) for t in tasks for c in corpus_names], corpora, configs, repeat)


def measure_matrix_pairs(
    pairs: list[tuple[str, str]], corpora: Corpora, configs: list[tuple[str, int | None]], repeat: int
) -> list[EngineRun]:
    """Every (task, corpus) pair with every configuration, `repeat` interleaved rounds."""
    runs: list[EngineRun] = []
    plan = [(task, corpus, backend, workers) for task, corpus in pairs for backend, workers in configs]
    total = len(plan) * repeat
    for number, (_round, (task, corpus, backend, workers)) in enumerate(interleaved(plan, repeat), start=1):
        run = run_engine(task, corpus, corpora.paths(corpus), backend, workers)
        runs.append(run)
        label = backend if workers is None else f"{backend} x{workers}"
        extra = f" -> {run.chosen} x{run.chosen_workers}" if backend == "auto" else ""
        log(f"  [{number}/{total}] {task:<10} {corpus:<9} {label:<20}{extra:<22} {run.seconds:7.2f} s  ok {run.ok}")
    return runs


def summarise_matrix(runs: list[EngineRun], cores: int) -> list[dict[str, Any]]:
    """One row per (task, corpus, backend, workers): medians, speed-up over sequential, efficiency, memory."""
    groups: dict[tuple[str, str, str, int | None], list[EngineRun]] = {}
    for run in runs:
        groups.setdefault(run.key, []).append(run)
    rows = []
    for (task, corpus, backend, workers), group in groups.items():
        sequential = groups.get((task, corpus, "sequential", 1))
        seconds = median([r.seconds for r in group])
        base = median([r.seconds for r in sequential]) if sequential else float("nan")
        used = group[-1].chosen_workers
        speedup = base / seconds
        rows.append(
            {
                "task": task,
                "corpus": corpus,
                "backend": backend,
                "workers": workers,
                "chosen": f"{group[-1].chosen} x{group[-1].chosen_workers}",
                "seconds": seconds,
                "runs": [r.seconds for r in group],
                "files": group[-1].ok + group[-1].failed,
                "ok": min(r.ok for r in group),
                "speedup": speedup,
                "efficiency": speedup / min(used, cores) if used else float("nan"),
                "parent_peak_mb": max(r.parent_peak for r in group) / 2**20,
                "workers_peak_mb": max(r.children_peak for r in group) / 2**20,
                "worker_peak_mb": max(r.child_peak for r in group) / 2**20,
                "max_children": max(r.max_children for r in group),
                "first_result": median([r.first_result for r in group if r.first_result is not None]),
            }
        )
    return rows


def section_overhead(corpora: Corpora, repeat: int) -> dict[str, Any]:
    from xlbatch.executors import available_backends

    offered = available_backends()
    configs = [("sequential", 1)] + [(b, 1) for b in PARALLEL if b in offered]
    runs = measure_matrix(["summarize"], corpora, ["tiny"], configs, repeat)
    result: dict[str, Any] = {"files": len(corpora.tiny), "task": "summarize", "backends": {}}
    for backend, _workers in configs:
        mine = [r for r in runs if r.backend == backend]
        overheads = [o for r in mine if (o := r.overhead_per_file()) is not None]
        result["backends"][backend] = {
            "overhead_ms": median(overheads) * 1000,
            "runs_ms": [o * 1000 for o in overheads],
            "task_ms": median([statistics.fmean(r.task_seconds) for r in mine]) * 1000,
            "engine_ms": median([(r.finishes[-1] - r.finishes[0]) / (len(r.finishes) - 1) for r in mine]) * 1000,
            "seconds": median([r.seconds for r in mine]),
        }
    return result


def first_result_cold(corpora: Corpora, backend: str, workers: int) -> float:
    run = run_engine("summarize", "few", corpora.few, backend, workers)
    assert run.first_result is not None
    return run.first_result


def first_result_warm(corpora: Corpora, backend: str, workers: int) -> float | None:
    """Time to the first result when the pool was started beforehand (xlbatch.executors.pools.PoolCache,
    what the desktop app keeps between batches). None where this version of the engine has no warm pools."""
    try:
        from xlbatch.executors.pools import PoolCache
    except ImportError:
        return None
    cache = PoolCache()
    try:
        cache.prestart(backend, workers).result(timeout=120)
        run = run_engine("summarize", "few", corpora.few, backend, workers, pools=cache)
    finally:
        cache.shutdown()
        if backend == "joblib":
            shutdown_warm_workers()
    return run.first_result


def section_first(corpora: Corpora, repeat: int) -> dict[str, Any]:
    from xlbatch.executors import available_backends

    offered = available_backends()
    configs = [("sequential", 1)] + [(b, 2) for b in PARALLEL if b in offered]
    cold: dict[str, list[float]] = {b: [] for b, _w in configs}
    warm: dict[str, list[float]] = {b: [] for b, _w in configs}
    for _round, (backend, workers) in interleaved(configs, repeat):
        cold[backend].append(first_result_cold(corpora, backend, workers))
        try:
            value = first_result_warm(corpora, backend, workers)
        except Exception as exc:  # noqa: BLE001 - the warm-pool API is young: report, do not stop the run
            log(f"  warm pool on {backend} failed: {type(exc).__name__}: {exc}")
            value = None
        if value is not None:
            warm[backend].append(value)
    return {
        "files": len(corpora.few),
        "backends": {
            b: {
                "cold_s": median(cold[b]),
                "warm_s": median(warm[b]) if warm[b] else None,
                "cold_runs": cold[b],
                "warm_runs": warm[b],
            }
            for b, _w in configs
        },
    }


def section_gui() -> dict[str, Any]:
    """The GUI-thread stall, measured by benchmarks/gui_stall.py (a separate program: it needs Qt)."""
    script = HERE / "gui_stall.py"
    if not script.is_file():
        return {"available": False, "note": "benchmarks/gui_stall.py is not there yet"}
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=900, env=env, cwd=HERE.parent
    )
    # The script prints "LONGEST GUI STALL: 138 ms (...)": that figure is the one to keep.
    import re

    match = re.search(r"LONGEST GUI STALL:\s*([\d.]+)\s*ms", completed.stdout)
    figure = float(match.group(1)) if match else None
    return {
        "available": True,
        "returncode": completed.returncode,
        "figure": figure,
        "stdout_tail": completed.stdout.strip().splitlines()[-15:],
        "stderr_tail": completed.stderr.strip().splitlines()[-5:],
    }


# -- targets and printing ---------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


Rows = list[dict[str, Any]]  # measurements or targets, one dict each


def evaluate_targets(results: dict[str, Any], cores: int) -> list[dict[str, Any]]:
    """Each target of the benchmark with what was measured and whether it was met."""
    targets: list[dict[str, Any]] = []
    matrix = results.get("matrix", [])
    for measure in (_baseline_target, _speedup_targets, _auto_targets, _overhead_targets, _gui_target):
        measure(results, matrix, targets)
    _physical_target(results, matrix, targets, cores)
    return targets


def _baseline_target(results: dict[str, Any], matrix: Rows, targets: Rows) -> None:
    """The headline: summarize on auto against the user's pandas loop."""
    baseline = results.get("baseline")
    if baseline:
        ratio = baseline["ratio"]
        targets.append(
            {
                "target": f"xlbatch run summarize (auto) >= {TARGET_VS_PANDAS:g}x the pandas loop, "
                f"{baseline['files']} files",
                "measured": f"{ratio:.1f}x ({baseline['pandas_loop_seconds']:.1f} s vs "
                f"{baseline['auto_seconds']:.1f} s)",
                "ok": ratio >= TARGET_VS_PANDAS,
            }
        )


def _speedup_targets(results: dict[str, Any], matrix: Rows, targets: Rows) -> None:
    """Each task's best backend at 2 workers against sequential, on the standard corpus."""
    for task in TASKS:
        rows = [r for r in matrix if r["task"] == task and r["corpus"] == "standard" and r["workers"] == 2]
        if rows:
            best = max(rows, key=lambda r: r["speedup"])
            targets.append(
                {
                    "target": f"{task}: best backend at 2 workers >= {TARGET_SPEEDUP_2:g}x sequential",
                    "measured": f"{best['speedup']:.2f}x ({best['backend']})",
                    "ok": best["speedup"] >= TARGET_SPEEDUP_2,
                }
            )


def _auto_targets(results: dict[str, Any], matrix: Rows, targets: Rows) -> None:
    """auto against the fastest fixed backend, per task and corpus size."""
    for task in TASKS:
        for corpus in ("few", "tiny", "standard", "large"):
            rows = [r for r in matrix if r["task"] == task and r["corpus"] == corpus]
            auto = next((r for r in rows if r["backend"] == "auto"), None)
            explicit = [r for r in rows if r["backend"] != "auto"]
            if auto is None or not explicit:
                continue
            best = min(explicit, key=lambda r: r["seconds"])
            ratio = auto["seconds"] / best["seconds"]
            # Auto's job is the choice: when it chose the fastest configuration itself, the gap between two
            # measurements of the same configuration is the machine's noise, not a wrong choice.
            same = auto["chosen"] == f"{best['backend']} x{best['workers']}"
            ok = ratio <= TARGET_AUTO_SLACK or same
            note = ", the same choice as the fastest (the gap is noise)" if same and ratio > TARGET_AUTO_SLACK else ""
            if corpus == "few":
                no_processes = auto["max_children"] == 0
                ok = ok and no_processes
                note += ", no worker process started" if no_processes else ", STARTED worker processes"
            best_label = best["backend"] if best["backend"] == "sequential" else f"{best['backend']} x{best['workers']}"
            targets.append(
                {
                    "target": f"auto within {TARGET_AUTO_SLACK - 1:.0%} of the best: {task} on {corpus}",
                    "measured": f"{ratio:.2f}x the best ({auto['chosen']} vs {best_label}){note}",
                    "ok": ok,
                }
            )


def _overhead_targets(results: dict[str, Any], matrix: Rows, targets: Rows) -> None:
    """The engine's own cost per file on the process backends."""
    overhead = results.get("overhead")
    if overhead:
        for backend in PROCESS_BACKENDS:
            entry = overhead["backends"].get(backend)
            if entry:
                targets.append(
                    {
                        "target": f"per-file overhead < {TARGET_OVERHEAD_MS:g} ms: {backend}",
                        "measured": f"{entry['overhead_ms']:.2f} ms",
                        "ok": entry["overhead_ms"] < TARGET_OVERHEAD_MS,
                    }
                )


def _gui_target(results: dict[str, Any], matrix: Rows, targets: Rows) -> None:
    """The longest stall of the GUI thread during a big batch."""
    gui = results.get("gui")
    if gui and gui.get("figure") is not None:
        targets.append(
            {
                "target": f"longest GUI-thread stall during a 1,000-file batch < {GUI_GOAL_MS:g} ms (gui_stall.py)",
                "measured": f"{gui['figure']:g} ms",
                "ok": gui["figure"] < GUI_GOAL_MS,
            }
        )


def _physical_target(results: dict[str, Any], matrix: Rows, targets: Rows, cores: int) -> None:
    """summarize against the fastest reader's rate times the cores."""
    readers = results.get("readers")
    if readers and matrix:
        fastest = readers["readers"][readers["fastest"]]
        rate = readers["bytes"] / fastest["seconds"]  # bytes per second on one core
        rows = [r for r in matrix if r["task"] == "summarize" and r["corpus"] == "standard"]
        if rows:
            best = min(rows, key=lambda r: r["seconds"])
            corpus = results.get("matrix_corpus_by_task", {}).get("summarize", results["matrix_corpus"])
            limit = corpus["standard_bytes"] / (rate * cores)
            ratio = best["seconds"] / limit
            targets.append(
                {
                    "target": f"summarize (reading-bound) within {TARGET_PHYSICAL:g}x of the physical limit",
                    "measured": f"{ratio:.1f}x ({best['seconds']:.1f} s vs {limit:.1f} s = corpus / "
                    f"({readers['fastest']} {rate / 1e6:.1f} MB/s x {cores} cores))",
                    "ok": ratio <= TARGET_PHYSICAL,
                }
            )


def print_report(results: dict[str, Any]) -> None:
    for section in (_print_heading, _print_readers_writers, _print_baseline_matrix, _print_overhead_first_gui):
        section(results)
    _print_cost_model_targets(results)
    cells.print_cells(results)


def _print_heading(results: dict[str, Any]) -> None:
    """The machine, the date and the corpus."""
    machine = results["machine"]
    log("")
    log("=" * 100)
    log(
        f"xlbatch benchmarks, {machine['date']}: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['ram_gb']:.0f} GB RAM, {machine['system']}, Python {machine['python']}; "
        f"load average at start {machine['load_start']}, at end {machine.get('load_end')}"
    )
    log(f"medians of {results['repeat']} interleaved runs; corpus {results['corpus']['describe']}")
    by_task = results.get("matrix_corpus_by_task")
    if by_task:
        files = ", ".join(
            f"{task} {c['standard_files']} files / {c['standard_bytes'] / 1e6:.1f} MB" for task, c in by_task.items()
        )
        log(f"backend matrix on the standard corpus: {files}")


def _print_readers_writers(results: dict[str, Any]) -> None:
    """The reader and writer comparisons."""
    if "readers" in results:
        r = results["readers"]
        log("")
        log(f"Readers: first sheet of {Path(r['file']).name} ({r['bytes'] / 1e6:.2f} MB), whole sheet")
        for name, entry in sorted(r["readers"].items(), key=lambda kv: kv[1]["seconds"]):
            log(f"  {name:<42}{entry['seconds']:8.3f} s {entry['mb_per_second']:8.2f} MB/s")
    if "writers" in results:
        w = results["writers"]
        log("")
        log(f"Writers: {w['rows']:,} x {w['columns']} ledger rows to xlsx")
        for name, entry in sorted(w["writers"].items(), key=lambda kv: kv[1]["seconds"]):
            log(f"  {name:<42}{entry['seconds']:8.3f} s")


def _print_baseline_matrix(results: dict[str, Any]) -> None:
    """The pandas baseline and the backend matrix."""
    if "baseline" in results:
        b = results["baseline"]
        log("")
        log(f"Baseline: {b['files']} files, {b['bytes'] / 1e6:.1f} MB")
        log(f"  pandas.read_excel(path).describe() loop   {b['pandas_loop_seconds']:8.2f} s")
        log(f"  xlbatch summarize, auto ({b['auto_choice']})   {b['auto_seconds']:8.2f} s   {b['ratio']:.1f}x faster")
    if results.get("matrix"):
        log("")
        log(
            f"{'task':<10}{'corpus':<10}{'backend':<17}{'workers':>7}{'seconds':>9}{'speed-up':>9}{'effic.':>8}"
            f"{'parent MB':>10}{'workers MB':>11}{'1st res s':>10}  chosen"
        )
        for row in results["matrix"]:
            workers = "auto" if row["workers"] is None else str(row["workers"])
            log(
                f"{row['task']:<10}{row['corpus']:<10}{row['backend']:<17}{workers:>7}{row['seconds']:9.2f}"
                f"{row['speedup']:8.2f}x{row['efficiency']:8.2f}{row['parent_peak_mb']:10.0f}"
                f"{row['workers_peak_mb']:11.0f}{row['first_result']:10.2f}  {row['chosen']}"
            )


def _print_overhead_first_gui(results: dict[str, Any]) -> None:
    """Per-file overhead, time to first result and the GUI stall."""
    if "overhead" in results:
        o = results["overhead"]
        log("")
        log(f"Per-file overhead: {o['task']} on {o['files']} tiny files, 1 worker (engine time per file - task time)")
        for backend, entry in o["backends"].items():
            log(
                f"  {backend:<17} engine {entry['engine_ms']:7.2f} ms/file  task {entry['task_ms']:6.2f} ms"
                f"  overhead {entry['overhead_ms']:6.2f} ms   batch {entry['seconds']:.1f} s"
            )
    if "first" in results:
        f = results["first"]
        log("")
        log(f"Time to first result ({f['files']}-file batch, 2 workers): cold pool / warm pool")
        for backend, entry in f["backends"].items():
            warm = f"{entry['warm_s']:.3f} s" if entry["warm_s"] is not None else "n/a"
            log(f"  {backend:<17}{entry['cold_s']:8.3f} s   {warm}")
    if "gui" in results:
        g = results["gui"]
        log("")
        if g.get("available"):
            log(f"GUI-thread stall (benchmarks/gui_stall.py, exit {g['returncode']}): longest {g['figure']} ms")
            for line in g["stdout_tail"]:
                log(f"  | {line}")
        else:
            log(f"GUI-thread stall: {g['note']}")


def _print_cost_model_targets(results: dict[str, Any]) -> None:
    """The fitted cost per task, then every target with its verdict."""
    if results.get("cost_model"):
        log("")
        log("Single-core cost per task, fitted from the sequential runs, next to the WorkCost auto uses (core/cost.py)")
        from xlbatch.tasks import get_task

        for task, model in results["cost_model"].items():
            assumed = get_task(task).work_cost(TASKS.get(task, {}))
            log(
                f"  {task:<10} {model['seconds_per_file'] * 1000:7.1f} ms per file"
                f" + {model['seconds_per_mb']:.2f} s per MB   (auto: {assumed.seconds_per_file * 1000:.1f} ms"
                f" + {assumed.seconds_per_mb:.2f} s/MB, {assumed.lock_free:.0%} outside the lock)"
            )
    log("")
    log("Targets")
    for target in results["targets"]:
        log(f"  {verdict(target['ok'])}  {target['target']}: {target['measured']}")
    log("=" * 100)


def machine_info() -> dict[str, Any]:
    import psutil

    from xlbatch.executors import cpu_count

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": cpu_count(),
        "cpu": cpu or "unknown CPU",
        "ram_gb": psutil.virtual_memory().total / 2**30,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_start": " ".join(f"{x:.1f}" for x in load) if load else "n/a",
    }


def draw_chart(results_path: Path, png: Path) -> bool:
    """The PNG, drawn in a separate process (Qt stays out of this one and of its workers)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.chart", str(results_path), str(png)],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )
    if completed.returncode != 0:
        log(f"chart not drawn: {completed.stderr.strip()[-500:]}")
    return completed.returncode == 0


# -- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the xlbatch speed benchmarks.")
    parser.add_argument("--quick", action="store_true", help="small corpus: a couple of minutes")
    parser.add_argument("--corpus", help="corpus folder (default: in the temp folder; made if missing)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each configuration (median; default 3)")
    parser.add_argument(
        "--baseline-repeat", type=int, help="runs of the slow pandas loop (default: --repeat); fewer saves minutes"
    )
    parser.add_argument(
        "--matrix-files",
        type=parse_matrix_files,
        default={},
        help="standard files (spread across sizes) for the backend matrix: N for every task, or per task as "
        "summarize=40,convert=12 (default all)",
    )
    parser.add_argument(
        "--backend-workers", default="1,2", help="worker counts for the backend matrix, comma-separated (default 1,2)"
    )
    parser.add_argument("--tiny-files", type=int, help="tiny files for the sizes section (default all)")
    parser.add_argument("--large-files", type=int, help="large files for the sizes section (default all)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, from {','.join(SECTIONS)}")
    parser.add_argument(
        "--size-tasks", default=",".join(TASKS), help="tasks run on the other corpus sizes (default all three)"
    )
    parser.add_argument("--sizes", default="few,tiny,large", help="corpus sizes for the sizes section")
    parser.add_argument("--large-tasks", default=",".join(TASKS), help="tasks run on the large files (default all)")
    parser.add_argument(
        "--cell-batches", help="cells section: batches to run, ';'-separated (default: 5 small;12 x 1 MB;...)"
    )
    parser.add_argument(
        "--cell-sequential-everywhere", action="store_true", help="cells section: sequential on the 40 files too"
    )
    parser.add_argument("--cell-tasks", help="cells section: tasks to run, comma-separated (default all three)")
    parser.add_argument("--cell-skip-pandas", action="store_true", help="cells section: no pandas comparisons")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for results.json and results.png")
    parser.add_argument(
        "--from", dest="from_json", metavar="RESULTS_JSON", help="print the table, targets and chart of an earlier run"
    )
    return parser.parse_args(argv)


def report_only(path: Path, out: Path) -> int:
    """Print an earlier run's table and targets (re-evaluated) and redraw its chart."""
    results = json.loads(path.read_text())
    results["targets"] = evaluate_targets(results, results["machine"]["cores"])
    print_report(results)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    json_path.write_text(json.dumps(results, indent=2, default=str))
    draw_chart(json_path, out / "results.png")
    return 0


def describe(corpora: Corpora) -> dict[str, Any]:
    return {
        "standard_files": len(corpora.standard),
        "standard_bytes": corpora.bytes("standard"),
        "large_files": len(corpora.large),
        "large_bytes": corpora.bytes("large"),
        "tiny_files": len(corpora.tiny),
        "tiny_bytes": corpora.bytes("tiny"),
        "few_files": len(corpora.few),
        "describe": (
            f"standard {len(corpora.standard)} files / {corpora.bytes('standard') / 1e6:.1f} MB, "
            f"large {len(corpora.large)} files / {corpora.bytes('large') / 1e6:.1f} MB, "
            f"tiny {len(corpora.tiny)} files / {corpora.bytes('tiny') / 1e6:.1f} MB, few {len(corpora.few)} files"
        ),
    }


def fit_cost_model(matrix: list[dict[str, Any]], corpus_by_task: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per task, single-core cost = seconds per file + seconds per MB, solved from the sequential runs on
    the tiny files and on the standard files: what `auto`'s estimate (core/executors/choice.py) assumes."""
    model: dict[str, Any] = {}
    for task in TASKS:
        seq = {
            r["corpus"]: r["seconds"]
            for r in matrix
            if r["task"] == task and r["backend"] == "sequential" and r["corpus"] in ("tiny", "standard")
        }
        if len(seq) < 2 or task not in corpus_by_task:
            continue
        corpus = corpus_by_task[task]
        # seconds = per_file * files + per_byte * bytes, for both corpora
        f1, b1, s1 = corpus["tiny_files"], corpus["tiny_bytes"], seq["tiny"]
        f2, b2, s2 = corpus["standard_files"], corpus["standard_bytes"], seq["standard"]
        det = f1 * b2 - f2 * b1
        if det == 0:
            continue
        per_file = (s1 * b2 - s2 * b1) / det
        per_byte = (f1 * s2 - f2 * s1) / det
        model[task] = {"seconds_per_file": per_file, "seconds_per_mb": per_byte * 1e6}
    return model


def _backend_runs(args: argparse.Namespace, task_corpora: dict[str, Any], repeat: int, matrix_files: Any) -> list:
    """The backend matrix on the standard corpus; tasks run on the same files are interleaved."""
    configs = backend_configs(tuple(int(n) for n in args.backend_workers.split(",") if n.strip()))
    groups: dict[int | None, list[str]] = {}
    for task in TASKS:
        groups.setdefault(matrix_files(task), []).append(task)
    runs: list = []
    for tasks in groups.values():
        runs += measure_matrix(tasks, task_corpora[tasks[0]], ["standard"], configs, repeat)
    return runs


def _size_runs(args: argparse.Namespace, matrix_corpora: Any, repeat: int) -> list:
    """The few / tiny / large corpora on the backends at 2 workers (and sequential)."""
    configs = [c for c in backend_configs((2,)) if c[1] != 1 or c[0] == "sequential"]
    size_tasks = [t for t in args.size_tasks.split(",") if t in TASKS]
    names = [n for n in args.sizes.split(",") if n in ("few", "tiny", "large")]
    large_tasks = [t for t in args.large_tasks.split(",") if t in TASKS]
    plan = [(t, n) for t in size_tasks for n in names if n != "large" or t in large_tasks]
    return measure_matrix_pairs(plan, matrix_corpora, configs, repeat)


def _cells(args: argparse.Namespace, corpora: Corpora, repeat: int, results: dict[str, Any], json_path: Path) -> None:
    """`auto` against the fixed backends per task and batch size, then the pandas comparisons."""
    wanted = [b.strip() for b in args.cell_batches.split(";") if b.strip()] if args.cell_batches else None
    tasks = [t.strip() for t in args.cell_tasks.split(",") if t.strip()] if args.cell_tasks else None
    results["cells"] = cells.section_cells(
        corpora, repeat, run_engine, spread, log, TASKS, wanted, args.cell_sequential_everywhere, tasks
    )
    json_path.write_text(json.dumps(results, indent=2, default=str))
    if not args.cell_skip_pandas:
        results["vs_pandas"] = cells.section_vs_pandas(corpora, results["cells"], spread, log)
        results["combine_xlsx"] = cells.section_combine_xlsx(corpora, repeat, run_engine, spread, log)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        return report_only(Path(args.from_json), Path(args.out))
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        log(f"unknown section(s): {', '.join(sorted(unknown))}")
        return 2
    import warnings

    # pandas 3 warns that its default xlsx engine will change; the baseline is that default (openpyxl) on purpose.
    warnings.filterwarnings("ignore", message=".*default engine for reading.*")
    spec = CorpusSpec.quick() if args.quick else CorpusSpec()
    root = Path(args.corpus) if args.corpus else default_dir(args.quick)
    ensure_corpus(root, spec, log=log)
    corpora = load_corpora(root)

    def matrix_files(task: str) -> int | None:
        return args.matrix_files.get(task, args.matrix_files.get(None))

    matrix_corpora = subset(corpora, args.matrix_files.get(None), args.tiny_files, args.large_files)
    task_corpora = {t: subset(corpora, matrix_files(t), args.tiny_files, args.large_files) for t in TASKS}
    machine = machine_info()
    cores = machine["cores"]
    repeat = max(1, args.repeat)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    results: dict[str, Any] = {
        "machine": machine,
        "repeat": repeat,
        "arguments": vars(args),
        "corpus": {"root": str(root), "spec": spec.to_dict(), **describe(corpora)},
        "matrix_corpus": describe(matrix_corpora),
        # The backend matrix on the standard corpus may use a different number of files per task.
        "matrix_corpus_by_task": {t: describe(c) for t, c in task_corpora.items()},
        "tasks": TASKS,
    }
    started = time.perf_counter()
    matrix_runs: list[EngineRun] = []
    for section in SECTIONS:
        if section not in sections:
            continue
        log(f"-- {section} ({time.perf_counter() - started:.0f} s so far)")
        if section == "readers":
            results["readers"] = section_readers(corpora, repeat)
        elif section == "writers":
            results["writers"] = section_writers(repeat)
        elif section == "baseline":
            baseline_repeat = repeat if args.baseline_repeat is None else max(1, args.baseline_repeat)
            results["baseline"] = section_baseline(corpora, repeat, baseline_repeat)
        elif section == "backends":
            matrix_runs += _backend_runs(args, task_corpora, repeat, matrix_files)
        elif section == "sizes":
            matrix_runs += _size_runs(args, matrix_corpora, repeat)
        elif section == "overhead":
            results["overhead"] = section_overhead(corpora, repeat)
        elif section == "first":
            results["first"] = section_first(corpora, repeat)
        elif section == "gui":
            results["gui"] = section_gui()
        elif section == "cells":
            _cells(args, corpora, repeat, results, json_path)
        results["matrix"] = summarise_matrix(matrix_runs, cores)
        json_path.write_text(json.dumps(results, indent=2, default=str))  # a checkpoint after every section
    results["cost_model"] = fit_cost_model(results["matrix"], results["matrix_corpus_by_task"])
    results["seconds"] = time.perf_counter() - started
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    machine["load_end"] = " ".join(f"{x:.1f}" for x in load) if load else "n/a"
    results["targets"] = evaluate_targets(results, cores)
    print_report(results)
    json_path.write_text(json.dumps(results, indent=2, default=str))
    drawn = draw_chart(json_path, out / "results.png")
    log(f"wrote {json_path}" + (f" and {out / 'results.png'}" if drawn else "") + f" in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
