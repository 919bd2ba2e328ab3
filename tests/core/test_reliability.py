"""Nothing lost, nothing frozen: kills and resumes, memory hogs, and cancel at random moments."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import tests.corpus as corpus
import tests.faulty_tasks  # noqa: F401 - registers the test-only tasks
from tests.conftest import hash_tree
from tests.helpers import assert_invariants, numbers_book
from xlbatch.atomic import TEMP_MARKER
from xlbatch.cancel import CancelToken
from xlbatch.events import FileStarted
from xlbatch.runner import run_batch

REPO = Path(__file__).resolve().parents[2]
LAUNCH = "import sys, tests.faulty_tasks; from xlbatch.gui.entry import main; sys.exit(main(sys.argv[1:]))"


def _live(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.add(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_gone(pids: set[int], seconds: float = 20) -> set[int]:
    deadline = time.monotonic() + seconds
    while (alive := _live(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
def test_kill_9_then_resume_redoes_nothing_finished(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for i in range(10):
        corpus.make_ledger(folder / f"f{i:02}.xlsx", rows=5, seed=i)
    before = hash_tree(folder)
    out = tmp_path / "out"
    args = [
        "run",
        "sleepy",
        str(folder),
        "--out",
        str(out),
        "--workers",
        "2",
        "--backend",
        "processes",
        "--param",
        "seconds=0.4",
    ]
    child = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, *args, "--progress", "jsonl"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    assert child.stdout is not None
    finished = []
    for line in child.stdout:
        event = json.loads(line)
        if event["event"] == "FileFinished":
            finished.append(event["path"])
            if len(finished) == 3:
                break
    workers = {p.pid for p in psutil.Process(child.pid).children(recursive=True)}
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert _wait_gone(workers) == set(), "worker processes outlived the killed parent"
    # The files reported finished before the kill are in the journal; a file a worker completed in the
    # instant before it noticed its parent was gone is not, and is rightly done again.
    done_before = {f"{Path(p).stem}.done": (out / f"{Path(p).stem}.done").stat().st_mtime_ns for p in finished}
    assert len(done_before) == 3
    stale = out / f"~f99{TEMP_MARKER}4242-dead.done"  # what a worker killed mid-write leaves
    stale.write_text("partial")

    resumed = subprocess.run(
        [sys.executable, "-c", LAUNCH, *args, "--resume", "--progress", "none"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["ok"] == 10
    kept = [f for f in report["files"] if (f["reason"] or "").startswith("done in an earlier run")]
    assert {Path(f["path"]).name for f in kept} >= {Path(p).name for p in finished}
    for name, mtime in done_before.items():  # finished outputs were not redone, and are intact
        assert (out / name).stat().st_mtime_ns == mtime
        assert (out / name).read_text() == "done"
    assert len([p for p in out.glob("*.done") if TEMP_MARKER not in p.name]) == 10
    assert not [p for p in out.rglob("*") if TEMP_MARKER in p.name]
    assert hash_tree(folder) == before


def test_resume_redoes_a_file_that_changed_or_lost_its_output(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    paths = [numbers_book(folder / f"f{i}.xlsx") for i in range(3)]
    out = tmp_path / "out"
    run_batch(task="faulty", paths=[str(folder)], out_dir=str(out), backend="sequential")
    numbers_book(paths[0], n=9)  # changed since
    (out / "f1.txt").unlink()  # output lost
    report = run_batch(task="faulty", paths=[str(folder)], out_dir=str(out), backend="sequential", resume=True)
    reasons = {Path(f.path).name: f.reason for f in report.files}
    assert reasons["f0.xlsx"] is None and reasons["f1.xlsx"] is None
    assert reasons["f2.xlsx"].startswith("done in an earlier run")
    assert (out / "f0.txt").read_text() == "20"  # header + 9 rows of 2 cells
    # different parameters: nothing is kept
    report = run_batch(
        task="faulty",
        paths=[str(folder)],
        out_dir=str(out),
        backend="sequential",
        resume=True,
        params={"slow_seconds": 2},
    )
    assert all(f.reason is None for f in report.files)


@pytest.mark.skipif(sys.platform == "win32", reason="caps the worker's address space with RLIMIT_AS")
def test_a_worker_that_hogs_memory_fails_only_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"good{i}.xlsx")
    numbers_book(folder / "hog.xlsx")
    report = run_batch(
        task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="processes", workers=2
    )
    by_name = {Path(f.path).name: f for f in report.files}
    hog = by_name.pop("hog.xlsx")
    assert hog.status == "failed" and hog.error.kind in ("too_large", "crashed")
    assert all(f.status == "ok" for f in by_name.values())


def _cancel_when(flag: Path, cancel: CancelToken) -> None:
    """Stop now once `flag` exists (the worker has committed its output and has not reported the file)."""
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    cancel.cancel("now")


@pytest.mark.parametrize("backend", ["processes", "multiprocessing", "joblib"])
def test_stop_now_after_a_worker_committed_an_output_leaves_none(tmp_path: Path, backend: str) -> None:
    """The worker is killed after its output is in place and before it says the file is done: the file is
    cancelled, so its output goes (the parent knows it from the worker's word before the commit)."""
    folder, flags, out = tmp_path / "in", tmp_path / "flags", tmp_path / "out"
    inputs = [numbers_book(folder / "block.xlsx", n=2)]
    flags.mkdir()
    cancel = CancelToken()
    waiter = threading.Thread(target=_cancel_when, args=(flags / "block.committed", cancel), daemon=True)
    waiter.start()
    report = run_batch(
        task="committer",
        paths=[str(folder)],
        out_dir=str(out),
        backend=backend,
        workers=1,
        params={"flag_dir": str(flags)},
        cancel=cancel,
    )
    waiter.join()
    assert (flags / "block.committed").exists()
    [outcome] = report.files
    assert (outcome.status, outcome.reason) == ("cancelled", "stopped by the user")
    assert not (out / "block.done").exists()
    assert_invariants(report, inputs)


def _committer(tmp_path: Path, names: list[str], backend: str, **options) -> tuple[dict, Path]:
    folder, flags, out = tmp_path / "in", tmp_path / "flags", tmp_path / "out"
    inputs = [numbers_book(folder / f"{name}.xlsx", n=2) for name in names]
    flags.mkdir()
    report = run_batch(
        task="committer",
        paths=[str(folder)],
        out_dir=str(out),
        backend=backend,
        workers=2,
        params={"flag_dir": str(flags)},
        **options,
    )
    assert_invariants(report, inputs)
    return {Path(f.path).stem: f for f in report.files}, out


@pytest.mark.parametrize("backend", ["processes", "multiprocessing"])
def test_a_worker_that_dies_after_committing_an_output_leaves_none(tmp_path: Path, backend: str) -> None:
    by_name, out = _committer(tmp_path, ["crash", "good"], backend)
    assert by_name["crash"].status == "failed" and by_name["crash"].error.kind == "crashed"
    assert by_name["good"].status == "ok"
    assert sorted(p.name for p in out.glob("*.done")) == ["good.done"]


@pytest.mark.parametrize("backend", ["processes", "multiprocessing"])
def test_a_file_stopped_past_its_time_limit_after_committing_an_output_leaves_none(
    tmp_path: Path, backend: str
) -> None:
    by_name, out = _committer(tmp_path, ["block"], backend, timeout=0.5)
    assert by_name["block"].status == "failed" and by_name["block"].error.kind == "timeout"
    assert list(out.glob("*.done")) == []


def test_a_retry_keeps_nothing_of_the_attempt_stopped_past_its_time_limit(tmp_path: Path) -> None:
    """The first attempt committed its output and was stopped; the retry fails before writing anything."""
    by_name, out = _committer(tmp_path, ["block"], "processes", timeout=0.5, retries=1)
    assert by_name["block"].status == "failed" and by_name["block"].error.kind == "task_error"
    assert by_name["block"].attempts == 2
    assert list(out.glob("*.done")) == []


@pytest.mark.parametrize("backend", ["processes", "multiprocessing"])
def test_an_innocent_file_run_again_keeps_nothing_of_its_stopped_attempt(tmp_path: Path, backend: str) -> None:
    """`block` committed its output and was running when `crash_late` brought the pool down: it runs again
    and this time fails before writing anything, so the output of its first attempt must not stay."""
    by_name, out = _committer(tmp_path, ["block", "crash_late"], backend)
    assert by_name["crash_late"].status == "failed" and by_name["crash_late"].error.kind == "crashed"
    assert by_name["block"].status == "failed" and by_name["block"].error.kind == "task_error"
    assert by_name["block"].attempts == 1 and "runs only once" in by_name["block"].error.detail
    assert list(out.glob("*.done")) == []


@pytest.mark.parametrize("seed", range(2))
def test_cancel_at_random_moments_never_loses_a_file(tmp_path: Path, seed: int) -> None:
    """A seeded loop of 25 runs per seed (50 in all): random backend, mode and moment."""
    rng = random.Random(seed)
    folder = tmp_path / "in"
    inputs = [numbers_book(folder / f"f{i}.xlsx", n=2) for i in range(6)]
    before = hash_tree(folder)
    baseline = {p.pid for p in psutil.Process().children(recursive=True)}
    for run in range(25):
        backend = rng.choice(["sequential", "threads", "asyncio", "processes", "multiprocessing"])
        mode = rng.choice(["finish", "now"])
        after_started = rng.randint(1, 6)
        delay = rng.uniform(0, 0.15)
        cancel = CancelToken()
        started = 0
        timer_armed = False

        def on_event(event, cancel=cancel, after_started=after_started, delay=delay, mode=mode) -> None:
            nonlocal started, timer_armed
            if isinstance(event, FileStarted):
                started += 1
                if started >= after_started and not timer_armed:
                    timer_armed = True
                    import threading

                    threading.Timer(delay, cancel.cancel, (mode,)).start()

        out = tmp_path / f"out{run}"
        report = run_batch(
            task="sleepy",
            paths=[str(folder)],
            out_dir=str(out),
            backend=backend,
            workers=2,
            params={"seconds": 0.1},
            cancel=cancel,
            on_event=on_event,
        )
        assert all(f.status in ("ok", "cancelled", "failed") for f in report.files)
        assert_invariants(report, inputs)
        for f in report.files:  # an ok file has its output, a cancelled one none
            assert (out / (Path(f.path).stem + ".done")).exists() == (f.status == "ok"), (backend, mode, f)
        new = {p.pid for p in psutil.Process().children(recursive=True)} - baseline
        helpers = {p for p in new if "resource_tracker" in " ".join(psutil.Process(p).cmdline())}
        assert _wait_gone(new - helpers, 10) == set(), (backend, mode)
    assert hash_tree(folder) == before
