"""The backends a batch can run on, by name, and the `auto` choice between them."""

from __future__ import annotations

from xlbatch.bundle import is_frozen
from xlbatch.executors.base import Backend, PoolBroken
from xlbatch.executors.choice import Choice, choose, cpu_count, default_workers

BACKENDS: tuple[str, ...] = ("auto", "sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib")

BACKEND_TITLES: dict[str, str] = {
    "auto": "Auto (recommended)",
    "sequential": "Sequential (one file at a time)",
    "threads": "Threads (concurrent.futures)",
    "asyncio": "Asyncio (event loop over threads)",
    "processes": "Processes (concurrent.futures)",
    "multiprocessing": "Multiprocessing pool",
    "joblib": "joblib (loky)",
}


def available_backends(frozen: bool | None = None) -> tuple[str, ...]:
    """Backends offered here; a frozen executable leaves out joblib, whose loky workers fail there."""
    frozen = is_frozen() if frozen is None else frozen
    return tuple(b for b in BACKENDS if not (frozen and b == "joblib"))


def make_backend(name: str, workers: int) -> Backend:
    if name in ("sequential", "threads", "asyncio"):
        from xlbatch.executors.threads import AsyncioBackend, SequentialBackend, ThreadsBackend

        return {"sequential": SequentialBackend, "threads": ThreadsBackend, "asyncio": AsyncioBackend}[name](workers)
    if name in ("processes", "multiprocessing"):
        from xlbatch.executors.processes import MultiprocessingBackend, ProcessesBackend

        return {"processes": ProcessesBackend, "multiprocessing": MultiprocessingBackend}[name](workers)
    if name == "joblib":
        from xlbatch.executors.joblib_backend import JoblibBackend

        return JoblibBackend(workers)
    raise ValueError(f"unknown backend {name!r}")


def shutdown_pools() -> None:
    """End worker processes kept warm between batches (joblib's loky executor). Call on app exit."""
    import sys

    if "joblib" in sys.modules:
        from xlbatch.executors.joblib_backend import shutdown_loky

        shutdown_loky()


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
