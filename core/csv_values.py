"""One CSV cell's text, read the way Excel reads it: what the text could be, and its value once decided.

`read_value` says what a text is (a number and the notations it fits, a date and the orders it fits, a
time, TRUE/FALSE, an identifier with leading zeros, other numeric-looking text, or a word). The
`*_value` functions give the typed value under a notation or order that xlbatch.csv_types chose for the whole
column. The grammar, and why, is in xlbatch.csv_types's docstring.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

# The blanks that may surround a value or group its digits: space, tab, no-break space, narrow no-break space.
BLANKS = " \t\u00a0\u202f"
SPACES = " \u00a0\u202f"  # thousands separators of the space kind (French, Nordic, SI)
APOSTROPHES = "'\u2019"  # Swiss thousands separators, typed or typographic
MAX_EXACT_INT = 2**53  # whole numbers from here on cannot all be held exactly in a float (nor in Excel)
FIRST_YEAR = 1900  # Excel holds no earlier date: it keeps 1850-01-01 as text


@dataclass(frozen=True)
class Notation:
    """How numbers are written: the decimal separator and the characters that may group digits in threes."""

    example: str
    decimal: str
    thousands: str


NOTATIONS = (
    Notation("1,234.5", ".", ","),
    Notation("1 234.5", ".", SPACES),
    Notation("1'234.5", ".", APOSTROPHES),
    Notation("1.234,5", ",", "."),
    Notation("1 234,5", ",", SPACES),
)
ALL_NOTATIONS = (1 << len(NOTATIONS)) - 1  # notations are bits of a mask: the set a value fits
POINT = sum(1 << i for i, n in enumerate(NOTATIONS) if n.decimal == ".")
COMMA = ALL_NOTATIONS & ~POINT
DAY_FIRST, MONTH_FIRST = 1, 2  # date orders, bits of a mask like the notations
BOTH_ORDERS = DAY_FIRST | MONTH_FIRST

# What a text is, from read_value.
WORD, BOOL, IDENT, NUMBER, DATE, TIME, OTHER, INVALID = (
    "word",
    "bool",
    "ident",
    "number",
    "date",
    "time",
    "other",
    "invalid",
)


class Reading(NamedTuple):
    kind: str
    mask: int = 0  # NUMBER: the notations it fits; DATE: the orders it fits
    sensitive: bool = False  # the value differs between the notations (or orders) of `mask`


def number_pattern(decimal: str, thousands: str, fast: bool = False) -> str:
    """A regular expression for one number written with `decimal` and `thousands` ("" for none).

    The fast form, used over a whole block of values at once, is possessive and stricter: at most 15
    integer digits and a two-digit exponent, so every value it accepts is an exact, finite number without
    leading zeros; whatever it refuses is read value by value with the full rules.
    """
    digits = "[0-9]++"
    exponent = "(?:[eE][+-]?+[0-9]{1,2}+)?+" if fast else "(?:[eE][+-]?[0-9]+)?"
    plain = "(?:0|[1-9][0-9]{0,14}+)" if fast else "[0-9]+"
    fraction = f"(?:{re.escape(decimal)}{digits})?+" if decimal else ""
    branches = [f"{plain}{fraction}{exponent}"]
    if thousands:
        groups = "{1,4}+" if fast else "+"  # the fast form: at most 15 digits again
        branches.append(f"[1-9][0-9]{{0,2}}+(?:[{re.escape(thousands)}][0-9]{{3}}){groups}{fraction}")
    if decimal:
        branches.append(f"{re.escape(decimal)}{digits}{exponent}")
    return f"[+-]?+(?:{'|'.join(branches)})"


# One pattern per notation, in the order of NOTATIONS: bit i of a mask is NOTATIONS[i].
NUMBER_PATTERNS = tuple(re.compile(number_pattern(n.decimal, n.thousands), re.ASCII) for n in NOTATIONS)
# Identifiers: a leading zero before another digit (00123, 0012.5); Excel would drop the zeros.
_IDENT = re.compile(r"[+-]?0[0-9]+(?:[.,][0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_CLOCK = r"(?: ([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?"
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?)?", re.ASCII
)
_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})" + _CLOCK, re.ASCII)
_SLASHED = re.compile(r"([0-9]{1,2})([/-])([0-9]{1,2})\2([0-9]{4})" + _CLOCK, re.ASCII)
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?", re.ASCII)
# Characters of numbers, dates, percentages and amounts. Text made only of these (and a digit) that is none of
# the above (12%, 12-, (12), € 12,50, 31.01.26) only looks numeric: in a typed column it makes the column text.
NUMERIC_CHARS = "0-9" + BLANKS + r"+\-.,'\u2019/:%()€$£¥₹"
_NUMERIC_LOOKING = re.compile(f"[{NUMERIC_CHARS}]*[0-9][{NUMERIC_CHARS}]*")
# Text that may be more than a word: numeric characters, a digit, and the letters of 1e5 and 2024-01-31T10:30.
CANDIDATE = f"[{NUMERIC_CHARS}eET]*[0-9][{NUMERIC_CHARS}eET]*"
_CANDIDATE = re.compile(CANDIDATE)
_BOOLS = {"true": True, "false": False}

WORD_READING, BOOL_READING, IDENT_READING = Reading(WORD), Reading(BOOL), Reading(IDENT)
OTHER_READING, INVALID_READING, TIME_READING = Reading(OTHER), Reading(INVALID), Reading(TIME)


def read_value(text: str) -> Reading:
    """What a non-empty cell's text is, and which notations or date orders it fits."""
    if not _CANDIDATE.fullmatch(text):  # a word, or TRUE/FALSE: no digit, or a character no number has
        return BOOL_READING if text.strip(BLANKS).lower() in _BOOLS else WORD_READING
    text = text.strip(BLANKS)
    if _IDENT.fullmatch(text):
        return IDENT_READING
    mask = 0
    for bit, pattern in enumerate(NUMBER_PATTERNS):
        if pattern.fullmatch(text):
            mask |= 1 << bit
    if mask:
        return _number_reading(text, mask)
    if _ISO.fullmatch(text) or _DOTTED.fullmatch(text) or _SLASHED.fullmatch(text):
        day_first, month_first = date_value(text, DAY_FIRST), date_value(text, MONTH_FIRST)
        mask = (DAY_FIRST if day_first else 0) | (MONTH_FIRST if month_first else 0)
        if not mask:
            return INVALID_READING
        return Reading(DATE, mask, mask == BOTH_ORDERS and day_first != month_first)
    if _TIME.fullmatch(text):
        return TIME_READING if time_value(text) is not None else INVALID_READING
    return OTHER_READING if _NUMERIC_LOOKING.fullmatch(text) else WORD_READING


def _number_reading(text: str, mask: int) -> Reading:
    """A number's reading; too long a whole number is an identifier, one beyond a float's range only numeric text."""
    notation = NOTATIONS[(mask & -mask).bit_length() - 1]
    plain = _plain_number(text, notation)
    if "." not in plain and "e" not in plain and "E" not in plain:
        digits = plain.lstrip("+-")
        # int() of a huge digit string is slow and refused past 4300 digits: count the digits first.
        if len(digits) > 15 and (len(digits) > 16 or int(digits) >= MAX_EXACT_INT):
            return IDENT_READING
    elif not math.isfinite(float(plain)):
        return OTHER_READING
    return Reading(NUMBER, mask, "." in text or "," in text)


def _plain_number(text: str, notation: Notation) -> str:
    """The number's text as float() and int() read it: no thousands separators, a decimal point."""
    for separator in notation.thousands:
        if separator in text:
            text = text.replace(separator, "")
    return text.replace(",", ".") if notation.decimal == "," else text


def number_reader(notation: Notation) -> Callable[[str], int | float]:
    """A function from a number's text in `notation` (already known to fit it) to its value.

    Whole numbers are int, as every reader's values are (xlbatch.workbook.normalise): 12.0 and 1e3 too."""
    thousands, comma = tuple(notation.thousands), notation.decimal == ","

    def read(text: str) -> int | float:
        for separator in thousands:
            if separator in text:
                text = text.replace(separator, "")
        if comma:
            text = text.replace(",", ".")
        if "." in text or "e" in text or "E" in text:
            number = float(text)
            return int(number) if number.is_integer() and -MAX_EXACT_INT < number < MAX_EXACT_INT else number
        return int(text)  # at most 16 digits: the column would be text otherwise

    return read


def date_value(text: str, order: int) -> dt.date | dt.datetime | None:
    """The date (with a time: datetime) in `text` read in `order`, or None; ISO dates read alike in both orders."""
    text = text.strip(BLANKS)
    if match := _ISO.fullmatch(text):
        year, month, day = match.group(1, 2, 3)
        clock = match.group(4, 5, 6, 7)
    elif match := _DOTTED.fullmatch(text):
        if order != DAY_FIRST:  # 31.01.2026 is day-first wherever it is written
            return None
        day, month, year = match.group(1, 2, 3)
        clock = (*match.group(4, 5, 6), None)
    elif match := _SLASHED.fullmatch(text):
        first, second, year = match.group(1, 3, 4)
        day, month = (first, second) if order == DAY_FIRST else (second, first)
        clock = (*match.group(5, 6, 7), None)
    else:
        return None
    if int(year) < FIRST_YEAR:
        return None
    try:
        if clock[0] is None:
            return dt.date(int(year), int(month), int(day))
        hour, minute, second, fraction = clock
        micro = int(fraction.ljust(6, "0")) if fraction else 0
        return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    except ValueError:  # 2024-02-30, 31/04/2026, 25:00
        return None


def date_reader(order: int) -> Callable[[str], dt.date | dt.datetime]:
    """A function from a date's text (already known to be valid in `order`) to its value. ISO text is read in C;
    the others' dates are read once each (timestamps share them) and their times in C too."""
    iso_date, iso_datetime = dt.date.fromisoformat, dt.datetime.fromisoformat
    days: dict[str, tuple[dt.date | dt.datetime, str]] = {}  # a date's text -> its value, and the value in ISO

    def read(text: str) -> dt.date | dt.datetime:
        if text[4:5] == "-" and text[7:8] == "-":  # only ISO dates have these two dashes
            try:
                return iso_date(text) if len(text) == 10 else iso_datetime(text)
            except ValueError:  # blanks around it: fromisoformat refuses them
                pass
        day_text, _, clock = text.strip(BLANKS).partition(" ")
        known = days.get(day_text)
        if known is None:
            if len(days) > 10_000:  # bounded: a column of all different dates must not grow it forever
                days.clear()
            value = date_value(day_text, order)
            assert value is not None, text
            known = days[day_text] = (value, value.isoformat())
        if not clock:
            return known[0]
        hour, _, rest = clock.partition(":")
        return iso_datetime(f"{known[1]} {hour:0>2}:{rest}")

    return read


def time_value(text: str) -> dt.time | None:
    """The time of day in `text` (10:30, 10:30:15, 10:30:15.250), or None."""
    match = _TIME.fullmatch(text.strip(BLANKS))
    if not match:
        return None
    hour, minute, second, fraction = match.groups()
    try:
        return dt.time(int(hour), int(minute), int(second or 0), int(fraction.ljust(6, "0")) if fraction else 0)
    except ValueError:
        return None


def time_reader(text: str) -> dt.time:
    """A time's text (already known to be valid) to its value, in C."""
    hour, _, rest = text.strip(BLANKS).partition(":")
    return dt.time.fromisoformat(f"{hour:0>2}:{rest}")


def bool_value(text: str) -> bool:
    return _BOOLS[text.strip(BLANKS).lower()]
