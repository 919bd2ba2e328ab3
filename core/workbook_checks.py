"""Cheap checks for workbook content that readers silently get wrong, turned into warnings.

A formula saved without its result (files written by scripts or by programs that do not calculate)
reads as an empty cell in every fast reader: the user must be told, not handed a silent blank.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

# A formula (<f>...</f> or a shared-formula <f .../>) followed by an empty or missing cached value.
_FORMULA_WITHOUT_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>|</c>)")
_CHUNK = 1 << 20
_OVERLAP = 256


def formulas_without_values(path: str | Path) -> int:
    """How many formula cells in an xlsx/xlsm have no saved result. Streams the sheet XML; 0 if unreadable."""
    count = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                    continue
                with archive.open(info) as member:
                    tail = b""
                    while chunk := member.read(_CHUNK):
                        data = tail + chunk
                        if b"<f" not in data:  # no formula here: skip the regex, which is the slower part
                            tail = data[-_OVERLAP:]
                            continue
                        # Count matches that end in the new part only, so the overlap is not counted twice.
                        count += sum(1 for m in _FORMULA_WITHOUT_VALUE.finditer(data) if m.end() > len(tail))
                        tail = data[-_OVERLAP:]
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError, zlib.error):
        return 0  # the reader will give the real error
    return count


def formula_warning(count: int) -> str:
    return (
        f"{count:,} formula cell(s) have no saved result and read as empty; open the workbook in Excel, "
        "let it calculate and save it, then run again."
    )
