"""Tests of CSV typing by whole columns (xlbatch.csv_types): notations, identifiers, dates, times, booleans, the
header, and the warnings that name a column kept as text. Expected values are written out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xlbatch import csv_types
from xlbatch.csv_rows import typed_rows
from xlbatch.csv_types import CsvTyping, infer_types
from xlbatch.file_notes import warnings_to
from xlbatch.workbook import open_workbook


def typed(rows: list[list[str]], delimiter: str = ",") -> tuple[list[list[Any]], CsvTyping]:
    """The rows typed as the reader types them, and the decisions."""
    typing = infer_types(rows, delimiter)
    return list(typed_rows(rows, typing)), typing


def column(rows: list[list[str]], delimiter: str = ",", index: int = 0) -> tuple[list[Any], tuple[str, ...]]:
    """One column's typed values below the header, and the file's warnings."""
    values, typing = typed(rows, delimiter)
    return [row[index] if index < len(row) else None for row in values[1:]], typing.warnings


def one_column(header: str, *values: str, delimiter: str = ",") -> tuple[list[Any], tuple[str, ...]]:
    """A column of `values` under `header` in column A, and a column of words beside it: the delimiter occurs."""
    return column([[header, "Note"], *([v, "word"] for v in values)], delimiter)


def kept_as_text(letter: str, header: str, problem: str) -> str:
    return f"Column {letter} '{header}' {problem}; its values were kept as text."


# -- numbers ---------------------------------------------------------------------------------------------


def test_german_export_reads_every_amount_and_date() -> None:
    rows = [
        ["Datum", "Betrag", "Menge"],
        ["01.03.2026", "1.234,50", "3"],
        ["02.03.2026", "99,95", "1.000"],
        ["15.03.2026", "-0,5", ""],
    ]
    values, typing = typed(rows, ";")
    assert values[1:] == [
        [dt.date(2026, 3, 1), 1234.5, 3],
        [dt.date(2026, 3, 2), 99.95, 1000],  # 1.000 fits both notations; Betrag settles the comma
        [dt.date(2026, 3, 15), -0.5, None],
    ]
    assert typing.header and typing.warnings == ()


def test_us_export_reads_quoted_thousands() -> None:
    rows = [["Date", "Amount", "Qty"], ["01/31/2026", "1,000.25", "1,234,567"], ["02/01/2026", "12.5", "7"]]
    values, typing = typed(rows)
    assert values[1:] == [[dt.date(2026, 1, 31), 1000.25, 1234567], [dt.date(2026, 2, 1), 12.5, 7]]
    assert typing.warnings == ()


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["1'234.50", "12.5", "1'000'000"], [1234.5, 12.5, 1000000]),  # Swiss
        (["1\u2019234.50", "3"], [1234.5, 3]),  # with a typographic apostrophe
        (["1 234,50", "1\u00a0234,50", "1\u202f000", "2,5"], [1234.5, 1234.5, 1000, 2.5]),  # French, Nordic
        (["1 234.50", "3.25"], [1234.5, 3.25]),
        (["1234.5", "-1.5e3", "+7", ".5", "1E-2"], [1234.5, -1500, 7, 0.5, 0.01]),
        (["12.0", "1e3", "-0", "-0.0"], [12, 1000, 0, 0]),  # whole numbers are int; Excel has no -0
        ([" 12 ", "\t3.5"], [12, 3.5]),  # blanks around a number
    ],
)
def test_notations(texts: list[str], expected: list[Any]) -> None:
    values, warnings = one_column("Amount", *texts, delimiter="\t")
    assert values == expected and warnings == ()
    assert [type(v) for v in values] == [type(v) for v in expected]


def test_whole_numbers_are_int_and_others_float_exactly() -> None:
    values, _ = one_column("x", "0.30000000000000004", "5e-324", "9007199254740991", "1e308", "123456789.125")
    assert values == [0.1 + 0.2, 5e-324, 2**53 - 1, 1e308, 123456789.125]
    assert [type(v) for v in values] == [float, float, int, float, float]


def test_a_column_mixing_notations_stays_text_with_a_warning() -> None:
    values, warnings = column([["Item", "Amount"], ["a", "1,234.50"], ["b", "1.234,50"]], index=1)
    assert values == ["1,234.50", "1.234,50"]
    assert warnings == (kept_as_text("B", "Amount", "mixes number notations (1,234.50 and 1.234,50)"),)


def test_point_and_comma_decimals_in_one_column_are_mixed() -> None:
    values, warnings = one_column("Price", "1.5", "2,5", delimiter="\t")
    assert values == ["1.5", "2,5"]
    assert warnings == (kept_as_text("A", "Price", "mixes number notations (1.5 and 2,5)"),)


@pytest.mark.parametrize(("delimiter", "expected"), [(";", [1234, 2345]), (",", [1.234, 2.345])])
def test_ambiguous_numbers_are_settled_by_the_delimiter(delimiter: str, expected: list[Any]) -> None:
    values, warnings = one_column("Weight", "1.234", "2.345", delimiter=delimiter)
    assert values == expected and warnings == ()


def test_ambiguous_numbers_with_nothing_to_settle_them_stay_text() -> None:
    values, warnings = one_column("Weight", "1.234", "2.345", "17", delimiter="\t")
    assert values == ["1.234", "2.345", "17"]
    assert warnings == (
        kept_as_text(
            "A",
            "Weight",
            "has numbers such as 1.234 that read differently with a decimal point and with a decimal comma, "
            "and nothing in the file settles which",
        ),
    )


def test_ambiguous_numbers_are_settled_by_the_other_columns() -> None:
    rows = [["Price", "Count"], ["12,5", "1.234"], ["3,75", "2.000"]]
    values, typing = typed(rows, "\t")
    assert values[1:] == [[12.5, 1234], [3.75, 2000]] and typing.warnings == ()
    rows = [["Price", "Count"], ["12.5", "1,234"], ["3.75", "2,000"]]
    values, typing = typed(rows, "\t")
    assert values[1:] == [[12.5, 1234], [3.75, 2000]] and typing.warnings == ()


def test_other_columns_disagreeing_leave_the_delimiter_to_decide() -> None:
    rows = [["A", "B", "C"], ["12,5", "12.5", "1.234"]]
    values, typing = typed(rows, ";")
    assert values[1] == [12.5, 12.5, 1234]  # B settles the point for itself, C takes the delimiter's comma
    assert typing.warnings == ()


def test_the_decision_takes_the_whole_column_not_the_first_rows() -> None:
    """A value far down the column (past several blocks) settles every value above it."""
    texts = ["1.234"] * (3 * csv_types.BLOCK_ROWS) + ["12,5"]
    values, warnings = one_column("Count", *texts, delimiter="\t")
    assert values[0] == 1234 and values[-2] == 1234 and values[-1] == 12.5 and warnings == ()
    texts = ["99,95"] * (2 * csv_types.BLOCK_ROWS) + ["1.234,50"]
    values, warnings = one_column("Betrag", *texts, delimiter=";")
    assert values[0] == 99.95 and values[-1] == 1234.5 and warnings == ()


def test_a_mix_far_down_the_column_keeps_all_of_it_text() -> None:
    texts = ["12.5"] * (2 * csv_types.BLOCK_ROWS) + ["12,5"]
    values, warnings = one_column("Amount", *texts, delimiter="\t")
    assert values[0] == "12.5" and values[-1] == "12,5"
    assert warnings == (kept_as_text("A", "Amount", "mixes number notations (12.5 and 12,5)"),)


# -- identifiers and numeric-looking text ----------------------------------------------------------------


def test_leading_zeros_keep_the_column_text_without_a_warning() -> None:
    values, warnings = one_column("PLZ", "01067", "10115", "80331")
    assert values == ["01067", "10115", "80331"] and warnings == ()
    # Even a column that also mixes notations: an identifier column is text, silently.
    values, warnings = one_column("Article", "1,5", "1.5", "00123", delimiter="\t")
    assert values == ["1,5", "1.5", "00123"] and warnings == ()


def test_zero_before_a_decimal_is_a_number() -> None:
    values, warnings = one_column("x", "0", "0.5", "-0.25", delimiter=",")
    assert values == [0, 0.5, -0.25] and warnings == ()


def test_whole_numbers_too_long_for_a_float_stay_text() -> None:
    huge = "9" * 5000  # int() refuses more than 4300 digits; the reader must not even try
    for long_number in ("9007199254740993", "12345678901234567890", huge, "9.007.199.254.740.993"):
        values, warnings = one_column("Account", "17", long_number, delimiter=";")
        assert values == ["17", long_number] and warnings == ()
    values, _ = one_column("Account", "9007199254740991", "-9007199254740991")
    assert values == [2**53 - 1, -(2**53 - 1)]


def test_numeric_looking_text_among_numbers_keeps_the_column_text() -> None:
    values, warnings = one_column("Rate", "12%", "15")
    assert values == ["12%", "15"]
    assert warnings == (
        kept_as_text("A", "Rate", "mixes numbers (15) with values that only look like numbers or dates (12%)"),
    )
    for text in ("€ 12,50", "$1,234.00", "(12)", "12-", "12.", "1e999"):
        values, warnings = one_column("Amount", "1", text)
        assert values == ["1", text] and len(warnings) == 1, text


def test_a_column_of_percentages_or_amounts_stays_text_silently() -> None:
    assert one_column("Rate", "12%", "7,5 %") == (["12%", "7,5 %"], ())
    assert one_column("Price", "€ 12,50", "€ 3") == (["€ 12,50", "€ 3"], ())


def test_words_and_blanks_among_numbers_stay_where_they_are() -> None:
    values, warnings = one_column("Amount", "12,5", "", "n/a", "-", "1.234,5", delimiter=";")
    assert values == [12.5, None, "n/a", "-", 1234.5] and warnings == ()


def test_a_column_of_blanks_and_ragged_rows() -> None:
    rows = [["a", "", "c"], ["1", ""], [], ["2", "", "", "x"]]
    values, typing = typed(rows)
    assert values == [["a", None, "c"], [1, None], [], [2, None, None, "x"]]
    assert typing.columns[1] == csv_types.TEXT_COLUMN


def test_values_spanning_lines_are_read_one_by_one() -> None:
    values, warnings = one_column("Note", "12", "line one\nline two", "13")
    assert values == [12, "line one\nline two", 13] and warnings == ()


# -- dates and times -------------------------------------------------------------------------------------


def test_iso_dates_and_date_times() -> None:
    values, warnings = one_column(
        "When", "2024-01-31", "2024-01-31 10:30", "2024-01-31 10:30:15", "2024-01-31T10:30:00", "2024-02-29 23:59:59.25"
    )
    assert values == [
        dt.date(2024, 1, 31),
        dt.datetime(2024, 1, 31, 10, 30),
        dt.datetime(2024, 1, 31, 10, 30, 15),
        dt.datetime(2024, 1, 31, 10, 30),
        dt.datetime(2024, 2, 29, 23, 59, 59, 250000),
    ]
    assert type(values[0]) is dt.date and warnings == ()


@pytest.mark.parametrize(
    ("texts", "delimiter", "expected"),
    [
        (["31.01.2026", "1.2.2026"], "\t", [dt.date(2026, 1, 31), dt.date(2026, 2, 1)]),  # dots: day-first
        (["31/01/2026", "01/02/2026"], "\t", [dt.date(2026, 1, 31), dt.date(2026, 2, 1)]),
        (["01/31/2026", "02/01/2026"], "\t", [dt.date(2026, 1, 31), dt.date(2026, 2, 1)]),
        (["13-01-2026", "02-01-2026"], "\t", [dt.date(2026, 1, 13), dt.date(2026, 1, 2)]),
        (["01/02/2026", "03/04/2026"], ";", [dt.date(2026, 2, 1), dt.date(2026, 4, 3)]),  # ';': day-first
        (
            ["31.01.2026 10:30", "01.02.2026 08:05:09"],
            "\t",
            [dt.datetime(2026, 1, 31, 10, 30), dt.datetime(2026, 2, 1, 8, 5, 9)],
        ),
        (["05/05/2026", "2026-01-31"], "\t", [dt.date(2026, 5, 5), dt.date(2026, 1, 31)]),  # reads alike both ways
    ],
)
def test_dates_in_each_order(texts: list[str], delimiter: str, expected: list[Any]) -> None:
    assert one_column("Date", *texts, delimiter=delimiter) == (expected, ())


def test_ambiguous_slash_dates_stay_text_with_a_warning() -> None:
    values, warnings = one_column("Date", "01/02/2026", "03/04/2026")
    assert values == ["01/02/2026", "03/04/2026"]
    assert warnings == (
        kept_as_text(
            "A",
            "Date",
            "has dates such as 01/02/2026 that could be day-first or month-first, "
            "and nothing in the file settles which",
        ),
    )


def test_ambiguous_dates_are_settled_by_another_column_or_a_decimal_comma() -> None:
    rows = [["Ordered", "Shipped"], ["13/01/2026", "01/02/2026"]]
    values, typing = typed(rows)
    assert values[1] == [dt.date(2026, 1, 13), dt.date(2026, 2, 1)] and typing.warnings == ()
    rows = [["Amount", "Shipped"], ["12,5", "01/02/2026"]]
    values, typing = typed(rows, "\t")
    assert values[1] == [12.5, dt.date(2026, 2, 1)] and typing.warnings == ()


def test_dates_in_both_orders_stay_text() -> None:
    values, warnings = one_column("Date", "13/01/2026", "01/13/2026")
    assert values == ["13/01/2026", "01/13/2026"]
    assert warnings == (kept_as_text("A", "Date", "mixes day-first and month-first dates (13/01/2026 and 01/13/2026)"),)


@pytest.mark.parametrize("invalid", ["2024-02-30", "31.04.2026", "32/01/2026", "1850-01-01", "2024-01-31 24:00"])
def test_an_invalid_date_makes_the_column_text(invalid: str) -> None:
    values, warnings = one_column("Date", "2024-01-31", invalid)
    assert values == ["2024-01-31", invalid]
    assert warnings == (
        kept_as_text("A", "Date", f"mixes dates (2024-01-31) with dates or times Excel cannot hold ({invalid})"),
    )


def test_local_timestamps_with_words_among_them() -> None:
    texts = ["31.01.2026 10:30:15", "n/a", "1.2.2026 9:05", "", "01.02.2026 23:59:59"]
    values, warnings = one_column("Zeit", *texts, delimiter=";")
    assert values == [
        dt.datetime(2026, 1, 31, 10, 30, 15),
        "n/a",
        dt.datetime(2026, 2, 1, 9, 5),
        None,
        dt.datetime(2026, 2, 1, 23, 59, 59),
    ]
    assert warnings == ()


def test_an_impossible_local_date_among_valid_ones_is_named() -> None:
    values, warnings = one_column("Datum", "01.03.2026", "31.02.2026", "n/a", delimiter=";")
    assert values == ["01.03.2026", "31.02.2026", "n/a"]
    assert warnings == (
        kept_as_text("A", "Datum", "mixes dates (01.03.2026) with dates or times Excel cannot hold (31.02.2026)"),
    )


def test_two_digit_years_stay_text() -> None:
    assert one_column("Date", "31.01.26", "01.02.26") == (["31.01.26", "01.02.26"], ())


def test_times() -> None:
    values, warnings = one_column("Start", "10:30", "9:05:15", "23:59:59.5", "")
    assert values == [dt.time(10, 30), dt.time(9, 5, 15), dt.time(23, 59, 59, 500000), None] and warnings == ()
    values, warnings = one_column("Start", "10:30", "25:00")
    assert values == ["10:30", "25:00"] and len(warnings) == 1


def test_numbers_and_dates_in_one_column_stay_text() -> None:
    values, warnings = one_column("Paid", "12", "2024-01-31")
    assert values == ["12", "2024-01-31"]
    assert warnings == (kept_as_text("A", "Paid", "mixes numbers and dates (12 and 2024-01-31)"),)


# -- booleans and the header -----------------------------------------------------------------------------


def test_booleans_only_in_a_column_of_nothing_else() -> None:
    assert one_column("Paid", "TRUE", "false", "", " True ") == ([True, False, None, True], ())
    assert one_column("Note", "TRUE", "maybe") == (["TRUE", "maybe"], ())
    assert one_column("n", "TRUE", "12") == (["TRUE", 12], ())


def test_header_detected_and_typed_only_where_it_fits() -> None:
    rows = [["Name", "2024", "Date"], ["a", "1,5", "01.03.2026"], ["b", "2", "02.03.2026"]]
    values, typing = typed(rows, ";")
    assert typing.header
    assert values[0] == ["Name", 2024, "Date"]  # a year above numbers is a number; the words stay text
    assert values[1:] == [["a", 1.5, dt.date(2026, 3, 1)], ["b", 2, dt.date(2026, 3, 2)]]


def test_a_first_row_of_data_takes_part_in_the_decision() -> None:
    rows = [["1.234,5"], ["1.234"], ["2.000"]]  # no header: the first row settles the comma
    values, typing = typed(rows, "\t")
    assert not typing.header and values == [[1234.5], [1234], [2000]]


def test_a_single_row_is_data() -> None:
    values, typing = typed([["Total", "7"]])
    assert values == [["Total", 7]] and not typing.header


def test_a_warning_without_a_header_names_the_column_by_letter() -> None:
    values, typing = typed([["x", "1,5"], ["y", "1.5"]], "\t")
    assert values == [["x", "1,5"], ["y", "1.5"]]
    assert typing.warnings == ("Column B mixes number notations (1,5 and 1.5); its values were kept as text.",)


def test_a_text_only_file_stays_text() -> None:
    rows = [["Name", "City"], ["Ann", "Paris"], ["Bo", ""]]
    values, typing = typed(rows)
    assert values == [["Name", "City"], ["Ann", "Paris"], ["Bo", None]] and typing.warnings == ()
    assert typed([], ",") == ([], CsvTyping((), False, ()))


# -- through the reader ----------------------------------------------------------------------------------


def test_reader_types_a_cp1252_german_file_and_reports_its_warnings(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    lines = ["Kunde;Betrag;Datum;Gemischt", "Müller;1.234,50;01.03.2026;1,5", "Zoë;99,95;31.03.2026;1.5"]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    heard: list[str] = []
    with warnings_to(heard.append), open_workbook(path) as book:
        rows = list(book.rows())
        assert book.csv_encoding == "cp1252" and book.csv_dialect == ";"
        list(book.raw_rows(1).rows)  # reading again decides nothing again: one warning
    assert rows == [
        ["Kunde", "Betrag", "Datum", "Gemischt"],
        ["Müller", 1234.5, dt.date(2026, 3, 1), "1,5"],
        ["Zoë", 99.95, dt.date(2026, 3, 31), "1.5"],
    ]
    assert heard == [kept_as_text("D", "Gemischt", "mixes number notations (1,5 and 1.5)")]


def test_reader_outside_a_task_keeps_warnings_on_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("Amount\n12%\n15\n", encoding="utf-8")
    with open_workbook(path) as book:
        assert list(book.rows()) == [["Amount"], ["12%"], ["15"]]
        assert len(book.csv_typing.warnings) == 1


def test_a_one_column_file_has_no_delimiter_to_settle_a_notation(tmp_path: Path) -> None:
    """No delimiter occurs in a file of one column: the comma the reader falls back to is no evidence."""
    path = tmp_path / "weights.csv"
    path.write_text("Gewicht\n1.234\n2.500\n", encoding="utf-8")
    with open_workbook(path) as book:
        assert list(book.rows()) == [["Gewicht"], ["1.234"], ["2.500"]]
        assert book.csv_typing.warnings[0].startswith("Column A 'Gewicht' has numbers such as 1.234")
    path.write_text("Amount\n1.5\n2.25\n", encoding="utf-8")
    with open_workbook(path) as book:
        assert list(book.rows()) == [["Amount"], [1.5], [2.25]]


def test_a_delimiter_the_sniffer_missed_is_evidence_where_it_splits_the_rows(tmp_path: Path) -> None:
    """Found by the round trip: the sniffer gives up on this file, yet its comma separates two columns."""
    path = tmp_path / "tiny.csv"
    path.write_bytes(b'c0,c1\r\n,"1,000"\r\n')
    with open_workbook(path) as book:
        assert list(book.rows()) == [["c0", "c1"], [None, 1000]]
