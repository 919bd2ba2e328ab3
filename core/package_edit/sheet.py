"""One worksheet part in find & replace: stream its XML, replace text in its cells, and copy every byte
that does not hold replaced text.

Which cells hold text: `t="s"` (an index into the shared strings: the cell changes only when its item
must be split off, see shared_strings), `t="inlineStr"` (an `<is>` in the cell, edited like a
shared string), and `t="str"` without a formula (text stored as a value). A cell with a formula is a
formula, whatever its saved result says: its result is never edited, and its formula only with
`include_formulas` (formulas). A replacement never makes a formula: text starting with `=` stays text.
A table's heading and totals cells keep their text (Excel requires them to match the table part), and
a cell of a pivot table that changes gets one warning per pivot table (its cache keeps the old text).

Memory stays modest for any size of sheet: the parser sees the part in chunks, only the cell being
read is held, and the copy is written as the parse goes. A sheet that ends up with no edit is not
written at all (the package keeps its stored bytes); the copy starts at the first edit, by reading the
part again up to that point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from xlbatch.cell_refs import column_letters, position
from xlbatch.package_edit.formulas import FormulaPlanner
from xlbatch.package_edit.matching import Matcher
from xlbatch.package_edit.parts import PivotArea, TableRows
from xlbatch.package_edit.rich_string import ItemEdit, StringItem, StringItemReader, plan_item_edit
from xlbatch.package_edit.shared_strings import SharedStrings
from xlbatch.package_edit.text_escapes import decode_text, encode_text
from xlbatch.package_edit.xml_stream import XmlStream, close_tag, is_self_closing, names, open_form, set_attribute
from xlbatch.package_edit.zip_rewrite import NewMember
from xlbatch.writing import EXCEL_MAX_CELL_CHARS

_SHEET_DATA, _ROW, _C = names("sheetData"), names("row"), names("c")
_V, _F, _IS = names("v"), names("f"), names("is")
Edit = tuple[int, int, bytes]


@dataclass(slots=True)
class _Part:
    """A child element of a cell (<v> or <f>): where it is and its text (its spans once resolved)."""

    start: int
    attrs: dict[str, str]
    chunks: list[str] = field(default_factory=list)
    end_at: int = 0  # expat's position for its end event
    tag: bytes = b""
    content_start: int = 0
    content_end: int = 0
    end: int = 0

    @property
    def text(self) -> str:
        return decode_text("".join(self.chunks))


@dataclass(slots=True)
class _Cell:
    start: int
    kind: str  # the t attribute
    ref: str
    depth: int = 0
    value: _Part | None = None
    formula: _Part | None = None
    reading: _Part | None = None  # the <v> or <f> whose text is arriving
    item: StringItemReader | None = None  # an <is> being read
    string: StringItem | None = None
    tag: bytes = b""


@dataclass(slots=True)
class SheetResult:
    count: int = 0
    cells_changed: int = 0
    formulas_changed: bool = False
    has_formulas: bool = False
    member: NewMember | None = None  # the new part, or None when the sheet keeps its bytes


class SheetEditor(XmlStream):
    """Replace text in one worksheet; `reopen()` gives the part's bytes again from the start."""

    def __init__(
        self,
        title: str,
        matcher: Matcher,
        strings: SharedStrings | None,
        include_formulas: bool,
        warn: Callable[[str], None],
        reopen: Callable[[], IO[bytes]],
        tables: tuple[TableRows, ...] = (),
        pivots: tuple[PivotArea, ...] = (),
    ) -> None:
        super().__init__()
        self.tables, self.pivots = tables, pivots
        self.pivots_warned: set[str] = set()
        self.title, self.matcher, self.strings, self.include_formulas = title, matcher, strings, include_formulas
        self.warn, self.reopen = warn, reopen
        self.formulas = FormulaPlanner(matcher, warn, title)
        self.result = SheetResult()
        self.strings_change = bool(strings and strings.changes)
        self.in_data = self.data_done = False
        self.row = 0
        self.last_ref: str | None = None  # the last cell reference seen in this row
        self.refless = 0  # cells without a reference since it
        self.cell: _Cell | None = None  # a cell that may change, being read
        self.in_plain_cell = False  # a cell that cannot change, being skipped
        self.last_start = 0  # where the last row or cell started: nothing before it will be edited
        self.out: NewMember | None = None
        self.emitted = 0

    # -- parser events ----------------------------------------------------------------------------
    def _start(self, name: str, attrs: dict[str, str]) -> None:
        cell = self.cell
        if cell is not None:
            self._cell_child_start(cell, name, attrs)
        elif self.in_plain_cell:
            if name in _F:
                self.result.has_formulas = True
        elif name in _C and self.in_data:
            self._cell_start(attrs)
        elif name in _ROW and self.in_data:
            self.last_start = self.pos()
            number = attrs.get("r", "")
            self.row = int(number) if number.isdigit() else self.row + 1
            self.last_ref, self.refless = None, 0
        elif name in _SHEET_DATA:
            self.in_data = True
            self.last_start = self.pos()

    def _end(self, name: str) -> None:
        cell = self.cell
        if cell is not None:
            if cell.depth == 0:
                self._cell_end(cell)
            else:
                self._cell_child_end(cell, name)
        elif self.in_plain_cell:
            if name in _C:
                self.in_plain_cell = False
        elif name in _SHEET_DATA:
            self.in_data = False
            self.data_done = True

    def _text(self, data: str) -> None:
        cell = self.cell
        if cell is not None:
            if cell.reading is not None:
                cell.reading.chunks.append(data)
            elif cell.item is not None:
                cell.item.text(data)

    def _cell_start(self, attrs: dict[str, str]) -> None:
        at = self.last_start = self.pos()
        ref = attrs.get("r")
        if ref:
            self.last_ref, self.refless = ref, 0
        else:
            self.refless += 1
        kind = attrs.get("t", "n")
        if not (
            kind in ("inlineStr", "str")
            or (kind == "s" and self.strings_change)
            or self.include_formulas
            or self.formulas.stale_ranges
        ):
            self.in_plain_cell = True
            return
        self.cell = _Cell(at, kind, ref or self._implied_ref())
        self.hold_from = at

    def _implied_ref(self) -> str:
        """The reference of a cell written without one: the cell after the last one with a reference."""
        column = self.refless
        if self.last_ref:
            with contextlib.suppress(ValueError):
                column += position(self.last_ref)[1]
        return f"{column_letters(column)}{self.row}"

    def _cell_child_start(self, cell: _Cell, name: str, attrs: dict[str, str]) -> None:
        cell.depth += 1
        if cell.item is not None:
            cell.item.start(name, attrs)
        elif cell.depth == 1:
            if name in _V:
                cell.value = cell.reading = _Part(self.pos(), attrs)
            elif name in _F:
                self.result.has_formulas = True
                cell.formula = cell.reading = _Part(self.pos(), dict(attrs))
            elif name in _IS:
                cell.item = StringItemReader(self, self.pos())

    def _cell_child_end(self, cell: _Cell, name: str) -> None:
        if cell.depth == 1:
            at = self.pos()
            if cell.item is not None and name in _IS:
                cell.string = cell.item.finish(at)
                cell.item = None
            elif cell.reading is not None:
                cell.reading.end_at = at
                cell.reading = None
        elif cell.item is not None:
            cell.item.end(name)
        cell.depth -= 1

    def _resolve(self, part: _Part) -> _Part:
        """Work out a <v> or <f>'s start tag and spans (only for a cell that changes)."""
        if not part.tag:
            at = part.end_at
            part.tag = self.slice(part.start, self.tag_end(part.start))
            if is_self_closing(part.tag):
                part.content_start = part.content_end = part.end = at
            else:
                part.content_start, part.content_end, part.end = part.start + len(part.tag), at, self.close_tag_end(at)
        return part

    def _cell_tag(self, cell: _Cell) -> bytes:
        if not cell.tag:
            cell.tag = self.slice(cell.start, self.tag_end(cell.start))
        return cell.tag

    def _cell_end(self, cell: _Cell) -> None:
        self.cell = None
        edits = self._plan(cell)
        if edits:
            self._apply(sorted(edits, key=lambda edit: edit[0]))
        self.hold_from = None

    # -- what changes in a cell -------------------------------------------------------------------
    def _plan(self, cell: _Cell) -> list[Edit]:
        if cell.formula is not None:
            edits, dropped = self._formula(cell) if self.include_formulas else ([], False)
            return edits if dropped else edits + self._keep_formula_result(cell)
        if cell.value is not None and self.formulas.stale_ranges and self._in_stale_range(cell):
            return self._drop_value(cell)
        table = self._table_at(cell) if self.tables else None
        if cell.kind == "s":
            return self._shared_string(cell, table)
        if cell.kind == "inlineStr" and cell.string is not None:
            edit = plan_item_edit(cell.string, self.matcher, self)
            if edit is None or self._kept_for_table(cell, table):
                return []
            return edit.edits if self._count_item(cell, edit) else []
        if cell.kind == "str" and cell.value is not None:
            return self._text_value(cell, table)
        return []

    def _in_stale_range(self, cell: _Cell) -> bool:
        try:
            row, column = position(cell.ref)
        except ValueError:
            return False
        return self.formulas.in_stale_range(row, column)

    def _table_at(self, cell: _Cell) -> str | None:
        """The name of the table whose heading (or totals) row holds this cell, if any."""
        try:
            row, column = position(cell.ref)
        except ValueError:
            return None
        for table in self.tables:
            if any(at == row and left <= column <= right for at, left, right in table.rows):
                return table.name
        return None

    def _kept_for_table(self, cell: _Cell, table: str | None) -> bool:
        """Whether a cell whose text would change is a table heading, left as it was (with a warning)."""
        if table is None:
            return False
        self.warn(
            f"Cell {self.title}!{cell.ref} is a heading (or total label) of table '{table}'; left as it was, "
            "because Excel requires it to match the table's own column names."
        )
        return True

    def _shared_string(self, cell: _Cell, table: str | None) -> list[Edit]:
        strings = self.strings
        index = _index(cell.value)
        if strings is None or index is None or index not in strings.changes or cell.value is None:
            return []
        edit = strings.changes[index].edit
        if not edit.too_long and self._kept_for_table(cell, table):
            return self._keep_item(cell, index)
        if not self._count_item(cell, edit):
            return []  # too long: left as it was
        if index in strings.shared_elsewhere:  # the cell gets its own copy of the item
            value = self._resolve(cell.value)
            return [(value.content_start, value.content_end, str(strings.new_index(index)).encode())]
        strings.in_place.add(index)
        return []

    def _count_item(self, cell: _Cell, edit: ItemEdit) -> bool:
        """Count a replaced text item and warn about what it could not keep; False when it is too long."""
        where = f"Cell {self.title}!{cell.ref}"
        if edit.too_long:
            self.warn(f"{where} would exceed 32,767 characters; left as it was.")
            return False
        self._counted(cell, edit.count)
        if edit.spans_runs:
            self.warn(
                f"{where}: a match spans parts of the text with different formatting; the new text takes the "
                "formatting of the first part."
            )
        if edit.phonetic_removed:
            self.warn(f"{where}: the phonetic guide over the replaced text was removed.")
        return True

    def _counted(self, cell: _Cell, count: int) -> None:
        """A text cell changes: count it, and say once per pivot table when the cell is one of its labels."""
        self.result.count += count
        self.result.cells_changed += 1
        if not self.pivots:
            return
        try:
            row, column = position(cell.ref)
        except ValueError:
            return
        for pivot in self.pivots:
            top, left, bottom, right = pivot.area
            if top <= row <= bottom and left <= column <= right and pivot.name not in self.pivots_warned:
                self.pivots_warned.add(pivot.name)
                self.warn(
                    f"Sheet {self.title}: text in pivot table '{pivot.name}' was replaced in its cells only; once "
                    "the pivot table is refreshed it shows the text of its source data."
                )

    def _text_value(self, cell: _Cell, table: str | None) -> list[Edit]:
        assert cell.value is not None
        value = cell.value
        old = value.text
        new, count = self.matcher.replace(old)
        if new == old or self._kept_for_table(cell, table):
            return []
        if len(new) > EXCEL_MAX_CELL_CHARS:
            self.warn(f"Cell {self.title}!{cell.ref} would exceed 32,767 characters; left as it was.")
            return []
        self._counted(cell, count)
        content = self.encode(encode_text(new))
        self._resolve(value)
        if is_self_closing(value.tag):
            return [(value.start, value.end, open_form(value.tag) + content + close_tag(value.tag))]
        return [(value.content_start, value.content_end, content)]

    def _formula(self, cell: _Cell) -> tuple[list[Edit], bool]:
        """The edits of a formula cell, and whether they remove its saved result."""
        assert cell.formula is not None
        change = self.formulas.plan(cell.ref, cell.formula.attrs, cell.formula.text)
        if change is None:
            return [], False
        formula = self._resolve(cell.formula)
        content = self.encode(encode_text(change.text))
        edits: list[Edit] = []
        if change.own_formula:
            tag = formula.tag
            for attribute in (b"t", b"si", b"ref"):
                tag = set_attribute(tag, attribute, None)
            edits.append((formula.start, formula.end, open_form(tag) + content + close_tag(tag)))
        elif not change.keep_formula_bytes:
            edits.append((formula.content_start, formula.content_end, content))
        if change.drop_value:
            edits.extend(self._drop_value(cell))
        if change.count:
            self.result.count += change.count
            self.result.cells_changed += 1
            self.result.formulas_changed = True
        return edits, change.drop_value and cell.value is not None

    def _drop_value(self, cell: _Cell) -> list[Edit]:
        """Edits removing a stale saved result: the <v>, and the type and value-metadata attributes."""
        if cell.value is None:
            return []
        value, cell_tag = self._resolve(cell.value), self._cell_tag(cell)
        edits: list[Edit] = [(value.start, value.end, b"")]
        tag = set_attribute(set_attribute(cell_tag, b"t", None), b"vm", None)
        if tag != cell_tag:
            edits.append((cell.start, cell.start + len(cell_tag), tag))
        if cell.kind == "s" and self.strings is not None:
            self.strings.references_removed += 1
        return edits

    def _keep_formula_result(self, cell: _Cell) -> list[Edit]:
        """A formula whose saved result is a shared string about to change: it keeps the old text."""
        strings, value = self.strings, cell.value
        index = _index(value)
        if cell.kind != "s" or strings is None or value is None or index is None or index not in strings.changes:
            return []
        return self._keep_item(cell, index)

    def _keep_item(self, cell: _Cell, index: int) -> list[Edit]:
        """A cell that must keep shared string `index` as it was, although other cells change it."""
        assert self.strings is not None and cell.value is not None
        copy = self.strings.keep_old(index)
        if copy is None:
            return []
        value = self._resolve(cell.value)
        return [(value.content_start, value.content_end, str(copy).encode())]

    # -- output -----------------------------------------------------------------------------------
    def _apply(self, edits: list[Edit]) -> None:
        if self.out is None:
            self._start_output()
        assert self.out is not None
        for start, end, new in edits:
            self.out.write(self.slice(self.emitted, start))
            self.out.write(new)
            self.emitted = end

    def _start_output(self) -> None:
        """The first edit: copy the part from its start up to what is still held in memory."""
        self.out = NewMember()
        remaining = self.base
        with self.reopen() as again:
            while remaining:
                block = again.read(min(remaining, 1 << 20))
                if not block:
                    raise OSError("the sheet part ended early when read again")
                self.out.write(block)
                remaining -= len(block)
        self.emitted = self.base

    def _after_chunk(self, final: bool) -> None:
        if final or (self.data_done and self.hold_from is None):
            safe = self.fed
        else:
            safe = self.hold_from if self.hold_from is not None else self.last_start
        if self.out is not None and safe > self.emitted:
            self.out.write(self.slice(self.emitted, safe))
            self.emitted = safe
        self.release(safe)

    def finish(self) -> SheetResult:
        if self.out is not None:
            self.result.member = self.out.finish()
        return self.result


def _index(value: _Part | None) -> int | None:
    if value is None:
        return None
    text = "".join(value.chunks).strip()
    return int(text) if text.isdigit() else None


def edit_sheet(
    source: IO[bytes],
    reopen: Callable[[], IO[bytes]],
    title: str,
    matcher: Matcher,
    strings: SharedStrings | None,
    include_formulas: bool,
    warn: Callable[[str], None],
    on_chunk: Callable[[int], None] | None = None,
    tables: tuple[TableRows, ...] = (),
    pivots: tuple[PivotArea, ...] = (),
) -> SheetResult:
    """Replace text in the worksheet part read from `source`; see SheetEditor."""
    editor = SheetEditor(title, matcher, strings, include_formulas, warn, reopen, tables, pivots)
    try:
        editor.run(source, on_chunk)
    except BaseException:
        if editor.out is not None:
            editor.out.close()
        raise
    return editor.finish()


class _UseScanner(XmlStream):
    """Which of some shared-string indices a sheet uses, and whether it has formulas (read only)."""

    def __init__(self, indices: set[int]) -> None:
        super().__init__()
        self.indices = indices
        self.used: set[int] = set()
        self.has_formulas = False
        self.cell_kind: str | None = None
        self.value: list[str] | None = None

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self.cell_kind is None:
            if name in _C:
                self.cell_kind = attrs.get("t", "n")
        elif name in _F:
            self.has_formulas = True
        elif name in _V and self.cell_kind == "s":
            self.value = []

    def _text(self, data: str) -> None:
        if self.value is not None:
            self.value.append(data)

    def _end(self, name: str) -> None:
        if self.value is not None and name in _V:
            text = "".join(self.value).strip()
            if text.isdigit() and int(text) in self.indices:
                self.used.add(int(text))
            self.value = None
        elif name in _C:
            self.cell_kind = None


def scan_sheet(source: IO[bytes], indices: set[int]) -> tuple[set[int], bool]:
    """The indices of `indices` that cells of this sheet refer to, and whether it has formulas."""
    scanner = _UseScanner(indices)
    scanner.run(source)
    return scanner.used, scanner.has_formulas
