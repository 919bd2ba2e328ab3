"""`xlbatch bench`: time a task on a sample of the user's own files with every backend, and recommend one.

    compare_backends(task, paths, params) ─► sample_files()  a few files, chosen deterministically,
                                             │               spread from the smallest to the largest
                                             ├─► candidates() sequential, then each parallel backend
                                             │               at 2..cores workers
                                             ├─► one run_batch() per candidate, into a temporary
                                             │   output folder deleted right after
                                             ▼
                                      BenchResult (rows, best) ─► recommend() ─► save_choice()

Why on the user's files: what is fastest depends on their sizes and on the machine (cores, disk,
antivirus on Windows), and a spawn pool's start-up is only repaid by enough work. Each candidate runs
the whole batch as `xlbatch run` would (discovery, pool start-up, reduce), so the figures are what the
user will see. The sample is read once before timing so that the first candidate does not pay for a
cold disk cache alone.

The desktop app calls `compare_backends` from its worker thread with `on_progress` and `cancel` (a
CancelToken, a threading.Event or a function returning True to stop) and draws `rows` as a bar chart
of files per second. The CLI wiring is `add_bench_parser(subparsers)` and `bench_command(args)`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from xlbatch.cancel import NOW, CancelToken
from xlbatch.discovery import discover
from xlbatch.events import Event
from xlbatch.executors import available_backends, cpu_count
from xlbatch.executors.choice import decide
from xlbatch.params import InvalidParams, ParamSet
from xlbatch.plan import BatchSpec
from xlbatch.runner import run_batch
from xlbatch.tasks import Task, get_task, load_plugins

DEFAULT_SAMPLE = 20
# The parallel backends a comparison tries, in the order the table lists them.
PARALLEL_BACKENDS = ("threads", "asyncio", "processes", "multiprocessing", "joblib")
# Above this many cores, worker counts are tried in doubling steps (2, 4, 8, ... and all cores) rather
# than every count, which keeps a comparison to a few minutes on big machines.
EVERY_COUNT_UP_TO = 4

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

ProgressCallback = Callable[[int, int, str], None]
CancelFlag = CancelToken | threading.Event | Callable[[], bool] | None


@dataclass(frozen=True)
class Candidate:
    backend: str
    workers: int

    @property
    def label(self) -> str:
        # dask runs on every worker of the configured cluster (workers 0: the cluster's own count)
        return self.backend if self.backend in ("sequential", "dask") else f"{self.backend} x{self.workers}"


@dataclass
class BenchRow:
    """One measured candidate. `speedup` is sequential's seconds over this row's (1.0 for sequential)."""

    backend: str
    workers: int
    seconds: float
    files_per_second: float
    speedup: float
    ok_files: int
    failed_files: int = 0
    error: str | None = None  # why the candidate could not run at all

    @property
    def label(self) -> str:
        return Candidate(self.backend, self.workers).label


@dataclass
class BenchResult:
    task: str
    files: list[str]  # the sample, smallest first
    total_files: int  # runnable files found in the paths
    sample_bytes: int
    total_bytes: int
    cores: int
    rows: list[BenchRow] = field(default_factory=list)
    cancelled: bool = False
    auto_backend: str = ""  # what `auto` picks for all the files (not just the sample)
    auto_workers: int = 0
    auto_reason: str = ""

    @property
    def best(self) -> BenchRow | None:
        """The fastest candidate among those that finished as many files as the best of them did."""
        ran = [r for r in self.rows if r.error is None]
        if not ran:
            return None
        most = max(r.ok_files for r in ran)
        complete = [r for r in ran if r.ok_files == most]
        return min(complete, key=lambda r: (r.seconds, r.workers))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        best = self.best
        data["best"] = asdict(best) if best else None
        return data


@dataclass(frozen=True)
class Recommendation:
    task: str
    backend: str
    workers: int
    files_per_second: float
    speedup: float
    reason: str


# -- sampling and candidates ----------------------------------------------------------------------


def sample_files(files: Sequence[tuple[str, int]], count: int = DEFAULT_SAMPLE) -> list[tuple[str, int]]:
    """`count` of the (path, size) pairs, spread evenly from the smallest to the largest (both included).

    Deterministic: the files are ordered by size then path, and the picks are evenly spaced positions in
    that order, so the same files give the same sample wherever they were listed from.
    """
    ordered = sorted(files, key=lambda f: (f[1], str(f[0])))
    if count <= 0:
        return []
    if len(ordered) <= count:
        return ordered
    if count == 1:
        return [ordered[len(ordered) // 2]]
    last = len(ordered) - 1
    positions = sorted({round(i * last / (count - 1)) for i in range(count)})
    return [ordered[p] for p in positions]


def worker_counts(cores: int, files: int | None = None) -> list[int]:
    """The worker counts to try for a parallel backend: 2..cores (doubling past a few), at most one per file."""
    top = max(2, cores)
    if top <= EVERY_COUNT_UP_TO:
        counts = list(range(2, top + 1))
    else:
        counts, n = [], 2
        while n < top:
            counts.append(n)
            n *= 2
        counts.append(top)
    if files is not None:
        counts = sorted({min(c, max(files, 2)) for c in counts})
    return counts


def candidates(
    cores: int | None = None,
    available: Sequence[str] | None = None,
    files: int | None = None,
    cluster: str | None = None,
) -> list[Candidate]:
    """Sequential first (the baseline of every speed-up), then each available parallel backend; `dask`
    last, on every worker of `cluster`, when one is configured (it is never tried on a guess)."""
    cores = cores or cpu_count()
    offered = tuple(available) if available is not None else available_backends()
    found = [Candidate("sequential", 1)]
    for backend in PARALLEL_BACKENDS:
        if backend in offered:
            found.extend(Candidate(backend, n) for n in worker_counts(cores, files))
    if cluster and "dask" in offered:
        found.append(Candidate("dask", 0))
    return found


def _runnable_files(paths: Sequence[str], include: Sequence[str], exclude: Sequence[str]) -> list[tuple[str, int]]:
    files = []
    for found in discover(paths, include, exclude).runnable:
        try:
            size = found.path.stat().st_size
        except OSError:
            continue
        files.append((str(found.path), size))
    return files


def _should_stop(cancel: CancelFlag) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, CancelToken):
        return cancel.requested
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _preread(paths: Sequence[str]) -> None:
    """Read every sampled file once, so no candidate pays alone for a cold disk cache."""
    for path in paths:
        with contextlib.suppress(OSError), open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass


# -- the comparison -------------------------------------------------------------------------------


def compare_backends(
    task: str,
    paths: Sequence[str],
    params: dict[str, Any] | None = None,
    sample: int = DEFAULT_SAMPLE,
    on_progress: ProgressCallback | None = None,
    cancel: CancelFlag = None,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    repeats: int = 1,
    available: Sequence[str] | None = None,
    cores: int | None = None,
    only: Sequence[Candidate] | None = None,
    cluster: str | None = None,
) -> BenchResult:
    """Run `task` on a sample of the files under `paths` with every candidate backend; return the timings.

    Raises InvalidParams (nothing run) for an unknown task, bad parameters or no files. With `repeats`
    above 1 every candidate runs that many times, interleaved, and the median counts. `on_progress(step,
    steps, text)` is called before each run; `cancel` is checked between runs and while a run goes (a run
    in progress is stopped and not counted). `only` restricts the candidates (sequential is always run).
    `cluster`: the Dask cluster to include (`dask` is tried only when one is given).
    """
    load_plugins()
    task_class = get_task(task)
    checked = task_class.validate(params or {})
    result = _survey(task_class, checked, paths, sample, include, exclude, cores or cpu_count())
    todo = candidates(result.cores, available, len(result.files), cluster)
    if only is not None:
        wanted = set(only)
        todo = [c for c in todo if c.backend == "sequential" or c in wanted]
    _preread(result.files)
    timings, errors = _measure(result, checked, todo, max(1, repeats), on_progress, cancel, cluster)
    result.rows = _rows(todo, timings, errors, len(result.files))
    return result


def _survey(
    task_class: type[Task],
    params: dict[str, Any],
    paths: Sequence[str],
    sample: int,
    include: Sequence[str],
    exclude: Sequence[str],
    cores: int,
) -> BenchResult:
    """The files found, the sample drawn from them, and what `auto` would choose for all of them."""
    everything = _runnable_files(paths, include, exclude)
    if not everything:
        raise InvalidParams("No workbooks were found in the given files and folders.", "paths")
    chosen = sample_files(everything, sample)
    auto = decide(
        task_class.kind,
        [s for _p, s in everything],
        cores=cores,
        available=available_backends(),
        cost=task_class.work_cost(params),
    )
    return BenchResult(
        task=task_class.name,
        files=[p for p, _s in chosen],
        total_files=len(everything),
        sample_bytes=sum(s for _p, s in chosen),
        total_bytes=sum(s for _p, s in everything),
        cores=cores,
        auto_backend=auto.backend,
        auto_workers=auto.workers,
        auto_reason=auto.reason,
    )


Timing = tuple[float, int, int]  # seconds, ok files, failed files of one run


def _measure(
    result: BenchResult,
    params: dict[str, Any],
    todo: list[Candidate],
    repeats: int,
    on_progress: ProgressCallback | None,
    cancel: CancelFlag,
    cluster: str | None = None,
) -> tuple[dict[Candidate, list[Timing]], dict[Candidate, str]]:
    """Every candidate run `repeats` times, interleaved; a candidate that cannot start is not tried again.
    Sets `result.cancelled` when a stop request ends the measuring."""
    files = result.files
    timings: dict[Candidate, list[Timing]] = {c: [] for c in todo}
    errors: dict[Candidate, str] = {}
    steps = len(todo) * repeats
    step = 0
    for _round in range(repeats):
        for candidate in todo:
            if candidate in errors:
                step += 1
                continue
            if on_progress is not None:
                on_progress(step, steps, f"{candidate.label} ({len(files)} files)")
            if _should_stop(cancel):
                result.cancelled = True
                break
            step += 1
            try:
                measured = _time_one(result.task, files, params, candidate, cancel, cluster)
            except Exception as exc:  # noqa: BLE001 - one backend failing to start must not end the comparison
                errors[candidate] = f"{type(exc).__name__}: {exc}"
                continue
            if measured is None:  # cancelled while running
                result.cancelled = True
                break
            timings[candidate].append(measured)
        if result.cancelled:
            break
    if on_progress is not None:
        on_progress(step, steps, "cancelled" if result.cancelled else "done")
    return timings, errors


def _rows(
    todo: list[Candidate], timings: dict[Candidate, list[Timing]], errors: dict[Candidate, str], files: int
) -> list[BenchRow]:
    """One row per candidate measured (or that could not run), with the median and the speed-up."""
    baseline = _median([t[0] for t in timings.get(Candidate("sequential", 1), [])])
    rows = []
    for candidate in todo:
        runs = timings[candidate]
        if candidate in errors:
            rows.append(BenchRow(candidate.backend, candidate.workers, 0.0, 0.0, 0.0, 0, 0, errors[candidate]))
            continue
        if not runs:
            continue  # not reached before a cancel
        seconds = _median([t[0] for t in runs])
        rows.append(
            BenchRow(
                candidate.backend,
                candidate.workers,
                seconds,
                files / seconds if seconds > 0 else 0.0,
                baseline / seconds if baseline and seconds > 0 else 0.0,
                min(t[1] for t in runs),
                max(t[2] for t in runs),
            )
        )
    return rows


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _time_one(
    task: str,
    files: list[str],
    params: dict[str, Any],
    candidate: Candidate,
    cancel: CancelFlag,
    cluster: str | None = None,
) -> Timing | None:
    """Seconds, ok files and failed files of one full run; None if cancelled. The output folder goes."""
    token = CancelToken()

    def watch(event: Event) -> None:
        # Events arrive at least with every file and every ~2000 rows: often enough to stop promptly.
        if _should_stop(cancel):
            token.cancel(NOW)

    out = Path(tempfile.mkdtemp(prefix="xlbatch-bench-"))
    try:
        spec = BatchSpec(
            task=task,
            paths=list(files),
            out_dir=str(out),
            params=dict(params),
            backend=candidate.backend,
            workers=candidate.workers or None,
            report_path="",
            keep_tables=False,  # the comparison times what the app and the command line run
            cluster=cluster if candidate.backend == "dask" else None,
        )
        started = time.perf_counter()
        report = run_batch(spec, on_event=watch if cancel is not None else None, cancel=token)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if report.cancelled or token.requested:
        return None
    return seconds, report.counts["ok"], report.counts["failed"]


# -- recommendation and saving --------------------------------------------------------------------


def recommend(result: BenchResult) -> Recommendation | None:
    """The fastest measured candidate, with the reason in words; None if nothing could be measured."""
    best = result.best
    if best is None:
        return None
    others = [r for r in result.rows if r.error is None and r is not best and r.ok_files == best.ok_files]
    runner_up = min(others, key=lambda r: r.seconds) if others else None
    reason = f"{best.label} was fastest on {len(result.files)} of your files: {best.files_per_second:.1f} files/s"
    if best.backend != "sequential":
        reason += f", {best.speedup:.2f}x sequential"
    if runner_up is not None and runner_up.seconds > 0:
        reason += f"; next best {runner_up.label} took {runner_up.seconds / best.seconds:.2f}x as long"
    reason += "."
    if best.ok_files < len(result.files):
        reason += f" {len(result.files) - best.ok_files} sampled file(s) failed on every backend."
    return Recommendation(result.task, best.backend, best.workers, best.files_per_second, best.speedup, reason)


def choices_path() -> Path:
    """Where `--save` writes by default: the user's settings file (see `xlbatch config path`)."""
    from xlbatch.settings import default_path

    return default_path()


def save_choice(task: str, backend: str, workers: int, path: str | os.PathLike[str] | None = None) -> Path:
    """Make `backend` the default for `task` in the settings file (`parallelization.backends.<task>`),
    where every later run of the task reads it; return the file's path. The settings hold no per-task
    worker count (only upper limits per kind of task), so `workers` is reported, not stored."""
    from xlbatch.settings import save_setting

    return save_setting(f"parallelization.backends.{task}", backend, path)


# -- text output ----------------------------------------------------------------------------------


def format_result(result: BenchResult, recommendation: Recommendation | None = None) -> str:
    """The comparison as a plain-text table, with the recommendation below it."""
    lines = [
        f"{result.task}: {len(result.files)} of {result.total_files} file(s) "
        f"({result.sample_bytes / 1e6:.1f} of {result.total_bytes / 1e6:.1f} MB), {result.cores} CPU core(s)",
        "",
        f"{'backend':<22}{'workers':>8}{'seconds':>10}{'files/s':>10}{'speed-up':>10}{'ok':>6}",
    ]
    best = result.best
    for row in result.rows:
        if row.error is not None:
            lines.append(f"{row.backend:<22}{row.workers:>8}  could not run: {row.error}")
            continue
        mark = "  <- fastest" if row is best else ""
        lines.append(
            f"{row.backend:<22}{row.workers:>8}{row.seconds:>10.2f}{row.files_per_second:>10.1f}"
            f"{row.speedup:>9.2f}x{row.ok_files:>6}{mark}"
        )
    lines.append("")
    if result.cancelled:
        lines.append("Cancelled: the rows above are the candidates measured before the stop.")
    if recommendation is not None:
        lines.append(
            f"Recommended for {result.task}: {recommendation.backend} with {recommendation.workers} worker(s)."
        )
        lines.append(f"  {recommendation.reason}")
    picks = "auto, up to" if result.auto_backend == "auto" else f"{result.auto_backend} with"
    lines.append(
        f"Automatic choice for all {result.total_files} file(s): {picks} {result.auto_workers} worker(s) "
        f"({result.auto_reason})."
    )
    return "\n".join(lines) + "\n"


# -- command line ---------------------------------------------------------------------------------


def add_bench_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `bench TASK PATH... [--sample N] [--save]` to the CLI's subcommands."""
    bench = subparsers.add_parser("bench", help="compare the backends on a sample of your files and recommend one")
    bench.add_argument("task", metavar="TASK", help="task name (see: xlbatch tasks)")
    bench.add_argument("paths", metavar="PATH", nargs="+", help="workbooks or folders (searched recursively)")
    bench.add_argument(
        "--sample", type=int, default=DEFAULT_SAMPLE, metavar="N", help=f"files to time (default {DEFAULT_SAMPLE})"
    )
    bench.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a task parameter")
    bench.add_argument("--repeat", type=int, default=1, metavar="N", help="runs per backend; the median counts")
    bench.add_argument("--include", action="append", default=[], metavar="GLOB", help="only files matching")
    bench.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip files matching")
    bench.add_argument("--save", action="store_true", help="make the fastest backend the default for this task")
    bench.add_argument("--settings", metavar="FILE", help=f"where --save writes (default: {choices_path()})")
    bench.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    bench.add_argument(
        "--cluster", metavar="ADDRESS", help="also time the dask backend on this cluster (default: the settings' one)"
    )
    return bench


def bench_command(args: argparse.Namespace, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run `xlbatch bench`; exit 0 with a recommendation, 1 if nothing could be measured, 2 bad usage,
    130 cancelled with Ctrl+C."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if args.sample < 1:
        stderr.write(f"xlbatch: --sample must be at least 1 (got {args.sample}).\n")
        return EXIT_USAGE
    if args.repeat < 1:
        stderr.write(f"xlbatch: --repeat must be at least 1 (got {args.repeat}).\n")
        return EXIT_USAGE
    stop = threading.Event()
    restore = _install_ctrl_c(stop, stderr)

    def progress(step: int, steps: int, text: str) -> None:
        if step < steps:
            stderr.write(f"[{step + 1}/{steps}] {text}\n")
            stderr.flush()

    try:
        params = ParamSet.from_pairs(args.param).values
        cluster = args.cluster or _configured_cluster()
        result = compare_backends(
            args.task,
            list(args.paths),
            params,
            args.sample,
            on_progress=progress,
            cancel=stop,
            include=args.include,
            exclude=args.exclude,
            repeats=args.repeat,
            cluster=cluster,
        )
    except InvalidParams as exc:
        stderr.write(f"xlbatch: {exc}\n")
        return EXIT_USAGE
    finally:
        restore()
    recommendation = None if result.cancelled else recommend(result)
    if args.json:
        data = result.to_dict()
        data["recommendation"] = asdict(recommendation) if recommendation else None
        stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        stdout.write(format_result(result, recommendation))
    if result.cancelled:
        return EXIT_CANCELLED
    if recommendation is None:
        stderr.write("xlbatch: no backend could run the task on these files.\n")
        return EXIT_FAILED
    if args.save:
        saved = save_choice(recommendation.task, recommendation.backend, recommendation.workers, args.settings)
        stderr.write(
            f"Saved {recommendation.backend} ({recommendation.workers} workers) for {result.task} in {saved}\n"
        )
    return EXIT_OK


def _configured_cluster() -> str | None:
    """`parallelization.cluster` of the settings file: with one, the comparison includes dask."""
    from xlbatch.settings import SettingsError, load_settings

    try:
        return load_settings().get("parallelization.cluster")
    except SettingsError:
        return None


def _install_ctrl_c(stop: threading.Event, stderr: TextIO) -> Callable[[], None]:
    """Ctrl+C stops the comparison cleanly (worker pools shut down) instead of raising mid-run."""

    def handler(signum: int, frame: Any) -> None:
        stop.set()
        stderr.write("\nStopping the comparison.\n")
        stderr.flush()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (embedded use)
        return lambda: None
    return lambda: signal.signal(signal.SIGINT, previous)
