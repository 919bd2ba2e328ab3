"""Task types: the registry and the built-in tasks, one module each.

Importing this package registers every built-in task; `load_plugins()` adds third-party ones.
"""

from __future__ import annotations

import importlib

from xlbatch.tasks.base import FileContext, OutputFolder, Task
from xlbatch.tasks.registry import TASKS, UnknownTask, get_task, load_plugins, register

# Built-in task modules, in the order the GUI and `xlbatch tasks` list them.
BUILTIN_MODULES: tuple[str, ...] = (
    "summarize",
    "convert",
    "combine",
    "split",
    "clean",
    "extract",
    "find_replace",
    "validate",
    "python",
)

for _module in BUILTIN_MODULES:
    importlib.import_module(f"xlbatch.tasks.{_module}")

__all__ = ["TASKS", "FileContext", "OutputFolder", "Task", "UnknownTask", "get_task", "load_plugins", "register"]
