"""What a worksheet's XML says that the fast readers keep quiet about, found while preflight streams it.

Two things read wrong without a word, so the user must be told:
- a formula saved without its result (files written by scripts or by programs that do not calculate)
  reads as an empty cell in every fast reader;
- a cell holding an error value (#N/A, #DIV/0!) reads as an empty string in python-calamine, and an
  error is no value an output can keep.

`xlbatch.extent` streams each sheet's XML once to measure it; a `FindingsScan` is fed the same chunks, so
every check costs one inflation of the XML between them. The patterns span several tags (a formula, then
its empty value), so the scan keeps the end of each chunk and counts only matches that end in the new
part. The regular expressions run only on chunks that hold their marker (`<f`, `t="e"`): most sheets
pay a substring search and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlbatch.cell_refs import column_number

# A formula (<f>...</f> or a shared-formula <f .../>) followed by an empty or missing cached value.
_FORMULA_WITHOUT_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>|</c>)")
# An error cell: its start tag, an optional formula (whose text holds no '<': XML escapes it), its value.
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>\s*(?:<f\b[^>]*/>\s*|<f\b[^>]*>[^<]*</f>\s*)?<v>([^<]*)</v>')
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
OVERLAP = 4096  # longer than any one cell's start tag, formula and value
CELLS_NAMED = 10  # error cells a warning names; the rest are counted


@dataclass(frozen=True)
class SheetFindings:
    formulas_without_values: int = 0
    errors: int = 0  # cells holding an error value
    error_cells: tuple[tuple[int, int], ...] = ()  # the first CELLS_NAMED of them, (row, column) from 1
    error_kinds: tuple[str, ...] = ()  # the error values seen, sorted


class FindingsScan:
    """Fed a sheet's XML chunk by chunk (each ending after a '>'), gathers its SheetFindings."""

    def __init__(self) -> None:
        self._tail = b""
        self._formulas = 0
        self._errors = 0
        self._cells: list[tuple[int, int]] = []
        self._kinds: set[str] = set()

    def feed(self, data: bytes) -> None:
        tail = self._tail
        formulas = b"<f" in data or b"<f" in tail
        errors = b't="e"' in data or b't="e"' in tail  # chunks end after a tag: no needle is cut in two
        if formulas or errors:
            joined = tail + data
            seen = len(tail)  # a match ending here was counted with the previous chunk
            if formulas:
                self._formulas += sum(1 for m in _FORMULA_WITHOUT_VALUE.finditer(joined) if m.end() > seen)
            if errors:
                for match in _ERROR_CELL.finditer(joined):
                    if match.end() > seen:
                        self._error(match)
            self._tail = joined[-OVERLAP:]
        else:
            self._tail = data[-OVERLAP:]

    def _error(self, match: re.Match[bytes]) -> None:
        self._errors += 1
        self._kinds.add(match.group(2).decode("utf-8", "replace"))
        ref = _REF.search(match.group(1))
        if ref is not None and len(self._cells) < CELLS_NAMED:
            self._cells.append((int(ref.group(2)), column_number(ref.group(1))))

    def result(self) -> SheetFindings:
        return SheetFindings(self._formulas, self._errors, tuple(self._cells), tuple(sorted(self._kinds)))


def formula_warning(count: int) -> str:
    return (
        f"{count:,} formula cell(s) have no saved result and read as empty; open the workbook in Excel, "
        "let it calculate and save it, then run again."
    )


def error_warning(sheet: str, findings: SheetFindings) -> str:
    from xlbatch.writing import cell_name

    named = [cell_name(sheet, row, column) for row, column in findings.error_cells]
    more = f" and {findings.errors - len(named):,} more" if findings.errors > len(named) else ""
    return (
        f"Sheet '{sheet}': {findings.errors:,} cell(s) hold an error value ({', '.join(findings.error_kinds)}), "
        f"which is not a value that can be kept; they read as empty: {', '.join(named)}{more}."
    )
