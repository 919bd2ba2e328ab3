"""The dask backend on real clusters, on 127.0.0.1 only: a LocalCluster (`local:2`, kept between the tests
of this process), LocalClusters started here with a worker preload (a worker on another xlbatch version, a
writer that damages what it writes), and a `dask scheduler` subprocess with two `xlbatch worker`
subprocesses that is stopped mid-batch. Parity with the other backends, crashes, time limits and both
cancel modes are in test_backends.py, which takes `dask` by name."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask backend needs distributed (a dependency of xlbatch)")

import psutil  # noqa: E402

import tests.faulty_tasks  # noqa: E402,F401 - registers the test-only tasks
from tests.helpers import assert_invariants, numbers_book, write_book  # noqa: E402
from xlbatch.cli import main as cli_main  # noqa: E402
from xlbatch.events import FileFinished, FileProgress, FileQueued, FileStarted  # noqa: E402
from xlbatch.executors import dask_backend, dask_cluster  # noqa: E402
from xlbatch.params import InvalidParams  # noqa: E402
from xlbatch.runner import run_batch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "local:2"
WORKER_PID = re.compile(r"^tcp://127\.0\.0\.1:\d+ \(pid (\d+)\)$")


def _books(folder: Path, names: list[str], n: int = 4) -> Path:
    for name in names:
        numbers_book(folder / name, n=n)
    return folder


def _worker_pid(event: FileStarted) -> int:
    match = WORKER_PID.match(event.worker)
    assert match, event.worker  # the worker's address on loopback, and its process
    return int(match.group(1))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- bytes travel, or paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [False, True])
def test_bytes_travel_by_default_and_paths_with_shared_storage(tmp_path: Path, shared: bool) -> None:
    folder = tmp_path / "in"
    _books(folder, ["a.xlsx", "b.xlsx", "sub/a.xlsx"])
    out = tmp_path / "out"
    report = run_batch(
        task="whereabouts", paths=[str(folder)], out_dir=str(out), backend="dask", cluster=LOCAL, shared_storage=shared
    )
    assert report.counts["ok"] == 3, [f.error for f in report.files]
    for f in report.files:
        source = Path(f.path)
        # Where the worker opened the file: its own copy (a folder per file index), or the client's path.
        assert (f.result["folder"] == source.parent.name) is shared
        # Every path the report shows is the client's: the file, its outputs, paths inside the result
        # and inside warnings.
        assert f.result["input"] == f.path and f.warnings == [f"read from {f.path}"]
        copy = out / source.relative_to(folder).with_suffix(".copy")
        assert f.outputs == [str(copy)]
        assert copy.read_bytes() == source.read_bytes()
        assert f.result["pid"] != os.getpid()
    assert_invariants(report, sorted(folder.rglob("*.xlsx")))


def test_big_files_go_ahead_through_scatter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _books(tmp_path / "in", ["a.xlsx", "b.xlsx"])
    write_book(folder / "big.xlsx", [[f"row {i}", i] for i in range(3000)])
    big = (folder / "big.xlsx").stat().st_size
    monkeypatch.setattr(dask_backend, "SCATTER_BYTES", big - 1)  # only big.xlsx is above it
    scattered: list[int] = []
    from distributed import Client

    real = Client.scatter

    def spy(self, data, *args, **kwargs):
        scattered.append(len(data))
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Client, "scatter", spy)
    out = tmp_path / "out"
    report = run_batch(task="whereabouts", paths=[str(folder)], out_dir=str(out), backend="dask", cluster=LOCAL)
    assert report.counts["ok"] == 3
    assert scattered == [big]
    assert (out / "big.copy").read_bytes() == (folder / "big.xlsx").read_bytes()


def test_combine_and_same_name_stems_match_sequential(tmp_path: Path) -> None:
    """combine's parts are written by the workers into the state folder and read by reduce() here; two
    inputs whose outputs would clash get the same stems as on any other backend."""
    folder = _books(tmp_path / "in", ["sales.xlsx", "north.xlsx"])
    write_book(folder / "sales.xls.xlsx", [["x", "y"], [1, 2]])
    (folder / "sales.csv").write_text("x,y\n3,4\n", encoding="utf-8")
    reports = {}
    for backend in ("sequential", "dask"):
        for task in ("combine", "convert"):
            cluster = LOCAL if backend == "dask" else None
            out = tmp_path / backend / task
            reports[backend, task] = run_batch(
                task=task, paths=[str(folder)], out_dir=str(out), backend=backend, cluster=cluster
            )

    def names(report, root: Path) -> list[tuple[str, list[str]]]:
        return sorted((Path(f.path).name, [str(Path(o).relative_to(root)) for o in f.outputs]) for f in report.files)

    for task in ("combine", "convert"):
        ours, theirs = reports["dask", task], reports["sequential", task]
        assert ours.counts == theirs.counts and ours.counts["ok"] == 4
        assert names(ours, tmp_path / "dask" / task) == names(theirs, tmp_path / "sequential" / task)
    converted = names(reports["dask", "convert"], tmp_path / "dask" / "convert")
    assert ("sales.csv", ["sales (csv).xlsx"]) in converted and ("sales.xlsx", ["sales (xlsx).xlsx"]) in converted
    from xlbatch.workbook import WorkbookReader

    def rows(root: Path) -> list[list]:
        with WorkbookReader(str(root / "combined.xlsx"), "xlsx") as book:
            return sorted(map(str, book.rows(book.sheet_names[0])))

    assert rows(tmp_path / "dask" / "combine") == rows(tmp_path / "sequential" / "combine")
    assert not (tmp_path / "dask" / "combine" / ".xlbatch" / "parts").exists()  # the parts were cleaned up


# -- events ---------------------------------------------------------------------------------------------


def test_events_name_the_worker_and_come_in_order(tmp_path: Path) -> None:
    folder = _books(tmp_path / "in", [f"f{i}.xlsx" for i in range(4)])
    events = []
    run_batch(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="dask",
        cluster=LOCAL,
        params={"seconds": 0.4},
        on_event=events.append,
    )
    for index in range(4):
        mine = [e for e in events if getattr(e, "index", None) == index]
        kinds = [type(e) for e in mine]
        assert kinds[0] is FileQueued and kinds[1] is FileStarted and kinds[-1] is FileFinished, kinds
        assert FileProgress in kinds[2:-1]  # progress within the file, from the worker
        assert set(kinds[2:-1]) == {FileProgress}
        assert _worker_pid(mine[1]) != os.getpid()
    workers = {e.worker for e in events if isinstance(e, FileStarted)}
    assert len(workers) == 2  # both workers of local:2 ran files


# -- failures -------------------------------------------------------------------------------------------


def test_a_worker_killed_from_outside_has_its_file_run_again(tmp_path: Path) -> None:
    """A worker dying once is not the file's fault (a machine switched off): the scheduler runs the file
    again elsewhere, and every file ends ok."""
    folder = _books(tmp_path / "in", [f"f{i}.xlsx" for i in range(4)])
    starts: dict[int, list[int]] = {}
    killed: list[int] = []

    def on_event(event) -> None:
        if isinstance(event, FileStarted):
            pid = _worker_pid(event)
            starts.setdefault(event.index, []).append(pid)
            if not killed:
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)

    report = run_batch(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="dask",
        cluster=LOCAL,
        params={"seconds": 1.0},
        on_event=on_event,
    )
    assert report.counts["ok"] == 4, [(f.path, f.error) for f in report.files]
    victim = next(i for i, pids in starts.items() if killed[0] in pids)
    assert len(starts[victim]) == 1  # one FileStarted per file, even when Dask ran it twice
    assert not psutil.pid_exists(killed[0])


def test_small_files_travel_together_and_a_crash_among_them_blames_only_its_file(tmp_path: Path) -> None:
    """40 small files travel two to a task; the task with crash.xlsx dies twice (KilledWorker): its other
    file runs again alone and ends ok, crash.xlsx alone is the one `crashed`."""
    names = [f"f{i:02d}.xlsx" for i in range(40)] + ["crash.xlsx"]
    folder = _books(tmp_path / "in", names, n=2)
    starts: list[tuple[int, str]] = []
    report = run_batch(
        task="faulty",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="dask",
        cluster=LOCAL,
        on_event=lambda e: starts.append((e.index, e.worker)) if isinstance(e, FileStarted) else None,
    )
    by_name = {Path(f.path).name: f for f in report.files}
    crashed = by_name.pop("crash.xlsx")
    assert crashed.error.kind == "crashed"
    assert all(f.status == "ok" for f in by_name.values()), {n: f.error for n, f in by_name.items() if f.error}
    pids = {f.result["pid"] for f in by_name.values()}
    tasks_per_worker = len(by_name) / max(1, len({w for _i, w in starts}))
    assert len(pids) >= 2 and tasks_per_worker > 1  # several files per worker process: they travelled together


def test_a_crashed_file_still_has_its_started_event(tmp_path: Path) -> None:
    """A worker that dies at once may not get its `started` out: the backend puts one before the crash."""
    folder = _books(tmp_path / "in", ["a.xlsx", "crash.xlsx", "b.xlsx"])
    events = []
    report = run_batch(
        task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="dask", cluster=LOCAL,
        on_event=events.append,
    )  # fmt: skip
    crash = next(f for f in report.files if f.path.endswith("crash.xlsx"))
    assert crash.error.kind == "crashed"
    index = report.files.index(crash)
    kinds = [type(e).__name__ for e in events if getattr(e, "index", None) == index]
    assert kinds[:2] == ["FileQueued", "FileStarted"] and kinds[-1] == "FileFinished", kinds


def test_finish_running_files_cancels_what_waits_at_the_scheduler(tmp_path: Path) -> None:
    """Two tasks per worker are in flight (one running, one waiting at the scheduler): "finish running
    files" lets the running ones finish and cancels the waiting ones."""
    from xlbatch.cancel import FINISH, CancelToken

    folder = _books(tmp_path / "in", [f"f{i}.xlsx" for i in range(8)])
    cancel = CancelToken()
    out = tmp_path / "out"
    report = run_batch(
        task="sleepy", paths=[str(folder)], out_dir=str(out), backend="dask", cluster=LOCAL,
        params={"seconds": 1.0}, cancel=cancel,
        on_event=lambda e: cancel.cancel(FINISH) if isinstance(e, FileStarted) else None,
    )  # fmt: skip
    assert report.counts["ok"] <= 2 and report.counts["ok"] + report.counts["cancelled"] == 8
    for f in report.files:
        assert (out / (Path(f.path).stem + ".done")).exists() == (f.status == "ok")


def test_a_timeout_restarts_the_worker_that_ran_it(tmp_path: Path) -> None:
    folder = _books(tmp_path / "in", ["a.xlsx", "hang.xlsx", "b.xlsx"])
    started: dict[str, int] = {}
    report = run_batch(
        task="faulty",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="dask",
        cluster=LOCAL,
        timeout=1.0,
        on_event=lambda e: started.update({Path(e.path).name: _worker_pid(e)}) if isinstance(e, FileStarted) else None,
    )
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["hang.xlsx"].error.kind == "timeout"
    assert by_name["a.xlsx"].status == by_name["b.xlsx"].status == "ok"
    assert not psutil.pid_exists(started["hang.xlsx"])  # its worker process was replaced
    handle = dask_cluster.connect(LOCAL)
    handle.client.wait_for_workers(2, timeout=30)  # its nanny started a fresh one
    assert started["hang.xlsx"] not in handle.client.run(os.getpid).values()


def test_retries_resubmit_a_crashed_file(tmp_path: Path) -> None:
    folder = _books(tmp_path / "in", ["crash.xlsx", "ok.xlsx"])
    report = run_batch(
        task="faulty", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="dask", cluster=LOCAL, retries=1
    )
    crashed = next(f for f in report.files if "crash" in f.path)
    assert crashed.error.kind == "crashed" and crashed.attempts == 2
    assert any("Retrying crash.xlsx (attempt 2)" in n for n in report.notices)


def test_stop_now_restarts_the_workers_that_were_running(tmp_path: Path) -> None:
    from xlbatch.cancel import CancelToken

    folder = _books(tmp_path / "in", [f"f{i}.xlsx" for i in range(4)])
    cancel = CancelToken()
    pids: set[int] = set()

    def on_event(event) -> None:
        if isinstance(event, FileStarted):
            pids.add(_worker_pid(event))
            if len(pids) == 2:
                cancel.cancel("now")

    report = run_batch(
        task="sleepy",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend="dask",
        cluster=LOCAL,
        params={"seconds": 30},
        cancel=cancel,
        on_event=on_event,
    )
    assert report.counts["cancelled"] == 4 and report.seconds < 25
    assert not any(psutil.pid_exists(pid) for pid in pids)
    assert list((tmp_path / "out").glob("*.done")) == []


# -- refusing a batch -----------------------------------------------------------------------------------


def test_an_unreachable_scheduler_exits_2_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _books(tmp_path / "in", ["a.xlsx"])
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    out = tmp_path / "out"
    began = time.monotonic()
    code = cli_main(["run", "summarize", str(folder), "--out", str(out), "--backend", "dask", "--cluster", address])
    took = time.monotonic() - began
    err = capsys.readouterr().err
    assert code == 2
    assert f"Cannot reach the cluster at {address}: " in err, err
    assert not out.exists()  # nothing ran, no report
    print(f"refused after {took:.1f} s (connect limit {dask_cluster.CONNECT_SECONDS} s)")


def _preloaded_cluster(tmp_path: Path, code: str) -> Iterator[str]:
    from distributed import LocalCluster

    script = tmp_path / "preload_worker.py"
    script.write_text(code, encoding="utf-8")
    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        preload=[str(script)],
    )
    try:
        yield cluster.scheduler_address
    finally:
        dask_cluster.forget(cluster.scheduler_address)
        cluster.close()


@pytest.fixture
def other_version(tmp_path: Path) -> Iterator[str]:
    yield from _preloaded_cluster(tmp_path, "import xlbatch\nxlbatch.__version__ = '0.0.9-other'\n")


def test_a_worker_on_another_version_refuses_the_batch(tmp_path: Path, other_version: str) -> None:
    from xlbatch import __version__

    folder = _books(tmp_path / "in", ["a.xlsx"])
    with pytest.raises(InvalidParams) as refused:
        run_batch(task="summarize", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="dask",
                  cluster=other_version)  # fmt: skip
    message = str(refused.value)
    assert "xlbatch 0.0.9-other" in message and f"xlbatch {__version__}" in message
    assert other_version.rsplit(":", 1)[0] in message  # names the worker
    assert not (tmp_path / "out").exists()


@pytest.fixture
def damaging_writer(tmp_path: Path) -> Iterator[str]:
    code = (
        "import xlbatch.writing as writing\n"
        "real = getattr(writing, 'undamaged_writer', writing.csv.writer)  # a preload may run more than once\n"
        "writing.undamaged_writer = real\n"
        "class Damaged:\n"
        "    def __init__(self, handle, **options):\n"
        "        self._writer = real(handle, **options)\n"
        "    def writerow(self, fields):\n"
        "        return self._writer.writerow(['changed' if f == '3' else f for f in fields])\n"
        "    def writerows(self, rows):\n"
        "        for fields in rows:\n"
        "            self.writerow(fields)\n"
        "writing.csv.writer = Damaged\n"
    )
    yield from _preloaded_cluster(tmp_path, code)


def test_the_output_check_runs_on_the_worker(tmp_path: Path, damaging_writer: str) -> None:
    folder = _books(tmp_path / "in", ["a.xlsx"])
    out = tmp_path / "out"
    report = run_batch(
        task="convert",
        paths=[str(folder)],
        out_dir=str(out),
        params={"to": "csv"},
        backend="dask",
        cluster=damaging_writer,
    )
    outcome = report.files[0]
    assert outcome.status == "failed" and outcome.error.message.startswith("The output did not match")
    assert "written '3', read back 'changed'" in outcome.error.detail
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["report.json"]  # nothing half-checked came back


# -- a scheduler and two `xlbatch worker` processes; the scheduler stops mid-batch -------------------------


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "wb")  # noqa: SIM115 - the process writes to it until it is stopped
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )


@contextlib.contextmanager
def scheduler_with_two_workers(tmp_path: Path, tag: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _spawn(
        ["-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        tmp_path / f"scheduler-{tag}.log",
    )
    workers = [
        _spawn(
            ["-m", "xlbatch", "worker", address, "--nworkers", "1", "--memory-limit", MEMORY_LIMIT],
            tmp_path / f"worker-{tag}-{i}.log",
        )
        for i in range(2)
    ]
    try:
        yield address, scheduler
    finally:
        dask_cluster.forget(address)
        for proc in [*workers, scheduler]:
            with contextlib.suppress(psutil.Error):
                family = psutil.Process(proc.pid).children(recursive=True)
                for member in [*family, psutil.Process(proc.pid)]:
                    member.kill()
            proc.wait(30)


MEMORY_LIMIT = "1500MB"


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(count, timeout=60)
        limits = [w["memory_limit"] for w in client.scheduler_info(n_workers=-1)["workers"].values()]
    assert limits == [1_500_000_000] * count  # `xlbatch worker --memory-limit` applied to each worker


def test_the_scheduler_stopping_mid_batch_then_resume(tmp_path: Path) -> None:
    folder = _books(tmp_path / "in", [f"f{i}.xlsx" for i in range(6)])
    out = tmp_path / "out"
    with scheduler_with_two_workers(tmp_path, "first") as (address, scheduler):
        _wait_for_workers(address, 2)
        finished: list[int] = []

        def on_event(event) -> None:
            if isinstance(event, FileFinished) and event.outcome.status == "ok":
                finished.append(event.index)
                if len(finished) == 2:
                    scheduler.kill()

        report = run_batch(
            task="sleepy",
            paths=[str(folder)],
            out_dir=str(out),
            backend="dask",
            cluster=address,
            params={"seconds": 0.5},
            on_event=on_event,
        )
    counts = report.counts
    assert counts["failed"] == 0, report.notices
    assert counts["ok"] >= 2 and counts["ok"] + counts["cancelled"] == 6 and counts["cancelled"] >= 1
    assert report.exit_code == 1 and not report.cancelled  # not the user's doing, and not all done
    assert (out / "report.json").is_file()
    lost = [f for f in report.files if f.status == "cancelled"]
    assert all("went away" in f.reason and "resume" in f.reason for f in lost)
    assert any("The batch stopped" in n for n in report.notices)
    done_first = {f.path for f in report.files if f.status == "ok"}
    with scheduler_with_two_workers(tmp_path, "second") as (address, _scheduler):
        _wait_for_workers(address, 2)
        resumed = run_batch(
            task="sleepy",
            paths=[str(folder)],
            out_dir=str(out),
            backend="dask",
            cluster=address,
            params={"seconds": 0.5},
            resume=True,
        )
    assert resumed.counts["ok"] == 6 and resumed.exit_code == 0
    kept = {f.path for f in resumed.files if f.reason and "resumed" in f.reason}
    assert kept == done_first
    assert sorted(p.name for p in out.glob("*.done")) == [f"f{i}.done" for i in range(6)]


# -- the address ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["local:2"], "tcp://HOST:PORT"),
        (["127.0.0.1:8786"], "tcp://HOST:PORT"),
        (["tcp://127.0.0.1:8786", "--nworkers", "0"], "--nworkers"),
        (["tcp://127.0.0.1:8786", "--memory-limit", "lots"], "--memory-limit"),
    ],
)
def test_xlbatch_worker_refuses_bad_arguments(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["worker", *args]) == 2
    assert says in capsys.readouterr().err


def test_a_local_cluster_whose_nanny_gave_up_is_started_afresh() -> None:
    """A nanny closes when its new worker is slow to start (a busy computer, after a time limit or "stop
    now" ended the old one); the next batch must not be refused for "no workers"."""
    first = dask_cluster.connect("local:1")
    try:
        nanny = next(iter(first.cluster.workers.values()))
        first.cluster.sync(nanny.close)
        assert not first.nannies_alive()
        second = dask_cluster.connect("local:1")
        assert second is not first and second.nannies_alive() and len(second.workers()) == 1
    finally:
        dask_cluster.forget("local:1")


def test_a_cluster_left_without_workers_ends_the_batch_resumably(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker gone for good (machines switched off): the files waiting at the scheduler must not
    wait forever; the batch ends as when the scheduler goes away."""
    monkeypatch.setattr(dask_backend, "NO_WORKERS_SECONDS", 1.0)
    monkeypatch.setattr(dask_backend, "SLOTS_REFRESH_SECONDS", 0.2)
    folder = _books(tmp_path / "in", [f"f{i}.xlsx" for i in range(3)])
    handle = dask_cluster.connect("local:1")

    def on_event(event) -> None:
        if isinstance(event, FileStarted) and handle.nannies_alive():
            handle.cluster.sync(next(iter(handle.cluster.workers.values())).close)

    try:
        report = run_batch(
            task="sleepy", paths=[str(folder)], out_dir=str(tmp_path / "out"), backend="dask", cluster="local:1",
            params={"seconds": 30}, on_event=on_event,
        )  # fmt: skip
    finally:
        dask_cluster.forget("local:1")
    assert report.counts["cancelled"] == 3 and report.seconds < 25, [(f.status, f.reason) for f in report.files]
    assert all("no workers" in f.reason and "resume" in f.reason for f in report.files)
    assert report.exit_code == 1 and (tmp_path / "out" / "report.json").is_file()


class _WaitingClient:
    """Records what the check waits for; every worker on our version."""

    def __init__(self) -> None:
        self.waited: list[tuple[int, float]] = []

    def wait_for_workers(self, n_workers: int, timeout: float) -> None:
        self.waited.append((n_workers, timeout))

    def run(self, function):
        return {"tcp://127.0.0.1:1": function()}


@pytest.mark.parametrize("local", [True, False])
def test_a_local_cluster_is_waited_for_until_all_its_workers_are_back(local: bool) -> None:
    """Its nannies replace the workers a time limit or "stop now" ended; on a busy computer that takes
    longer than a scheduler elsewhere may take to show its first worker."""
    client = _WaitingClient()
    cluster = type("Spec", (), {"worker_spec": {0: {}, 1: {}, 2: {}}})() if local else None
    handle = dask_cluster.ClusterHandle("local:3" if local else "tcp://127.0.0.1:8786", client, cluster)
    dask_cluster.check_cluster(handle)
    expected = (3, dask_cluster.LOCAL_WORKERS_WAIT_SECONDS) if local else (1, dask_cluster.WORKERS_WAIT_SECONDS)
    assert client.waited == [expected]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("local", True),
        ("local:3", True),
        ("tcp://127.0.0.1:8786", True),
        ("tcp://scheduler.example:8786", True),
        ("local:0", False),
        ("127.0.0.1:8786", False),
        ("http://127.0.0.1:8786", False),
        ("", False),
    ],
)
def test_cluster_addresses(text: str, ok: bool) -> None:
    assert (dask_cluster.address_problem(text) is None) is ok


def test_the_cluster_comes_from_the_settings_file_and_recipes(tmp_path: Path, isolated_settings: Path) -> None:
    from xlbatch.recipe import Recipe, load_recipe, resolve_spec, save_recipe
    from xlbatch.settings import SettingsError, load_settings

    isolated_settings.write_text(
        "parallelization:\n  default_backend: dask\n  cluster: local:2\n  shared_storage: true\n", encoding="utf-8"
    )
    settings = load_settings()
    spec = resolve_spec(settings, task="summarize", paths=["x"])
    assert (spec.backend, spec.cluster, spec.shared_storage) == ("dask", "local:2", True)
    recipe_path = save_recipe(
        Recipe(task="summarize", backend="dask", cluster="tcp://127.0.0.1:8786", shared_storage=False),
        tmp_path / "r.yaml",
    )
    recipe = load_recipe(recipe_path)
    assert "xlbatch_recipe: 1" in recipe_path.read_text(encoding="utf-8")  # the schema stays 1
    spec = resolve_spec(settings, recipe, paths=["x"])
    assert (spec.cluster, spec.shared_storage) == ("tcp://127.0.0.1:8786", False)
    spec = resolve_spec(settings, recipe, paths=["x"], cluster="local:3")  # the command line wins
    assert spec.cluster == "local:3"
    isolated_settings.write_text("parallelization:\n  cluster: 'tcp//oops'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="parallelization.cluster"):
        load_settings()


def test_auto_never_picks_dask() -> None:
    from xlbatch.executors import available_backends
    from xlbatch.executors.choice import choose

    offered = available_backends()
    assert "dask" in offered
    for kind in ("cpu", "io"):
        for count in (0, 1, 2, 50, 5000):
            for size in (1_000, 50_000_000):
                for workers in (None, 2, 64):
                    assert choose(kind, [size] * count, workers, cores=16, available=offered).backend != "dask"


def test_bench_includes_dask_when_a_cluster_is_configured(tmp_path: Path, isolated_settings: Path) -> None:
    from xlbatch import bench

    folder = _books(tmp_path / "in", ["a.xlsx", "b.xlsx", "c.xlsx"])
    assert bench._configured_cluster() is None
    isolated_settings.write_text(f"parallelization:\n  cluster: '{LOCAL}'\n", encoding="utf-8")
    cluster = bench._configured_cluster()
    assert cluster == LOCAL
    result = bench.compare_backends("summarize", [str(folder)], only=[bench.Candidate("dask", 0)], cluster=cluster)
    rows = {row.label: row for row in result.rows}
    assert set(rows) == {"sequential", "dask"}
    assert rows["dask"].ok_files == 3 and rows["dask"].error is None
