"""Tests of the `combine` task: process() per file, then reduce(), with the combined table read back by
openpyxl (or the csv module) and compared with rows the tests assemble themselves from their inputs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import pickle

import pytest

import xlbatch.fragment_writer
from tests.core.task_kit import (
    as_datetime,
    files_under,
    read_xlsx,
    run_task,
    write_csv_lines,
    write_xls,
    write_xlsx_openpyxl,
)
from xlbatch.fragment_writer import Fragment
from xlbatch.output_record import unpack
from xlbatch.params import InvalidParams
from xlbatch.tasks import get_task
from xlbatch.tasks.combine import PARTS_FOLDER, Combine, read_part

SOURCE = ["Source file", "Source sheet"]


def table(header, records):
    """Rows of a sheet: the header, then each record's values in header order."""
    return [header] + [[record.get(h) for h in header] for record in records]


A_RECORDS = [
    {"Name": "Ann", "Amount": 10, "Date": dt.date(2024, 1, 1)},
    {"Name": "=cmd", "Amount": 2.5, "Date": dt.datetime(2024, 1, 2, 9, 0)},
]
B_RECORDS = [{"amount": 5, "Name": "Bob", "Region": "East"}, {"amount": 7, "Name": "Cy", "Region": "West"}]
C_LINES = ["Name,Date", "Dee,2024-03-01", "Eve,"]
C_RECORDS = [{"Name": "Dee", "Date": dt.date(2024, 3, 1)}, {"Name": "Eve"}]


@pytest.fixture
def mixed(tmp_path, frozen_inputs):
    """Three files whose columns differ: order, case, one extra (Region), one missing (Amount)."""
    src = tmp_path / "in"
    src.mkdir()
    a_rows = table(["Name", "Amount", "Date"], A_RECORDS)
    a_rows.insert(2, [None, None, None])  # a blank row inside the data
    a = write_xlsx_openpyxl(src / "a.xlsx", {"Data": a_rows})
    b = write_xls(src / "b.xls", {"Data": table(["amount", "Name", "Region"], B_RECORDS)})
    c = write_csv_lines(src / "c.csv", C_LINES)
    frozen_inputs.append(src)
    return [a, b, c]


def expected_by_name(union, files):
    """The combined rows computed from the inputs: each record's value under its (case-insensitive) column."""
    rows = []
    for name, sheet, records in files:
        for record in records:
            lowered = {k.lower(): v for k, v in record.items()}
            rows.append([name, sheet] + [lowered.get(col.lower()) for col in union])
    return rows


def normalised(rows):
    """Rows as `read_xlsx` gives them: dates as datetimes, trailing empty cells dropped."""
    result = []
    for row in rows:
        values = [as_datetime(v) for v in row]
        while values and values[-1] is None:
            values.pop()
        result.append(values)
    return result


def test_union_by_name_with_sources_read_back_by_openpyxl(mixed, tmp_path):
    out = tmp_path / "out"
    run = run_task(Combine, mixed, None, out)
    outcomes, folder = run.outcomes, run.folder
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"]

    union = ["Name", "Amount", "Date", "Region"]
    sheets = read_xlsx(out / "combined.xlsx")
    assert list(sheets) == ["Combined"]
    got = sheets["Combined"]
    assert got[0] == SOURCE + union
    expected = expected_by_name(
        union, [("a.xlsx", "Data", A_RECORDS), ("b.xls", "Data", B_RECORDS), ("c.csv", "c", C_RECORDS)]
    )
    assert got[1:] == normalised([list(row) for row in expected])
    assert len(got) - 1 == sum(len(r) for r in (A_RECORDS, B_RECORDS, C_RECORDS))

    a, b, c = (o.result for o in outcomes)
    assert a["rows"] == 2 and a["blank_rows_skipped"] == 1 and a["sheets"] == ["Data"]
    assert b["rows"] == 2 and c["rows"] == 2
    assert a["columns"] == ["Name", "Amount", "Date"]
    assert a["missing_columns"] == ["Region"] and a["extra_columns"] == []
    assert b["missing_columns"] == ["Date"] and b["extra_columns"] == ["Region"]
    assert c["missing_columns"] == ["Amount", "Region"] and c["extra_columns"] == []
    assert any("c.csv" in w and "'Amount'" in w and "'Region'" in w for w in folder.warnings)
    assert any("b.xls" in w and "'Region'" in w for w in folder.warnings)
    # The parts are gone; the only output is the combined table.
    assert files_under(out) == [out / "combined.xlsx"]
    assert folder.outputs == [str(out / "combined.xlsx")]
    assert all("part" not in o.result for o in outcomes)


def test_types_survive_and_text_stays_text(mixed, tmp_path):
    out = tmp_path / "out"
    run_task(Combine, mixed, {"add_source": "false"}, out)
    import openpyxl

    sheet = openpyxl.load_workbook(out / "combined.xlsx")["Combined"]
    assert [c.value for c in sheet[1]] == ["Name", "Amount", "Date", "Region"]
    assert sheet["A3"].value == "=cmd" and sheet["A3"].data_type == "s"
    assert sheet["B2"].data_type == "n" and sheet["B2"].value == 10
    assert sheet["C2"].is_date and sheet["C2"].value == dt.datetime(2024, 1, 1)
    assert sheet["C3"].is_date and sheet["C3"].value == dt.datetime(2024, 1, 2, 9, 0)
    assert sheet["C6"].is_date and sheet["C6"].value == dt.datetime(2024, 3, 1)  # an ISO date from the CSV


def test_csv_output_with_bom_and_neutralised_formulas(mixed, tmp_path):
    out = tmp_path / "out"
    run_task(Combine, mixed, {"output_format": "csv", "output_name": "all.csv"}, out)
    assert files_under(out) == [out / "all.csv"]
    raw = (out / "all.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == SOURCE + ["Name", "Amount", "Date", "Region"]
    assert rows[1:] == [
        ["a.xlsx", "Data", "Ann", "10", "2024-01-01", ""],
        ["a.xlsx", "Data", "'=cmd", "2.5", "2024-01-02 09:00:00", ""],
        ["b.xls", "Data", "Bob", "5", "", "East"],
        ["b.xls", "Data", "Cy", "7", "", "West"],
        ["c.csv", "c", "Dee", "", "2024-03-01", ""],
        ["c.csv", "c", "Eve", "", "", ""],
    ]


def test_csv_rendered_in_the_workers_is_copied_or_rearranged_to_the_same_result(tmp_path, monkeypatch):
    """Files with the output's columns are copied as the workers rendered them; the others are rearranged;
    both give the rows the typed path gives (an xlsx output read back), quoted line breaks and all."""
    same = [["Name", "Note", "When"], ["Ann", "two\nlines", dt.date(2024, 5, 1)], ["=x", 'say "hi"', None]]
    p1 = write_xlsx_openpyxl(tmp_path / "p1.xlsx", {"S": same})
    p2 = write_xlsx_openpyxl(tmp_path / "p2.xlsx", {"S": same[:1] + [["Bob", "", dt.datetime(2024, 5, 2, 8, 30)]]})
    wider = write_xlsx_openpyxl(tmp_path / "p3.xlsx", {"S": [["Name", "Note"], ["Cy", "n", "past the header"]]})
    copied: list[str] = []
    real_write_text = xlbatch.writing.CsvTableWriter.write_text
    writer = xlbatch.writing.CsvTableWriter
    monkeypatch.setattr(writer, "write_text", lambda self, text: (copied.append(text), real_write_text(self, text)))

    def combined(files, name):
        out = tmp_path / name
        run_task(Combine, files, {"output_format": "csv"}, out)
        return list(csv.reader(io.StringIO((out / "combined.csv").read_text(encoding="utf-8-sig"), newline="")))

    rows = combined([p1, p2], "same")
    assert len(copied) == 2, "identical columns: each part's text is copied as it is"
    assert rows == [
        SOURCE + ["Name", "Note", "When"],
        ["p1.xlsx", "S", "Ann", "two\nlines", "2024-05-01"],
        ["p1.xlsx", "S", "'=x", 'say "hi"', ""],
        ["p2.xlsx", "S", "Bob", "", "2024-05-02 08:30:00"],
    ]
    copied.clear()
    rows = combined([p1, wider], "rearranged")
    assert copied == [], "a row wider than its header: the part's fields are moved one by one"
    assert rows[0] == SOURCE + ["Name", "Note", "When", "Column C"]
    assert rows[-1] == ["p3.xlsx", "S", "Cy", "n", "", "past the header"]
    assert rows[1] == ["p1.xlsx", "S", "Ann", "two\nlines", "2024-05-01", ""]


@pytest.mark.parametrize(
    ("text", "mapping", "width", "lead", "expected"),
    [
        ("f,s,1,2\r\n", [1, 0], 2, 2, [["f", "s", "2", "1"]]),  # swapped columns
        ("1,2,3\r\n4\r\n", [0, -1, 1], 3, 0, [["1", "3", ""], ["4", "", ""]]),  # dropped column, short row
        ('"a\r\nb",x\r\n', [-1, 0], 1, 0, [["x"]]),  # a single output column; a quoted line break
    ],
)
def test_rearranging_rendered_rows(text, mapping, width, lead, expected):
    class Rows:
        def write_fields(self, rows):
            self.rows = [list(r) for r in rows]

    writer = Rows()
    Combine._rearrange_csv(text, mapping, width, lead, writer)
    assert writer.rows == expected


def test_match_by_position(tmp_path):
    p1 = write_xlsx_openpyxl(tmp_path / "p1.xlsx", {"S": [["A", "B", "C"], [1, 2, 3]]})
    p2 = write_xlsx_openpyxl(tmp_path / "p2.xlsx", {"S": [["X", "Y"], [4, 5], [6, 7]]})
    p3 = write_xlsx_openpyxl(tmp_path / "p3.xlsx", {"S": [["A", "B", "C", "D"], [8, 9, 10, 11]]})
    out = tmp_path / "out"
    outcomes = run_task(Combine, [p1, p2, p3], {"match_columns": "position"}, out).outcomes
    got = read_xlsx(out / "combined.xlsx")["Combined"]
    assert got == [
        SOURCE + ["A", "B", "C", "D"],
        ["p1.xlsx", "S", 1, 2, 3],
        ["p2.xlsx", "S", 4, 5],
        ["p2.xlsx", "S", 6, 7],
        ["p3.xlsx", "S", 8, 9, 10, 11],
    ]
    assert outcomes[1].result["missing_columns"] == ["C", "D"]
    assert outcomes[2].result["extra_columns"] == ["D"]


@pytest.mark.parametrize("match", ["name", "position"])
def test_clashing_column_names_are_numbered(tmp_path, match):
    """A sheet with two columns of one name (spelled apart by case and spaces) and one already called
    "Source file": every output column keeps its own name, numbered from (2)."""
    book = write_xlsx_openpyxl(tmp_path / "d.xlsx", {"S": [["Amount", " amount", "Source file"], [1, 2, "x"]]})
    out = tmp_path / "out"
    run_task(Combine, [book], {"match_columns": match}, out)
    got = read_xlsx(out / "combined.xlsx")["Combined"]
    assert got[0] == ["Source file (2)", "Source sheet", "Amount", "amount (2)", "Source file"]
    assert got[1] == ["d.xlsx", "S", 1, 2, "x"]


def test_every_sheet_header_row_and_subfolder_sources(tmp_path):
    root = tmp_path / "in"
    (root / "north").mkdir(parents=True)
    (root / "south").mkdir()
    title = [["Monthly report"], []]
    north = write_xlsx_openpyxl(
        root / "north" / "data.xlsx",
        {
            "Jan": title + [["Item", "Qty"], ["nut", 1], ["bolt", 2]],
            "Feb": title + [["Qty", "Item"], [3, "nut"]],
            "Notes": [],
        },
    )
    south = write_xlsx_openpyxl(root / "south" / "data.xlsx", {"Jan": title + [["Item", "Qty"], ["gear", 4]]})
    out = tmp_path / "out"
    outcomes = run_task(Combine, [north, south], {"sheet": "*", "header_row": "3"}, out, root=root).outcomes
    got = read_xlsx(out / "combined.xlsx")["Combined"]
    assert got == [
        SOURCE + ["Item", "Qty"],
        ["north/data.xlsx", "Jan", "nut", 1],
        ["north/data.xlsx", "Jan", "bolt", 2],
        ["north/data.xlsx", "Feb", "nut", 3],
        ["south/data.xlsx", "Jan", "gear", 4],
    ]
    assert outcomes[0].result["sheets"] == ["Jan", "Feb", "Notes"]
    assert any("'Notes'" in w for w in outcomes[0].warnings)


def test_only_ok_files_are_combined(tmp_path):
    good = write_xlsx_openpyxl(tmp_path / "good.xlsx", {"Data": [["k"], ["v"]]})
    other = write_xlsx_openpyxl(tmp_path / "other.xlsx", {"Elsewhere": [["k"], ["w"]]})
    out = tmp_path / "out"
    outcomes = run_task(Combine, [good, other], {"sheet": "Data"}, out).outcomes
    assert [o.status for o in outcomes] == ["ok", "failed"]
    assert "Data" in outcomes[1].error.message
    assert read_xlsx(out / "combined.xlsx")["Combined"] == [SOURCE + ["k"], ["good.xlsx", "Data", "v"]]


def test_no_file_combined_writes_nothing_and_says_so(tmp_path):
    other = write_xlsx_openpyxl(tmp_path / "other.xlsx", {"Elsewhere": [["k"]]})
    out = tmp_path / "out"
    run = run_task(Combine, [other], {"sheet": "Data"}, out)
    assert run.outcomes[0].status == "failed"
    assert not out.exists() or files_under(out) == []
    assert any("No file could be combined" in w for w in run.folder.warnings)


def test_rows_continue_on_a_new_sheet_past_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(xlbatch.fragment_writer, "EXCEL_MAX_ROWS", 4)  # header + 3 rows per sheet
    one = write_xlsx_openpyxl(tmp_path / "one.xlsx", {"S": [["n"], [1], [2], [3], [4]]})
    two = write_xlsx_openpyxl(tmp_path / "two.xlsx", {"S": [["n"], [5], [6]]})
    out = tmp_path / "out"
    folder = run_task(Combine, [one, two], {"add_source": False}, out).folder
    sheets = read_xlsx(out / "combined.xlsx")
    assert list(sheets) == ["Combined", "Combined (cont.)"]
    assert [v for rows in sheets.values() for row in rows[1:] for v in row] == [1, 2, 3, 4, 5, 6]
    assert all(rows[0] == ["n"] for rows in sheets.values())
    assert any("limit" in w for w in folder.warnings)


def test_part_files_round_trip_every_type(tmp_path):
    rows = [
        ["date", "stamp", "time", "span", "flag", "int", "float", "text", "gap", "end"],
        [
            dt.date(2024, 1, 2),
            dt.datetime(2024, 1, 2, 3, 4, 5),
            dt.time(10, 30),
            dt.timedelta(hours=30),
            True,
            3,
            1.5,
            "=x",
            None,
            False,
        ],
    ]
    book = write_xlsx_openpyxl(tmp_path / "types.xlsx", {"T": rows})
    from xlbatch.preflight import sniff
    from xlbatch.tasks.base import FileContext

    source = sniff(book)
    result = Combine().process(source, Combine.validate(None), FileContext(source, tmp_path / "out"))
    [(index, (plain, sample))] = list(read_part(result["part"]))
    # The sheet's first rows travel typed, for the layout to measure; all of them rendered as a fragment.
    assert index == 0 and sample == [rows[1]]
    assert [type(v) for v in sample[0]] == [type(v) for v in rows[1]]
    fragment = Fragment.from_plain(plain)
    assert fragment.rows == 1 and fragment.width == 2 + len(rows[1])
    [(number, read_back)] = unpack(fragment.record)
    assert number == 0 and read_back[:2] == ["types.xlsx", "T"]
    assert read_back[7:9] == [3.0, 1.5]  # numbers read back as floats
    assert result["columns"] == rows[0]


def test_a_tampered_part_cannot_run_code(tmp_path):
    part = tmp_path / "evil.part"
    part.write_bytes(pickle.dumps((0, [[os.getcwd]])))
    with pytest.raises(pickle.UnpicklingError):
        list(read_part(part))


def test_parts_of_failed_and_ok_files_are_removed(mixed, tmp_path):
    out = tmp_path / "out"
    stray = out / ".xlbatch" / PARTS_FOLDER / "deadbeef.part"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"")  # left by a file that failed after writing its part
    run_task(Combine, mixed, None, out)
    assert not (out / ".xlbatch" / PARTS_FOLDER).exists()


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ({"header_row": "0"}, "header_row"),
        ({"header_row": "two"}, "header_row"),
        ({"match_columns": "fuzzy"}, "match_columns"),
        ({"add_source": "maybe"}, "add_source"),
        ({"output_format": "pdf"}, "output_format"),
        ({"sheet": "  "}, "sheet"),
    ],
)
def test_invalid_params_are_refused_naming_the_parameter(raw, name):
    with pytest.raises(InvalidParams) as caught:
        Combine.validate(raw)
    assert f"'{name}'" in str(caught.value)
    assert caught.value.param == name


def test_registered_and_described_for_the_form():
    assert get_task("combine") is Combine
    params = {p["name"]: p for p in json.loads(json.dumps(Combine.describe()))["params"]}
    assert params["sheet"]["default"] == "1"
    assert params["header_row"]["minimum"] == 1
    assert params["match_columns"]["choices"] == ["name", "position"]
    assert params["add_source"]["default"] is True
    assert params["output_name"]["default"] == "combined"


def test_the_combined_table_kept_for_the_python_api_is_what_the_workbook_reads_back(tmp_path):
    """report.tables["Combined"] of an xlsx is rebuilt from the record of what was written, not read back;
    with the output check off it is read back: both are the table the file holds, value for value."""
    from xlbatch.runner import run_batch
    from xlbatch.tables import Tables, tables_from_files

    folder = tmp_path / "in"
    folder.mkdir()
    header = ["Name", "Amount", "When", "Flag", "Note"]
    first = [["Ann", 10, dt.datetime(2024, 1, 2, 3, 4, 5), True, " padded "], ["Bo", 2.5, dt.date(2024, 2, 29)]]
    write_xlsx_openpyxl(folder / "a.xlsx", {"Data": [header, *first, [None, None, None, None, "only a note"]]})
    # Other columns, in another order: its rows are rearranged in the parent; a blank row is dropped.
    other = [["Extra", "Note", "Name", "Amount"], ["x", 's="11"', "Cy", -0.1], [], [None, None, "Di", 2**53 + 2]]
    write_xlsx_openpyxl(folder / "b.xlsx", {"Data": other, "Second": [header, ["Ed", 1e-300, dt.time(12, 30)]]})
    frames = []
    for verify in (True, False):
        out = tmp_path / f"out-{verify}"
        report = run_batch(
            task="combine",
            paths=[str(folder)],
            out_dir=str(out),
            params={"sheet": "*"},
            backend="sequential",
            verify=verify,
        )
        assert [f.status for f in report.files] == ["ok", "ok"] and report.outputs == [str(out / "combined.xlsx")]
        # Checked outputs keep the record of their rows: the table is built from it when first asked for.
        assert (report.table_data["Combined"].later is not None) is verify
        read = Tables(tables_from_files(report.outputs))["Combined"]
        kept = report.tables["Combined"]
        assert list(kept.columns) == list(read.columns) and kept.equals(read), (kept, read)
        frames.append(kept)
    assert frames[0].equals(frames[1]) and len(frames[0]) == 6
    assert frames[0]["Note"].tolist()[3] == 's="11"'


def test_a_part_reads_back_record_by_record_whatever_each_record_memoized(tmp_path):
    """Records are pickled with a fresh memo each (as the workers write them); each is read with its
    own, so one that refers to an object it memoized itself gets that object, not an earlier record's."""
    records = [
        (0, [["Date", "Name"], [dt.datetime(2024, 1, 2, 3, 4), "Ann"]]),
        (1, [[dt.date(2024, 2, 3), "Bo", "Bo"], [dt.time(5, 6), dt.date(2024, 2, 3)]]),
        (2, "csv text"),
        (3, [[dt.timedelta(hours=1), dt.datetime(2025, 1, 1)], [dt.datetime(2025, 1, 1)]]),
    ]
    part = tmp_path / "one.part"
    with open(part, "wb") as handle:
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        for record in records:
            pickler.dump(record)
            pickler.clear_memo()
    assert list(read_part(part)) == records
