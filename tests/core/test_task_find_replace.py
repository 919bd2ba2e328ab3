"""Tests for the find_replace task: what changes (only matching text), and everything that must not.

Expected values are computed here with plain string operations, not with the task's regular
expressions, and the copies are compared with the originals cell by cell through openpyxl.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from tests.core.task_kit import run_task, sha256, write_xlsx_openpyxl
from xlbatch import errors
from xlbatch.params import InvalidParams
from xlbatch.tasks.find_replace import FindReplace

FAKE_VBA = bytes(range(256)) * 40 + b'Attribute VB_Name = "Module1"\r\nSub Hello()\r\nEnd Sub\r\n'


def ci_replace(text: str, find: str, replace: str) -> tuple[str, int]:
    """Case-insensitive literal replacement written without regular expressions (ASCII test data)."""
    out, count, start = [], 0, 0
    lowered, needle = text.lower(), find.lower()
    while True:
        at = lowered.find(needle, start)
        if at < 0:
            out.append(text[start:])
            return "".join(out), count
        out.append(text[start:at])
        out.append(replace)
        count += 1
        start = at + len(find)


def build_styled(path: Path) -> Path:
    """A small workbook with the features find_replace must keep."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Data"
    ws["A1"] = "Name"
    ws["A1"].font = Font(bold=True, color="FF0000FF")
    ws["A1"].fill = PatternFill("solid", start_color="FFFFFF00")
    ws["B1"] = "Amount"
    ws["C1"] = "Note"
    ws["A2"] = "Apple pie"
    ws["A2"].font = Font(italic=True, size=14)
    ws["B2"] = 12.5
    ws["B2"].number_format = "#,##0.00"
    ws["C2"] = "apple"
    ws["A3"] = "APPLE"
    ws["B3"] = "=B2*2"
    ws["C3"] = "pineapple apple"
    ws["A4"] = "=apple"  # text that only looks like a formula
    ws["A4"].data_type = "s"
    ws["B4"] = dt.datetime(2024, 3, 31, 12, 30)
    ws["B4"].number_format = "yyyy-mm-dd hh:mm"
    ws["D1"] = "Merged apple"
    ws.merge_cells("D1:E1")
    ws["D3"] = '=CONCATENATE("apple",A2)'
    ws["D4"] = True
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["C"].width = 12.5
    validation = DataValidation(type="list", formula1='"apple,pear"', allow_blank=True)
    validation.add("C2:C10")
    ws.add_data_validation(validation)
    other = book.create_sheet("Other")
    other["A1"] = "An apple a day"
    other["B1"] = 7
    book.save(path)
    return path


def snapshot(path: Path) -> dict[str, Any]:
    """Everything about a workbook that find_replace must keep, read with openpyxl."""
    book = openpyxl.load_workbook(path)
    shot: dict[str, Any] = {}
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and not cell.has_style:
                    continue
                cells[cell.coordinate] = {
                    "value": cell.value,
                    "type": cell.data_type,
                    "font": (cell.font.b, cell.font.i, cell.font.sz, cell.font.color and cell.font.color.rgb),
                    "fill": (cell.fill.fill_type, cell.fill.fgColor.rgb),
                    "format": cell.number_format,
                }
        shot[ws.title] = {
            "cells": cells,
            "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.allow_blank) for dv in ws.data_validations.dataValidation
            ),
        }
    book.close()
    return shot


def make_xlsm(path: Path) -> Path:
    """A macro workbook: an openpyxl-saved xlsx with a vbaProject.bin part wired in as Excel does."""
    plain = path.with_suffix(".tmp.xlsx")
    write_xlsx_openpyxl(plain, {"Macro": [["apple", "kept"], ["green apple", 3]]})
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                text = data.decode()
                text = text.replace(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                text = text.replace(
                    "<Default ",
                    '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default ',
                    1,
                )
                data = text.encode()
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
                    b'vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", FAKE_VBA)
    plain.unlink()
    return path


def test_replaces_only_matching_text_and_keeps_formatting(tmp_path: Path) -> None:
    src = build_styled(tmp_path / "styled.xlsx")
    before_hash = sha256(src)
    before = snapshot(src)
    run = run_task(FindReplace, [src], {"find": "apple", "replace": "Orange"}, tmp_path / "out")
    outcome = run.outcome("styled.xlsx")
    assert outcome.status == "ok", outcome.error
    out_path = tmp_path / "out" / "styled.xlsx"
    assert outcome.outputs == [str(out_path)]
    assert sha256(src) == before_hash  # the input is never modified

    after = snapshot(out_path)
    expected_counts: dict[str, int] = {}
    for title, sheet in before.items():
        expected_counts[title] = 0
        expected_cells = {}
        for coord, info in sheet["cells"].items():
            info = dict(info)
            if info["type"] == "s":  # only text cells change; formulas keep their text
                info["value"], n = ci_replace(info["value"], "apple", "Orange")
                expected_counts[title] += n
            expected_cells[coord] = info
        assert after[title]["cells"] == expected_cells
        assert after[title]["widths"] == sheet["widths"]
        assert after[title]["merged"] == sheet["merged"]
        assert after[title]["validations"] == sheet["validations"]
    assert after["Data"]["cells"]["A4"] == {**before["Data"]["cells"]["A4"], "value": "=Orange"}
    assert after["Data"]["cells"]["B3"]["value"] == "=B2*2"
    assert after["Data"]["cells"]["D3"]["value"] == '=CONCATENATE("apple",A2)'
    assert outcome.result["per_sheet"] == expected_counts
    assert outcome.result["replacements"] == sum(expected_counts.values()) == 8
    assert outcome.result["written"] is True
    assert run.progress and run.progress[-1][0] == 1.0


def test_xlsm_keeps_its_macros_byte_for_byte(tmp_path: Path) -> None:
    src = make_xlsm(tmp_path / "macro.xlsm")
    before_hash = sha256(src)
    run = run_task(FindReplace, [src], {"find": "apple", "replace": "pear"}, tmp_path / "out")
    outcome = run.outcome("macro.xlsm")
    assert outcome.status == "ok", outcome.error
    out_path = tmp_path / "out" / "macro.xlsm"
    assert outcome.outputs == [str(out_path)]
    assert sha256(src) == before_hash
    with zipfile.ZipFile(out_path) as archive:
        assert archive.read("xl/vbaProject.bin") == FAKE_VBA
        assert b"macroEnabled" in archive.read("[Content_Types].xml")
        assert b"vbaProject.bin" in archive.read("xl/_rels/workbook.xml.rels")
    book = openpyxl.load_workbook(out_path, keep_vba=True)
    assert [[c.value for c in row] for row in book["Macro"].iter_rows()] == [["pear", "kept"], ["green pear", 3]]
    book.vba_archive.close()
    assert outcome.result["replacements"] == 2


def _values_after(tmp_path: Path, cells: list[str], params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    src = write_xlsx_openpyxl(tmp_path / "words.xlsx", {"S": [[c] for c in cells]})
    run = run_task(FindReplace, [src], params, tmp_path / "out")
    outcome = run.outcome("words.xlsx")
    assert outcome.status == "ok", outcome.error
    book = openpyxl.load_workbook(tmp_path / "out" / "words.xlsx")
    values = [row[0] for row in book["S"].iter_rows(values_only=True)]
    book.close()
    return values, outcome.result


CELLS = ["apple", "Apple", "APPLE pie", "apple apple", "crab apple", "pear"]


@pytest.mark.parametrize(
    ("params", "expected", "count"),
    [
        ({"find": "apple", "replace": "X"}, ["X", "X", "X pie", "X X", "crab X", "pear"], 6),
        (
            {"find": "apple", "replace": "X", "match_case": True},
            ["X", "Apple", "APPLE pie", "X X", "crab X", "pear"],
            4,
        ),
        (
            {"find": "apple", "replace": "X", "whole_cell": True},
            ["X", "X", "APPLE pie", "apple apple", "crab apple", "pear"],
            2,
        ),
        (
            {"find": "apple", "replace": "X", "whole_cell": True, "match_case": True},
            ["X", "Apple", "APPLE pie", "apple apple", "crab apple", "pear"],
            1,
        ),
        (
            {"find": r"(\w+) apple", "replace": r"apple of \1", "regex": True},
            ["apple", "Apple", "APPLE pie", "apple of apple", "apple of crab", "pear"],
            2,
        ),
        (
            {"find": r"^a\w+$", "replace": "A", "regex": True, "match_case": True},
            ["A", "Apple", "APPLE pie", "apple apple", "crab apple", "pear"],
            1,
        ),
        ({"find": "p+", "replace": "-", "regex": True, "whole_cell": True}, CELLS, 0),
        ({"find": "p.e", "replace": "?"}, CELLS, 0),  # without regex, '.' is a literal dot
        ({"find": "apple", "replace": r"\1"}, [r"\1", r"\1", r"\1 pie", r"\1 \1", r"crab \1", "pear"], 6),
    ],
)
def test_matching_semantics(tmp_path: Path, params: dict[str, Any], expected: list[str], count: int) -> None:
    values, result = _values_after(tmp_path, CELLS, params)
    assert values == expected
    assert result["replacements"] == count


def test_text_that_becomes_formula_like_stays_text(tmp_path: Path) -> None:
    src = write_xlsx_openpyxl(tmp_path / "formulaish.xlsx", {"S": [["x"], ["err"], ["cost x"]]})
    run_task(FindReplace, [src], {"find": "x", "replace": "=SUM(1,2)", "whole_cell": True}, tmp_path / "out1")
    first = tmp_path / "out1" / "formulaish.xlsx"
    run_task(FindReplace, [first], {"find": "err", "replace": "#N/A"}, tmp_path / "out2")
    out_path = tmp_path / "out2" / "formulaish.xlsx"
    with zipfile.ZipFile(out_path) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no live formula anywhere
    assert 't="e"' not in sheet_xml  # and no error cell
    book = openpyxl.load_workbook(out_path)
    cells = [(c.value, c.data_type) for (c,) in book["S"].iter_rows()]
    book.close()
    assert cells == [("=SUM(1,2)", "s"), ("#N/A", "s"), ("cost x", "s")]


def test_formulas_change_only_with_include_formulas(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "F"
    ws["A1"], ws["A2"], ws["A3"], ws["B1"] = 1, 2, "=SUM(A1:A2)", "SUM"
    src = tmp_path / "f.xlsx"
    book.save(src)

    run = run_task(FindReplace, [src], {"find": "sum", "replace": "MAX"}, tmp_path / "plain")
    assert run.outcome("f.xlsx").result["replacements"] == 1
    out = openpyxl.load_workbook(tmp_path / "plain" / "f.xlsx")
    assert (out["F"]["A3"].value, out["F"]["B1"].value) == ("=SUM(A1:A2)", "MAX")
    out.close()

    run = run_task(FindReplace, [src], {"find": "sum", "replace": "MAX", "include_formulas": True}, tmp_path / "with")
    assert run.outcome("f.xlsx").result["replacements"] == 2
    out = openpyxl.load_workbook(tmp_path / "with" / "f.xlsx")
    assert (out["F"]["A3"].value, out["F"]["A3"].data_type, out["F"]["B1"].value) == ("=MAX(A1:A2)", "f", "MAX")
    out.close()


def test_only_changed_writes_only_files_with_replacements(tmp_path: Path) -> None:
    hit = write_xlsx_openpyxl(tmp_path / "hit.xlsx", {"S": [["apple"]]})
    miss = write_xlsx_openpyxl(tmp_path / "miss.xlsx", {"S": [["pear"]]})
    run = run_task(FindReplace, [hit, miss], {"find": "apple", "replace": "x", "only_changed": True}, tmp_path / "out")
    assert run.outcome("hit.xlsx").result["written"] is True
    missed = run.outcome("miss.xlsx")
    assert missed.status == "ok"
    assert missed.result["written"] is False and missed.result["replacements"] == 0
    assert "no copy was written" in missed.result["note"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["hit.xlsx"]

    run = run_task(FindReplace, [hit, miss], {"find": "apple", "replace": "x"}, tmp_path / "all")
    assert run.outcome("miss.xlsx").result["written"] is True
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["hit.xlsx", "miss.xlsx"]


def test_sheets_parameter(tmp_path: Path) -> None:
    src = write_xlsx_openpyxl(tmp_path / "s.xlsx", {"One": [["apple"]], "Two": [["apple"]], "Three": [["apple"]]})
    run = run_task(FindReplace, [src], {"find": "apple", "replace": "x", "sheets": "two, 3, Nine"}, tmp_path / "out")
    outcome = run.outcome("s.xlsx")
    assert outcome.result["per_sheet"] == {"Two": 1, "Three": 1}
    assert any("Nine" in w for w in outcome.warnings)
    book = openpyxl.load_workbook(tmp_path / "out" / "s.xlsx")
    assert [book[t]["A1"].value for t in ("One", "Two", "Three")] == ["apple", "x", "x"]
    book.close()

    run = run_task(FindReplace, [src], {"find": "apple", "replace": "x", "sheets": "Nine"}, tmp_path / "none")
    failed = run.outcome("s.xlsx")
    assert failed.status == "failed" and failed.error.kind == errors.TASK_ERROR
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())


def test_rich_text_keeps_its_runs_when_it_can(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "R"
    bold = InlineFont(b=True)
    ws["A1"] = CellRichText(["Big ", TextBlock(bold, "apple"), " pie"])
    ws["A2"] = CellRichText(["Big", TextBlock(bold, " apple")])
    src = tmp_path / "rich.xlsx"
    book.save(src)
    run = run_task(FindReplace, [src], {"find": "apple", "replace": "pear"}, tmp_path / "a")
    assert run.outcome("rich.xlsx").result["replacements"] == 2
    out = openpyxl.load_workbook(tmp_path / "a" / "rich.xlsx", rich_text=True)
    first = out["R"]["A1"].value
    assert isinstance(first, CellRichText) and str(first) == "Big pear pie"
    assert [(isinstance(r, TextBlock) and bool(r.font.b), r if isinstance(r, str) else r.text) for r in first] == [
        (False, "Big "),
        (True, "pear"),
        (False, " pie"),
    ]
    out.close()

    # A match across two differently formatted runs: the text is right, the replacement takes the format
    # of the run it starts in, the rest of the next run keeps its own, and a warning names each cell.
    run = run_task(FindReplace, [src], {"find": "g a", "replace": "g-a"}, tmp_path / "b")
    outcome = run.outcome("rich.xlsx")
    assert outcome.result["replacements"] == 2
    assert sorted(w.split(":")[0] for w in outcome.warnings if "formatting" in w) == ["Cell R!A1", "Cell R!A2"]
    out = openpyxl.load_workbook(tmp_path / "b" / "rich.xlsx")
    assert [out["R"]["A1"].value, out["R"]["A2"].value] == ["Big-apple pie", "Big-apple"]
    out.close()
    out = openpyxl.load_workbook(tmp_path / "b" / "rich.xlsx", rich_text=True)
    runs = [(r.text, bool(r.font.b)) if isinstance(r, TextBlock) else (r, False) for r in out["R"]["A1"].value]
    assert runs == [("Big-a", False), ("pple", True), (" pie", False)]
    out.close()


def test_other_formats_fail_as_unsupported(tmp_path: Path) -> None:
    import xlwt

    csv_path = tmp_path / "data.csv"
    csv_path.write_text("name\napple\n", encoding="utf-8")
    xls_path = tmp_path / "old.xls"
    legacy = xlwt.Workbook()
    legacy.add_sheet("S").write(0, 0, "apple")
    legacy.save(str(xls_path))
    run = run_task(FindReplace, [csv_path, xls_path], {"find": "apple"}, tmp_path / "out")
    for name in ("data.csv", "old.xls"):
        outcome = run.outcome(name)
        assert outcome.status == "failed"
        assert outcome.error.kind == errors.UNSUPPORTED
        assert ".xlsx" in outcome.error.message and "convert" in outcome.error.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("raw", "param", "words"),
    [
        ({}, "find", "required"),
        ({"find": "   "}, "find", "required"),
        ({"find": "(unclosed", "regex": "true"}, "find", "regular expression"),
        ({"find": "(a)", "regex": "true", "replace": r"\2"}, "replace", "regular expression"),
        ({"find": "a", "replace": "bad\x01char"}, "replace", "control characters"),
        ({"find": "a", "match_case": "perhaps"}, "match_case", "true or false"),
        ({"find": "a", "colour": "red"}, "colour", "Unknown parameter"),
    ],
)
def test_invalid_parameters_are_refused(raw: dict[str, Any], param: str, words: str) -> None:
    with pytest.raises(InvalidParams) as info:
        FindReplace.validate(raw)
    assert info.value.param == param
    assert f"'{param}'" in str(info.value) and words in str(info.value)
    assert re.match(r"^[A-Z].*\.$", str(info.value))  # one sentence


def test_outputs_mirror_the_input_folders(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "north").mkdir(parents=True)
    src = write_xlsx_openpyxl(root / "north" / "book.xlsx", {"S": [["apple"]]})
    run = run_task(FindReplace, [src], {"find": "apple", "replace": "pear"}, tmp_path / "out", root=root)
    target = tmp_path / "out" / "north" / "book.xlsx"
    assert run.outcome("book.xlsx").outputs == [str(target)]
    assert openpyxl.load_workbook(target)["S"]["A1"].value == "pear"
