"""The one place that knows where bundled files live: beside the sources, or inside a frozen app.

In a PyInstaller bundle the files are unpacked below `sys._MEIPASS/resources`; otherwise they are the
package `xlbatch.resources` (the `resources/` folder of the source tree, installed as data beside the code).
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    base = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and base:
        return Path(base) / "resources"
    import xlbatch.resources  # a package of data files only: importing it runs nothing

    return Path(xlbatch.resources.__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """The path of a bundled file, e.g. resource_path("samples")."""
    return resources_dir().joinpath(*parts)


def samples_dir() -> Path:
    return resource_path("samples")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))
