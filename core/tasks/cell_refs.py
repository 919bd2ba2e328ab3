"""A1 cell references: the row and column numbers behind `B12`, and back."""

from __future__ import annotations

import re

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def position(ref: str) -> tuple[int, int]:
    """(row, column) of an A1 reference, both from 1; ValueError if it is not one."""
    found = _REF.fullmatch(ref.strip())
    if found is None:
        raise ValueError(ref)
    return int(found.group(2)), column_number(found.group(1))


def column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
