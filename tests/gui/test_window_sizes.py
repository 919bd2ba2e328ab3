"""The window reads well on small screens and at 150% scaling: it opens inside the screen, and no label,
button or field is cut, nor the status bar's message, at 1024 x 700, at 892 px wide, and scaled to 150% on
common screens.

The pictures themselves are made with `python docs/screenshots.py sizes OUT_DIR` (and looked at); these
tests catch a layout that cuts something. Scaling is decided when Qt starts, so the scaled windows are
opened by a fresh process (offscreen, with a screen of the given size).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
)

ROOT = Path(__file__).resolve().parents[2]
CHECKED = (QLabel, QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox)


def clip_of(widget: QWidget, window: QWidget) -> QWidget:
    """What shows `widget`: the viewport of the scroll area it sits in, else the window."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        grand = parent.parentWidget()
        scrolls = isinstance(grand, QAbstractScrollArea) and grand.objectName() != "centralScroll"
        if scrolls and parent is grand.viewport():
            return parent
        parent = grand
    return window


def cut_widgets(window: QWidget) -> list[str]:
    """Every visible label, button and field narrower than it needs, or reaching past what shows it."""
    problems = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CHECKED) or not widget.isVisibleTo(window):
            continue
        if isinstance(widget.parentWidget(), QAbstractSpinBox | QComboBox | QTabBar):
            continue  # parts of another widget
        name = widget.objectName() or (widget.text() if hasattr(widget, "text") else "") or type(widget).__name__
        wraps = isinstance(widget, QLabel) and widget.wordWrap()
        if not wraps and widget.width() < widget.minimumSizeHint().width():
            problems.append(f"{name}: {widget.width()} px wide, needs {widget.minimumSizeHint().width()}")
        clip = clip_of(widget, window)
        left = widget.mapTo(clip, QPoint(0, 0)).x()
        if left < 0 or left + widget.width() > clip.width():
            problems.append(f"{name}: x {left}..{left + widget.width()} outside 0..{clip.width()}")
    return problems


def message_room(window: QWidget) -> dict[str, int]:
    """The room the status bar leaves its message (up to the first gauge), and what its message needs."""
    status = window.statusBar()
    room = window.cpu_gauge.mapTo(status, QPoint(0, 0)).x()
    return {"room": room, "needs": status.fontMetrics().horizontalAdvance(status.currentMessage()) + 12}


@pytest.mark.parametrize("size", [(1024, 700), (892, 620)])
def test_nothing_is_cut_in_a_small_window(window, inputs, qtbot, size):
    window.add_paths([inputs])
    window.resize(*size)
    qtbot.waitUntil(lambda: window.width() == size[0])
    qtbot.wait(50)
    assert cut_widgets(window) == []
    note = window.run_settings.workers_note  # the "automatic" beside Workers, cut at 892 px before
    assert note.text() == "automatic" and note.width() >= note.sizeHint().width()
    # The status bar's message ("Added 3 files.") is not cut by the gauges beside it.
    space = message_room(window)
    assert window.statusBar().currentMessage() and space["room"] >= max(space["needs"], 250), space
    # The columns that matter in a batch are on screen, with no sideways scrolling.
    view = window.files_panel.view
    header = view.horizontalHeader()
    assert not view.horizontalScrollBar().isVisible()
    for column in (0, 4, 5):  # name, status, time
        assert not header.isSectionHidden(column) and header.sectionViewportPosition(column) >= 0


SCALED = """
import json, sys
from xlbatch.gui.app import make_app
app = make_app()
sys.path.insert(0, {tests!r})
from xlbatch.gui.main_window import MainWindow
from tests.gui.test_window_sizes import cut_widgets, message_room
window = MainWindow()
window.last_batch.enabled = False
window.save_settings_on_close = False
window.add_paths([{samples!r}])
window.show()
for _ in range(20):
    app.processEvents()
screen = window.screen().availableGeometry()
frame = window.frameGeometry()
print(json.dumps({{"fits": screen.contains(frame), "window": [frame.width(), frame.height()],
                  "screen": [screen.width(), screen.height()], "cut": cut_widgets(window),
                  "message": message_room(window)}}))
window.close()
"""


@pytest.mark.parametrize("screen", [(1920, 1080), (1366, 768), (1024, 700)])
def test_at_150_percent_the_window_fits_the_screen_and_nothing_is_cut(tmp_path, screen):
    config = tmp_path / "screen.json"
    shape = {"name": "s", "x": 0, "y": 0, "width": screen[0], "height": screen[1], "logicalDpi": 96}
    config.write_text(json.dumps({"screens": [shape]}), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", QT_SCALE_FACTOR="1.5")
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"))
    script = SCALED.format(tests=str(ROOT), samples=str(ROOT / "resources" / "samples"))
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result["screen"] == [round(screen[0] / 1.5), round(screen[1] / 1.5)]  # the scaling really applied
    assert result["fits"], result
    assert result["cut"] == []
    assert result["message"]["room"] >= result["message"]["needs"], result["message"]


AFTER_BATCH = """
import json, sys, time
from xlbatch.gui.app import make_app
app = make_app()
sys.path.insert(0, {tests!r})
from PySide6.QtWidgets import QScrollArea, QWidget
from xlbatch.gui.main_window import MainWindow
from xlbatch.gui.widgets import FlowBar
from tests.gui.test_window_sizes import cut_widgets
window = MainWindow()
window.last_batch.enabled = False
window.save_settings_on_close = False
window.add_paths([{samples!r}])
window.set_output_folder({out!r})
window.show()
window.start_batch()
deadline = time.monotonic() + 90
while (window.is_running() or not window.summary.isVisible()) and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
for _ in range(30):
    app.processEvents()
squeezed = [
    f"{{w.objectName() or type(w).__name__}}: {{w.height()}} px tall, needs {{w.minimumSizeHint().height()}}"
    for w in [*window.findChildren(FlowBar), window.summary, window.findChild(QWidget, "tabs")]
    if w.isVisible() and w.height() < w.minimumSizeHint().height()
]
central = window.findChild(QScrollArea, "centralScroll")
print(json.dumps({{"summary": window.summary.isVisible(), "squeezed": squeezed, "cut": cut_widgets(window),
                  "sideways": central.horizontalScrollBar().isVisible()}}))
window.close()
window.release_pools(wait_seconds=10.0)
"""


def test_after_a_batch_at_150_percent_on_a_small_screen_nothing_overlaps(tmp_path):
    # The summary's buttons go on to a second line instead of widening the window, and what does not
    # fit makes the window scroll: no row of buttons is laid over another.
    config = tmp_path / "screen.json"
    shape = {"name": "s", "x": 0, "y": 0, "width": 1024, "height": 700, "logicalDpi": 96}
    config.write_text(json.dumps({"screens": [shape]}), encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", QT_SCALE_FACTOR="1.5")
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"))
    samples = str(ROOT / "resources" / "samples")
    script = AFTER_BATCH.format(tests=str(ROOT), samples=samples, out=str(tmp_path / "out"))
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result["summary"], result
    assert result["squeezed"] == [] and result["cut"] == [] and not result["sideways"], result
