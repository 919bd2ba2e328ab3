"""The `find_replace` task: replace text in cell values across workbooks, and change nothing else.

Works on .xlsx and .xlsm (and their template forms .xltx/.xltm, recognised by content) by editing the
package directly. Only the XML parts that hold replaced text are rewritten: the shared strings
(`xl/sharedStrings.xml`), and the selected sheets when a cell there has to change itself (inline
strings, text stored as a value, formulas with `include_formulas`). Every other part, and every part
with nothing to replace, is copied as it is stored, with the same name and in the same order: charts,
drawings, pictures, comments and threaded comments, tables, pivot tables and caches, slicers, form and
ActiveX controls, data validation and conditional formatting (with their extensions), custom XML,
printer settings, calcChain and the VBA project (so macros and their signature stay valid). Other
formats fail with kind `unsupported` and advice to convert them first.

Only text cells are touched: shared strings, inline strings and text stored as a value. A formula's
saved result is never edited; its formula only with `include_formulas` (then the formula's text
without `=` is searched, each cell's own formula, shared formulas included, and the changed cell's
stale saved result is removed). A replacement never makes a formula or an error value: text that
comes to start with `=` or look like #N/A stays text. A shared string used both by a selected sheet
and by one that is not gets a new entry for the edited cells, so the other sheet keeps its text.
Rich text keeps each run's formatting when a match lies within one run; a match across runs takes
the first run's formatting, with a warning naming the cell. Text is matched as Excel shows it
(`_x000D_` escapes decoded, the spaces Excel drops at the ends of a `<t>` without xml:space="preserve"
left out) and written back the same way. A table's heading (and totals label) cells are left as they
are, with a warning: Excel drops a table whose headings differ from the column names its part states.

When a formula changed, or text changed in a workbook that has formulas (whose results may depend on
it), workbook.xml's `<calcPr>` gets fullCalcOnLoad="1", so that Excel recalculates on open; that
attribute is the only change made to workbook.xml. Programs that only read saved results (and
LibreOffice, which does not honour it) show a dependent formula's old result until it is recalculated.

Matching: case-insensitive unless `match_case`; `whole_cell` replaces a cell only when all of its text
matches; `regex` takes `find` as a Python regular expression and lets `replace` use \\1 or \\g<name>.
Each file gives a modified copy with the same name and suffix; with `only_changed`, files with no
replacement give none. Inputs are only ever read. XML is read with a streaming parser that refuses
DTDs and entities (see xml_stream), so a sheet of any size needs little memory.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.cost import WorkCost
from xlbatch.errors import TaskFailure
from xlbatch.package_edit.matching import Matcher
from xlbatch.package_edit.parts import CHARTSHEET, PackageError, SheetPart, Workbook, full_calc_edit, read_workbook
from xlbatch.package_edit.shared_strings import (
    SharedStrings,
    analyse_shared_strings,
    copy_with_edits,
    write_shared_strings,
)
from xlbatch.package_edit.sheet import SheetResult, edit_sheet, scan_sheet
from xlbatch.package_edit.xml_stream import XmlDamaged, XmlUnsupported
from xlbatch.package_edit.zip_rewrite import NewMember, write_package
from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, Task
from xlbatch.tasks.registry import register

EDITABLE_FORMATS = ("xlsx", "xlsm")
_OOXML_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
# Characters an xlsx cannot hold (the same set openpyxl refuses).
_ILLEGAL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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


@register
class FindReplace(Task):
    name = "find_replace"
    title = "Find and replace"
    description = (
        "Replace text in cell values across .xlsx and .xlsm workbooks, changing nothing else: formatting, "
        "formulas, charts, pictures, comments, tables, pivots and macros stay as they are; writes modified copies."
    )
    kind = "cpu"
    # expat parses in C but calls back into Python for every element, holding the lock; only zlib
    # (inflating, deflating) runs outside it. benchmarks/find_replace_speed.py measures 3.7x (inline
    # strings) to 6x (shared strings) less time than openpyxl's load-and-save, which cost 9 s/MB here.
    cost = WorkCost(seconds_per_mb=2.0, seconds_per_file=0.005, lock_free=0.1)
    reads_values = False  # edits the workbook itself; formulas are kept as formulas
    version = 2  # 2: edits the package directly instead of re-saving it with openpyxl
    params = (
        Param("find", "str", None, "The text to look for (a regular expression when 'regex' is on).", required=True),
        Param("replace", "str", "", "The text to put in its place (may be empty)."),
        Param("match_case", "bool", False, "Treat upper and lower case as different."),
        Param("whole_cell", "bool", False, "Replace only cells whose whole text matches."),
        Param("regex", "bool", False, "Treat 'find' as a regular expression; 'replace' may use \\1."),
        common_params.sheets("Sheets to work on, by name or position; empty means all."),
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
        ctx.progress(0.0, "opening")
        edit = _PackageEdit(source, params, ctx)
        try:
            result = edit.run()
        except XmlUnsupported as exc:
            raise TaskFailure(
                errors.UNSUPPORTED,
                "This workbook stores its text in a way find and replace cannot edit; open it in Excel, save it "
                "again and retry.",
                str(exc),
            ) from None
        except (XmlDamaged, PackageError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise TaskFailure(
                errors.CORRUPT, "The workbook is damaged and cannot be edited.", f"{type(exc).__name__}: {exc}"
            ) from None
        finally:
            edit.close()
        ctx.progress(1.0)
        return result


class _PackageEdit:
    """One file's find & replace: read the package, plan and write the edited parts, assemble the copy."""

    def __init__(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> None:
        self.source, self.params, self.ctx = source, params, ctx
        self.matcher = Matcher(params)
        self.replaced: dict[str, NewMember] = {}
        self.done_bytes = 0
        self.total_bytes = 1

    def close(self) -> None:
        for member in self.replaced.values():
            member.close()

    def run(self) -> dict[str, Any]:
        with zipfile.ZipFile(self.source.path) as archive:
            self.archive = archive
            book = read_workbook(archive)
            selected, others = self._sheets(book)
            self.total_bytes = max(1, sum(self._size(m) for m in [book.shared_strings, *(s.member for s in selected)]))
            strings = self._analyse(book.shared_strings)
            has_formulas = False
            if strings is not None and strings.changes and others:
                has_formulas = self._scan_others(others, strings)
            per_sheet: dict[str, int] = {}
            cells_changed = 0
            formulas_changed = False
            for sheet in selected:
                outcome = self._edit_sheet(sheet, strings)
                per_sheet[sheet.name] = outcome.count
                cells_changed += outcome.cells_changed
                formulas_changed |= outcome.formulas_changed
                has_formulas |= outcome.has_formulas
            total = sum(per_sheet.values())
            result: dict[str, Any] = {
                "replacements": total,
                "per_sheet": per_sheet,
                "cells_changed": cells_changed,
                "written": False,
            }
            if total == 0 and self.params["only_changed"]:
                result["note"] = "Nothing matched, so no copy was written (only_changed is on)."
                return result
            if total:
                self._finish_parts(book, strings, formulas_changed, has_formulas, others)
            self._write(total)
            result["written"] = True
            return result

    def _sheets(self, book: Workbook) -> tuple[list[SheetPart], list[SheetPart]]:
        """The worksheets to edit, in the order asked, and every other sheet part that holds cells."""
        worksheets = book.worksheets
        titles = [sheet.name for sheet in worksheets]
        wanted = self.params["sheets"]
        if wanted:
            chosen, missing = _resolve_sheets(titles, wanted)
            if not chosen:
                raise TaskFailure(
                    errors.TASK_ERROR,
                    f"The workbook has none of the sheets to work on ({', '.join(wanted)}).",
                    f"sheets: {titles}",
                )
            for item in missing:
                self.ctx.warn(f"The workbook has no sheet '{item}'; it was skipped.")
        else:
            chosen = titles
        by_name = {sheet.name: sheet for sheet in worksheets}
        selected: list[SheetPart] = []
        for title in chosen:
            sheet = by_name[title]
            if sheet.member is None:
                self.ctx.warn(f"The workbook lists a sheet '{title}' whose contents are missing; it was skipped.")
            else:
                selected.append(sheet)
        picked = {sheet.member for sheet in selected}
        others = [s for s in book.sheets if s.kind != CHARTSHEET and s.member and s.member not in picked]
        return selected, others

    def _size(self, member: str | None) -> int:
        return self.archive.getinfo(member).file_size if member else 0

    def _progress(self, label: str) -> Callable[[int], None]:
        base = self.done_bytes

        def report(done: int) -> None:
            fraction = min(1.0, (base + done) / self.total_bytes)
            self.ctx.progress(0.9 * fraction, f"{label}: {fraction:.0%}")

        return report

    def _open(self, member: str) -> Any:
        return self.archive.open(member)

    def _analyse(self, member: str | None) -> SharedStrings | None:
        if member is None:
            return None
        with _part(member), self._open(member) as stream:
            strings = analyse_shared_strings(stream, self.matcher, self._progress("shared strings"))
        self.done_bytes += self._size(member)
        return strings

    def _scan_others(self, others: list[SheetPart], strings: SharedStrings) -> bool:
        """Note the changed shared strings that sheets not being edited use; whether they have formulas."""
        has_formulas = False
        wanted = set(strings.changes)
        for sheet in others:
            self._progress(f"{sheet.name}: checking shared text")(0)
            assert sheet.member is not None
            with _part(sheet.member), self._open(sheet.member) as stream:
                used, formulas = scan_sheet(stream, wanted)
            strings.shared_elsewhere |= used
            has_formulas |= formulas
        return has_formulas

    def _edit_sheet(self, sheet: SheetPart, strings: SharedStrings | None) -> SheetResult:
        member = sheet.member
        assert member is not None
        with _part(member), self._open(member) as stream:
            outcome = edit_sheet(
                stream,
                lambda: self._open(member),
                sheet.name,
                self.matcher,
                strings,
                self.params["include_formulas"],
                self.ctx.warn,
                self._progress(sheet.name),
                sheet.tables,
                sheet.pivots,
            )
        self.done_bytes += self._size(member)
        if outcome.member is not None:
            self.replaced[member] = outcome.member
        return outcome

    def _finish_parts(
        self,
        book: Workbook,
        strings: SharedStrings | None,
        formulas_changed: bool,
        has_formulas: bool,
        others: list[SheetPart],
    ) -> None:
        """The shared strings, and workbook.xml when Excel must recalculate."""
        if strings is not None and strings.needs_rewrite and book.shared_strings:
            with _part(book.shared_strings), self._open(book.shared_strings) as stream:
                self.replaced[book.shared_strings] = write_shared_strings(stream, strings)
        if not (formulas_changed or has_formulas):
            has_formulas = any(self._has_formulas(sheet) for sheet in others)
        if formulas_changed or has_formulas:
            edit = full_calc_edit(book)
            if edit is not None:
                with _part(book.member), self._open(book.member) as stream:
                    self.replaced[book.member] = copy_with_edits(stream, [edit])

    def _has_formulas(self, sheet: SheetPart) -> bool:
        assert sheet.member is not None
        with _part(sheet.member), self._open(sheet.member) as stream:
            return scan_sheet(stream, set())[1]

    def _write(self, total: int) -> None:
        suffix = Path(self.source.path).suffix
        if suffix.lower() not in _OOXML_SUFFIXES:  # e.g. an .xlsx renamed .xls: name it for what it is
            suffix = f".{self.source.format}"
        self.ctx.progress(0.95, "saving")
        with self.ctx.file_output(suffix) as tmp:
            if total and self.replaced:
                write_package(self.source.path, tmp, self.replaced, self.ctx.check)
            else:  # nothing replaced: the copy is the file itself
                shutil.copyfile(self.source.path, tmp)


@contextlib.contextmanager
def _part(member: str) -> Iterator[None]:
    """Name the part in the detail of an XML error raised while it is read."""
    try:
        yield
    except (XmlDamaged, XmlUnsupported) as exc:
        if str(exc).startswith(member):
            raise
        raise type(exc)(f"{member}: {exc}") from None
