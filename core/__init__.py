"""xlbatch's engine: run one task over many workbooks in parallel, with no GUI dependency.

    from core import run_batch
    report = run_batch(task="summarize", paths=["./monthly"], out_dir="./out")
    print(report.counts)

See `core.runner` for the data flow, `core.tasks` for the task types.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("xlbatch")
except metadata.PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
