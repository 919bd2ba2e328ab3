"""A1 cell references: the row and column numbers behind `B12`, and back. The one place that spells
columns as letters (1 -> A, 27 -> AA, 16384 -> XFD) and letters as numbers."""

from __future__ import annotations

import re

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def position(ref: str) -> tuple[int, int]:
    """(row, column) of an A1 reference, both from 1; ValueError if it is not one."""
    found = _REF.fullmatch(ref.strip())
    if found is None:
        raise ValueError(ref)
    return int(found.group(2)), column_number(found.group(1))


def column_number(letters: str | bytes) -> int:
    """A column's 1-based number from its letters (either case; text or the bytes of an XML attribute)."""
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    number = 0
    for letter in text.upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    """A column's letters from its 1-based number."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
