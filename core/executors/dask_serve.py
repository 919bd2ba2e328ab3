"""`xlbatch worker ADDRESS`: Dask workers on this machine for a scheduler elsewhere (`dask scheduler`).

Each worker is a process of one thread watched by a Dask nanny (which restarts it when a file past its
time limit must be stopped, and stops it at its memory limit: Dask pauses a worker at 80% of it and
restarts it at 95%). Worker processes are started the way every xlbatch worker is (`spawn`), so they
import this same xlbatch, and its tasks, as the client's tasks are sent by reference.

With `--ports START`, worker i listens on START + 2i and its nanny on START + 2i + 1, so a firewall can
open exactly those; without it the system picks free ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any, TextIO


def memory_limit_problem(text: str) -> str | None:
    """Why `text` is not a memory limit ('auto', '0' for none, or a size such as 4GB); None if it is."""
    if text in ("auto", "0"):
        return None
    from dask.utils import parse_bytes

    try:
        if parse_bytes(text) > 0:
            return None
    except (ValueError, TypeError):
        pass
    return f"a size such as 2GB or 1500MB, 'auto' (the machine's memory shared by the workers) or 0 (got {text!r})"


def serve(
    address: str, nworkers: int, memory_limit: str = "auto", ports: int | None = None, out: TextIO = sys.stderr
) -> int:
    """Run `nworkers` Dask workers for the scheduler at `address` until Ctrl+C or the scheduler closes them."""
    import xlbatch.tasks  # noqa: F401 - fail here, not in the first task, if the tasks cannot be imported
    from xlbatch import __version__

    out.write(
        f"xlbatch {__version__}: starting {nworkers} Dask worker(s) for {address} "
        f"(memory limit {memory_limit} each); press Ctrl+C to stop them.\n"
    )
    out.flush()
    try:
        asyncio.run(_run(address, nworkers, memory_limit, ports))
    except KeyboardInterrupt:
        out.write("Stopping the workers.\n")
    return 0


async def _run(address: str, nworkers: int, memory_limit: str, ports: int | None) -> None:
    from distributed import Nanny

    nannies: list[Any] = []
    for i in range(nworkers):
        where: dict[str, Any] = {}
        if ports is not None:
            where = {"worker_port": ports + 2 * i, "port": ports + 2 * i + 1}
        nannies.append(Nanny(address, nthreads=1, memory_limit=memory_limit, **where))
    try:
        await asyncio.gather(*nannies)  # awaiting a nanny starts it and its worker process
        await asyncio.gather(*(nanny.finished() for nanny in nannies))
    finally:
        for nanny in nannies:
            with contextlib.suppress(Exception):
                await nanny.close(timeout=10)
