"""What the app remembers between runs: last folders, task, parameters, workers, backend, output check,
window layout.

Stored with QSettings under organisation "xlbatch", application "xlbatch" (the registry on Windows).
The format is `QSettings.defaultFormat()`, so tests switch to an INI file in a temporary folder with
`QSettings.setDefaultFormat(IniFormat)` and `QSettings.setPath(...)` and never touch the real one.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "xlbatch"
APPLICATION = "xlbatch"


def open_settings() -> QSettings:
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class AppSettings:
    """Typed access to the stored values; every getter survives a missing or mangled value."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qs = settings or open_settings()

    # -- helpers ---------------------------------------------------------------------------------
    def _str(self, key: str, default: str = "") -> str:
        value = self.qs.value(key, default)
        return value if isinstance(value, str) else default

    def _int(self, key: str, default: int = 0) -> int:
        value = self.qs.value(key, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.qs.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # -- folders ---------------------------------------------------------------------------------
    def folder(self, purpose: str) -> str:
        """The last folder used for `purpose` ('files', 'folder', 'output', 'export', 'log', 'recipe')."""
        return self._str(f"folders/{purpose}")

    def set_folder(self, purpose: str, folder: str) -> None:
        self.qs.setValue(f"folders/{purpose}", folder)

    # -- batch settings --------------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self._str("batch/task")

    @task.setter
    def task(self, name: str) -> None:
        self.qs.setValue("batch/task", name)

    def params(self, task: str) -> dict[str, Any]:
        try:
            value = json.loads(self._str(f"params/{task}", "{}"))
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def set_params(self, task: str, values: dict[str, Any]) -> None:
        self.qs.setValue(f"params/{task}", json.dumps(values, default=str))

    @property
    def workers(self) -> int:
        """0 means automatic."""
        return max(0, self._int("batch/workers", 0))

    @workers.setter
    def workers(self, count: int) -> None:
        self.qs.setValue("batch/workers", int(count))

    @property
    def backend(self) -> str:
        return self._str("batch/backend", "auto")

    @backend.setter
    def backend(self, name: str) -> None:
        self.qs.setValue("batch/backend", name)

    @property
    def timeout(self) -> int:
        """Seconds; 0 means no limit."""
        return max(0, self._int("batch/timeout", 0))

    @timeout.setter
    def timeout(self, seconds: int) -> None:
        self.qs.setValue("batch/timeout", int(seconds))

    @property
    def verify(self) -> bool | None:
        """Whether outputs are read back and checked; None when never set (the settings file decides)."""
        value = self.qs.value("batch/verify")
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return None

    @verify.setter
    def verify(self, on: bool) -> None:
        self.qs.setValue("batch/verify", bool(on))

    # -- window ----------------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def splitter(self) -> QByteArray | None:
        return self._bytes("window/splitter")

    def save_window(self, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
        self.qs.setValue("window/geometry", geometry)
        self.qs.setValue("window/state", state)
        self.qs.setValue("window/splitter", splitter)

    def sync(self) -> None:
        self.qs.sync()
