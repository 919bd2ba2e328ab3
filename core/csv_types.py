"""Typing a CSV file column by column: numbers, dates, times and booleans decided from all of a column's values.

A CSV cell is only text. Excel guesses each cell on its own when it opens a CSV, which is how 1.234,50 stays
text while 99,95 in the same column becomes a number. Here each column's notation (decimal and thousands
separators) or date order is decided once, from every value in it, and applied to the whole column. The
reader (xlbatch.workbook) types every task's CSV rows this way, and reports why a column stayed text.

What a value can be (blanks around it ignored; xlbatch.csv_values reads one value):
- number: optional sign, digits, optional decimal part, in one notation: 1,234.5 (US, UK), 1 234.5,
  1'234.5 (Swiss), 1.234,5 (German), 1 234,5 (French, Nordic). Thousands separators are optional, group
  three digits, and may be a no-break or narrow no-break space, or a typographic apostrophe. An exponent
  (-1.5e3) only without thousands separators. The value is float() (or int()) of the text without thousands
  separators and with a decimal point: exactly what Excel reads, bar its 15-digit display. Whole numbers are
  int, like every reader's (12.0 and 1e3 too; -0 and -0.0 are 0, as in Excel, which has no negative zero).
- identifier: leading zeros (00123, 0012.5) or a whole number of 2**53 or more (12345678901234567890),
  which no float holds exactly. Excel would drop the zeros or the last digits: the column stays text,
  without a warning (postcodes, article and account numbers are text).
- numeric-looking text: digits with %, currency symbols, brackets, trailing signs, 12., 1e999 (beyond a
  float), two-digit years (31.01.26): nothing Excel reads the same everywhere. Percentages and amounts with a
  currency stay text on purpose: 12% as 0.12 or € 12,50 as 12.5 would change what the user sees.
- date: ISO 2024-01-31, 2024-01-31 10:30[:00[.ffffff]] (or with T); day-first 31.01.2026; 31/01/2026 or
  01/31/2026 (also with -), optionally with a time hh:mm[:ss]. Years are four digits, from 1900 (Excel holds
  no earlier date). Without a time: datetime.date, with one: datetime.datetime. An invalid date (2024-02-30)
  is numeric-looking text.
- time: 10:30, 10:30:15[.ffffff] (hours 0-23): datetime.time.
- TRUE / FALSE in any case: bool, as Excel reads them, but only in a column holding nothing else (a lone
  "true" in a column of text is more likely a word).
- anything else (words, "n/a", "-") is text.

Deciding a column, from its values below the header:
- Blanks and words decide nothing: they stay None and text where they are, and the rest of the column is
  typed (as Excel does with "n/a" in a column of numbers).
- Every number must fit one notation and every date one order. A column mixing notations (1,234.50 and
  1.234,50), dates in both orders (13/01/2026 and 01/13/2026), numbers with dates or times, or any of these
  with numeric-looking text (12%, 2024-02-30) stays text, with a warning naming the column. An identifier
  anywhere keeps the column text silently, even when it also has such a mix.
- Ambiguous numbers: 1.234 and 1,234 read differently with a decimal point and with a decimal comma. A column
  whose every number fits both is settled by, in this order: its own values (12,5 or 1.234,5: comma; 12.5 or
  1,234.5: point); the file's other number columns, when all that settled their separator settled the same
  one; the delimiter: Excel writes ';' where the decimal separator is a comma and ',' where it is a point.
  Otherwise (tab or pipe, or a file of one column, where no delimiter occurs, and nothing else to go by) it
  stays text with a warning.
- Ambiguous dates: 01/02/2026 is 1 February day-first, 2 January month-first. A column whose every slash date
  fits both orders (and reads differently in them) is settled by: its own values (13/01/2026); the file's other
  date columns when they agree (31.01.2026 is day-first); a decimal comma settled by the file's columns, or
  the ';' delimiter (continental European conventions, all day-first). Otherwise it stays text with a
  warning: ',' is written both where dates are month-first (US) and day-first (UK), so it settles nothing.

Header: the first row is not data when one of its cells is a word above a column that is mostly numbers,
dates, times or booleans (or identifiers, or text that looks numeric) in the rows right below (the first
BLOCK_ROWS). Its cells are then typed only where they read like the column below (2024 above a column of
numbers is 2024); the others stay text. Otherwise the first row is data like the rest.

Cost: two passes over the text, both a block of rows at a time, column by column. The first decides the
columns; its usual case (a block of plain numbers in a notation, or of ISO dates) is one regular expression
over the block's values joined by newlines. The second converts each column with one function chosen for it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from xlbatch.cell_refs import column_letters
from xlbatch.csv_values import (
    ALL_NOTATIONS,
    BLANKS,
    BOOL,
    BOTH_ORDERS,
    CANDIDATE,
    COMMA,
    DATE,
    DAY_FIRST,
    IDENT,
    INVALID,
    MONTH_FIRST,
    NOTATIONS,
    NUMBER,
    NUMBER_PATTERNS,
    OTHER,
    POINT,
    TIME,
    WORD,
    Notation,
    Reading,
    number_pattern,
    read_value,
)

BLOCK_ROWS = 2048  # rows read and typed together: enough to pay a column's checks once for many values
TEXT = "text"
_FIT = "fit"  # a conflict of notations or orders, not of kinds
_EXAMPLE_CHARS = 30  # an example in a warning is cut to this length
_LABEL_CHARS = 40  # and a column's header text to this one
_KIND_NAMES = {NUMBER: "numbers", DATE: "dates", TIME: "times"}
_NOT_TYPED = {OTHER: "values that only look like numbers or dates", INVALID: "dates or times Excel cannot hold"}
_ISO_LINE = (
    r"(?:19|[2-9][0-9])[0-9]{2}+-[0-9]{2}+-[0-9]{2}+"
    r"(?:[ T][0-9]{2}+:[0-9]{2}+(?::[0-9]{2}+(?:\.[0-9]{1,6}+)?+)?+)?+"
)
_LOCAL_DATE_LINE = (
    r"[0-9]{1,2}+([./-])[0-9]{1,2}+\1(?:19|[2-9][0-9])[0-9]{2}+"
    r"(?: (?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?+)?+"
)
_DIGIT = re.compile("[0-9]")
_DAY_PARTS = re.compile(r"^[0-9./-]+", re.MULTILINE)  # the date of each value of a block, without its time
_CANDIDATE_LINES = re.compile(f"^{CANDIDATE}$", re.MULTILINE)
_BOOL_LINE = f"[{BLANKS}]*+(?i:true|false)[{BLANKS}]*+"
# An identifier could still hide in a column already found mixed: a leading zero, or 16 digits (grouped or not).
_LEADING_ZERO_HINT = re.compile(r"^[^\n0-9]*0[0-9]", re.MULTILINE)
_LONG_DIGITS_HINT = re.compile("[0-9](?:[.,'\u2019 \u00a0\u202f]?[0-9]){15}")


def _lines_of(line: str) -> re.Pattern[str]:
    """Matches a block of values joined by newlines when each one is empty or matches `line`."""
    item = f"(?:{line})(?=\n|\\Z)"
    return re.compile(f"(?:{item})?+(?:\n(?:{item})?+)*+", re.ASCII)


@cache
def _number_lines(decimal: str, thousands: str) -> re.Pattern[str]:
    return _lines_of(number_pattern(decimal, thousands, fast=True))


_ISO_LINES = _lines_of(_ISO_LINE)
_LOCAL_DATE_LINES = _lines_of(_LOCAL_DATE_LINE)
_BOOL_LINES = _lines_of(_BOOL_LINE)


def _bits(mask: int) -> Iterator[int]:
    while mask:
        bit = mask & -mask
        yield bit
        mask ^= bit


def notation_of(bit: int) -> Notation:
    return NOTATIONS[bit.bit_length() - 1]


class ColumnProfile:
    """What one column's values have shown so far: kinds, fitting notations and orders, examples for warnings."""

    def __init__(self) -> None:
        self.typed = 0  # numbers, dates, times, and values that only look like one, seen
        self.words = 0
        self.bools = 0
        self.all_bool = True  # every value so far was TRUE or FALSE
        self.ident: str | None = None  # an identifier: the column is text, whatever else it holds
        self.kinds: dict[str, str] = {}  # NUMBER, DATE, TIME, OTHER, INVALID seen: the first example of each
        self.notations = ALL_NOTATIONS  # the notations every number fits
        self.orders = BOTH_ORDERS  # the orders every date fits
        self.ruled_out: dict[tuple[str, int], str] = {}  # (kind, notation or order) -> first value not fitting it
        self.decimal_example: str | None = None  # a number whose value depends on the decimal separator
        self.order_example: str | None = None  # a date whose value depends on the order
        # Why the column must be text: (kind, what it is mixed with, example, example), or None.
        self.conflict: tuple[str, str, str, str] | None = None

    @property
    def mixed(self) -> bool:
        """Words (or TRUE/FALSE among other values) between the typed values."""
        return self.words > 0 or (self.bools > 0 and not self.all_bool)

    @property
    def mostly_typed(self) -> bool:
        """Mostly numbers, dates, times or booleans (or identifiers): a word above them is a header."""
        return self.ident is not None or self.typed + (self.bools if self.all_bool else 0) > self.words

    # -- observing ---------------------------------------------------------------------------------
    def observe_block(self, values: Sequence[str]) -> None:
        """Take in one block of the column's values (empty strings are blank cells)."""
        if self.ident is not None:
            return
        filled = len(values) - values.count("")
        if not filled:
            return
        joined = "\n".join(values)
        if joined.count("\n") != len(values) - 1:  # a value spans lines: the joined block cannot be split back
            for text in values:
                self.observe_value(text)
        elif self.conflict is not None:  # text already; only an identifier would still change the verdict
            if _LEADING_ZERO_HINT.search(joined) or _LONG_DIGITS_HINT.search(joined):
                for text in values:
                    self.observe_value(text)
        elif not self._at_once(values, joined, filled):
            self._observe_slowly(joined, filled)

    def observe_value(self, text: str, times: int = 1) -> None:
        """Take in one value, found `times` times."""
        if not text or self.ident is not None:
            return
        reading = read_value(text)
        if reading.kind == WORD:
            self.words += times
            self.all_bool = False
            return
        if reading.kind == BOOL:
            self.bools += times
            return
        self.all_bool = False
        text = text.strip(BLANKS)
        if reading.kind == IDENT:
            self.ident = text
            return
        self._add_kind(reading.kind, text)
        self.typed += times
        if reading.kind == NUMBER:
            self._fit(NUMBER, reading, text)
        elif reading.kind == DATE:
            self._fit(DATE, reading, text)

    def _at_once(self, values: Sequence[str], joined: str, filled: int) -> bool:
        """The usual blocks in one go: all numbers in some notation, all ISO dates, or all dates in a local form."""
        return (
            self._numbers_at_once(values, joined, filled)
            or self._iso_dates_at_once(values, joined, filled)
            or self._local_dates_at_once(values, joined, filled)
        )

    def _numbers_at_once(self, values: Sequence[str], joined: str, filled: int) -> bool:
        """The block's numbers in one go, when every value is blank or a plain number in some notation."""
        fits, checked = 0, {}
        for bit in _bits(self.notations):
            n = notation_of(bit)
            # A separator absent from the block changes nothing: notations that differ only there share a check.
            thousands = n.thousands if any(c in joined for c in n.thousands) else ""
            key = (n.decimal if n.decimal in joined else "", thousands)
            if key not in checked:
                checked[key] = _number_lines(*key).fullmatch(joined) is not None
            if checked[key]:
                fits |= bit
        if not fits:
            return False
        first = next(v for v in values if v)
        self._add_kind(NUMBER, first)
        self.typed += filled
        if self.decimal_example is None and ("." in joined or "," in joined):
            self.decimal_example = next(v for v in values if "." in v or "," in v)
        for bit in _bits(self.notations & ~fits):  # the values that ruled a notation out, for a warning later
            pattern = NUMBER_PATTERNS[bit.bit_length() - 1]
            witness = next((v for v in values if v and not pattern.fullmatch(v)), first)
            self.ruled_out.setdefault((NUMBER, bit), witness)
        self.notations = fits
        return True

    def _iso_dates_at_once(self, values: Sequence[str], joined: str, filled: int) -> bool:
        """The block's dates in one go, when every value is blank or a valid ISO date (or date and time)."""
        if not _ISO_LINES.fullmatch(joined):
            return False
        try:
            for text in dict.fromkeys(values):  # each distinct date once: dates repeat a lot
                if text:
                    (dt.date.fromisoformat if len(text) == 10 else dt.datetime.fromisoformat)(text)
        except ValueError:  # 2024-02-30: read value by value, to name it
            return False
        self._add_kind(DATE, next(v for v in values if v))
        self.typed += filled
        return True

    def _local_dates_at_once(self, values: Sequence[str], joined: str, filled: int) -> bool:
        """The block's dates in one go, when every value is blank or a date like 31.01.2026 or 01/31/2026 (with a
        valid time, if any): each distinct date, without its time, is read once (timestamps share their dates)."""
        if not _LOCAL_DATE_LINES.fullmatch(joined):
            return False
        readings = {day: read_value(day) for day in dict.fromkeys(_DAY_PARTS.findall(joined))}
        if any(reading.kind != DATE for reading in readings.values()):  # 31.02.2026: value by value, to name it
            return False
        self._add_kind(DATE, next(v for v in values if v))
        self.typed += filled
        for day, reading in readings.items():
            self._fit(DATE, reading, day)
        return True

    def _observe_slowly(self, joined: str, filled: int) -> None:
        """Words aside, the values that could be more than a word: in one go if they can be, else each distinct
        one once (a column of dates or codes repeats its values a lot). Counter keeps the first-seen order:
        warnings name the same examples on every run."""
        if self.all_bool and _BOOL_LINES.fullmatch(joined):
            self.bools += filled
            return
        candidates = _CANDIDATE_LINES.findall(joined) if _DIGIT.search(joined) else []
        words = filled - len(candidates)  # the other values are words (or TRUE/FALSE among other values)
        if words:
            self.words += words
            self.all_bool = False
        if candidates:
            candidates = [text.strip(BLANKS) for text in candidates]  # as read_value reads them: " 12.50" too
            if self._at_once(candidates, "\n".join(candidates), len(candidates)):
                return  # numbers or dates with words among them ("n/a"), or with blanks around them
        for text, times in Counter(candidates).items():
            self.observe_value(text, times)

    def _add_kind(self, kind: str, example: str) -> None:
        if kind in self.kinds:
            return
        self.kinds[kind] = example
        if self.conflict is not None:
            return
        typed = [k for k in self.kinds if k in _KIND_NAMES]
        untyped = [k for k in self.kinds if k in _NOT_TYPED]
        if len(typed) > 1:
            self.conflict = (typed[0], typed[1], self.kinds[typed[0]], self.kinds[typed[1]])
        elif typed and untyped:
            self.conflict = (typed[0], untyped[0], self.kinds[typed[0]], self.kinds[untyped[0]])

    def _fit(self, kind: str, reading: Reading, text: str) -> None:
        """Narrow the notations (or orders) every number (or date) fits to those `text` fits too."""
        fitting = self.notations if kind == NUMBER else self.orders
        for bit in _bits(fitting & ~reading.mask):
            self.ruled_out.setdefault((kind, bit), text)
        left = fitting & reading.mask
        if reading.sensitive:
            if kind == NUMBER and self.decimal_example is None:
                self.decimal_example = text
            if kind == DATE and self.order_example is None:
                self.order_example = text
        if not left and self.conflict is None:
            # Each notation this value fits was ruled out by an earlier value: name one of those.
            earlier = next(self.ruled_out[(kind, bit)] for bit in _bits(reading.mask))
            self.conflict = (kind, _FIT, earlier, text)
        if kind == NUMBER:
            self.notations = left
        else:
            self.orders = left


# -- deciding ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnType:
    """How one column's cells are typed."""

    kind: str = TEXT  # TEXT, NUMBER, DATE, TIME or BOOL
    notation: int = 0  # NUMBER: the notation's bit
    order: int = DAY_FIRST  # DATE: the order
    mixed: bool = False  # words among the typed values: each value is read before it is converted


TEXT_COLUMN = ColumnType()


@dataclass(frozen=True)
class CsvTyping:
    """A CSV file's decided columns, whether its first row is a header, and why columns stayed text."""

    columns: tuple[ColumnType, ...]
    header: bool
    warnings: tuple[str, ...]


def infer_types(records: Iterable[list[str]], delimiter: str) -> CsvTyping:
    """Decide every column's type from all its values (one pass over `records`, split at `delimiter`, which is
    evidence of the file's conventions; "" when it is not known)."""
    rows = iter(records)
    first = next(rows, None)
    if first is None:
        return CsvTyping((), False, ())
    blocks = row_blocks(rows)
    opening = next(blocks, [])
    header = _is_header(first, opening)
    profiles = [ColumnProfile() for _ in first]
    if not header:  # the first row is data, and comes first: warnings name the examples in the file's order
        _observe(profiles, [first])
    for block in itertools.chain([opening], blocks):
        _observe(profiles, block)
    labels = [_label(index, first[index] if header and index < len(first) else "") for index in range(len(profiles))]
    if len(profiles) < 2:  # the delimiter never occurs: it was only a guess, and says nothing of the conventions
        delimiter = ""
    decimal, decimal_from_columns = _file_decimal(profiles, delimiter)
    order = _file_order(profiles, delimiter, decimal if decimal_from_columns else 0)
    columns: list[ColumnType] = []
    warnings: list[str] = []
    for profile, label in zip(profiles, labels, strict=True):
        column, problem = _decide_column(profile, decimal, order)
        columns.append(column)
        if problem:
            warnings.append(f"{label} {problem}; its values were kept as text.")
    return CsvTyping(tuple(columns), header, tuple(warnings))


def _observe(profiles: list[ColumnProfile], block: list[list[str]]) -> None:
    for index, values in enumerate(itertools.zip_longest(*block, fillvalue="")):
        if index == len(profiles):
            profiles.append(ColumnProfile())
        profiles[index].observe_block(values)


def _is_header(first: list[str], opening: list[list[str]]) -> bool:
    """Whether the first row is a header: a word above a column of mostly typed values (in the rows right below)."""
    below: list[ColumnProfile] = []
    _observe(below, opening)
    return any(
        text and read_value(text).kind == WORD and profile.mostly_typed
        for text, profile in zip(first, below, strict=False)
    )


def _usable(profile: ColumnProfile) -> bool:
    return profile.ident is None and profile.conflict is None


def _file_decimal(profiles: list[ColumnProfile], delimiter: str) -> tuple[int, bool]:
    """The decimal separator (POINT or COMMA, 0: unknown) of the file, and whether its columns settled it."""
    settled = set()
    for profile in profiles:
        if _usable(profile) and NUMBER in profile.kinds:
            fits = profile.notations
            if not fits & COMMA:
                settled.add(POINT)
            elif not fits & POINT:
                settled.add(COMMA)
    if len(settled) == 1:
        return settled.pop(), True
    return {";": COMMA, ",": POINT}.get(delimiter, 0), False


def _file_order(profiles: list[ColumnProfile], delimiter: str, decimal_of_columns: int) -> int:
    """The date order (DAY_FIRST or MONTH_FIRST, 0: unknown) of the file."""
    settled = {p.orders for p in profiles if _usable(p) and DATE in p.kinds and p.orders != BOTH_ORDERS}
    if len(settled) == 1:
        return settled.pop()
    return DAY_FIRST if decimal_of_columns == COMMA or delimiter == ";" else 0


def _decide_column(profile: ColumnProfile, decimal: int, order: int) -> tuple[ColumnType, str | None]:
    """The column's type, and why it is text when it has values of a type it cannot take (None: no warning)."""
    if profile.ident is not None:
        return TEXT_COLUMN, None
    if profile.conflict is not None:
        return TEXT_COLUMN, _conflict_text(*profile.conflict)
    if profile.bools and profile.all_bool:
        return ColumnType(BOOL), None
    if NUMBER in profile.kinds:
        fits = profile.notations
        if fits & POINT and fits & COMMA and profile.decimal_example is not None:
            if not decimal:
                return TEXT_COLUMN, (
                    f"has numbers such as {_cut(profile.decimal_example)} that read differently with a decimal "
                    "point and with a decimal comma, and nothing in the file settles which"
                )
            fits &= decimal
        return ColumnType(NUMBER, notation=fits & -fits, mixed=profile.mixed), None
    if DATE in profile.kinds:
        fits = profile.orders
        if fits == BOTH_ORDERS and profile.order_example is not None:
            if not order:
                return TEXT_COLUMN, (
                    f"has dates such as {_cut(profile.order_example)} that could be day-first or month-first, "
                    "and nothing in the file settles which"
                )
            fits = order
        return ColumnType(DATE, order=DAY_FIRST if fits & DAY_FIRST else MONTH_FIRST, mixed=profile.mixed), None
    if TIME in profile.kinds:
        return ColumnType(TIME, mixed=profile.mixed), None
    return TEXT_COLUMN, None


def _conflict_text(kind: str, other: str, first: str, second: str) -> str:
    first, second = _cut(first), _cut(second)
    if other == _FIT:
        if kind == NUMBER:
            return f"mixes number notations ({first} and {second})"
        return f"mixes day-first and month-first dates ({first} and {second})"
    if other in _KIND_NAMES:
        return f"mixes {_KIND_NAMES[kind]} and {_KIND_NAMES[other]} ({first} and {second})"
    return f"mixes {_KIND_NAMES[kind]} ({first}) with {_NOT_TYPED[other]} ({second})"


def _cut(text: str, length: int = _EXAMPLE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _label(index: int, name: str) -> str:
    """How a warning names a column: its letter, and its header text when the file has a header."""
    name = _cut(name, _LABEL_CHARS)
    return f"Column {column_letters(index + 1)} '{name}'" if name else f"Column {column_letters(index + 1)}"


def row_blocks(rows: Iterator[list[str]]) -> Iterator[list[list[str]]]:
    """The rows, BLOCK_ROWS at a time: a column's checks are paid once for many values."""
    while block := list(itertools.islice(rows, BLOCK_ROWS)):
        yield block
