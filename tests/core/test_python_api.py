"""The Python API speaks pandas (report.to_frame(), report.tables for every task's batch outputs), and the
python task's script in recipes: recorded by its SHA-256, relative to the recipe, warned about when changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from tests.core.python_kit import TOTALS, sales_book, sales_folder, write_script
from tests.core.task_kit import read_xlsx
from xlbatch.plan import BatchSpec
from xlbatch.recipe import load_recipe, recipe_from_spec, save_recipe, script_warning
from xlbatch.runner import run_batch


# -- report.to_frame() and report.tables ---------------------------------------------------------------
def test_to_frame_is_one_row_per_file(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "good.xlsx")
    sales_book(tmp_path / "in" / "bad.xlsx", sheets={"Sales": [["Region"], ["North"]]})
    script = write_script(tmp_path, TOTALS)
    report = run_batch(task="python", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                       params={"script": str(script)}, backend="sequential")
    frame = report.to_frame()
    assert list(frame.columns) == ["path", "status", "seconds", "error_kind", "message", "warnings"]
    rows = frame.set_index(frame["path"].map(lambda p: Path(p).name))
    assert rows.loc["good.xlsx", "status"] == "ok" and pd.isna(rows.loc["good.xlsx", "error_kind"])
    assert rows.loc["bad.xlsx", "status"] == "failed" and rows.loc["bad.xlsx", "error_kind"] == "task_error"
    assert rows.loc["bad.xlsx", "message"].startswith("process() failed at line 2: KeyError")
    assert frame["seconds"].dtype == "float64" and frame["warnings"].dtype == "int64"


def test_summarize_tables_are_its_sheets(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 2)
    report = run_batch(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                       backend="sequential")
    book = read_xlsx(tmp_path / "out" / "summary.xlsx")
    assert set(report.tables) == {"Files", "Sheets", "Columns"}
    for name in ("Files", "Sheets", "Columns"):
        frame = report.tables[name]
        assert list(frame.columns) == book[name][0]
        assert len(frame) == len(book[name]) - 1
    assert report.tables["Sheets"]["Rows"].tolist() == [7, 7]  # the header row and six sales


def test_combine_extract_and_validate_tables(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 2)
    common = dict(paths=[str(tmp_path / "in")], backend="sequential")
    combined = run_batch(task="combine", out_dir=str(tmp_path / "c"), **common).tables["Combined"]
    assert len(combined) == 12 and combined["Amount"].sum() == 10 * 21 * 2 + 6
    assert str(combined["Date"].dtype).startswith("datetime64")
    as_csv = run_batch(task="combine", out_dir=str(tmp_path / "c2"), params={"output_format": "csv"}, **common)
    assert as_csv.tables["Combined"]["Amount"].sum() == combined["Amount"].sum()  # CSV text typed back
    extracted = run_batch(task="extract", out_dir=str(tmp_path / "e"), params={"fields": ["First=Sales!C2"]}, **common)
    assert sorted(extracted.tables["Extracted"]["First"].tolist()) == [10, 11]
    checked = run_batch(task="validate", out_dir=str(tmp_path / "v"), params={"ranges": ["Amount=..50"]}, **common)
    assert {"Exceptions", "Summary"} <= set(checked.tables)
    assert checked.tables["Exceptions"]["Value"].tolist() == [60, 51, 61]  # above 50: 10..60 and 11..61


def test_tables_are_kept_only_when_asked_and_name_what_exists(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 1)
    spec = BatchSpec(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                     backend="sequential", keep_tables=False)
    report = run_batch(spec)
    assert len(report.tables) == 0 and (tmp_path / "out" / "summary.xlsx").is_file()
    with pytest.raises(KeyError, match="this batch's tables: none"):
        report.tables["Files"]


# -- the script in a recipe ----------------------------------------------------------------------------
def _python_spec(tmp_path: Path, script: Path) -> BatchSpec:
    return BatchSpec(task="python", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                     params={"script": str(script), "output": "combined"})


def test_a_recipe_records_the_script_and_warns_when_it_changed(tmp_path: Path) -> None:
    script = write_script(tmp_path, TOTALS)
    saved = save_recipe(recipe_from_spec(_python_spec(tmp_path, script)), tmp_path / "r.yaml")
    text = saved.read_text(encoding="utf-8")
    assert "script_sha256" in text and "groupby" not in text  # the digest, not the source
    recipe = load_recipe(saved)
    assert recipe.script_sha256 and len(recipe.script_sha256) == 64
    assert script_warning(recipe) is None
    write_script(tmp_path, TOTALS + "    # edited\n")
    warning = script_warning(load_recipe(saved))
    assert warning and str(script) in warning and "changed since the recipe was saved" in warning
    script.unlink()
    assert "cannot be read" in (script_warning(load_recipe(saved)) or "")


def test_a_relative_script_is_relative_to_the_recipe(tmp_path: Path) -> None:
    folder = tmp_path / "recipes"
    write_script(folder, TOTALS, "totals.py")
    (folder / "r.yaml").write_text("xlbatch_recipe: 1\ntask: python\nparams:\n  script: totals.py\n", encoding="utf-8")
    recipe = load_recipe(folder / "r.yaml")
    assert recipe.params["script"] == str((folder / "totals.py").resolve())
    assert recipe.script_sha256 is None and script_warning(recipe) is None  # nothing recorded, nothing to say


def test_a_recipe_of_another_task_has_no_script(tmp_path: Path) -> None:
    spec = BatchSpec(task="summarize", paths=[str(tmp_path)], out_dir=str(tmp_path / "out"))
    recipe = recipe_from_spec(spec)
    assert recipe.script_path() is None and recipe.script_sha256 is None
    assert "script_sha256" not in recipe.to_dict()


def test_the_results_table_keeps_dates(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    script = write_script(tmp_path, "def process(df, context):\n    return {'last': df['Date'].max()}\n")
    report = run_batch(task="python", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                       params={"script": str(script)}, backend="sequential")
    assert report.tables["Results"]["last"].tolist() == [pd.Timestamp(dt.datetime(2024, 1, 6))]


def test_tables_of_outputs_kept_from_an_earlier_run_are_read_back(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 2)
    script = write_script(tmp_path, TOTALS)
    common = dict(task="python", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"), backend="sequential",
                  cache=True, params={"script": str(script), "output": "combined"})
    first = run_batch(**common)
    written = (tmp_path / "out" / "combined.xlsx").stat().st_mtime_ns
    again = run_batch(**common)
    assert (tmp_path / "out" / "combined.xlsx").stat().st_mtime_ns == written  # kept, not written again
    assert again.tables["Combined"].equals(first.tables["Combined"])
