"""The task registry: task names to Task classes, built-ins and plugins registered the same way.

A private dict with a read-only view (`TASKS`); `register()` refuses to replace a name unless asked.
Third-party packages add tasks through the `xlbatch.tasks` entry-point group, loaded by
`load_plugins()`; a plugin that fails to load is reported, not fatal.
"""

from __future__ import annotations

from importlib import metadata
from types import MappingProxyType
from typing import TypeVar

from xlbatch.params import InvalidParams
from xlbatch.tasks.base import Task

ENTRY_POINT_GROUP = "xlbatch.tasks"

_tasks: dict[str, type[Task]] = {}
TASKS = MappingProxyType(_tasks)

T = TypeVar("T", bound=type[Task])


class UnknownTask(InvalidParams):
    """No task of that name is registered."""


def register(cls: T, clobber: bool = False) -> T:
    """Add a Task subclass under its `name`; usable as a class decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Task)) or not cls.name:
        raise TypeError(f"{cls!r} is not a Task subclass with a name")
    if cls.kind not in ("cpu", "io"):
        raise TypeError(f"task {cls.name!r}: kind must be 'cpu' or 'io', not {cls.kind!r}")
    existing = _tasks.get(cls.name)
    if existing is not None and existing is not cls and not clobber:
        raise ValueError(f"a task named {cls.name!r} is already registered ({existing.__module__})")
    _tasks[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    _tasks.pop(name, None)


def get_task(name: str) -> type[Task]:
    try:
        return _tasks[name]
    except KeyError:
        known = ", ".join(sorted(_tasks)) or "none"
        raise UnknownTask(f"Unknown task '{name}'; available tasks: {known}.", "task") from None


_plugins_loaded = False
plugin_errors: list[str] = []


def load_plugins() -> list[str]:
    """Import the tasks third-party packages declare; return the names added. Runs once."""
    global _plugins_loaded
    if _plugins_loaded:
        return []
    _plugins_loaded = True
    added: list[str] = []
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
            register(cls)
            added.append(cls.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the app
            plugin_errors.append(f"task plugin {entry.name!r} could not be loaded: {exc}")
    return added
