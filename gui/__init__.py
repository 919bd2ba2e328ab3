"""xlbatch's desktop app (PySide6): the main window, the batch controller thread, table models, gauges.

`xlbatch.gui.app.run_gui()` starts the app. Nothing here is imported by `core`; modules import PySide6 only
when they are themselves imported, so `import gui` stays cheap.
"""
