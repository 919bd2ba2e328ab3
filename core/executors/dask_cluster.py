"""Dask clusters by address: `local` / `local:N` (a LocalCluster on this machine) or `tcp://host:port`
(a running `dask scheduler`), connected once per process and kept until `close_all()`.

    connect("local:2")             a LocalCluster of 2 single-threaded worker processes, bound to
                                   127.0.0.1, no dashboard unless asked
    connect("tcp://10.0.0.5:8786") the scheduler there, within CONNECT_SECONDS, or ClusterError
                                   "Cannot reach the cluster at tcp://...: ..."

Before a batch uses a cluster, every worker's xlbatch version is compared with this one's (a mismatch is
refused, naming both versions), and the scheduler is told to blame a task after ALLOWED_FAILURES + 1
worker deaths (`distributed.scheduler.allowed-failures`; Dask's default of 3 would let one damaged
workbook take down four workers before it is named) and to give a worker no more tasks than it has
threads (`worker-saturation` 1.0; Dask's 1.1 rounds up to two tasks on a one-thread worker, and the one
waiting there would share the fate of a file that kills its worker). Dask keeps no state across a
scheduler restart: what a batch finished is in xlbatch's own journal, so `--resume` continues it on a new
scheduler.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

LOCAL = "local"
# How long reaching a scheduler may take before the batch is refused (the promise is "within 10 seconds").
CONNECT_SECONDS = 8.0
# A task is blamed (KilledWorker) when a second worker dies running it: one death may be a machine being
# switched off, two in a row is the file.
ALLOWED_FAILURES = 1
# A worker gets as many tasks as it has threads, no more (see the module's docstring).
WORKER_SATURATION = 1.0
SCHEDULER_CONFIG = {
    "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
    "distributed.scheduler.worker-saturation": WORKER_SATURATION,
}
# How long a cluster with no worker yet is waited for.
WORKERS_WAIT_SECONDS = 8.0
# A LocalCluster of ours is waited for until all its workers are up: its nannies replace a worker that a
# time limit or "stop now" ended, and on a busy computer a new worker process takes many seconds to start
# (one that is not back by then is started afresh, see connect()).
LOCAL_WORKERS_WAIT_SECONDS = 60.0

_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?$")
_LOCAL = re.compile(r"^local(:(\d+))?$")

log = logging.getLogger(__name__)


class ClusterError(Exception):
    """A cluster cannot be used; the message says why in plain words (and what to do)."""


def address_problem(text: Any) -> str | None:
    """Why `text` is not a cluster address, in words; None if it is one."""
    if not isinstance(text, str) or not text.strip():
        return "a cluster address: 'local', 'local:N' or tcp://HOST:PORT"
    text = text.strip()
    local = _LOCAL.match(text)
    if local:
        if local.group(2) is not None and int(local.group(2)) < 1:
            return "'local:N' with N at least 1"
        return None
    if _ADDRESS.match(text):
        return None
    return f"'local', 'local:N' or tcp://HOST:PORT (got {text!r})"


def local_workers(address: str) -> int | None:
    """N of 'local:N'; None for 'local' (one worker per core) or a scheduler address."""
    match = _LOCAL.match(address.strip())
    return int(match.group(2)) if match and match.group(2) else None


def is_local(address: str) -> bool:
    return bool(_LOCAL.match(address.strip()))


@dataclass(frozen=True)
class WorkerInfo:
    address: str
    name: str
    host: str
    threads: int
    memory_limit: int  # bytes; 0: no limit


@dataclass
class ClusterHandle:
    """One connected cluster: the client, and the LocalCluster when this process started it."""

    address: str  # as the user named it ("local:2", "tcp://host:8786")
    client: Any  # distributed.Client
    cluster: Any = None  # distributed.LocalCluster, or None for a scheduler started elsewhere

    @property
    def alive(self) -> bool:
        return self.client.status == "running"

    def nannies_alive(self) -> bool:
        """False when a nanny of our LocalCluster has closed (its worker will not come back)."""
        if self.cluster is None:
            return True
        from distributed.core import Status

        ended = (Status.closing, Status.closed, Status.failed)
        return all(getattr(nanny, "status", None) not in ended for nanny in self.cluster.workers.values())

    @property
    def scheduler_address(self) -> str:
        return str(self.client.scheduler.address)

    def workers(self) -> list[WorkerInfo]:
        try:
            info = self.client.scheduler_info(n_workers=-1)["workers"]  # newer Dask lists 5 unless asked
        except TypeError:  # older Dask lists them all and has no such argument
            info = self.client.scheduler_info()["workers"]
        found = []
        for address, worker in sorted(info.items()):
            host = str(worker.get("host") or address.split("://")[-1].rsplit(":", 1)[0])
            limit = int(worker.get("memory_limit") or 0)
            found.append(WorkerInfo(address, str(worker.get("name", "")), host, int(worker.get("nthreads", 1)), limit))
        return found

    def threads(self) -> int:
        return sum(w.threads for w in self.workers())

    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard, if it answers from here. A scheduler always serves a few HTTP pages
        (health, metrics) where the dashboard would be; the dashboard itself needs `bokeh` installed where
        the scheduler runs, and a firewall may keep it from this computer: both are tried by asking it."""
        import urllib.request

        services = self.client.scheduler_info().get("services", {})
        if "dashboard" not in services:
            return None
        try:
            link = str(self.client.dashboard_link)
            with urllib.request.urlopen(link, timeout=3) as page:  # noqa: S310 - the scheduler's own http URL
                return link if page.status == 200 else None
        except Exception:  # noqa: BLE001 - 404 without bokeh, refused, timed out: no dashboard to open
            return None

    def describe(self) -> str:
        workers = self.workers()
        hosts = len({w.host for w in workers})
        where = "this computer" if self.cluster is not None else f"the cluster at {self.address}"
        threads = sum(w.threads for w in workers)
        return f"{len(workers)} Dask worker(s) with {threads} thread(s) on {hosts} machine(s), {where}"

    def close(self) -> None:
        if self.client.status not in ("closing", "closed"):  # one whose scheduler went away closes itself
            with contextlib.suppress(Exception):
                self.client.close(timeout=5)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)


_handles: dict[str, ClusterHandle] = {}
_lock = threading.Lock()


def connect(address: str, workers: int | None = None, dashboard: bool = False) -> ClusterHandle:
    """The cluster at `address`, connected and checked (versions, at least one worker); reused when this
    process already holds it. `workers`: the size of a plain `local` cluster (default one per core)."""
    problem = address_problem(address)
    if problem is not None:
        raise ClusterError(f"The cluster address must be {problem}.")
    address = address.strip()
    key = f"{address}|{workers if address == LOCAL else ''}|{dashboard}"
    with _lock:
        handle = _handles.get(key)
        if handle is not None and not (handle.alive and handle.nannies_alive()):
            # A nanny of our LocalCluster gives up when its new worker is slow to start (a busy computer,
            # after a time limit or "stop now" ended the old one): that cluster is started afresh.
            _handles.pop(key).close()
            handle = None
        if handle is not None:
            try:
                check_cluster(handle)  # machines may have joined since
                return handle
            except ClusterError:
                if handle.cluster is None:
                    raise
                _handles.pop(key).close()  # our LocalCluster's workers did not come back: start afresh
        handle = _start_local(address, workers, dashboard) if is_local(address) else _connect(address)
        try:
            check_cluster(handle)
        except BaseException:
            handle.close()
            raise
        _handles[key] = handle
    return handle


def _start_local(address: str, workers: int | None, dashboard: bool) -> ClusterHandle:
    import dask
    from distributed import Client, LocalCluster

    from xlbatch.executors.choice import cpu_count

    count = local_workers(address) or workers or cpu_count()
    with dask.config.set(SCHEDULER_CONFIG):
        cluster = LocalCluster(
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0" if dashboard else None,
            silence_logs=logging.CRITICAL,  # what the workers go through is in the report
        )
    return ClusterHandle(address, Client(cluster, set_as_default=False), cluster)


def _connect(address: str) -> ClusterHandle:
    from distributed import Client

    logging.getLogger("distributed").setLevel(logging.ERROR)  # the report says what happened, in words
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, a refused handshake: all "cannot reach"
        raise ClusterError(f"Cannot reach the cluster at {address}: {exc}") from None
    handle = ClusterHandle(address, client)
    _tune_scheduler(handle)
    return handle


def _tune_scheduler(handle: ClusterHandle) -> None:
    """A scheduler started with Dask's defaults (`dask scheduler`) gets ours (see the module's docstring)."""

    # Defined here, so that it travels by value: the scheduler's machine need not have xlbatch.
    def _lower(dask_scheduler: Any, allowed: int, saturation: float) -> None:
        dask_scheduler.allowed_failures = min(dask_scheduler.allowed_failures, allowed)
        dask_scheduler.WORKER_SATURATION = min(dask_scheduler.WORKER_SATURATION, saturation)

    try:
        handle.client.run_on_scheduler(_lower, allowed=ALLOWED_FAILURES, saturation=WORKER_SATURATION)
    except Exception as exc:  # noqa: BLE001 - a scheduler that refuses remote calls keeps its own setting
        log.info("the scheduler at %s kept its allowed-failures setting: %s", handle.address, exc)


def check_cluster(handle: ClusterHandle) -> None:
    """At least one worker, and every worker on this xlbatch version; else ClusterError."""
    from xlbatch.executors.dask_remote import version_message, worker_version

    client = handle.client
    if handle.cluster is not None:
        wanted, seconds = max(1, len(handle.cluster.worker_spec)), LOCAL_WORKERS_WAIT_SECONDS
    else:
        wanted, seconds = 1, WORKERS_WAIT_SECONDS
    try:
        client.wait_for_workers(wanted, timeout=seconds)
    except Exception:  # noqa: BLE001 - TimeoutError
        raise ClusterError(
            f"The cluster at {handle.address} has no workers: start them with `xlbatch worker "
            f"{handle.scheduler_address}` on each machine."
        ) from None
    ours = worker_version()
    try:
        versions = client.run(worker_version)
    except Exception as exc:  # noqa: BLE001 - a worker without xlbatch fails to import the function
        raise ClusterError(
            f"The Dask workers of {handle.address} cannot run xlbatch tasks ({type(exc).__name__}: {exc}); "
            "install xlbatch on every machine and start the workers with `xlbatch worker`."
        ) from None
    for address, theirs in sorted(versions.items()):
        if theirs != ours:
            raise ClusterError(version_message(address, str(theirs), ours))


def forget(address: str) -> None:
    """Close and drop this process's clients of the cluster at `address` (before its scheduler is stopped,
    so that no client is left retrying a connection to it)."""
    with _lock:
        keys = [k for k, h in _handles.items() if address in (h.address, h.scheduler_address)]
        handles = [_handles.pop(k) for k in keys]
    for handle in handles:
        handle.close()


def close_all() -> None:
    """Close every client and the LocalClusters this process started (the app's exit, the CLI's end)."""
    with _lock:
        handles = list(_handles.values())
        _handles.clear()
    for handle in handles:
        handle.close()


atexit.register(close_all)
