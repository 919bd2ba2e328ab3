"""Helpers for the find & replace tests: zip members compared one by one, packages written by hand
(for the cases no library writes), the real-world workbooks, values read back with python-calamine, and
LibreOffice's headless conversion to CSV.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import python_calamine

REPO = Path(__file__).resolve().parents[2]
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def realworld_dir() -> Path:
    """The real-world workbooks (calamine's test files), or skip the test when they are not here."""
    for candidate in (REPO.parent / "shared" / "realworld", Path("/work/shared/realworld")):
        if (candidate / "calamine").is_dir():
            return candidate / "calamine"
    pytest.skip("the real-world workbooks (../shared/realworld) are not available")


def realworld(name: str, tmp_path: Path) -> Path:
    """A copy of one real-world workbook in tmp_path (they are only ever read from their folder)."""
    source = realworld_dir() / name
    target = tmp_path / "in" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def members(path: Path) -> list[tuple[str, bytes]]:
    """Every zip member, in order, with its decompressed content."""
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def changed_members(before: Path, after: Path) -> set[str]:
    """The members whose content differs; fails unless both have the same members in the same order."""
    old, new = members(before), members(after)
    assert [name for name, _ in old] == [name for name, _ in new], "member names or order changed"
    return {name for (name, a), (_, b) in zip(old, new, strict=True) if a != b}


def member_text(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def calamine_values(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's values from A1 as python-calamine reads them (cached results for formulas)."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    finally:
        book.close()


def sheet_extent(path: Path) -> int:
    """Rows x columns of the largest sheet's used range (calamine builds that rectangle in memory)."""
    largest = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not name.lower().endswith(".xml") or "sheet" not in name.lower():
                continue
            refs = re.findall(rb'<(?:\w+:)?c [^>]*?r="([A-Z]+)([0-9]+)"', archive.read(name))
            if refs:
                columns = max(_column(letters.decode()) for letters, _ in refs)
                largest = max(largest, columns * max(int(row) for _, row in refs))
    return largest


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


# -- hand-written packages ---------------------------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
    "{sheets}{strings}</Types>"
)
_WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def write_package(
    path: Path,
    sheets: dict[str, str],
    shared_strings: str | None = None,
    calc: str = "",
    main_type: str = _WORKBOOK_TYPE,
) -> Path:
    """A minimal workbook from sheet name -> <sheetData> content (main namespace, no prefix), and
    optionally the <si> items of a shared string table and a <calcPr> element."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_TYPE}"/>'
        for i in range(1, len(sheets) + 1)
    )
    sst_override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>' if shared_strings else ""
    sheet_list = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, start=1)
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_TYPE}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    if shared_strings is not None:
        rels += f'<Relationship Id="rIdS" Type="{REL_TYPE}/sharedStrings" Target="sharedStrings.xml"/>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml", _CONTENT_TYPES.format(main=main_type, sheets=overrides, strings=sst_override)
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{REL_TYPE}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f"<sheets>{sheet_list}</sheets>{calc}</workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>',
        )
        for i, data in enumerate(sheets.values(), start=1):
            archive.writestr(
                f"xl/worksheets/sheet{i}.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><sheetData>{data}</sheetData>'
                "</worksheet>",
            )
        if shared_strings is not None:
            count = shared_strings.count("<si>") + shared_strings.count("<si/>")
            archive.writestr(
                "xl/sharedStrings.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{count}" '
                f'uniqueCount="{count}">{shared_strings}</sst>',
            )
    return path


def add_text_row(source: Path, target: Path, text: str, sheet_member: str | None = None) -> Path:
    """A copy of `source` with one more row holding `text` as an inline string in `sheet_member`
    (sheet1.xml by default): a real-world package, every other member as it was, with text to replace."""
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        if sheet_member is None:
            sheet_member = "xl/worksheets/sheet1.xml"
        data = archive.read(sheet_member).decode("utf-8")
        rows = [int(r) for r in re.findall(r'<row [^>]*?r="(\d+)"', data)]
        number = max(rows, default=0) + 1
        row = f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        if "<sheetData/>" in data:
            data = data.replace("<sheetData/>", f"<sheetData>{row}</sheetData>")
        else:
            data = data.replace("</sheetData>", f"{row}</sheetData>")
        with zipfile.ZipFile(target, "w") as out:
            for info in infos:
                out.writestr(info, data.encode() if info.filename == sheet_member else archive.read(info))
    return target


# -- LibreOffice -------------------------------------------------------------------------------------


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice (soffice) is not installed; CI installs libreoffice-calc-nogui")
    return found


def libreoffice_csv(paths: list[Path], folder: Path) -> dict[Path, list[list[str]]]:
    """Each workbook's first sheet as LibreOffice reads it, converted to CSV in one headless run."""
    program = soffice()
    folder.mkdir(parents=True, exist_ok=True)
    profile = (folder / "profile").as_uri()  # a private profile: parallel runs do not share a lock
    command = [
        program,
        f"-env:UserInstallation={profile}",
        "--headless",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76",
    ]
    result = subprocess.run(
        [*command, "--outdir", str(folder), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(folder)},
    )
    converted: dict[Path, list[list[str]]] = {}
    for path in paths:
        target = folder / f"{path.stem}.csv"
        assert target.exists(), f"LibreOffice did not convert {path.name}: {result.stdout} {result.stderr}"
        converted[path] = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    return converted
