"""Tests of the desktop app (pytest-qt, offscreen): models, form, gauges, and the real main window."""
