"""Values survive a conversion exactly: read, converted by the real convert task, read again, equal.

Inputs are written by hand (tests/exact_files.py), not by the project's writer, so a fault in the
writer (such as numbers written with 16 digits) shows as a difference here. Values that cannot be kept
come back changed in a known way, with a warning naming the cell.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.exact_files import raw_xlsx
from xlbatch.runner import run_batch
from xlbatch.workbook import WorkbookReader


def _read(path: Path, fmt: str = "xlsx") -> dict[str, list[list[Any]]]:
    with WorkbookReader(path, fmt) as book:
        return {name: [_trim(row) for row in book.rows(name)] for name in book.sheet_names}


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row = row[:-1]
    return row


def _strip_empty_rows(rows: list[list[Any]]) -> list[list[Any]]:
    while rows and not rows[-1]:
        rows = rows[:-1]
    return rows


def _typed(table: dict[str, list[list[Any]]]) -> dict[str, list[list[tuple[str, Any]]]]:
    """Values with their types, so that 1 == 1.0 == True do not pass for each other."""
    return {
        name: [[(type(v).__name__, v) for v in row] for row in _strip_empty_rows(rows)] for name, rows in table.items()
    }


def convert(source: Path, out: Path, **params: Any) -> tuple[Any, dict[str, list[list[Any]]] | None]:
    report = run_batch(task="convert", paths=[str(source)], out_dir=str(out), params=params, backend="sequential")
    outcome = report.files[0]
    if outcome.status != "ok":
        return outcome, None
    return outcome, _read(Path(outcome.outputs[0]))


# --- what the reader gives for each kind of cell, as hypothesis strategies -----------------------
def _whole_to_int(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


FLOATS = st.floats(allow_nan=False, allow_infinity=False).map(lambda f: 0 if f == 0 else _whole_to_int(f))
EXTREME_FLOATS = st.sampled_from(
    [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308, float(2**53 + 1),
     0.1 + 0.2, 1 / 3, -2.5e-7, 123456789.12345679, 1e16, 2.0**60]  # fmt: skip
).map(_whole_to_int)
INTS = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
XML_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff")
TEXT = st.text(XML_CHARACTERS, min_size=1, max_size=40)
TRICKY_TEXT = st.sampled_from(
    ["=SUM(A1:A2)", "_x0041_", "a\r\nb", "\r", "tab\there", "\x00\x01\x1f", "  spaced  ", "😀 emoji", "'quoted"]
)
DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31))
LEAP_BUG_DATES = st.sampled_from(
    [dt.date(1900, 1, 1), dt.date(1900, 2, 27), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(1900, 3, 2)]
)


def _to_ms(value: dt.datetime) -> dt.datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


DATETIMES = (
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59, 999000))
    .map(_to_ms)
    .filter(lambda d: d.time() != dt.time())  # a midnight datetime reads as a date
)
LEAP_BUG_DATETIMES = st.sampled_from(
    [dt.datetime(1900, 1, 1, 0, 0, 1), dt.datetime(1900, 2, 28, 12), dt.datetime(1900, 2, 28, 23, 59, 59, 999000),
     dt.datetime(1900, 3, 1, 0, 0, 0, 1000)]  # fmt: skip
)
TIMES = st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
DURATIONS = st.integers(min_value=-(10**12), max_value=10**12).map(lambda ms: dt.timedelta(milliseconds=ms))
CELLS = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    FLOATS,
    EXTREME_FLOATS,
    TEXT,
    TRICKY_TEXT,
    DATES,
    LEAP_BUG_DATES,
    DATETIMES,
    LEAP_BUG_DATETIMES,
    TIMES,
    DURATIONS.filter(lambda d: d != dt.timedelta(0)),  # a zero duration reads as the time 00:00
)
TABLES = st.lists(st.lists(CELLS, max_size=7), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets=st.lists(TABLES, min_size=1, max_size=2), date_1904=st.booleans())
def test_every_value_survives_convert(sheets: list[list[list[Any]]], date_1904: bool) -> None:
    if date_1904:  # the 1904 system has no serial for dates before 1904-01-02 (0 reads as a time)
        sheets = [[[_after_1904(v) for v in row] for row in rows] for rows in sheets]
    tables = {f"Sheet {i + 1}": rows for i, rows in enumerate(sheets)}
    with tempfile.TemporaryDirectory() as folder:
        source = raw_xlsx(Path(folder) / "in" / "book.xlsx", tables, date_1904=date_1904)
        before = _read(source)
        assert _typed(before) == _typed({n: [_trim(r) for r in rows] for n, rows in tables.items()})
        outcome, after = convert(source, Path(folder) / "out")
        assert outcome.status == "ok", outcome.error
        assert [w for w in outcome.warnings if "is empty" not in w] == []
        assert after is not None and _typed(after) == _typed(before)


def _after_1904(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value < dt.datetime(1904, 1, 2):
        return value.replace(year=1904, day=2)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value < dt.date(1904, 1, 2):
        return value.replace(year=1904, day=2)
    return value


EXTREMES: list[Any] = [
    5e-324,
    float(2**53 + 1),
    0.1 + 0.2,
    -0.0,
    1.7976931348623157e308,
    dt.date(1900, 1, 1),
    dt.date(1900, 2, 28),
    dt.date(1900, 3, 1),
    dt.datetime(1900, 2, 28, 12, 0),
    dt.time(0, 0),
    dt.timedelta(days=-1, hours=-3),
    dt.timedelta(hours=49, minutes=30),
    "x" * 32_767,
    "\x01\x02 control \x1f",
]


def test_extreme_values_come_back_equal(tmp_path: Path) -> None:
    source = raw_xlsx(tmp_path / "in" / "extremes.xlsx", {"Data": [[v] for v in EXTREMES]})
    before = _read(source)
    assert before["Data"][3] == [0] and before["Data"][0] == [5e-324]
    outcome, after = convert(source, tmp_path / "out")
    assert outcome.status == "ok" and outcome.warnings == []
    assert after is not None and _typed(after) == _typed(before)
    assert after["Data"][2] == [0.30000000000000004]  # 17 digits: 16 would read back 0.3
    assert after["Data"][5] == [dt.date(1900, 1, 1)]  # not the time 00:00
    assert after["Data"][8] == [dt.datetime(1900, 2, 28, 12, 0)]  # not 1900-02-29 12:00


def test_values_that_cannot_be_kept_are_named(tmp_path: Path) -> None:
    long_text = "y" * 40_000
    source = raw_xlsx(tmp_path / "in" / "lossy.xlsx", {"Sheet One": [["ok", long_text], [1.5, "fine"]]})
    outcome, after = convert(source, tmp_path / "out")
    assert outcome.status == "ok"
    assert after is not None and after["Sheet One"][0] == ["ok", "y" * 32_767]
    assert any("32,767" in w and "'Sheet One'!B1" in w for w in outcome.warnings), outcome.warnings


def test_csv_values_that_cannot_be_kept_are_named(tmp_path: Path) -> None:
    source = tmp_path / "in" / "lossy.csv"
    source.parent.mkdir(parents=True)
    source.write_text("a,b\n1850-03-04,2024-01-31 10:30:00.123456\n1851-01-01,2024-02-01 10:30:00\n", encoding="utf-8")
    outcome, after = convert(source, tmp_path / "out")
    assert outcome.status == "ok", outcome.error
    assert after is not None
    rows = after["lossy"]
    # Dates before 1900 are no Excel dates: the CSV reader keeps that column as the text it was.
    assert [row[0] for row in rows[1:]] == ["1850-03-04", "1851-01-01"]
    assert rows[1][1] == dt.datetime(2024, 1, 31, 10, 30, 0, 123000)
    text = " ".join(outcome.warnings)
    assert "millisecond" in text and "lossy!B2" in text


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_numbers_are_left_empty_with_a_warning(tmp_path: Path, value: float) -> None:
    from xlbatch import output_record
    from xlbatch.writing import XlsxTableWriter

    path = tmp_path / "t.xlsx"
    output_record.want(path)
    with XlsxTableWriter(path) as writer:
        writer.add_sheet("S")
        writer.write_row(["a", value])
    record = output_record.take(path)
    assert record is not None
    assert [rows for _kind, rows in record.chunks(0)] == [[(0, ["a"])]]
    assert _read(path)["S"] == [["a"]]
    assert any("not a number" in w and "S!B1" in w for w in writer.warnings)


def test_whole_numbers_beyond_a_double_are_named(tmp_path: Path) -> None:
    from xlbatch import output_record
    from xlbatch.writing import XlsxTableWriter

    path = tmp_path / "t.xlsx"
    output_record.want(path)
    with XlsxTableWriter(path) as writer:
        writer.add_sheet("S")
        writer.write_row([2**53 + 1, 2**60, -(2**53) + 1])
    output_record.take(path)
    assert _read(path)["S"] == [[float(2**53), float(2**60), -(2**53) + 1]]
    assert [w for w in writer.warnings if "more digits" in w and "S!A1" in w and "S!B1" not in w]


def test_error_values_in_xlsx_are_named(tmp_path: Path) -> None:
    from tests.exact_files import XlsxError

    rows = [["a", XlsxError("#N/A"), 1.5], [XlsxError("#DIV/0!"), "b"]]
    source = raw_xlsx(tmp_path / "in" / "errors.xlsx", {"My sheet": rows, "Clean": [["x"]]})
    outcome, after = convert(source, tmp_path / "out")
    assert outcome.status == "ok"
    assert after == {"My sheet": [["a", None, 1.5], [None, "b"]], "Clean": [["x"]]}
    assert outcome.warnings == [
        "Sheet 'My sheet': 2 cell(s) hold an error value (#DIV/0!, #N/A), which is not a value that can be kept; "
        "they read as empty: 'My sheet'!B1, 'My sheet'!A2."
    ]


def test_error_cells_are_found_across_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.exact_files import XlsxError
    from xlbatch import extent, sheet_findings

    monkeypatch.setattr(extent, "_CHUNK", 64)  # every cell straddles a chunk boundary somewhere
    monkeypatch.setattr(extent, "_PRECISE_CHUNK", 64)
    monkeypatch.setattr(sheet_findings, "OVERLAP", 200)
    rows = [[f"text {i}", XlsxError("#REF!") if i % 3 == 0 else i] for i in range(30)]
    source = raw_xlsx(tmp_path / "errors.xlsx", {"S": rows})
    (found,) = extent.measure(str(source), "xlsx")
    assert found.findings.errors == 10 and found.findings.error_kinds == ("#REF!",)
    assert found.findings.error_cells == tuple((i + 1, 2) for i in range(30) if i % 3 == 0)


# --- the other tasks that write values carry them just as exactly --------------------------------
TABLE_HEADER = ["Name", "Number", "When", "Flag", "Time", "Span"]
TABLE_ROWS: list[list[Any]] = [
    ["tiny", 5e-324, dt.date(1900, 1, 1), True, dt.time(0, 0, 0, 1000), dt.timedelta(days=-2, hours=5)],
    ["sum", 0.1 + 0.2, dt.datetime(1900, 2, 28, 12), False, dt.time(23, 59, 59, 999000), dt.timedelta(hours=49)],
    ["big", 1.7976931348623157e308, dt.date(1900, 3, 1), True, dt.time(12), dt.timedelta(milliseconds=1)],
    ["odd", float(2**53 + 1), dt.datetime(2024, 2, 29, 23, 59, 59, 999000), False, dt.time(1, 2), dt.timedelta(0, 1)],
]


def _run(task: str, source: Path, out: Path, params: dict[str, Any]) -> Any:
    report = run_batch(task=task, paths=[str(source)], out_dir=str(out), params=params, backend="sequential")
    assert [f.status for f in report.files] == ["ok"], report.files[0].error
    return report


@pytest.mark.parametrize(
    "task,params",
    [
        ("clean", {}),
        ("split", {"rows_per_file": 100}),
        ("split", {"by_column": "Name", "one_workbook": True}),
        ("combine", {"add_source": False}),
        ("combine", {"add_source": True}),
    ],
)
def test_clean_split_and_combine_keep_every_value(tmp_path: Path, task: str, params: dict[str, Any]) -> None:
    source = raw_xlsx(tmp_path / "in" / "table.xlsx", {"Data": [TABLE_HEADER, *TABLE_ROWS]})
    report = _run(task, source, tmp_path / "out", params)
    outputs = [Path(p) for p in (report.outputs or report.files[0].outputs)]
    rows: list[list[Any]] = []
    for output in outputs:
        for sheet_rows in _read(output).values():
            rows += [r for r in sheet_rows[1:] if r]  # below each header
    if params.get("add_source"):
        rows = [r[2:] for r in rows]
    typed_rows = sorted(_typed({"r": rows})["r"], key=repr)
    assert typed_rows == sorted(_typed({"r": [_trim(r) for r in TABLE_ROWS]})["r"], key=repr)


def test_extract_keeps_every_value(tmp_path: Path) -> None:
    source = raw_xlsx(tmp_path / "in" / "form.xlsx", {"Data": [TABLE_HEADER, *TABLE_ROWS]})
    fields = [f"F{r}{c}=Data!{chr(65 + c)}{r + 2}" for r in range(len(TABLE_ROWS)) for c in range(1, 6)]
    report = _run("extract", source, tmp_path / "out", {"fields": fields})
    (output,) = report.outputs
    extracted = _read(Path(output))["Extracted"][1][1:]
    expected = [TABLE_ROWS[r][c] for r in range(len(TABLE_ROWS)) for c in range(1, 6)]
    assert _typed({"r": [extracted]}) == _typed({"r": [expected]})


@pytest.mark.parametrize("constant_memory", [True, False])
def test_numbers_are_written_with_every_digit_they_need(tmp_path: Path, constant_memory: bool) -> None:
    import zipfile

    from xlbatch.writing import XlsxTableWriter

    values = [0.1 + 0.2, 5e-324, 1.7976931348623157e308, 1e16, -2.5e-7, 2**53 - 1, 1 / 3]
    path = tmp_path / "n.xlsx"
    with XlsxTableWriter(path, constant_memory=constant_memory) as writer:
        writer.write_row(values)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    for text in ("0.30000000000000004", "5E-324", "1.7976931348623157E+308", "1E+16", "-2.5E-07", "9007199254740991",
                 "0.3333333333333333"):  # fmt: skip
        assert f"<v>{text}</v>" in xml
    assert _read(path)["Sheet1"] == [values]
