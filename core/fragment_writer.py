"""Writing an xlsx from finished sheet-XML fragments: rows rendered and compressed anywhere, copied here.

    worker:  typed rows ─► make_fragment() ─► Fragment (compressed <row> XML, its CRC, the record of what
                                               reads back, the values that could not be kept)
    parent:  FragmentXlsxWriter.write_fragment(fragment)   ─► the bytes copied into the sheet member
             FragmentXlsxWriter.write_rows(rows)           ─► rendered and compressed here
             close()                                        ─► styles, workbook, the zip's directory

Rows carry no row numbers (xlbatch.sheet_xml), so a fragment fits wherever it lands; the parent keeps the
count. A sheet reaching Excel's 1,048,576 rows continues on "<name> (cont.)" with the header repeated and a
warning, as xlbatch.writing.XlsxTableWriter does; a fragment that crosses the limit is the one piece
inflated, cut between two rows and compressed again. A report sheet (`kinds`, see xlbatch.report_layout)
gets the bold frozen header, the filter, fitted columns and the number formats XlsxTableWriter gives it:
its number cells point at one style per column, whose format is decided when the workbook closes, from
the first rows (`sample` hands over the typed values of rows that arrived as fragments).

What was written is recorded for xlbatch.verify as XlsxTableWriter records it; a fragment's record was
packed in the worker and is kept as it is (xlbatch.output_record.OutputRecord.add_packed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import operator
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xlbatch import output_record, xlsx_package
from xlbatch.cell_refs import column_letters
from xlbatch.excel_values import FORMATS, FORMATS_MS, loss_warnings
from xlbatch.report_layout import HEADER_STYLE, SAMPLE_ROWS, VALUE, SheetLayout
from xlbatch.sheet_xml import BOLD, HEADER, NUMBER_STYLES, RowRenderer
from xlbatch.writing import CELLS_NAMED, EXCEL_MAX_ROWS, cell_name, safe_sheet_name
from xlbatch.xlsx_package import DeflatedMember, Piece, ZipWriter, compress_piece, inflate_piece

FLUSH_ROWS = 1000  # typed rows rendered and compressed together
SPOOL_IN_MEMORY = 32 * 2**20  # a sheet's compressed XML is held in memory up to this size, then on disk
_ROW_END = b"</row>"
_MARGINS = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'


@dataclass(frozen=True)
class Fragment:
    """Rows rendered and compressed in one process, to be copied into a sheet in another."""

    piece: Piece
    rows: int  # <row> elements
    width: int  # columns of the widest row
    record: bytes  # xlbatch.output_record.pack of (row within the fragment, values read back)
    losses: dict[str, list[Any]]  # loss kind -> [count, [[row, column], ...]] (0-based, within the fragment)
    # xlbatch.output_record.check_of the same rows, made where they were rendered (None: compared unpacked)
    check: output_record.Check | None = None

    def to_plain(self) -> tuple[Any, ...]:
        """Built-in types only, for a part file that may hold nothing else (combine's _PartUnpickler)."""
        p = self.piece
        return (p.data, p.crc, p.length, self.rows, self.width, self.record, self.losses, self.check)

    @classmethod
    def from_plain(cls, plain: Sequence[Any]) -> Fragment:
        data, crc, length, rows, width, record, losses, *check = plain  # parts kept by earlier versions: 7
        kept = tuple(check[0]) if check and check[0] else None
        return cls(Piece(data, crc, length), rows, width, record, losses, kept)  # type: ignore[arg-type]


def make_fragment(
    renderer: RowRenderer, rows: Sequence[Sequence[Any]], level: int = xlsx_package.LEVEL
) -> Fragment | None:
    """`rows` rendered without row numbers and compressed; None when a row has a long run of empty cells
    (rendered without references they would cost its whole width: such rows are written where their row
    numbers are known)."""
    rendered = renderer.render(rows)
    if rendered.wide:
        return None
    piece = compress_piece(rendered.xml.encode("utf-8"), level)
    expected = rendered.expected
    return Fragment(
        piece,
        rendered.rows,
        rendered.width,
        output_record.pack(expected),
        rendered.losses.to_plain(),
        output_record.check_of(expected),  # digested here, in the worker: the parent's check compares it
    )


def split_fragment(fragment: Fragment, rows: int) -> tuple[Fragment, Fragment]:
    """The fragment's first `rows` rows and the rest, each compressed again (at a sheet's row limit)."""
    xml = inflate_piece(fragment.piece)
    cut = 0
    for _ in range(rows):
        cut = xml.index(_ROW_END, cut) + len(_ROW_END)
    recorded = output_record.unpack(fragment.record)
    halves = []
    for part, low, high in ((xml[:cut], 0, rows), (xml[cut:], rows, fragment.rows)):
        record = [(n - low, values) for n, values in recorded if low <= n < high]
        losses: dict[str, list[Any]] = {}
        for kind, (_count, cells) in fragment.losses.items():
            mine = [[r - low, c] for r, c in cells if low <= r < high]
            if mine:
                losses[kind] = [len(mine), mine]
        # Cells past the first few of a kind are counted, not placed: they stay with the first half.
        for kind, (count, cells) in fragment.losses.items():
            if count > len(cells) and low == 0:
                losses.setdefault(kind, [0, []])[0] += count - len(cells)
        halves.append(Fragment(compress_piece(part), high - low, fragment.width, output_record.pack(record), losses))
    return halves[0], halves[1]


def column_width(width: float) -> float:
    """A width in characters as xlsxwriter writes it (Calibri 11: 7 pixels a digit, 5 of padding)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return (pixels * 256 // 7) / 256.0


class _Sheet:
    """One sheet being written: its rows so far and its compressed XML waiting in a spool."""

    def __init__(self, title: str, folder: str | None) -> None:
        self.title = title
        self.rows = 0
        self.width = 0
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, dir=folder)  # noqa: SIM115 - closed by the writer
        self.body = DeflatedMember(spool)
        # Where a fragment starts: (compressed bytes of the body before it, its first row). The record's
        # chunks break there too (add_packed), so the check can read the sheet back in spans.
        self.cuts: list[tuple[int, int]] = []


class FragmentXlsxWriter:
    """Write an xlsx from typed rows and from fragments rendered elsewhere (see the module docstring).

    The interface of xlbatch.writing.XlsxTableWriter for plain and report sheets (`add_sheet`,
    `write_row`, `warnings`, `sheet_names`, `record`), plus `write_rows`, `write_fragment` and `sample`.
    All report sheets of one workbook share the first one's layout (combine's continuation sheets)."""

    def __init__(self, path: str | os.PathLike[str], level: int = xlsx_package.LEVEL) -> None:
        self._path = path
        self._level = level
        self._handle = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._zip = ZipWriter(self._handle)
        self._folder = str(Path(path).parent)
        self.record = output_record.start(path, output_record.XLSX)
        self.sheet_names: list[str] = []
        self._taken: set[str] = set()
        self._warnings: list[str] = []
        self._losses: dict[str, list[Any]] = {}
        self._sheet: _Sheet | None = None
        self._base = ""
        self._header: list[Any] | None = None
        self._kinds: list[str] | None = None
        self._layout: SheetLayout | None = None
        self._samples: list[Sequence[Any]] = []
        self._pending: list[Sequence[Any]] = []
        self._renderer = RowRenderer()
        self._defined: list[tuple[str, int, str, bool]] = []
        self._widest = 0  # of every report sheet: how many number styles styles.xml needs
        self._finished: list[tuple[_Sheet, Piece, Piece]] = []  # sheets waiting for the package to close

    @property
    def warnings(self) -> list[str]:
        """Sheet overflows and renames, then one line per kind of value that could not be kept, naming its cells."""
        return [*self._warnings, *loss_warnings(self._losses)]

    # -- sheets --------------------------------------------------------------------------------------
    def add_sheet(self, name: str, header: list[Any] | None = None, kinds: Sequence[str] | None = None) -> str:
        """Start a sheet; `header` is written in bold (repeated on continuation sheets); with `kinds` the
        sheet is a report sheet (the kinds xlbatch.report_layout describes, except VALUE)."""
        if kinds is not None and header is None:
            raise ValueError("a report sheet needs a header")
        if kinds is not None and VALUE in kinds:
            raise ValueError("a format per cell (VALUE) needs xlbatch.writing.XlsxTableWriter")
        self._flush()  # rows still waiting belong to the sheet before (which they may continue)
        return self._start(name, header, kinds)

    def _start(self, name: str, header: list[Any] | None, kinds: Sequence[str] | None) -> str:
        self._finish_sheet()
        title = safe_sheet_name(name, self._taken)
        if title != name and not name.endswith(" (cont.)"):
            self._warnings.append(f"Sheet '{name}' is not a legal Excel sheet name and was saved as '{title}'.")
        self._sheet = _Sheet(title, self._folder)
        self.sheet_names.append(title)
        if self.record is not None:
            self.record.start_sheet(title)
        self._base, self._header = name, header
        self._kinds = list(kinds) if kinds is not None else None
        if kinds is not None and self._layout is None:
            self._layout = SheetLayout(header or [], kinds, SAMPLE_ROWS)
        self._renderer = RowRenderer(number_styles=kinds is not None)
        if header is not None:
            self._render([header], HEADER if kinds is not None else BOLD)
        return title

    def _continue(self) -> None:
        previous = self.sheet_names[-1]
        self._start(f"{self._base} (cont.)", self._header, self._kinds)  # the waiting rows go there
        self._warnings.append(
            f"Sheet '{previous}' reached Excel's limit of {EXCEL_MAX_ROWS:,} rows; "
            f"the rows continue on sheet '{self.sheet_names[-1]}'."
        )

    def _room(self) -> int:
        """Rows the current sheet still takes; a full sheet is continued on a new one first."""
        if self._sheet is None:
            self.add_sheet("Sheet1")
        assert self._sheet is not None
        if self._sheet.rows >= EXCEL_MAX_ROWS:
            self._continue()
            assert self._sheet is not None
        return EXCEL_MAX_ROWS - self._sheet.rows

    # -- rows ----------------------------------------------------------------------------------------
    def write_row(self, row: Sequence[Any]) -> None:
        """Append a row of typed values (rendered with the next ones, FLUSH_ROWS at a time)."""
        if self._sheet is None:
            self.add_sheet("Sheet1")
        self._pending.append(row)
        if len(self._pending) >= FLUSH_ROWS:
            self._flush()

    def write_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.write_row(row)

    def _flush(self) -> None:
        while self._pending:
            room = self._room()
            batch, self._pending = self._pending[:room], self._pending[room:]
            self._measure(batch)
            self._render(batch)

    def _render(self, rows: Sequence[Sequence[Any]], style: int | None = None) -> None:
        sheet = self._sheet
        assert sheet is not None
        rendered = self._renderer.render(rows, sheet.rows, style)
        sheet.body.append(compress_piece(rendered.xml.encode("utf-8"), self._level))
        if self.record is not None:
            for number, values in rendered.expected:
                self.record.add(sheet.rows + number, values)
        for kind, (count, cells) in rendered.losses.found.items():
            self._lost(kind, count, [(sheet.rows + r, c) for r, c in cells])
        sheet.rows += rendered.rows
        sheet.width = max(sheet.width, rendered.width)

    @property
    def wants_sample(self) -> bool:
        """Whether a report sheet still measures rows: `write_fragment` then wants their typed values."""
        return self._layout is not None and not self._layout.settled and self._kinds is not None

    def write_fragment(self, fragment: Fragment, sample: Sequence[Sequence[Any]] | None = None) -> None:
        """Copy a fragment's rows into the sheet; `sample` is their typed values, for a report sheet's
        measurements (only the first rows of a sheet are measured: later samples may be left out)."""
        self._flush()
        if sample is not None:
            self._measure(sample)
        while True:
            room = self._room()
            if fragment.rows <= room:
                break
            first, fragment = split_fragment(fragment, room)
            self._copy(first)
        self._copy(fragment)

    def _copy(self, fragment: Fragment) -> None:
        sheet = self._sheet
        assert sheet is not None
        if fragment.rows and self.record is not None:
            sheet.cuts.append((sheet.body.compressed, sheet.rows))
        sheet.body.append(fragment.piece)
        if self.record is not None:
            self.record.add_packed(sheet.rows, fragment.record, fragment.check)
        for kind, (count, cells) in fragment.losses.items():
            self._lost(kind, count, [(sheet.rows + r, c) for r, c in cells])
        sheet.rows += fragment.rows
        sheet.width = max(sheet.width, fragment.width)

    def _lost(self, kind: str, count: int, cells: list[tuple[int, int]]) -> None:
        entry = self._losses.setdefault(kind, [0, []])
        entry[0] += count
        title = self.sheet_names[-1]
        for r, c in cells[: max(0, CELLS_NAMED - len(entry[1]))]:
            entry[1].append(cell_name(title, r + 1, c + 1))

    def _measure(self, rows: Sequence[Sequence[Any]]) -> None:
        """A report sheet's first rows, kept until there are enough to decide its formats and widths."""
        layout = self._layout
        if layout is None or layout.settled or self._kinds is None:
            return
        self._samples.extend(rows[: layout.sample_rows - len(self._samples)])
        if len(self._samples) >= layout.sample_rows:
            self._settle()

    def _settle(self) -> None:
        layout = self._layout
        if layout is not None and not layout.settled:
            layout.settle([list(row) for row in self._samples])
            self._samples = []

    # -- the package -----------------------------------------------------------------------------------
    def _finish_sheet(self) -> None:
        sheet = self._sheet
        if sheet is None:
            return
        index = len(self.sheet_names)
        report = self._kinds is not None and self._layout is not None
        columns = max(sheet.width, len(self._header or []))
        last = f"{column_letters(max(columns, 1))}{max(sheet.rows, 1)}"
        head, tail = [xlsx_package.SHEET_HEAD], []
        if report:
            head.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        head.append(f'<dimension ref="{"A1:" + last if sheet.rows and columns else "A1"}"/>')
        selected = ' tabSelected="1"' if index == 1 else ""
        pane = (
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
        )
        head.append(
            f'<sheetViews><sheetView{selected} workbookViewId="0">{pane if report else ""}</sheetView></sheetViews>'
        )
        head.append('<sheetFormatPr defaultRowHeight="15"/>')
        if report:
            head.append(self._report_parts(sheet, index, columns, tail))
        head.append("<sheetData>")
        tail.insert(0, "</sheetData>")
        tail.append(_MARGINS)
        if report:
            tail.append('<pageSetup fitToHeight="0" orientation="landscape"/>')
        tail.append("</worksheet>")
        # Written when the workbook closes, after the parts that say what the package holds.
        self._finished.append(
            (sheet, compress_piece("".join(head).encode("utf-8")), compress_piece("".join(tail).encode("utf-8")))
        )
        self._sheet = None

    def _report_parts(self, sheet: _Sheet, index: int, columns: int, tail: list[str]) -> str:
        """A report sheet's fitted columns (returned), its filter (added to `tail`) and defined names."""
        assert self._layout is not None
        self._settle()
        widths = self._layout.column_widths()
        self._widest = max(self._widest, columns)
        last = column_letters(max(len(self._header or []), 1))
        rows = max(sheet.rows, 1)
        tail.append(f'<autoFilter ref="A1:{last}{rows}"/>')
        quoted = xlsx_package.quoted_sheet(sheet.title)
        self._defined.append(("_xlnm._FilterDatabase", index - 1, f"{quoted}!$A$1:${last}${rows}", True))
        self._defined.append(("_xlnm.Print_Titles", index - 1, f"{quoted}!$1:$1", False))
        cols = "".join(
            f'<col min="{n}" max="{n}" width="{column_width(w)}" customWidth="1"/>' for n, w in enumerate(widths, 1)
        )
        return f"<cols>{cols}</cols>"

    def close(self) -> None:
        if not self.sheet_names:
            self.add_sheet("Sheet1")
        self._flush()
        self._finish_sheet()
        count = len(self.sheet_names)
        codes = list(self._layout.codes) if self._layout is not None else []
        codes += [None] * (self._widest - len(codes))
        app, core = xlsx_package.doc_props(dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self._zip.add("[Content_Types].xml", xlsx_package.content_types(count))
        self._zip.add("_rels/.rels", xlsx_package.root_relationships())
        self._zip.add("xl/workbook.xml", xlsx_package.workbook(self.sheet_names, self._defined))
        self._zip.add("xl/_rels/workbook.xml.rels", xlsx_package.workbook_relationships(count))
        self._zip.add("xl/styles.xml", xlsx_package.styles(FORMATS, FORMATS_MS, codes, HEADER_STYLE["bg_color"]))
        self._zip.add("docProps/app.xml", app)
        self._zip.add("docProps/core.xml", core)
        for index, (sheet, head, tail) in enumerate(self._finished, 1):
            member = f"xl/worksheets/sheet{index}.xml"
            self._zip.add_pieces(member, head, sheet.body, tail)
            sheet.body.spool.close()
            if self.record is not None and sheet.cuts:
                self.record.cuts[index - 1] = (member, [(len(head.data) + at, row) for at, row in sheet.cuts])
        self._zip.close()
        self._handle.close()
        output_record.finish(self._path, self.record)

    def __enter__(self) -> FragmentXlsxWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # already failing: the output is removed by atomic_path
            for sheet in [*(done for done, _head, _tail in self._finished), self._sheet]:
                if sheet is not None:
                    sheet.body.spool.close()
            self._handle.close()


_ROW = re.compile(rb"<row>(.*?)</row>", re.S)
_CELL = re.compile(rb"<c/>|<c[ >].*?</c>", re.S)
_EMPTY_CELL = b"<c/>"
_MARK = b"\x00"  # never in rendered XML (control characters are written as _xHHHH_)


def _restyled(xml: bytes, order: Sequence[int]) -> bytes:
    """Number cells of column `p` take the style of their new column `order[p]`.

    Column p's number cells open with exactly `<c s="NUMBER_STYLES + p"><v>`, and such bytes cannot occur
    inside a text (its `<` is written as `&lt;`), so whole-fragment replacements find only cell openings.
    The new style is marked while others are replaced, so that no cell is moved twice."""
    moved = [(p, t) for p, t in enumerate(order) if t >= 0 and t != p]
    for p, t in moved:
        xml = xml.replace(b'<c s="%d"><v>' % (NUMBER_STYLES + p), b'<c s="%s%d"><v>' % (_MARK, NUMBER_STYLES + t))
    return xml.replace(_MARK, b"") if moved else xml


def _lead_and_shift(order: Sequence[int]) -> tuple[int, int] | None:
    """(lead, shift) when the move keeps the first `lead` columns and shifts every later one right by
    `shift`, none dropped (a file whose columns all come after the others'); else None."""
    lead = next((p for p, t in enumerate(order) if t != p), len(order))
    if lead == len(order):
        return None
    shift = order[lead] - lead
    if shift <= 0 or any(t != p + shift for p, t in enumerate(order[lead:], lead)):
        return None
    return lead, shift


def _gapped(xml: bytes, order: Sequence[int], rows: int) -> tuple[bytes, int, int] | None:
    """The rows with `shift` empty cells put in after their first `lead` cells, by one replacement of
    bytes rather than row by row, with (lead, shift); None when the move is not that, or the rows do not
    all start with the first row's lead cells (the source columns, alike in a fragment). A row of lead
    cells only then ends in empty cells, which read back as nothing."""
    lead_shift = _lead_and_shift(order)
    first = _ROW.search(xml)
    if lead_shift is None or first is None:
        return None
    lead, shift = lead_shift
    cells = _CELL.findall(first.group(1))[:lead]
    if len(cells) < lead:
        return None
    head = b"<row>" + b"".join(cells)  # `<row>` only opens a row, and `head` ends where a cell does
    if xml.count(head) != rows:
        return None
    return xml.replace(head, head + _EMPTY_CELL * shift), lead, shift


def rearrange(fragment: Fragment, order: Sequence[int]) -> Fragment:
    """The fragment with its columns moved: column `i` goes to `order[i]` (-1: dropped, it holds nothing).

    For rows whose columns differ from the sheet's (combine's files with other columns): the one path
    where the XML is inflated; number cells keep their column's style. A file whose columns all come
    after the others' gets empty cells put in, by one replacement; any other move is made a row at a time."""
    xml = _restyled(inflate_piece(fragment.piece), order)
    width = max(order, default=-1) + 1
    gapped = _gapped(xml, order, fragment.rows)
    recorded = output_record.unpack(fragment.record)
    if gapped is not None:
        xml, lead, shift = gapped
        gap = [""] * shift
        record = [(n, v[:lead] + gap + v[lead:] if len(v) > lead else v) for n, v in recorded]
    else:
        xml, record = _moved_cells(xml, recorded, order, width)
    losses = {
        kind: [count, [[r, order[c]] for r, c in cells if c < len(order) and order[c] >= 0]]
        for kind, (count, cells) in fragment.losses.items()
    }
    return Fragment(compress_piece(xml), fragment.rows, width, output_record.pack(record), losses)


def _moved_cells(
    xml: bytes, recorded: list[output_record.Row], order: Sequence[int], width: int
) -> tuple[bytes, list[output_record.Row]]:
    """Every row's cells and recorded values picked into their new columns, trailing empty ones dropped."""
    # For each output column, the position it takes its cell from; -1 picks the empty cell put last.
    # Rows are padded with empty cells to past `order`'s end, so every position exists and the last is empty.
    source = [-1] * width
    span = len(order) + 1
    for position, target in enumerate(order):
        if target >= 0:
            source[target] = position
    pick = operator.itemgetter(*source) if width > 1 else (lambda cells: tuple(cells[i] for i in source))
    rows: list[bytes] = []
    for body in _ROW.findall(xml):
        cells = _CELL.findall(body)
        cells.extend([_EMPTY_CELL] * max(span - len(cells), 1))
        placed = pick(cells)
        end = len(placed)
        while end and placed[end - 1] == _EMPTY_CELL:
            end -= 1
        rows.append(b"<row>" + b"".join(placed[:end]) + b"</row>")
    record = []
    for number, values in recorded:
        moved = list(pick([*values, *([""] * max(span - len(values), 1))]))
        while moved and moved[-1] == "":
            moved.pop()
        if moved:
            record.append((number, moved))
    return b"".join(rows), record
