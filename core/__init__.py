"""xlbatch: run one task over many Excel workbooks in parallel, from Python, the command line or the app.

    from xlbatch import run_batch
    from xlbatch.bundle import samples_dir

    report = run_batch(task="summarize", paths=[samples_dir()], out_dir="xlbatch-output")
    print(report.counts)  # {'total': 6, 'ok': 6, 'failed': 0, 'skipped': 0, 'cancelled': 0}

The public surface is what this package names: `run_batch` and `iter_events` (`xlbatch.runner`),
`CancelToken` (`xlbatch.cancel`), `Task` and `register_task` for new task types (`xlbatch.tasks`), and
`__version__`. They load on first use, so that a worker process that imports `xlbatch.worker` does not
pay for the runner, the pools and every task. The engine never imports Qt; the desktop app is
`xlbatch.gui`, the bundled files `xlbatch.resources`. See `xlbatch.runner` for the data flow.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import TYPE_CHECKING, Any

try:
    __version__ = metadata.version("xlbatch")
except metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

if TYPE_CHECKING:
    from xlbatch.cancel import CancelToken
    from xlbatch.runner import iter_events, run_batch
    from xlbatch.tasks import Task
    from xlbatch.tasks import register as register_task

# name -> (module, attribute)
_PUBLIC = {
    "run_batch": ("xlbatch.runner", "run_batch"),
    "iter_events": ("xlbatch.runner", "iter_events"),
    "CancelToken": ("xlbatch.cancel", "CancelToken"),
    "Task": ("xlbatch.tasks", "Task"),
    "register_task": ("xlbatch.tasks", "register"),
}

__all__ = ["CancelToken", "Task", "__version__", "iter_events", "register_task", "run_batch"]


def __getattr__(name: str) -> Any:
    """The public names, imported when first asked for (PEP 562)."""
    try:
        module, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'xlbatch' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
