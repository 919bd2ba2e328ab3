"""Starting the app: `run_gui(paths, screenshot=...)` renders the window to a PNG and returns 0."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from xlbatch.gui.app import app_icon, run_gui
from xlbatch.gui.settings import open_settings


def test_screenshot_mode_renders_the_window_with_the_files(qapp, inputs, tmp_path):
    target = tmp_path / "shots" / "window.png"
    assert run_gui([str(inputs)], screenshot=str(target)) == 0
    image = QImage(str(target))
    assert not image.isNull()
    assert image.width() >= 640 and image.height() >= 480
    # A picture must not change what the app remembers.
    assert "window/geometry" not in open_settings().allKeys()
    assert QSettings.defaultFormat() == QSettings.Format.IniFormat
    windows = [w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible()]
    assert windows == []


def test_the_app_icon_has_the_small_and_large_sizes(qapp):
    icon = app_icon()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(16, 16), (32, 32), (256, 256)} <= sizes


def test_the_about_box_names_the_version_and_every_task(qapp):
    from importlib import metadata

    from xlbatch.gui.dialogs import about_text, app_version
    from xlbatch.tasks import TASKS

    try:
        expected = metadata.version("xlbatch")
    except metadata.PackageNotFoundError:
        from xlbatch import __version__ as expected
    assert app_version() == expected
    text = about_text()
    assert expected in text
    for name, task in TASKS.items():
        assert (task.title or name).replace("&", "&amp;") in text
