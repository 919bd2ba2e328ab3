"""How typed cell values become what an xlsx cell can hold, exactly, and what reading it back gives.

Excel stores a number as an IEEE double, a date or time as a serial number of days (with a number format
saying how to show it), and text of at most 32,767 UTF-16 units. `to_cell()` turns one of the values
the tasks use (see `xlbatch.workbook`) into the `Cell` to write: its kind, the number or text written, and
`expected`, the value `xlbatch.workbook` reads back from it (what `xlbatch.verify` compares). Where a value
cannot be kept as it is, the cell carries a `loss` saying why, for a warning that names the cell.

Dates and times are converted here rather than by xlsxwriter, whose `write_datetime` has two faults:
it treats any datetime on 1900-01-01 as a bare time (so the date 1900-01-01 becomes the time 00:00), and
it applies Excel's 1900 leap-year correction from serial 59 instead of 60 (so 1900-02-28 12:00 becomes
1900-02-29 12:00). Excel's 1900 date system counts 1900-01-01 as day 1 and has a 1900-02-29 (day 60)
that never existed: from 1900-03-01 (day 61) every serial is one more than the days since 1899-12-31.
Dates before 1900-01-01 have no serial at all. The reader keeps milliseconds, so does this.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

EXCEL_MAX_CELL_CHARS = 32_767  # in UTF-16 units, as Excel counts
_EPOCH = dt.datetime(1899, 12, 31)
_FIRST_DATE = dt.date(1900, 1, 1)
_LEAP_BUG_FROM = dt.date(1900, 3, 1)  # from here on, serial = days since 1899-12-31 + 1
_MS_PER_DAY = 86_400_000
_MAX_EXACT_INT = 2**53
# Characters no XML document may hold, even escaped as Excel's _xHHHH_ (U+FFFE, U+FFFF and surrogates
# that are not part of a pair, which cannot even be encoded as UTF-8). Control characters are kept:
# xlsxwriter writes them as _xHHHH_, the way Excel does, and the reader turns them back.
_NOT_XML = {0xFFFE, 0xFFFF}

# Kinds of cell, with the number format each kind is shown with.
NUMBER, TEXT, BOOL, DATE, DATETIME, TIME, DURATION, EMPTY = (
    "number",
    "text",
    "bool",
    "date",
    "datetime",
    "time",
    "duration",
    "empty",
)
FORMATS = {
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm:ss",
    TIME: "hh:mm:ss",
    DURATION: "[h]:mm:ss",
}
# With milliseconds, so that what is kept is also what is shown.
FORMATS_MS = {
    DATETIME: "yyyy-mm-dd hh:mm:ss.000",
    TIME: "hh:mm:ss.000",
    DURATION: "[h]:mm:ss.000",
}

# Reasons a value could not be kept as it was, each with the sentence a warning uses.
LOSS_TEXT = {
    "long_text": "text longer than Excel's limit of 32,767 characters; the text was cut at the limit",
    "bad_chars": "characters that an Excel file cannot hold; they were replaced with '\ufffd'",
    "big_int": "a whole number with more digits than a double keeps; it was saved as the nearest number Excel holds",
    "not_a_number": "a value that is not a number (NaN or infinity), which Excel cannot store; the cell was left empty",
    "old_date": "a date before 1900-01-01, which Excel cannot store as a date; it was saved as text (YYYY-MM-DD)",
    "sub_ms": "a time with more precision than Excel keeps (milliseconds); it was rounded to the millisecond",
    "late_time": "a time that rounds to 24:00:00 at Excel's millisecond precision; it was saved as 23:59:59.999",
}


def loss_warnings(losses: dict[str, list[Any]]) -> list[str]:
    """One warning per kind of value a writer could not keep, naming its first cells (`losses`: kind ->
    [count, first cells])."""
    lines = []
    for kind, (count, cells) in losses.items():
        more = f" and {count - len(cells):,} more" if count > len(cells) else ""
        lines.append(f"{count:,} cell(s) held {LOSS_TEXT[kind]}: {', '.join(cells)}{more}.")
    return lines


@dataclass(frozen=True, slots=True)
class Cell:
    """One value as it is written: its kind, the number or text in the file, and what reads back."""

    kind: str
    written: Any  # the float/int serial or number, the str, or the bool written
    expected: Any  # the value xlbatch.workbook reads back from this cell
    loss: str | None = None  # a LOSS_TEXT key when the value could not be kept as it was
    millis: bool = False  # a date/time value with milliseconds: shown with a format that has them


def number_text(number: int | float) -> str:
    """The shortest text that reads back as exactly this double (Excel writes up to 17 digits)."""
    if number.__class__ is int:
        return str(number)
    text = repr(float(number))
    if text.endswith(".0"):
        return text[:-2]
    return text.replace("e", "E")


def read_number(number: int | float) -> int | float:
    """What the reader gives for a number cell: whole doubles below 2**53 as int (see xlbatch.workbook)."""
    if isinstance(number, float) and number.is_integer() and abs(number) < _MAX_EXACT_INT:
        return int(number)
    return number


def _number(value: int | float) -> Cell:
    if not isinstance(value, float):
        if abs(value) < _MAX_EXACT_INT:
            return Cell(NUMBER, int(value), int(value))
        nearest = float(value)
        if nearest == value:  # 2**60 and friends are doubles too
            return Cell(NUMBER, nearest, read_number(nearest))
        return Cell(NUMBER, nearest, read_number(nearest), "big_int")
    if math.isnan(value) or math.isinf(value):
        return Cell(EMPTY, None, None, "not_a_number")
    if value == 0.0:
        return Cell(NUMBER, 0, 0)  # Excel has no negative zero
    return Cell(NUMBER, value, read_number(value))


def _serial(days: int, millis: int) -> float | int:
    """The serial of a day count since 1899-12-31 (leap-year bug applied) plus milliseconds."""
    if millis == 0:
        return days
    return days + millis / _MS_PER_DAY


def _day_number(day: dt.date) -> int:
    days = (day - _EPOCH.date()).days
    return days + 1 if day >= _LEAP_BUG_FROM else days


def _round_ms(value: dt.datetime | dt.time | dt.timedelta) -> tuple[int, bool]:
    """(milliseconds rounded half up, whether anything below a millisecond was dropped) of a time part."""
    micro = value.microsecond if not isinstance(value, dt.timedelta) else value.microseconds
    return (micro + 500) // 1000, micro % 1000 != 0


def _datetime(value: dt.datetime) -> Cell:
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if value.date() < _FIRST_DATE:
        return Cell(TEXT, value.isoformat(sep=" "), value.isoformat(sep=" "), "old_date")
    millis, dropped = _round_ms(value)
    try:
        exact = value.replace(microsecond=0) + dt.timedelta(milliseconds=millis)
    except OverflowError:  # 9999-12-31 23:59:59.9995 and later round past the last day there is
        exact = value.replace(microsecond=999_000)
    day_ms = (exact.hour * 3600 + exact.minute * 60 + exact.second) * 1000 + exact.microsecond // 1000
    serial = _serial(_day_number(exact.date()), day_ms)
    loss = "sub_ms" if dropped else None
    if day_ms == 0:  # the reader gives a date when the time is midnight; the format still shows it
        return Cell(DATETIME, serial, exact.date(), loss)
    return Cell(DATETIME, serial, exact, loss, millis=exact.microsecond != 0)


def _date(value: dt.date) -> Cell:
    if value < _FIRST_DATE:
        return Cell(TEXT, value.isoformat(), value.isoformat(), "old_date")
    return Cell(DATE, _day_number(value), value)


def _time(value: dt.time) -> Cell:
    millis, dropped = _round_ms(value)
    day_ms = (value.hour * 3600 + value.minute * 60 + value.second) * 1000 + millis
    loss = "sub_ms" if dropped else None
    if day_ms >= _MS_PER_DAY:
        day_ms, loss = _MS_PER_DAY - 1, "late_time"
    seconds, ms = divmod(day_ms, 1000)
    exact = dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, ms * 1000)
    return Cell(TIME, day_ms / _MS_PER_DAY if day_ms else 0, exact, loss, millis=ms != 0)


def _duration(value: dt.timedelta) -> Cell:
    millis, dropped = _round_ms(value)
    total_ms = (value.days * 86_400 + value.seconds) * 1000 + millis
    exact = dt.timedelta(milliseconds=total_ms)
    days, rest = divmod(total_ms, _MS_PER_DAY)
    return Cell(DURATION, _serial(days, rest), exact, "sub_ms" if dropped else None, millis=total_ms % 1000 != 0)


def _text(value: str) -> Cell:
    loss = None
    if not value:
        return Cell(EMPTY, None, None)
    if _has_bad_chars(value):
        value = "".join("\ufffd" if _bad_char(c) else c for c in value)
        loss = "bad_chars"
    if len(value) > EXCEL_MAX_CELL_CHARS // 2 and utf16_len(value) > EXCEL_MAX_CELL_CHARS:
        value = utf16_cut(value, EXCEL_MAX_CELL_CHARS)
        loss = "long_text"
    return Cell(TEXT, value, value, loss)


def _bad_char(char: str) -> bool:
    code = ord(char)
    return code in _NOT_XML or 0xD800 <= code <= 0xDFFF


def _has_bad_chars(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True  # a lone surrogate
    return "\ufffe" in text or "\uffff" in text


def utf16_len(text: str) -> int:
    """Length in UTF-16 units, as Excel counts characters: emoji and other astral characters count 2."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def utf16_cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, never in the middle of a character."""
    units = 0
    for position, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:position]
    return text


def to_cell(value: Any) -> Cell:
    """The cell that keeps `value` (one of the types xlbatch.workbook gives, or anything printable)."""
    if value is None:
        return Cell(EMPTY, None, None)
    cls = value.__class__
    if cls is str:
        return _text(value)
    if cls is bool:
        return Cell(BOOL, value, value)
    if cls is int or cls is float:
        return _number(value)
    if isinstance(value, dt.datetime):
        return _datetime(value)
    if isinstance(value, dt.date):
        return _date(value)
    if isinstance(value, dt.time):
        return _time(value)
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, int | float):  # subclasses such as IntEnum
        return _number(int(value) if isinstance(value, int) else float(value))
    return _text(str(value))
