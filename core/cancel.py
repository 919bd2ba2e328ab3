"""Cancellation requests from the user: "finish the running files, start no more" or "stop now".

A request can only escalate (finish -> now). The token is shared between the thread that asks (the
GUI, a Ctrl+C handler) and the runner's loop, which looks at it between steps.
"""

from __future__ import annotations

import threading

FINISH = "finish"
NOW = "now"


class CancelToken:
    def __init__(self) -> None:
        self._mode: str | None = None
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def cancel(self, mode: str = FINISH) -> None:
        if mode not in (FINISH, NOW):
            raise ValueError(f"cancel mode must be {FINISH!r} or {NOW!r}")
        with self._lock:
            if self._mode != NOW:
                self._mode = mode
        self.changed.set()

    @property
    def mode(self) -> str | None:
        return self._mode

    @property
    def requested(self) -> bool:
        return self._mode is not None
