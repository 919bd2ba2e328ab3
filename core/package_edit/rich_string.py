"""Text items of SpreadsheetML (a shared string `<si>` or an inline string `<is>`): read them from parser
events, and plan the byte edits that replace text in them while keeping everything else.

An item holds either one `<t>` or formatted runs `<r><rPr>..</rPr><t>..</t></r>`, optionally phonetic
guides `<rPh sb=".." eb=".."><t>..</t></rPh>` over character ranges of the text, and `<phoneticPr>`.
Its text is the decoded `<t>` contents of the item and its runs, in order; the guides are not part of it.
A `<t>` without xml:space="preserve" shows without the spaces at its ends (Excel drops them, and so
does calamine), so its text is taken without them, and they stay in place when the text is rewritten.

Edits keep every byte that does not hold replaced text: a run keeps its `<rPr>` formatting, and a
`<t>` only gains xml:space="preserve" when its new text starts or ends with a space. A match inside
one run is replaced within that run. A match across runs puts its replacement in the run where it
starts (taking that run's format) and removes the matched characters from the runs after it; the
edit says so (`spans_runs`), so the caller can warn. A run left with no text is removed. Phonetic
guides over unchanged text stay, moved along when text before them changed length; a guide over
replaced text is removed (`phonetic_removed`), since it would describe characters no longer there.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from xlbatch.package_edit.matching import Match, Matcher, apply_matches
from xlbatch.package_edit.text_escapes import decode_text, encode_text, needs_preserve
from xlbatch.package_edit.xml_stream import (
    XML_SPACE,
    XmlStream,
    close_tag,
    is_self_closing,
    names,
    open_form,
    qname,
    set_attribute,
)
from xlbatch.writing import EXCEL_MAX_CELL_CHARS

_XML_WHITESPACE = " \t\n\r"
_R = names("r")
_T = names("t")
_RPH = names("rPh")

Edit = tuple[int, int, bytes]


@dataclass(slots=True)
class TextPiece:
    """One `<t>` of the item's text. Offsets are absolute; those after `resolve` are worked out only
    for an item that changes (most do not, and slicing tags for each would cost time)."""

    container_start: int  # the enclosing <r>, or the <t> itself when it is directly in the item
    t_start: int
    t_end_at: int  # where expat saw the end: the start of </t>, or the end of a self-closing <t/>
    in_run: bool
    preserve: bool  # xml:space="preserve": readers keep spaces at the ends
    container_end_at: int = 0
    chunks: list[str] = field(default_factory=list)
    text: str = ""  # the text Excel shows
    padding: tuple[str, str] = ("", "")  # the spaces around it that readers drop, without preserve
    # resolved:
    t_tag: bytes = b""  # the raw start tag
    t_end: int = 0
    container_end: int = 0

    @property
    def content_end(self) -> int:
        return self.t_end_at


@dataclass(slots=True)
class PhoneticGuide:
    start: int
    end_at: int
    sb: int
    eb: int
    tag: bytes = b""  # resolved: the raw <rPh ...> start tag
    end: int = 0


@dataclass(slots=True)
class StringItem:
    """A whole `<si>` or `<is>`: its byte span, its text pieces and phonetic guides."""

    start: int
    end_at: int = 0
    pieces: list[TextPiece] = field(default_factory=list)
    guides: list[PhoneticGuide] = field(default_factory=list)
    tag: bytes = b""  # resolved: the raw <si> or <is> start tag
    end: int = 0
    resolved: bool = False

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)


def resolve(item: StringItem, stream: XmlStream) -> StringItem:
    """Work out the item's tags and element ends (its bytes must still be in the stream's buffer)."""
    if item.resolved:
        return item
    item.tag, item.end = _element(stream, item.start, item.end_at)
    for piece in item.pieces:
        piece.t_tag, piece.t_end = _element(stream, piece.t_start, piece.t_end_at)
        if piece.in_run:
            piece.container_end = _element(stream, piece.container_start, piece.container_end_at)[1]
        else:
            piece.container_end = piece.t_end
    for guide in item.guides:
        guide.tag, guide.end = _element(stream, guide.start, guide.end_at)
    item.resolved = True
    return item


def _element(stream: XmlStream, start: int, end_at: int) -> tuple[bytes, int]:
    """The start tag of the element at `start`, and where the element ends, from expat's end position."""
    tag = stream.slice(start, stream.tag_end(start))
    return tag, end_at if is_self_closing(tag) else stream.close_tag_end(end_at)


@dataclass(slots=True)
class ItemEdit:
    """What replacing in one item does: its byte edits, or too_long when the result would not fit."""

    old_text: str
    new_text: str
    count: int
    edits: list[Edit]
    too_long: bool = False
    spans_runs: bool = False
    phonetic_removed: bool = False


class StringItemReader:
    """Builds a StringItem from the events between an item's start and end tags, driven by its stream."""

    def __init__(self, stream: XmlStream, start: int) -> None:
        self.stream = stream
        self.item = StringItem(start)
        self.depth = 0
        self.run_start: int | None = None
        self.piece: TextPiece | None = None
        self.guide: PhoneticGuide | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1 and name in _R:
            self.run_start = self.stream.pos()
        elif name in _T and self.guide is None and self.depth <= 2:
            in_run = self.depth == 2 and self.run_start is not None
            if self.depth == 2 and not in_run:
                return  # a <t> inside something other than a run
            at = self.stream.pos()
            container = self.run_start if in_run and self.run_start is not None else at
            self.piece = TextPiece(container, at, 0, in_run, attrs.get(XML_SPACE) == "preserve")
        elif self.depth == 1 and name in _RPH:
            self.guide = PhoneticGuide(self.stream.pos(), 0, _int(attrs.get("sb")), _int(attrs.get("eb")))

    def text(self, data: str) -> None:
        if self.piece is not None:
            self.piece.chunks.append(data)

    def end(self, name: str) -> None:
        piece = self.piece
        if piece is not None and name in _T:
            piece.t_end_at = self.stream.pos()
            stored = "".join(piece.chunks)
            if not piece.preserve:  # Excel (and calamine) drop spaces at the ends of such a <t>
                core = stored.strip(_XML_WHITESPACE)
                if len(core) != len(stored):
                    lead = stored[: len(stored) - len(stored.lstrip(_XML_WHITESPACE))] if core else stored
                    piece.padding = (lead, stored[len(lead) + len(core) :])
                stored = core
            piece.text = decode_text(stored)
            piece.chunks = []
            self.item.pieces.append(piece)
            self.piece = None
        elif self.depth == 1 and name in _R and self.run_start is not None:
            at = self.stream.pos()
            for done in reversed(self.item.pieces):
                if done.container_start != self.run_start:
                    break
                done.container_end_at = at
            self.run_start = None
        elif self.depth == 1 and name in _RPH and self.guide is not None:
            self.guide.end_at = self.stream.pos()
            self.item.guides.append(self.guide)
            self.guide = None
        self.depth -= 1

    def finish(self, end_at: int) -> StringItem:
        """The item, given expat's position for its end event."""
        self.item.end_at = end_at
        return self.item


def plan_item_edit(item: StringItem, matcher: Matcher, stream: XmlStream) -> ItemEdit | None:
    """The edit that replaces matches in `item`, or None when its text would not change."""
    old = item.text
    found = matcher.matches(old)
    if not found:
        return None
    new = apply_matches(old, found)
    if new == old:
        return None
    if len(new) > EXCEL_MAX_CELL_CHARS:
        return ItemEdit(old, new, len(found), [], too_long=True)
    resolve(item, stream)
    effective = [m for m in found if old[m.start : m.end] != m.replacement]
    if not item.pieces:  # an empty item (<si/>, <si></si>) that an empty-matching pattern fills
        return ItemEdit(old, new, len(found), [_first_text(item, new, stream)])
    new_texts, spans = distribute([piece.text for piece in item.pieces], effective)
    edits = _piece_edits(item.pieces, new_texts, stream)
    guide_edits, removed = _guide_edits(item.guides, effective)
    edits.extend(guide_edits)
    edits.sort(key=lambda edit: edit[0])
    return ItemEdit(old, new, len(found), edits, spans_runs=spans, phonetic_removed=removed)


def distribute(texts: list[str], matches: list[Match]) -> tuple[list[str], bool]:
    """Each piece's new text, and whether a match covered characters of more than one piece.

    A replacement goes to the piece holding the match's first character (an empty match: the piece
    holding the character after it, or the last piece at the end of the text)."""
    if not texts:
        return [], False
    spans: list[tuple[int, int, int]] = []  # (start, end, piece index) of the pieces with text
    offset = 0
    for index, text in enumerate(texts):
        if text:
            spans.append((offset, offset + len(text), index))
        offset += len(text)
    total = offset
    starts = [span[0] for span in spans]
    out: list[list[str]] = [[] for _ in texts]

    def owner(at: int) -> int:
        if not spans:
            return 0
        if at >= total:
            return spans[-1][2]
        return spans[bisect.bisect_right(starts, at) - 1][2]

    def copy(start: int, end: int) -> None:
        at = start
        while at < end:
            span = spans[bisect.bisect_right(starts, at) - 1]
            stop = min(end, span[1])
            out[span[2]].append(texts[span[2]][at - span[0] : stop - span[0]])
            at = stop

    crossed = False
    cursor = 0
    for match in matches:
        copy(cursor, match.start)
        first = owner(match.start)
        out[first].append(match.replacement)
        if match.end > match.start and owner(match.end - 1) != first:
            crossed = True
        cursor = match.end
    copy(cursor, total)
    return ["".join(parts) for parts in out], crossed


def _piece_edits(pieces: list[TextPiece], new_texts: list[str], stream: XmlStream) -> list[Edit]:
    survivor = next((i for i, text in enumerate(new_texts) if text), 0)
    edits: list[Edit] = []
    for index, (piece, new) in enumerate(zip(pieces, new_texts, strict=True)):
        if new == piece.text:
            continue
        if not new and piece.in_run and index != survivor:
            edits.append((piece.container_start, piece.container_end, b""))
            continue
        tag = piece.t_tag
        if needs_preserve(new):
            if not piece.preserve:
                tag = set_attribute(tag, b"xml:space", b"preserve")
            content = stream.encode(encode_text(new))
        else:  # spaces readers drop stay where they were
            lead, trail = piece.padding
            content = stream.encode(lead + encode_text(new) + trail)
        if is_self_closing(piece.t_tag):
            edits.append((piece.t_start, piece.t_end, open_form(tag) + content + close_tag(tag)))
        else:
            edits.append((piece.t_start, piece.content_end, tag + content))
    return edits


def _first_text(item: StringItem, text: str, stream: XmlStream) -> Edit:
    """The edit that gives an item without any <t> one, holding `text`."""
    name = qname(item.tag)
    t_name = name[: name.index(b":") + 1] + b"t" if b":" in name else b"t"
    tag = b"<" + t_name + (b' xml:space="preserve"' if needs_preserve(text) else b"") + b">"
    element = tag + stream.encode(encode_text(text)) + b"</" + t_name + b">"
    if is_self_closing(item.tag):
        return (item.start, item.end, open_form(item.tag) + element + close_tag(item.tag))
    at = item.start + len(item.tag)
    return (at, at, element)


def _guide_edits(guides: list[PhoneticGuide], matches: list[Match]) -> tuple[list[Edit], bool]:
    edits: list[Edit] = []
    removed = False
    for guide in guides:
        if any(_touches(match, guide) for match in matches):
            edits.append((guide.start, guide.end, b""))
            removed = True
            continue
        shift = sum(len(m.replacement) - (m.end - m.start) for m in matches if m.end <= guide.sb)
        if shift:
            tag = set_attribute(guide.tag, b"sb", str(guide.sb + shift).encode())
            tag = set_attribute(tag, b"eb", str(guide.eb + shift).encode())
            edits.append((guide.start, guide.start + len(guide.tag), tag))
    return edits, removed


def _touches(match: Match, guide: PhoneticGuide) -> bool:
    if match.end > match.start:
        return match.start < guide.eb and match.end > guide.sb
    return guide.sb < match.start < guide.eb


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0
