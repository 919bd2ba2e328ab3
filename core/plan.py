"""A batch before it runs: what the user asked for (`BatchSpec`) and everything checked from it (`Plan`).

    BatchSpec ─► plan_batch() ─► Plan: the task class and its checked parameters, the files discovered
                                 (with what must be skipped and why), the backend and worker count chosen
                                 (`xlbatch.executors.choice.decide`), the output folder resolved

`plan_batch` checks everything that can be checked before a file runs, so a bad setting is refused
(InvalidParams, naming the setting) with nothing started. The GUI plans first to show the files in the
runner's order, then hands the plan to `xlbatch.runner.run_plan`; `run_batch` does both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlbatch.discovery import Discovery, discover
from xlbatch.executors import BACKENDS, Choice, available_backends
from xlbatch.executors.choice import decide
from xlbatch.journal import ResultKey, params_key
from xlbatch.params import InvalidParams
from xlbatch.tasks import Task, get_task, load_plugins
from xlbatch.timings import Timings

if TYPE_CHECKING:
    from xlbatch.executors.pools import PoolCache

DEFAULT_OUT_DIR = "xlbatch-output"
# Below this much free memory, no new file is started until some is freed.
DEFAULT_MEMORY_FLOOR_MB = 400


@dataclass
class BatchSpec:
    """Everything that defines a batch; what the GUI builds and a recipe stores."""

    task: str
    paths: list[str]
    out_dir: str = DEFAULT_OUT_DIR
    params: dict[str, Any] = field(default_factory=dict)
    backend: str = "auto"
    workers: int | None = None
    timeout: float | None = None
    retries: int = 0
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    report_path: str | None = None  # default: OUT_DIR/report.json; "" = do not write
    memory_floor_mb: float = DEFAULT_MEMORY_FLOOR_MB
    resume: bool = False  # keep files finished by an interrupted run of the same batch
    cache: bool = False  # skip files unchanged since a successful run into the same output folder
    force: bool = False  # with cache: process every file again
    cache_dir: str | None = None  # where journals live; None: in the output folder
    cache_max_mb: float = 1024
    max_workers: int | None = None  # an upper limit for the automatic worker count (from settings)
    verify: bool = True  # read every output back and compare it with what was written (xlbatch.verify)
    # Keep the batch outputs' tables for report.tables (the Python API); the CLI and the app turn it off.
    keep_tables: bool = True
    # The dask backend: the cluster's address ('local', 'local:N', tcp://host:port; None: 'local'), and
    # whether every machine sees the inputs and the output folder at the same paths (then paths travel,
    # not bytes).
    cluster: str | None = None
    shared_storage: bool = False


@dataclass
class Plan:
    """A checked batch: what `run_plan` runs. Built by `plan_batch`, never changed afterwards."""

    spec: BatchSpec
    task: type[Task]
    params: dict[str, Any]  # checked by the task (`Task.validate`)
    discovery: Discovery  # every file in the batch's order, runnable or not
    choice: Choice  # the backend and worker count, with the reason in words
    out_dir: Path  # resolved

    @cached_property
    def result_key(self) -> ResultKey:
        """What a file's result depends on besides its content: the task, its version, its parameters."""
        return ResultKey(self.task.name, self.task.version, params_key(self.params))


def plan_batch(spec: BatchSpec, pools: PoolCache | None = None) -> Plan:
    """Check everything that can be checked before any file runs; raise InvalidParams if not valid.

    With `pools`, `auto` knows whether a warm process pool is waiting (then small batches are worth it)."""
    load_plugins()
    task = get_task(spec.task)
    params = task.validate(spec.params)
    _check_settings(spec)
    out_dir = Path(spec.out_dir).expanduser().resolve()
    _check_out_dir(spec.paths, out_dir)
    discovery = discover(spec.paths, spec.include, spec.exclude, out_dir)
    sizes = []
    for f in discovery.runnable:
        try:
            sizes.append(f.path.stat().st_size)
        except OSError:
            sizes.append(0)
    pool_ready = None if pools is None else (lambda count: pools.warm("processes", count))
    choice = decide(
        task.kind,
        sizes,
        spec.backend,
        spec.workers,
        max_workers=spec.max_workers,
        warm_pool=pool_ready,
        available=available_backends(),
        cost=Timings().cost(task.name, task.work_cost(params)),  # as measured here by earlier batches
        time_limit=spec.timeout,
    )
    if choice.backend == "dask":
        choice = _cluster_choice(spec)
    return Plan(spec, task, params, discovery, choice, out_dir)


def _cluster_choice(spec: BatchSpec) -> Choice:
    """The dask backend's Choice: the cluster connected and checked now, so that an unreachable address or
    a worker on another xlbatch version refuses the batch before anything runs."""
    from xlbatch.executors.dask_cluster import LOCAL, ClusterError, connect

    address = spec.cluster or LOCAL
    try:
        handle = connect(address, spec.workers)
        threads = handle.threads()
        described = handle.describe()
    except ClusterError as exc:
        raise InvalidParams(str(exc), "cluster") from None
    storage = "paths on shared storage" if spec.shared_storage else "each file's bytes sent with its task"
    options = (("cluster", address), ("shared_storage", spec.shared_storage))
    return Choice("dask", threads, f"chosen by the user: {described}; {storage}", options)


def _check_settings(spec: BatchSpec) -> None:
    if spec.backend not in BACKENDS:
        raise InvalidParams(f"Unknown backend '{spec.backend}'; choose one of {', '.join(BACKENDS)}.", "backend")
    if spec.backend not in available_backends():
        raise InvalidParams(f"The backend '{spec.backend}' is not available in this version of the program.", "backend")
    if spec.workers is not None and spec.workers < 1:
        raise InvalidParams(f"Workers must be at least 1 (got {spec.workers}).", "workers")
    if spec.timeout is not None and spec.timeout <= 0:
        raise InvalidParams(f"The per-file time limit must be more than 0 seconds (got {spec.timeout:g}).", "timeout")
    if spec.cluster is not None:
        from xlbatch.executors.dask_cluster import address_problem

        problem = address_problem(spec.cluster)
        if problem is not None:
            raise InvalidParams(f"The cluster address must be {problem}.", "cluster")
    if spec.retries < 0:
        raise InvalidParams(f"Retries cannot be negative (got {spec.retries}).", "retries")
    if not spec.paths:
        raise InvalidParams("No input files or folders were given.", "paths")


def _check_out_dir(paths: list[str], out_dir: Path) -> None:
    """The outputs never go into an input folder, nor onto an input file."""
    for raw in paths:
        given = Path(raw).expanduser()
        if given.is_dir() and given.resolve() == out_dir:
            raise InvalidParams(
                "The output folder is one of the input folders; choose a separate output folder.", "out_dir"
            )
        if given.is_file() and given.resolve() == out_dir:
            raise InvalidParams("The output folder is an input file; choose a folder for the outputs.", "out_dir")
