"""Starting the desktop app: the QApplication, its style and icon, and the main window.

`run_gui(paths, screenshot=None, request=None)` is what the `xlbatch-gui` entry point calls. With
`screenshot` set it lays the window out, saves it as a PNG and returns without entering the event loop
(used for checking the layout on a machine without a display). With a `request` it opens a recipe and
may start it and close when it is done (`xlbatch.gui.launch`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from xlbatch.bundle import resource_path
from xlbatch.gui.launch import LaunchRequest, RecipeLaunch

APP_ID = "xlbatch.desktop"  # Windows taskbar grouping: our icon, not python.exe's
SCREENSHOT_SETTLE_MS = 700  # long enough for layout, first paint and a second gauge sample


def app_icon() -> QIcon:
    icon = QIcon()
    ico = resource_path("icons", "xlbatch.ico")
    png = resource_path("icons", "xlbatch.png")
    if ico.is_file():
        icon.addFile(str(ico))  # every size stored in the .ico
    if png.is_file():
        icon.addFile(str(png))
    return icon


def palette() -> QPalette:
    """A light, restrained palette for Fusion; colours match resources/style.qss."""
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#f3f4f6",
        QPalette.ColorRole.WindowText: "#1b1f24",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f7f9f8",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1b1f24",
        QPalette.ColorRole.PlaceholderText: "#6b7280",
        QPalette.ColorRole.Text: "#1b1f24",
        QPalette.ColorRole.Button: "#fbfbfc",
        QPalette.ColorRole.ButtonText: "#1b1f24",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#cfe6d9",
        QPalette.ColorRole.HighlightedText: "#0f2a1c",
        QPalette.ColorRole.Link: "#1f6f46",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Midlight: "#eceef1",
        QPalette.ColorRole.Mid: "#c9ced6",
        QPalette.ColorRole.Dark: "#9aa1ab",
        QPalette.ColorRole.Shadow: "#6b7280",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa1ab"))
    return p


def apply_style(app: QApplication) -> None:
    """Fusion with our palette and style sheet: the same look on every Windows version."""
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(palette())
    sheet = resource_path("style.qss")
    if sheet.is_file():
        app.setStyleSheet(sheet.read_text(encoding="utf-8"))
    if sys.platform == "win32":
        font = app.font()
        font.setFamily("Segoe UI")
        font.setPointSize(9)
        app.setFont(font)


def _set_windows_app_id() -> None:
    if sys.platform != "win32":
        return
    try:
        import ctypes

        ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(APP_ID)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        pass


def make_app(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        _set_windows_app_id()
        app = QApplication(argv if argv is not None else sys.argv[:1])
    QCoreApplication.setOrganizationName("xlbatch")
    QCoreApplication.setApplicationName("xlbatch")
    app.setApplicationDisplayName("xlbatch")
    from xlbatch.gui.dialogs import app_version

    app.setApplicationVersion(app_version())
    app.setWindowIcon(app_icon())
    apply_style(app)
    return app


def run_gui(paths: list[str], screenshot: str | None = None, request: LaunchRequest | None = None) -> int:
    """Show the main window with `paths` loaded; with `screenshot`, save a PNG of it and return 0. With
    `request` (a recipe, maybe to start at once and exit when done: xlbatch.gui.launch), return the exit
    status it calls for."""
    app = make_app()
    from xlbatch.gui.main_window import MainWindow

    window = MainWindow()
    if screenshot:
        window.save_settings_on_close = False  # a picture must not change what the user's app remembers
        window.last_batch.enabled = False
        window.prestart_enabled = False  # nor start worker processes
    launch = RecipeLaunch(window, request) if request is not None and request.recipe else None
    if paths:
        window.add_paths(paths)
    window.show()
    if launch is not None and not launch.begin():
        window.close()
        app.processEvents()
        return launch.result(0)
    if screenshot:
        # Let the window lay out and paint, and the gauges take a sample, before grabbing it.
        loop = QEventLoop()
        QTimer.singleShot(SCREENSHOT_SETTLE_MS, loop.quit)
        loop.exec()
        window.monitor.sample()
        app.processEvents()
        target = Path(screenshot)
        target.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(target))
        window.close()
        app.processEvents()
        return 0 if ok else 1
    window.raise_()
    window.activateWindow()
    code = app.exec()
    # Closing ended the warm pool; a pool still starting then is waited for, so none outlives the app.
    window.release_pools(wait_seconds=10.0)
    return launch.result(code) if launch is not None else code
