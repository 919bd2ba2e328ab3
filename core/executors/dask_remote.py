"""What a Dask worker runs for one work item, and how its answer is brought back to the client's disks.

On the worker (`run_remote`, sent by reference: every worker imports this module):
  - the xlbatch version is compared with the client's first; a worker of another version refuses;
  - with shipped bytes (the default) each input is written into a private folder of the worker, the item
    runs there exactly as on any other backend (`xlbatch.worker.run_item`: the same task code, the same
    output check), and every file the task left in its output folder comes back as bytes with its
    SHA-256; with shared storage the item runs on the client's own paths and writes its outputs itself;
  - `started` and `progress` messages go to the client through the worker's event log
    (`Worker.log_event` on a topic the client subscribed to), `started` naming the worker's address.
    Outcomes travel only as the task's result, so a file counts as done once its outputs are on the
    client's disk, never before.

On the client (`localize`): the outputs are written atomically into the output folder (xlbatch.atomic),
their checksums compared, and every path in the outcomes (the file, its outputs, paths a task put in its
result such as combine's parts, and in warnings and error details) rewritten from the worker's folders to
the client's. Paths in outputs and reports are always the client's.

Under Dask this module is imported in every worker: keep its imports light.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from xlbatch.atomic import atomic_path, is_temp_file
from xlbatch.errors import FileError, classify
from xlbatch.outcome import FAILED, FileOutcome
from xlbatch.worker import Message, WorkItem, run_item

# Files above this size travel to the workers through `client.scatter` rather than inside the task.
SCATTER_BYTES = 4 * 1024 * 1024


class VersionMismatch(Exception):
    """The worker runs another xlbatch version than the client: it refuses the batch."""


def worker_version() -> str:
    """The xlbatch version this process runs (what the client compares with its own)."""
    from xlbatch import __version__

    return __version__


def end_worker_process() -> int:
    """Run on a worker (Client.run) to restart it: the process ends a moment after answering, and its
    nanny starts a fresh one. Measured here: back in about 0.5 s, where Client.restart_workers waited 4 s
    for the task's thread and, after an earlier restart, timed out and left no worker at all."""
    import threading

    threading.Timer(0.1, os._exit, (1,)).start()
    return os.getpid()


def version_message(address: str, theirs: str, ours: str) -> str:
    return (
        f"The Dask worker at {address} runs xlbatch {theirs}, but this computer runs xlbatch {ours}. "
        "Install the same xlbatch version on every machine of the cluster, then run the batch again."
    )


@dataclass(frozen=True)
class Shipped:
    """One file the task left in the worker's output folder: its path there (POSIX, relative), its bytes."""

    rel: str
    data: bytes
    sha256: str


@dataclass
class RemoteResult:
    """What a worker returns for one item."""

    outcomes: list[FileOutcome]
    address: str  # the worker that ran it
    pid: int
    shipped: list[Shipped] = field(default_factory=list)
    in_paths: dict[int, str] = field(default_factory=dict)  # file index -> the input's path on the worker
    out_dir: str = ""  # the worker's output folder; "" with shared storage (the client's own was used)


def run_remote(item: WorkItem, payloads: list[bytes] | None, client_version: str, topic: str) -> RemoteResult:
    """Run one work item on this Dask worker. `payloads`: each file's bytes, or None for shared storage."""
    from distributed import get_worker

    worker = get_worker()
    address = worker.address
    mine = worker_version()
    if mine != client_version:
        raise VersionMismatch(version_message(address, mine, client_version))

    def send(message: Message) -> None:
        if message[0] == "done":
            return  # the outcome comes back as the result, with its outputs
        if message[0] == "output" and payloads is not None:
            return  # a path in this worker's scratch folder: the client writes the real output itself
        if message[0] == "started":
            message = (*message[:4], address)
        worker.log_event(topic, list(message))

    if payloads is None:
        return RemoteResult(run_item(item, send), address, os.getpid())
    root = Path(tempfile.mkdtemp(prefix="xlbatch-", dir=worker.local_directory))
    try:
        files, in_paths = [], {}
        for work, data in zip(item.files, payloads, strict=True):
            # The input keeps its name (stems and suffixes are read from it); `rel` still says where it sits.
            path = root / "in" / str(work.index) / PurePath(work.rel.replace("\\", "/")).name
            path.parent.mkdir(parents=True)
            path.write_bytes(data)
            files.append(dataclasses.replace(work, path=str(path)))
            in_paths[work.index] = str(path)
        out_dir = root / "out"
        out_dir.mkdir()
        here = dataclasses.replace(item, files=tuple(files), out_dir=str(out_dir), inputs=frozenset(in_paths.values()))
        outcomes = run_item(here, send)
        shipped = []
        for path in sorted(p for p in out_dir.rglob("*") if p.is_file() and not is_temp_file(p)):
            data = path.read_bytes()
            shipped.append(Shipped(path.relative_to(out_dir).as_posix(), data, hashlib.sha256(data).hexdigest()))
        return RemoteResult(outcomes, address, os.getpid(), shipped, in_paths, str(out_dir))
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- on the client -----------------------------------------------------------------------------------


class PathMap:
    """Rewrites the worker's paths (its input files, its output folder) into the client's."""

    def __init__(self, inputs: dict[str, str], worker_out: str, out_dir: Path) -> None:
        self.inputs = inputs  # worker path -> client path
        self.worker_out = worker_out
        self.out_dir = out_dir

    def path(self, text: str) -> str:
        if text in self.inputs:
            return self.inputs[text]
        if self.worker_out and text.startswith(self.worker_out):
            rest = text[len(self.worker_out) :].lstrip("/\\")
            return str(self.out_dir.joinpath(*[p for p in re.split(r"[\\/]+", rest) if p]))
        return self.text(text)

    def text(self, text: str) -> str:
        """Paths inside a sentence or a traceback: replaced where they appear."""
        for worker, client in self.inputs.items():
            text = text.replace(worker, client)
        if self.worker_out:
            text = text.replace(self.worker_out, str(self.out_dir))
        return text

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.path(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(item) for item in value)
        return value

    def outcome(self, outcome: FileOutcome, client_path: str) -> FileOutcome:
        error = outcome.error
        if error is not None:
            error = FileError(error.kind, self.text(error.message), self.text(error.detail))
        return dataclasses.replace(
            outcome,
            path=client_path,
            outputs=[self.path(p) for p in outcome.outputs],
            warnings=[self.text(w) for w in outcome.warnings],
            error=error,
            result=self.value(outcome.result),
            reason=self.text(outcome.reason) if outcome.reason else outcome.reason,
        )


def localize(result: RemoteResult, item: WorkItem) -> list[FileOutcome]:
    """The item's outcomes as the client sees them: outputs written into its output folder, paths its own."""
    if not result.out_dir:
        return list(result.outcomes)
    out_dir = Path(item.out_dir)
    clients = {w.index: w.path for w in item.files}
    mapping = PathMap({path: clients[index] for index, path in result.in_paths.items()}, result.out_dir, out_dir)
    try:
        write_shipped(result.shipped, out_dir, item.inputs)
    except Exception as exc:  # noqa: BLE001 - a disk that refuses the outputs fails the item's files
        error = classify(exc)
        return [
            FileOutcome(o.index, clients.get(o.index, o.path), FAILED, o.seconds, error=error, attempts=o.attempts)
            for o in result.outcomes
        ]
    return [mapping.outcome(o, clients.get(o.index, o.path)) for o in result.outcomes]


def write_shipped(shipped: list[Shipped], out_dir: Path, inputs: frozenset[str]) -> None:
    """Write each shipped file atomically below `out_dir`; never outside it, never onto an input."""
    from xlbatch.errors import TASK_ERROR, TaskFailure
    from xlbatch.writing import is_one_of

    root = out_dir.resolve()
    for item in shipped:
        if hashlib.sha256(item.data).hexdigest() != item.sha256:
            raise TaskFailure(
                TASK_ERROR, "An output was damaged on its way from the Dask worker; run the file again.", item.rel
            )
        target = root.joinpath(*[p for p in item.rel.split("/") if p])
        if root not in target.resolve().parents:
            raise TaskFailure(TASK_ERROR, "A Dask worker sent an output meant for outside the output folder.", item.rel)
        if is_one_of(target, inputs):
            raise TaskFailure(
                TASK_ERROR, "The output would overwrite an input file; choose a different output folder.", str(target)
            )
        with atomic_path(target) as tmp:
            tmp.write_bytes(item.data)
