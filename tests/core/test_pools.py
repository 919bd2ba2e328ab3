"""Warm pools: a second batch reuses the started workers and gets its first result fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import tests.faulty_tasks  # noqa: F401
from tests.helpers import numbers_book
from xlbatch.cancel import CancelToken
from xlbatch.events import FileFinished, FileStarted
from xlbatch.executors.pools import PoolCache
from xlbatch.plan import BatchSpec, plan_batch
from xlbatch.runner import run_plan


@pytest.fixture
def pools():
    cache = PoolCache()
    yield cache
    cache.shutdown()


@pytest.mark.parametrize("backend", ["processes", "multiprocessing"])
def test_a_second_batch_reuses_the_warm_pool(tmp_path: Path, pools: PoolCache, backend: str) -> None:
    folder = tmp_path / "in"
    for i in range(4):
        numbers_book(folder / f"f{i}.xlsx")
    workers: set[int] = set()
    for run in range(2):
        spec = BatchSpec(
            task="faulty", paths=[str(folder)], out_dir=str(tmp_path / f"out{run}"), backend=backend, workers=2
        )
        report = run_plan(plan_batch(spec), pools=pools)
        assert report.counts["ok"] == 4
        used = {f.result["pid"] for f in report.files}
        if run == 1:
            assert used <= workers, "the second batch ran in the processes started for the first"
        assert pools.warm(backend, 2)
        workers = pools._backend.worker_pids()


def test_messages_of_one_batch_never_reach_the_next(tmp_path: Path, pools: PoolCache) -> None:
    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"f{i}.xlsx")
    first = BatchSpec(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "a"),
        backend="processes",
        workers=2,
        params={"seconds": 0.2},
    )
    run_plan(plan_batch(first), pools=pools)
    events = []
    second = BatchSpec(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "b"),
        backend="processes",
        workers=2,
        params={"seconds": 0.2},
    )
    report = run_plan(plan_batch(second), events.append, pools=pools)
    finished = [e.index for e in events if isinstance(e, FileFinished)]
    assert sorted(finished) == [0, 1, 2] and report.counts["ok"] == 3


def test_prestarted_pool_gives_a_fast_first_result(tmp_path: Path, pools: PoolCache) -> None:
    numbers_book(tmp_path / "in" / "a.xlsx")
    pools.prestart("processes", 2).result(timeout=60)
    assert pools.warm("processes", 2)
    spec = BatchSpec(
        task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"), backend="processes", workers=2
    )
    seen: dict[str, float] = {}
    start = time.perf_counter()
    run_plan(plan_batch(spec), lambda e: seen.setdefault(type(e).__name__, time.perf_counter() - start), pools=pools)
    assert "FileFinished" in seen  # the time itself is measured by the benchmark, not asserted here


def test_a_stopped_batch_does_not_leave_its_pool_warm(tmp_path: Path, pools: PoolCache) -> None:
    folder = tmp_path / "in"
    for i in range(3):
        numbers_book(folder / f"f{i}.xlsx")
    cancel = CancelToken()
    spec = BatchSpec(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="processes",
        workers=2,
        params={"seconds": 30},
    )
    run_plan(
        plan_batch(spec), lambda e: cancel.cancel("now") if isinstance(e, FileStarted) else None, cancel, pools=pools
    )
    assert not pools.warm("processes", 2)


def test_a_pool_that_finishes_starting_after_shutdown_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app closes while its warm pool is still starting: once started, that pool must end too, or its
    workers outlive the app."""
    import threading

    import xlbatch.executors.pools as pools_module

    started, go_on, ended = threading.Event(), threading.Event(), []

    class SlowStart:
        def start(self) -> None:
            started.set()
            go_on.wait(10)

        def shutdown(self, kill: bool = False) -> None:
            ended.append(kill)

    monkeypatch.setattr(pools_module, "make_backend", lambda *args: SlowStart())
    cache = PoolCache()
    acquired: list = []
    thread = threading.Thread(target=lambda: acquired.append(cache.acquire("processes", 2)))
    thread.start()
    assert started.wait(10)
    cache.shutdown()  # the window closes now
    go_on.set()
    thread.join(10)
    cache.release(acquired[0], healthy=True)
    assert ended and not cache.warm("processes", 2)
