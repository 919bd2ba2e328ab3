"""Replacing inside formulas (`include_formulas`), cell by cell, including shared and array formulas.

The text searched is each cell's own formula, as Excel shows it (without the `=`). A formula's saved
result is stale once its text changes, so the changed cell's `<v>` is removed (the caller also asks
Excel to recalculate on open); LibreOffice and Excel calculate a formula that has no saved result.

Shared formulas: the master cell (`<f t="shared" ref=".." si="n">text</f>`) holds the text, and each
child (`<f t="shared" si="n"/>`) means "the master's formula, moved to this cell". Editing the master
therefore edits every child. So each child's own formula is worked out (openpyxl's Translator moves
the references), replaced, and compared with what the edited master now means for it: when they
agree the child stays a shared child (its saved result goes, as its formula changed); when they
differ (a match that depends on the position, such as a cell reference) the child gets its own
formula, so every cell ends up with exactly its own replaced text. A group whose formula cannot be
moved is left as it was, with a warning.

A replacement that would turn a formula Excel can read into one it cannot (checked with openpyxl's
tokenizer) is not made, with a warning: Excel would drop that formula when it "repairs" the file.

Array formulas keep their text in the top-left cell; when it changes, the saved results of the other
cells of the range go too. Data-table formulas have no text of their own and are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xlbatch.cell_refs import position
from xlbatch.package_edit.matching import Matcher

# Excel refuses formulas longer than this many characters.
MAX_FORMULA_CHARS = 8192


@dataclass
class FormulaChange:
    """What to do with one formula cell: its new formula text, and how to write it."""

    text: str  # the formula the cell must end up with
    count: int  # replacements counted for this cell
    own_formula: bool = False  # write a plain <f> (a shared child that stops following its master)
    keep_formula_bytes: bool = False  # the <f> stays as it is (a shared child that follows its master)
    drop_value: bool = True


@dataclass
class _Group:
    anchor: str
    old: Callable[[str], str] | None  # the master's formula moved to a cell
    new: Callable[[str], str] | None  # the edited master's formula moved to a cell (None: unchanged)


class FormulaPlanner:
    """Per-sheet state for formula replacement: shared-formula groups and stale array ranges."""

    def __init__(self, matcher: Matcher, warn: Callable[[str], None], title: str) -> None:
        self.matcher = matcher
        self.warn = warn
        self.title = title
        self.groups: dict[str, _Group] = {}
        self.children_first: set[str] = set()  # groups whose children came before their master
        self.stale_ranges: list[tuple[int, int, int, int]] = []

    def plan(self, ref: str, attrs: dict[str, str], text: str) -> FormulaChange | None:
        """The change for a cell at `ref` whose <f> has `attrs` and `text`, or None to leave it."""
        kind = attrs.get("t", "normal")
        if kind == "dataTable":
            return None
        if kind == "shared" and "si" in attrs:
            if attrs.get("ref") and text:
                return self._master(ref, attrs["si"], text)
            return self._child(ref, attrs["si"])
        change = self._replace(ref, text)
        if change is not None and kind == "array" and attrs.get("ref"):
            self._add_stale_range(attrs["ref"], ref)
        return change

    def _replace(self, ref: str, text: str) -> FormulaChange | None:
        new, count = self.matcher.replace(text)
        if new == text:
            return None
        if len(new) > MAX_FORMULA_CHARS:
            limit = f"{MAX_FORMULA_CHARS:,}"
            self.warn(f"Cell {self.title}!{ref}: the formula would exceed {limit} characters; left as it was.")
            return None
        problem = _breaks(text, new)
        if problem:
            self.warn(f"Cell {self.title}!{ref}: the replaced formula would not be valid ({problem}); left as it was.")
            return None
        return FormulaChange(new, count)

    def _master(self, ref: str, si: str, text: str) -> FormulaChange | None:
        change = self._replace(ref, text)
        try:
            old = _mover(text, ref)
            new = _mover(change.text, ref) if change is not None else None
        except Exception as exc:  # noqa: BLE001 - openpyxl's tokenizer raises several kinds of errors
            self.groups[si] = _Group(ref, None, None)
            if change is not None:
                self.warn(
                    f"Cell {self.title}!{ref}: a shared formula could not be checked cell by cell ({exc}); "
                    "left as it was."
                )
            return None
        if si in self.children_first and change is not None:
            self.groups[si] = _Group(ref, None, None)
            self.warn(f"Cell {self.title}!{ref}: a shared formula is used before its master cell; left as it was.")
            return None
        self.groups[si] = _Group(ref, old, new)
        return change

    def _child(self, ref: str, si: str) -> FormulaChange | None:
        group = self.groups.get(si)
        if group is None:
            self.children_first.add(si)
            return None
        if group.old is None:
            return None
        own = group.old(ref)
        change = self._replace(ref, own)
        target = change.text if change is not None else own
        if group.new is None:  # the master did not change: only a cell whose own text changed is edited
            return None if change is None else FormulaChange(target, change.count, own_formula=True)
        moved = group.new(ref)
        if change is None and moved == own:
            return None  # the edited master means the same here
        count = change.count if change is not None else 0
        if moved == target:
            return FormulaChange(target, count, keep_formula_bytes=True, drop_value=change is not None)
        # The child no longer follows its master: it gets its own formula (replaced or, without a match, as it was).
        return FormulaChange(target, count, own_formula=True, drop_value=change is not None)

    def _add_stale_range(self, area: str, anchor: str) -> None:
        corners = area.split(":")
        try:
            top, left = position(corners[0])
            bottom, right = position(corners[-1])
        except ValueError:
            return
        if (top, left) != (bottom, right):
            self.stale_ranges.append((top, left, bottom, right))

    def in_stale_range(self, row: int, col: int) -> bool:
        """Whether (row, col) is a non-anchor cell of an array formula whose text changed."""
        self.stale_ranges = [area for area in self.stale_ranges if area[2] >= row]
        return any(
            top <= row <= bottom and left <= col <= right and (row, col) != (top, left)
            for top, left, bottom, right in self.stale_ranges
        )


def _breaks(old: str, new: str) -> str:
    """Why `new` is not a formula when `old` was one (Excel "repairs" a file by dropping such formulas),
    or "" when it reads as one, or when `old` could not be read either (then there is nothing to judge by)."""
    from openpyxl.formula.tokenizer import Tokenizer

    try:
        Tokenizer("=" + new)
        return ""
    except Exception as exc:  # noqa: BLE001 - the tokenizer raises several kinds of errors
        problem = str(exc) or type(exc).__name__
    try:
        Tokenizer("=" + old)
    except Exception:  # noqa: BLE001
        return ""
    return problem


def _mover(text: str, origin: str) -> Callable[[str], str]:
    """A function giving the formula `text` (written for `origin`) as it reads when moved to a cell."""
    from openpyxl.formula.translate import Translator

    translator = Translator("=" + text, origin=origin)
    translator.translate_formula(origin)  # fail now, on the master, rather than on a child
    return lambda dest: translator.translate_formula(dest)[1:]
