"""Atomic outputs: write to a temporary file beside the target, fsync, then `os.replace`.

A batch killed at any moment leaves either the old file or the complete new one, never half of one.
Temporary names carry TEMP_MARKER so a later run (or the end of this one) can find and remove the
leftovers of killed workers.

A worker killed after an output is in place but before it reports its file cannot take the output back
itself: `atomic_path`'s `before_replace` hook tells the parent which file is about to become the output
(its `identity`, which the rename keeps), and the parent removes it with `remove_if_unchanged` when the
file is reported without it. The identity keeps the parent from removing an older file of that name
that the rename never replaced, or one written since.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

TEMP_MARKER = ".xlbatch-tmp-"

# What tells one file from another of the same name: device, inode (file index on Windows), size, mtime.
Identity = tuple[int, int, int, int]


def temp_name_for(target: Path) -> Path:
    # Keep the real suffix last: writers such as xlsxwriter and openpyxl choose the format from it.
    return target.with_name(f"~{target.stem}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}{target.suffix}")


def is_temp_file(path: Path) -> bool:
    return TEMP_MARKER in path.name


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def identity(path: Path) -> Identity | None:
    """The identity of the file at `path` (None if there is none); a rename keeps it."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def remove_if_unchanged(path: str | os.PathLike[str], expected: Identity) -> bool:
    """Remove the file at `path` if it is still the one `expected` identifies; True if it was removed."""
    path = Path(path)
    if identity(path) != tuple(expected):
        return False
    with contextlib.suppress(OSError):
        path.unlink()
        return True
    return False


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike[str], before_replace: Callable[[Path, Identity | None], None] | None = None
) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `target`, on error it is removed.
    `before_replace(target, identity of the written file)` is called just before the rename."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name_for(target)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        _fsync(tmp)
        if before_replace is not None:
            before_replace(target, identity(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete temp files left in `folder` by killed workers; return what was removed."""
    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for path in root.rglob(f"*{TEMP_MARKER}*"):
        if path.is_file():
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
