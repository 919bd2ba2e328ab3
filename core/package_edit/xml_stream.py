"""Streaming XML with byte positions: parse a package part with expat and know where in the original
bytes each element starts and ends, so an editor can copy the part unchanged around a few edits.

`XmlStream` feeds a part to expat in chunks and keeps only the bytes not yet released, so memory stays
modest however large the part. Handlers (`_start`, `_end`, `_text`, overridden by subclasses) ask
`pos()` for the current event's offset: at a start tag it is the tag's `<`; at an end tag, the `<` of
`</x>`, or the end of the element for a self-closing one. `tag_end()` finds where a start tag ends.

Safety as in the rest of xlbatch (defusedxml's rules, applied to a raw expat parser): a DOCTYPE, an
entity declaration or an external entity reference is refused, so nothing is ever expanded; a single
element larger than MAX_ITEM_BYTES that the editor has to hold (one cell, one shared string) is refused.
Parts are edited as bytes in the encoding they declare; UTF-16 parts, which Excel never writes, are
refused rather than mixed with UTF-8 edits.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import IO, Any
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

CHUNK = 1 << 20
# One cell holds at most 32,767 characters; even with rich-text runs that is a few megabytes of XML.
MAX_ITEM_BYTES = 64 << 20
# expat's byte index may be a 32-bit `long` (Windows): past this many bytes, positions are unwrapped.
_INDEX_SAFE = (1 << 31) - 1
_UNWRAP_WINDOW = 1 << 31

SPREADSHEET_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
RELATIONSHIP_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_SEP = " "

_START_TAG = re.compile(rb"<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>")
_DECLARED_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_QNAME = re.compile(rb"<([^\s/>]+)")


def names(local: str) -> frozenset[str]:
    """The expat names of a SpreadsheetML element in both namespaces (transitional and Strict)."""
    return frozenset(f"{ns}{_SEP}{local}" for ns in SPREADSHEET_NS)


def attribute_names(local: str) -> frozenset[str]:
    """The expat names of a relationship-namespace attribute (r:id) in both namespaces."""
    return frozenset(f"{ns}{_SEP}{local}" for ns in RELATIONSHIP_NS)


XML_SPACE = "http://www.w3.org/XML/1998/namespace space"


class XmlDamaged(Exception):
    """The part is not well-formed XML, or is XML this program refuses to read."""


class XmlUnsupported(Exception):
    """The part is well-formed but stored in a way the editor does not edit."""


class XmlStream:
    """Parse one part's bytes with expat, keeping the unreleased bytes for slicing by absolute offset."""

    def __init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator=_SEP)
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _forbid_doctype
        parser.EntityDeclHandler = _forbid_entity
        parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
        parser.ExternalEntityRefHandler = _forbid_external
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self.parser = parser
        self.buffer = bytearray()
        self.base = 0  # absolute offset of buffer[0]
        self.fed = 0  # absolute offset of the end of the bytes fed so far
        self.encoding = "utf-8"
        self.hold_from: int | None = None  # an element being collected: keep its bytes

    # -- handlers, overridden ---------------------------------------------------------------------
    def _start(self, name: str, attrs: dict[str, str]) -> None:
        """An element starts (expat's StartElementHandler)."""

    def _end(self, name: str) -> None:
        """An element ends (expat's EndElementHandler)."""

    def _text(self, data: str) -> None:
        """Character data (expat's CharacterDataHandler, with buffer_text on)."""

    def _after_chunk(self, final: bool) -> None:
        """Called after each chunk has been parsed; by default releases what no element holds."""
        self.release(self.fed if self.hold_from is None else self.hold_from)

    # -- running ---------------------------------------------------------------------------------
    def run(self, source: IO[bytes], on_chunk: Callable[[int], None] | None = None) -> None:
        """Parse the whole part from `source`; `on_chunk(bytes_so_far)` after each chunk."""
        try:
            first = True
            while chunk := source.read(CHUNK):
                if first:
                    self._check_encoding(chunk)
                    first = False
                self.buffer += chunk
                self.fed += len(chunk)
                self.parser.Parse(chunk, False)
                self._after_chunk(False)
                if self.hold_from is not None and self.fed - self.hold_from > MAX_ITEM_BYTES:
                    raise XmlDamaged(f"an element at byte {self.hold_from} is larger than {MAX_ITEM_BYTES} bytes")
                if on_chunk is not None:
                    on_chunk(self.fed)
            self.parser.Parse(b"", True)
            self._after_chunk(True)
        except expat.ExpatError as exc:
            raise XmlDamaged(f"not well-formed XML: {exc}") from None
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise XmlDamaged(f"XML with entity declarations: {exc}") from None

    def _check_encoding(self, head: bytes) -> None:
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head[:2] in (b"<\x00", b"\x00<"):
            raise XmlUnsupported("the part is stored as UTF-16")
        found = _DECLARED_ENCODING.match(head.removeprefix(codecs.BOM_UTF8))
        if found:
            try:
                name = codecs.lookup(found.group(1).decode("ascii")).name
            except LookupError:
                raise XmlUnsupported(f"unknown encoding {found.group(1)!r}") from None
            if name.startswith(("utf-16", "utf-32")):
                raise XmlUnsupported(f"the part is stored as {name}")
            self.encoding = name

    # -- positions and bytes -----------------------------------------------------------------------
    def pos(self) -> int:
        """Absolute byte offset of the event being handled."""
        index = self.parser.CurrentByteIndex
        if self.fed > _INDEX_SAFE:
            floor = self.fed - _UNWRAP_WINDOW
            index = floor + ((index - floor) % (1 << 32))
        return index

    def slice(self, start: int, end: int) -> bytes:
        return bytes(self.buffer[start - self.base : end - self.base])

    def tag_end(self, start: int) -> int:
        """Where the start tag that begins at `start` ends (just after its `>`)."""
        found = _START_TAG.match(self.buffer, start - self.base)
        if found is None:
            raise XmlDamaged(f"unreadable start tag at byte {start}")
        return self.base + found.end()

    def close_tag_end(self, start: int) -> int:
        """Where the end tag that begins at `start` ends (just after its `>`)."""
        return self.base + self.buffer.index(b">", start - self.base) + 1

    def release(self, upto: int) -> None:
        """Forget the bytes before `upto` (they have been copied or are not needed)."""
        if upto > self.base:
            del self.buffer[: upto - self.base]
            self.base = upto

    def encode(self, text: str) -> bytes:
        """Escaped XML text in the part's own encoding (characters it lacks as character references)."""
        return text.encode(self.encoding, "xmlcharrefreplace")


# -- raw tag helpers -------------------------------------------------------------------------------


def qname(tag: bytes) -> bytes:
    """The element name of a raw start tag, with its prefix as written (b'x:t')."""
    found = _QNAME.match(tag)
    if found is None:
        raise XmlDamaged("unreadable start tag")
    return found.group(1)


def is_self_closing(tag: bytes) -> bool:
    return tag.endswith(b"/>")


def open_form(tag: bytes) -> bytes:
    """A start tag that is not self-closing: `<t a="1"/>` becomes `<t a="1">`."""
    return tag[:-2].rstrip() + b">" if tag.endswith(b"/>") else tag


def close_tag(tag: bytes) -> bytes:
    return b"</" + qname(tag) + b">"


def set_attribute(tag: bytes, name: bytes, value: bytes | None) -> bytes:
    """`tag` with attribute `name` (as written, e.g. b'xml:space') set to `value` in place, added at the
    end when missing, or removed when `value` is None."""
    pattern = re.compile(rb"(\s+)" + re.escape(name) + rb"\s*=\s*(?:\"[^\"]*\"|'[^']*')")
    if value is None:
        return pattern.sub(b"", tag)
    setting = name + b'="' + value + b'"'
    found = pattern.search(tag)
    if found is not None:
        return tag[: found.start()] + found.group(1) + setting + tag[found.end() :]
    cut = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return tag[:cut].rstrip() + b" " + setting + tag[cut:]


def get_attribute(tag: bytes, name: bytes) -> bytes | None:
    found = re.search(rb"\s" + re.escape(name) + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", tag)
    if found is None:
        return None
    return found.group(1) if found.group(1) is not None else found.group(2)


def apply_edits(data: bytes, base: int, edits: list[tuple[int, int, bytes]]) -> bytes:
    """`data` (which starts at absolute offset `base`) with sorted, non-overlapping edits applied."""
    parts: list[bytes] = []
    cursor = 0
    for start, end, new in edits:
        parts.append(data[cursor : start - base])
        parts.append(new)
        cursor = end - base
    parts.append(data[cursor:])
    return b"".join(parts)


def _forbid_doctype(name: str, sysid: Any, pubid: Any, has_internal_subset: Any) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name: str, is_parameter: Any, value: Any, base: Any, sysid: Any, pubid: Any, notation: Any) -> None:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _forbid_unparsed_entity(name: str, base: Any, sysid: Any, pubid: Any, notation: Any) -> None:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _forbid_external(context: Any, base: Any, sysid: Any, pubid: Any) -> None:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)
