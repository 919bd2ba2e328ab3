"""Legacy .xls read exactly: formula results, dates in both date systems, code pages, UTF-16 text.

Test files are made here: by LibreOffice (formulas with their saved results, as Excel saves them), by
xlwt (the 1904 date system, a CODEPAGE record that BIFF8 text must ignore) and by hand (BIFF5, whose text
is in a code page). Each is read, converted by the real convert task and read again.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.exact_files import biff5_xls, libreoffice_xls, soffice, with_stray_string, xls_with_codepage
from xlbatch.file_notes import warnings_to
from xlbatch.runner import run_batch
from xlbatch.workbook import WorkbookReader
from xlbatch.xls_reader import serial_to_python

REPO = Path(__file__).resolve().parents[2]


def realworld() -> Path | None:
    for candidate in (REPO.parent / "shared" / "realworld", Path("/work/shared/realworld")):
        if (candidate / "calamine").is_dir():
            return candidate / "calamine"
    return None


def read(path: Path, warnings: list[str] | None = None) -> dict[str, list[list[Any]]]:
    heard = warnings if warnings is not None else []
    with warnings_to(heard.append), WorkbookReader(path, "xls" if path.suffix == ".xls" else "xlsx") as book:
        return {name: [_trim(r) for r in book.rows(name)] for name in book.sheet_names}


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] is None:
        row = row[:-1]
    return row


def typed(table: dict[str, list[list[Any]]]) -> dict[str, list[list[tuple[str, Any]]]]:
    return {n: [[(type(v).__name__, v) for v in r] for r in rows if r] for n, rows in table.items()}


def round_trip(source: Path, out: Path) -> tuple[Any, dict[str, list[list[Any]]]]:
    """Convert `source` with the real task (output check on) and read the result."""
    report = run_batch(task="convert", paths=[str(source)], out_dir=str(out), backend="sequential")
    outcome = report.files[0]
    assert outcome.status == "ok", outcome.error
    return outcome, read(Path(outcome.outputs[0]))


# --- LibreOffice: formulas with saved results ------------------------------------------------------
FORMULA_ROWS: list[list[Any]] = [
    ["POI rocks!", "=A1", '="POI "&"rocks!"'],  # text results
    [42.5, "=A2*2", "=A2/3"],  # number results
    [True, "=1=1", "=A3"],  # boolean results
    ["x", "=1/0", "=NA()"],  # error results
    [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1)],
    [dt.time(13, 45, 30), dt.datetime(2007, 1, 18, 9, 30), "=B5+1"],  # 1900-02-28 + 1: Excel's 1900-02-29
    ["Привет, мир", "日本語のテキスト", "Ελληνικά ✓ € ’ •"],  # UTF-16 text
    ["=A7", "=LEN(B7)", '=""'],
]
FORMATS = {"A5": "yyyy-mm-dd", "B5": "yyyy-mm-dd", "C5": "yyyy-mm-dd", "A6": "hh:mm:ss",
           "B6": "yyyy-mm-dd hh:mm", "C6": "yyyy-mm-dd"}  # fmt: skip
EXPECTED: list[list[Any]] = [
    ["POI rocks!", "POI rocks!", "POI rocks!"],
    [42.5, 85, 14.166666666666666],
    [True, True, True],
    ["x"],  # the two errors read as empty, with a warning
    [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1)],
    [dt.time(13, 45, 30), dt.datetime(2007, 1, 18, 9, 30), 60],  # kept as its number, with a warning
    ["Привет, мир", "日本語のテキスト", "Ελληνικά ✓ € ’ •"],
    ["Привет, мир", 8],
]


@pytest.fixture(scope="module")
def libreoffice_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed; it makes the .xls files with formula results")
    import openpyxl

    folder = tmp_path_factory.mktemp("lo")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for row in FORMULA_ROWS:
        sheet.append(row)
    for ref, code in FORMATS.items():
        sheet[ref].number_format = code
    book.save(folder / "formulas.xlsx")
    return libreoffice_xls([folder / "formulas.xlsx"], folder / "xls")[0]


def test_formula_results_and_dates_read_exactly(libreoffice_book: Path) -> None:
    warnings: list[str] = []
    assert typed(read(libreoffice_book, warnings)) == typed({"Data": EXPECTED})
    assert len(warnings) == 2
    assert "#DIV/0!" in warnings[0] and "#N/A" in warnings[0] and "Data!B4, Data!C4." in warnings[0]
    assert "1900-02-29" in warnings[1] and "Data!C6." in warnings[1]


def test_formula_results_survive_convert(libreoffice_book: Path, tmp_path: Path) -> None:
    source = tmp_path / "in" / libreoffice_book.name
    source.parent.mkdir()
    shutil.copy(libreoffice_book, source)
    outcome, after = round_trip(source, tmp_path / "out")
    assert typed(after) == typed({"Data": EXPECTED})
    assert any("Data!B4, Data!C4" in w for w in outcome.warnings), outcome.warnings


def test_a_stray_string_record_does_not_replace_a_number(libreoffice_book: Path, tmp_path: Path) -> None:
    """A STRING record belongs to the formula before it only when that formula's result is text (B2 = A2*2
    is a number); python-calamine takes it anyway, so the text replaces the number."""
    import python_calamine

    source = with_stray_string(libreoffice_book, tmp_path / "in" / "stray.xls", 1, 1, "oops")
    assert read(source)["Data"][1] == [42.5, 85, 14.166666666666666]
    rows = python_calamine.CalamineWorkbook.from_path(str(source)).get_sheet_by_name("Data").to_python()
    assert rows[1][1] == "oops"  # why .xls is read with xlrd; if this fails, calamine was fixed
    _outcome, after = round_trip(source, tmp_path / "out")
    assert after["Data"][1] == [42.5, 85, 14.166666666666666]


# --- xlwt: the 1904 system, serial 60, a CODEPAGE record ------------------------------------------
def _xlwt_book(path: Path, cells: list[tuple[int, int, Any, str]], date_1904: bool = False) -> Path:
    import xlwt

    book = xlwt.Workbook()
    book.dates_1904 = date_1904
    sheet = book.add_sheet("Data")
    for r, c, value, code in cells:
        sheet.write(r, c, value, xlwt.easyxf(num_format_str=code))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path


def test_the_1904_date_system(tmp_path: Path) -> None:
    source = _xlwt_book(
        tmp_path / "in" / "mac.xls",
        [(0, 0, 0.0, "yyyy-mm-dd"), (0, 1, 0.25, "yyyy-mm-dd hh:mm"), (0, 2, 0.25, "hh:mm"),
         (1, 0, 35000.5, "yyyy-mm-dd hh:mm"), (1, 1, 1.0, "yyyy-mm-dd"), (1, 2, 1.5, "[h]:mm")],
        date_1904=True,
    )  # fmt: skip
    expected = {
        "Data": [
            [dt.date(1904, 1, 1), dt.datetime(1904, 1, 1, 6), dt.time(6)],
            [dt.datetime(1999, 10, 29, 12), dt.date(1904, 1, 2), dt.timedelta(hours=36)],
        ]
    }
    assert typed(read(source)) == typed(expected)
    _outcome, after = round_trip(source, tmp_path / "out")
    assert typed(after) == typed(expected)


def test_excels_1900_02_29_stays_its_number_with_a_warning(tmp_path: Path) -> None:
    source = _xlwt_book(
        tmp_path / "in" / "leap.xls",
        [(0, 0, 59.0, "yyyy-mm-dd"), (0, 1, 60.0, "yyyy-mm-dd"), (0, 2, 61.0, "yyyy-mm-dd"),
         (1, 0, 60.5, "d/m/y h:mm")],
    )
    warnings: list[str] = []
    assert read(source, warnings)["Data"] == [[dt.date(1900, 2, 28), 60, dt.date(1900, 3, 1)], [60.5]]
    assert any("1900-02-29" in w and "Data!B1, Data!A2" in w for w in warnings), warnings


@pytest.mark.parametrize("codepage", [1252, 1251, 932])
def test_biff8_text_is_utf16_whatever_the_codepage_record_says(tmp_path: Path, codepage: int) -> None:
    rows = [["Titel", "Regissör", "År"], ["Привет", "日本", "€ ’ •"]]
    source = xls_with_codepage(tmp_path / "in" / "cp.xls", rows, codepage)
    assert read(source) == {"Data": rows}
    _outcome, after = round_trip(source, tmp_path / "out")
    assert after == {"Data": rows}


def test_calamine_misreads_biff8_text_under_a_codepage_record(tmp_path: Path) -> None:
    """Why .xls is not read with python-calamine: if this starts failing, calamine was fixed."""
    import python_calamine

    source = xls_with_codepage(tmp_path / "cp.xls", [["Titel"]], 1252)
    rows = python_calamine.CalamineWorkbook.from_path(str(source)).get_sheet_by_name("Data").to_python()
    assert rows == [["T\x00i\x00t\x00e\x00l\x00"]]


@pytest.mark.parametrize(
    "codepage,text",
    [(1252, "Müller’s café – 5 € • naïve"), (1251, "Привет, мир — «ёлка»"), (1253, "Ελληνικά")],
)
def test_biff5_text_in_its_code_page(tmp_path: Path, codepage: int, text: str) -> None:
    source = biff5_xls(tmp_path / "in" / "old.xls", "Blatt1", [(0, 0, text), (1, 0, 3.25), (1, 1, "x")], codepage)
    assert read(source) == {"Blatt1": [[text], [3.25, "x"]]}
    _outcome, after = round_trip(source, tmp_path / "out")
    assert after == {"Blatt1": [[text], [3.25, "x"]]}


def test_a_file_xlrd_refuses_is_read_by_calamine_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = _xlwt_book(tmp_path / "a.xls", [(0, 0, "kept", "General")])

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("xlrd does not like this file")

    monkeypatch.setattr("xlbatch.xls_reader.XlsBook.__init__", refuse)
    warnings: list[str] = []
    assert read(source, warnings) == {"Data": [["kept"]]}
    assert len(warnings) == 1 and "read with python-calamine instead" in warnings[0]


def test_serials_to_python() -> None:
    assert serial_to_python(0.0, False, True) == (dt.time(0), False)
    assert serial_to_python(0.5, False, True) == (dt.time(12), False)
    assert serial_to_python(1.0, False, True) == (dt.date(1900, 1, 1), False)
    assert serial_to_python(59.5, False, True) == (dt.datetime(1900, 2, 28, 12), False)
    assert serial_to_python(60.0, False, True) == (60.0, True)
    assert serial_to_python(61.0, False, True) == (dt.date(1900, 3, 1), False)
    assert serial_to_python(0.0, True, True) == (dt.date(1904, 1, 1), False)
    assert serial_to_python(0.0, True, False) == (dt.time(0), False)
    assert serial_to_python(-1.0, False, True) == (-1.0, False)
    assert serial_to_python(2958465.5, False, True) == (dt.datetime(9999, 12, 31, 12), False)
    assert serial_to_python(2958466.0, False, True) == (2958466.0, False)
    assert serial_to_python(45000 + 0.4 / 86_400_000, False, True) == (dt.date(2023, 3, 15), False)
    assert serial_to_python(45000 + 123 / 86_400_000, False, True) == (dt.datetime(2023, 3, 15, 0, 0, 0, 123000), False)


def _cells(rows: Any) -> dict[tuple[int, int], Any]:
    return {(r, c): v for r, row in enumerate(rows) for c, v in enumerate(row) if v is not None}


# --- real-world files: python-calamine is the oracle, except where it is known to be wrong -----------
KNOWN_CALAMINE_FAULTS = {
    # BIFF8 text decoded with the CODEPAGE record (1252): every text cell gains NUL characters
    "sheet_name_parsing.xls": {("Sheet1", (0, c)) for c in range(7)},
    # UTF-16 text outside Latin-1 in a file without a CODEPAGE record comes back as cp1252 bytes
    "biff5-rich-text-string.xls": {("Sheet1", (2, 7))},
}


def test_real_world_xls_agree_with_calamine_except_its_known_faults() -> None:
    folder = realworld()
    if folder is None:
        pytest.skip("the real-world workbooks (../shared/realworld) are not here")
    import python_calamine
    import xlrd

    from xlbatch.workbook import normalise

    checked = 0
    for path in sorted(folder.glob("*.xls")):
        try:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            theirs = {
                name: {
                    (r, c): normalise(v)
                    for r, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
                    for c, v in enumerate(row)
                    if normalise(v) is not None
                }
                for name in book.sheet_names
            }
        except BaseException:  # noqa: BLE001 - files calamine cannot read are not compared
            continue
        try:
            with WorkbookReader(path, "xls") as ours_book:
                ours = {name: _cells(ours_book.rows(name)) for name in ours_book.sheet_names}
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"{path.name}: calamine reads it, we do not: {exc!r}")
        differences = {
            (name, key)
            for name in ours
            for key in set(ours[name]) | set(theirs.get(name, {}))
            if (a := ours[name].get(key)) != (b := theirs.get(name, {}).get(key)) or type(a) is not type(b)
        }
        assert differences == KNOWN_CALAMINE_FAULTS.get(path.name, set()), path.name
        if differences:  # where calamine is wrong, xlrd's own reading is what we give
            reference = xlrd.open_workbook(str(path))
            for name, (r, c) in differences:
                assert ours[name][(r, c)] == reference.sheet_by_name(name).cell_value(r, c)
        checked += 1
    assert checked >= 30
