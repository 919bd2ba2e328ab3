"""CSV exports as real programs write them, through whole batches: a German export (';', cp1252, decimal
commas, dotted dates) and a US export (',', quoted thousands, month-first dates) converted to xlsx, read back
with python-calamine; and the warning about a mixed column in the report of every task that reads CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from xlbatch.runner import run_batch

GERMAN = [
    "Kundennr;Kunde;Datum;Betrag;Menge;Gemischt;Uhrzeit",
    "00417;Müller GmbH;01.03.2026;1.234,50;3;1,5;08:15",
    "10233;Bäckerei Groß;02.03.2026;99,95;1.000;2.5;12:30:45",
    "20011;Café Zoë;31.03.2026;-12,00;;n/a;",
]
US = [
    "Order,Date,Amount,Paid,Ref,Mixed",
    '1001,01/31/2026,"1,000.25",TRUE,A-17,1.5',
    '1002,02/01/2026,12.5,false,00012,"1,5"',
    "1003,02/13/2026,-0.75,,,7",
]


def sheet_values(path: Path) -> list[list[Any]]:
    book = CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_name(book.sheet_names[0]).to_python()
    finally:
        book.close()


def convert(tmp_path: Path, name: str, lines: list[str], encoding: str, backend: str = "sequential") -> Any:
    source = tmp_path / "in" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    report = run_batch(task="convert", paths=[str(source)], out_dir=str(tmp_path / "out"), backend=backend)
    (outcome,) = report.files
    assert outcome.status == "ok", outcome.error
    return outcome, sheet_values(tmp_path / "out" / f"{source.stem}.xlsx")


@pytest.mark.parametrize("backend", ["sequential", "threads", "processes"])
def test_german_export_to_xlsx(tmp_path: Path, backend: str) -> None:
    outcome, rows = convert(tmp_path, "export.csv", GERMAN, "cp1252", backend)
    assert rows == [
        ["Kundennr", "Kunde", "Datum", "Betrag", "Menge", "Gemischt", "Uhrzeit"],
        ["00417", "Müller GmbH", dt.date(2026, 3, 1), 1234.5, 3.0, "1,5", dt.time(8, 15)],
        ["10233", "Bäckerei Groß", dt.date(2026, 3, 2), 99.95, 1000.0, "2.5", dt.time(12, 30, 45)],
        ["20011", "Café Zoë", dt.date(2026, 3, 31), -12.0, "", "n/a", ""],
    ]
    assert outcome.warnings == [
        "Column F 'Gemischt' mixes number notations (1,5 and 2.5); its values were kept as text."
    ]


def test_us_export_to_xlsx(tmp_path: Path) -> None:
    outcome, rows = convert(tmp_path, "orders.csv", US, "utf-8")
    assert rows == [
        ["Order", "Date", "Amount", "Paid", "Ref", "Mixed"],
        [1001.0, dt.date(2026, 1, 31), 1000.25, True, "A-17", "1.5"],
        [1002.0, dt.date(2026, 2, 1), 12.5, False, "00012", "1,5"],
        [1003.0, dt.date(2026, 2, 13), -0.75, "", "", "7"],
    ]
    assert outcome.warnings == ["Column F 'Mixed' mixes number notations (1.5 and 1,5); its values were kept as text."]


@pytest.mark.parametrize(
    ("task", "params"),
    [
        ("summarize", {}),
        ("combine", {}),
        ("split", {"rows_per_file": 2}),
        ("clean", {}),
        ("extract", {"fields": ["First=A2"]}),
        ("validate", {"required_columns": ["Betrag"]}),
    ],
)
def test_every_task_reports_the_mixed_column(tmp_path: Path, task: str, params: dict[str, Any]) -> None:
    source = tmp_path / "in" / "export.csv"
    source.parent.mkdir()
    source.write_bytes(("\r\n".join(GERMAN) + "\r\n").encode("cp1252"))
    report = run_batch(task=task, paths=[str(source)], out_dir=str(tmp_path / "out"), params=params)
    (outcome,) = report.files
    assert "Column F 'Gemischt' mixes number notations (1,5 and 2.5); its values were kept as text." in (
        outcome.warnings
    ), (task, outcome.status, outcome.warnings)
