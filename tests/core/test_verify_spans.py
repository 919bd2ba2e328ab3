"""The output check of a big sheet in spans on several threads (xlbatch.verify_spans).

A span check may only ever prove an output right: every row read back in spans must be the row recorded,
and when a span differs or the member is not cut where the record says, the sheet is read whole, which
names the cell. The spans here are made small (MIN_SPAN_BYTES) so that a few fragments are cut.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

import xlbatch.fragment_writer
import xlbatch.verify
import xlbatch.verify_spans
from tests.core.test_fragment_writer import _changed, read_back
from xlbatch import output_record
from xlbatch.fragment_writer import Fragment, FragmentXlsxWriter, make_fragment
from xlbatch.output_record import OutputRecord
from xlbatch.report_layout import AUTO, TEXT
from xlbatch.sheet_xml import RowRenderer
from xlbatch.verify import first_difference
from xlbatch.verify_spans import same_in_spans, spans

HEADER = ["Source file", "Name", "Amount", "Day"]


@pytest.fixture(autouse=True)
def small_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlbatch.verify_spans, "MIN_SPAN_BYTES", 64)


def _rows(first: int, count: int) -> list[list[Any]]:
    return [[f"name {n}", n * 1.25, None if n % 7 else "note", n % 3 == 0] for n in range(first, first + count)]


def _fragment(renderer: RowRenderer, first: int, count: int = 40) -> Fragment:
    fragment = make_fragment(renderer, _rows(first, count))
    assert fragment is not None
    return fragment


def _write(path: Path, pieces: list[Any]) -> OutputRecord:
    """A combined sheet of fragments (Fragment) and of rows the writer renders itself (lists of rows)."""
    output_record.want(path)
    renderer = RowRenderer(number_styles=True, lead=["a.xlsx"])
    with FragmentXlsxWriter(path) as writer:
        writer.add_sheet("Combined", HEADER, [TEXT, TEXT, AUTO, AUTO])
        for piece in pieces:
            if isinstance(piece, int):
                writer.write_fragment(_fragment(renderer, piece))
            elif isinstance(piece, Fragment):
                writer.write_fragment(piece)
            else:
                writer.write_rows([["a.xlsx", *row] for row in piece])
    record = output_record.take(path)
    assert record is not None
    return record


def test_spans_cut_at_fragments_near_equal_shares() -> None:
    cuts = [(100 * k, 40 * k) for k in range(1, 10)]  # a fragment every 100 compressed bytes, 40 rows
    assert spans(cuts, 100, 2) == [(0, 100, 0)]  # too small to be worth a second span
    plan = spans(cuts, 1000, 2)  # 3 spans a thread, at the fragments nearest to each sixth of the bytes
    assert plan == [(0, 200, 0), (200, 400, 80), (400, 500, 160), (500, 700, 200), (700, 900, 280), (900, 1000, 360)]
    assert plan[0][0] == 0 and plan[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(plan, plan[1:], strict=False))  # no byte left out or read twice
    assert [row for _s, _e, row in plan] == sorted({row for _s, _e, row in plan})


def test_a_sheet_read_in_spans_on_two_threads_is_shown_the_same(monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "combined.xlsx"
    record = _write(path, [1, 41, 81, 121, 161, 201])
    member, cuts = record.cuts[0]
    assert member == "xl/worksheets/sheet1.xml" and [row for _at, row in cuts] == [1, 41, 81, 121, 161, 201]
    plan = spans(cuts, zipfile.ZipFile(path).getinfo(member).compress_size, 2)
    assert len(plan) > 2
    assert same_in_spans(path, record, 0, 2)
    whole: list[str] = []
    monkeypatch.setattr(xlbatch.verify, "non_empty", lambda *a: whole.append("read whole") or iter(()))
    assert first_difference(path, record, threads=2) is None  # shown by the spans: never read whole
    assert first_difference(path, record, threads=1) is not None and whole == ["read whole"]


def test_numbered_rows_between_fragments_are_read_where_they_lie(tmp_path: Path) -> None:
    """Rows the parent renders itself carry row numbers; a span holding them is read at its place."""
    path = tmp_path / "combined.xlsx"
    gap = [["wide", *([None] * 40), 1.0]]  # the writer renders these with references
    record = _write(path, [1, _rows(41, 30), 71, gap, 111, _rows(112, 5), 117])
    assert same_in_spans(path, record, 0, 2)
    assert first_difference(path, record, threads=2) is None
    assert read_back(path)["Combined"][71][0] == ("str", "a.xlsx")


def test_a_changed_value_in_a_later_span_is_named_by_reading_the_sheet_whole(tmp_path: Path) -> None:
    path = tmp_path / "combined.xlsx"
    renderer = RowRenderer(number_styles=True, lead=["a.xlsx"])
    tampered = _changed(_fragment(renderer, 161), b"<v>213.75</v>", b"<v>213.5</v>")  # row 171's amount
    record = _write(path, [1, 41, 81, 121, tampered, 201])
    assert not same_in_spans(path, record, 0, 2)
    assert first_difference(path, record, threads=2) == "Combined!C172: written 213.75, read back 213.5"


def test_cuts_that_are_not_where_fragments_start_prove_nothing(tmp_path: Path) -> None:
    path = tmp_path / "combined.xlsx"
    record = _write(path, [1, 41, 81, 121, 161, 201])
    member, cuts = record.cuts[0]
    record.cuts[0] = (member, [(at + 3, row) for at, row in cuts])
    assert not same_in_spans(path, record, 0, 2)
    assert first_difference(path, record, threads=2) is None  # the sheet read whole is right
    record.cuts[0] = (member, [(at, row + 1) for at, row in cuts])  # rows misplaced by one
    assert not same_in_spans(path, record, 0, 2)


def test_each_sheet_of_a_continued_table_is_read_in_spans(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(xlbatch.fragment_writer, "EXCEL_MAX_ROWS", 101)  # a header and 100 rows per sheet
    path = tmp_path / "combined.xlsx"
    record = _write(path, [1, 41, 81, 121, 161, 201, 241])  # 280 rows: 100, 100 and 80
    assert record.sheets == ["Combined", "Combined (cont.)", "Combined (cont.) (cont.)"]
    assert [record.cuts[k][0] for k in record.cuts] == [f"xl/worksheets/sheet{n}.xml" for n in (1, 2, 3)]
    assert all(same_in_spans(path, record, k, 2) for k in (0, 1, 2))
    assert first_difference(path, record, threads=2) is None
