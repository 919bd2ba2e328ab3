"""The `find_replace` task: replace text in cell values across workbooks, keeping everything else as it was.

Works on .xlsx and .xlsm (and their template forms) with openpyxl, the one library here that edits a
workbook in place: cell styles, number formats, column widths, merged cells, data validation,
conditional formatting, comments and formulas survive, and for .xlsm the VBA project is copied across
byte for byte (`keep_vba`). Other formats fail with kind `unsupported` and advice to convert them first.

Only text cells are touched; formulas only when `include_formulas` is on (then the formula's text after
`=` is searched, so a formula stays a formula). A replacement that makes a text cell start with `=` (or
look like an error code such as #N/A) stays text: openpyxl would otherwise write it as a live formula.
Text with formatting inside the cell (rich text) keeps it when every match lies inside one formatted
run; otherwise the cell becomes plain text with the cell's own formatting, and a warning says so.

Matching: case-insensitive unless `match_case`; `whole_cell` replaces a cell only when all of its text
matches; `regex` takes `find` as a Python regular expression and lets `replace` use \\1 or \\g<name>.
Each file gives a modified copy with the same name and suffix; with `only_changed`, files with no
replacement give none. Inputs are only ever read.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core import errors
from core.cost import WorkCost
from core.errors import TaskFailure
from core.params import InvalidParams, Param
from core.preflight import SourceFile
from core.tasks.base import FileContext, Task
from core.tasks.registry import register
from core.writing import EXCEL_MAX_CELL_CHARS

PROGRESS_EVERY = 2000
EDITABLE_FORMATS = ("xlsx", "xlsm")
_OOXML_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
# Characters an xlsx cannot hold (the same set openpyxl refuses).
_ILLEGAL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Replacer = Callable[[str], tuple[str, int]]


def build_replacer(params: dict[str, Any]) -> Replacer:
    """A function text -> (new text, number of replacements) implementing the matching options."""
    flags = 0 if params["match_case"] else re.IGNORECASE
    replacement: str = params["replace"]
    if params["regex"]:
        pattern = re.compile(params["find"], flags)
        if params["whole_cell"]:

            def whole_regex(text: str) -> tuple[str, int]:
                match = pattern.fullmatch(text)
                return (match.expand(replacement), 1) if match else (text, 0)

            return whole_regex
        return lambda text: pattern.subn(replacement, text)
    pattern = re.compile(re.escape(params["find"]), flags)
    if params["whole_cell"]:
        return lambda text: (replacement, 1) if pattern.fullmatch(text) else (text, 0)
    literal = lambda _match: replacement  # noqa: E731 - a function, so backslashes in `replace` stay literal
    return lambda text: pattern.subn(literal, text)


def _resolve_sheets(titles: list[str], wanted: list[str]) -> tuple[list[str], list[str]]:
    """The sheet titles `wanted` names (by name, ignoring case, or by 1-based position) and those missing."""
    chosen: list[str] = []
    missing: list[str] = []
    for item in wanted:
        match = item if item in titles else next((t for t in titles if t.casefold() == item.strip().casefold()), None)
        if match is None and item.strip().isdigit() and 1 <= int(item) <= len(titles):
            match = titles[int(item) - 1]
        if match is None:
            missing.append(item)
        elif match not in chosen:
            chosen.append(match)
    return chosen, missing


def _unkept_features(path: str, fmt: str) -> list[str]:
    """Parts of the package openpyxl does not carry into a saved copy, in words."""
    found: list[str] = []
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        checks = [
            ("xl/slicers/", "slicers"),
            ("xl/timelines/", "timelines"),
            ("xl/richData/", "pictures placed in cells"),
            ("xl/threadedComments/", "threaded comments (their text stays as notes)"),
        ]
        if fmt != "xlsm":  # keep_vba carries these across for macro workbooks only
            checks += [("xl/ctrlProps/", "form controls"), ("xl/activeX/", "ActiveX controls")]
        for prefix, words in checks:
            if any(name.startswith(prefix) for name in names):
                found.append(words)
        for name in names:
            if name.startswith("xl/drawings/") and name.endswith(".xml"):
                data = archive.read(name)
                if b"<xdr:sp>" in data or b"<xdr:sp " in data:
                    found.append("shapes and text boxes")
                    break
    return found


def _replace_rich(value: Any, replacer: Replacer) -> tuple[Any, int, bool]:
    """Replace inside rich text; returns (new value, count, kept_formatting)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    whole_new, whole_count = replacer(str(value))
    if whole_count == 0:
        return value, 0, True
    parts: list[Any] = []
    pieces: list[str] = []
    count = 0
    for run in value:
        text = run.text if isinstance(run, TextBlock) else run
        new_text, n = replacer(text)
        count += n
        pieces.append(new_text)
        if new_text:
            parts.append(TextBlock(run.font, new_text) if isinstance(run, TextBlock) else new_text)
    if count == whole_count and "".join(pieces) == whole_new:
        return CellRichText(parts), count, True
    return whole_new, whole_count, False


@register
class FindReplace(Task):
    name = "find_replace"
    title = "Find and replace"
    description = (
        "Replace text in cell values across .xlsx and .xlsm workbooks, keeping formatting, formulas, "
        "column widths, merged cells, data validation and macros; writes modified copies."
    )
    kind = "cpu"
    # openpyxl loads and saves the whole workbook, in Python.
    cost = WorkCost(seconds_per_mb=9.0, seconds_per_file=0.0155, lock_free=0.0)
    reads_values = False  # edits the workbook itself; formulas are kept as formulas
    version = 1
    params = (
        Param("find", "str", None, "The text to look for (a regular expression when 'regex' is on).", required=True),
        Param("replace", "str", "", "The text to put in its place (may be empty)."),
        Param("match_case", "bool", False, "Treat upper and lower case as different."),
        Param("whole_cell", "bool", False, "Replace only cells whose whole text matches."),
        Param("regex", "bool", False, "Treat 'find' as a regular expression; 'replace' may use \\1."),
        Param("sheets", "list", [], "Sheets to work on, by name or position; empty means all."),
        Param("include_formulas", "bool", False, "Also replace inside formulas."),
        Param("only_changed", "bool", False, "Write a copy only of the files where something was replaced."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        if params["regex"]:
            try:
                pattern = re.compile(params["find"])
            except re.error as exc:
                raise InvalidParams(f"Parameter 'find' is not a valid regular expression: {exc}.", "find") from None
            try:
                pattern.sub(params["replace"], "")  # compiles the template: bad \\1 or \\g<x> fail here
            except (re.error, IndexError) as exc:
                raise InvalidParams(
                    f"Parameter 'replace' does not fit the regular expression in 'find': {exc}.", "replace"
                ) from None
        if _ILLEGAL_CHARS.search(params["replace"]):
            raise InvalidParams(
                "Parameter 'replace' contains control characters that a workbook cannot hold.", "replace"
            )

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        if source.format not in EDITABLE_FORMATS:
            raise TaskFailure(
                errors.UNSUPPORTED,
                f"Find and replace edits .xlsx and .xlsm workbooks only; convert this .{source.format} file "
                "to .xlsx first (for example with the convert task) and run it again.",
                f"format: {source.format}",
            )
        from openpyxl import load_workbook

        replacer = build_replacer(params)
        keep_vba = source.format == "xlsm"
        ctx.progress(0.0, "opening")
        with warnings.catch_warnings(record=True) as caught, open(source.path, "rb") as handle:
            warnings.simplefilter("always")
            # A file object, not the path: openpyxl judges by the extension, preflight by the content.
            book = load_workbook(handle, keep_vba=keep_vba, rich_text=True, keep_links=True)
        for message in dict.fromkeys(str(w.message) for w in caught):
            if "not supported" not in message and "removed" not in message:
                continue  # e.g. "no default style": nothing the copy loses
            ctx.warn(f"The edited copy will not keep everything in this workbook: {message.rstrip('.')}.")
        unkept = _unkept_features(source.path, source.format)
        if unkept:
            ctx.warn(f"The edited copy will not keep this workbook's {', '.join(unkept)}; check the copy in Excel.")

        try:
            titles = [sheet.title for sheet in book.worksheets]
            if params["sheets"]:
                chosen, missing = _resolve_sheets(titles, params["sheets"])
                if not chosen:
                    raise TaskFailure(
                        errors.TASK_ERROR,
                        f"The workbook has none of the sheets to work on ({', '.join(params['sheets'])}).",
                        f"sheets: {titles}",
                    )
                for item in missing:
                    ctx.warn(f"The workbook has no sheet '{item}'; it was skipped.")
            else:
                chosen = titles

            per_sheet: dict[str, int] = {}
            cells_changed = 0
            for position, title in enumerate(chosen):
                count, changed = self._replace_in_sheet(
                    book[title], replacer, params, ctx, position / len(chosen), 1 / len(chosen)
                )
                per_sheet[title] = count
                cells_changed += changed
            total = sum(per_sheet.values())

            result: dict[str, Any] = {
                "replacements": total,
                "per_sheet": per_sheet,
                "cells_changed": cells_changed,
                "written": False,
            }
            if total == 0 and params["only_changed"]:
                result["note"] = "Nothing matched, so no copy was written (only_changed is on)."
            else:
                suffix = Path(source.path).suffix
                if suffix.lower() not in _OOXML_SUFFIXES:  # e.g. an .xlsx renamed .xls: name it for what it is
                    suffix = f".{source.format}"
                ctx.progress(0.95, "saving")
                with ctx.file_output(suffix) as tmp:
                    book.save(tmp)
                result["written"] = True
        finally:
            if book.vba_archive is not None:  # the in-memory copy of the package kept for the macros
                book.vba_archive.close()
        ctx.progress(1.0)
        return result

    @staticmethod
    def _replace_in_sheet(
        sheet: Any, replacer: Replacer, params: dict[str, Any], ctx: FileContext, base: float, span: float
    ) -> tuple[int, int]:
        """Replace in one worksheet; return (replacements, cells changed)."""
        from openpyxl.cell.rich_text import CellRichText
        from openpyxl.worksheet.formula import ArrayFormula

        include_formulas = params["include_formulas"]
        count = changed = 0
        # The cells that exist, not iter_rows(): that creates a cell for every position in the used
        # range, which for a sheet with one stray value at XFD1048576 is billions of them.
        cells = list(sheet._cells.values())
        for position, cell in enumerate(cells, start=1):
            if position % PROGRESS_EVERY == 0:
                ctx.progress(base + span * position / len(cells), f"{sheet.title}: cell {position:,} of {len(cells):,}")
            value = cell.value
            if value is None or cell.data_type not in ("s", "f"):
                continue
            if cell.data_type == "s" and isinstance(value, CellRichText):
                new_value, n, kept = _replace_rich(value, replacer)
                if n == 0 or str(new_value) == str(value):
                    continue
                if len(str(new_value)) > EXCEL_MAX_CELL_CHARS:
                    ctx.warn(f"Cell {sheet.title}!{cell.coordinate} would exceed 32,767 characters; left as it was.")
                    continue
                if not kept:
                    ctx.warn(
                        f"Cell {sheet.title}!{cell.coordinate} lost the formatting of part of its text, because "
                        "a match spans differently formatted parts."
                    )
                cell.value = new_value
                cell.data_type = "s"  # never a formula or an error code, whatever the text now says
            elif cell.data_type == "s" and isinstance(value, str):
                new_text, n = replacer(value)
                if n == 0 or new_text == value:
                    continue
                if len(new_text) > EXCEL_MAX_CELL_CHARS:
                    ctx.warn(f"Cell {sheet.title}!{cell.coordinate} would exceed 32,767 characters; left as it was.")
                    continue
                cell.value = new_text
                cell.data_type = "s"  # never a formula or an error code, whatever the text now says
            elif cell.data_type == "f" and include_formulas:
                formula = value.text if isinstance(value, ArrayFormula) else value
                if not isinstance(formula, str) or not formula.startswith("="):
                    continue  # data-table formulas have no text of their own
                new_body, n = replacer(formula[1:])
                if n == 0 or new_body == formula[1:]:
                    continue
                if isinstance(value, ArrayFormula):
                    value.text = "=" + new_body
                else:
                    cell.value = "=" + new_body
            else:
                continue
            count += n
            changed += 1
        return count, changed
