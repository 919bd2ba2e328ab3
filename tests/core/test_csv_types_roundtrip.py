"""Property test of CSV typing: typed columns rendered as a CSV export of one convention (US, German, ISO,
Swiss, day-first with no-break spaces) read back through the reader as exactly the same values and types.

The rendering here is written independently of xlbatch.csv_types: Python's repr() for floats (the shortest text
that reads back as the same float), thousands grouped by hand, dates by strftime-like formatting, csv.writer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlbatch.workbook import normalise, open_workbook


@dataclass(frozen=True)
class Convention:
    name: str
    delimiter: str
    decimal: str
    thousands: str  # "" renders no grouping
    encoding: str
    date_order: str  # "iso", "mdy", "dmy."(dots) or "dmy/"

    def date(self, day: dt.date) -> str:
        if self.date_order == "iso":
            return day.isoformat()
        if self.date_order == "mdy":
            return f"{day.month:02}/{day.day:02}/{day.year}"
        separator = self.date_order[-1]
        return f"{day.day:02}{separator}{day.month:02}{separator}{day.year}"

    def datetime(self, moment: dt.datetime) -> str:
        if self.date_order == "iso":
            return moment.isoformat(sep=" ")  # with .ffffff when it has microseconds
        return f"{self.date(moment.date())} {moment:%H:%M:%S}"

    def number(self, value: int | float, grouped: bool) -> str:
        text = str(value) if isinstance(value, int) else repr(value)
        if "e" in text:  # exponent form: only the decimal separator changes
            return text.replace(".", self.decimal)
        sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
        whole, _, fraction = text.partition(".")
        if grouped and self.thousands:
            groups = []
            while len(whole) > 3:
                whole, group = whole[:-3], whole[-3:]
                groups.insert(0, group)
            whole = self.thousands.join([whole, *groups])
        return sign + whole + (self.decimal + fraction if fraction else "")


CONVENTIONS = [
    Convention("us", ",", ".", ",", "utf-8-sig", "mdy"),
    Convention("german", ";", ",", ".", "cp1252", "dmy."),
    Convention("iso", ",", ".", "", "utf-8", "iso"),
    Convention("swiss", ",", ".", "'", "utf-8-sig", "iso"),
    Convention("dayfirst", ";", ",", "\u00a0", "cp1252", "dmy/"),
]

FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1 + 0.2, 5e-324, float(2**53 - 1), -0.0, 0.0, 1e16, 123456.789, 1.234]),
)
INTS = st.integers(-(2**53 - 1), 2**53 - 1)
DATES = st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31))
WORDS = st.text(string.ascii_letters + " ", min_size=1, max_size=8).filter(
    lambda s: s.strip() != "" and s.strip().lower() not in ("true", "false")
)
# Columns that must stay text: identifiers with leading zeros, whole numbers too long for a float, words.
CODES = st.from_regex(r"0[0-9]{1,12}", fullmatch=True)
LONG_NUMBERS = st.integers(2**53, 10**40).map(str)
TYPED = ("int", "float", "date", "datetime", "time")


def typed_column(convention: Convention, rows: int) -> st.SearchStrategy[tuple[list[str], list[Any]]]:
    """A column's rendered texts and the values they must read back as; blanks are "" and None."""

    def datetimes(micro: bool) -> st.SearchStrategy[dt.datetime]:
        moments = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59))
        return moments if micro else moments.map(lambda m: m.replace(microsecond=0))

    iso = convention.date_order == "iso"
    kinds = {
        "int": INTS.flatmap(lambda v: st.booleans().map(lambda g: (convention.number(v, g), normalise(v)))),
        "float": FLOATS.flatmap(lambda v: st.booleans().map(lambda g: (convention.number(v, g), normalise(v)))),
        "date": DATES.map(lambda d: (convention.date(d), d)),
        "datetime": datetimes(iso).map(lambda m: (convention.datetime(m), m)),
        "time": st.times().map(lambda t: (t.isoformat(), t)),
        "bool": st.booleans().map(lambda b: ("TRUE" if b else "FALSE", b)),
        "code": CODES.map(lambda c: (c, c)),
        "long": LONG_NUMBERS.map(lambda c: (c, c)),
        "word": WORDS.map(lambda w: (w, w)),
    }

    def build(kind: str, islands: bool) -> st.SearchStrategy[tuple[list[str], list[Any]]]:
        cell = st.one_of(st.just(("", None)), kinds[kind])
        if islands and kind in TYPED:  # words among the values stay text where they are
            cell = st.one_of(cell, st.sampled_from(["n/a", "-", "unknown"]).map(lambda w: (w, w)))
        column = st.lists(cell, min_size=rows, max_size=rows)
        if convention.date_order == "mdy" and kind in ("date", "datetime"):
            # A US column whose every date has day and month up to 12 cannot be told from a UK one: one date
            # past the 12th, as any month of real data has, settles it.
            column = column.map(lambda cells: _with_a_late_day(convention, kind, cells))
        return column.map(lambda cells: ([t for t, _ in cells], [v for _, v in cells]))

    return st.tuples(st.sampled_from(sorted(kinds)), st.booleans()).flatmap(lambda choice: build(*choice))


def _with_a_late_day(convention: Convention, kind: str, cells: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    value = dt.datetime(2026, 1, 31, 10, 30) if kind == "datetime" else dt.date(2026, 1, 31)
    text = convention.datetime(value) if kind == "datetime" else convention.date(value)
    return [(text, value), *cells[1:]]


@st.composite
def tables(draw: st.DrawFn) -> tuple[Convention, list[list[str]], list[list[Any]]]:
    convention = draw(st.sampled_from(CONVENTIONS))
    rows = draw(st.integers(1, 12))
    # Two columns at least: a file of one column has no delimiter in it to sniff.
    columns = draw(st.lists(typed_column(convention, rows), min_size=2, max_size=5))
    header = [f"c{i}" for i in range(len(columns))]
    texts = [header] + [[texts[r] for texts, _ in columns] for r in range(rows)]
    values = [header] + [[values[r] for _, values in columns] for r in range(rows)]
    return convention, texts, values


def render(convention: Convention, texts: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=convention.delimiter, lineterminator="\r\n").writerows(texts)
    return buffer.getvalue().encode(convention.encoding)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_typed_columns_read_back_as_the_same_values_and_types(
    table: tuple[Convention, list[list[str]], list[list[Any]]],
) -> None:
    convention, texts, expected = table
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(render(convention, texts))
        with open_workbook(path) as book:
            assert book.csv_dialect == convention.delimiter
            rows = list(book.rows())
            warnings = book.csv_typing.warnings
    assert rows == expected, convention.name
    assert [[type(v) for v in row] for row in rows] == [[type(v) for v in row] for row in expected]
    assert warnings == ()
