"""Every backend gives the same results; process backends isolate crashes and hangs; both cancel modes."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import psutil
import pytest

import tests.faulty_tasks  # noqa: F401 - registers the test-only tasks
from tests.helpers import assert_invariants, numbers_book
from xlbatch.cancel import CancelToken
from xlbatch.events import FileStarted
from xlbatch.runner import run_batch

# dask runs on a LocalCluster of 2 (kept between the tests of this process); `distributed` is a dependency
# of the package, so it is skipped only where it is not installed at all.
DASK = pytest.param(
    "dask",
    marks=pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="distributed is not installed"),
)
ALL_BACKENDS = ["sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib", DASK]
PROCESS_BACKENDS = ["processes", "multiprocessing", "joblib", DASK]
# Backends that keep their worker processes for the next batch: loky's idle executor (shutdown_pools() ends
# it with the app) and the LocalCluster of `dask` (kept by xlbatch.executors.dask_cluster until close_all()).
KEEPS_WORKERS = {"joblib", "dask"}


@pytest.fixture
def corpus(tmp_path: Path, frozen_inputs: list[Path]) -> Path:
    folder = tmp_path / "in"
    for i in range(6):
        numbers_book(folder / f"book{i}.xlsx", n=3 + i, offset=i)
    numbers_book(folder / "sub" / "book0.xlsx", n=2)  # same name, other folder
    frozen_inputs.append(folder)
    return folder


def _comparable(report):
    return sorted(
        (Path(f.path).name, Path(f.path).parent.name, f.status, str(f.result.get("sheets"))) for f in report.files
    )


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_every_backend_gives_identical_results(corpus: Path, tmp_path: Path, backend: str) -> None:
    reference = run_batch(task="summarize", paths=[str(corpus)], out_dir=str(tmp_path / "ref"), backend="sequential")
    report = run_batch(
        task="summarize", paths=[str(corpus)], out_dir=str(tmp_path / backend), backend=backend, workers=2
    )
    assert report.backend == backend
    assert report.counts["ok"] == 7
    assert _comparable(report) == _comparable(reference)
    # the sheet totals are those of the generated data: sum of 1+i..n+i plus the header-free counts
    by_name = {(Path(f.path).parent.name, Path(f.path).name): f for f in report.files}
    sheet = by_name[("in", "book2.xlsx")].result["sheets"][0]
    assert sheet["numeric_sum"] == sum(range(1 + 2, 5 + 1 + 2))
    assert sheet["rows"] == 6 and sheet["columns"] == 2
    assert_invariants(report, sorted(corpus.rglob("*.xlsx")))
    assert (tmp_path / backend / "summary.xlsx").is_file()


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
@pytest.mark.parametrize("marker", ["crash", "sigkill"])
def test_a_crashing_worker_fails_only_its_file(tmp_path: Path, backend: str, marker: str) -> None:
    folder = tmp_path / "in"
    for i in range(4):
        numbers_book(folder / f"good{i}.xlsx")
    numbers_book(folder / f"{marker}.xlsx")
    report = run_batch(task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend=backend, workers=2)
    statuses = {Path(f.path).name: f for f in report.files}
    bad = statuses.pop(f"{marker}.xlsx")
    assert bad.status == "failed" and bad.error.kind == "crashed"
    assert all(f.status == "ok" for f in statuses.values()), {k: (f.status, f.error) for k, f in statuses.items()}
    if backend not in ("joblib", "dask") and marker == "crash":
        assert "3" in bad.error.detail  # the exit code
    if backend == "dask":  # the scheduler named it once a second worker died on it
        assert "KilledWorker" in bad.error.detail or "died" in bad.error.detail
    for name in statuses:  # innocents' outputs are all there
        assert (tmp_path / "out" / name.replace(".xlsx", ".txt")).read_text() == "12"  # header + 5 rows of 2 cells
    assert_invariants(report, sorted(folder.glob("*.xlsx")))


@pytest.mark.parametrize("backend", PROCESS_BACKENDS)
def test_a_hanging_file_times_out_and_the_rest_finish(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"good{i}.xlsx")
    numbers_book(folder / "hang.xlsx")
    report = run_batch(
        task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend=backend, workers=2, timeout=1.5
    )
    by_name = {Path(f.path).name: f for f in report.files}
    hung = by_name.pop("hang.xlsx")
    assert hung.status == "failed" and hung.error.kind == "timeout"
    assert hung.seconds < 1.5 + 2.5
    assert all(f.status == "ok" for f in by_name.values())
    assert_invariants(report, sorted(folder.glob("*.xlsx")))


@pytest.mark.parametrize("backend", ["sequential", "threads", "asyncio"])
def test_thread_backends_report_a_late_file_as_timeout(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    numbers_book(folder / "a.xlsx")
    numbers_book(folder / "slow.xlsx")
    report = run_batch(
        task="faulty",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend=backend,
        workers=2,
        timeout=0.3,
        params={"slow_seconds": 5},
    )
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["slow.xlsx"].error.kind == "timeout"
    assert by_name["a.xlsx"].status == "ok"


def test_unexpected_error_is_a_task_error_with_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    numbers_book(folder / "boom.xlsx")
    numbers_book(folder / "fine.xlsx")
    report = run_batch(
        task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="processes", workers=2
    )
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["boom.xlsx"].error.kind == "task_error"
    # The sentence is plain; the exception's own words and the traceback are in the detail.
    assert "unexpected value in cell B2" not in by_name["boom.xlsx"].error.message
    assert "unexpected value in cell B2" in by_name["boom.xlsx"].error.detail
    assert "Traceback" in by_name["boom.xlsx"].error.detail
    assert by_name["fine.xlsx"].status == "ok"
    assert report.exit_code == 1


def test_retries_rerun_a_crashed_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    numbers_book(folder / "crash.xlsx")
    numbers_book(folder / "ok.xlsx")
    report = run_batch(
        task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="processes", workers=2, retries=1
    )
    crashed = next(f for f in report.files if "crash" in f.path)
    assert crashed.error.kind == "crashed" and crashed.attempts == 2


def _cancel_when_started(cancel: CancelToken, mode: str, after: int):
    started: set[int] = set()

    def on_event(event) -> None:
        if isinstance(event, FileStarted):
            started.add(event.index)
            if len(started) >= after:
                cancel.cancel(mode)

    return on_event


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_cancel_finish_completes_running_files_and_starts_no_more(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    for i in range(8):
        numbers_book(folder / f"f{i}.xlsx")
    cancel = CancelToken()
    report = run_batch(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend=backend,
        workers=2,
        params={"seconds": 0.4},
        cancel=cancel,
        on_event=_cancel_when_started(cancel, "finish", 1),
    )
    counts = report.counts
    assert report.cancelled and report.exit_code == 130
    assert counts["ok"] >= 1 and counts["cancelled"] >= 1
    assert counts["ok"] + counts["cancelled"] == 8
    # Files a stop request kept from being dispatched (joblib: NotStarted) are not a broken pool.
    assert [n for n in report.notices if "A worker stopped" in n] == []
    for f in report.files:  # a finished file has its output; a cancelled one has none
        output = tmp_path / "out" / (Path(f.path).stem + ".done")
        assert output.exists() == (f.status == "ok")
    assert_invariants(report, sorted(folder.glob("*.xlsx")))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_cancel_now_stops_running_files(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    for i in range(4):
        numbers_book(folder / f"f{i}.xlsx")
    cancel = CancelToken()
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    report = run_batch(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend=backend,
        workers=2,
        params={"seconds": 30},
        cancel=cancel,
        on_event=_cancel_when_started(cancel, "now", 1),
    )
    assert report.counts["cancelled"] == 4
    assert report.seconds < 20
    assert list((tmp_path / "out").glob("*.done")) == []
    assert_invariants(report, sorted(folder.glob("*.xlsx")))
    if backend not in KEEPS_WORKERS:
        assert _new_live_children(before) == []


def _new_live_children(before: set[int]) -> list[psutil.Process]:
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            helper = "resource_tracker" in " ".join(child.cmdline())  # one per parent, not a worker
            if child.pid not in before and child.status() != psutil.STATUS_ZOMBIE and not helper:
                alive.append(child)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_memory_guard_waits_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlbatch.memory_guard as memory_guard

    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"f{i}.xlsx")
    readings = iter([10 * 2**20] * 5)
    monkeypatch.setattr(memory_guard, "memory_probe", lambda: next(readings, 8 * 2**30))
    notices = []
    report = run_batch(
        task="summarize",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="threads",
        workers=2,
        on_event=lambda e: notices.append(e) if type(e).__name__ == "Notice" else None,
    )
    assert report.counts["ok"] == 3
    texts = [n.message for n in notices]
    assert any("Free memory is low" in t for t in texts)
    assert any("Memory is available again" in t for t in texts)


def test_the_memory_guard_also_gates_what_joblib_dispatches_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """joblib takes every item at once and dispatches them from its own thread: the guard runs there too."""
    import xlbatch.memory_guard as memory_guard

    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"f{i}.xlsx")
    probed_from: set[str] = set()

    def probe() -> int:
        probed_from.add("batch" if threading.current_thread() is threading.main_thread() else "dispatcher")
        return 8 * 2**30

    monkeypatch.setattr(memory_guard, "memory_probe", probe)
    report = run_batch(task="summarize", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="joblib")
    assert report.counts["ok"] == 3
    assert probed_from == {"batch", "dispatcher"}


def test_events_come_in_order_for_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for i in range(5):
        numbers_book(folder / f"f{i}.xlsx")
    events = []
    lock = threading.Lock()

    def record(event) -> None:
        with lock:
            events.append(event)

    run_batch(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="processes",
        workers=2,
        params={"seconds": 0.3},
        on_event=record,
    )
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "BatchStarted" and kinds[-1] == "BatchFinished"
    for index in range(5):
        mine = [type(e).__name__ for e in events if getattr(e, "index", None) == index]
        assert mine[0] == "FileQueued" and mine[1] == "FileStarted" and mine[-1] == "FileFinished"
        assert "FileProgress" in mine  # within-file progress reaches the parent from process workers


# Some workers by pid only on `processes`: multiprocessing.Pool's idle workers wait for work holding its task
# queue's lock, and the supervisor only ever kills busy ones by pid.
@pytest.mark.parametrize(
    ("backend", "everything"), [("processes", True), ("processes", False), ("multiprocessing", True)]
)
def test_kill_returns_once_the_workers_are_gone(backend: str, everything: bool) -> None:
    """So that all a killed worker sent (an `output` message before a rename) is in the channel when the
    supervisor reads it to settle the worker's files."""
    from xlbatch.executors import make_backend
    from xlbatch.worker import warm_up

    pool = make_backend(backend, 2)
    pool.start()
    try:
        pids = {pool.submit_call(warm_up).result(timeout=60) for _ in range(4)}
        assert pids and pids <= pool.worker_pids()
        pool.kill(None if everything else pids)
        assert [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE] == []
    finally:
        pool.shutdown(kill=True)
