"""The shared string table (`xl/sharedStrings.xml`) in find & replace: which items the replacement
changes, and the rewritten table once the sheets have said which cells use them.

Cells of type `s` hold an index into this table, and one item can be shared by cells of several
sheets. A replacement applies per cell, so an item is rewritten in place only when every cell that
uses it is being edited; when a cell of a sheet that is not selected also uses it, the edited cells
get a new item appended at the end instead, and the other sheet keeps the old one. A cell of an edited
sheet that must keep the old text (a table's column heading, a formula's saved result) is pointed at
an appended copy of the old item. `uniqueCount` then grows by the number of items appended; `count`
(the number of cell references) only changes when a cell stops referring to the table.

Two passes over the part, both streaming: `analyse_shared_strings()` reads every item and keeps only
the changed ones (their new bytes and where they are); `write_shared_strings()` copies the part with
those edits once the sheets are done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from xlbatch.package_edit.matching import Matcher
from xlbatch.package_edit.rich_string import ItemEdit, StringItem, StringItemReader, plan_item_edit, resolve
from xlbatch.package_edit.xml_stream import XmlStream, apply_edits, get_attribute, names, set_attribute
from xlbatch.package_edit.zip_rewrite import NewMember

_SI = names("si")


@dataclass
class StringChange:
    """A shared string the replacement changes: its edit and the bytes of the new item."""

    index: int
    start: int
    end: int
    edit: ItemEdit
    old_item: bytes
    new_item: bytes


@dataclass
class SharedStrings:
    """What the analysis found, and what the sheets decided while they were edited."""

    item_count: int = 0
    changes: dict[int, StringChange] = field(default_factory=dict)
    root_at: int = 0
    root_tag: bytes = b""
    close_at: int = 0  # where </sst> starts
    # Filled while the sheets are edited:
    shared_elsewhere: set[int] = field(default_factory=set)  # used by cells that are not edited
    in_place: set[int] = field(default_factory=set)
    # (index, replaced) -> index of the appended item: the replaced text, or a copy of the old one.
    appended: dict[tuple[int, bool], int] = field(default_factory=dict)
    references_removed: int = 0

    def new_index(self, index: int, replaced: bool = True) -> int:
        """The index of an appended item holding item `index`'s new text (or its old one), added on first use."""
        key = (index, replaced)
        if key not in self.appended:
            self.appended[key] = self.item_count + len(self.appended)
        return self.appended[key]

    def keep_old(self, index: int) -> int | None:
        """For a cell of an edited sheet that must keep item `index`'s old text: None when it can keep
        its index (the item then stays as it is, and edited cells get copies), or the index of a copy of
        the old item when the item is already being rewritten in place."""
        if index in self.in_place:
            return self.new_index(index, replaced=False)
        self.shared_elsewhere.add(index)
        return None

    @property
    def needs_rewrite(self) -> bool:
        return bool(self.in_place or self.appended or self.references_removed)


class _Analyser(XmlStream):
    def __init__(self, matcher: Matcher) -> None:
        super().__init__()
        self.matcher = matcher
        self.result = SharedStrings()
        self.depth = 0
        self.item: StringItemReader | None = None

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.item is not None:
            self.item.start(name, attrs)
        elif self.depth == 2 and name in _SI:
            at = self.pos()
            self.hold_from = at
            self.item = StringItemReader(self, at)
        elif self.depth == 1:
            at = self.pos()
            self.result.root_at = at
            self.result.root_tag = self.slice(at, self.tag_end(at))

    def _text(self, data: str) -> None:
        if self.item is not None:
            self.item.text(data)

    def _end(self, name: str) -> None:
        if self.depth == 2 and self.item is not None:
            item = self.item.finish(self.pos())
            self.item = None
            self._item_done(item)
            self.hold_from = None
        elif self.item is not None:
            self.item.end(name)
        elif self.depth == 1:
            self.result.close_at = self.pos()
        self.depth -= 1

    def _item_done(self, item: StringItem) -> None:
        index = self.result.item_count
        self.result.item_count += 1
        edit = plan_item_edit(item, self.matcher, self)
        if edit is None:
            return
        resolve(item, self)
        old_item = self.slice(item.start, item.end)
        new_item = b"" if edit.too_long else apply_edits(old_item, item.start, edit.edits)
        self.result.changes[index] = StringChange(index, item.start, item.end, edit, old_item, new_item)


def analyse_shared_strings(
    source: IO[bytes], matcher: Matcher, on_chunk: Callable[[int], None] | None = None
) -> SharedStrings:
    """Read the table and plan the change of every item whose text the replacement changes."""
    analyser = _Analyser(matcher)
    analyser.run(source, on_chunk)
    return analyser.result


def write_shared_strings(source: IO[bytes], strings: SharedStrings) -> NewMember:
    """The table with the changed items rewritten or appended, and its counts kept true."""
    edits: list[tuple[int, int, bytes]] = []
    tag = strings.root_tag
    if strings.appended:
        unique = get_attribute(tag, b"uniqueCount")
        if unique is not None:
            tag = set_attribute(tag, b"uniqueCount", str(strings.item_count + len(strings.appended)).encode())
    count = get_attribute(tag, b"count")
    if strings.references_removed and count is not None and count.isdigit():
        tag = set_attribute(tag, b"count", str(max(int(count) - strings.references_removed, 0)).encode())
    if tag != strings.root_tag:
        edits.append((strings.root_at, strings.root_at + len(strings.root_tag), tag))
    for index in sorted(strings.in_place):
        change = strings.changes[index]
        edits.append((change.start, change.end, change.new_item))
    if strings.appended:
        changes = strings.changes
        added = b"".join(changes[i].new_item if new else changes[i].old_item for i, new in strings.appended)
        edits.append((strings.close_at, strings.close_at, added))
    return copy_with_edits(source, edits)


def copy_with_edits(source: IO[bytes], edits: list[tuple[int, int, bytes]]) -> NewMember:
    """A new member holding `source`'s bytes with sorted, non-overlapping (start, end, bytes) edits."""
    out = NewMember()
    reader = _RangeReader(source)
    for start, end, new in sorted(edits, key=lambda edit: (edit[0], edit[1])):
        reader.copy(start, out)
        out.write(new)
        reader.copy(end, None)
    reader.copy(None, out)
    return out.finish()


class _RangeReader:
    """Walks a stream forward, copying or skipping the bytes up to an absolute offset."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.block = b""
        self.block_start = 0
        self.pos = 0

    def copy(self, upto: int | None, out: NewMember | None) -> None:
        while upto is None or self.pos < upto:
            block_end = self.block_start + len(self.block)
            if self.pos >= block_end:
                self.block_start, self.block = block_end, self.source.read(1 << 20)
                if not self.block:
                    return
                continue
            stop = block_end if upto is None else min(upto, block_end)
            if out is not None:
                out.write(self.block[self.pos - self.block_start : stop - self.block_start])
            self.pos = stop
