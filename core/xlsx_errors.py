"""Error values in xlsx/xlsm sheets (#N/A, #DIV/0!, ...), found so that a warning can name their cells.

python-calamine reads an error cell as an empty string, so a task would write an empty cell where the
workbook shows #N/A without a word. An error value is not a value that can be kept (xlsx stores one
only as a formula's result, and outputs are values only), so the user is told which cells they were.
The sheet's XML is streamed (one chunk at a time, as core.workbook_checks does for formulas), looking
for cells typed `t="e"`; the sheet's part is found through the workbook's relationships.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from defusedxml import ElementTree

CELLS_NAMED = 10
_CHUNK = 1 << 20
_OVERLAP = 4096  # longer than any one cell's start tag, formula and value
# An error cell: its start tag, an optional formula (whose text holds no '<': XML escapes it), its value.
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>\s*(?:<f\b[^>]*/>\s*|<f\b[^>]*>[^<]*</f>\s*)?<v>([^<]*)</v>')
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip member holding `sheet`'s cells, from xl/workbook.xml and its relationships."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL}Relationship")}
    for element in workbook.iter(f"{_MAIN}sheet"):
        if element.get("name") == sheet:
            target = targets.get(element.get(f"{_REL}id"), "")
            if not target:
                return None
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    return None


def error_cells(path: str | Path, sheet: str) -> Iterator[tuple[tuple[int, int] | None, str]]:
    """((row, column) 1-based, or None where the cell has no reference; error text) of every error value
    in the sheet, in the file's order."""
    with zipfile.ZipFile(path) as archive:
        part = sheet_part(archive, sheet)
        if part is None or part not in archive.namelist():
            return
        with archive.open(part) as member:
            tail = b""
            while chunk := member.read(_CHUNK):
                data = tail + chunk
                last_end = 0
                if b'"e"' in data:
                    for match in _ERROR_CELL.finditer(data):
                        if match.end() <= len(tail):
                            continue  # seen at the end of the previous chunk
                        ref = _REF.search(match.group(1))
                        where = (int(ref.group(2)), _column_number(ref.group(1).decode())) if ref else None
                        yield where, match.group(2).decode("utf-8", "replace")
                        last_end = match.end()
                # Keep the end of this chunk for a cell cut in two, but not what was already matched.
                tail = data[max(last_end, len(data) - _OVERLAP) :]


def warn_error_cells(path: str | Path, sheet: str, warn: Callable[[str], None]) -> None:
    """One warning naming the error cells of `sheet`, if it has any; silent if the file cannot be scanned."""
    from core.writing import cell_name

    count, named, kinds = 0, [], set[str]()
    try:
        for where, text in error_cells(path, sheet):
            count += 1
            kinds.add(text)
            if len(named) < CELLS_NAMED and where is not None:
                named.append(cell_name(sheet, *where))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, RuntimeError):
        return  # the reader reports a damaged file; this is only a hint
    if count:
        more = f" and {count - len(named):,} more" if count > len(named) else ""
        warn(
            f"Sheet '{sheet}': {count:,} cell(s) hold an error value ({', '.join(sorted(kinds))}), which is not "
            f"a value that can be kept; they read as empty: {', '.join(named)}{more}."
        )


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number
