"""The workbook-wide pieces of an xlsx/xlsm package, read the way python-calamine reads them.

Which zip member holds which sheet (workbook.xml and its relationships), the shared strings, the
number format of every cell style (whether it shows a date, a duration or a plain number) and the
date system (1900 or 1904). The sheet extent scan and the sparse sheet reader both need these, and
both must agree with calamine, whose rules (from its xlsx reader and `formats.rs`) are followed here.
Only small parts are parsed whole; every parser is defusedxml's, so a DOCTYPE or entity is refused.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as SafeTree

# What a cell style's number format makes of a number.
NUMBER = 0
DATETIME = 1
DURATION = 2

# Built-in number formats that show dates and times (ECMA-376 18.8.30), and the one duration, as calamine has them.
# Matched as written (calamine compares the attribute's text, so "014" is no date format).
_BUILTIN_DATETIME = {"14", "15", "16", "17", "18", "19", "20", "21", "22", "45", "47"}
_BUILTIN_DURATION = "46"


def local(tag: str) -> str:
    """An element's or attribute's name without its namespace."""
    return tag.rpartition("}")[2]


def member_name(archive: zipfile.ZipFile, path: str) -> str | None:
    """The zip member for `path`, matched case-insensitively as calamine does; None if absent."""
    names = archive.namelist()
    if path in names:
        return path
    lowered = path.lower()
    return next((n for n in names if n.lower() == lowered), None)


def _parse(archive: zipfile.ZipFile, path: str) -> Any:
    name = member_name(archive, path)
    if name is None:
        return None
    return SafeTree.fromstring(archive.read(name))


@dataclass(frozen=True)
class SheetPart:
    name: str
    part: str  # the zip member holding the sheet's XML
    worksheet: bool  # False for chart and dialog sheets, which hold no cells


def sheet_parts(archive: zipfile.ZipFile) -> list[SheetPart]:
    """Every sheet of the workbook in order, with the zip member that holds it."""
    rels = _parse(archive, "xl/_rels/workbook.xml.rels")
    targets: dict[str, str] = {}
    if rels is not None:
        for rel in rels:
            if local(rel.tag) == "Relationship":
                targets[rel.get("Id", "")] = rel.get("Target", "")
    book = _parse(archive, "xl/workbook.xml")
    parts: list[SheetPart] = []
    if book is None:
        return parts
    for element in book.iter():
        if local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if local(k) == "id" and k.startswith("{")), "")
        target = targets.get(rid, "")
        # The target may be relative to xl/ or absolute (/xl/...), as calamine allows.
        if target.startswith("/xl/"):
            path = target[1:]
        elif target.startswith("xl/"):
            path = target
        else:
            path = f"xl/{target}"
        folder = path.split("/")[1] if path.count("/") >= 2 else ""
        parts.append(SheetPart(element.get("name", ""), path, folder == "worksheets"))
    return parts


def is_1904(archive: zipfile.ZipFile) -> bool:
    """True when the workbook counts dates from 1904 (workbookPr date1904="1" or "true")."""
    book = _parse(archive, "xl/workbook.xml")
    if book is None:
        return False
    for element in book.iter():
        if local(element.tag) == "workbookPr":
            return element.get("date1904", "") in ("1", "true")
    return False


_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# Excel writes characters XML cannot hold as _xHHHH_ (and a literal "_x" as _x005F_x).
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """Undo Excel's _xHHHH_ escapes (_x000D_ is a carriage return)."""
    return _ESCAPED.sub(lambda found: chr(int(found.group(1), 16)), text) if "_x" in text else text


def string_item(item: Any) -> str:
    """The text of a shared-string item or an inline string (`<si>` / `<is>`), as calamine reads it: every
    `<t>` outside phonetic runs (`<rPh>`) joined, each trimmed of XML white space unless it asks to keep
    it (xml:space="preserve"), then unescaped."""
    phonetic = {id(t) for rph in item.iter() if local(rph.tag) == "rPh" for t in rph.iter()}
    parts = []
    for element in item.iter():
        if local(element.tag) == "t" and id(element) not in phonetic:
            text = element.text or ""
            parts.append(text if element.get(_XML_SPACE) == "preserve" else text.strip(" \t\r\n"))
    return unescape("".join(parts))


def shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """The shared string table, streamed: it can be most of a workbook's size."""
    name = member_name(archive, "xl/sharedStrings.xml")
    strings: list[str] = []
    if name is None:
        return strings
    with archive.open(name) as member:
        for _event, element in SafeTree.iterparse(member, events=("end",)):
            if local(element.tag) == "si":
                strings.append(string_item(element))
                element.clear()
    return strings


def format_kind(code: str) -> int:
    """What a custom number format shows: DATETIME when its first section has a date or time letter outside
    quotes, brackets and escapes; DURATION for elapsed time ([h], [mm], [ss]); NUMBER otherwise.

    The same walk as calamine's `detect_custom_number_format`, so both readers type a cell alike.
    """
    escaped = quoted = False
    brackets = 0
    prev = " "
    hms = ampm = False
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\*":  # the next character is a literal (width, escape, fill)
            escaped = True
        elif quoted:
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ";":
            return NUMBER  # only the first section counts
        elif char == "[":
            brackets += 1
        elif char == "]" and brackets == 1 and hms:
            return DURATION
        elif char == "]":
            brackets = max(0, brackets - 1)
        elif brackets == 0 and not ampm and char in "aA":
            ampm = True
        elif brackets == 0 and (char in "pm/PM" if ampm else char in "dmhysDMHYS"):
            return DATETIME
        elif not (hms and char.lower() == prev.lower()):
            hms = prev == "[" and char in "mhsMHS"
        prev = char
    return NUMBER


def _builtin_kind(format_id: str) -> int:
    if format_id == _BUILTIN_DURATION:
        return DURATION
    return DATETIME if format_id in _BUILTIN_DATETIME else NUMBER


def cell_formats(archive: zipfile.ZipFile) -> list[int]:
    """For every cell style (`cellXfs/xf`, by index), what its number format makes of a number."""
    styles = _parse(archive, "xl/styles.xml")
    kinds: list[int] = []
    if styles is None:
        return kinds
    custom: dict[str, str] = {}
    for group in styles.iter():
        if local(group.tag) != "numFmts":  # not the numFmt of differential (conditional) formats
            continue
        for element in group:
            code = element.get("formatCode", "")
            if local(element.tag) == "numFmt" and code:
                custom[element.get("numFmtId", "")] = code
    for group in styles.iter():
        if local(group.tag) != "cellXfs":
            continue
        for xf in group:
            if local(xf.tag) != "xf":
                continue
            format_id = xf.get("numFmtId")
            if format_id is None:
                kinds.append(NUMBER)
            elif format_id in custom:
                kinds.append(format_kind(custom[format_id]))
            else:
                kinds.append(_builtin_kind(format_id))
    return kinds
