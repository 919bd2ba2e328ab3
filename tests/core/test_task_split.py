"""Tests of the `split` task: parts read back with openpyxl (or the csv module) hold the header and
exactly the rows of their value, computed here by grouping the input rows independently; hostile
values cannot make a file outside the output folder."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter

import openpyxl
import pytest

from tests.core.task_kit import as_datetime, files_under, read_xlsx, run_task, write_ods, write_xls, write_xlsx_openpyxl
from xlbatch import errors
from xlbatch.params import InvalidParams
from xlbatch.tasks import get_task
from xlbatch.tasks.split import Split

HEADER = ["Region", "Item", "Amount", "Date"]
ROWS = [
    ["East", "nut", 1, dt.date(2024, 1, 1)],
    ["West", "=1+1", 2.5, dt.date(2024, 1, 2)],
    ["East", "bolt", 3, dt.datetime(2024, 1, 3, 8, 15)],
    [None, "orphan", 4, None],
    ["North", "gear", 5, dt.date(2024, 1, 5)],
    ["West", "cog", 6, dt.date(2024, 1, 6)],
]


def key(row):
    """The test's own grouping: the first column's value, blanks together."""
    value = row[0]
    return "(blank)" if value in (None, "") else value


def trimmed(row):
    values = [as_datetime(v) for v in row]
    while values and values[-1] is None:
        values.pop()
    return values


def expected_groups(rows):
    groups: dict[object, list[list[object]]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(trimmed(row))
    return groups


@pytest.fixture
def sales(tmp_path, frozen_inputs):
    src = tmp_path / "in"
    src.mkdir()
    book = write_xlsx_openpyxl(src / "sales.xlsx", {"Data": [HEADER, *ROWS]})
    frozen_inputs.append(src)
    return book


def test_one_file_per_value_with_header_and_exact_rows(sales, tmp_path):
    out = tmp_path / "out"
    outcomes = run_task(Split, [sales], {"by_column": "region"}, out).outcomes
    result = outcomes[0].result
    groups = expected_groups(ROWS)
    assert result["parts"] == len(groups)
    assert result["rows"] == len(ROWS)
    assert result["values"] == ["East", "West", "(blank)", "North"]  # first appearance
    files = files_under(out)
    assert sorted(p.name for p in files) == sorted(f"{v}.xlsx" for v in groups)
    assert all(p.parent == out / "sales" for p in files)
    total = 0
    for path in files:
        sheets = read_xlsx(path)
        assert list(sheets) == ["Data"]
        rows = sheets["Data"]
        assert rows[0] == HEADER
        assert rows[1:] == groups[path.stem]
        total += len(rows) - 1
    assert total == len(ROWS)


def test_types_survive_in_the_parts(sales, tmp_path):
    out = tmp_path / "out"
    run_task(Split, [sales], {"by_column": "Region"}, out)
    west = openpyxl.load_workbook(out / "sales" / "West.xlsx")["Data"]
    assert west["B2"].value == "=1+1" and west["B2"].data_type == "s"
    assert west["C2"].data_type == "n" and west["C2"].value == 2.5
    assert west["D2"].is_date and west["D2"].value == dt.datetime(2024, 1, 2)


def test_by_column_letter_from_xls(tmp_path):
    book = write_xls(tmp_path / "old.xls", {"Data": [["Item", "Colour"], ["a", "red"], ["b", "blue"], ["c", "red"]]})
    out = tmp_path / "out"
    outcomes = run_task(Split, [book], {"by_column": "B"}, out).outcomes
    assert outcomes[0].result["parts"] == 2
    assert read_xlsx(out / "old" / "red.xlsx")["Data"] == [["Item", "Colour"], ["a", "red"], ["c", "red"]]
    assert read_xlsx(out / "old" / "blue.xlsx")["Data"] == [["Item", "Colour"], ["b", "blue"]]


def test_hostile_values_cannot_escape_the_output_folder(tmp_path):
    values = ["../x", "..\\y", "C:\\evil", "CON", "nul.txt", "a/b", "/abs", "..", "...", "a:b*c?", "x" * 300]
    book = write_xlsx_openpyxl(tmp_path / "h.xlsx", {"S": [["Key", "n"]] + [[v, i] for i, v in enumerate(values)]})
    out = tmp_path / "out"
    outcomes = run_task(Split, [book], {"by_column": "Key"}, out).outcomes
    assert outcomes[0].status == "ok"
    files = files_under(out)
    assert len(files) == len(values)  # one file per value: none merged, none lost
    base = (out / "h").resolve()
    reserved = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
    for path in files:
        assert path.resolve().parent == base
        assert path.suffix == ".xlsx"
        assert not any(ch in path.name for ch in '<>:"/\\|?*')
        assert path.name.split(".")[0].upper() not in reserved
        assert not path.name.startswith(".")
    # Each file holds exactly one value's row: the n column says which.
    seen = sorted(read_xlsx(p)["S"][1][1] for p in files)
    assert seen == list(range(len(values)))
    # Nothing appeared beside the input or the output folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.xlsx", "out"]


def test_values_differing_only_in_case_get_distinct_files(tmp_path):
    book = write_xlsx_openpyxl(tmp_path / "c.xlsx", {"S": [["k"], ["East"], ["east"], ["East"]]})
    out = tmp_path / "out"
    outcomes = run_task(Split, [book], {"by_column": "k"}, out).outcomes
    assert outcomes[0].result["parts"] == 2
    contents = sorted(len(read_xlsx(p)["S"]) - 1 for p in files_under(out))
    assert contents == [1, 2]
    assert len({p.name.lower() for p in files_under(out)}) == 2  # distinct on case-insensitive file systems


def test_values_are_grouped_by_the_text_they_show(tmp_path):
    rows = [["k", "n"], [2024, 1], ["2024", 2], [" 2024 ", 3], [True, 4], ["TRUE", 5], [dt.date(2024, 5, 1), 6]]
    book = write_xlsx_openpyxl(tmp_path / "g.xlsx", {"S": rows})
    out = tmp_path / "out"
    outcomes = run_task(Split, [book], {"by_column": "k"}, out).outcomes
    assert outcomes[0].result["values"] == ["2024", "TRUE", "2024-05-01"]
    assert [r[1] for r in read_xlsx(out / "g" / "2024.xlsx")["S"][1:]] == [1, 2, 3]
    assert [r[1] for r in read_xlsx(out / "g" / "TRUE.xlsx")["S"][1:]] == [4, 5]
    assert read_xlsx(out / "g" / "2024-05-01.xlsx")["S"][1] == [dt.datetime(2024, 5, 1), 6]


def test_rows_per_file(sales, tmp_path):
    out = tmp_path / "out"
    outcomes = run_task(Split, [sales], {"rows_per_file": "4"}, out).outcomes
    assert outcomes[0].result["parts"] == 2
    assert outcomes[0].result["rows"] == len(ROWS)
    files = files_under(out)
    assert [p.name for p in files] == ["part 1.xlsx", "part 2.xlsx"]
    first, second = (read_xlsx(p)["Data"] for p in files)
    assert first[0] == HEADER and second[0] == HEADER
    assert first[1:] == [trimmed(r) for r in ROWS[:4]]
    assert second[1:] == [trimmed(r) for r in ROWS[4:]]


def test_one_workbook_with_a_sheet_per_value(sales, tmp_path):
    out = tmp_path / "out"
    outcomes = run_task(Split, [sales], {"by_column": "Region", "one_workbook": "yes"}, out).outcomes
    assert files_under(out) == [out / "sales - split.xlsx"]
    sheets = read_xlsx(out / "sales - split.xlsx")
    groups = expected_groups(ROWS)
    assert list(sheets) == ["East", "West", "(blank)", "North"]
    for name, rows in sheets.items():
        assert rows[0] == HEADER
        assert rows[1:] == groups[name]
    assert outcomes[0].result["parts"] == 4


def test_one_workbook_sheet_names_are_legal_and_unique(tmp_path):
    long = "L" * 40
    book = write_xlsx_openpyxl(
        tmp_path / "s.xlsx", {"S": [["k"], ["a[1]"], ["a_1_"], [long], [long + "x"], ["History"]]}
    )
    out = tmp_path / "out"
    run_task(Split, [book], {"by_column": "k", "one_workbook": True}, out)
    names = openpyxl.load_workbook(out / "s - split.xlsx").sheetnames
    assert len(names) == 5
    assert len({n.lower() for n in names}) == 5
    assert all(len(n) <= 31 and not any(ch in n for ch in "[]:*?/\\") for n in names)


def test_csv_parts_from_ods(tmp_path):
    book = write_ods(tmp_path / "calc.ods", {"Sheet1": [["Team", "Score"], ["=red", 1], ["blue", 2], ["=red", 3]]})
    out = tmp_path / "out"
    outcomes = run_task(Split, [book], {"by_column": "Team", "output_format": "csv"}, out).outcomes
    assert outcomes[0].result["parts"] == 2
    names = sorted(p.name for p in files_under(out))
    assert names == ["=red.csv", "blue.csv"]
    raw = (out / "calc" / "=red.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows == [["Team", "Score"], ["'=red", "1"], ["'=red", "3"]]


def test_header_row_and_blank_rows(tmp_path):
    rows = [["Quarterly"], [], ["k", "v"], ["a", 1], [], ["b", 2], ["a", 3]]
    book = write_xlsx_openpyxl(tmp_path / "t.xlsx", {"S": rows})
    out = tmp_path / "out"
    outcomes = run_task(Split, [book], {"by_column": "k", "header_row": 3}, out).outcomes
    assert outcomes[0].result["blank_rows_skipped"] == 1
    assert read_xlsx(out / "t" / "a.xlsx")["S"] == [["k", "v"], ["a", 1], ["a", 3]]


def test_unknown_column_fails_the_file_with_a_sentence(sales, tmp_path):
    outcomes = run_task(Split, [sales], {"by_column": "Country"}, tmp_path / "out").outcomes
    assert outcomes[0].status == "failed"
    assert outcomes[0].error.kind == errors.TASK_ERROR
    assert "'Country'" in outcomes[0].error.message


def test_subfolders_are_mirrored(tmp_path):
    root = tmp_path / "in"
    (root / "2024").mkdir(parents=True)
    book = write_xlsx_openpyxl(root / "2024" / "q.xlsx", {"S": [["k"], ["x"]]})
    out = tmp_path / "out"
    run_task(Split, [book], {"by_column": "k"}, out, root=root)
    assert files_under(out) == [out / "2024" / "q" / "x.xlsx"]


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ({}, ("by_column", "rows_per_file")),
        ({"by_column": "Region", "rows_per_file": "10"}, ("by_column", "rows_per_file")),
        ({"rows_per_file": "-1"}, ("rows_per_file",)),
        ({"by_column": "Region", "one_workbook": "true", "output_format": "csv"}, ("one_workbook",)),
        ({"by_column": "Region", "output_format": "xls"}, ("output_format",)),
    ],
)
def test_invalid_params_are_refused_naming_the_parameter(raw, names):
    with pytest.raises(InvalidParams) as caught:
        Split.validate(raw)
    for name in names:
        assert f"'{name}'" in str(caught.value)
    assert caught.value.param in names


def test_registered_and_results_are_small(tmp_path):
    assert get_task("split") is Split
    params = {p["name"]: p for p in json.loads(json.dumps(Split.describe()))["params"]}
    assert params["rows_per_file"]["default"] == 0 and params["one_workbook"]["default"] is False
    many = write_xlsx_openpyxl(tmp_path / "many.xlsx", {"S": [["id"]] + [[f"id{i}"] for i in range(60)]})
    outcomes = run_task(Split, [many], {"by_column": "id"}, tmp_path / "out").outcomes
    result = outcomes[0].result
    assert result["parts"] == 60 and len(result["values"]) == 50
    assert Counter(result["values"]) == Counter(f"id{i}" for i in range(50))
