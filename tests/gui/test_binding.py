"""The Qt binding in use must not lose references: PySide6 6.12.0 under Python 3.11 took one from
None on every void call and from True on every emit, and the app died after a few thousand calls
("Fatal Python error: none_dealloc"). pyproject.toml keeps that release out; this test keeps it out."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

CALLS = 20_000


class Pinger(QObject):
    ping = Signal(object)


def test_many_calls_into_the_binding_leave_none_and_true_alive(qapp) -> None:
    label = QLabel()
    pinger = Pinger()
    pinger.ping.connect(lambda _value: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(CALLS):
        label.setText("x")  # returns None
        pinger.ping.emit({"error": None, "ok": True})  # returns True
    # nothing lost (a little slack for unrelated objects made meanwhile)
    assert sys.getrefcount(None) >= none_before - 100
    assert sys.getrefcount(True) >= true_before - 100
