"""The output check: an output that does not hold what was written fails its file and is removed.

The writers are sabotaged between writing and checking (a number or a CSV field changed on its way to
the file while the record keeps the intended value), the way a writer bug would.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_book
from xlbatch import output_record, sheet_xml, verify
from xlbatch.plan import BatchSpec
from xlbatch.recipe import RecipeError, load_recipe, recipe_from_spec, resolve_spec, save_recipe
from xlbatch.runner import run_batch
from xlbatch.settings import Settings, SettingsError, load_settings
from xlbatch.workbook import WorkbookReader
from xlbatch.writing import CsvTableWriter, ExactWorksheet, XlsxTableWriter

MESSAGE = "The output did not match what was written; it was removed."


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    rows: list[list[Any]] = [["Item", "Amount", "When"]]
    rows += [[f"item {i}", i + 0.25, dt.date(2024, 1, 1 + i)] for i in range(20)]
    return write_book(tmp_path / "in" / "ledger.xlsx", rows)


def _drop_number(monkeypatch: pytest.MonkeyPatch, victim: float) -> None:
    """Make the xlsx writers leave out one number while their records still hold it: xlsxwriter's cell,
    and the fragment writer's digits (an empty `<v>`, which reads back as an empty cell)."""
    original = ExactWorksheet._xml_number_element

    def sabotaged(self: Any, number: Any, attributes: Any = ()) -> None:
        if number == victim:
            return
        original(self, number, attributes)

    monkeypatch.setattr(ExactWorksheet, "_xml_number_element", sabotaged)
    digits = sheet_xml.number_text
    monkeypatch.setattr(sheet_xml, "number_text", lambda number: "" if number == victim else digits(number))


def _files_under(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and ".xlbatch" not in p.parts)


@pytest.mark.parametrize(
    "task,params,where",
    [
        ("convert", {}, "ledger.xlsx: Data!B9"),
        ("clean", {}, "ledger.xlsx: Data!B9"),
        ("split", {"rows_per_file": 5}, "part 2.xlsx: Data!B4"),
    ],
)
def test_a_dropped_value_fails_the_file_and_removes_its_outputs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ledger: Path, task: str, params: dict[str, Any], where: str
) -> None:
    _drop_number(monkeypatch, 7.25)
    out = tmp_path / "out"
    report = run_batch(task=task, paths=[str(ledger)], out_dir=str(out), params=params, backend="sequential")
    outcome = report.files[0]
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert (outcome.error.kind, outcome.error.message) == ("task_error", MESSAGE)
    assert outcome.error.detail == f"{where}: written 7.25, read back (empty)"  # the cell and both values
    assert outcome.outputs == []
    assert _files_under(out) == ["report.json"]  # no part of the file's outputs is left


def test_without_verify_the_same_fault_goes_unnoticed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ledger: Path
) -> None:
    _drop_number(monkeypatch, 7.25)
    report = run_batch(
        task="convert", paths=[str(ledger)], out_dir=str(tmp_path / "out"), backend="sequential", verify=False
    )
    assert report.files[0].status == "ok"  # the check, not something else, is what catches it
    with WorkbookReader(report.files[0].outputs[0], "xlsx") as book:
        assert list(book.rows("Data"))[8][1] is None


def test_a_changed_csv_field_fails_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ledger: Path) -> None:
    real_writer = csv.writer

    class Sabotaged:
        def __init__(self, handle: Any, **options: Any) -> None:
            self._writer = real_writer(handle, **options)

        def writerow(self, fields: list[str]) -> Any:
            return self._writer.writerow(["item 3 (changed)" if f == "item 3" else f for f in fields])

        def writerows(self, rows: Any) -> None:
            for fields in rows:
                self.writerow(fields)

    monkeypatch.setattr("xlbatch.writing.csv.writer", Sabotaged)
    out = tmp_path / "out"
    report = run_batch(
        task="convert", paths=[str(ledger)], out_dir=str(out), params={"to": "csv"}, backend="sequential"
    )
    outcome = report.files[0]
    assert outcome.status == "failed" and outcome.error is not None
    assert outcome.error.message == MESSAGE
    assert "A5: written 'item 3', read back 'item 3 (changed)'" in outcome.error.detail
    assert _files_under(out) == ["report.json"]


def test_a_wrong_batch_output_is_removed_and_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ledger: Path
) -> None:
    _drop_number(monkeypatch, 3.25)
    out = tmp_path / "out"
    report = run_batch(task="combine", paths=[str(ledger)], out_dir=str(out), backend="sequential")
    assert report.files[0].status == "ok"
    assert not (out / "combined.xlsx").exists()
    assert report.outputs == []
    assert any(MESSAGE in notice and "combined.xlsx" in notice for notice in report.notices), report.notices


def test_a_good_run_checks_and_keeps_every_output(tmp_path: Path, ledger: Path) -> None:
    out = tmp_path / "out"
    for task, params in (("convert", {}), ("convert", {"to": "csv"}), ("split", {"rows_per_file": 7})):
        report = run_batch(task=task, paths=[str(ledger)], out_dir=str(out / task), params=params, backend="sequential")
        assert report.files[0].status == "ok", report.files[0].error
        assert report.files[0].outputs
    report = run_batch(task="combine", paths=[str(ledger)], out_dir=str(out / "combine"), backend="sequential")
    assert report.outputs and all(Path(p).is_file() for p in report.outputs)


# --- the comparison itself ---------------------------------------------------------------------
def _recorded_xlsx(path: Path, rows: list[list[Any]]) -> output_record.OutputRecord:
    output_record.want(path)
    with XlsxTableWriter(path) as writer:
        writer.add_sheet("S")
        for row in rows:
            writer.write_row(row)
    record = output_record.take(path)
    assert record is not None
    return record


def test_compare_tells_types_apart(tmp_path: Path) -> None:
    record = _recorded_xlsx(tmp_path / "a.xlsx", [[1, "1", True, 0.5]])
    assert verify.first_difference(tmp_path / "a.xlsx", record) is None
    other = _recorded_xlsx(tmp_path / "b.xlsx", [[1, 1, True, 0.5]])
    difference = verify.first_difference(tmp_path / "a.xlsx", other)
    assert difference == "S!B1: written 1, read back '1'"
    number = _recorded_xlsx(tmp_path / "c.xlsx", [[1, "1", 1, 0.5]])  # equal to True for ==, not the same value
    assert verify.first_difference(tmp_path / "a.xlsx", number) == "S!C1: written 1, read back True"


def test_compare_names_missing_and_extra_rows(tmp_path: Path) -> None:
    short = _recorded_xlsx(tmp_path / "short.xlsx", [["a"], ["b"]])
    long = _recorded_xlsx(tmp_path / "long.xlsx", [["a"], ["b"], ["c"]])
    assert verify.first_difference(tmp_path / "short.xlsx", long) == "S!A3: written 'c', read back (empty)"
    assert verify.first_difference(tmp_path / "long.xlsx", short) == "S!A3: written (empty), read back 'c'"


def test_a_file_that_cannot_be_read_back_differs(tmp_path: Path) -> None:
    record = _recorded_xlsx(tmp_path / "a.xlsx", [["a"]])
    (tmp_path / "a.xlsx").write_bytes(b"not a workbook")
    assert "could not be read back" in (verify.first_difference(tmp_path / "a.xlsx", record) or "")


def test_past_the_size_limit_rows_are_checked_by_digest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(output_record, "MAX_RECORD_BYTES", 0)
    monkeypatch.setattr(output_record, "CHUNK_ROWS", 3)
    rows = [[i, f"t{i}"] for i in range(10)]
    record = _recorded_xlsx(tmp_path / "a.xlsx", rows)
    kinds = [kind for kind, _payload in record.chunks(0)]
    assert kinds[0] == "rows" and set(kinds[1:]) == {"digest"}
    assert verify.first_difference(tmp_path / "a.xlsx", record) is None
    changed = _recorded_xlsx(tmp_path / "b.xlsx", [*rows[:7], [7, "changed"], *rows[8:]])
    assert verify.first_difference(tmp_path / "a.xlsx", changed) == "rows 7-9 of 'S' differ from what was written"


def test_csv_records_what_the_encoding_keeps(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    output_record.want(path)
    with CsvTableWriter(path, ";", "cp1252") as writer:
        writer.write_row(["Müller", "✓ done", 1.5, None])
        writer.write_text("x;y\r\n")
    record = output_record.take(path)
    assert record is not None
    assert [rows for _k, rows in record.chunks(0)] == [[(0, ["Müller", "? done", "1.5", ""]), (1, ["x", "y"])]]
    assert verify.first_difference(path, record) is None


def test_nothing_is_recorded_unless_asked(tmp_path: Path) -> None:
    with XlsxTableWriter(tmp_path / "a.xlsx") as writer:
        writer.write_row([1])
    assert writer.record is None
    assert output_record.take(tmp_path / "a.xlsx") is None


# --- the setting -------------------------------------------------------------------------------
def test_verify_is_on_by_default_and_the_settings_file_turns_it_off(tmp_path: Path) -> None:
    assert BatchSpec(task="convert", paths=[]).verify is True
    file = tmp_path / "settings.yaml"
    file.write_text("verify: false\n", encoding="utf-8")
    settings = load_settings(file)
    assert settings.get("verify") is False
    assert resolve_spec(settings, None, task="convert", paths=["x"]).verify is False
    assert resolve_spec(settings, None, task="convert", paths=["x"], verify=True).verify is True
    file.write_text("verify: maybe\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="verify"):
        load_settings(file)


def test_recipes_carry_verify_and_stay_version_1(tmp_path: Path) -> None:
    settings = Settings()
    spec = resolve_spec(settings, None, task="convert", paths=[str(tmp_path)], verify=False)
    path = save_recipe(recipe_from_spec(spec), tmp_path / "r.yaml")
    text = path.read_text(encoding="utf-8")
    assert "xlbatch_recipe: 1" in text and "verify: false" in text
    recipe = load_recipe(path)
    assert recipe.verify is False
    assert resolve_spec(settings, recipe).verify is False
    assert resolve_spec(settings, recipe, verify=True).verify is True  # the command line wins
    old = tmp_path / "old.yaml"
    old.write_text("xlbatch_recipe: 1\ntask: convert\n", encoding="utf-8")
    assert load_recipe(old).verify is None
    assert resolve_spec(settings, load_recipe(old)).verify is True  # absent: the settings decide
    old.write_text("xlbatch_recipe: 1\ntask: convert\nverify: 3\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="'verify' must be true or false"):
        load_recipe(old)
