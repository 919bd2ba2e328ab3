"""Preflight: look at a file's first bytes (never its extension alone) before any reader opens it.

Answers, cheaply and without inflating anything: what format is this really (zip: xlsx/xlsm/xlsb/ods;
OLE2: xls or an encrypted OOXML package; text: csv), is it password-protected, is it a zip bomb, is it
empty. Problems become `TaskFailure`s with plain sentences, so every task gets the same checks and the
same wording. Routing by content means an .xls renamed .xlsx is still read correctly.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.errors import TaskFailure

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# A real workbook's XML compresses 5-30x, rarely 100x; a zip bomb compresses 1000x. These limits stop
# bombs before a reader inflates them, without refusing large honest workbooks.
MAX_UNCOMPRESSED_BYTES = 3 * 1024**3
MAX_RATIO = 250
RATIO_APPLIES_ABOVE = 100 * 1024**2

WORKBOOK_FORMATS = ("xlsx", "xlsm", "xlsb", "xls", "ods", "csv")
TEXT_EXTENSIONS = {".csv", ".txt", ".tsv"}


@dataclass(frozen=True)
class SourceFile:
    """A file ready for a task: where it is, what it really is, and its place below the inputs' root."""

    path: str
    format: str  # one of WORKBOOK_FORMATS
    size: int
    rel: str  # path relative to the common root of the inputs, with forward slashes
    # Each sheet's extent (xlbatch.extent.SheetExtent), measured by sniff(); None when not measured.
    extents: tuple[Any, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def stem(self) -> str:
        return Path(self.path).stem


def _read_head(path: Path, count: int = 8192) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(count)


def sniff(path: str | os.PathLike[str], rel: str | None = None) -> SourceFile:
    """Check one file and say what it really is; raise TaskFailure if it cannot be processed."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TaskFailure(
            errors.NOT_FOUND, "The file could not be found; it may have been moved or deleted.", str(path)
        ) from None
    if size == 0:
        raise TaskFailure(errors.EMPTY, "The file is empty (0 bytes); there is nothing to read.", str(path))
    head = _read_head(path)  # PermissionError here means Excel has it open: classified by the caller
    ext = path.suffix.lower()
    if head.startswith(ZIP_MAGIC):
        fmt = _sniff_zip(path, ext)
    elif head.startswith(OLE2_MAGIC):
        fmt = _sniff_ole2(path)
    elif head.startswith(b"PK"):
        raise TaskFailure(
            errors.CORRUPT,
            "The file is damaged or incomplete and cannot be read.",
            "zip archive without a local file header at the start",
        )
    else:
        fmt = _sniff_text(head, ext)
    from xlbatch.extent import check  # a cell past XFD is `corrupt`; a rectangle too big to read is `too_large`

    return SourceFile(str(path), fmt, size, rel or path.name, check(str(path), fmt))


# The main part's content type names what an OOXML package is, whatever its part names (minimal or
# hand-made packages put workbook.xml at the root; some writers use backslashes in member names).
_MAIN_CONTENT_TYPES = (
    (b"spreadsheetml.sheet.main+xml", "xlsx"),
    (b"spreadsheetml.template.main+xml", "xlsx"),
    (b"ms-excel.sheet.macroEnabled.main+xml", "xlsm"),
    (b"ms-excel.template.macroEnabled.main+xml", "xlsm"),
    (b"ms-excel.sheet.binary.macroEnabled.main", "xlsb"),
    (b"ms-excel.addin.macroEnabled.main+xml", "xlsm"),
)
_OTHER_PACKAGES = (
    (b"wordprocessingml.document.main", "This is a Word document, not an Excel workbook."),
    (b"wordprocessingml.template.main", "This is a Word template, not an Excel workbook."),
    (b"presentationml.presentation.main", "This is a PowerPoint file, not an Excel workbook."),
    (b"presentationml.slideshow.main", "This is a PowerPoint file, not an Excel workbook."),
    (b"ms-visio.drawing.main", "This is a Visio drawing, not an Excel workbook."),
)
CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPES_MAX_BYTES = 4 * 1024 * 1024


def _sniff_zip(path: Path, ext: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            by_name = {info.filename.replace("\\", "/"): info for info in infos}
            mimetype = archive.read(by_name["mimetype"])[:100] if "mimetype" in by_name else b""
            content_types = b""
            if CONTENT_TYPES in by_name and by_name[CONTENT_TYPES].file_size <= _CONTENT_TYPES_MAX_BYTES:
                content_types = archive.read(by_name[CONTENT_TYPES])
            _refuse_xml_entities(archive, [i for i in infos if i.filename.endswith((".xml", ".rels"))])
    except TaskFailure:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError, zlib.error) as exc:
        if isinstance(exc, PermissionError):
            raise
        raise TaskFailure(
            errors.CORRUPT, "The file is damaged or incomplete and cannot be read.", f"{type(exc).__name__}: {exc}"
        ) from None
    _refuse_bombs(infos)
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        raise TaskFailure(
            errors.NOT_A_WORKBOOK,
            "This is an OpenDocument file but not a spreadsheet (perhaps a text document).",
            mimetype.decode("ascii", "replace"),
        )
    return _ooxml_format(set(by_name), content_types, ext)


def _refuse_bombs(infos: list[zipfile.ZipInfo]) -> None:
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise TaskFailure(
            errors.TOO_LARGE,
            "The workbook would expand to more than 3 GB in memory; it is too large to open.",
            f"uncompressed total {total} bytes",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_APPLIES_ABOVE and ratio > MAX_RATIO:
            raise TaskFailure(
                errors.TOO_LARGE,
                "The file expands to far more data than a real workbook would (a 'zip bomb'); it was not opened.",
                f"{info.filename}: {info.compress_size} -> {info.file_size} bytes (ratio {ratio:.0f})",
            )


def _ooxml_format(names: set[str], content_types: bytes, ext: str) -> str:
    """What an OOXML package is: by its main part's content type, else by its usual part names. A package
    that is neither recognisably a workbook nor anything else is given to the reader to try: refusing a
    file the reader can read would lose the user's data for no reason."""
    macros = ext in {".xlsm", ".xltm"} or "xl/vbaProject.bin" in names
    for marker, fmt in _MAIN_CONTENT_TYPES:
        if marker in content_types:
            return "xlsm" if fmt == "xlsx" and macros else fmt
    for marker, message in _OTHER_PACKAGES:
        if marker in content_types:
            raise TaskFailure(errors.NOT_A_WORKBOOK, message, marker.decode("ascii"))
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" in names:
        return "xlsm" if macros else "xlsx"
    if "word/document.xml" in names:
        raise TaskFailure(errors.NOT_A_WORKBOOK, "This is a Word document, not an Excel workbook.", "")
    if "ppt/presentation.xml" in names:
        raise TaskFailure(errors.NOT_A_WORKBOOK, "This is a PowerPoint file, not an Excel workbook.", "")
    if content_types:
        return "xlsb" if ext == ".xlsb" else ("xlsm" if macros else "xlsx")
    raise TaskFailure(
        errors.NOT_A_WORKBOOK,
        "This is a zip archive, not an Excel workbook; unzip it and add the workbooks inside.",
        f"members: {sorted(names)[:10]}",
    )


def _refuse_xml_entities(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Refuse XML with a DOCTYPE: Excel and LibreOffice never write one, and entity declarations are how
    "billion laughs", quadratic blow-up and external-entity attacks work. Only each member's start is read."""
    for info in members:
        with archive.open(info) as member:
            head = member.read(2048)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise TaskFailure(
                errors.CORRUPT,
                "The workbook contains XML that Excel never writes (entity declarations, a known way to attack "
                "programs); it was not opened.",
                f"{info.filename} declares a DOCTYPE",
            )


def _sniff_ole2(path: Path) -> str:
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except OSError as exc:
        if isinstance(exc, PermissionError):
            raise
        raise TaskFailure(
            errors.CORRUPT, "The file is damaged or incomplete and cannot be read.", f"{type(exc).__name__}: {exc}"
        ) from None
    # Stream names are case-insensitive in OLE2, and some writers store WORKBOOK or BOOK in capitals.
    streams = {name.lower() for name in streams}
    if "encryptedpackage" in streams or "encryptioninfo" in streams:
        raise TaskFailure(
            errors.ENCRYPTED,
            "This workbook is password-protected; remove the password in Excel and run it again.",
            "OLE2 container with EncryptionInfo/EncryptedPackage streams",
        )
    if "workbook" in streams or "book" in streams:
        return "xls"
    if "worddocument" in streams:
        raise TaskFailure(errors.NOT_A_WORKBOOK, "This is a Word document, not an Excel workbook.", "")
    raise TaskFailure(
        errors.NOT_A_WORKBOOK,
        "This is an older Office file, but not an Excel workbook.",
        f"streams: {sorted(streams)[:10]}",
    )


def _sniff_text(head: bytes, ext: str) -> str:
    looks_binary = b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        raise TaskFailure(
            errors.NOT_A_WORKBOOK,
            "This file is a web page or XML export with an Excel name; open it in Excel and save it as .xlsx.",
            "markup content",
        )
    if looks_binary:
        raise TaskFailure(
            errors.NOT_A_WORKBOOK, "This file is not an Excel workbook or CSV file.", f"first bytes: {head[:16]!r}"
        )
    if ext in TEXT_EXTENSIONS:
        return "csv"
    raise TaskFailure(
        errors.NOT_A_WORKBOOK,
        f"This file is named {ext or 'without an extension'} but holds plain text (perhaps a CSV file "
        "renamed); rename it to .csv or save it from Excel as .xlsx.",
        f"first bytes: {head[:40]!r}",
    )
