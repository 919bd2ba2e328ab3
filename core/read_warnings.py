"""Where a reader's warnings about a file's values go while a task reads the file.

A reader learns things a business user should hear (a CSV column kept as text because its numbers mix two
notations), but tasks open readers without handing them their context. While `process_file` runs a task it
points this module at the file's `ctx.warn`; readers call `report()`, which passes the text on, or drops it
when nothing listens (a reader opened outside a task). A context variable keeps files apart: each thread, and
each asyncio `to_thread` call, sees only the listener of the file it works on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

_listener: ContextVar[Callable[[str], None] | None] = ContextVar("xlbatch_read_warnings", default=None)


@contextlib.contextmanager
def warnings_to(warn: Callable[[str], None]) -> Iterator[None]:
    """Within the block, every warning a reader reports goes to `warn`."""
    token = _listener.set(warn)
    try:
        yield
    finally:
        _listener.reset(token)


def report(text: str) -> None:
    """Pass a reader's warning to whoever listens in this context (nobody: it is dropped)."""
    listener = _listener.get()
    if listener is not None:
        listener(text)
