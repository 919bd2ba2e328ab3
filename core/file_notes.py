"""Warnings that code deep below a task finds while reading a file, delivered to that file's report.

A reader that skips a chart sheet, or keeps a column as text because its values disagree, must tell the
user, but it is opened by many tasks in many places and knows nothing of the file's context. The worker
names the receiver once per file (`warnings_to(ctx.warn)`); `warn()` anywhere below it reaches the file's
warnings. Context variables are per thread, so files running side by side on threads never mix notes.
Outside a file's work (a test, the GUI's preview) `warn()` does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

_receiver: ContextVar[Callable[[str], None] | None] = ContextVar("xlbatch_file_warnings", default=None)


def warn(text: str) -> None:
    """Add a warning to the file being processed, if any."""
    receiver = _receiver.get()
    if receiver is not None:
        receiver(text)


@contextlib.contextmanager
def warnings_to(receiver: Callable[[str], None]) -> Iterator[None]:
    """Within the block, `warn()` calls `receiver`."""
    token = _receiver.set(receiver)
    try:
        yield
    finally:
        _receiver.reset(token)
