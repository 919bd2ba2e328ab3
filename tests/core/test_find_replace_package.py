"""find_replace edits the package, it does not re-save it: every member it has no reason to touch comes
back byte for byte (decompressed content), with the same names in the same order, and the replaced
text is where it should be and nowhere else.

Workbooks come from xlsxwriter (charts, images, comments, tables, data validation, conditional formats,
hyperlinks, headers) and from the real-world folder (pivots, pictures in and over cells, macros,
tables, Strict OOXML, odd namespace prefixes). Values are read back with python-calamine and openpyxl;
a handful of copies are opened by LibreOffice.
"""

from __future__ import annotations

import re
import struct
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from tests.core.find_replace_kit import (
    add_text_row,
    calamine_values,
    changed_members,
    libreoffice_csv,
    member_text,
    members,
    realworld,
    realworld_dir,
    sheet_extent,
)
from tests.core.task_kit import run_task, sha256
from xlbatch.preflight import sniff
from xlbatch.tasks.find_replace import FindReplace


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (solid red), so the test needs no image file."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def build_featured(path: Path) -> Path:
    """A workbook with a chart, an image, a comment, a table, data validation, conditional formats, a
    hyperlink, a header, a defined name and rich text, and a second sheet sharing text with the first."""
    import io

    book = xlsxwriter.Workbook(str(path))
    sales = book.add_worksheet("Sales")
    other = book.add_worksheet("Other")
    bold = book.add_format({"bold": True})
    sales.write_row(0, 0, ["Supplier", "Amount"])
    for row, (name, amount) in enumerate([("ACME Ltd", 10), ("Bolt & Co", 20), ("ACME Ltd", 30)], start=1):
        sales.write_string(row, 0, name)
        sales.write_number(row, 1, amount)
    sales.write_rich_string(4, 0, "Paid to ", bold, "ACME", " Ltd")
    sales.write_comment("A2", "Check ACME Ltd's invoice")
    sales.insert_image("D2", "logo.png", {"image_data": io.BytesIO(png_bytes())})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": "ACME sales", "categories": "=Sales!$A$2:$A$4", "values": "=Sales!$B$2:$B$4"})
    chart.set_title({"name": "ACME Ltd sales"})
    sales.insert_chart("D8", chart)
    sales.data_validation("A2:A10", {"validate": "list", "source": ["ACME Ltd", "Bolt & Co"]})
    sales.conditional_format("A2:A10", {"type": "text", "criteria": "containing", "value": "ACME", "format": bold})
    sales.write_url("A7", "https://example.com/acme", string="ACME Ltd website")
    sales.set_header("&CACME Ltd price list")
    book.define_name("Supplier", '="ACME Ltd"')
    other.add_table(
        "A1:B3", {"columns": [{"header": "ACME code"}, {"header": "Price"}], "data": [["ACME Ltd", 1], ["X", 2]]}
    )
    other.write_string(5, 0, "ACME Ltd")
    book.close()
    return path


def replace(src: Path, out: Path, **params: Any) -> tuple[Any, Path]:
    run = run_task(FindReplace, [src], params, out)
    outcome = run.outcome(src.name)
    assert outcome.status == "ok", outcome.error
    return outcome, Path(outcome.outputs[0]) if outcome.outputs else out / src.name


def test_a_featured_workbook_keeps_every_member_it_does_not_edit(tmp_path: Path) -> None:
    src = build_featured(tmp_path / "featured.xlsx")
    before = sha256(src)
    outcome, out = replace(src, tmp_path / "out", find="ACME", replace="Zeta")
    assert sha256(src) == before

    # Every cell's text lives in the shared strings: that is the one part rewritten.
    assert changed_members(src, out) == {"xl/sharedStrings.xml"}
    names = [name for name, _ in members(out)]
    for kept in ("xl/charts/chart1.xml", "xl/media/image1.png", "xl/comments1.xml", "xl/tables/table1.xml"):
        assert kept in names
    assert "ACME Ltd sales" in member_text(out, "xl/charts/chart1.xml")  # chart text is not a cell
    assert "ACME Ltd&apos;s invoice" in member_text(out, "xl/comments1.xml") or "ACME Ltd's invoice" in member_text(
        out, "xl/comments1.xml"
    )

    values = calamine_values(out)
    assert [row[0] for row in values["Sales"][:7]] == [
        "Supplier",
        "Zeta Ltd",
        "Bolt & Co",
        "Zeta Ltd",
        "Paid to Zeta Ltd",
        "",
        "Zeta Ltd website",
    ]
    # The table's heading must keep matching the table's column name; its data cell changes.
    assert values["Other"][0][0] == "ACME code"
    assert values["Other"][1][0] == "Zeta Ltd" and values["Other"][5][0] == "Zeta Ltd"
    assert any("Other!A1" in w and "table" in w for w in outcome.warnings)
    assert outcome.result["per_sheet"] == {"Sales": 4, "Other": 2}
    assert outcome.result["cells_changed"] == 6

    book = openpyxl.load_workbook(out, rich_text=True)
    rich = book["Sales"]["A5"].value
    assert [getattr(part, "text", part) for part in rich] == ["Paid to ", "Zeta", " Ltd"]
    assert rich[1].font.b  # the bold run stayed bold
    assert book["Sales"]["A7"].hyperlink.target == "https://example.com/acme"
    assert book["Sales"].oddHeader.center.text == "ACME Ltd price list"
    assert book.defined_names["Supplier"].attr_text == '"ACME Ltd"'
    assert [str(dv.sqref) for dv in book["Sales"].data_validations.dataValidation] == ["A2:A10"]
    book.close()


def test_a_shared_string_used_by_a_sheet_not_selected_is_split(tmp_path: Path) -> None:
    src = build_featured(tmp_path / "featured.xlsx")
    outcome, out = replace(src, tmp_path / "out", find="ACME Ltd", replace="Zeta Group", sheets="Sales")
    assert outcome.result["per_sheet"] == {"Sales": 4}
    values = calamine_values(out)
    assert values["Sales"][1][0] == "Zeta Group" and values["Sales"][4][0] == "Paid to Zeta Group"
    assert any("Sales!A5" in w and "formatting" in w for w in outcome.warnings)  # "ACME" bold, " Ltd" not
    assert values["Other"][1][0] == "ACME Ltd" and values["Other"][5][0] == "ACME Ltd"  # not selected: unchanged
    # The edited sheet's cells point at a new item; the other sheet's part is untouched.
    assert changed_members(src, out) == {"xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"}
    old_sst, new_sst = member_text(src, "xl/sharedStrings.xml"), member_text(out, "xl/sharedStrings.xml")
    old_unique = int(old_sst.split('uniqueCount="')[1].split('"')[0])
    assert f'uniqueCount="{old_unique + 1}"' in new_sst
    assert old_sst.split('count="')[1].split('"')[0] == new_sst.split('count="')[1].split('"')[0]
    assert new_sst.count("<si>") == old_unique + 1 and "<si><t>Zeta Group</t></si></sst>" in new_sst


def test_a_shared_string_only_selected_sheets_use_is_edited_in_place(tmp_path: Path) -> None:
    src = build_featured(tmp_path / "featured.xlsx")
    outcome, out = replace(src, tmp_path / "out", find="Bolt", replace="Nut", sheets="1")
    assert changed_members(src, out) == {"xl/sharedStrings.xml"}
    assert member_text(out, "xl/sharedStrings.xml").count("<si>") == member_text(src, "xl/sharedStrings.xml").count(
        "<si>"
    )
    assert calamine_values(out)["Sales"][2][0] == "Nut & Co"


def test_pivot_tables_and_their_caches_are_kept(tmp_path: Path) -> None:
    src = realworld("pivots.xlsx", tmp_path)
    outcome, out = replace(src, tmp_path / "out", find="blue", replace="navy", match_case=True)
    changed = changed_members(src, out)
    assert changed and changed <= {"xl/sharedStrings.xml", "xl/workbook.xml"} | {
        f"xl/worksheets/sheet{i}.xml" for i in range(1, 7)
    }
    assert not any(name.startswith(("xl/pivot", "customXml/")) for name in changed)
    assert outcome.result["replacements"] > 0
    for rows in calamine_values(out).values():
        assert not any(isinstance(v, str) and "blue" in v for row in rows for v in row)
    cache = member_text(out, "xl/pivotCache/pivotCacheRecords1.xml") + member_text(
        out, "xl/pivotCache/pivotCacheDefinition1.xml"
    )
    assert "blue" in cache  # the cache still says what it said: refreshing the pivot is Excel's job
    pivot_notes = sorted(w.split("'")[1] for w in outcome.warnings if "pivot table" in w)
    assert pivot_notes == ["PivotTable2", "PivotTable5", "PivotTable6"]  # once per pivot table shown changed


@pytest.mark.parametrize(
    "name",
    ["picture.xlsx", "pictures_in_cell_and_over_cell.xlsx", "picture_richdata.xlsx", "vba.xlsm", "issue281.xlsm"],
)
def test_pictures_and_macros_stay_byte_for_byte(tmp_path: Path, name: str) -> None:
    original = realworld(name, tmp_path)
    src = add_text_row(original, tmp_path / f"with-text{original.suffix}", "Supplier ACME Ltd")
    outcome, out = replace(src, tmp_path / "out", find="ACME", replace="Zeta")
    assert out.suffix == original.suffix
    assert outcome.result["replacements"] == 1
    changed = changed_members(src, out)
    assert changed <= {"xl/worksheets/sheet1.xml", "xl/workbook.xml"} and "xl/worksheets/sheet1.xml" in changed
    kept = dict(members(src))
    for member, data in members(out):
        if member.startswith(("xl/media/", "xl/drawings/", "xl/richData/", "xl/metadata.xml")) or member.endswith(
            ".bin"
        ):
            assert data == kept[member]
    values = calamine_values(out)
    texts = [v for rows in values.values() for row in rows for v in row if isinstance(v, str) and v]
    assert "Supplier Zeta Ltd" in texts and not any("ACME" in t for t in texts)
    if original.suffix == ".xlsm":
        assert sniff(out).format == "xlsm"


def test_tables_keep_their_column_names(tmp_path: Path) -> None:
    src = realworld("table-multiple.xlsx", tmp_path)
    outcome, out = replace(src, tmp_path / "out", find="Item", replace="Article")
    values = calamine_values(out)
    assert [rows[0][0] for rows in values.values()] == ["Item", "Item", "Item"]  # the tables' headings
    assert values["Sheet3"][6][0] == "Item"  # a second table on the same sheet
    assert sum("table" in w for w in outcome.warnings) == 4
    assert outcome.result["replacements"] == 0
    assert changed_members(src, out) == set()
    src = realworld("table-multiple.xlsx", tmp_path / "again")
    outcome, out = replace(src, tmp_path / "out2", find="Banana", replace="Plantain")
    assert calamine_values(out)["Sheet1"][2][1] == "Plantain"
    assert changed_members(src, out) == {"xl/sharedStrings.xml"}


def test_a_table_heading_keeps_the_text_it_shares_with_edited_cells(tmp_path: Path) -> None:
    """The heading and two other cells hold one shared string: before the table (that item is then being
    rewritten when the heading comes) and inside it (it comes after the heading)."""
    src = tmp_path / "shared-heading.xlsx"
    book = xlsxwriter.Workbook(str(src))
    sheet = book.add_worksheet("S")
    sheet.write_string(0, 0, "ACME")
    sheet.add_table("A3:B5", {"columns": [{"header": "ACME"}, {"header": "Amount"}], "data": [["ACME", 1], ["x", 2]]})
    book.close()
    outcome, out = replace(src, tmp_path / "out", find="ACME", replace="Zeta")
    values = calamine_values(out)["S"]
    assert [values[0][0], values[2][0], values[3][0]] == ["Zeta", "ACME", "Zeta"]
    assert outcome.result["replacements"] == 2
    assert [w.split(" ")[1] for w in outcome.warnings] == ["S!A3"]
    assert changed_members(src, out) == {"xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"}
    assert 'name="ACME"' in member_text(out, "xl/tables/table1.xml")


def test_strict_ooxml_and_other_namespace_prefixes(tmp_path: Path) -> None:
    src = realworld("strict_iso_paths.xlsx", tmp_path)
    outcome, out = replace(src, tmp_path / "out", find="Fold", replace="Crease", match_case=True)
    assert outcome.result["replacements"] == 4  # Number Off Fold Tracks, and Minimal/Maximal/Average Fold Length
    header = next(iter(calamine_values(out).values()))[0]
    assert "Number Off Crease Tracks" in header and "Average Crease Length" in header
    assert 'xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"' in member_text(out, "xl/sharedStrings.xml")

    src = realworld("richtext-namespaced.xlsx", tmp_path / "ns")  # every element written as x:...
    outcome, out = replace(src, tmp_path / "out-ns", find="Line 2", replace="Second line", sheets="1")
    values = calamine_values(out)
    first = next(iter(values))
    assert values[first][0][0] == "inline string\nSecond line\nLine 3"
    assert values[first][0][7] == "shared string\nSecond line\nLine 3"
    sst = member_text(out, "xl/sharedStrings.xml")
    assert "<x:si><x:t>shared string\nSecond line\nLine 3</x:t></x:si>" in sst

    src = realworld("nonstandard-xml-ns-prefix.xlsx", tmp_path / "prefix")  # the sheet's r:id written ns:id
    outcome, out = replace(src, tmp_path / "out-prefix", find="a", replace="apple", whole_cell=True)
    assert outcome.result["per_sheet"] == {"Sheet1": 1}
    assert calamine_values(out)["Sheet1"][0] == ["apple", "b"]


def _expected(value: Any, find: str, replacement: str) -> Any:
    if not isinstance(value, str):
        return value
    out, start, lowered, needle = [], 0, value.lower(), find.lower()
    while (at := lowered.find(needle, start)) >= 0:
        out += [value[start:at], replacement]
        start = at + len(find)
    return "".join(out) + value[start:]


def _formula_cells(path: Path) -> dict[str, set[tuple[int, int]]] | None:
    """(row, column) of every formula cell per sheet, from openpyxl; None when it cannot read the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path)
    except Exception:  # noqa: BLE001 - openpyxl cannot read every real-world file (Strict OOXML, ...)
        return None
    found = {
        ws.title: {(c.row - 1, c.column - 1) for row in ws.iter_rows() for c in row if c.data_type == "f"}
        for ws in book.worksheets
    }
    book.close()
    return found


def _editable_realworld() -> list[Path]:
    try:
        folder = realworld_dir()
    except pytest.skip.Exception:
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix in (".xlsx", ".xlsm"):
            try:
                if sniff(path).format in ("xlsx", "xlsm"):
                    found.append(path)
            except Exception:  # noqa: BLE001 - damaged, encrypted or not a workbook: preflight's business
                continue
    return found


def test_every_real_world_workbook(tmp_path: Path) -> None:
    """A single common letter replaced in every editable real-world workbook: no failure, only the parts
    holding text change, values are as expected, and LibreOffice opens a handful of the copies."""
    paths = _editable_realworld()
    if not paths:
        pytest.skip("the real-world workbooks (../shared/realworld) are not available")
    assert len(paths) >= 60
    opened: list[Path] = []
    for path in paths:
        src = realworld(path.name, tmp_path)
        outcome, out = replace(src, tmp_path / "out" / path.stem, find="e", replace="#")
        changed = changed_members(src, out)
        text_parts = _text_parts(src)
        assert changed <= text_parts, (path.name, changed - text_parts)
        assert bool(changed) == (outcome.result["replacements"] > 0) or changed <= {"xl/workbook.xml"}
        if sheet_extent(src) > 2_000_000:
            continue  # calamine would build a huge dense grid (issue_174: a value at XFD1048576)
        kept = {w[5:].split(" ")[0].rstrip(":") for w in outcome.warnings if w.startswith("Cell ")}
        formulas = _formula_cells(src)
        before, after = calamine_values(src), calamine_values(out)
        for sheet, rows in before.items():
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    formula = formulas is not None and (r, c) in formulas.get(sheet, set())
                    ref = f"{_letters(c + 1)}{r + 1}"
                    want = value if formula or f"{sheet}!{ref}" in kept else _expected(value, "e", "#")
                    assert after[sheet][r][c] == want, (path.name, sheet, ref)
        if outcome.result["replacements"] and len(opened) < 6:
            opened.append(out)
    converted = libreoffice_csv(opened, tmp_path / "lo")
    for path, rows in converted.items():
        first = next(iter(calamine_values(path).values()))
        texts = {v.replace("\r\n", "\n") for row in first for v in row if isinstance(v, str) and "#" in v}
        shown = {cell for row in rows for cell in row}
        assert texts and texts <= shown, (path.name, texts - shown)


_TEXT_PART_TYPES = ("worksheet+xml", "sharedStrings+xml", ".main+xml")


def _text_parts(src: Path) -> set[str]:
    """The members that may hold text a replacement changes: worksheets, shared strings and the workbook
    part, by their content type (minimal packages name them freely) or their usual names."""
    with zipfile.ZipFile(src) as archive:
        names = archive.namelist()
        types = archive.read(next(n for n in names if n.endswith("[Content_Types].xml"))).decode("utf-8", "replace")
    declared = {m.lower() for m, kind in re.findall(r'PartName="/?([^"]+)"\s+ContentType="([^"]+)"', types)
                if kind.endswith(_TEXT_PART_TYPES)}  # fmt: skip
    parts = set()
    for name in names:
        plain = name.replace("\\", "/")
        usual = "worksheets/" in plain or "sharedstrings" in plain.lower() or plain.endswith("workbook.xml")
        if usual or plain.lower() in declared:
            parts.add(name)
    return parts


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def test_libreoffice_opens_the_copies_and_shows_the_new_text(tmp_path: Path) -> None:
    featured = build_featured(tmp_path / "featured.xlsx")
    _, out_featured = replace(featured, tmp_path / "a", find="ACME", replace="Zeta")
    inline = tmp_path / "inline.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"], book.active["A2"] = "ACME inline", "=1+1"
    book.save(inline)
    _, out_inline = replace(inline, tmp_path / "b", find="ACME", replace="Zeta", include_formulas=True)
    converted = libreoffice_csv([out_featured, out_inline], tmp_path / "lo")
    featured_rows = converted[out_featured]
    assert [row[0] for row in featured_rows[:5]] == [
        "Supplier",
        "Zeta Ltd",
        "Bolt & Co",
        "Zeta Ltd",
        "Paid to Zeta Ltd",
    ]
    assert not any("ACME" in cell for row in featured_rows for cell in row)
    assert converted[out_inline][:2] == [["Zeta inline"], ["2"]]
