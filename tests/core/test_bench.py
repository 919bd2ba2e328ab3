"""`xlbatch.bench`: deterministic spread sampling, every candidate measured, the fastest recommended, temporary
outputs removed, choices saved, and the `bench` command line. No timing is asserted."""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.corpus import make_ledger
from xlbatch import bench
from xlbatch.bench import BenchResult, BenchRow, Candidate, candidates, compare_backends, recommend, sample_files
from xlbatch.executors import available_backends
from xlbatch.params import InvalidParams


@pytest.fixture
def books(tmp_path: Path, frozen_inputs: list[Path]) -> list[Path]:
    """Six small ledgers of clearly different sizes (more rows, bigger file)."""
    folder = tmp_path / "in"
    paths = [make_ledger(folder / f"book{i}.xlsx", rows=20 + 150 * i, seed=i) for i in range(6)]
    frozen_inputs.append(folder)
    return paths


# -- sampling -----------------------------------------------------------------------------------------


def test_sample_is_spread_from_smallest_to_largest_and_deterministic() -> None:
    files = [(f"/data/f{i:03d}.xlsx", 1000 + i * 10) for i in range(101)]  # sizes 1000..2000, step 10
    shuffled = files[:]
    random.Random(7).shuffle(shuffled)
    picked = sample_files(shuffled, 5)
    assert picked == sample_files(list(reversed(files)), 5)  # the order files were listed in does not matter
    sizes = [s for _p, s in picked]
    # Five evenly spaced picks over 101 sorted files are positions 0, 25, 50, 75, 100.
    assert sizes == [1000, 1250, 1500, 1750, 2000]


def test_sample_breaks_size_ties_by_path_and_takes_everything_when_small() -> None:
    files = [("b.xlsx", 5), ("a.xlsx", 5), ("c.xlsx", 1)]
    assert sample_files(files, 10) == [("c.xlsx", 1), ("a.xlsx", 5), ("b.xlsx", 5)]
    assert sample_files(files, 2) == [("c.xlsx", 1), ("b.xlsx", 5)]
    assert sample_files(files, 0) == []


def test_sample_never_repeats_a_file() -> None:
    files = [(f"f{i}", i) for i in range(7)]
    for count in range(1, 8):
        picked = sample_files(files, count)
        assert len(picked) == count
        assert len(set(picked)) == count


# -- candidates ---------------------------------------------------------------------------------------


def test_candidates_are_sequential_then_each_backend_from_two_workers_to_the_cores() -> None:
    every = ("auto", "sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib")
    expected = [("sequential", 1)] + [
        (b, n) for b in ("threads", "asyncio", "processes", "multiprocessing", "joblib") for n in (2, 3, 4)
    ]
    assert [(c.backend, c.workers) for c in candidates(4, every)] == expected
    assert [c.workers for c in candidates(16, every) if c.backend == "threads"] == [2, 4, 8, 16]
    # one core: parallel backends are still tried with two workers (I/O-bound tasks can gain)
    assert [c.workers for c in candidates(1, every) if c.backend == "processes"] == [2]


def test_dask_is_a_candidate_only_when_a_cluster_is_configured() -> None:
    offered = available_backends()
    assert "dask" not in {c.backend for c in candidates(2, offered)}
    with_cluster = candidates(2, offered, cluster="local:2")
    assert with_cluster[-1] == Candidate("dask", 0) and with_cluster[-1].label == "dask"
    assert with_cluster[:-1] == candidates(2, offered)


# -- the comparison -----------------------------------------------------------------------------------


def test_every_candidate_is_measured_into_temporary_folders_that_are_removed(
    books: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[Path] = []
    seen_outputs: list[list[str]] = []
    real_mkdtemp, real_rmtree = tempfile.mkdtemp, shutil.rmtree
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def mkdtemp(*args, **kwargs):
        kwargs["dir"] = str(scratch)
        path = real_mkdtemp(*args, **kwargs)
        created.append(Path(path))
        return path

    def rmtree(path, *args, **kwargs):
        if Path(path) in created:
            seen_outputs.append(sorted(p.name for p in Path(path).rglob("*") if p.is_file()))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(bench.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(bench.shutil, "rmtree", rmtree)
    steps: list[tuple[int, int, str]] = []
    every = ("sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib")
    result = compare_backends(
        "summarize", [str(books[0].parent)], sample=4, on_progress=lambda *a: steps.append(a), available=every, cores=2
    )
    expected = [(c.backend, c.workers) for c in candidates(2, every, 4)]
    assert [(r.backend, r.workers) for r in result.rows] == expected
    assert len(expected) == 6
    for row in result.rows:
        assert row.error is None
        assert row.ok_files == 4 and row.failed_files == 0
        assert row.seconds > 0
        assert row.files_per_second == pytest.approx(4 / row.seconds)
    sequential = result.rows[0]
    for row in result.rows:
        assert row.speedup == pytest.approx(sequential.seconds / row.seconds)
    # the sample: 4 of the 6 files, smallest and largest included, smallest first
    sizes = sorted(p.stat().st_size for p in books)
    assert result.total_files == 6
    assert [Path(f).stat().st_size for f in result.files] == [sizes[0], sizes[2], sizes[3], sizes[5]]
    # one temporary output folder per run, each held the run's summary, none is left
    assert len(created) == 6
    assert len(seen_outputs) == 6 and all("summary.xlsx" in names for names in seen_outputs)
    assert not any(p.exists() for p in created)
    assert list(scratch.iterdir()) == []
    # progress: one call before each run, then a final one
    assert [s[0] for s in steps] == list(range(7)) and all(s[1] == 6 for s in steps)
    # the recommendation is the fastest measured run
    fastest = min(result.rows, key=lambda r: r.seconds)
    choice = recommend(result)
    assert choice is not None
    assert (choice.backend, choice.workers) == (fastest.backend, fastest.workers)
    assert result.best is fastest


def test_task_parameters_reach_the_runs(books: list[Path]) -> None:
    result = compare_backends(
        "convert", [str(p) for p in books[:2]], {"to": "csv"}, sample=2, available=("sequential",), cores=2
    )
    assert [(r.backend, r.ok_files) for r in result.rows] == [("sequential", 2)]
    with pytest.raises(InvalidParams):
        compare_backends("convert", [str(books[0])], {"to": "pdf"}, available=("sequential",))


def test_unknown_task_or_no_files_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(InvalidParams):
        compare_backends("no-such-task", [str(tmp_path)])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidParams):
        compare_backends("summarize", [str(tmp_path / "empty")])


def test_cancel_stops_between_runs_and_keeps_what_was_measured(books: list[Path]) -> None:
    stop = threading.Event()

    def progress(step: int, steps: int, text: str) -> None:
        if step == 1:
            stop.set()  # asked while the second run is about to start

    result = compare_backends(
        "summarize",
        [str(books[0].parent)],
        sample=2,
        on_progress=progress,
        cancel=stop,
        available=("sequential", "threads", "processes"),
        cores=2,
    )
    assert result.cancelled
    assert [r.backend for r in result.rows] == ["sequential"]


def test_a_cancel_function_is_accepted(books: list[Path]) -> None:
    result = compare_backends("summarize", [str(books[0])], cancel=lambda: True, available=("sequential",))
    assert result.cancelled and result.rows == []


# -- recommendation -----------------------------------------------------------------------------------


def _row(backend: str, workers: int, seconds: float, ok: int = 10, error: str | None = None) -> BenchRow:
    return BenchRow(backend, workers, seconds, 10 / seconds if seconds else 0.0, 0.0, ok, 10 - ok, error)


def _result(rows: list[BenchRow]) -> BenchResult:
    return BenchResult("summarize", [f"f{i}" for i in range(10)], 10, 1, 1, 2, rows=rows)


def test_recommend_picks_the_fastest_complete_run() -> None:
    rows = [
        _row("sequential", 1, 9.0),
        _row("threads", 2, 7.0),
        _row("processes", 2, 5.0),
        _row("multiprocessing", 2, 4.0, ok=8),  # faster, but lost files: not a fair winner
        _row("joblib", 2, 0.0, ok=0, error="RuntimeError: no"),
    ]
    choice = recommend(_result(rows))
    assert choice is not None and (choice.backend, choice.workers) == ("processes", 2)
    assert "processes x2" in choice.reason and "threads x2" in choice.reason
    assert recommend(_result([_row("joblib", 2, 0.0, ok=0, error="x")])) is None


def test_recommend_may_say_sequential() -> None:
    choice = recommend(_result([_row("sequential", 1, 1.0), _row("processes", 2, 2.5)]))
    assert choice is not None and (choice.backend, choice.workers) == ("sequential", 1)


# -- saving -------------------------------------------------------------------------------------------


def test_save_choice_sets_the_tasks_backend_in_the_settings_file(tmp_path: Path) -> None:
    from xlbatch.settings import load_settings

    path = tmp_path / "settings" / "settings.yaml"
    path.parent.mkdir()
    path.write_text("memory_guard_mb: 300\n", encoding="utf-8")
    assert bench.save_choice("summarize", "processes", 2, path) == path
    bench.save_choice("convert", "threads", 4, path)
    bench.save_choice("summarize", "multiprocessing", 3, path)
    settings = load_settings(path)
    assert settings.backend_for("summarize")[0] == "multiprocessing"
    assert settings.backend_for("convert")[0] == "threads"
    assert settings.get("memory_guard_mb") == 300  # the rest of the file is kept
    assert [p.name for p in path.parent.iterdir()] == ["settings.yaml"]  # no temporary file left


# -- command line -------------------------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="xlbatch")
    bench.add_bench_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_bench_command_prints_the_table_and_saves_the_fastest(
    books: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "available_backends", lambda: ("auto", "sequential", "threads"))
    settings = tmp_path / "settings.yaml"
    args = _parse(["bench", "summarize", str(books[0].parent), "--sample", "3", "--save", "--settings", str(settings)])
    out, err = io.StringIO(), io.StringIO()
    assert bench.bench_command(args, out, err) == bench.EXIT_OK
    text = out.getvalue()
    assert "summarize: 3 of 6 file(s)" in text
    assert "<- fastest" in text
    lines = [line.split() for line in text.splitlines() if line.startswith(("sequential", "threads"))]
    measured = {(cells[0], int(cells[1])): float(cells[2]) for cells in lines}
    assert set(measured) == {("sequential", 1), ("threads", 2)}
    # The marked row is the fastest unrounded time; printed times of a few milliseconds can tie.
    (marked,) = [cells[0] for cells in lines if "<-" in cells]
    assert measured[(marked, 1 if marked == "sequential" else 2)] == min(measured.values())
    from xlbatch.settings import load_settings

    assert load_settings(settings).backend_for("summarize")[0] == marked


def test_bench_command_json_and_usage_errors(books: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "available_backends", lambda: ("auto", "sequential"))
    out, err = io.StringIO(), io.StringIO()
    assert bench.bench_command(_parse(["bench", "summarize", str(books[1]), "--json"]), out, err) == 0
    data = json.loads(out.getvalue())
    assert data["recommendation"]["backend"] == "sequential"
    assert data["files"] == [str(books[1].resolve())]
    assert bench.bench_command(_parse(["bench", "nope", str(books[1])]), io.StringIO(), err) == bench.EXIT_USAGE
    assert bench.bench_command(_parse(["bench", "summarize", str(books[1]), "--sample", "0"]), io.StringIO(), err) == 2
    args = _parse(["bench", "convert", str(books[1]), "--param", "to=pdf"])
    assert bench.bench_command(args, io.StringIO(), err) == bench.EXIT_USAGE


def test_candidate_labels() -> None:
    assert Candidate("sequential", 1).label == "sequential"
    assert Candidate("processes", 2).label == "processes x2"
