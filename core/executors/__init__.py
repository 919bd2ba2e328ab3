"""The backends a batch can run on, by name, and the `auto` choice between them."""

from __future__ import annotations

from typing import Any

from xlbatch.executors.base import Backend, PoolBroken
from xlbatch.executors.choice import Choice, choose, cpu_count, default_workers

BACKENDS: tuple[str, ...] = (
    "auto",
    "sequential",
    "threads",
    "asyncio",
    "processes",
    "multiprocessing",
    "joblib",
    "dask",
)

BACKEND_TITLES: dict[str, str] = {
    "auto": "Auto (recommended)",
    "sequential": "Sequential (one file at a time)",
    "threads": "Threads (concurrent.futures)",
    "asyncio": "Asyncio (event loop over threads)",
    "processes": "Processes (concurrent.futures)",
    "multiprocessing": "Multiprocessing pool",
    "joblib": "joblib (loky)",
    "dask": "Dask cluster",
}


def available_backends() -> tuple[str, ...]:
    """Backends offered here: every one, in the frozen programs too (their entry scripts call the loky
    shim in packaging/loky_frozen.py, so joblib's workers start there as well). `dask` needs `distributed`,
    a dependency of the package; an installation without it does not offer it."""
    import importlib.util

    has_dask = importlib.util.find_spec("distributed") is not None
    return tuple(b for b in BACKENDS if b != "dask" or has_dask)


def make_backend(name: str, workers: int, options: tuple[tuple[str, Any], ...] = ()) -> Backend:
    """A new, not yet started backend; `options` are the Choice's (the dask backend's cluster)."""
    if name in ("sequential", "threads", "asyncio"):
        from xlbatch.executors.threads import AsyncioBackend, SequentialBackend, ThreadsBackend

        return {"sequential": SequentialBackend, "threads": ThreadsBackend, "asyncio": AsyncioBackend}[name](workers)
    if name in ("processes", "multiprocessing"):
        from xlbatch.executors.processes import MultiprocessingBackend, ProcessesBackend

        return {"processes": ProcessesBackend, "multiprocessing": MultiprocessingBackend}[name](workers)
    if name == "joblib":
        from xlbatch.executors.joblib_backend import JoblibBackend

        return JoblibBackend(workers)
    if name == "dask":
        from xlbatch.executors.dask_backend import DaskBackend

        return DaskBackend(workers, **dict(options))
    raise ValueError(f"unknown backend {name!r}")


def shutdown_pools() -> None:
    """End worker processes kept warm between batches (joblib's loky executor) and the Dask clusters this
    process started or connected to. Call on app exit."""
    import sys

    if "joblib" in sys.modules:
        from xlbatch.executors.joblib_backend import shutdown_loky

        shutdown_loky()
    if "xlbatch.executors.dask_cluster" in sys.modules:
        from xlbatch.executors.dask_cluster import close_all

        close_all()


__all__ = [
    "BACKENDS",
    "BACKEND_TITLES",
    "Backend",
    "Choice",
    "PoolBroken",
    "available_backends",
    "choose",
    "cpu_count",
    "default_workers",
    "make_backend",
]
