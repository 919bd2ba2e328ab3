"""find_replace on the text itself: shared strings and inline strings, rich-text runs, phonetic guides,
`_x000D_` escapes, spaces Excel drops or keeps, the matching options on shared strings, formulas
(shared and array formulas included) and their saved results, and the XML the editor refuses.

Expected values are written out here, or computed with plain string operations; copies are read back
with python-calamine and openpyxl, and the raw XML where what matters is how the text is stored.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from tests.core.find_replace_kit import (
    calamine_values,
    changed_members,
    libreoffice_csv,
    member_text,
    realworld,
    write_package,
)
from tests.core.task_kit import run_task, write_xlsx_xlsxwriter
from xlbatch import errors
from xlbatch.package_edit.xml_stream import XmlDamaged, XmlStream
from xlbatch.tasks.find_replace import FindReplace


def run(src: Path, out: Path, **params: Any) -> Any:
    outcome = run_task(FindReplace, [src], params, out).outcome(src.name)
    assert outcome.status == "ok", outcome.error
    return outcome


def cells(path: Path, sheet: str | None = None) -> list[list[Any]]:
    values = calamine_values(path)
    return values[sheet] if sheet else next(iter(values.values()))


# -- rich text -------------------------------------------------------------------------------------


def _runs(value: Any) -> list[tuple[str, bool, str | None]]:
    """(text, bold, colour) of each run of an openpyxl rich-text value."""
    parts = []
    for run in value:
        if isinstance(run, TextBlock):
            colour = run.font.color.rgb if run.font.color is not None else None
            parts.append((run.text, bool(run.font.b), colour))
        else:
            parts.append((run, False, None))
    return parts


def _rich_book(path: Path, inline: bool) -> Path:
    """Rich text in A1..A3, as shared strings (xlsxwriter) or inline strings (openpyxl)."""
    if inline:
        book = openpyxl.Workbook()
        ws = book.active
        bold, red = InlineFont(b=True), InlineFont(color="FFFF0000")
        ws["A1"] = CellRichText(["Big ", TextBlock(bold, "apple"), " pie"])
        ws["A2"] = CellRichText(["Call ", TextBlock(bold, "ap"), TextBlock(red, "ple now")])
        ws["A3"] = CellRichText([TextBlock(bold, "apple"), " and ", TextBlock(red, "apple")])
        book.save(path)
        return path
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    bold, red = book.add_format({"bold": True}), book.add_format({"font_color": "#FF0000"})
    ws.write_rich_string(0, 0, "Big ", bold, "apple", " pie")
    ws.write_rich_string(1, 0, "Call ", bold, "ap", red, "ple now")
    ws.write_rich_string(2, 0, bold, "apple", " and ", red, "apple")
    book.close()
    return path


@pytest.mark.parametrize("inline", [False, True], ids=["shared", "inline"])
def test_rich_text_keeps_each_runs_format(tmp_path: Path, inline: bool) -> None:
    src = _rich_book(tmp_path / "rich.xlsx", inline)
    outcome = run(src, tmp_path / "out", find="apple", replace="pear")
    assert outcome.result["replacements"] == 4 and outcome.result["cells_changed"] == 3
    book = openpyxl.load_workbook(tmp_path / "out" / "rich.xlsx", rich_text=True)
    ws = book.active
    assert [text for text, *_ in _runs(ws["A1"].value)] == ["Big ", "pear", " pie"]
    assert _runs(ws["A1"].value)[1][1] is True  # still bold
    # A match across a bold run and a red one: the new text takes the first run's (bold) format,
    # the rest of the red run stays red, and a warning names the cell.
    a2 = _runs(ws["A2"].value)
    assert "".join(text for text, *_ in a2) == "Call pear now"
    assert a2[1][:2] == ("pear", True) and a2[2][0] == " now" and a2[2][2] == "FFFF0000"
    a3 = _runs(ws["A3"].value)
    assert [(text, bold) for text, bold, _ in a3] == [("pear", True), (" and ", False), ("pear", False)]
    assert a3[2][2] == "FFFF0000"
    book.close()
    spanning = [w for w in outcome.warnings if "formatting" in w]
    assert len(spanning) == 1 and "!A2" in spanning[0]


def test_whole_cell_on_rich_text_takes_the_first_runs_format(tmp_path: Path) -> None:
    src = _rich_book(tmp_path / "rich.xlsx", inline=False)
    outcome = run(src, tmp_path / "out", find="Big apple pie", replace="Tart", whole_cell=True)
    assert outcome.result["replacements"] == 1
    book = openpyxl.load_workbook(tmp_path / "out" / "rich.xlsx", rich_text=True)
    value = book.active["A1"].value
    assert (value if isinstance(value, str) else "".join(t for t, *_ in _runs(value))) == "Tart"
    book.close()
    assert any("formatting" in w and "A1" in w for w in outcome.warnings)


def test_a_run_emptied_by_the_replacement_is_removed(tmp_path: Path) -> None:
    src = _rich_book(tmp_path / "rich.xlsx", inline=False)
    run(src, tmp_path / "out", find="apple", replace="")
    sst = member_text(tmp_path / "out" / "rich.xlsx", "xl/sharedStrings.xml")
    assert sst.count("<r>") == sst.count("</r>")
    assert [row[0] for row in cells(tmp_path / "out" / "rich.xlsx")] == ["Big  pie", "Call  now", " and "]


# -- how text is stored ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["has_x000D_.xlsx", "has_x000D_inline.xlsx"])
def test_escaped_characters_are_matched_decoded_and_written_back_escaped(tmp_path: Path, name: str) -> None:
    src = realworld(name, tmp_path)
    assert cells(src) == [["ABC\r\nDEF"]]
    run(src, tmp_path / "a", find="DEF", replace="XYZ")
    out = tmp_path / "a" / name
    assert cells(out) == [["ABC\r\nXYZ"]]
    part = "xl/sharedStrings.xml" if "inline" not in name else "xl/worksheets/sheet1.xml"
    assert "ABC_x000D_\nXYZ" in member_text(out, part)
    run(src, tmp_path / "b", find="C\r\nD", replace="C and D")  # the carriage return is part of the text
    assert cells(tmp_path / "b" / name) == [["ABC and DEF"]]


def test_text_that_looks_like_an_escape_is_escaped(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "plain.xlsx", {"S": [["code X"], ["x"]]})
    run(src, tmp_path / "out", find="X", replace="_x0041_", match_case=True)
    out = tmp_path / "out" / "plain.xlsx"
    assert cells(out) == [["code _x0041_"], ["x"]]
    assert "code _x005F_x0041_" in member_text(out, "xl/sharedStrings.xml")


def test_spaces_at_the_ends(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "spaces.xlsx", {"S": [["Total"], ["  padded  "]]})
    run(src, tmp_path / "out", find="Total", replace=" Total ")
    out = tmp_path / "out" / "spaces.xlsx"
    assert '<t xml:space="preserve"> Total </t>' in member_text(out, "xl/sharedStrings.xml")
    assert cells(out) == [[" Total "], ["  padded  "]]
    book = openpyxl.load_workbook(out)
    assert book.active["A1"].value == " Total "
    book.close()


def test_a_t_without_preserve_is_matched_as_excel_shows_it(tmp_path: Path) -> None:
    """Excel and calamine drop the spaces at the ends of a <t> without xml:space="preserve"."""
    src = realworld("whitespace_trim.xlsx", tmp_path)
    outcome = run(src, tmp_path / "out", find="value", replace="amount", sheets="inlineStr")
    out = tmp_path / "out" / "whitespace_trim.xlsx"
    assert cells(out, "inlineStr")[0][:2] == ["trimmed amount", "amount with tabs"]
    assert cells(out, "SharedStrings") == cells(src, "SharedStrings")  # not selected
    assert outcome.result["replacements"] == 2
    sheet = member_text(out, "xl/worksheets/sheet1.xml")
    assert "<t>  trimmed amount  </t>" in sheet  # the spaces readers drop stay where they were


def test_phonetic_guides(tmp_path: Path) -> None:
    src = realworld("rph.xlsx", tmp_path)  # 課きく　毛こ with guides over 課 (0-1) and 毛 (4-5)
    outcome = run(src, tmp_path / "a", find="きく", replace="X")
    sst = member_text(tmp_path / "a" / "rph.xlsx", "xl/sharedStrings.xml")
    assert cells(tmp_path / "a" / "rph.xlsx") == [["課X\u3000毛こ"]]
    assert '<rPh sb="0" eb="1">' in sst and '<rPh sb="3" eb="4">' in sst  # moved along with the text
    assert not any("phonetic" in w for w in outcome.warnings)
    outcome = run(src, tmp_path / "b", find="毛", replace="髪")
    sst = member_text(tmp_path / "b" / "rph.xlsx", "xl/sharedStrings.xml")
    assert cells(tmp_path / "b" / "rph.xlsx") == [["課きく\u3000髪こ"]]
    assert '<rPh sb="0" eb="1">' in sst and "ケ" not in sst  # the guide over the replaced character went
    assert any("phonetic" in w and "A1" in w for w in outcome.warnings)


def test_inline_strings_with_cdata(tmp_path: Path) -> None:
    src = realworld("inlineStr_cdata.xlsx", tmp_path)
    run(src, tmp_path / "out", find="CDATA", replace="<b>&amp</b>")
    out = tmp_path / "out" / "inlineStr_cdata.xlsx"
    assert cells(out) == [["Hello <b>&amp</b>", "World"], ["12345", "NormalText"]]
    assert changed_members(src, out) == {"xl/worksheets/sheet1.xml"}


def test_text_stored_as_a_value_and_empty_items(tmp_path: Path) -> None:
    src = write_package(
        tmp_path / "hand.xlsx",
        {
            "S": '<row r="1"><c r="A1" t="str"><v>plain apple</v></c><c r="B1" t="s"><v>0</v></c>'
            '<c r="C1" t="s"><v>1</v></c><c r="D1" t="inlineStr"><is/></c></row>'
        },
        shared_strings="<si><t>apple</t></si><si/>",
    )
    outcome = run(src, tmp_path / "a", find="apple", replace="pear")
    assert outcome.result["replacements"] == 2
    assert cells(tmp_path / "a" / "hand.xlsx") == [["plain pear", "pear", "", ""]]
    outcome = run(src, tmp_path / "b", find="^$", replace="(blank)", regex=True)
    assert cells(tmp_path / "b" / "hand.xlsx") == [["plain apple", "apple", "(blank)", "(blank)"]]


# -- matching options on shared strings ----------------------------------------------------------------

WORDS = ["apple", "Apple", "APPLE pie", "apple apple", "crab apple", "pear"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["X", "X", "X pie", "X X", "crab X", "pear"]),
        ({"match_case": True}, ["X", "Apple", "APPLE pie", "X X", "crab X", "pear"]),
        ({"whole_cell": True}, ["X", "X", "APPLE pie", "apple apple", "crab apple", "pear"]),
        (
            {"regex": True, "find": r"(\w+) apple", "replace": r"\1!"},
            ["apple", "Apple", "APPLE pie", "apple!", "crab!", "pear"],
        ),
    ],
)
def test_matching_options_on_shared_strings(tmp_path: Path, params: dict[str, Any], expected: list[str]) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "words.xlsx", {"S": [[w] for w in WORDS]})
    run(src, tmp_path / "out", **{"find": "apple", "replace": "X", **params})
    assert [row[0] for row in cells(tmp_path / "out" / "words.xlsx")] == expected


def test_only_changed_and_identical_copies(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "words.xlsx", {"S": [[w] for w in WORDS]})
    outcome = run(src, tmp_path / "a", find="banana", replace="X", only_changed=True)
    assert outcome.result["written"] is False and not (tmp_path / "a").exists()
    outcome = run(src, tmp_path / "b", find="banana", replace="X")
    assert outcome.result["written"] is True
    assert (tmp_path / "b" / "words.xlsx").read_bytes() == src.read_bytes()  # nothing replaced: the same file


def test_too_long_text_is_left_as_it_was(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "long.xlsx", {"S": [["a" * 20000], ["a"]]})
    outcome = run(src, tmp_path / "out", find="a", replace="bb")
    assert outcome.result["replacements"] == 1
    assert cells(tmp_path / "out" / "long.xlsx") == [["a" * 20000], ["bb"]]
    assert any("A1" in w and "32,767" in w for w in outcome.warnings)


# -- formulas --------------------------------------------------------------------------------------


def test_formulas_with_include_formulas_lose_their_stale_results(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "f.xlsx"))
    ws = book.add_worksheet("F")
    ws.write_number(0, 0, 2)
    ws.write_number(1, 0, 5)
    ws.write_formula(2, 0, "=SUM(A1:A2)", None, 7)
    ws.write_formula(3, 0, '="SUM"&"x"', None, "SUMx")
    ws.write_string(4, 0, "SUM it")
    book.close()
    src = tmp_path / "f.xlsx"

    outcome = run(src, tmp_path / "off", find="SUM", replace="MAX")
    assert outcome.result["replacements"] == 1
    assert cells(tmp_path / "off" / "f.xlsx") == [[2.0], [5.0], [7.0], ["SUMx"], ["MAX it"]]
    assert changed_members(src, tmp_path / "off" / "f.xlsx") == {"xl/sharedStrings.xml"}

    outcome = run(src, tmp_path / "on", find="SUM", replace="MAX", include_formulas=True)
    out = tmp_path / "on" / "f.xlsx"
    assert outcome.result["replacements"] == 3 and outcome.result["cells_changed"] == 3
    sheet = member_text(out, "xl/worksheets/sheet1.xml")
    assert '<c r="A3"><f>MAX(A1:A2)</f></c>' in sheet  # no stale 7 left behind
    assert '<c r="A4"><f>"MAX"&amp;"x"</f></c>' in sheet
    assert 'fullCalcOnLoad="1"' in member_text(out, "xl/workbook.xml")
    book = openpyxl.load_workbook(out)
    assert [c.value for (c,) in book["F"].iter_rows()] == [2, 5, "=MAX(A1:A2)", '="MAX"&"x"', "MAX it"]
    book.close()
    assert libreoffice_csv([out], tmp_path / "lo")[out] == [["2"], ["5"], ["5"], ["MAXx"], ["MAX it"]]


def test_excel_is_asked_to_recalculate_only_when_needed(tmp_path: Path) -> None:
    calc = '<calcPr calcId="191029"/>'
    plain = write_package(
        tmp_path / "plain.xlsx", {"S": '<row r="1"><c r="A1" t="inlineStr"><is><t>ab</t></is></c></row>'}, calc=calc
    )
    run(plain, tmp_path / "a", find="a", replace="x")
    assert changed_members(plain, tmp_path / "a" / "plain.xlsx") == {"xl/worksheets/sheet1.xml"}
    with_formula = write_package(
        tmp_path / "formula.xlsx",
        {
            "S": '<row r="1"><c r="A1" t="inlineStr"><is><t>ab</t></is></c>'
            '<c r="B1" t="str"><f>A1</f><v>ab</v></c></row>'
        },
        calc=calc,
    )
    run(with_formula, tmp_path / "b", find="a", replace="x")  # B1 shows A1: Excel must recalculate it
    out = tmp_path / "b" / "formula.xlsx"
    assert changed_members(with_formula, out) == {"xl/worksheets/sheet1.xml", "xl/workbook.xml"}
    assert '<calcPr calcId="191029" fullCalcOnLoad="1"/>' in member_text(out, "xl/workbook.xml")
    no_calc = write_package(
        tmp_path / "nocalc.xlsx",
        {"S": '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>'},
        calc='<definedNames><definedName name="x">S!$A$1</definedName></definedNames>',
    )
    run(no_calc, tmp_path / "c", find="1+1", replace="2+2", include_formulas=True)
    workbook = member_text(tmp_path / "c" / "nocalc.xlsx", "xl/workbook.xml")
    assert workbook.endswith('</definedNames><calcPr fullCalcOnLoad="1"/></workbook>')


def test_shared_formulas_follow_or_leave_their_master(tmp_path: Path) -> None:
    src = realworld("non_monotonic_si.xlsx", tmp_path)  # A3:A7 share "A2+1" (master A3, si 1)
    outcome = run(src, tmp_path / "a", find="+1", replace="+10", include_formulas=True)
    out = tmp_path / "a" / "non_monotonic_si.xlsx"
    sheet = member_text(out, "xl/worksheets/sheet1.xml")
    assert '<c r="A3"><f ref="A3:A7" si="1" t="shared">A2+10</f></c>' in sheet
    assert '<c r="A4"><f si="1" t="shared"></f></c>' in sheet  # still follows, its stale result gone
    assert outcome.result["replacements"] == 5  # A2 and A3..A6, each cell's own formula
    book = openpyxl.load_workbook(out)
    assert [book.active.cell(r, 1).value for r in range(2, 7)] == [f"=A{r - 1}+10" for r in range(2, 7)]
    book.close()
    lo = libreoffice_csv([out], tmp_path / "lo")[out]
    assert [row[0] for row in lo] == ["1", "11", "21", "31", "41", "51"]

    # A match that depends on the cell: only A3's own formula has "A2", so its children get their own.
    outcome = run(src, tmp_path / "b", find="A2", replace="C2", include_formulas=True, match_case=True)
    sheet = member_text(tmp_path / "b" / "non_monotonic_si.xlsx", "xl/worksheets/sheet1.xml")
    assert outcome.result["replacements"] == 1
    assert '<f ref="A3:A7" si="1" t="shared">C2+1</f></c>' in sheet
    assert '<c r="A4"><f>A3+1</f><v>4</v></c>' in sheet  # its formula and result as they were
    book = openpyxl.load_workbook(tmp_path / "b" / "non_monotonic_si.xlsx")
    assert [book.active.cell(r, 1).value for r in range(3, 7)] == ["=C2+1", "=A3+1", "=A4+1", "=A5+1"]
    book.close()


def test_a_replacement_that_would_break_a_formula_is_not_made(tmp_path: Path) -> None:
    src = write_package(
        tmp_path / "f.xlsx",
        {
            "S": '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>SUM(A1:A1)</f><v>1</v></c>'
            '<c r="C1" t="str"><f>"A"&amp;"B"</f><v>AB</v></c></row>'
        },
    )
    outcome = run(src, tmp_path / "out", find="A", replace="#", include_formulas=True, match_case=True)
    assert outcome.result["replacements"] == 1  # the text inside C1's string can change; B1 would not parse
    sheet = member_text(tmp_path / "out" / "f.xlsx", "xl/worksheets/sheet1.xml")
    assert "<f>SUM(A1:A1)</f><v>1</v>" in sheet and '<f>"#"&amp;"B"</f></c>' in sheet
    assert any("B1" in w and "not be valid" in w for w in outcome.warnings)


def test_array_formulas_lose_the_results_of_their_whole_range(tmp_path: Path) -> None:
    src = write_package(
        tmp_path / "array.xlsx",
        {
            "S": '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="array" ref="B1:B2">A1:A2*2</f><v>2</v></c></row>'
            '<row r="2"><c r="A2"><v>3</v></c><c r="B2"><v>6</v></c></row>'
        },
    )
    outcome = run(src, tmp_path / "out", find="*2", replace="*10", include_formulas=True)
    assert outcome.result["replacements"] == 1
    sheet = member_text(tmp_path / "out" / "array.xlsx", "xl/worksheets/sheet1.xml")
    assert '<c r="B1"><f t="array" ref="B1:B2">A1:A2*10</f></c>' in sheet and '<c r="B2"></c>' in sheet
    lo = libreoffice_csv([tmp_path / "out" / "array.xlsx"], tmp_path / "lo")[tmp_path / "out" / "array.xlsx"]
    assert lo == [["1", "10"], ["3", "30"]]


def test_a_formula_result_shared_with_replaced_text_keeps_its_text(tmp_path: Path) -> None:
    src = write_package(
        tmp_path / "cached.xlsx",
        {"S": '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><f>"apple"</f><v>0</v></c></row>'},
        shared_strings="<si><t>apple</t></si>",
    )
    run(src, tmp_path / "out", find="apple", replace="pear")
    assert cells(tmp_path / "out" / "cached.xlsx") == [["pear", "apple"]]


def test_text_made_to_look_like_a_formula_stays_text(tmp_path: Path) -> None:
    src = write_xlsx_xlsxwriter(tmp_path / "t.xlsx", {"S": [["x"], ["err"]]})
    run(src, tmp_path / "a", find="x", replace="=SUM(1,2)", whole_cell=True)
    run(tmp_path / "a" / "t.xlsx", tmp_path / "b", find="err", replace="#N/A")
    out = tmp_path / "b" / "t.xlsx"
    assert "<f>" not in member_text(out, "xl/worksheets/sheet1.xml")
    assert cells(out) == [["=SUM(1,2)"], ["#N/A"]]


# -- formats, damage and size ---------------------------------------------------------------------


def test_templates_keep_their_suffix(tmp_path: Path) -> None:
    template = "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
    src = write_package(
        tmp_path / "form.xltx",
        {"S": '<row r="1"><c r="A1" t="inlineStr"><is><t>ACME</t></is></c></row>'},
        main_type=template,
    )
    outcome = run(src, tmp_path / "out", find="ACME", replace="Zeta")
    assert outcome.outputs == [str(tmp_path / "out" / "form.xltx")]
    assert cells(tmp_path / "out" / "form.xltx") == [["Zeta"]]


def test_entities_are_refused_even_far_into_a_part(tmp_path: Path) -> None:
    """Preflight reads the first 2 KB of each part; the editor's own parser refuses DTDs anywhere."""
    src = write_package(
        tmp_path / "bomb.xlsx",
        {"S": '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'},
        shared_strings="<si><t>x</t></si>",
    )
    with zipfile.ZipFile(src) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0"?>' + b" " * 4000 + b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&a;&a;</t></si></sst>'
    )
    with zipfile.ZipFile(src, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    outcome = run_task(FindReplace, [src], {"find": "a", "replace": "b"}, tmp_path / "out").outcome("bomb.xlsx")
    assert outcome.status == "failed" and outcome.error.kind == errors.CORRUPT
    assert "entity" in outcome.error.detail.lower() or "dtd" in outcome.error.detail.lower()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())

    stream = XmlStream()
    with pytest.raises(XmlDamaged):
        stream.run(io.BytesIO(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'))


def test_damaged_xml_and_utf16_parts_fail_with_one_plain_error(tmp_path: Path) -> None:
    broken = write_package(
        tmp_path / "broken.xlsx", {"S": '<row r="1"><c r="A1" t="inlineStr"><is><t>ab</t></c></row>'}
    )
    outcome = run_task(FindReplace, [broken], {"find": "a"}, tmp_path / "out").outcome("broken.xlsx")
    assert outcome.status == "failed" and outcome.error.kind == errors.CORRUPT
    assert "xl/worksheets/sheet1.xml" in outcome.error.detail

    utf16 = write_package(
        tmp_path / "utf16.xlsx", {"S": '<row r="1"><c r="A1" t="inlineStr"><is><t>ab</t></is></c></row>'}
    )
    with zipfile.ZipFile(utf16) as archive:
        parts = {i.filename: archive.read(i) for i in archive.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-16")
    with zipfile.ZipFile(utf16, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    outcome = run_task(FindReplace, [utf16], {"find": "a"}, tmp_path / "out2").outcome("utf16.xlsx")
    assert outcome.status == "failed" and outcome.error.kind == errors.UNSUPPORTED


def test_a_large_sheet_is_streamed_with_little_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With small read and spool buffers, the editor's memory stays a fraction of the sheet's size."""
    import xlbatch.package_edit.xml_stream
    import xlbatch.package_edit.zip_rewrite

    monkeypatch.setattr(xlbatch.package_edit.xml_stream, "CHUNK", 64 << 10)
    monkeypatch.setattr(xlbatch.package_edit.zip_rewrite, "SPOOL_BYTES", 64 << 10)
    rows = 40_000
    data = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Order {r} for ACME</t></is></c><c r="B{r}"><v>{r}</v></c></row>'
        for r in range(1, rows + 1)
    )
    src = write_package(tmp_path / "big.xlsx", {"S": data})
    size = zipfile.ZipFile(src).getinfo("xl/worksheets/sheet1.xml").file_size
    assert size > 4_500_000
    tracemalloc.start()
    try:
        outcome = run(src, tmp_path / "out", find="ACME", replace="Zeta")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcome.result["replacements"] == rows
    assert peak < size / 2, f"peak {peak:,} bytes for a {size:,}-byte sheet"  # a tree would take several times size
    with zipfile.ZipFile(tmp_path / "out" / "big.xlsx") as archive:
        text = archive.read("xl/worksheets/sheet1.xml").decode()
    assert text.count("for Zeta</t>") == rows and "ACME" not in text

    # Only the last cell matches: the copy starts there, re-reading the part up to it.
    outcome = run(src, tmp_path / "last", find=f"Order {rows} for", replace="Last order for")
    assert outcome.result["replacements"] == 1
    with zipfile.ZipFile(src) as before, zipfile.ZipFile(tmp_path / "last" / "big.xlsx") as after:
        old, new = before.read("xl/worksheets/sheet1.xml"), after.read("xl/worksheets/sheet1.xml")
    assert new == old.replace(f"Order {rows} for ACME".encode(), b"Last order for ACME")
