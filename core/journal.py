"""The run journal: one line per finished file in the output folder, fsynced, so a batch interrupted at
any moment (kill -9, power cut, a closed laptop) can be resumed without redoing finished files.

A file's outputs are complete on disk (atomic rename) before its line is written, so a line always
means "done, outputs intact"; a file whose line never made it is simply done again. A half-written
last line (the kill landed mid-write) is ignored. Lines are keyed by the file's path, size and
modification time, the task, its version and its parameters: change any of them and the file runs
again. Results are stored with their types (dates stay dates) so reduce steps can use them later.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import FileError
from core.outcome import FileOutcome

STATE_DIR = ".xlbatch"
JOURNAL_NAME = "journal.jsonl"
FORMAT = 1


# --- JSON that keeps dates, times and durations -----------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, tuple | set | frozenset):
        return [_encode(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the journal")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "$datetime":
            return dt.datetime.fromisoformat(value)
        if key == "$date":
            return dt.date.fromisoformat(value)
        if key == "$time":
            return dt.time.fromisoformat(value)
        if key == "$timedelta":
            return dt.timedelta(seconds=value)
    return obj


def dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text, object_hook=_decode)


def params_key(params: dict[str, Any]) -> str:
    """A short stable fingerprint of a task's checked parameters."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_hash(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    mtime_ns: int
    sha256: str | None
    task: str
    task_version: int
    params: str
    outcome: FileOutcome
    finished: float

    def matches(self, task: str, version: int, params: str) -> bool:
        return (self.task, self.task_version, self.params) == (task, version, params)

    def outputs_intact(self) -> bool:
        return all(Path(p).is_file() for p in self.outcome.outputs)


def _outcome_to_json(outcome: FileOutcome) -> dict[str, Any]:
    data = outcome.to_dict()
    data["result"] = outcome.result  # typed, not flattened to strings
    data["index"] = outcome.index
    return data


def _outcome_from_json(data: dict[str, Any]) -> FileOutcome:
    error = data.get("error")
    return FileOutcome(
        index=data.get("index", 0),
        path=data["path"],
        status=data["status"],
        seconds=data.get("seconds", 0.0),
        outputs=list(data.get("outputs", [])),
        warnings=list(data.get("warnings", [])),
        error=FileError(**error) if error else None,
        result=data.get("result") or {},
        reason=data.get("reason"),
        attempts=data.get("attempts", 1),
    )


class Journal:
    """The journal of one output folder. Written only by the runner's thread."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.folder = Path(out_dir) / STATE_DIR
        self.path = self.folder / JOURNAL_NAME
        self._handle: Any = None

    def entries(self) -> dict[str, Entry]:
        """The latest entry per path; lines cut short by a kill are skipped."""
        found: dict[str, Entry] = {}
        if not self.path.is_file():
            return found
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    data = loads(line)
                    if data.get("format") != FORMAT:
                        continue
                    entry = Entry(
                        data["path"],
                        data["size"],
                        data["mtime_ns"],
                        data.get("sha256"),
                        data["task"],
                        data["task_version"],
                        data["params"],
                        _outcome_from_json(data["outcome"]),
                        data.get("finished", 0.0),
                    )
                except (ValueError, KeyError, TypeError):
                    continue
                found[entry.path] = entry
        return found

    def start(self, keep: bool) -> None:
        """Open for appending; without `keep` the previous run's lines are discarded."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not keep:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held for the whole batch

    def record(self, outcome: FileOutcome, task: str, version: int, params: str, sha256: str | None = None) -> None:
        """Append one finished file, durably (flush + fsync) before the next file is reported."""
        if self._handle is None:
            return
        try:
            stat = os.stat(outcome.path)
        except OSError:
            return
        line = dumps(
            {
                "format": FORMAT,
                "path": outcome.path,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "sha256": sha256,
                "task": task,
                "task_version": version,
                "params": params,
                "outcome": _outcome_to_json(outcome),
                "finished": dt.datetime.now().timestamp(),
            }
        )
        self._handle.write(line + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
