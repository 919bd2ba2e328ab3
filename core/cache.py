"""What the journal lets a run skip: files finished by an interrupted run (--resume), files unchanged
since a successful run (the cache), and batch outputs whose inputs and results did not change.

Each question is asked of a journal entry and the batch's ResultKey (task, version, parameters): these
functions know nothing of plans or runs, so the runner asks them and decides what to skip.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from xlbatch.atomic import atomic_path
from xlbatch.journal import Entry, Journal, ResultKey, file_hash
from xlbatch.outcome import OK, FileOutcome


def still_done(entry: Entry, key: ResultKey) -> bool:
    """A journal entry still stands if the file, the task and its parameters are unchanged and its outputs exist."""
    if entry.outcome.status != OK or not entry.matches(key):
        return False
    try:
        stat = os.stat(entry.path)
    except OSError:
        return False
    return stat.st_size == entry.size and stat.st_mtime_ns == entry.mtime_ns and entry.outputs_intact()


def still_unchanged(entry: Entry, key: ResultKey) -> bool:
    """A cached result stands if task, version and parameters match, its outputs exist and the content is
    the same: same size and modification time, or else the same SHA-256 (a copy or a touch is not a change)."""
    if entry.outcome.status != OK or entry.sha256 is None or not entry.matches(key):
        return False
    try:
        stat = os.stat(entry.path)
    except OSError:
        return False
    if stat.st_size != entry.size:
        return False
    if stat.st_mtime_ns != entry.mtime_ns:
        try:
            if file_hash(entry.path) != entry.sha256:
                return False
        except OSError:
            return False
    return entry.outputs_intact()


REDUCE_RECORD = "reduce.json"


def reduce_key(key: ResultKey, outcomes: list[FileOutcome]) -> str:
    """What a batch output depends on: the task, its settings, and each file's identity and result."""
    parts = [key.task, str(key.version), key.params]
    for o in outcomes:
        try:
            stat = os.stat(o.path)
            identity = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            identity = "missing"
        parts.append(f"{o.path}|{o.status}|{identity}|{json.dumps(o.result, sort_keys=True, default=str)}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def kept_reduce_outputs(journal: Journal, key: str) -> list[str] | None:
    """The batch outputs of the last run, if it had exactly these inputs and results and they still exist."""
    try:
        record = json.loads((journal.folder / REDUCE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outputs = record.get("outputs") or []
    if record.get("key") != key or not outputs or not all(Path(p).is_file() for p in outputs):
        return None
    return list(outputs)


def remember_reduce(journal: Journal, key: str, outputs: list[str]) -> None:
    try:
        with atomic_path(journal.folder / REDUCE_RECORD) as tmp:
            tmp.write_text(json.dumps({"key": key, "outputs": outputs}), encoding="utf-8")
    except OSError:
        pass  # only an optimisation: the next run reduces again
