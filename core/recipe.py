"""Recipes: one YAML file holding a batch set up once (by clicking or by hand) to run again, e.g. from
the Windows Task Scheduler with `xlbatch run --recipe monthly.yaml`.

    xlbatch_recipe: 1
    task: combine
    params: {sheet: Sales, output_name: All sales}
    inputs: [./monthly]            # optional; relative paths are relative to the recipe file
    include: ["*.xlsx"]
    exclude: []
    backend: auto
    workers: null
    timeout: null
    output: ./combined
    verify: true                   # optional; check every output (null or absent: the settings file decides)
    script_sha256: 3f2a...         # optional; a task that runs a script (python): the script as saved
    cluster: tcp://server:8786     # optional, with backend dask: the cluster (null: the settings file decides)
    shared_storage: false          # optional, with backend dask: send paths, not the files' bytes

Recipes carry a schema version: older versions are read and upgraded; a newer one gets a clear message.
A file parameter given as a relative path (the python task's `script`) is relative to the recipe file,
like the inputs. A recipe that names a script records its SHA-256 when saved; `script_warning()` says
when the script changed since (the command line prints it, the app shows it before it runs the script).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbatch.executors import BACKENDS
from xlbatch.settings import SettingsError, load_yaml

VERSION_KEY = "xlbatch_recipe"
RECIPE_VERSION = 1
KEYS = {
    VERSION_KEY,
    *("task", "params", "inputs", "include", "exclude", "backend", "workers", "timeout", "output", "verify"),
    "script_sha256",
    *("cluster", "shared_storage"),
}


class RecipeError(SettingsError):
    """A recipe file cannot be used; the message says why in plain words."""


@dataclass
class Recipe:
    task: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    backend: str | None = None
    workers: int | None = None
    timeout: float | None = None
    output: str | None = None
    verify: bool | None = None  # None: the settings file decides (added in version 1; optional)
    script_sha256: str | None = None  # the script a python recipe runs, as it was when saved (optional)
    cluster: str | None = None  # the dask backend's cluster; None: the settings file decides (optional)
    shared_storage: bool | None = None  # None: the settings file decides (optional)

    def to_dict(self) -> dict[str, Any]:
        data = {
            VERSION_KEY: RECIPE_VERSION,
            "task": self.task,
            "params": dict(self.params),
            "inputs": list(self.inputs),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "backend": self.backend,
            "workers": self.workers,
            "timeout": self.timeout,
            "output": self.output,
            "verify": self.verify,
            "cluster": self.cluster,
            "shared_storage": self.shared_storage,
        }
        if self.script_sha256:
            data["script_sha256"] = self.script_sha256
        return data

    def script_path(self) -> str | None:
        """The script this recipe runs (its task's script parameter), or None."""
        from xlbatch.tasks import TASKS

        task = TASKS.get(self.task)
        name = getattr(task, "script_param", None)
        value = self.params.get(name) if name else None
        return str(value) if isinstance(value, str) and value.strip() else None


def _strings(value: Any, key: str, path: Path) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise RecipeError(f"In recipe {path.name}, '{key}' must be a list of text values (got {value!r}).")


def _resolve(base: Path, value: str) -> str:
    candidate = Path(value).expanduser()
    return str(candidate if candidate.is_absolute() else (base / candidate).resolve())


def upgrade(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Bring an older recipe to the current version (version 1 is the first: nothing to do yet)."""
    version = data.get(VERSION_KEY)
    if version is None:
        raise RecipeError(f"{path.name} is not an xlbatch recipe (it has no '{VERSION_KEY}' version line).")
    if not isinstance(version, int) or version < 1:
        raise RecipeError(f"Recipe {path.name} has an unknown version {version!r}.")
    if version > RECIPE_VERSION:
        raise RecipeError(
            f"Recipe {path.name} was saved by a newer xlbatch (recipe version {version}); "
            f"this version reads up to {RECIPE_VERSION}. Please update xlbatch."
        )
    return data


def load_recipe(path: str | os.PathLike[str]) -> Recipe:
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"The recipe file {path} does not exist.")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise RecipeError(f"{path.name} is not an xlbatch recipe (expected keys such as 'task').")
    data = upgrade(data, path)
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise RecipeError(f"Recipe {path.name} has an unknown key '{unknown[0]}'; allowed: {', '.join(sorted(KEYS))}.")
    task = data.get("task")
    if not isinstance(task, str) or not task:
        raise RecipeError(f"Recipe {path.name} does not say which task to run ('task').")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise RecipeError(f"In recipe {path.name}, 'params' must be a mapping of names to values.")
    backend = data.get("backend")
    if backend is not None and backend not in BACKENDS:
        raise RecipeError(f"In recipe {path.name}, 'backend' is {backend!r}; it must be one of {', '.join(BACKENDS)}.")
    workers = data.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise RecipeError(f"In recipe {path.name}, 'workers' must be a whole number of at least 1 (got {workers!r}).")
    timeout = data.get("timeout")
    if timeout is not None and (not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0):
        raise RecipeError(f"In recipe {path.name}, 'timeout' must be a number of seconds above 0 (got {timeout!r}).")
    output = data.get("output")
    if output is not None and not isinstance(output, str):
        raise RecipeError(f"In recipe {path.name}, 'output' must be a folder path.")
    verify = data.get("verify")
    if verify is not None and not isinstance(verify, bool):
        raise RecipeError(f"In recipe {path.name}, 'verify' must be true or false (got {verify!r}).")
    digest = data.get("script_sha256")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
        raise RecipeError(f"In recipe {path.name}, 'script_sha256' must be a SHA-256 digest (64 hexadecimal digits).")
    cluster = data.get("cluster")
    if cluster is not None:
        from xlbatch.executors.dask_cluster import address_problem

        problem = address_problem(cluster)
        if problem is not None:
            raise RecipeError(f"In recipe {path.name}, 'cluster' must be {problem}.")
    shared = data.get("shared_storage")
    if shared is not None and not isinstance(shared, bool):
        raise RecipeError(f"In recipe {path.name}, 'shared_storage' must be true or false (got {shared!r}).")
    base = path.resolve().parent
    return Recipe(
        task=task,
        params=_file_params_resolved(task, params, base),
        inputs=[_resolve(base, p) for p in _strings(data.get("inputs"), "inputs", path)],
        include=_strings(data.get("include"), "include", path),
        exclude=_strings(data.get("exclude"), "exclude", path),
        backend=backend,
        workers=workers,
        timeout=timeout,
        output=_resolve(base, output) if output else None,
        verify=verify,
        script_sha256=digest,
        cluster=cluster.strip() if cluster else None,
        shared_storage=shared,
    )


def _file_params_resolved(task: str, params: dict[str, Any], base: Path) -> dict[str, Any]:
    """The recipe's parameters with relative paths of the task's file parameters made relative to the recipe."""
    from xlbatch.tasks import TASKS

    cls = TASKS.get(task)
    files = {p.name for p in cls.params if p.type == "file"} if cls else set()
    return {
        key: _resolve(base, value) if key in files and isinstance(value, str) and value.strip() else value
        for key, value in params.items()
    }


def script_digest(path: str) -> str | None:
    """The SHA-256 of the file at `path`, or None if it cannot be read."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).expanduser().read_bytes()).hexdigest()
    except OSError:
        return None


def script_warning(recipe: Recipe) -> str | None:
    """Why the script a recipe runs deserves a second look: it changed since the recipe was saved (or can no
    longer be read); None when it is as saved, or the recipe runs no script or recorded none."""
    script = recipe.script_path()
    if script is None or not recipe.script_sha256:
        return None
    now = script_digest(script)
    if now is None:
        return f"The recipe runs the script {script}, which cannot be read any more."
    if now != recipe.script_sha256:
        return f"The script {script} changed since the recipe was saved; check it is the code you mean to run."
    return None


def save_recipe(recipe: Recipe, path: str | os.PathLike[str]) -> Path:
    """Write a recipe atomically; paths are stored as given (absolute from the GUI)."""
    import yaml

    from xlbatch.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(
            "# xlbatch recipe: run with  xlbatch run --recipe "
            + path.name
            + "\n"
            + yaml.safe_dump(recipe.to_dict(), sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
    return path


def resolve_spec(
    settings: Any,
    recipe: Recipe | None = None,
    *,
    task: str | None = None,
    paths: list[str] | None = None,
    out: str | None = None,
    params: dict[str, Any] | None = None,
    backend: str | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    verify: bool | None = None,
    cluster: str | None = None,
    shared_storage: bool | None = None,
    **extra: Any,
) -> Any:
    """The batch to run, from defaults < settings file < recipe < command line (or the GUI's fields).

    Raises InvalidParams when no task is known or the task does not exist.
    """
    from xlbatch.params import InvalidParams
    from xlbatch.plan import DEFAULT_OUT_DIR, BatchSpec
    from xlbatch.tasks import get_task, load_plugins

    load_plugins()
    name = task or (recipe.task if recipe else None)
    if not name:
        raise InvalidParams("No task was given; name one (see: xlbatch tasks) or use --recipe FILE.", "task")
    kind = get_task(name).kind
    chosen_backend = backend or (recipe.backend if recipe and recipe.backend else None)
    if chosen_backend is None:
        chosen_backend, _origin = settings.backend_for(name)
    merged_params = dict(recipe.params) if recipe else {}
    merged_params.update(params or {})
    return BatchSpec(
        task=name,
        paths=list(paths or (recipe.inputs if recipe else [])),
        out_dir=out or (recipe.output if recipe and recipe.output else DEFAULT_OUT_DIR),
        params=merged_params,
        backend=chosen_backend,
        workers=workers if workers is not None else (recipe.workers if recipe else None),
        timeout=timeout
        if timeout is not None
        else (
            recipe.timeout if recipe and recipe.timeout is not None else settings.get("parallelization.timeout_seconds")
        ),
        include=list(include) if include else list(recipe.include if recipe else []),
        exclude=list(exclude) if exclude else list(recipe.exclude if recipe else []),
        memory_floor_mb=settings.get("memory_guard_mb"),
        cache=settings.get("cache.enabled"),
        cache_dir=settings.cache_dir(),
        cache_max_mb=settings.get("cache.max_size_mb"),
        max_workers=settings.max_workers(kind),
        verify=verify
        if verify is not None
        else (recipe.verify if recipe and recipe.verify is not None else settings.get("verify")),
        cluster=cluster or (recipe.cluster if recipe and recipe.cluster else settings.get("parallelization.cluster")),
        shared_storage=_first(
            shared_storage, recipe.shared_storage if recipe else None, settings.get("parallelization.shared_storage")
        ),
        **extra,
    )


def _first(*values: Any) -> Any:
    """The first value that is not None (command line, recipe, settings file)."""
    return next((v for v in values if v is not None), None)


def recipe_from_spec(spec: Any, with_inputs: bool = True) -> Recipe:
    """The recipe that reproduces a batch (what the GUI's Save recipe... writes); a script it runs is
    recorded by its SHA-256, so running the recipe later can tell when the script changed."""
    from xlbatch.tasks import TASKS

    declared = {p.name for p in TASKS[spec.task].params} if spec.task in TASKS else None
    recipe = Recipe(
        task=spec.task,
        # Only the task's own parameters: what a task derives when it checks them (the python task's
        # script source) is derived again when the recipe runs.
        params={k: v for k, v in spec.params.items() if declared is None or k in declared},
        inputs=[str(Path(p).resolve()) for p in spec.paths] if with_inputs else [],
        include=list(spec.include),
        exclude=list(spec.exclude),
        backend=spec.backend,
        workers=spec.workers,
        timeout=spec.timeout,
        output=str(Path(spec.out_dir).resolve()),
        verify=spec.verify,
        cluster=spec.cluster,
        shared_storage=spec.shared_storage if spec.backend == "dask" else None,
    )
    script = recipe.script_path()
    recipe.script_sha256 = script_digest(script) if script else None
    return recipe
