"""How the next batch will run, as the window shows it before Start: the settings file as the engine
reads it, the backend it names for a task, and the engine's own decision (`xlbatch.executors.choice.decide`)
for the listed files. No widgets here: the window gathers what is on screen into `ChoiceInputs`.

The preview is the plan's decision with the same inputs, by construction. Two things only the window
knows: with no files yet there is nothing to decide (the worker count shown is the automatic one for a
batch of many files), and a backend the settings file names is explained as such (the plan, which only
sees the backend, says "chosen by the user").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xlbatch.executors import Choice, available_backends
from xlbatch.executors.choice import USER_CHOICE, decide, default_workers
from xlbatch.settings import Settings, default_path, load_settings
from xlbatch.tasks import Task
from xlbatch.timings import Timings

PROCESSES = "processes"  # the backend a warm pool serves


class SettingsFile:
    """The user's settings file, read again only when it changed on disk (size or time)."""

    def __init__(self) -> None:
        self._cached: tuple[tuple[str, int, int], Settings] | None = None

    def load(self) -> Settings:
        """The settings; raises SettingsError if the file is not valid."""
        path = default_path()
        try:
            stat = path.stat()
            identity: tuple[str, int, int] = (str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            identity = (str(path), -1, -1)
        if self._cached is not None and self._cached[0] == identity:
            return self._cached[1]
        settings = load_settings()
        self._cached = (identity, settings)
        return settings


def effective_backend(backend: str, task: str | None, settings: Settings) -> tuple[str, str]:
    """The backend a batch asks for, and why: the window's choice, or with Auto the settings file's for
    this task (which may itself be auto; then the reason is "")."""
    if backend != "auto" or not task:
        return backend, USER_CHOICE
    chosen, origin = settings.backend_for(task)
    if origin == "default":
        return chosen, ""
    if task in settings.get("parallelization.backends"):
        return chosen, "set for this task in your settings file"
    return chosen, "the default backend in your settings file"


@dataclass(frozen=True)
class ChoiceInputs:
    """What the decision depends on, as the window shows it."""

    task: type[Task]
    sizes: list[int]  # of the files the batch would run (not those it will skip)
    backend: str  # the window's backend: "auto" or a backend's name
    workers: int | None  # the count the user set; None: automatic
    params: dict[str, Any]
    settings: Settings
    time_limit: float | None = None  # seconds a file may run (the window's, else the settings file's)


def preview(inputs: ChoiceInputs, warm_pool: Callable[[int], bool] | None) -> Choice:
    """What the engine will pick (backend "auto" while there are no files to decide for)."""
    task = inputs.task
    backend, origin = effective_backend(inputs.backend, task.name, inputs.settings)
    max_workers = inputs.settings.max_workers(task.kind)
    if not inputs.sizes and backend != "sequential":
        count = inputs.workers or default_workers(task.kind)
        if inputs.workers is None and max_workers:
            count = min(count, max_workers)
        return Choice(backend, count, origin)
    return decide(
        task.kind,
        inputs.sizes,
        backend,
        inputs.workers,
        max_workers=max_workers,
        warm_pool=warm_pool,
        available=available_backends(),
        cost=Timings().cost(task.name, task.work_cost(inputs.params)),  # as the plan estimates it
        origin=origin or USER_CHOICE,
        time_limit=inputs.time_limit,
    )


def prestart_count(inputs: ChoiceInputs) -> int | None:
    """How many worker processes the batch would take from a warm pool; None if it would not use one
    (threads or sequential would be chosen, no files, a batch too small even for a warm pool)."""
    if not inputs.sizes or PROCESSES not in available_backends():
        return None
    choice = preview(inputs, warm_pool=lambda _count: True)
    return choice.workers if choice.backend == PROCESSES else None
