"""Typed rows rendered as finished worksheet XML (`<row>` elements), with what reading them back gives.

This is the inner loop of the fragment writer (xlbatch.fragment_writer): combine's workers render their
rows here in parallel, convert and split render theirs, and the parent only copies the bytes. A row is
rendered without a row number and its cells without references: a `<row>` without `r` is the row after
the previous one and a `<c>` without `r` the cell after the previous one (ECMA-376 Part 1, 18.3.1.73 and
18.3.1.4), so a fragment can go anywhere in a sheet; an empty cell inside a row is `<c/>`. Where the row
number is known (`start` given), rows carry it and a cell after a gap says where it is, so a sparse row
costs its cells and not its width.

Values are converted as xlbatch.writing.XlsxTableWriter converts them (xlbatch.excel_values: numbers with
the digits that read back as the same double, dates as Excel serials, losses named by cell), text is an
inline string escaped as xlsxwriter escapes it (`_xHHHH_` for control characters, `_x005F_` before a
literal `_xHHHH_`, `xml:space="preserve"` for leading or trailing white space), and text starting with
`=` is text: nothing here writes a formula.

Cell styles are fixed indices of the package's styles.xml (xlbatch.xlsx_package): the date formats, and
for a report sheet one style per column for its numbers (`NUMBER_STYLES + column`), whose number format
the package decides when it closes, after the first rows were measured (xlbatch.report_layout).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xlbatch.cell_refs import column_letters
from xlbatch.excel_values import (
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    EMPTY,
    EXCEL_MAX_CELL_CHARS,
    NUMBER,
    TEXT,
    TIME,
    number_text,
    to_cell,
)

EXCEL_MAX_COLS = 16_384
# Fixed cell styles (cellXfs indices); xlbatch.xlsx_package writes styles.xml in this order.
PLAIN, HEADER, BOLD = 0, 1, 2
DATE_STYLES = {DATE: 3, DATETIME: 4, TIME: 5, DURATION: 6}
DATE_STYLES_MS = {DATETIME: 7, TIME: 8, DURATION: 9}
NUMBER_STYLES = 10  # a report sheet's number cells: NUMBER_STYLES + column
GAP_CELLS = 64  # a row without row numbers holding more empty cells than this in a row is rendered elsewhere
TEXT_CACHE = 65_536  # rendered text cells remembered per renderer

_MAX_EXACT_INT = 2**53
_INF = float("inf")
_SHORT_TEXT = EXCEL_MAX_CELL_CHARS // 2
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")
_ESCAPED_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_EMPTY = "<c/>"
_TRUE, _FALSE = '<c t="b"><v>1</v></c>', '<c t="b"><v>0</v></c>'
_DATE_OPEN = f'<c s="{DATE_STYLES[DATE]}"><v>'
_LEAP_BUG_FROM = dt.date(1900, 3, 1)  # from here on a date's serial is its distance from 1899-12-30
_ORDINAL_1899_12_30 = dt.date(1899, 12, 30).toordinal()


def escape_text(text: str) -> str:
    """Text for a `<t>` element, as xlsxwriter writes it and Excel and python-calamine read it back."""
    text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline_string(text: str, style: str = "") -> str:
    """An inline-string cell (`style` is its ` s="N"` attribute or empty)."""
    body = escape_text(text) if _SPECIAL.search(text) is not None else text
    if text[0].isspace() or text[-1].isspace():
        return f'<c{style} t="inlineStr"><is><t xml:space="preserve">{body}</t></is></c>'
    return f'<c{style} t="inlineStr"><is><t>{body}</t></is></c>'


@dataclass
class Losses:
    """Values that could not be kept, per loss kind: how many, and the first few cells (row, column),
    0-based within what was rendered."""

    limit: int = 10
    found: dict[str, list[Any]] = field(default_factory=dict)  # kind -> [count, [(row, column), ...]]

    def add(self, kind: str, row: int, column: int) -> None:
        entry = self.found.setdefault(kind, [0, []])
        entry[0] += 1
        if len(entry[1]) < self.limit:
            entry[1].append((row, column))

    def to_plain(self) -> dict[str, list[Any]]:
        return {kind: [count, [list(cell) for cell in cells]] for kind, (count, cells) in self.found.items()}


@dataclass
class Rendered:
    """One run of rows rendered: the XML, how many `<row>` elements it holds, and per row what reads back."""

    xml: str
    rows: int
    expected: list[tuple[int, list[Any]]]  # (row within the run, values), non-empty rows only
    losses: Losses
    width: int = 0  # columns of the widest row
    wide: bool = False  # a row without row numbers had more than GAP_CELLS empty cells in a row


class RowRenderer:
    """Renders rows of typed values as `<row>` elements.

    `number_styles`: number cells take their column's report style (NUMBER_STYLES + column); else none.
    `lead`: cells already rendered that start every row (combine's source columns), with their values."""

    def __init__(self, number_styles: bool = False, lead: Sequence[Any] = ()) -> None:
        self.number_styles = number_styles
        self._number_open: list[str] = []
        self._width = 0  # of the rows rendered by the current render()
        self._wide = False
        self._texts: dict[str, str] = {}  # short ASCII text -> its cell: most text repeats (regions, names)
        self.lead = len(lead)
        self._lead_expected: list[Any] = []
        lead_losses = Losses()
        self._lead_xml = self._cells(list(lead), 0, lead_losses, None, self._lead_expected) if lead else ""
        # A lead value that could not be kept is lost on every row (its cells are named row by row).
        self._lead_losses = [(kind, column) for kind, (_n, cells) in lead_losses.found.items() for _r, column in cells]
        self._lead_expected += [""] * (self.lead - len(self._lead_expected))

    def render(self, rows: Iterable[Sequence[Any]], start: int | None = None, style: int | None = None) -> Rendered:
        """Render `rows`; `start` is the 0-based sheet row of the first (None: unknown, no references);
        `style` puts one style on every text, number and boolean cell (a header row)."""
        parts: list[str] = []
        add = parts.append
        expected: list[tuple[int, list[Any]]] = []
        losses = Losses()
        lead_xml, lead_expected, offset = self._lead_xml, self._lead_expected, self.lead
        self._width, self._wide = 0, False
        count = 0
        for index, row in enumerate(rows):
            count += 1
            values: list[Any] = list(lead_expected)
            number = None if start is None else start + index + 1
            cells = self._cells(row, index, losses, number, values, offset, style)
            if number is None:
                add("<row>")
            elif cells or lead_xml:
                add(f'<row r="{number}">')
            else:  # numbered rows need no element for an empty row
                continue
            if lead_xml:
                add(lead_xml)
                for kind, column in self._lead_losses:
                    losses.add(kind, index, column)
            add(cells)
            add("</row>")
            while values and values[-1] == "":
                values.pop()
            if values:
                expected.append((index, values))
        return Rendered("".join(parts), count, expected, losses, self._width, self._wide)

    def _cells(
        self,
        row: Sequence[Any],
        index: int,
        losses: Losses,
        number: int | None,
        expected: list[Any],
        offset: int = 0,
        style: int | None = None,
    ) -> str:
        """The cells of one row (from column `offset`), appending what reads back to `expected`.

        The common values (short ASCII text, numbers, booleans, dates from March 1900) are written inline:
        this loop is most of the time of a conversion; everything else goes through `_slow`."""
        parts: list[str] = []
        add = parts.append
        keep = expected.append
        end = len(row)
        while end and row[end - 1] is None:
            end -= 1
        end = min(end, EXCEL_MAX_COLS - offset)
        if offset + end > self._width:
            self._width = offset + end
        opens = self._openings(offset + end)
        texts = self._texts
        forced = "" if style is None else f' s="{style}"'
        gap = 0  # empty cells since the last one written
        column = offset - 1
        for value in row[:end] if end < len(row) else row:
            column += 1
            cls = value.__class__
            if value is None or (cls is str and not value):
                keep("")
                gap += 1
                continue
            ref = ""
            if gap:
                if number is None:
                    add(_EMPTY * gap)
                    if gap > GAP_CELLS:
                        self._wide = True
                else:
                    ref = f' r="{column_letters(column + 1)}{number}"'
                gap = 0
            if ref or forced:
                add(self._slow(value, ref, forced, column, index, losses, keep))
            elif cls is str:
                cell = texts.get(value) or self._text(value)
                if cell is None:  # text that cannot be kept as it is: named in a warning
                    add(self._slow(value, "", "", column, index, losses, keep))
                    continue
                add(cell)
                keep(value)
            elif cls is float and -_INF < value < _INF and value != 0.0:
                add(f"{opens[column]}{number_text(value)}</v></c>")
                keep(value)
            elif cls is int and -_MAX_EXACT_INT < value < _MAX_EXACT_INT:
                add(f"{opens[column]}{value}</v></c>")
                keep(float(value))
            elif cls is bool:
                add(_TRUE if value else _FALSE)
                keep(value)
            elif cls is dt.date and value >= _LEAP_BUG_FROM:
                add(f"{_DATE_OPEN}{value.toordinal() - _ORDINAL_1899_12_30}</v></c>")
                keep(value)
            else:
                add(self._slow(value, "", "", column, index, losses, keep))
        return "".join(parts)

    def _text(self, value: str) -> str | None:
        """A text cell, remembered for the next time; None if the text cannot be kept as it is."""
        if not value.isascii() or len(value) > _SHORT_TEXT:
            cell = to_cell(value)
            if cell.loss is not None:
                return None
        xml = inline_string(value)
        if len(self._texts) < TEXT_CACHE and len(value) <= _SHORT_TEXT:
            self._texts[value] = xml
        return xml

    def _openings(self, columns: int) -> list[str]:
        """The start of a number cell in each of the first `columns` columns, with its style if any."""
        opens = self._number_open
        while len(opens) < columns:
            position = len(opens)
            opens.append(f'<c s="{NUMBER_STYLES + position}"><v>' if self.number_styles else "<c><v>")
        return opens

    def _slow(self, value: Any, ref: str, forced: str, column: int, index: int, losses: Losses, keep: Any) -> str:
        """Any value through xlbatch.excel_values.to_cell, with a reference or a forced style if given."""
        cell = to_cell(value)
        if cell.loss is not None:
            losses.add(cell.loss, index, column)
        kind = cell.kind
        if kind == EMPTY:
            keep("")
            return f"<c{ref}/>" if ref else _EMPTY
        keep(cell.expected if kind != NUMBER else float(cell.written))
        if kind == TEXT:
            return inline_string(cell.written, ref + forced)
        if kind == BOOL:
            return f'<c{ref}{forced} t="b"><v>{1 if cell.written else 0}</v></c>'
        if kind == NUMBER:
            if forced:
                style = forced
            elif self.number_styles:
                style = f' s="{NUMBER_STYLES + column}"'
            else:
                style = ""
            return f"<c{ref}{style}><v>{number_text(cell.written)}</v></c>"
        styles = DATE_STYLES_MS if cell.millis else DATE_STYLES
        return f'<c{ref} s="{styles[kind]}"><v>{number_text(cell.written)}</v></c>'
