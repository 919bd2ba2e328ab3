"""The `validate` task: check a sheet of every workbook against simple rules and list what breaks them.

Rules, each a list parameter naming columns by their header text (matched ignoring case and spaces):
- `required_columns`: these headers must exist;
- `not_blank`: these columns must have a value in every data row;
- `unique`: the combination of these key columns must not repeat, within a file and across the batch
  (keys compare as text, ignoring case and surrounding spaces, so 7 and "7" are the same key);
- `types`: `Amount=number`, `Units=integer`, `Date=date`, `Name=text`, `Paid=bool`;
- `ranges`: `Amount=0..10000`, `Amount=..100`, `Amount=0..` (inclusive; ISO dates such as
  `Date=2024-01-01..2024-12-31` work too).

`sheet` (name or 1-based position, default 1) picks the sheet and `header_row` (default 1) the row of
column names; data rows are those below it, fully empty rows skipped. Blank cells (or only spaces) are
only the business of `not_blank`; a value of the wrong kind for a range (text where a number is due)
is reported by `types` when the column has a type rule, and by `ranges` otherwise, never twice. A CSV
file has no typed dates, so in CSV input ISO date text (2024-03-31) counts as a date and TRUE/FALSE as
a true/false value.

Issues are data, not failures: the file stays ok and its result counts the issues by rule. The batch
writes `exceptions.xlsx`: one row per issue (File, Sheet, Row, Column, Value, Problem), including keys
repeated across files, and a Summary sheet with the counts per file. At most 10,000 issues per file are
listed (with a warning); all of them are counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlbatch.cost import WorkCost
from xlbatch.outcome import FAILED, OK, FileOutcome
from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.report_layout import COUNT, FILE, TEXT, VALUE
from xlbatch.tables import TableKeeper
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, OutputFolder, Task
from xlbatch.tasks.registry import register
from xlbatch.workbook import CellValue, is_number, open_workbook
from xlbatch.writing import XlsxTableWriter

EXCEPTIONS_NAME = "exceptions.xlsx"
ISSUE_COLUMNS = ["File", "Sheet", "Row", "Column", "Value", "Problem"]
MAX_LISTED_ISSUES = 10_000
PROGRESS_EVERY = 2000
RULES: tuple[str, ...] = ("required_columns", "not_blank", "unique", "types", "ranges")

TYPE_NAMES: dict[str, str] = {
    "number": "number",
    "numeric": "number",
    "integer": "integer",
    "int": "integer",
    "whole": "integer",
    "date": "date",
    "text": "text",
    "string": "text",
    "bool": "bool",
    "boolean": "bool",
}
_TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "date": "a date",
    "text": "text",
    "bool": "TRUE/FALSE",
}


def header_key(value: Any) -> str:
    """How a header is matched: its text with spaces collapsed, ignoring case."""
    return " ".join(str(value).split()).casefold()


def _split_rule(item: str, param: str) -> tuple[str, str]:
    column, sep, spec = item.rpartition("=")
    column, spec = column.strip(), spec.strip()
    if not sep or not column or not spec:
        example = "Amount=number" if param == "types" else "Amount=0..10000"
        raise InvalidParams(f"Parameter '{param}': '{item}' must look like {example}.", param)
    return column, spec


def parse_type(item: str) -> tuple[str, str]:
    """`Column=type` -> (column, canonical type)."""
    column, spec = _split_rule(item, "types")
    kind = TYPE_NAMES.get(spec.lower())
    if kind is None:
        raise InvalidParams(
            f"Parameter 'types': '{spec}' (for column '{column}') is not a type; use number, integer, date, text "
            "or bool.",
            "types",
        )
    return column, kind


def _bound(text: str) -> float | dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(text) from None


@dataclass(frozen=True)
class RangeRule:
    column: str
    low: float | dt.date | None
    high: float | dt.date | None

    @property
    def is_date(self) -> bool:
        return isinstance(self.low, dt.date) or isinstance(self.high, dt.date)

    @property
    def text(self) -> str:
        def show(bound: float | dt.date | None) -> str:
            if bound is None:
                return ""
            if isinstance(bound, float) and bound.is_integer():
                return str(int(bound))
            return bound.isoformat() if isinstance(bound, dt.date) else str(bound)

        return f"{show(self.low)}..{show(self.high)}"


def parse_range(item: str) -> RangeRule:
    """`Column=low..high` (either end may be left out) -> RangeRule."""
    column, spec = _split_rule(item, "ranges")
    low_text, sep, high_text = spec.partition("..")
    try:
        if not sep:
            raise ValueError(spec)
        low, high = _bound(low_text), _bound(high_text)
    except ValueError:
        raise InvalidParams(
            f"Parameter 'ranges': '{spec}' (for column '{column}') must be low..high with numbers or dates "
            "such as 0..10000, ..100 or 2024-01-01..2024-12-31.",
            "ranges",
        ) from None
    if low is None and high is None:
        raise InvalidParams(f"Parameter 'ranges': the range for column '{column}' has no bounds.", "ranges")
    if low is not None and high is not None:
        if isinstance(low, dt.date) != isinstance(high, dt.date):
            raise InvalidParams(
                f"Parameter 'ranges': the range for column '{column}' mixes a number and a date.", "ranges"
            )
        if low > high:  # type: ignore[operator]
            raise InvalidParams(
                f"Parameter 'ranges': the range for column '{column}' starts above where it ends.", "ranges"
            )
    return RangeRule(column, low, high)


def key_text(value: CellValue) -> str:
    """One cell of a key as text, the same whatever the format stored it as (7, 7.0 and "7" agree)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return " ".join(value.split())
    return str(value)


def _cell(row: list[CellValue], index: int) -> CellValue:
    """The value at `index`, None for a missing or whitespace-only cell."""
    value = row[index] if index < len(row) else None
    return None if isinstance(value, str) and not value.strip() else value


def _kind_words(value: CellValue) -> str:
    if isinstance(value, bool):
        return "a TRUE/FALSE value"
    if is_number(value):
        return "a number"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    if isinstance(value, dt.timedelta):
        return "a duration"
    return "text"


def _as_date(value: CellValue, csv_source: bool) -> dt.date | None:
    """The date in `value` (a datetime counts by its day), or None; ISO text counts only from CSV."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if csv_source and isinstance(value, str):
        text = value.strip()
        for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
            try:
                parsed = parse(text)
            except ValueError:
                continue
            return parsed.date() if isinstance(parsed, dt.datetime) else parsed
    return None


def type_problem(value: CellValue, kind: str, csv_source: bool) -> str | None:
    """Why `value` is not of `kind`, or None when it is."""
    if kind == "number":
        ok = is_number(value)
    elif kind == "integer":
        ok = is_number(value) and (isinstance(value, int) or float(value).is_integer())
    elif kind == "date":
        ok = _as_date(value, csv_source) is not None
    elif kind == "bool":
        ok = isinstance(value, bool) or (
            csv_source and isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE")
        )
    else:
        ok = isinstance(value, str)
    if ok:
        return None
    found = _kind_words(value)
    if kind == "integer" and is_number(value):
        found = "a number with decimals"
    return f"Expected {_TYPE_WORDS[kind]} but found {found}."


def range_problem(value: CellValue, rule: RangeRule, csv_source: bool, quiet: bool = False) -> str | None:
    """Why `value` is outside `rule`, or None when it is inside (or, if `quiet`, not a number or date at all)."""
    if rule.is_date:
        day = _as_date(value, csv_source)
        if day is None:
            return None if quiet else f"Not a date, so the range {rule.text} could not be checked."
        if rule.low is not None and day < rule.low:  # type: ignore[operator]
            return f"Before the earliest allowed date {rule.text.split('..')[0]}."
        if rule.high is not None and day > rule.high:  # type: ignore[operator]
            return f"After the latest allowed date {rule.text.split('..')[1]}."
        return None
    if not is_number(value):
        return None if quiet else f"Not a number, so the range {rule.text} could not be checked."
    if rule.low is not None and value < rule.low:
        return f"Below the minimum of {rule.text.split('..')[0]}."
    if rule.high is not None and value > rule.high:
        return f"Above the maximum of {rule.text.split('..')[1]}."
    return None


class _Issues:
    """Issues of one file: all counted by rule, the first MAX_LISTED_ISSUES kept."""

    def __init__(self) -> None:
        self.listed: list[list[Any]] = []
        self.by_rule: dict[str, int] = {}
        self.total = 0

    def add(self, rule: str, row: int, column: str, value: CellValue, problem: str) -> None:
        self.total += 1
        self.by_rule[rule] = self.by_rule.get(rule, 0) + 1
        if len(self.listed) < MAX_LISTED_ISSUES:
            self.listed.append([row, column, value, problem, rule])


@dataclass
class _Rules:
    """The checks of one sheet, bound to its columns: where each rule's column is, found from the header."""

    header_name: dict[int, str]  # column position -> its header text, for the exceptions list
    not_blank: list[int]
    key_columns: list[int] | None
    typed: list[tuple[int, str]]
    ranged: list[tuple[int, RangeRule]]
    csv: bool  # a CSV's values are text: numbers and dates are read from it

    @property
    def key_label(self) -> str:
        return ", ".join(self.header_name[i] for i in self.key_columns) if self.key_columns else ""

    @classmethod
    def locate(
        cls, header: list[CellValue], header_row: int, params: dict[str, Any], issues: _Issues, csv: bool
    ) -> _Rules:
        """Every rule's columns in `header`; a missing required column, or a rule's column that is not
        there, is an issue at the header row (each missing column once)."""
        columns: dict[str, int] = {}
        for index, value in enumerate(header):
            if value is not None:
                columns.setdefault(header_key(value), index)
        reported_missing: set[str] = set()
        for name in params["required_columns"]:
            if header_key(name) not in columns and header_key(name) not in reported_missing:
                reported_missing.add(header_key(name))
                issues.add("required_columns", header_row, name, None, "Required column is missing.")

        def find(names: list[str], rule: str) -> list[int] | None:
            """Positions of `names`; for each one absent, an issue, and None for the list."""
            found: list[int] = []
            for name in names:
                key = header_key(name)
                if key in columns:
                    found.append(columns[key])
                elif key not in reported_missing:
                    issues.add(rule, header_row, name, None, f"Column not found, so the {rule} rule was not checked.")
            return found if len(found) == len(names) else None

        types = [parse_type(item) for item in params["types"]]
        ranges = [parse_range(item) for item in params["ranges"]]
        return cls(
            header_name={index: " ".join(str(header[index]).split()) for index in columns.values()},
            not_blank=[pos[0] for name in params["not_blank"] if (pos := find([name], "not_blank"))],
            key_columns=find(params["unique"], "unique") if params["unique"] else None,
            typed=[(pos[0], kind) for column, kind in types if (pos := find([column], "types"))],
            ranged=[(pos[0], rule) for rule in ranges if (pos := find([rule.column], "ranges"))],
            csv=csv,
        )

    def check(
        self, row: list[CellValue], row_number: int, issues: _Issues, keys: dict[tuple[str, ...], tuple[list[str], int]]
    ) -> None:
        """Every rule on one data row; a key seen before is a duplicate of its first row."""
        for index in self.not_blank:
            if _cell(row, index) is None:
                issues.add("not_blank", row_number, self.header_name[index], None, "Value is blank.")
        typed_columns = {index for index, _kind in self.typed}
        for index, kind in self.typed:
            value = _cell(row, index)
            if value is not None and (problem := type_problem(value, kind, self.csv)):
                issues.add("types", row_number, self.header_name[index], value, problem)
        for index, rule in self.ranged:
            value = _cell(row, index)
            # A value of the wrong kind is reported once: by the types rule when the column has one.
            quiet = index in typed_columns
            if value is not None and (problem := range_problem(value, rule, self.csv, quiet)):
                issues.add("ranges", row_number, self.header_name[index], value, problem)
        if self.key_columns:
            parts = [key_text(_cell(row, i)) for i in self.key_columns]
            if any(parts):
                canonical = tuple(part.casefold() for part in parts)
                first = keys.get(canonical)
                if first is None:
                    keys[canonical] = (parts, row_number)
                else:
                    message = f"Duplicate key: the same as row {first[1]}."
                    issues.add("unique", row_number, self.key_label, " | ".join(parts), message)


@register
class Validate(Task):
    name = "validate"
    title = "Validate data"
    description = (
        "Check one sheet of every workbook for required columns, blanks, duplicate keys (also across files), "
        "types and ranges; lists every issue in exceptions.xlsx."
    )
    kind = "cpu"
    # Mostly reading.
    cost = WorkCost(seconds_per_mb=0.4, seconds_per_file=0.0017, lock_free=0.7)
    version = 1
    params = (
        common_params.sheet("The sheet to check, by name or position."),
        common_params.header_row(),
        Param("required_columns", "list", [], "Columns that must exist."),
        Param("not_blank", "list", [], "Columns that must have a value in every row."),
        Param("unique", "list", [], "Key columns whose combination must not repeat, in a file or across files."),
        Param("types", "list", [], "Expected types, as Column=number, integer, date, text or bool."),
        Param("ranges", "list", [], "Allowed ranges, as Column=0..10000, Column=..100 or Column=0.."),
    )

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        for item in params["types"]:
            parse_type(item)
        for item in params["ranges"]:
            parse_range(item)
        if not any(params[rule] for rule in RULES):
            raise InvalidParams(
                "Give at least one rule: required_columns, not_blank, unique, types or ranges.", "required_columns"
            )
        if not str(params["sheet"]).strip():
            raise InvalidParams("Parameter 'sheet' needs a sheet name or position.", "sheet")

    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        header_row: int = params["header_row"]
        issues = _Issues()
        keys: dict[tuple[str, ...], tuple[list[str], int]] = {}  # canonical key -> (key texts, first row)
        rows_checked = 0
        with open_workbook(source) as book:
            sheet = book.resolve_sheet(params["sheet"])
            ctx.progress(0.0, f"checking {sheet}")
            rows = book.rows(sheet)
            header: list[CellValue] = []
            for row_number, row in enumerate(rows, start=1):
                if row_number == header_row:
                    header = row
                    break
            rules = _Rules.locate(header, header_row, params, issues, csv=source.format == "csv")
            for row_number, row in enumerate(rows, start=header_row + 1):
                if row_number % PROGRESS_EVERY == 0:
                    ctx.progress(0.0, f"{sheet}: row {row_number:,}")
                if all(value is None for value in row):
                    continue
                rows_checked += 1
                rules.check(row, row_number, issues, keys)
        if issues.total > len(issues.listed):
            ctx.warn(
                f"The sheet has {issues.total:,} issues; only the first {len(issues.listed):,} are listed in "
                f"{EXCEPTIONS_NAME}."
            )
        ctx.progress(1.0)
        return {
            "file": source.rel,
            "sheet": sheet,
            "rows_checked": rows_checked,
            "issues": issues.total,
            "by_rule": issues.by_rule,
            "listed": issues.listed,
            "key_columns": rules.key_label if rules.key_columns else None,
            "keys": [[parts, row] for parts, row in keys.values()] if rules.key_columns else [],
        }

    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        ordered = sorted(outcomes, key=lambda o: o.index)
        cross = _cross_file_duplicates([o for o in ordered if o.status == OK and o.result])
        with out.output(EXCEPTIONS_NAME) as tmp, XlsxTableWriter(tmp) as writer:
            book = TableKeeper(writer, out.keep_table)  # the sheets are also report.tables' Exceptions, Summary
            book.add_sheet("Exceptions", ISSUE_COLUMNS, ISSUE_KINDS)
            for o in ordered:
                if o.status != OK or not o.result:
                    continue
                name, sheet = _file_label(o), o.result.get("sheet")
                for row, column, value, problem, _rule in o.result.get("listed", []):
                    book.write_row([name, sheet, row, column, value, problem], link=o.path)
                for row, column, value, problem in cross.get(o.index, []):
                    book.write_row([name, sheet, row, column, value, problem], link=o.path)
            book.add_sheet("Summary", [name for name, _ in SUMMARY_COLUMNS], [kind for _, kind in SUMMARY_COLUMNS])
            for o in ordered:
                result = o.result or {}
                listed, total = len(result.get("listed", [])), result.get("issues")
                if total is not None and total > listed:
                    out.warn(
                        f"{_file_label(o)}: only {listed:,} of its {total:,} issues are listed in {EXCEPTIONS_NAME}."
                    )
                book.write_row(
                    [
                        _file_label(o),
                        o.status,
                        result.get("sheet"),
                        result.get("rows_checked"),
                        total,
                        len(cross.get(o.index, [])) if o.status == OK else None,
                        o.error.message if o.error else o.reason,
                    ],
                    link=o.path,
                    failed=o.status == FAILED,
                )
        for warning in book.warnings:
            out.warn(warning)


# How exceptions.xlsx shows its columns (xlbatch.report_layout): the offending value as the file had it.
ISSUE_KINDS = (FILE, TEXT, TEXT, TEXT, VALUE, TEXT)
SUMMARY_COLUMNS = (
    ("File", FILE),
    ("Status", TEXT),
    ("Sheet", TEXT),
    ("Rows checked", COUNT),
    ("Issues", COUNT),
    ("Duplicates across files", COUNT),
    ("Message", TEXT),
)


def _file_label(outcome: FileOutcome) -> str:
    return (outcome.result or {}).get("file") or Path(outcome.path).name


def _cross_file_duplicates(outcomes: list[FileOutcome]) -> dict[int, list[list[Any]]]:
    """Issue rows (row, column, value, problem) per outcome index for keys already seen in an earlier file."""
    first_seen: dict[tuple[str, ...], tuple[str, str, int]] = {}
    found: dict[int, list[list[Any]]] = {}
    for outcome in outcomes:
        result = outcome.result
        if not result.get("key_columns"):
            continue
        name, sheet = _file_label(outcome), result.get("sheet")
        for parts, row in result.get("keys", []):
            canonical = tuple(str(part).casefold() for part in parts)
            first = first_seen.get(canonical)
            if first is None:
                first_seen[canonical] = (name, sheet, row)
                continue
            found.setdefault(outcome.index, []).append(
                [
                    row,
                    result["key_columns"],
                    " | ".join(parts),
                    f"Duplicate key across files: also in {first[0]}, sheet '{first[1]}', row {first[2]}.",
                ]
            )
    return found
