"""The run journal: one line per finished file in the output folder, fsynced, so a batch interrupted at
any moment (kill -9, power cut, a closed laptop) can be resumed without redoing finished files.

A file's outputs are complete on disk (atomic rename) before its line is written, so a line always
means "done, outputs intact"; a file whose line never made it is simply done again. Each line is handed
to the operating system at once (a killed program loses nothing), and forced to the disk at most every
SYNC_INTERVAL seconds and at the end: a power cut can cost the last fraction of a second of lines, which
are redone, while a batch of small files no longer waits for the disk once per file. A half-written
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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from xlbatch.errors import FileError
from xlbatch.outcome import FileOutcome

STATE_DIR = ".xlbatch"
JOURNAL_NAME = "journal.jsonl"
FORMAT = 1
SYNC_INTERVAL = 0.25  # seconds between fsyncs of the journal during a batch


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


class ResultKey(NamedTuple):
    """What a file's recorded result depends on besides the file itself."""

    task: str
    version: int
    params: str  # params_key() of the checked parameters


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

    def matches(self, key: ResultKey) -> bool:
        return (self.task, self.task_version, self.params) == key

    def outputs_intact(self) -> bool:
        return all(Path(p).is_file() for p in [*self.outcome.outputs, *_intermediate_files(self)])

    def to_line(self) -> str:
        return dumps(
            {
                "format": FORMAT,
                "path": self.path,
                "size": self.size,
                "mtime_ns": self.mtime_ns,
                "sha256": self.sha256,
                "task": self.task,
                "task_version": self.task_version,
                "params": self.params,
                "outcome": _outcome_to_json(self.outcome),
                "finished": self.finished,
            }
        )

    @classmethod
    def from_line(cls, line: str) -> Entry | None:
        try:
            data = loads(line)
            if data.get("format") != FORMAT:
                return None
            return cls(
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
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # a line cut short by a kill, or from another format


def _intermediate_files(entry: Entry) -> list[Path]:
    """Files a cached result depends on besides the outputs (combine's part files)."""
    part = (entry.outcome.result or {}).get("part")
    return [Path(part)] if isinstance(part, str) else []


def _intermediate_size(entry: Entry) -> int:
    total = 0
    for path in _intermediate_files(entry):
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


def _remove_intermediate(entry: Entry) -> None:
    for path in _intermediate_files(entry):
        with contextlib.suppress(OSError):
            path.unlink()


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

    def __init__(self, out_dir: str | os.PathLike[str], location: str | None = None) -> None:
        out = Path(out_dir).resolve()
        if location:  # a central cache folder: one journal per output folder, named after its path
            self.folder = Path(location).expanduser() / hashlib.sha256(str(out).encode()).hexdigest()[:16]
        else:
            self.folder = out / STATE_DIR
        self.path = self.folder / JOURNAL_NAME
        self.out_dir = out
        self._handle: Any = None
        self._synced = 0.0  # time.monotonic() of the last fsync

    def entries(self) -> dict[str, Entry]:
        """The latest entry per path; lines cut short by a kill are skipped."""
        found: dict[str, Entry] = {}
        if not self.path.is_file():
            return found
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                entry = Entry.from_line(line)
                if entry is not None:
                    found[entry.path] = entry
        return found

    def start(self, keep: bool, max_bytes: float | None = None) -> list[Entry]:
        """Open for appending. Without `keep` the previous lines are discarded; with `max_bytes` the journal
        is compacted to one line per file and the oldest entries (and their intermediate files) are evicted
        until it fits. Returns the evicted entries."""
        self.folder.mkdir(parents=True, exist_ok=True)
        evicted: list[Entry] = []
        if not keep:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        elif max_bytes is not None and self.path.is_file():
            evicted = self._compact(max_bytes)
        self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held for the whole batch
        return evicted

    def _compact(self, max_bytes: float) -> list[Entry]:
        from xlbatch.atomic import atomic_path

        newest_first = sorted(self.entries().values(), key=lambda e: e.finished, reverse=True)
        kept: list[str] = []
        evicted: list[Entry] = []
        total = 0
        for entry in newest_first:
            line = entry.to_line()
            size = len(line.encode()) + 1 + _intermediate_size(entry)
            if total + size > max_bytes:
                evicted.append(entry)
                continue
            total += size
            kept.append(line)
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(line + "\n" for line in reversed(kept)), encoding="utf-8")
        for entry in evicted:
            _remove_intermediate(entry)
        return evicted

    def size(self) -> int:
        """Bytes used by the journal and the intermediate files it keeps."""
        journal = self.path.stat().st_size if self.path.is_file() else 0
        return journal + sum(_intermediate_size(e) for e in self.entries().values())

    def clear(self) -> int:
        """Forget every entry and delete the intermediate files; return how many entries there were."""
        entries = self.entries()
        for entry in entries.values():
            _remove_intermediate(entry)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        return len(entries)

    def record(self, outcome: FileOutcome, task: str, version: int, params: str, sha256: str | None = None) -> None:
        """Append one finished file: written through to the OS at once, to the disk within SYNC_INTERVAL."""
        if self._handle is None:
            return
        try:
            stat = os.stat(outcome.path)
        except OSError:
            return
        entry = Entry(
            outcome.path,
            stat.st_size,
            stat.st_mtime_ns,
            sha256,
            task,
            version,
            params,
            outcome,
            dt.datetime.now().timestamp(),
        )
        self._handle.write(entry.to_line() + "\n")
        self._handle.flush()
        now = time.monotonic()
        if now - self._synced >= SYNC_INTERVAL:
            os.fsync(self._handle.fileno())
            self._synced = now

    def close(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
