"""The python task: the user's function per sheet or per workbook, its three outputs, the DataFrame's types,
what it returns, the script checked before the batch, and its faults as plain error rows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.core.python_kit import TOTALS, sales_book, sales_folder, write_script
from tests.core.task_kit import read_xlsx
from tests.helpers import assert_invariants
from xlbatch.params import InvalidParams
from xlbatch.plan import BatchSpec, plan_batch
from xlbatch.runner import run_batch
from xlbatch.tasks import get_task


def run(tmp_path: Path, script: Path, inputs: Path, **params: object) -> object:
    return run_batch(
        task="python",
        paths=[str(inputs)],
        out_dir=str(tmp_path / "out"),
        params={"script": str(script), **params},
        backend="sequential",
    )


# -- the DataFrame ----------------------------------------------------------------------------------
TYPES = """
    def process(df, context):
        return {
            "dtypes": ",".join(f"{name}={dtype}" for name, dtype in df.dtypes.items()),
            "rows": len(df),
            "blank_amount": bool(df["Amount"].isna().iloc[1]),
            "blank_date": bool(df["Date"].isna().iloc[1]),
            "first_date": df["Date"].iloc[0],
            "count_sum": int(df["Count"].sum()),
            "mixed": repr(list(df["Mixed"])),
            "text": df["Text"].iloc[0],
        }
"""


def test_the_dataframe_has_the_types_every_task_sees(tmp_path: Path, frozen_inputs: list[Path]) -> None:
    rows = [
        ["Date", "Amount", "Count", "Text", "Mixed"],
        [dt.datetime(2024, 3, 1, 9, 30), 1.5, 1, "north", 7],
        [None, None, 2, "south", "seven"],
        [dt.date(2024, 3, 3), 3, 3, "east", dt.date(2024, 1, 2)],
        [dt.datetime(2024, 3, 4), 4.25, 4, "west", None],
    ]
    sales_book(tmp_path / "in" / "types.xlsx", sheets={"Data": rows})
    frozen_inputs.append(tmp_path / "in")
    report = run(tmp_path, write_script(tmp_path, TYPES), tmp_path / "in")
    (outcome,) = report.files
    assert outcome.status == "ok", outcome.error
    result = outcome.result
    dtypes = dict(item.split("=") for item in result["dtypes"].split(","))
    assert dtypes["Date"].startswith("datetime64")
    assert dtypes["Amount"] == "float64" and dtypes["Count"] == "int64"
    assert dtypes["Text"] in ("str", "object", "string")  # pandas' text type where it has one
    assert dtypes["Mixed"] == "object"
    assert result["rows"] == 4 and result["blank_amount"] and result["blank_date"]
    assert result["first_date"] == dt.datetime(2024, 3, 1, 9, 30)
    assert result["count_sum"] == 10
    assert result["mixed"] == "[7, 'seven', datetime.date(2024, 1, 2), nan]"  # the exact values; a blank NaN
    assert result["text"] == "north"


def test_header_row_and_unnamed_columns(tmp_path: Path) -> None:
    rows = [["Report of sales"], [], ["Region", "Amount", None, ""], ["North", 5, "note", None], ["South", 7]]
    sales_book(tmp_path / "in" / "report.xlsx", sheets={"Data": rows})
    script = write_script(
        tmp_path, "def process(df, context):\n    return {'columns': '|'.join(df.columns), 'n': len(df)}\n"
    )
    report = run(tmp_path, script, tmp_path / "in", header_row=3)
    assert report.files[0].result == {"columns": "Region|Amount|Column C", "n": 2}


# -- per sheet, per workbook -------------------------------------------------------------------------
def test_process_runs_for_every_sheet_and_results_are_by_sheet(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "two.xlsx", sheets={"Jan": [["Amount"], [1], [2]], "Feb": [["Amount"], [10]]})
    script = write_script(
        tmp_path, "def process(df, context):\n    return {'total': df['Amount'].sum(), 'name': context.sheet}\n"
    )
    report = run(tmp_path, script, tmp_path / "in", sheet="*")
    assert report.files[0].result == {"Jan": {"total": 3, "name": "Jan"}, "Feb": {"total": 10, "name": "Feb"}}
    results = read_xlsx(tmp_path / "out" / "results.xlsx")["Results"]
    assert results[0] == ["File", "Folder", "Sheet", "total", "name"]
    assert [row[2:] for row in results[1:]] == [["Jan", 3, "Jan"], ["Feb", 10, "Feb"]]
    assert report.tables["Results"]["total"].tolist() == [3, 10]


def test_process_workbook_gets_every_sheet_once(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "two.xlsx", sheets={"Jan": [["Amount"], [1], [2]], "Feb": [["Amount"], [10]]})
    script = write_script(
        tmp_path,
        """
        import pandas as pd

        def process_workbook(sheets, context):
            assert context.sheet is None
            both = pd.concat(sheets.values())
            return {"sheets": ",".join(sheets), "total": both["Amount"].sum()}
        """,
    )
    report = run(tmp_path, script, tmp_path / "in", sheet="*")
    assert report.files[0].result == {"sheets": "Jan,Feb", "total": 13}
    assert read_xlsx(tmp_path / "out" / "results.xlsx")["Results"][0] == ["File", "Folder", "sheets", "total"]


# -- the three outputs -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_per_file_tables_mirror_the_inputs(tmp_path: Path, fmt: str, frozen_inputs: list[Path]) -> None:
    inputs = sales_folder(tmp_path / "in", 3)
    frozen_inputs.append(inputs)
    report = run(tmp_path, write_script(tmp_path, TOTALS), inputs, output="per_file", output_format=fmt)
    assert report.counts["ok"] == 3
    out = tmp_path / "out"
    expected = {"book0": (90, 120), "book1": (93, 123), "book2": (96, 126)}  # North, South totals
    for rel in ("book0", "north/book1", "south/book2"):
        target = out / f"{rel}.{fmt}"
        assert str(target) in report.files[[Path(f.path).stem for f in report.files].index(Path(rel).name)].outputs
        if fmt == "xlsx":
            rows = read_xlsx(target)["Sales"]
        else:
            rows = [line.split(",") for line in target.read_text(encoding="utf-8-sig").splitlines()]
            rows = [[r[0], int(r[1]) if r[1].isdigit() else r[1]] for r in rows]
        north, south = expected[Path(rel).name]
        assert rows == [["Region", "Amount"], ["North", north], ["South", south]]
    assert not (out / "combined.xlsx").exists() and not (out / "results.xlsx").exists()
    assert_invariants(report, sorted(inputs.rglob("*.xlsx")))


def test_combined_stacks_every_file_with_source_columns(tmp_path: Path) -> None:
    inputs = sales_folder(tmp_path / "in", 3)
    report = run(tmp_path, write_script(tmp_path, TOTALS), inputs, output="combined")
    rows = read_xlsx(tmp_path / "out" / "combined.xlsx")["Combined"]
    assert rows[0] == ["Source file", "Source sheet", "Region", "Amount"]
    assert rows[1:] == [
        ["book0.xlsx", "Sales", "North", 90],
        ["book0.xlsx", "Sales", "South", 120],
        ["north/book1.xlsx", "Sales", "North", 93],
        ["north/book1.xlsx", "Sales", "South", 123],
        ["south/book2.xlsx", "Sales", "North", 96],
        ["south/book2.xlsx", "Sales", "South", 126],
    ]
    assert report.outputs == [str(tmp_path / "out" / "combined.xlsx")]
    frame = report.tables["Combined"]
    assert list(frame.columns) == rows[0] and frame["Amount"].sum() == 648
    assert not (tmp_path / "out" / ".xlbatch" / "python-parts").exists()  # the parts are gone


def test_combined_matches_columns_by_name_across_files(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "a.xlsx", sheets={"S": [["Region", "Amount"], ["N", 1]]})
    sales_book(tmp_path / "in" / "b.xlsx", sheets={"S": [["amount", "Extra"], [2, "x"]]})
    script = write_script(tmp_path, "def process(df, context):\n    return df\n")
    run(tmp_path, script, tmp_path / "in", output="combined", output_format="csv")
    text = (tmp_path / "out" / "combined.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text == ["Source file,Source sheet,Region,Amount,Extra", "a.xlsx,S,N,1,", "b.xlsx,S,,2,x"]


def test_none_lets_the_function_write_its_own_outputs(tmp_path: Path) -> None:
    inputs = sales_folder(tmp_path / "in", 2)
    script = write_script(
        tmp_path,
        """
        def process(df, context):
            with open(context.output_path("regions.txt"), "w") as handle:
                handle.write(",".join(sorted(set(df["Region"]))))
            context.output_path("never-written.txt")
            return df
        """,
    )
    report = run(tmp_path, script, inputs, output="none")
    assert report.counts["ok"] == 2
    assert (tmp_path / "out" / "book0" / "regions.txt").read_text() == "North,South"
    assert (tmp_path / "out" / "north" / "book1" / "regions.txt").is_file()
    warnings = report.files[0].warnings
    assert any("never-written.txt" in w for w in warnings)
    assert any("output setting is 'none'" in w for w in warnings)
    assert not list((tmp_path / "out").rglob("never-written*"))


def test_an_output_of_a_failed_file_is_removed(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    script = write_script(
        tmp_path,
        """
        def process(df, context):
            with open(context.output_path("half.txt"), "w") as handle:
                handle.write("half")
            raise ValueError("stopped half-way")
        """,
    )
    report = run(tmp_path, script, tmp_path / "in")
    assert report.files[0].error.message == "process() failed at line 4: ValueError stopped half-way"
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and ".xlbatch" not in p.parts]
    assert [p.name for p in written] == ["report.json"]


# -- what the function returns -----------------------------------------------------------------------
def test_a_dict_is_the_files_result_json_safe(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    script = write_script(
        tmp_path,
        """
        import numpy as np

        def process(df, context):
            return {
                "first": df["Date"].min(), "total": df["Amount"].sum(), "mean": np.float32(2.5),
                "none": float("nan"), "list": [1, 2], 3: "three",
            }
        """,
    )
    report = run(tmp_path, script, tmp_path / "in")
    result = report.files[0].result
    assert result == {"first": dt.datetime(2024, 1, 1), "total": 210, "mean": 2.5, "none": None, "list": "[1, 2]",
                      "3": "three"}
    saved = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert saved["files"][0]["result"]["first"].startswith("2024-01-01")  # dates as ISO text
    assert saved["params"]["script_sha256"] == report.params["script_sha256"]
    assert "script_source" not in saved["params"]
    table = read_xlsx(tmp_path / "out" / "results.xlsx")["Results"]
    assert table[1][2] == dt.datetime(2024, 1, 1)  # a date in the results table stays a date


@pytest.mark.parametrize(
    ("returned", "words"),
    [("[1, 2]", "returned a list"), ("df['Amount']", "returned a Series"), ("{'t': df}", "'t' holds a DataFrame")],
)
def test_other_return_values_are_refused_in_words(tmp_path: Path, returned: str, words: str) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    script = write_script(tmp_path, f"def process(df, context):\n    return {returned}\n")
    outcome = run(tmp_path, script, tmp_path / "in").files[0]
    assert outcome.status == "failed" and outcome.error.kind == "task_error"
    assert words in outcome.error.message and outcome.error.message.startswith("process() returned")


def test_an_index_that_holds_data_is_written(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    script = write_script(tmp_path, "def process(df, context):\n    return df.groupby('Region')[['Amount']].sum()\n")
    run(tmp_path, script, tmp_path / "in")
    assert read_xlsx(tmp_path / "out" / "a.xlsx")["Sales"] == [["Region", "Amount"], ["North", 90], ["South", 120]]


# -- the script checked before the batch ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("def process(df, context):\n    x = (1,\n", "syntax error at line 2"),
        ("def process(df, context):\n    return None\nreturn 1\n", "syntax error at line 3"),
        ("def helper(df):\n    return df\n", "defines neither process(df, context) nor process_workbook"),
        ("def process(df, c):\n    pass\ndef process_workbook(s, c):\n    pass\n", "defines both"),
        ("def process(df):\n    return df\n", "process() must take two arguments, (df, context)"),
        ("def process_workbook(a, b, c):\n    pass\n", "process_workbook() must take two arguments, (sheets, context)"),
        ("def process(df, context, *, strict):\n    pass\n", "must take two arguments"),
        ("async def process(df, context):\n    pass\n", "make it a plain 'def'"),
    ],
)
def test_a_bad_script_is_refused_before_any_file_runs(tmp_path: Path, body: str, words: str) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    script = write_script(tmp_path, body)
    spec = BatchSpec(task="python", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                     params={"script": str(script)})
    with pytest.raises(InvalidParams) as refused:
        plan_batch(spec)
    assert words in str(refused.value) and refused.value.param == "script"
    assert not (tmp_path / "out").exists()


def test_signatures_that_fit_are_accepted(tmp_path: Path) -> None:
    task = get_task("python")
    for body in (
        "def process(df, context, extra=1):\n    pass\n",
        "def process(*args):\n    pass\n",
        "def process(df, /, context, *, strict=False, **rest):\n    pass\n",
        "from os.path import join as process\n",  # bound otherwise: checked when loaded
    ):
        checked = task.validate({"script": str(write_script(tmp_path, body))})
        assert checked["script_function"] == "process"


def test_a_missing_or_wrong_file_is_refused(tmp_path: Path) -> None:
    task = get_task("python")
    with pytest.raises(InvalidParams, match="does not exist"):
        task.validate({"script": str(tmp_path / "nope.py")})
    (tmp_path / "notes.txt").write_text("def process(df, context): pass")
    with pytest.raises(InvalidParams, match="ending in .py"):
        task.validate({"script": str(tmp_path / "notes.txt")})
    with pytest.raises(InvalidParams, match="required"):
        task.validate({})


def test_a_script_whose_top_level_fails_fails_every_file_in_words(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 2)
    script = write_script(tmp_path, "import not_a_module_anywhere\n\ndef process(df, context):\n    return None\n")
    report = run(tmp_path, script, tmp_path / "in")
    for outcome in report.files:
        assert outcome.error.kind == "task_error"
        assert outcome.error.message == (
            "The script could not be loaded: line 1: ModuleNotFoundError No module named 'not_a_module_anywhere'"
        )


def test_a_changed_script_is_a_different_batch_for_the_cache(tmp_path: Path) -> None:
    inputs = sales_folder(tmp_path / "in", 1)
    script = write_script(tmp_path, "def process(df, context):\n    return {'v': 1}\n")
    common = dict(task="python", paths=[str(inputs)], out_dir=str(tmp_path / "out"), backend="sequential", cache=True)
    first = run_batch(**common, params={"script": str(script)})
    again = run_batch(**common, params={"script": str(script)})
    assert first.files[0].result == {"v": 1} and again.files[0].reason == "unchanged"
    write_script(tmp_path, "def process(df, context):\n    return {'v': 2}\n")
    changed = run_batch(**common, params={"script": str(script)})
    assert changed.files[0].status == "ok" and changed.files[0].result == {"v": 2}
    assert isinstance(changed.tables["Results"], pd.DataFrame)


def test_the_starter_script_runs_as_it_is(tmp_path: Path) -> None:
    from xlbatch.script_template import STARTER, write_starter

    sales_folder(tmp_path / "in", 2)
    sales_book(tmp_path / "in" / "other.xlsx", sheets={"Notes": [["Text"], ["no amounts here"]]})
    script = write_starter(tmp_path / "starter.py")
    assert script.read_text(encoding="utf-8") == STARTER
    with pytest.raises(FileExistsError):
        write_starter(script)  # never over an existing script
    report = run(tmp_path, script, tmp_path / "in", output="combined")
    assert report.counts["ok"] == 3
    rows = read_xlsx(tmp_path / "out" / "combined.xlsx")["Combined"]
    assert rows[0] == ["Source file", "Source sheet", "Region", "Total", "Rows"]
    assert rows[1:3] == [["book0.xlsx", "Sales", "North", 90, 3], ["book0.xlsx", "Sales", "South", 120, 3]]
    other = next(f for f in report.files if f.path.endswith("other.xlsx"))
    assert any("has no 'Amount' or 'Region' column" in w for w in other.warnings)


def test_row_positions_are_not_written_but_describe_labels_are(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "a.xlsx")
    sorted_script = write_script(
        tmp_path, "def process(df, context):\n    return df[df['Amount'] > 20].sort_values('Amount')[['Amount']]\n"
    )
    run(tmp_path, sorted_script, tmp_path / "in")
    assert read_xlsx(tmp_path / "out" / "a.xlsx")["Sales"] == [["Amount"], [30], [40], [50], [60]]
    described = write_script(tmp_path, "def process(df, context):\n    return df[['Amount']].describe()\n", "d.py")
    run(tmp_path, described, tmp_path / "in")
    rows = read_xlsx(tmp_path / "out" / "a.xlsx")["Sales"]
    assert rows[0] == ["index", "Amount"] and [r[0] for r in rows[1:]] == [
        "count", "mean", "std", "min", "25%", "50%", "75%", "max"
    ]


def test_the_context_names_the_file_and_carries_progress_and_warnings(tmp_path: Path) -> None:
    sales_book(tmp_path / "in" / "east" / "a.xlsx", sheets={"Jan": [["Amount"], [1]], "Feb": [["Amount"], [2]]})
    sales_book(tmp_path / "in" / "b.xlsx", sheets={"Jan": [["Amount"], [3]], "Feb": [["Amount"], [4]]})
    script = write_script(
        tmp_path,
        """
        def process(df, context):
            context.progress(0.5)
            context.warn(f"checked {context.sheet}")
            return {"path": context.path, "rel": context.relative_path, "name": context.name}
        """,
    )
    report = run_batch(task="python", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"),
                       params={"script": str(script), "sheet": "*"}, backend="sequential")
    outcome = next(f for f in report.files if f.path.endswith("a.xlsx"))
    assert outcome.result["Jan"] == {"path": str(tmp_path / "in" / "east" / "a.xlsx"), "rel": "east/a.xlsx",
                                     "name": "a.xlsx"}
    assert outcome.warnings == ["checked Jan", "checked Feb"]


def test_context_progress_is_the_calls_share_of_the_file() -> None:
    import contextlib
    from types import SimpleNamespace

    from xlbatch.script_run import ScriptContext

    seen: list[float] = []
    ctx = SimpleNamespace(source=SimpleNamespace(path="/in/a.xlsx", rel="a.xlsx"), out_dir="/out",
                          progress=lambda fraction, message="": seen.append(fraction))
    context = ScriptContext(ctx, contextlib.ExitStack())  # type: ignore[arg-type]
    context._call_for("Feb", 0.5, 0.5)  # the second of two sheets
    for fraction in (0.0, 0.5, 2.0, -1):
        context.progress(fraction)
    assert seen == [0.5, 0.75, 1.0, 0.5] and context.sheet == "Feb"
