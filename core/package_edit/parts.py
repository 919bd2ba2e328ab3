"""Find a workbook's parts the way Office does: through the package relationships and content types,
never by assuming names like `xl/worksheets/sheet1.xml`.

`_rels/.rels` names the workbook part (falling back to the part whose content type is a workbook's);
the workbook's own relationships name its sheets (by the `r:id` of each `<sheet>` in workbook.xml) and
its shared strings. Targets may be relative to the source part or absolute (`/xl/...`), percent-encoded,
and differ in case from the zip member (part names are case-insensitive). Transitional and Strict
OOXML differ only in namespace and relationship-type URIs, so types are compared by their last segment.

workbook.xml is read with the streaming parser (it can hold many defined names); the position of its
`<calcPr>` is kept, so that `full_calc_edit()` can ask Excel to recalculate on open.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeTree

from xlbatch.cell_refs import position
from xlbatch.package_edit.xml_stream import (
    XmlStream,
    attribute_names,
    get_attribute,
    is_self_closing,
    names,
    qname,
    set_attribute,
)

# Relationship and content-type parts are small; a bigger one is not something Office wrote.
MAX_SMALL_PART = 16 << 20
WORKSHEET, CHARTSHEET = "worksheet", "chartsheet"
SHEET_KINDS = (WORKSHEET, CHARTSHEET, "dialogsheet", "xlMacrosheet", "xlIntlMacrosheet")
_WORKBOOK_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
)
_SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


class PackageError(Exception):
    """The package lacks a part a workbook must have, or a part cannot be read."""


@dataclass(frozen=True)
class TableRows:
    """A table's heading and totals rows: (row, first column, last column), numbered from 1.

    Excel requires a table's heading cells to hold its column names (and its totals row, their labels)
    as the table part states them; a copy where they differ is "repaired" by dropping the table."""

    name: str
    rows: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class PivotArea:
    """The cells a pivot table shows (its page fields included): (top, left, bottom, right), from 1."""

    name: str
    area: tuple[int, int, int, int]


@dataclass(frozen=True)
class SheetPart:
    """One sheet as the workbook lists it: its name, kind and zip member (None when the part is missing)."""

    name: str
    kind: str
    member: str | None
    tables: tuple[TableRows, ...] = ()
    pivots: tuple[PivotArea, ...] = ()


@dataclass
class Workbook:
    """The parts find & replace works with."""

    member: str
    sheets: list[SheetPart] = field(default_factory=list)
    shared_strings: str | None = None
    calc_tag: bytes | None = None  # the raw <calcPr ...> start tag, and where it is
    calc_at: int = 0
    insert_calc_at: int = 0  # where a missing <calcPr> goes (after sheets/definedNames...)
    prefix: bytes = b""  # the main namespace's prefix as the workbook writes it (b"x:" or b"")

    @property
    def worksheets(self) -> list[SheetPart]:
        return [sheet for sheet in self.sheets if sheet.kind == WORKSHEET]


class Members:
    """Zip member lookup by part name: exact first, then ignoring case, as OPC part names are, and with
    backslashes read as slashes (some writers store `xl\\worksheets\\sheet1.xml`; the member keeps its name)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.exact = set(archive.namelist())
        self.folded = {name.replace("\\", "/").casefold(): name for name in reversed(archive.namelist())}

    def find(self, part: str) -> str | None:
        part = part.lstrip("/")
        if part in self.exact:
            return part
        return self.folded.get(part.casefold())

    def read_small(self, member: str) -> bytes:
        info = self.archive.getinfo(member)
        if info.file_size > MAX_SMALL_PART:
            raise PackageError(f"{member} is {info.file_size} bytes, too large for its kind of part")
        return self.archive.read(member)


def read_workbook(archive: zipfile.ZipFile) -> Workbook:
    """The workbook part, its sheets in workbook order and its shared strings, found by relationship."""
    members = Members(archive)
    content_types = _content_types(members)
    member = _workbook_member(members, content_types)
    relationships = _relationships(members, member)
    reader = _WorkbookReader()
    with archive.open(member) as stream:
        reader.run(stream)
    book = Workbook(member)
    book.calc_tag, book.calc_at, book.insert_calc_at, book.prefix = (
        reader.calc_tag,
        reader.calc_at,
        reader.insert_at,
        reader.prefix,
    )
    for name, rel_id in reader.sheets:
        kind, target = relationships.get(rel_id, ("", None))
        found = members.find(target) if target else None
        if found and kind not in SHEET_KINDS and content_types.get(found.casefold()) == _WORKSHEET_TYPE:
            kind = WORKSHEET
        tables, pivots = _tables(members, found) if found and kind == WORKSHEET else ((), ())
        book.sheets.append(SheetPart(name, kind, found, tables, pivots))
    strings = [target for kind, target in relationships.values() if kind == "sharedStrings"]
    if not strings:
        strings = [name for name, kind in content_types.items() if kind == _SHARED_STRINGS_TYPE]
    book.shared_strings = next((found for part in strings if (found := members.find(part))), None)
    return book


def full_calc_edit(book: Workbook) -> tuple[int, int, bytes] | None:
    """The edit of workbook.xml that sets fullCalcOnLoad="1", or None when it is set already."""
    if book.calc_tag is None:
        tag = b"<" + book.prefix + b'calcPr fullCalcOnLoad="1"/>'
        return book.insert_calc_at, book.insert_calc_at, tag
    if get_attribute(book.calc_tag, b"fullCalcOnLoad") in (b"1", b"true"):
        return None
    new = set_attribute(book.calc_tag, b"fullCalcOnLoad", b"1")
    return book.calc_at, book.calc_at + len(book.calc_tag), new


def _tables(members: Members, sheet: str) -> tuple[tuple[TableRows, ...], tuple[PivotArea, ...]]:
    """The tables' heading and totals rows, and the pivot tables' areas, on a worksheet."""
    tables: list[TableRows] = []
    pivots: list[PivotArea] = []
    for kind, target in _relationships(members, sheet).values():
        member = members.find(target) if kind in ("table", "pivotTable") else None
        if member is None:
            continue
        if kind == "pivotTable":
            pivots.extend(_pivot_area(members, member))
            continue
        try:
            root = _parse_small(members, member)
        except PackageError:
            continue  # an unreadable table part: Excel will not show that table either
        area = _area(root.get("ref", ""))
        if area is None:
            continue
        top, left, bottom, right = area
        rows: list[tuple[int, int, int]] = []
        if root.get("headerRowCount", "1") != "0":
            rows.append((top, left, right))
        if root.get("totalsRowCount", "0") not in ("0", ""):
            rows.append((bottom, left, right))
        tables.append(TableRows(root.get("displayName") or root.get("name") or "", tuple(rows)))
    return tuple(tables), tuple(pivots)


def _pivot_area(members: Members, member: str) -> list[PivotArea]:
    """A pivot table's area, read up to its <location> (the part can be long; the rest is not needed).
    Only a warning depends on it, so a part that cannot be read gives none."""
    try:
        return _read_pivot_area(members, member)
    except (SafeTree.ParseError, DefusedXmlException, ValueError, zipfile.BadZipFile):
        return []


def _read_pivot_area(members: Members, member: str) -> list[PivotArea]:
    with members.archive.open(member) as stream:
        name = ""
        for _event, element in SafeTree.iterparse(stream, events=("start",), forbid_dtd=True):
            if element.tag.endswith("}pivotTableDefinition"):
                name = element.get("name", "")
            elif element.tag.endswith("}location"):
                area = _area(element.get("ref", ""))
                if area is None:
                    return []
                top, left, bottom, right = area
                pages = int(element.get("rowPageCount", "0") or 0)
                top = max(1, top - (pages + 1)) if pages else top  # page fields sit above, a row apart
                return [PivotArea(name, (top, left, bottom, right))]
    return []


def _parse_small(members: Members, member: str) -> Any:
    """A small part (relationships, content types, a table) as an element tree, parsed safely."""
    try:
        return SafeTree.fromstring(members.read_small(member), forbid_dtd=True)
    except (SafeTree.ParseError, DefusedXmlException) as exc:
        raise PackageError(f"{member} cannot be read: {exc}") from None


def _area(ref: str) -> tuple[int, int, int, int] | None:
    corners = ref.split(":")
    try:
        (top, left), (bottom, right) = position(corners[0]), position(corners[-1])
    except ValueError:
        return None
    return top, left, bottom, right


def _content_types(members: Members) -> dict[str, str]:
    """Part name (case-folded, without the leading /) to content type, from the Override entries."""
    member = members.find("[Content_Types].xml")
    if member is None:
        return {}
    root = _parse_small(members, member)
    found: dict[str, str] = {}
    for item in root.findall("{*}Override"):
        part, kind = item.get("PartName"), item.get("ContentType")
        if part and kind:
            found[unquote(part).lstrip("/").casefold()] = kind.strip()
    return found


def _workbook_member(members: Members, content_types: dict[str, str]) -> str:
    for kind, target in _relationships(members, "").values():
        if kind == "officeDocument" and (found := members.find(target)):
            return found
    for part, kind in content_types.items():
        if kind in _WORKBOOK_TYPES and (found := members.find(part)):
            return found
    raise PackageError("the package names no workbook part")


def _relationships(members: Members, source: str) -> dict[str, tuple[str, str]]:
    """Relationship id to (type's last segment, target part name) for the part `source` ('' = package)."""
    folder, name = posixpath.split(source)
    member = members.find(posixpath.join(folder, "_rels", f"{name}.rels"))
    if member is None:
        return {}
    root = _parse_small(members, member)
    found: dict[str, tuple[str, str]] = {}
    for item in root.findall("{*}Relationship"):
        rel_id, kind, target = item.get("Id"), item.get("Type", ""), item.get("Target")
        if not rel_id or not target or item.get("TargetMode") == "External":
            continue
        target = unquote(target.replace("\\", "/"))
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[rel_id] = (kind.rstrip("/").rsplit("/", 1)[-1], part)
    return found


_SHEETS = names("sheets")
_SHEET = names("sheet")
_CALC = names("calcPr")
_R_ID = attribute_names("id")
# CT_Workbook's sequence: calcPr follows these; a new calcPr goes after the last one present.
_BEFORE_CALC = names("sheets") | names("functionGroups") | names("externalReferences") | names("definedNames")


class _WorkbookReader(XmlStream):
    """Sheet names and relationship ids in order, and where calcPr is (or would go), from workbook.xml."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.sheets: list[tuple[str, str]] = []
        self.calc_tag: bytes | None = None
        self.calc_at = 0
        self.insert_at = 0
        self.prefix = b""
        self.child_tag = b""
        self.last = 0

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        at = self.last = self.pos()
        if self.depth == 3 and name in _SHEET:
            rel_id = next((value for key, value in attrs.items() if key in _R_ID), "")
            self.sheets.append((attrs.get("name", ""), rel_id))
        elif self.depth == 2:
            self.child_tag = self.slice(at, self.tag_end(at))
            if name in _CALC:
                self.calc_at, self.calc_tag = at, self.child_tag
            elif name in _SHEETS:
                tag_name = qname(self.child_tag)
                self.prefix = tag_name[: tag_name.index(b":") + 1] if b":" in tag_name else b""

    def _end(self, name: str) -> None:
        at = self.last = self.pos()
        if self.depth == 2 and name in _BEFORE_CALC:
            self.insert_at = at if is_self_closing(self.child_tag) else self.close_tag_end(at)
        self.depth -= 1

    def _after_chunk(self, final: bool) -> None:
        self.release(self.last)  # every later event is at or after the last one
