"""User settings: a YAML file in the platform's config folder (or given with --config), validated
strictly, merged over built-in defaults, with the origin of every value kept for `xlbatch config show`.

    parallelization:
      default_backend: auto
      max_workers: {cpu_bound: 4, io_bound: 8}
      backends: {combine: processes, convert: threads}
      timeout_seconds: 600
      cluster: tcp://server:8786   # the dask backend's cluster: local, local:N or a scheduler's address
      shared_storage: false        # dask: every machine sees the same paths (send paths, not bytes)
    memory_guard_mb: 400
    cache: {enabled: true, location: default, max_size_mb: 1024}
    verify: true          # read every output back and compare it with what was written

Unknown keys are errors, not silently ignored: a typo in a setting must not pass unnoticed.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbatch.executors import BACKENDS

ENV_CONFIG = "XLBATCH_CONFIG"
FILE_NAME = "settings.yaml"


class SettingsError(ValueError):
    """A settings or recipe file is not valid; the message names the key, the value and what is allowed."""


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _cluster_ok(value: Any) -> bool:
    from xlbatch.executors.dask_cluster import address_problem

    return address_problem(value) is None


def _non_negative_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


Check = tuple[Callable[[Any], bool], str]
BACKEND: Check = (lambda v: v in BACKENDS, f"one of {', '.join(BACKENDS)}")
WORKERS: Check = (lambda v: v is None or _positive_int(v), "a whole number of at least 1, or null for automatic")
TIMEOUT: Check = (lambda v: v is None or _positive_number(v), "a number of seconds above 0, or null for no limit")
BOOL: Check = (lambda v: isinstance(v, bool), "true or false")
MEGABYTES: Check = (_non_negative_number, "a number of megabytes (0 turns it off)")
CLUSTER: Check = (
    lambda v: v is None or _cluster_ok(v),
    "'local', 'local:N' or a scheduler's address tcp://HOST:PORT, or null for local",
)
LOCATION: Check = (lambda v: isinstance(v, str) and bool(v.strip()), "'default' or a folder path")

# The schema: nested dicts of checks; a dict value whose keys are free (task names) is marked by "*".
SCHEMA: dict[str, Any] = {
    "parallelization": {
        "default_backend": BACKEND,
        "max_workers": {"cpu_bound": WORKERS, "io_bound": WORKERS},
        "backends": {"*": BACKEND},
        "timeout_seconds": TIMEOUT,
        "cluster": CLUSTER,
        "shared_storage": BOOL,
    },
    "memory_guard_mb": MEGABYTES,
    "cache": {"enabled": BOOL, "location": LOCATION, "max_size_mb": MEGABYTES},
    "verify": BOOL,
}

DEFAULTS: dict[str, Any] = {
    "parallelization": {
        "default_backend": "auto",
        "max_workers": {"cpu_bound": None, "io_bound": None},
        "backends": {},
        "timeout_seconds": None,
        "cluster": None,
        "shared_storage": False,
    },
    "memory_guard_mb": 400,
    "cache": {"enabled": True, "location": "default", "max_size_mb": 1024},
    "verify": True,
}


def default_path() -> Path:
    """Where the settings file lives: XLBATCH_CONFIG, else the platform's user config folder."""
    if os.environ.get(ENV_CONFIG):
        return Path(os.environ[ENV_CONFIG])
    from platformdirs import user_config_dir

    return Path(user_config_dir("xlbatch", appauthor=False)) / FILE_NAME


def validate(data: Any, schema: dict[str, Any] = SCHEMA, where: str = "") -> None:
    """Raise SettingsError for the first unknown key or bad value, naming it."""
    if not isinstance(data, dict):
        raise SettingsError(f"'{where or 'settings'}' must be a mapping of keys to values, not {data!r}.")
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        rule = schema.get(key, schema.get("*"))
        if rule is None:
            allowed = ", ".join(k for k in schema if k != "*")
            raise SettingsError(f"Unknown setting '{path}'; allowed here: {allowed}.")
        if isinstance(rule, dict):
            validate(value, rule, path)
        else:
            check, allowed = rule
            if not check(value):
                raise SettingsError(f"Setting '{path}' has the value {value!r}; it must be {allowed}.")


def load_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"The file {path} could not be read: {exc.strerror or exc}.") from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"The file {path} is not valid YAML: {exc}".rstrip(".") + ".") from None


@dataclass
class Settings:
    values: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    origins: dict[str, str] = field(default_factory=dict)  # dotted key -> where its value came from
    path: Path | None = None

    def get(self, dotted: str) -> Any:
        value: Any = self.values
        for part in dotted.split("."):
            value = value[part]
        return value

    def origin(self, dotted: str) -> str:
        return self.origins.get(dotted, "default")

    def backend_for(self, task: str) -> tuple[str, str]:
        """The backend a task runs on unless told otherwise, and where that choice came from."""
        per_task = self.values["parallelization"]["backends"]
        if task in per_task:
            return per_task[task], self.origin(f"parallelization.backends.{task}")
        return self.get("parallelization.default_backend"), self.origin("parallelization.default_backend")

    def max_workers(self, kind: str) -> int | None:
        return self.get(f"parallelization.max_workers.{'io_bound' if kind == 'io' else 'cpu_bound'}")

    def cache_dir(self) -> str | None:
        location = self.get("cache.location")
        return None if location == "default" else str(Path(location).expanduser())

    def flat(self) -> list[tuple[str, Any, str]]:
        """(dotted key, value, origin) for every leaf, for `xlbatch config show`."""
        rows: list[tuple[str, Any, str]] = []

        def walk(node: dict[str, Any], schema: dict[str, Any], prefix: str) -> None:
            keys = list(node) if "*" in schema else list(schema)
            for key in keys:
                dotted = f"{prefix}.{key}" if prefix else key
                value = node.get(key)
                if isinstance(schema.get(key, schema.get("*")), dict) and isinstance(value, dict):
                    walk(value, schema.get(key, schema.get("*")), dotted)
                else:
                    rows.append((dotted, value, self.origin(dotted)))
            if "*" in schema and not node:
                rows.append((prefix, {}, self.origin(prefix)))

        walk(self.values, SCHEMA, "")
        return rows


def _merge(
    target: dict[str, Any],
    data: dict[str, Any],
    origin: str,
    origins: dict[str, str],
    prefix: str = "",
    schema: dict[str, Any] = SCHEMA,
) -> None:
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        rule = schema.get(key, schema.get("*"))
        if isinstance(rule, dict) and isinstance(value, dict):
            _merge(target.setdefault(key, {}), value, origin, origins, dotted, rule)
        else:
            target[key] = value
            origins[dotted] = origin


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Defaults, overlaid with the settings file if there is one. `path` given: it must exist."""
    settings = Settings()
    explicit = path is not None
    file = Path(path) if explicit else default_path()
    settings.path = file
    if not file.is_file():
        if explicit:
            raise SettingsError(f"The settings file {file} does not exist.")
        return settings
    data = load_yaml(file)
    validate(data)
    _merge(settings.values, data, f"settings file {file}", settings.origins)
    return settings


def save_setting(dotted: str, value: Any, path: str | os.PathLike[str] | None = None) -> Path:
    """Set one value in the settings file (creating it), validated, written atomically."""
    import yaml

    from xlbatch.atomic import atomic_path

    file = Path(path) if path is not None else default_path()
    data = load_yaml(file) if file.is_file() else {}
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    validate(data)
    with atomic_path(file) as tmp:
        tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return file
